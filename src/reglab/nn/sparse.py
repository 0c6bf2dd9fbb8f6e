"""A batch of multi-hot rows as the first layer reads them.

The first layer's output is the sum of the kernel rows of the words present, equal to
the dense product with the 0/1 matrix, and its weight gradient scatters each row's
upstream gradient onto those same kernel rows. On the CPU both are compiled loops over
the dataset's compressed rows (:mod:`reglab.nn.sparse_kernels`); on other devices, and
wherever autograd must see the first layer, the rows are cut out as ``embedding_bag``
input and the gradient is another ``embedding_bag`` over the batch's transposed rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

__all__ = ["SparseRows", "sparse_dense", "sparse_dense_kernel_grad"]


@dataclass
class SparseRows:
    """Rows ``index`` of a compressed multi-hot matrix, one set of rows per member.

    ``ids`` holds every row's word ids end to end and ``offsets`` (``N + 1`` entries)
    where each row starts; ``index`` is ``(K, B)``, or ``(1, B)`` for rows that every
    member reads (shared evaluation data). Nothing is copied until :meth:`bags`.
    """

    ids: torch.Tensor
    offsets: torch.Tensor
    index: torch.Tensor
    _bags: list | None = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        return self.index.shape[1]

    def bags(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per index row: its rows' ids end to end and each row's start (``embedding_bag``'s
        input), cut out on the device in one pass for all members."""
        if self._bags is None:
            rows = self.index.reshape(-1)
            starts = self.offsets.index_select(0, rows)
            lengths = self.offsets.index_select(0, rows + 1) - starts
            ends = torch.cumsum(lengths, 0)
            bag_starts = ends - lengths
            total = int(ends[-1]) if len(ends) else 0
            # Each kept id's position: its row's start plus its rank inside the row.
            positions = torch.repeat_interleave(starts - bag_starts, lengths, output_size=total)
            positions += torch.arange(total, device=positions.device)
            ids = self.ids.index_select(0, positions)
            k, b = self.index.shape
            member_starts = [*bag_starts[::b].tolist(), total]
            self._bags = [
                (
                    ids[member_starts[m] : member_starts[m + 1]],
                    (bag_starts[m * b : (m + 1) * b] - member_starts[m]).to(torch.int32),
                )
                for m in range(k)
            ]
        return self._bags

    def _member(self, k: int) -> int:
        return min(k, self.index.shape[0] - 1)


def _compiled(x: SparseRows, kernel: torch.Tensor) -> bool:
    """Whether the compiled CPU loops apply: on the CPU, when autograd need not see them."""
    return x.ids.device.type == "cpu" and not (torch.is_grad_enabled() and kernel.requires_grad)


def sparse_dense(x: SparseRows, kernel: torch.Tensor) -> torch.Tensor:
    """``(K, B, H)``: for each member, each row's sum of the kernel rows of its words.

    Examples
    --------
    >>> import torch
    >>> kernel = torch.arange(8.0).view(1, 4, 2)  # 4 words, 2 units
    >>> rows = SparseRows(torch.tensor([1, 3, 0]), torch.tensor([0, 2, 3]), torch.tensor([[0, 1]]))
    >>> sparse_dense(rows, kernel)[0]
    tensor([[ 8., 10.],
            [ 0.,  1.]])
    """
    if _compiled(x, kernel):
        from reglab.nn.sparse_kernels import bag_sums

        out = torch.empty(kernel.shape[0], x.rows, kernel.shape[2])
        ids, offsets, index = x.ids.numpy(), x.offsets.numpy(), x.index.numpy()
        for k in range(kernel.shape[0]):
            bag_sums(ids, offsets, index[x._member(k)], kernel[k].detach().numpy(), out[k].numpy())
        return out
    outs = []
    for k in range(kernel.shape[0]):
        ids, offsets = x.bags()[x._member(k)]
        outs.append(F.embedding_bag(ids, kernel[k], offsets, mode="sum"))
    return torch.stack(outs)


def sparse_dense_kernel_grad(x: SparseRows, upstream: torch.Tensor, target: torch.Tensor) -> None:
    """Write the kernel gradient ``(K, V, H)`` of :func:`sparse_dense` into ``target``.

    Word ``v`` receives the sum of the upstream rows of the samples it occurs in, in
    sample order (so the result is deterministic). On the CPU a compiled loop scatters
    the upstream rows in place; elsewhere that sum is itself an embedding bag, over the
    batch's *transposed* rows (for each word, the samples containing it).
    """
    if x.ids.device.type == "cpu":
        from reglab.nn.sparse_kernels import bag_sums_backward

        ids, offsets, index = x.ids.numpy(), x.offsets.numpy(), x.index.numpy()
        for k in range(target.shape[0]):
            bag_sums_backward(
                ids, offsets, index[x._member(k)], upstream[k].numpy(), target[k].numpy()
            )
        return
    vocabulary = target.shape[1]
    bags = x.bags()
    for k in range(target.shape[0]):
        samples, starts = transposed(*bags[x._member(k)], vocabulary)
        target[k].copy_(F.embedding_bag(samples, upstream[k], starts, mode="sum"))


def transposed(ids: torch.Tensor, offsets: torch.Tensor, vocabulary: int):
    """The rows ``(ids, offsets)`` transposed: for each word, the samples containing it in
    sample order, and where each word's samples start (``embedding_bag``'s input).

    Each (word, sample) pair occurs once, so sorting the numbers ``word << s | sample``
    orders the pairs by word and then by sample, and the samples come back with a mask.
    """
    rows = len(offsets)
    shift = max(rows - 1, 1).bit_length()
    lengths = torch.diff(offsets, append=offsets.new_tensor([len(ids)]))
    sample_of = torch.repeat_interleave(
        torch.arange(rows, device=ids.device), lengths, output_size=len(ids)
    )
    key = torch.sort((ids.long() << shift) | sample_of).values
    counts = torch.bincount(ids, minlength=vocabulary)
    return key & ((1 << shift) - 1), torch.cumsum(counts, 0) - counts
