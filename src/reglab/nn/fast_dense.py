"""The hand-written training step for stacks of Dense and Dropout layers: the fast path.

For the common MLP (Dense layers with relu / tanh / sigmoid / linear, DropConnect,
inverted or classic Dropout after a hidden layer, per-layer penalties, no batch norm;
dense or multi-hot inputs) the backward pass is a handful of batched matmuls whose
results are copied into the gradient buffer, with no autograd graph to build and walk.
On small layers and tiny batches, where a step is a few microseconds of arithmetic and
tens of microseconds of framework overhead, this is what makes the step fast; on large
layers it saves the graph's bookkeeping and a zero-fill of the buffer.

It is an optimisation, not a second definition: :func:`plan` recognises the stacks it
covers and returns None for every other model, which then trains through autograd on
the layers' own forwards (:meth:`reglab.nn.Sequential.train_step`). The tests train the
same models both ways and compare the gradients and the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from reglab.nn.batched import affine, matmul, matmul_into
from reglab.nn.heads import sigmoid_
from reglab.nn.sparse import SparseRows, sparse_dense, sparse_dense_kernel_grad

__all__ = ["MANUAL_ACTIVATIONS", "FastDenseStep", "plan"]

MANUAL_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _activate(name: str, z: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return z.clamp_min_(0.0)
    if name == "tanh":
        return z.tanh_()
    if name == "sigmoid":
        return sigmoid_(z)
    return z


def _activation_backward(name: str, a: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Gradient through the activation, from its *output* ``a`` (all four allow it)."""
    if name == "relu":  # one fused pass (a mask then a product is three)
        return torch.ops.aten.threshold_backward(grad, a, 0.0)
    if name == "tanh":
        return grad.mul_(1.0 - a * a)
    if name == "sigmoid":
        return grad.mul_(a * (1.0 - a))
    return grad


def _sum_rows_into(target: torch.Tensor, rows: torch.Tensor) -> None:
    """A bias gradient: the sum of ``rows`` ``(K, B, H)`` over the batch, into ``target``."""
    if rows.shape[1] == 1:  # batch size 1: the row itself (a copy costs less than a sum)
        target.copy_(rows)
    else:
        torch.sum(rows, dim=1, keepdim=True, out=target)


@dataclass
class _Block:
    """A hidden Dense layer, the Dropout after it (if any), and their bank views."""

    dense: object
    dropout: object | None
    kernel: torch.Tensor
    bias: torch.Tensor | None
    kernel_grad: torch.Tensor
    bias_grad: torch.Tensor | None


def plan(model) -> FastDenseStep | None:
    """The fast step for ``model`` (a built Sequential), or None where it does not apply.

    Covered: leading ``Flatten`` layers of flat inputs, then hidden ``Dense`` /
    ``DropConnect`` layers with a manual activation, each optionally followed by one
    ``Dropout``, then the logits ``Dense``. Anything else trains through autograd.
    """
    layers = list(model.layers)
    while layers and layers[0].type_name == "flatten" and layers[0].flat:
        layers.pop(0)
    hidden: list[tuple[object, object | None]] = []
    while len(layers) > 1:
        dense = layers.pop(0)
        if dense.type_name not in ("dense", "dropconnect") or dense.activation not in (
            MANUAL_ACTIVATIONS
        ):
            return None
        dropout = None
        if layers and layers[0].type_name == "dropout":
            dropout = layers.pop(0)
        hidden.append((dense, dropout))
    if len(layers) != 1 or layers[0].type_name != "dense":
        return None
    return FastDenseStep(model, hidden, layers[0])


class FastDenseStep:
    """The hand-written forward and backward of one Dense/Dropout stack (see :func:`plan`)."""

    def __init__(self, model, hidden, output) -> None:
        self.model = model
        bank, grad = model.bank, model.grad

        def views(slot, stored=False):
            if slot is None:
                return None, None
            view = slot.stored_view if stored else slot.view
            return view(bank), view(grad)

        self.blocks = []
        for dense, dropout in hidden:
            (kernel, kernel_grad), (bias, bias_grad) = views(dense.kernel), views(dense.bias)
            self.blocks.append(_Block(dense, dropout, kernel, bias, kernel_grad, bias_grad))
        # The output layer works on its stored columns, padding included (zero weights):
        # products with 16 columns run ~3x faster than with 10. The head sees the real ones.
        (self.out_kernel, self.out_kernel_grad), (self.out_bias, self.out_bias_grad) = (
            views(output.kernel, True),
            views(output.bias, True),
        )

    @torch.no_grad()
    def step(self, x, y: torch.Tensor, step, soft=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, per-sample loss and metric, and gradients of each member's mean loss.

        Parameters
        ----------
        x : torch.Tensor or SparseRows
            ``(K, B, F)`` inputs (already standardised), or multi-hot rows.
        y : torch.Tensor
            Targets for the batch.
        step : reglab.train.inputs.Batch or None
            Padding weights and per-member counts when members' batches differ in length.
        soft : torch.Tensor, optional
            Soft targets ``(K, B, O)`` (label smoothing, mixup), see
            :meth:`reglab.nn.heads.Head.batch_terms`.

        Returns
        -------
        (loss, metric) : tuple of torch.Tensor
            Per-sample ``(K, B)`` data loss and metric, zero on padded rows. The gradient of
            each member's mean data loss is written into ``model.grad``.
        """
        model = self.model
        weight = None if step is None else step.sample_weight
        inputs, kernels, drop_keeps, outputs, multipliers = [], [], [], [], []
        h = x
        for block in self.blocks:
            dense, kernel = block.dense, block.kernel
            name = dense.activation
            keep = None
            if dense.type_name == "dropconnect" and any(dense.rate):
                keep = model.draw_keep(dense.rate, kernel.shape, None, layer=dense.name)
                kernel = kernel * keep
            inputs.append(h)
            kernels.append(kernel)
            drop_keeps.append(keep)
            if isinstance(h, SparseRows):  # multi-hot input: a sum of kernel rows per sample
                a = sparse_dense(h, kernel)
                a = _activate(name, a if block.bias is None else a.add_(block.bias))
            else:
                a = _activate(name, affine(block.bias, h, kernel))
            outputs.append(a)
            multiplier = None
            dropout = block.dropout
            if dropout is not None and any(dropout.rate):
                multiplier = model.draw_keep(
                    dropout.rate, a.shape, step, layer=dropout.name, scale=dropout.train_scale
                )
                # relu's gradient can be read from the dropped output as well (a dropped
                # unit's gradient is zeroed by the mask either way), so relu drops in place.
                a = a.mul_(multiplier) if name == "relu" else a * multiplier
            multipliers.append(multiplier)
            h = a
        out_kernel = self.out_kernel
        outputs_n = model.head.task.n_outputs
        logits = affine(self.out_bias, h, out_kernel)[..., :outputs_n]
        if weight is None:  # every member's mean over the same B rows
            loss, metric, d = model.head.batch_terms(logits, y, 1.0 / logits.shape[1], soft)
        else:
            loss, metric, d = model.head.batch_terms(logits, y, 1.0, soft)
            count = weight.sum(dim=1, keepdim=True).clamp_min(1.0)
            d.mul_(weight / count)
            loss = loss * weight[..., 0]
            metric = metric * weight[..., 0]
        if out_kernel.shape[-1] != outputs_n:  # the padding's gradient is zero
            d = F.pad(d, (0, out_kernel.shape[-1] - outputs_n))
        matmul_into(self.out_kernel_grad, h.transpose(1, 2), d)
        if self.out_bias_grad is not None:
            _sum_rows_into(self.out_bias_grad, d)
        upstream = matmul(d, out_kernel.transpose(1, 2))
        for i in reversed(range(len(self.blocks))):
            block = self.blocks[i]
            if multipliers[i] is not None:
                upstream.mul_(multipliers[i])
            upstream = _activation_backward(block.dense.activation, outputs[i], upstream)
            if isinstance(inputs[i], SparseRows):
                sparse_dense_kernel_grad(inputs[i], upstream, block.kernel_grad)
            else:
                matmul_into(block.kernel_grad, inputs[i].transpose(1, 2), upstream)
            if drop_keeps[i] is not None:
                block.kernel_grad.mul_(drop_keeps[i])
            if block.bias_grad is not None:
                _sum_rows_into(block.bias_grad, upstream)
            if i > 0:
                upstream = matmul(upstream, kernels[i].transpose(1, 2))
        return loss, metric
