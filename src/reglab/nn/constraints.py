"""Kernel constraints with Keras' definitions, applied after every optimizer step.

Each constraint projects one member's kernel back into its allowed set, unit by unit: the
norm is taken over each output unit's incoming weights (a Dense kernel's column, a
Conv2D filter), which is what Keras' ``axis=0`` (Dense) and ``axis=[0, 1, 2]`` (Conv2D,
channels last) select. ``eps`` is Keras' ``backend.epsilon()``, 1e-7:

- ``MaxNorm(m)``: ``w * clip(n, 0, m) / (eps + n)``
- ``UnitNorm()``: ``w / (eps + n)``
- ``MinMaxNorm(lo, hi, rate)``: ``w * (rate * clip(n, lo, hi) + (1 - rate) * n) / (eps + n)``
- ``NonNeg()``: ``w * (w >= 0)``

Max-norm is Srivastava et al.'s companion of dropout (their 2014 paper uses both).
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, ReglabTypeError, check_number

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "as_constraint"]

EPSILON = 1e-7


class Constraint:
    """Base of the kernel constraints: ``constraint(w, dims)`` returns the projected ``w``.

    ``dims`` are the axes of ``w`` that hold one output unit's incoming weights.
    """

    def __call__(self, weight: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:g}" for k, v in vars(self).items())
        return f"{type(self).__name__}({values})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *sorted(vars(self).items())))


def _norms(weight: torch.Tensor, dims) -> torch.Tensor:
    return torch.linalg.vector_norm(weight, dim=dims, keepdim=True)


class MaxNorm(Constraint):
    """Each unit's incoming weight vector has norm at most ``max_value`` (Keras' ``MaxNorm``).

    Parameters
    ----------
    max_value : float, default 2.0
        Keras' default.

    Examples
    --------
    >>> import torch
    >>> MaxNorm(1.0)(torch.tensor([[3.0, 0.1], [4.0, 0.0]]), (0,))
    tensor([[0.6000, 0.1000],
            [0.8000, 0.0000]])
    """

    def __init__(self, max_value: float = 2.0) -> None:
        self.max_value = check_number("max_value", max_value, owner="MaxNorm", low=0.0)

    def __call__(self, weight, dims):
        norms = _norms(weight, dims)
        return weight * norms.clamp(0.0, self.max_value) / (EPSILON + norms)


class UnitNorm(Constraint):
    """Each unit's incoming weight vector has norm 1 (Keras' ``UnitNorm``).

    Examples
    --------
    >>> import torch
    >>> UnitNorm()(torch.tensor([[3.0], [4.0]]), (0,)).flatten()
    tensor([0.6000, 0.8000])
    """

    def __call__(self, weight, dims):
        return weight / (EPSILON + _norms(weight, dims))


class MinMaxNorm(Constraint):
    """Norms between ``min_value`` and ``max_value``, moved there at ``rate`` (Keras').

    Parameters
    ----------
    min_value : float, default 0.0
    max_value : float, default 1.0
    rate : float, default 1.0
        1 enforces the bounds at once; smaller values move the norms part of the way.

    Examples
    --------
    >>> import torch
    >>> MinMaxNorm(1.0, 2.0)(torch.tensor([[0.3], [0.4]]), (0,)).flatten()
    tensor([0.6000, 0.8000])
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0):
        self.min_value = check_number("min_value", min_value, owner="MinMaxNorm", low=0.0)
        self.max_value = check_number("max_value", max_value, owner="MinMaxNorm", low=0.0)
        self.rate = check_number("rate", rate, owner="MinMaxNorm", low=0.0, high=1.0)
        if self.min_value > self.max_value:
            raise ReglabError(
                "Invalid values of MinMaxNorm: min_value must not exceed max_value. "
                f"Received: min_value={min_value}, max_value={max_value}."
            )

    def __call__(self, weight, dims):
        norms = _norms(weight, dims)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return weight * desired / (EPSILON + norms)


class NonNeg(Constraint):
    """Weights are non-negative (Keras' ``NonNeg``): negative ones become 0.

    Examples
    --------
    >>> import torch
    >>> NonNeg()(torch.tensor([-1.0, 2.0]), (0,))
    tensor([0., 2.])
    """

    def __call__(self, weight, dims):
        return weight * (weight >= 0).to(weight.dtype)


def as_constraint(value: object, name: str = "kernel_constraint") -> Constraint | None:
    """``value`` if it is a Constraint or None; anything else is refused."""
    if value is None or isinstance(value, Constraint):
        return value
    raise ReglabTypeError(
        f"Invalid value for `{name}`: expected None or a constraint object such as "
        f"reglab.MaxNorm(3.0), reglab.UnitNorm(), reglab.MinMaxNorm(0.5, 2.0) or "
        f"reglab.NonNeg(). Received: {name}={value!r}."
    )
