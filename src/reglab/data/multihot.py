"""Multi-hot encoding of word-index sequences (Keras' ``vectorize_sequences``), dense or sparse.

IMDB at 10,000 words is a 25,000 x 10,000 float32 matrix (1 GB) that is 99% zeros. The
sparse form keeps only each row's word ids, so the training engine can compute the first
layer as a sum of weight rows (an embedding bag) with the same result as the dense
product, and the dense matrix is never built.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reglab.errors import ReglabError, check_int, invalid

__all__ = ["MultiHot", "multi_hot"]

PAD = -1  # marks the unused tail of a row of word ids; never a valid id


class MultiHot:
    """Sparse multi-hot rows: each row's sorted unique word ids, padded with -1.

    Parameters
    ----------
    indices : numpy.ndarray of int, shape (N, L)
        Word ids in ``[0, num_words)``, each row sorted and unique, padded with -1.
    num_words : int
        Vocabulary size: the width of the dense matrix these rows stand for.

    Raises
    ------
    ReglabError
        If ``indices`` is not 2-D or holds ids outside ``[-1, num_words)``.

    Examples
    --------
    >>> rows = multi_hot([[3, 1, 3], [2]], num_words=4, sparse=True)
    >>> rows.indices
    array([[ 1,  3],
           [ 2, -1]])
    >>> rows[[1]].to_dense()
    array([[0., 0., 1., 0.]], dtype=float32)
    """

    def __init__(self, indices, num_words: int) -> None:
        self.num_words = check_int("num_words", num_words, owner="MultiHot", low=1)
        array = np.asarray(indices)
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
            raise ReglabError(
                invalid(
                    "indices",
                    "a 2-D integer array (rows, ids)",
                    f"an array of shape {array.shape} and dtype {array.dtype}",
                    owner="MultiHot",
                )
            )
        if array.size and (array.min() < PAD or array.max() >= self.num_words):
            raise ReglabError(
                invalid(
                    "indices",
                    f"ids in [0, {self.num_words}) or -1 for padding",
                    f"ids in [{array.min()}, {array.max()}]",
                    owner="MultiHot",
                )
            )
        self.indices = array.astype(np.int64, copy=False)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the dense matrix: ``(rows, num_words)``."""
        return (len(self.indices), self.num_words)

    @property
    def nbytes(self) -> int:
        """Memory held by the ids, in bytes (compare ``rows * num_words * 4`` dense)."""
        return int(self.indices.nbytes)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, rows) -> MultiHot:
        """The rows selected by an index array, a boolean mask, a slice or an int."""
        picked = self.indices[rows]
        if picked.ndim == 1:  # a single integer row index
            picked = picked[None, :]
        return MultiHot(picked, self.num_words)

    def to_dense(self) -> np.ndarray:
        """The dense float32 ``(rows, num_words)`` matrix, with 1.0 where a word occurs."""
        dense = np.zeros(self.shape, dtype=np.float32)
        row, col = np.nonzero(self.indices != PAD)
        dense[row, self.indices[row, col]] = 1.0
        return dense

    def __repr__(self) -> str:
        width = self.indices.shape[1]
        return f"MultiHot(rows={len(self)}, num_words={self.num_words}, max_ids_per_row={width})"


def multi_hot(sequences: Sequence, num_words: int, sparse: bool = False):
    """Multi-hot encode word-index sequences, as Keras' ``vectorize_sequences``.

    Parameters
    ----------
    sequences : sequence of sequences of int
        One list of word ids per sample (e.g. ``load_dataset("imdb").x_train``).
    num_words : int
        Vocabulary size; every id must be below it.
    sparse : bool, default False
        Return a :class:`MultiHot` of word ids instead of the dense matrix.

    Returns
    -------
    numpy.ndarray or MultiHot
        Dense float32 ``(N, num_words)`` with 1.0 where a word occurs (also when it occurs
        several times), or the same rows as a :class:`MultiHot`.

    Raises
    ------
    ReglabError
        If an id is negative or not below ``num_words`` (the message gives the largest).

    Examples
    --------
    >>> multi_hot([[1, 1, 3], []], num_words=4)
    array([[0., 1., 0., 1.],
           [0., 0., 0., 0.]], dtype=float32)
    """
    num_words = check_int("num_words", num_words, owner="multi_hot", low=1)
    rows = [np.unique(np.asarray(seq, dtype=np.int64).reshape(-1)) for seq in sequences]
    found = [row for row in rows if row.size]
    if found:
        low = min(int(row[0]) for row in found)
        high = max(int(row[-1]) for row in found)
        if high >= num_words or low < 0:
            raise ReglabError(
                invalid(
                    "num_words",
                    f"larger than every word id (ids found in [{low}, {high}]; ids must be >= 0)",
                    num_words,
                    owner="multi_hot",
                )
            )
    width = max((row.size for row in rows), default=0)
    indices = np.full((len(rows), width), PAD, dtype=np.int64)
    for i, row in enumerate(rows):
        indices[i, : row.size] = row
    encoded = MultiHot(indices, num_words)
    return encoded if sparse else encoded.to_dense()
