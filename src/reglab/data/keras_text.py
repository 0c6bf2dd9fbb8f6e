"""Keras' IMDB and Reuters preparation, step for step, so results match Keras' exactly.

Keras (``keras/src/datasets/imdb.py``, ``reuters.py``): shuffle with
``np.random.RandomState(seed)``; mark starts with ``start_char`` and shift word ids by
``index_from``; drop sequences not shorter than ``maxlen``; replace ids outside
``[skip_top, num_words)`` by ``oov_char`` (or drop them when ``oov_char`` is None).
IMDB shuffles its train and test parts separately with one generator; Reuters shuffles
one array and then splits it by ``test_split``.
"""

from __future__ import annotations

import numpy as np

from reglab.errors import DataError

__all__ = ["prepare_imdb", "prepare_reuters", "sequence_array"]


def sequence_array(sequences) -> np.ndarray:
    """A 1-D object array of lists, whatever the lists' lengths (as Keras returns them).

    Examples
    --------
    >>> sequence_array([[1, 2], [3, 4]]).shape  # np.array would make this (2, 2)
    (2,)
    """
    array = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):
        array[i] = seq
    return array


def _shift(xs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def _drop_long(xs, labels, maxlen):
    keep = [i for i, x in enumerate(xs) if len(x) < maxlen]  # Keras keeps len(x) < maxlen
    return [xs[i] for i in keep], np.asarray(labels)[keep]


def _limit_vocabulary(xs, num_words, skip_top, oov_char):
    if not num_words:
        # Keras' own rule; it makes the largest id itself out of vocabulary.
        num_words = max((max(x) for x in xs if len(x)), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def prepare_imdb(
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Apply Keras' ``imdb.load_data`` options to the raw arrays of ``imdb.npz``.

    Parameters
    ----------
    x_train, y_train, x_test, y_test : numpy.ndarray
        The arrays of the file: object arrays of word-id lists and their labels.
    num_words, skip_top, maxlen, seed, start_char, oov_char, index_from
        Keras' options, with Keras' defaults (None, 0, None, 113, 1, 2, 3).

    Returns
    -------
    tuple of numpy.ndarray
        ``x_train, y_train, x_test, y_test``; x as 1-D object arrays of lists of ids.

    Raises
    ------
    DataError
        If ``maxlen`` leaves no sequence in a part.

    Examples
    --------
    >>> x, y, xt, yt = prepare_imdb(sequence_array([[1, 2]]), np.array([1]),
    ...                             sequence_array([[5]]), np.array([0]), num_words=10)
    >>> x[0], xt[0]
    ([1, 4, 5], [1, 8])
    """
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]

    x_train = _shift(x_train, start_char, index_from)
    x_test = _shift(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = _drop_long(x_train, y_train, maxlen)
        x_test, y_test = _drop_long(x_test, y_test, maxlen)
        if not x_train or not x_test:
            part = "training" if not x_train else "test"
            raise DataError(f"No {part} sequence is shorter than maxlen={maxlen}; increase maxlen.")
    xs = _limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([y_train, y_test])
    n = len(x_train)
    return sequence_array(xs[:n]), labels[:n], sequence_array(xs[n:]), labels[n:]


def prepare_reuters(
    x,
    y,
    *,
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Apply Keras' ``reuters.load_data`` options to the raw arrays of ``reuters.npz``.

    Parameters
    ----------
    x, y : numpy.ndarray
        The arrays of the file: an object array of word-id lists and the topic labels.
    num_words, skip_top, maxlen, test_split, seed, start_char, oov_char, index_from
        Keras' options, with Keras' defaults (None, 0, None, 0.2, 113, 1, 2, 3).

    Returns
    -------
    tuple of numpy.ndarray
        ``x_train, y_train, x_test, y_test``; the first ``int(N * (1 - test_split))``
        shuffled newswires train.

    Raises
    ------
    DataError
        If ``maxlen`` leaves no sequence.

    Examples
    --------
    >>> x, y, xt, yt = prepare_reuters(sequence_array([[1], [2], [3], [4]]), np.arange(4),
    ...                                test_split=0.25, seed=0)
    >>> len(x), len(xt)
    (3, 1)
    """
    rng = np.random.RandomState(seed)
    order = np.arange(len(x))
    rng.shuffle(order)
    xs, labels = _shift(x[order], start_char, index_from), y[order]
    if maxlen:
        xs, labels = _drop_long(xs, labels, maxlen)
        if not xs:
            raise DataError(f"No sequence is shorter than maxlen={maxlen}; increase maxlen.")
    xs = _limit_vocabulary(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    return (
        sequence_array(xs[:n]),
        np.asarray(labels[:n]),
        sequence_array(xs[n:]),
        np.asarray(labels[n:]),
    )
