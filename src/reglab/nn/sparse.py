"""A batch of multi-hot rows as the first layer reads them: word ids and bag offsets.

``SparseRows`` holds, for each population member, the ids of the words present in each
of its rows (end to end) and where each row starts: exactly ``embedding_bag``'s input.
The first layer's output is then the sum of the kernel rows of the words present, equal
to the dense product with the 0/1 matrix, and its weight gradient scatters each row's
upstream gradient onto those same kernel rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["SparseRows", "sparse_dense", "sparse_dense_kernel_grad"]


@dataclass
class SparseRows:
    """Per member: ``ids`` (all rows' word ids) and ``offsets`` (each row's start).

    ``len(offsets[k])`` is the number of rows; a population evaluated on shared data
    has a single entry that every member reads.
    """

    ids: list[torch.Tensor]
    offsets: list[torch.Tensor]

    @property
    def rows(self) -> int:
        return len(self.offsets[0])

    def member(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        m = min(k, len(self.ids) - 1)
        return self.ids[m], self.offsets[m]


def sparse_dense(x: SparseRows, kernel: torch.Tensor) -> torch.Tensor:
    """``(K, B, H)``: for each member, each row's sum of the kernel rows of its words.

    Examples
    --------
    >>> import torch
    >>> kernel = torch.arange(8.0).view(1, 4, 2)  # 4 words, 2 units
    >>> rows = SparseRows([torch.tensor([1, 3, 0])], [torch.tensor([0, 2])])
    >>> sparse_dense(rows, kernel)[0]
    tensor([[ 8., 10.],
            [ 0.,  1.]])
    """
    outs = []
    for k in range(kernel.shape[0]):
        ids, offsets = x.member(k)
        outs.append(F.embedding_bag(ids, kernel[k], offsets, mode="sum"))
    return torch.stack(outs)


def sparse_dense_kernel_grad(x: SparseRows, upstream: torch.Tensor, target: torch.Tensor) -> None:
    """Write the kernel gradient ``(K, V, H)`` of :func:`sparse_dense` into ``target``.

    Word ``v`` receives the sum of the upstream rows of the samples it occurs in. That is
    itself an embedding bag, over the batch's *transposed* rows (for each word, the
    samples containing it, in sample order). On CPU this is about 4x faster than
    ``index_add_`` of the repeated upstream rows (per-index work there), and the
    summation order is fixed, so the result is deterministic.
    """
    vocabulary = target.shape[1]
    for k in range(target.shape[0]):
        ids, offsets = x.member(k)
        samples, starts = _transposed(ids, offsets, vocabulary)
        target[k].copy_(F.embedding_bag(samples, upstream[k], starts, mode="sum"))


def _transposed(ids: torch.Tensor, offsets: torch.Tensor, vocabulary: int):
    """The batch's rows transposed: for each word, the samples containing it, and where
    each word's samples start (``embedding_bag``'s indices and offsets).

    Each (word, sample) pair occurs once, so sorting the numbers ``word << s | sample``
    orders the pairs by word and then by sample, and the samples come back with a mask.
    On the CPU NumPy sorts them (its SIMD sort is about twice torch's on this size);
    elsewhere torch does, on the device.
    """
    if ids.device.type == "cpu":
        return _transposed_numpy(ids, offsets, vocabulary)
    return _transposed_torch(ids, offsets, vocabulary)


def _transposed_numpy(ids: torch.Tensor, offsets: torch.Tensor, vocabulary: int):
    rows = len(offsets)
    shift = max(rows - 1, 1).bit_length()
    dtype = np.int32 if vocabulary << shift < 2**31 else np.int64
    lengths = np.diff(offsets.numpy(), append=len(ids))
    key = ids.numpy().astype(dtype) << shift
    key |= np.repeat(np.arange(rows, dtype=dtype), lengths)
    key.sort()
    counts = np.bincount(ids.numpy(), minlength=vocabulary)
    starts = (np.cumsum(counts) - counts).astype(dtype)
    return torch.from_numpy(key & dtype((1 << shift) - 1)), torch.from_numpy(starts)


def _transposed_torch(ids: torch.Tensor, offsets: torch.Tensor, vocabulary: int):
    rows = len(offsets)
    shift = max(rows - 1, 1).bit_length()
    lengths = torch.diff(offsets, append=offsets.new_tensor([len(ids)]))
    sample_of = torch.repeat_interleave(
        torch.arange(rows, device=ids.device), lengths, output_size=len(ids)
    )
    key = torch.sort((ids.long() << shift) | sample_of).values
    counts = torch.bincount(ids, minlength=vocabulary)
    return key & ((1 << shift) - 1), torch.cumsum(counts, 0) - counts
