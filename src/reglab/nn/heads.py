"""Output heads: the activation, loss and metric that a task calls for, computed per sample.

The model's last layer yields logits; losses are computed from logits with the stable
fused forms (``log_softmax``, ``binary_cross_entropy_with_logits``) and are numerically
the same as Keras' activation-then-loss. ``predict`` returns the activated outputs
(probabilities for classification), as Keras does.

Every function works on a population: logits ``(K, B, O)``, targets ``(K, B, ...)``,
per-sample results ``(K, B)``.

Soft targets (label smoothing, mixup, cutmix: per-class probabilities ``(K, B, O)``) train
through the one cross-entropy that takes probabilities, :attr:`Head.soft_loss`: the
categorical form for a softmax head (an integer-label task's targets become one-hot), the
binary form for a sigmoid head. The metric still compares with the hard labels.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["Head", "sigmoid", "sigmoid_"]


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """``1 / (1 + exp(-z))`` from steps that round each element the same in any shape.

    ``torch.sigmoid``'s SIMD and scalar paths round differently (about 4% of values
    differ in the last bit), so an element's value would depend on where it falls in the
    tensor, and a population member would drift from the same member trained alone.
    ``exp``, addition and division round the same on both paths.
    """
    return torch.reciprocal(torch.exp(-z) + 1.0)


def sigmoid_(z: torch.Tensor) -> torch.Tensor:
    """:func:`sigmoid` in place (no autograd)."""
    return z.neg_().exp_().add_(1.0).reciprocal_()


class Head:
    """Loss, metric and activation for a :class:`reglab.data.Task`.

    Parameters
    ----------
    task : reglab.data.Task
        The problem type (see :func:`reglab.data.infer_task`).

    Examples
    --------
    >>> import torch
    >>> from reglab.data import infer_task
    >>> head = Head(infer_task(np.array([0, 1, 2])))
    >>> logits = torch.zeros(1, 2, 3)
    >>> head.loss(logits, torch.tensor([[0, 2]])).shape
    torch.Size([1, 2])
    """

    def __init__(self, task) -> None:
        self.task = task
        self.metric_name = task.metric

    def targets(self, y: np.ndarray, device: torch.device) -> torch.Tensor:
        """Convert targets to the tensor layout the loss expects (moved to ``device`` once)."""
        if self.task.loss == "sparse_categorical_crossentropy":
            return torch.as_tensor(np.asarray(y).reshape(-1), dtype=torch.long, device=device)
        target = torch.as_tensor(np.asarray(y), dtype=torch.float32, device=device)
        return target.reshape(len(target), -1)

    def activate(self, logits: torch.Tensor) -> torch.Tensor:
        """The output activation: softmax, sigmoid or identity."""
        if self.task.activation == "softmax":
            return torch.softmax(logits, dim=-1)
        if self.task.activation == "sigmoid":
            return sigmoid(logits)
        return logits

    @property
    def soft_loss(self) -> str:
        """The loss of soft targets: ``categorical_crossentropy`` behind a softmax,
        ``binary_crossentropy`` behind a sigmoid (regression has no soft targets)."""
        if self.task.activation == "softmax":
            return "categorical_crossentropy"
        return "binary_crossentropy"

    def probabilities(self, y: torch.Tensor) -> torch.Tensor:
        """Targets as per-class probabilities ``(K, B, O)``: integer labels one-hot."""
        if self.task.loss == "sparse_categorical_crossentropy":
            return F.one_hot(y, self.task.n_outputs).to(torch.float32)
        return y

    def smooth(self, probabilities: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
        """Keras' label smoothing: ``y * (1 - ls) + ls / classes``, per member.

        ``smoothing`` is a ``(K, 1, 1)`` column. ``classes`` is the number of outputs
        behind a softmax (Keras' ``CategoricalCrossentropy``) and 2 behind a sigmoid,
        where each output is a yes/no (Keras' ``BinaryCrossentropy``: ``+ 0.5 * ls``).
        """
        classes = self.task.n_outputs if self.task.activation == "softmax" else 2
        return probabilities * (1.0 - smoothing) + smoothing / classes

    def loss(self, logits: torch.Tensor, y: torch.Tensor, kind: str | None = None) -> torch.Tensor:
        """Per-sample data loss ``(K, B)`` (of ``kind``, by default the task's loss)."""
        kind = kind or self.task.loss
        if kind == "sparse_categorical_crossentropy":
            logp = torch.log_softmax(logits, dim=-1)
            return -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        if kind == "categorical_crossentropy":
            return -(y * torch.log_softmax(logits, dim=-1)).sum(-1)
        if kind == "binary_crossentropy":  # always behind a sigmoid (see reglab.data.Task)
            return F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(-1)
        prediction = self.activate(logits)
        return (prediction - y).square().mean(-1)

    def loss_gradient(
        self, logits: torch.Tensor, y: torch.Tensor, kind: str | None = None
    ) -> torch.Tensor:
        """Derivative of each sample's loss with respect to its logits ``(K, B, O)``.

        The closed forms of the losses above (checked against autograd by the tests);
        the hand-written MLP backward pass starts from here.
        """
        kind = kind or self.task.loss
        outputs = logits.shape[-1]
        if kind == "sparse_categorical_crossentropy":
            grad = torch.softmax(logits, dim=-1)
            grad.scatter_add_(-1, y.unsqueeze(-1), torch.full_like(grad[..., :1], -1.0))
            return grad
        if kind == "categorical_crossentropy":
            return torch.softmax(logits, dim=-1) * y.sum(-1, keepdim=True) - y
        if kind == "binary_crossentropy":
            return (sigmoid(logits) - y) / outputs
        prediction = self.activate(logits)
        grad = (prediction - y) * (2.0 / outputs)
        if self.task.activation == "sigmoid":
            grad = grad * prediction * (1.0 - prediction)
        return grad

    def batch_terms(
        self, logits: torch.Tensor, y: torch.Tensor, scale: float, soft=None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample loss and metric, and ``scale`` times the loss gradient, together.

        The same numbers as :meth:`loss`, :meth:`metric` and :meth:`loss_gradient`, with
        their shared intermediates computed once: on a tiny model the step is a few dozen
        small operations, and each one saved is a few percent of it. With ``soft``
        targets ``(K, B, O)`` the loss and gradient are :attr:`soft_loss`'s and the
        metric compares with the hard labels ``y``.
        """
        if soft is not None:
            kind = self.soft_loss
            grad = self.loss_gradient(logits, soft, kind).mul_(scale)
            return self.loss(logits, soft, kind), self.metric(logits, y), grad
        kind = self.task.loss
        if kind == "sparse_categorical_crossentropy":
            # Softmax written out, not torch.softmax / log_softmax: on a short class axis
            # those kernels cost 2-4x more per row, and they round a row differently
            # depending on the batch's shape, so a member trained in a population would
            # drift from the same member trained alone (Adam amplifies the last bits of
            # tiny gradients). These elementwise steps and row reductions round every row
            # the same whatever the shape; a test checks it bit for bit.
            index = y.unsqueeze(-1)
            # One reduction for both: max's index is the first maximum, as argmax's.
            largest, predicted = logits.max(-1, keepdim=True)
            shifted = logits - largest
            exp = shifted.exp()
            total = exp.sum(-1, keepdim=True)
            loss = total.log().squeeze(-1) - shifted.gather(-1, index).squeeze(-1)
            metric = (predicted.squeeze(-1) == y).to(logits.dtype)
            grad = exp.div_(total.div_(scale))
            grad.scatter_add_(-1, index, torch.full_like(grad[..., :1], -scale))
            return loss, metric, grad
        if kind == "mse" and self.task.activation == "linear":
            diff = logits - y
            outputs = logits.shape[-1]
            if outputs == 1:  # the usual regression head: no mean over one output
                loss, metric = diff.square().squeeze(-1), diff.abs().squeeze(-1)
            else:
                loss, metric = diff.square().mean(-1), diff.abs().mean(-1)
            return loss, metric, diff.mul_(2.0 * scale / outputs)
        if kind == "binary_crossentropy" and logits.shape[-1] == 1:
            # The usual binary head (IMDB's): the stable form of the loss,
            # max(z, 0) - z * y + log(1 + exp(-|z|)), and the sigmoid, from one exp.
            z = logits.squeeze(-1)
            target = y.squeeze(-1)
            exp = torch.exp(-z.abs())
            loss = torch.log1p(exp).add_(z.clamp_min(0.0)).sub_(z * target)
            one_plus = exp + 1.0
            probability = torch.where(z >= 0, 1.0, exp).div_(one_plus)
            metric = ((z > 0).to(z.dtype) == target).to(z.dtype)
            return loss, metric, probability.sub_(target).mul_(scale).unsqueeze(-1)
        grad = self.loss_gradient(logits, y).mul_(scale)
        return self.loss(logits, y), self.metric(logits, y), grad

    def loss_and_metric(
        self, logits: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample loss and metric, as :meth:`batch_terms` computes them (evaluation:
        on a population's validation data ``log_softmax`` alone was 10x slower)."""
        loss, metric, _ = self.batch_terms(logits, y, 1.0)
        return loss, metric

    def metric(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-sample metric ``(K, B)``: 1/0 correctness for accuracy, absolute error for MAE."""
        if self.task.metric == "mae":
            return (self.activate(logits) - y).abs().mean(-1)
        if self.task.loss == "sparse_categorical_crossentropy":
            return (logits.argmax(-1) == y).float()
        if self.task.loss == "categorical_crossentropy":
            return (logits.argmax(-1) == y.argmax(-1)).float()
        # Sigmoid outputs: a logit above 0 is a probability above 0.5 (Keras' threshold).
        return ((logits > 0).float() == y).float().mean(-1)
