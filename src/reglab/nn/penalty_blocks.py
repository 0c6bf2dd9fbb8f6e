"""Where a population's penalties apply: blocks of its bank, with per-member strengths.

The bank is ``(K, P)``; a penalty touches only some columns (the hidden kernels, the
biases when asked) and only some rows (the members that have it). Rather than ``(K, P)``
coefficient maps of the whole bank, which cost several passes over all of it at every
step, each penalty term works on the rectangular blocks it covers: rows are a run of
consecutive members with a non-zero strength, columns a run of adjacent slots. A study
puts the seeds of one variant side by side, so the blocks are few and tight: in a
16-member population where 4 members have L1 and 8 have L2, the step touches a quarter
and a half of the kernel columns' rows instead of every row three times.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reglab.errors import ReglabError, ReglabTypeError
from reglab.nn.layout import Slot
from reglab.nn.penalties import Penalty

__all__ = [
    "CustomPenalty",
    "PenaltyBlock",
    "add_penalty_gradient_",
    "penalize_",
    "penalty_blocks",
    "penalty_values",
    "soft_threshold_",
]


@dataclass(frozen=True)
class PenaltyBlock:
    """One penalty term on ``bank[rows, cols]``; ``strength`` is ``(rows, 1)``.

    ``kind`` is ``"l1"`` (trained through its subgradient), ``"prox"`` (L1 taken by
    soft-thresholding, see :func:`soft_threshold_`) or ``"l2"``.
    """

    kind: str
    rows: slice
    cols: slice
    strength: torch.Tensor

    def of(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor[self.rows, self.cols]


@dataclass(frozen=True)
class CustomPenalty:
    """A penalty with its own definition (a ``Penalty`` subclass with its own ``__call__``)
    on one member's tensor of one slot: its value is ``penalty(w)`` on the tensor in its
    own shape, as Keras calls a regularizer, and its gradient comes from autograd."""

    member: int
    slot: Slot
    penalty: Penalty
    kind: str = "custom"

    def weight(self, bank: torch.Tensor) -> torch.Tensor:
        return self.slot.view(bank)[self.member]

    def value_and_grad(self, bank: torch.Tensor, need_grad: bool):
        w = self.weight(bank).detach().requires_grad_(need_grad)
        with torch.enable_grad():
            value = self.penalty(w)
        if not isinstance(value, torch.Tensor) or value.dim() != 0:
            raise ReglabTypeError(
                f"Invalid penalty {self.penalty!r}: its __call__ must return a scalar tensor "
                f"computed from the weights (so that it can be differentiated). Received: "
                f"{type(value).__name__}."
            )
        if not need_grad:
            return value.detach(), None
        if not value.requires_grad:  # a constant penalty: no gradient
            return value.detach(), torch.zeros_like(w)
        (grad,) = torch.autograd.grad(value, w)
        return value.detach(), grad


def has_own_definition(penalty: Penalty) -> bool:
    """Whether ``penalty`` overrides ``Penalty.__call__`` (then blocks cannot stand for it)."""
    return type(penalty).__call__ is not Penalty.__call__


def penalty_blocks(slots: list[Slot], penalties: list, device) -> list:
    """The blocks of ``penalties`` (one per member, or None) on the columns of ``slots``.

    L1, L2 and ElasticNet become :class:`PenaltyBlock` s (their formula, on blocks of the
    bank); any other ``Penalty`` subclass becomes one :class:`CustomPenalty` per member
    and slot, trained through its own definition.

    Examples
    --------
    >>> from reglab.nn import L1, L2
    >>> slots = [Slot("dense_0/kernel", 0, (2, 3), "kernel")]
    >>> [(b.kind, b.rows, b.cols) for b in penalty_blocks(slots, [None, L2(0.1), L2(0.2)], "cpu")]
    [('l2', slice(1, 3, None), slice(0, 6, None))]
    """
    custom = []
    for member, p in enumerate(penalties):
        if p is not None and has_own_definition(p):
            if p.proximal:
                raise ReglabError(
                    f"Invalid penalty {p!r}: proximal=True is the soft-thresholding step of "
                    "L1 and ElasticNet; a Penalty with its own __call__ trains through its "
                    "gradient. Remove proximal=True."
                )
            custom.extend(CustomPenalty(member, slot, p) for slot in slots)
    penalties = [None if p is not None and has_own_definition(p) else p for p in penalties]
    strengths = {
        "l1": [0.0 if p is None or p.proximal else p.l1 for p in penalties],
        "prox": [p.l1 if p is not None and p.proximal else 0.0 for p in penalties],
        "l2": [0.0 if p is None else p.l2 for p in penalties],
    }
    blocks = []
    for kind, values in strengths.items():
        for rows in _runs([v != 0.0 for v in values]):
            column = torch.tensor(values[rows], dtype=torch.float32, device=device)
            for cols in _runs(_covered(slots)):
                blocks.append(PenaltyBlock(kind, rows, cols, column.view(-1, 1)))
    return blocks + custom


def _covered(slots: list[Slot]) -> list[bool]:
    end = max(slot.offset + slot.stored_size for slot in slots) if slots else 0
    covered = [False] * end
    for slot in slots:  # padding is zero and stays zero, so it may be covered too
        covered[slot.offset : slot.offset + slot.stored_size] = [True] * slot.stored_size
    return covered


def _runs(flags: list[bool]) -> list[slice]:
    """Maximal runs of consecutive True values, as slices."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append(slice(start, i))
            start = None
    return runs


def penalty_values(blocks: list[PenaltyBlock], bank: torch.Tensor) -> torch.Tensor:
    """Each member's penalty ``(K,)``: ``sum l1 * |w| + l2 * w**2`` over its blocks."""
    total = torch.zeros(bank.shape[0], device=bank.device)
    penalize_(blocks, bank, None, total)
    return total


def add_penalty_gradient_(blocks: list[PenaltyBlock], bank: torch.Tensor, grad: torch.Tensor):
    """Add the L1 subgradient (``sign(0) = 0``, as Keras) and the L2 gradient to ``grad``."""
    penalize_(blocks, bank, grad, None)


def penalize_(
    blocks: list[PenaltyBlock],
    bank: torch.Tensor,
    grad: torch.Tensor | None,
    total: torch.Tensor | None,
    weight: float | torch.Tensor = 1.0,
) -> None:
    """Add the penalties' gradients to ``grad`` and ``weight`` times their values ``(K,)``
    to ``total`` (either may be None), in one walk over the blocks (a training step
    needs both; ``weight`` is the step's sample count, a number or one per member)."""
    for block in blocks:
        if block.kind == "custom":
            value, g = block.value_and_grad(bank, grad is not None)
            if g is not None:
                block.weight(grad).add_(g)
            if total is not None:
                scale = weight[block.member] if isinstance(weight, torch.Tensor) else weight
                total[block.member] += value * scale
            continue
        w = block.of(bank)
        if grad is not None and block.kind == "l1":
            block.of(grad).addcmul_(w.sign(), block.strength)
        elif grad is not None and block.kind == "l2":
            block.of(grad).addcmul_(w, block.strength, value=2.0)
        if total is None:
            continue
        if block.kind == "l2":
            # One fused pass over the weights (a square, then a sum, is two).
            value = torch.linalg.vector_norm(w, dim=1).square_()
        else:
            value = w.abs().sum(1)
        strength = block.strength[:, 0]
        if isinstance(weight, torch.Tensor):
            total[block.rows].addcmul_(strength * weight[block.rows], value)
        else:
            total[block.rows].addcmul_(strength, value, value=weight)


def soft_threshold_(
    blocks: list[PenaltyBlock],
    bank: torch.Tensor,
    step_size: torch.Tensor,
    active: torch.Tensor | None,
) -> None:
    """The proximal L1 step: shrink each weight towards 0 by ``step_size * l1``, in place.

    ``step_size`` is ``(K, 1)`` or ``(K, P)`` (see ``PopulationOptimizer.step_sizes``);
    ``active`` ``(K, 1)`` zeroes the threshold of members that did not move this step.
    """
    for block in blocks:
        if block.kind != "prox":
            continue
        w = block.of(bank)
        size = step_size[block.rows] if step_size.shape[1] == 1 else block.of(step_size)
        threshold = block.strength * size
        if active is not None:
            threshold = threshold * active[block.rows]
        shrunk = w.abs().sub_(threshold).clamp_min_(0.0)
        w.copy_(w.sign().mul_(shrunk))
