"""Weight penalties with Keras' exact definitions, attached to layers as objects.

``L1(l1)(w) = l1 * sum(|w|)``, ``L2(l2)(w) = l2 * sum(w**2)`` (no 1/2 factor: Keras'
convention, so ``L2(0.01)`` here trains like ``regularizers.L2(0.01)`` there) and
``ElasticNet(l1, l2)`` their sum. The penalty is added to the data loss that the
optimizer minimises and reported separately in the History.

Decoupled weight decay is a different thing: AdamW's ``weight_decay`` shrinks weights by
``lr * wd * w`` after the adaptive step, outside the gradient, so it is not rescaled by
Adam's per-parameter step sizes. With Adam, ``L2(l)`` and ``weight_decay=l`` give
different models; with plain SGD they coincide up to the factor 2 (``d/dw l*w^2 = 2lw``).
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabTypeError, check_number

__all__ = ["L1", "L2", "ElasticNet", "Penalty", "as_penalty"]


class Penalty:
    """Base of the weight penalties: ``l1 * sum|w| + l2 * sum(w^2)``.

    Parameters
    ----------
    l1 : float, default 0.0
        Strength of the absolute-value term.
    l2 : float, default 0.0
        Strength of the squared term.
    proximal : bool, default False
        Apply the L1 term as a soft-thresholding step after each optimizer step
        (``w <- sign(w) * max(|w| - lr*l1, 0)``) instead of through its subgradient.
        Only this form reaches exact zeros; the penalty is still reported in the loss.

    Examples
    --------
    >>> import torch
    >>> Penalty(l1=0.5, l2=0.25)(torch.tensor([1.0, -2.0]))
    tensor(2.7500)
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, *, proximal: bool = False) -> None:
        owner = type(self).__name__
        self.l1 = check_number("l1", l1, owner=owner, low=0.0)
        self.l2 = check_number("l2", l2, owner=owner, low=0.0)
        if not isinstance(proximal, bool):
            raise ReglabTypeError(
                f"Invalid value for `proximal` of {owner}: expected True or False. "
                f"Received: proximal={proximal!r}."
            )
        self.proximal = proximal

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        """Return the penalty of ``weight`` (a scalar tensor, differentiable)."""
        total = weight.new_zeros(())
        if self.l1:
            total = total + self.l1 * weight.abs().sum()
        if self.l2:
            total = total + self.l2 * weight.square().sum()
        return total

    def __repr__(self) -> str:
        parts = [f"l1={self.l1:g}"] if self.l1 else []
        parts += [f"l2={self.l2:g}"] if self.l2 else []
        parts += ["proximal=True"] if self.proximal else []
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Penalty) and (self.l1, self.l2, self.proximal) == (
            other.l1,
            other.l2,
            other.proximal,
        )

    def __hash__(self) -> int:
        return hash((self.l1, self.l2, self.proximal))


class L1(Penalty):
    """Lasso penalty ``l1 * sum(|w|)`` (Keras' ``regularizers.L1``).

    Parameters
    ----------
    l1 : float, default 0.01
        Strength (Keras' default).
    proximal : bool, default False
        Soft-threshold after each step so weights reach exact zeros.

    Examples
    --------
    >>> import torch
    >>> L1(0.1)(torch.tensor([[1.0, -3.0]]))
    tensor(0.4000)
    """

    def __init__(self, l1: float = 0.01, *, proximal: bool = False) -> None:
        super().__init__(l1=l1, proximal=proximal)


class L2(Penalty):
    """Ridge penalty ``l2 * sum(w^2)`` (Keras' ``regularizers.L2``; no factor 1/2).

    Parameters
    ----------
    l2 : float, default 0.01
        Strength (Keras' default).

    Examples
    --------
    >>> import torch
    >>> L2(0.1)(torch.tensor([[1.0, -3.0]]))
    tensor(1.)
    """

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)


class ElasticNet(Penalty):
    """``l1 * sum(|w|) + l2 * sum(w^2)`` (Keras' ``regularizers.L1L2``).

    Parameters
    ----------
    l1 : float, default 0.01
    l2 : float, default 0.01
    proximal : bool, default False
        Apply the L1 part as soft-thresholding.

    Examples
    --------
    >>> import torch
    >>> ElasticNet(0.1, 0.1)(torch.tensor([1.0, -3.0]))
    tensor(1.4000)
    """

    def __init__(self, l1: float = 0.01, l2: float = 0.01, *, proximal: bool = False) -> None:
        super().__init__(l1=l1, l2=l2, proximal=proximal)


def as_penalty(value: object, name: str = "kernel_regularizer") -> Penalty | None:
    """Return ``value`` if it is a Penalty or None; refuse anything else (strings included).

    Strings are the spec loader's business: in Python, penalties are objects.
    """
    if value is None or isinstance(value, Penalty):
        return value
    raise ReglabTypeError(
        f"Invalid value for `{name}`: expected None or a penalty object such as "
        "reglab.L2(0.01), reglab.L1(1e-4) or reglab.ElasticNet(1e-4, 1e-3). "
        f"Received: {name}={value!r}."
    )
