"""Keras' gradient clipping (``clipnorm``, ``clipvalue``, ``global_clipnorm``), per member.

Keras clips a step's gradients before the update (after the regularization losses are
in them), and so does the population optimizer, on its ``(K, P)`` gradient buffer:

- ``clipnorm = c``: each weight variable's gradient (a layer's kernel, its bias) is
  scaled to L2 norm at most ``c`` on its own: ``g * c / max(||g||, c)``.
- ``clipvalue = c``: each element is clipped to ``[-c, c]``.
- ``global_clipnorm = c``: all of a member's gradients are scaled together so that
  their joint L2 norm is at most ``c``.

Keras allows one of the three per optimizer, so a member gets at most one; members of
one population may differ (a member without clipping is left exactly as it is). The
views of each variable's columns in the gradient buffer are made once, from the bank's
layout; a step then takes one norm and one scaling per variable for all members (summing
squares into per-variable totals with ``index_add_`` instead was 3-10x slower on a
784-1000-10 bank).
"""

from __future__ import annotations

import math

import torch

from reglab.errors import ReglabError, check_number, per_member
from reglab.nn.layout import Layout

__all__ = ["CLIP_OPTIONS", "GradientClipping", "check_clipping", "make_clipping"]

CLIP_OPTIONS = ("clipnorm", "clipvalue", "global_clipnorm")


class GradientClipping:
    """Clip a ``(K, P)`` gradient buffer in place, each member by its own threshold.

    Parameters
    ----------
    thresholds : dict
        For each of :data:`CLIP_OPTIONS` some member uses, one float per member
        (``inf`` for members that do not clip that way).
    grad : torch.Tensor
        The ``(K, P)`` buffer that :meth:`__call__` clips.
    variables : list of torch.Tensor
        ``(K, n)`` views of ``grad``, one per weight variable (for ``clipnorm``).

    Examples
    --------
    >>> grad = torch.tensor([[3.0, 4.0, 1.0]])
    >>> clip = make_clipping(None, grad, global_clipnorm=1.0)
    >>> clip(); [round(v, 4) for v in grad[0].tolist()]
    [0.5883, 0.7845, 0.1961]
    """

    def __init__(self, thresholds: dict, grad: torch.Tensor, variables: list) -> None:
        def column(key):
            values = thresholds.get(key)
            return None if values is None else torch.tensor(values, device=grad.device).view(-1, 1)

        self.grad = grad
        self._norm = column("clipnorm")
        self._value = column("clipvalue")
        self._global = column("global_clipnorm")
        self._low = None if self._value is None else -self._value
        self._variables = variables

    @torch.no_grad()
    def __call__(self) -> None:
        # c / norm clamped at 1 is Keras' c / max(norm, c); a zero norm or c = inf
        # (a member that does not clip) gives inf, hence a factor of exactly 1.
        if self._norm is not None:
            for g in self._variables:
                norm = torch.linalg.vector_norm(g, dim=1, keepdim=True)
                g.mul_((self._norm / norm).clamp_(max=1.0))
        if self._value is not None:
            self.grad.clamp_(min=self._low, max=self._value)
        if self._global is not None:
            norm = torch.linalg.vector_norm(self.grad, dim=1, keepdim=True)
            self.grad.mul_((self._global / norm).clamp_(max=1.0))


def check_clipping(members: int, **given) -> dict[str, list[float | None]]:
    """Each clipping argument some member uses, one value (or None) per member, checked.

    Raises
    ------
    ReglabError
        A threshold that is not > 0, a list of the wrong length, or a member given more
        than one of :data:`CLIP_OPTIONS` (Keras' rule).

    Examples
    --------
    >>> check_clipping(2, clipnorm=[1.0, None], clipvalue=None)
    {'clipnorm': [1.0, None]}
    """
    thresholds = {}
    for key in CLIP_OPTIONS:
        values = per_member(key, given.get(key), members, owner="the optimizer")
        values = [None if v is None else check_number(key, v, low=0.0, low_open=True)
                  for v in values]  # fmt: skip
        if any(v is not None for v in values):
            thresholds[key] = values
    for m in range(members):
        chosen = [f"{key}={values[m]!r}" for key, values in thresholds.items()
                  if values[m] is not None]  # fmt: skip
        if len(chosen) > 1:
            member = f" for member {m}" if members > 1 else ""
            raise ReglabError(
                "Invalid clipping arguments: give at most one of clipnorm, clipvalue and "
                f"global_clipnorm per model (Keras' rule). Received{member}: {', '.join(chosen)}."
            )
    return thresholds


def make_clipping(
    layout: Layout | None,
    grad: torch.Tensor,
    *,
    clipnorm=None,
    clipvalue=None,
    global_clipnorm=None,
) -> GradientClipping | None:
    """Check the clipping arguments (each None, a float > 0, or one per member) and build
    the clipper, or return None when no member clips (then it costs nothing).

    ``grad`` is the ``(K, P)`` gradient buffer to clip; ``layout`` says which of its
    columns are which weight variable (for ``clipnorm``); without one, each member's
    whole row is one variable.

    Raises
    ------
    ReglabError
        As :func:`check_clipping`.

    Examples
    --------
    >>> make_clipping(None, torch.zeros(2, 3), clipnorm=[1.0, None]) is not None
    True
    >>> make_clipping(None, torch.zeros(1, 3), clipnorm=1.0, clipvalue=0.5)
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid clipping arguments: give at most one of clipnorm, ...
    """
    thresholds = check_clipping(
        grad.shape[0], clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm
    )
    if not thresholds:
        return None
    thresholds = {key: [math.inf if v is None else v for v in values]
                  for key, values in thresholds.items()}  # fmt: skip
    if layout is None:
        variables = [grad]
    else:  # padding columns hold zero gradients and belong to no variable
        variables = [grad[:, s.offset : s.offset + s.stored_size] for s in layout.slots.values()]
    return GradientClipping(thresholds, grad, variables)
