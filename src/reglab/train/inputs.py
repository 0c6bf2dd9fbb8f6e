"""Training data on the device, and the per-member batches cut from it.

The whole input matrix is moved to the model's device once; every batch of every member
is then one ``index_select``-style gather on the device (no per-sample Python, no
DataLoader, no host-to-device copy per step). Each member has its own training rows
(folds) and its own shuffling generator, so a member's batches do not depend on the
other members of its population.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from reglab.data import MultiHot
from reglab.errors import ReglabError
from reglab.nn.layout import round_up
from reglab.nn.sparse import SparseRows

__all__ = ["Batch", "Inputs", "epoch_batches", "padded_rows", "take_rows"]


def take_rows(data: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rows ``index`` (any shape) of ``data``: ``index.shape + data.shape[1:]``.

    ``index_select`` on the flattened index is markedly cheaper per call than advanced
    indexing, which matters at one call per step.
    """
    return data.index_select(0, index.reshape(-1)).view(*index.shape, *data.shape[1:])


class Inputs:
    """The input rows of a dataset, on a device: dense ``(N, *shape)`` or sparse multi-hot.

    ``sample_shape`` is each sample's shape: ``(F,)`` for features, ``(C, H, W)`` for
    images, ``(vocabulary,)`` for multi-hot rows.
    """

    def __init__(self, x, device: torch.device, *, name: str = "x") -> None:
        if isinstance(x, MultiHot):
            # Compressed rows stay compressed on the device: the dense matrix never exists.
            self.sparse = True
            self.n_features = int(x.num_words)
            self.sample_shape = (self.n_features,)
            self.ids = torch.as_tensor(x.ids, dtype=torch.int32, device=device)
            self.offsets = torch.as_tensor(x.offsets, dtype=torch.int64, device=device)
            self.n = len(x)
        else:
            array = np.asarray(x)
            if (
                array.ndim < 2
                or not np.issubdtype(array.dtype, np.number)
                or not all(array.shape[1:])
            ):
                raise ReglabError(
                    f"Invalid value for `{name}`: expected a numeric array of samples, "
                    f"(samples, features) or images (samples, channels, height, width), or a "
                    f"reglab.data.MultiHot. Received: an array of shape {array.shape} and "
                    f"dtype {array.dtype}."
                )
            self.sparse = False
            self.sample_shape = tuple(int(s) for s in array.shape[1:])
            self.n_features = int(np.prod(self.sample_shape))
            self.data = torch.as_tensor(array, dtype=torch.float32, device=device)
            self.n = self.data.shape[0]

    def __len__(self) -> int:
        return self.n

    def gather(self, index: torch.Tensor) -> torch.Tensor | SparseRows:
        """Rows ``index`` of shape ``(K, B)``: ``(K, B, *shape)``, or each member's sparse rows."""
        if not self.sparse:
            return take_rows(self.data, index)
        return SparseRows(self.ids, self.offsets, index)


@dataclass
class Batch:
    """One training step of a population.

    ``index`` is ``(K, B)``. When some rows are padding (members with unequal rows in
    this step, or a short batch padded, see :func:`epoch_batches`), ``counts`` gives
    each member's real rows, ``sample_weight`` is ``(K, B, 1)`` 0/1 and ``members``
    lists those with at least one row when some have none; otherwise all are None and
    every member uses all ``B`` rows.
    """

    index: torch.Tensor
    counts: list[int] | None = None
    sample_weight: torch.Tensor | None = None
    members: list[int] | None = None
    active_3d: torch.Tensor | None = None

    @property
    def size(self) -> torch.Tensor | int:
        if self.sample_weight is None:
            return self.index.shape[1]
        return self.sample_weight.sum(dim=(1, 2))

    def members_slice(self, first: int, stop: int) -> Batch:
        """The step of members ``first`` to ``stop - 1`` only (views; ``members``
        renumbered from ``first``)."""

        def rows(t):
            return None if t is None else t[first:stop]

        members = None
        if self.members is not None:
            members = [m - first for m in self.members if first <= m < stop]
        return Batch(
            self.index[first:stop], None if self.counts is None else self.counts[first:stop],
            rows(self.sample_weight), members, rows(self.active_3d),
        )  # fmt: skip


# Short batches are padded to a multiple of this many rows (see epoch_batches).
ROW_MULTIPLE = 8


def epoch_batches(
    orders: list[np.ndarray], batch_size: int, alive: list[bool], device: torch.device
) -> list[Batch]:
    """Cut each member's shuffled rows ``orders[k]`` into batches, stepping all together.

    Members that are not ``alive`` take no rows. A member with fewer rows than the
    longest simply has no rows in the last steps.

    A short batch (the epoch's last, or members with unequal rows) is padded with
    weight-0 rows to a multiple of ``ROW_MULTIPLE`` rows (at most ``batch_size``). The
    matrix libraries pick their kernels by shape, and for odd row counts a batched
    product of K members rounds differently from the same product for one member; at
    the shapes of full batches and multiples of 8 rows they agree, so a population
    trains bit for bit like its members alone (the tests check it).
    """
    k = len(orders)
    lengths = [len(order) if alive[m] else 0 for m, order in enumerate(orders)]
    steps = max(math.ceil(n / batch_size) for n in lengths)
    width = steps * batch_size
    table = np.zeros((k, width), dtype=np.int64)
    for m, order in enumerate(orders):
        if lengths[m]:
            table[m, : lengths[m]] = order
    # Step-major, so that each step's (K, B) index is contiguous: gathering with a
    # strided index would copy it first, twice a step (inputs and targets).
    by_step = table.reshape(k, steps, batch_size).transpose(1, 0, 2)
    index = torch.as_tensor(np.ascontiguousarray(by_step), device=device)
    batches = []
    for s in range(steps):
        start = s * batch_size
        counts = [max(0, min(batch_size, n - start)) for n in lengths]
        size = max(counts)
        if len(set(counts)) == 1 and (size == batch_size or size % ROW_MULTIPLE == 0):
            batches.append(Batch(index[s, :, :size]))
            continue
        size = min(batch_size, round_up(size, ROW_MULTIPLE))
        weight = torch.zeros(k, size, 1, device=device)
        for m, c in enumerate(counts):
            weight[m, :c] = 1.0
        members = [m for m, c in enumerate(counts) if c > 0]
        active = torch.tensor([float(c > 0) for c in counts], device=device).view(k, 1, 1)
        batches.append(
            Batch(
                index[s, :, :size], counts, weight,
                None if len(members) == k else members, active,
            )
        )  # fmt: skip
    return batches


def padded_rows(
    row_sets: list[np.ndarray], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Stack per-member row sets into ``(K, M)`` indices, with ``(K, M, 1)`` weights if ragged."""
    longest = max(len(rows) for rows in row_sets)
    table = np.zeros((len(row_sets), longest), dtype=np.int64)
    weight = np.zeros((len(row_sets), longest, 1), dtype=np.float32)
    for m, rows in enumerate(row_sets):
        table[m, : len(rows)] = rows
        weight[m, : len(rows)] = 1.0
    ragged = len({len(rows) for rows in row_sets}) > 1
    index = torch.as_tensor(table, device=device)
    return index, (torch.as_tensor(weight, device=device) if ragged else None)
