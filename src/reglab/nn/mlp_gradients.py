"""The MLP's training step with its gradients written by hand: the fast path.

For the common MLP (no batch norm, activations relu / tanh / sigmoid / linear; dense or
multi-hot inputs) the backward pass is a handful of batched matmuls whose results are copied into
the gradient buffer, with no autograd graph to build and walk.
On small layers and tiny batches, where a step is a few microseconds of arithmetic and
tens of microseconds of framework overhead, this is what makes the step fast; on large
layers it saves the graph's bookkeeping and a zero-fill of the buffer.

Every other configuration trains through autograd (``PopulationModel.train_step``);
the tests check that both paths give the same gradients to float tolerance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reglab.nn.batched import affine, matmul, matmul_into
from reglab.nn.heads import sigmoid_
from reglab.nn.sparse import SparseRows, sparse_dense, sparse_dense_kernel_grad

__all__ = ["MANUAL_ACTIVATIONS", "manual_train_step"]

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


@torch.no_grad()
def manual_train_step(
    model, x: torch.Tensor, y: torch.Tensor, step
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward, per-sample loss and metric, and gradients of each member's mean loss.

    Parameters
    ----------
    model : reglab.nn.MLP
        Built, without batch norm, with a manual activation.
    x : torch.Tensor or SparseRows
        ``(K, B, F)`` inputs (already standardised), or multi-hot rows.
    y : torch.Tensor
        Targets for the batch.
    step : reglab.train.inputs.Batch or None
        Padding weights and per-member counts when members' batches differ in length.

    Returns
    -------
    (loss, metric) : tuple of torch.Tensor
        Per-sample ``(K, B)`` data loss and metric, zero on padded rows. The gradient of
        each member's mean data loss is written into ``model.grad``.
    """
    name = model.activation
    layers, (out_kernel, out_bias, out_kernel_grad, out_bias_grad) = model.dense_views
    dropout, dropconnect = any(model.dropout), any(model.dropconnect)
    weight = None if step is None else step.sample_weight
    inputs, kernels, drop_keeps, outputs, multipliers = [], [], [], [], []
    h = x
    for i, (kernel, bias, _, _) in enumerate(layers):
        keep = None
        if dropconnect:
            keep = model._draw_keep(model.dropconnect, kernel.shape, None, layer=f"dense_{i}")
            kernel = kernel * keep
        inputs.append(h)
        kernels.append(kernel)
        drop_keeps.append(keep)
        if isinstance(h, SparseRows):  # multi-hot input: a sum of kernel rows per sample
            a = _activate(name, sparse_dense(h, kernel).add_(bias))
        else:
            a = _activate(name, affine(bias, h, kernel))
        outputs.append(a)
        multiplier = None
        if dropout:
            multiplier = model._draw_keep(
                model.dropout, a.shape, step, layer=f"dropout_{i}",
                scale=model.train_scale,
            )  # fmt: skip
            # relu's gradient can be read from the dropped output as well (a dropped
            # unit's gradient is zeroed by the mask either way), so relu drops in place.
            a = a.mul_(multiplier) if name == "relu" else a * multiplier
        multipliers.append(multiplier)
        h = a
    # The output layer works on its stored columns, padding included (zero weights):
    # products with 16 columns run ~3x faster than with 10. The head sees the real ones.
    outputs_n = model.head.task.n_outputs
    logits = affine(out_bias, h, out_kernel)[..., :outputs_n]
    if weight is None:  # every member's mean over the same B rows
        loss, metric, d = model.head.batch_terms(logits, y, 1.0 / logits.shape[1])
    else:
        loss, metric, d = model.head.batch_terms(logits, y, 1.0)
        count = weight.sum(dim=1, keepdim=True).clamp_min(1.0)
        d.mul_(weight / count)
        loss = loss * weight[..., 0]
        metric = metric * weight[..., 0]
    if out_kernel.shape[-1] != outputs_n:  # the padding's gradient is zero
        d = F.pad(d, (0, out_kernel.shape[-1] - outputs_n))
    matmul_into(out_kernel_grad, h.transpose(1, 2), d)
    _sum_rows_into(out_bias_grad, d)
    upstream = matmul(d, out_kernel.transpose(1, 2))
    for i in reversed(range(len(layers))):
        if multipliers[i] is not None:
            upstream.mul_(multipliers[i])
        upstream = _activation_backward(name, outputs[i], upstream)
        kernel_grad, bias_grad = layers[i][2], layers[i][3]
        if isinstance(inputs[i], SparseRows):
            sparse_dense_kernel_grad(inputs[i], upstream, kernel_grad)
        else:
            matmul_into(kernel_grad, inputs[i].transpose(1, 2), upstream)
        if drop_keeps[i] is not None:
            kernel_grad.mul_(drop_keeps[i])
        _sum_rows_into(bias_grad, upstream)
        if i > 0:
            upstream = matmul(upstream, kernels[i].transpose(1, 2))
    return loss, metric
