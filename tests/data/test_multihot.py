"""multi_hot against Keras' vectorize_sequences; the sparse form agrees with the dense one."""

import numpy as np
import pytest

from reglab.data import MultiHot, multi_hot
from reglab.errors import ReglabError

SEQUENCES = [[1, 4, 4, 2], [], [9, 0], [3, 3, 3]]


def vectorize_sequences(sequences, dimension):
    """Keras' book version (Deep Learning with Python, ch. 4), the reference."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


def test_dense_matches_vectorize_sequences():
    dense = multi_hot(SEQUENCES, num_words=10)
    assert dense.dtype == np.float32 and dense.shape == (4, 10)
    np.testing.assert_array_equal(dense, vectorize_sequences(SEQUENCES, 10))


def test_repeated_words_are_still_one():
    assert multi_hot([[5, 5, 5]], num_words=6).max() == 1.0


def test_sparse_rows_hold_sorted_unique_ids_padded_with_minus_one():
    sparse = multi_hot(SEQUENCES, num_words=10, sparse=True)
    expected = [[1, 2, 4], [-1, -1, -1], [0, 9, -1], [3, -1, -1]]
    np.testing.assert_array_equal(sparse.indices, expected)
    assert sparse.indices.dtype == np.int64 and sparse.num_words == 10
    np.testing.assert_array_equal(sparse.ids, [1, 2, 4, 0, 9, 3])
    np.testing.assert_array_equal(sparse.offsets, [0, 3, 3, 5, 6])


def test_sparse_and_dense_agree_on_random_sequences():
    rng = np.random.default_rng(0)
    sequences = [rng.integers(0, 50, rng.integers(0, 30)).tolist() for _ in range(40)]
    sparse = multi_hot(sequences, num_words=50, sparse=True)
    np.testing.assert_array_equal(sparse.to_dense(), multi_hot(sequences, num_words=50))


def test_sparse_indexing_selects_rows_like_the_dense_matrix():
    sparse = multi_hot(SEQUENCES, num_words=10, sparse=True)
    dense = multi_hot(SEQUENCES, num_words=10)
    rows = np.array([3, 0])
    np.testing.assert_array_equal(sparse[rows].to_dense(), dense[rows])
    np.testing.assert_array_equal(sparse[1:3].to_dense(), dense[1:3])
    np.testing.assert_array_equal(sparse[2].to_dense(), dense[2:3])
    assert len(sparse[rows]) == 2 and isinstance(sparse[rows], MultiHot)


def test_sparse_form_is_smaller_than_dense():
    sparse = multi_hot([[1, 2]] * 100, num_words=10000, sparse=True)
    assert sparse.nbytes == 100 * 2 * 4 + 101 * 8  # int32 ids, int64 offsets
    assert sparse.nbytes < 100 * 10000 * 4
    assert sparse.shape == (100, 10000)


def test_ids_not_below_num_words_are_an_error_naming_the_largest():
    with pytest.raises(
        ReglabError,
        match=r"`num_words` of multi_hot: expected larger than every "
        r"word id \(ids found in \[0, 9\]; ids must be >= 0\). Received: "
        r"num_words=9",
    ):
        multi_hot(SEQUENCES, num_words=9)


def test_negative_ids_are_an_error():
    with pytest.raises(ReglabError, match=r"ids found in \[-2, 3\]"):
        multi_hot([[3, -2]], num_words=10)


def test_multihot_refuses_ids_outside_the_vocabulary():
    with pytest.raises(
        ReglabError,
        match=r"`indices` of MultiHot: expected ids in \[0, 4\) or -1 "
        r"for padding. Received: indices='ids in \[-1, 4\]'",
    ):
        MultiHot(np.array([[4, -1]]), num_words=4)


def test_multihot_refuses_a_1d_array():
    with pytest.raises(ReglabError, match=r"expected a 2-D integer array"):
        MultiHot(np.array([1, 2]), num_words=4)
