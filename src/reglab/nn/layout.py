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

__all__ = ["Layout", "Slot", "round_up"]


@dataclass(frozen=True)
class Slot:
    """One named tensor in the bank: its columns from ``offset`` on, and its shape.

    ``stored_columns`` pads the last axis in the bank (``stored_shape``); the padding is
    zero and stays zero, and :meth:`view` hides it. A matrix product with 10 output
    columns runs about 3x slower than with 16 on CPU BLAS, so the MLP stores its
    classification output layer padded to 16 columns.
    """

    name: str
    offset: int
    shape: tuple[int, ...]
    kind: str  # "kernel", "bias", "gamma" or "beta": penalties and reports select by kind
    stored_columns: int | None = None

    @property
    def size(self) -> int:
        """Number of values (without padding)."""
        return _numel(self.shape)

    @property
    def stored_shape(self) -> tuple[int, ...]:
        return (*self.shape[:-1], self.stored_columns or self.shape[-1])

    @property
    def stored_size(self) -> int:
        """Number of bank columns the slot occupies (with padding)."""
        return _numel(self.stored_shape)

    def view(self, bank: torch.Tensor) -> torch.Tensor:
        """The ``(K, *shape)`` view of this slot in ``bank`` (no copy; strided if padded)."""
        stored = self.stored_view(bank)
        return stored if self.stored_columns is None else stored[..., : self.shape[-1]]

    def stored_view(self, bank: torch.Tensor) -> torch.Tensor:
        """The ``(K, *stored_shape)`` view, padding included."""
        columns = bank[:, self.offset : self.offset + self.stored_size]
        return columns.view(bank.shape[0], *self.stored_shape)


def round_up(n: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is at least ``n``.

    Examples
    --------
    >>> round_up(10, 16), round_up(32, 16), round_up(3, 8)
    (16, 32, 8)
    """
    return -(-n // multiple) * multiple


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for dim in shape:
        n *= dim
    return n


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

    def add(self, name: str, shape: tuple[int, ...], kind: str, *, pad_to: int = 1) -> Slot:
        """Append a slot; its last axis is stored padded to a multiple of ``pad_to``."""
        columns = round_up(shape[-1], pad_to)
        slot = Slot(name, self.width, tuple(shape), kind, None if columns == shape[-1] else columns)
        self.slots[name] = slot
        self.width += slot.stored_size
        return slot

    def __getitem__(self, name: str) -> Slot:
        return self.slots[name]

    def of_kind(self, kind: str) -> list[Slot]:
        return [slot for slot in self.slots.values() if slot.kind == kind]
