"""What the layers with a kernel and a bias share (``Dense``, ``Conv2D``, ``DropConnect``):
the activation, per-member kernel and bias penalties, a per-member kernel constraint
(:mod:`reglab.nn.constraints`, applied after every step), and ``use_bias``."""

from __future__ import annotations

import torch

from reglab.errors import ReglabTypeError
from reglab.nn.activations import check_activation
from reglab.nn.constraints import as_constraint
from reglab.nn.layers.base import Layer
from reglab.nn.penalties import as_penalty

__all__ = ["WeightedLayer"]


def _each(value, check, name: str):
    if isinstance(value, (list, tuple)):
        return [check(v, name) for v in value]
    return check(value, name)


class WeightedLayer(Layer):
    """Base of layers with weights; subclasses set ``self.kernel`` / ``self.bias`` slots."""

    per_member = ("kernel_regularizer", "bias_regularizer", "kernel_constraint")
    unit_dims: tuple[int, ...] = (0,)  # the axes of one unit's incoming weights (a member's)

    def _set_weight_options(
        self, activation, kernel_regularizer, bias_regularizer, use_bias, kernel_constraint
    ):
        owner = type(self).__name__
        self.activation = check_activation(activation, owner=owner)
        self.kernel_regularizer = _each(kernel_regularizer, as_penalty, "kernel_regularizer")
        self.bias_regularizer = _each(bias_regularizer, as_penalty, "bias_regularizer")
        self.kernel_constraint = _each(kernel_constraint, as_constraint, "kernel_constraint")
        if not isinstance(use_bias, bool):
            raise ReglabTypeError(
                f"Invalid value for `use_bias` of {owner}: expected True or False. "
                f"Received: use_bias={use_bias!r}."
            )
        self.use_bias = use_bias

    def config(self) -> dict:
        values = super().config()
        values["activation"] = None if self.activation == "linear" else self.activation
        return values

    @property
    def constrained(self) -> bool:
        return any(c is not None for c in self.kernel_constraint)

    @torch.no_grad()
    def constrain_(self, bank: torch.Tensor, movers: list[int] | None) -> None:
        """Project the kernels of the members that moved (``None``: all) into their sets."""
        kernels = self.kernel.view(bank)
        for k, constraint in enumerate(self.kernel_constraint):
            if constraint is not None and (movers is None or k in movers):
                kernels[k].copy_(constraint(kernels[k], self.unit_dims))

    def penalties(self):
        pairs = [([self.kernel], self.kernel_regularizer)]
        if self.bias is not None:
            pairs.append(([self.bias], self.bias_regularizer))
        return pairs
