"""Where each named tensor of a population model lives inside its one flat parameter bank.

All of a population's trainable numbers are one ``(K, P)`` tensor: row ``k`` is member
``k``. Layers read views of it (``bank[:, offset:offset+n].view(K, *shape)``, no copy),
so the optimizer updates every member and every layer with a handful of whole-tensor
operations, per-member hyperparameters broadcast as ``(K, 1)``, and snapshotting or
restoring one member is one row copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Layout", "Slot"]


@dataclass(frozen=True)
class Slot:
    """One named tensor in the bank: its columns ``[offset, offset + size)`` and shape."""

    name: str
    offset: int
    shape: tuple[int, ...]
    kind: str  # "kernel", "bias", "gamma" or "beta": penalties and reports select by kind

    @property
    def size(self) -> int:
        n = 1
        for dim in self.shape:
            n *= dim
        return n

    def view(self, bank: torch.Tensor) -> torch.Tensor:
        """The ``(K, *shape)`` view of this slot in ``bank`` (no copy)."""
        return bank[:, self.offset : self.offset + self.size].view(bank.shape[0], *self.shape)


class Layout:
    """An ordered set of :class:`Slot` s; ``width`` is the bank's column count ``P``.

    Examples
    --------
    >>> layout = Layout()
    >>> layout.add("dense_0/kernel", (2, 3), "kernel").offset
    0
    >>> layout.add("dense_0/bias", (1, 3), "bias").offset, layout.width
    (6, 9)
    """

    def __init__(self) -> None:
        self.slots: dict[str, Slot] = {}
        self.width = 0

    def add(self, name: str, shape: tuple[int, ...], kind: str) -> Slot:
        slot = Slot(name, self.width, tuple(shape), kind)
        self.slots[name] = slot
        self.width += slot.size
        return slot

    def __getitem__(self, name: str) -> Slot:
        return self.slots[name]

    def of_kind(self, kind: str) -> list[Slot]:
        return [slot for slot in self.slots.values() if slot.kind == kind]
