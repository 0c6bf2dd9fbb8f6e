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

PAD = -1  # marks the unused tail of a row in the padded form; never a valid id


class MultiHot:
    """Sparse multi-hot rows, stored compressed (CSR): all rows' word ids end to end.

    Row ``i`` holds the sorted unique ids ``ids[offsets[i]:offsets[i + 1]]``. At IMDB's
    shape (25,000 reviews, 10,000 words, about 130 distinct words a review) that is
    about 13 MB of int32 ids against 1 GB for the dense float32 matrix.

    Parameters
    ----------
    indices : numpy.ndarray of int, shape (N, L)
        Word ids in ``[0, num_words)``, each row sorted and unique, padded with -1
        (the readable form; :meth:`from_csr` builds from the compressed arrays).
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
    >>> rows.ids, rows.offsets
    (array([1, 3, 2], dtype=int32), array([0, 2, 3]))
    >>> rows[[1]].to_dense()
    array([[0., 0., 1., 0.]], dtype=float32)
    """

    def __init__(self, indices, num_words: int) -> None:
        num_words = check_int("num_words", num_words, owner="MultiHot", low=1)
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
        if array.size and (array.min() < PAD or array.max() >= num_words):
            raise ReglabError(
                invalid(
                    "indices",
                    f"ids in [0, {num_words}) or -1 for padding",
                    f"ids in [{array.min()}, {array.max()}]",
                    owner="MultiHot",
                )
            )
        present = array != PAD
        offsets = np.zeros(len(array) + 1, dtype=np.int64)
        np.cumsum(present.sum(axis=1), out=offsets[1:])
        self._set(array[present], offsets, num_words)

    @classmethod
    def from_csr(cls, ids, offsets, num_words: int) -> MultiHot:
        """Build from compressed arrays (trusted: as :func:`multi_hot` makes them)."""
        rows = cls.__new__(cls)
        rows._set(np.asarray(ids), np.asarray(offsets, dtype=np.int64), num_words)
        return rows

    def _set(self, ids: np.ndarray, offsets: np.ndarray, num_words: int) -> None:
        # int32 ids: half the memory of int64, and what torch's embedding_bag takes.
        self.ids = ids.astype(np.int32, copy=False)
        self.offsets = offsets
        self.num_words = int(num_words)

    @property
    def lengths(self) -> np.ndarray:
        """Number of distinct words in each row."""
        return np.diff(self.offsets)

    @property
    def indices(self) -> np.ndarray:
        """The padded ``(N, L)`` int64 form: each row's ids, then -1."""
        lengths = self.lengths
        width = int(lengths.max()) if len(lengths) else 0
        padded = np.full((len(self), width), PAD, dtype=np.int64)
        mask = np.arange(width) < lengths[:, None]
        padded[mask] = self.ids
        return padded

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the dense matrix: ``(rows, num_words)``."""
        return (len(self), self.num_words)

    @property
    def nbytes(self) -> int:
        """Memory held by the ids and offsets, in bytes (compare ``rows * num_words * 4``)."""
        return int(self.ids.nbytes + self.offsets.nbytes)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, rows) -> MultiHot:
        """The rows selected by an index array, a boolean mask, a slice or an int."""
        picked = np.arange(len(self))[rows]
        picked = np.atleast_1d(picked)
        starts, lengths = self.offsets[picked], self.lengths[picked]
        offsets = np.zeros(len(picked) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # Position of every kept id: its row's start plus its rank inside the row.
        positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return MultiHot.from_csr(self.ids[positions], offsets, self.num_words)

    def to_dense(self) -> np.ndarray:
        """The dense float32 ``(rows, num_words)`` matrix, with 1.0 where a word occurs."""
        dense = np.zeros(self.shape, dtype=np.float32)
        dense[np.repeat(np.arange(len(self)), self.lengths), self.ids] = 1.0
        return dense

    def __repr__(self) -> str:
        return f"MultiHot(rows={len(self)}, num_words={self.num_words}, ids={len(self.ids)})"


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
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([row.size for row in rows], out=offsets[1:])
    ids = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    encoded = MultiHot.from_csr(ids, offsets, num_words)
    return encoded if sparse else encoded.to_dense()
