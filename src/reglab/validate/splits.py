"""Which rows each run trains on and which it is validated on.

Two ways to carve a validation part out of the training data:

- :func:`kfold`: (repeated, optionally stratified) K-fold cross-validation, built on
  scikit-learn's splitters, which already get the shuffling and the fold sizes right;
- :func:`validation_split`: Keras' ``fit(validation_split=...)``, the last fraction of
  the samples, taken before any shuffling.

Both return :class:`Fold` objects holding row indices, never data: the engine slices the
data on its device, and preprocessing statistics are fitted on ``Fold.train`` alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)

from reglab.errors import ReglabError, check_int, check_number, invalid

__all__ = ["Fold", "kfold", "validation_split"]


@dataclass(frozen=True, eq=False)
class Fold:
    """The training and validation rows of one fold.

    Attributes
    ----------
    train : numpy.ndarray of int64
        Row indices to train on, ascending.
    validation : numpy.ndarray of int64
        Row indices to validate on, ascending; disjoint from ``train``.
    fold : int
        0-based position of the fold within its repeat.
    repeat : int
        0-based repeat (reshuffle) the fold belongs to.

    Examples
    --------
    >>> fold = Fold(np.array([0, 1]), np.array([2]), fold=0, repeat=0)
    >>> fold.validation
    array([2])
    """

    train: np.ndarray
    validation: np.ndarray
    fold: int
    repeat: int


def kfold(
    n_samples: int,
    folds: int = 4,
    repeats: int = 1,
    shuffle: bool = True,
    seed: int | None = None,
    y: np.ndarray | None = None,
    stratify: bool = False,
) -> list[Fold]:
    """Split ``n_samples`` rows into K folds, optionally repeated and stratified.

    Each repeat is a partition: every sample lies in exactly one validation fold per
    repeat. Repeats reshuffle the samples, so they give different partitions (iterated
    K-fold). scikit-learn does the splitting (``KFold``, ``RepeatedKFold``,
    ``StratifiedKFold``, ``RepeatedStratifiedKFold``).

    Parameters
    ----------
    n_samples : int
        Number of rows to split.
    folds : int, default 4
        Number of folds K, at least 2 and at most ``n_samples``.
    repeats : int, default 1
        Number of reshuffled repeats, at least 1; more than 1 needs ``shuffle=True``.
    shuffle : bool, default True
        Shuffle before splitting; without it the folds are consecutive blocks.
    seed : int, optional
        Seed of the shuffle; ``None`` means 0 (reproducible by default). Only
        meaningful with ``shuffle=True``.
    y : numpy.ndarray, optional
        One class label per sample (or one-hot rows); needed by, and only used with,
        ``stratify=True``.
    stratify : bool, default False
        Keep each class's share of samples the same in every fold.

    Returns
    -------
    list of Fold
        ``folds * repeats`` folds, repeat by repeat, fold by fold.

    Raises
    ------
    ReglabError
        If ``folds < 2``, ``folds > n_samples``, ``repeats < 1``, an option would have no
        effect (a seed without shuffling, repeats without shuffling, ``y`` without
        stratifying), or ``y`` does not fit (wrong length, a class with fewer than
        ``folds`` samples).

    Examples
    --------
    >>> [f.validation.tolist() for f in kfold(6, folds=3, shuffle=False)]
    [[0, 1], [2, 3], [4, 5]]
    >>> len(kfold(10, folds=5, repeats=2, seed=1))
    10
    """
    n_samples = check_int("n_samples", n_samples, owner="kfold", low=1)
    folds = check_int("folds", folds, owner="kfold", low=2)
    repeats = check_int("repeats", repeats, owner="kfold", low=1)
    if folds > n_samples:
        raise ReglabError(
            invalid("folds", f"an int in [2, n_samples={n_samples}]", folds, owner="kfold")
            + " Every fold needs at least one sample; use fewer folds."
        )
    if not shuffle and seed is not None:
        raise ReglabError(
            "Invalid arguments of kfold: setting a seed has no effect since shuffle is False. "
            f"Received: seed={seed!r}. Drop the seed or set shuffle=True."
        )
    if not shuffle and repeats > 1:
        raise ReglabError(
            "Invalid arguments of kfold: repeats > 1 needs shuffle=True; without shuffling "
            f"every repeat gives the same folds. Received: repeats={repeats}."
        )
    if y is not None and not stratify:
        raise ReglabError(
            "Invalid arguments of kfold: `y` is only used with stratify=True. "
            "Set stratify=True or drop y."
        )
    # seed=None means 0 rather than "random": the same call gives the same folds.
    random_state = (
        check_int("seed", 0 if seed is None else seed, owner="kfold") if shuffle else None
    )
    labels = _check_labels(y, n_samples, folds) if stratify else None
    splitter = _splitter(folds, repeats, shuffle, random_state, stratified=stratify)
    rows = np.zeros((n_samples, 1))  # the splitters only look at the number of rows
    result = []
    for i, (train, validation) in enumerate(splitter.split(rows, labels)):
        result.append(
            Fold(
                train=np.sort(train).astype(np.int64),
                validation=np.sort(validation).astype(np.int64),
                fold=i % folds,
                repeat=i // folds,
            )
        )
    return result


def validation_split(
    n_samples: int,
    split: float,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    y: np.ndarray | None = None,
    stratify: bool = False,
) -> Fold:
    """Keras' ``validation_split``: the last ``split`` fraction of the rows validates.

    As in Keras' ``fit``, the rows are taken before any shuffling, and the training part
    is the first ``floor(n_samples * (1 - split))`` rows. With ``shuffle`` (or
    ``stratify``, which keeps each class's share in both parts) the same number of rows
    is drawn at random instead, by scikit-learn's ``ShuffleSplit`` /
    ``StratifiedShuffleSplit``.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    split : float
        Fraction of the rows to validate on, in (0, 1).
    shuffle : bool, default False
        Draw the validation rows at random (``seed``) instead of taking the last ones.
    seed : int, optional
        Seeds the draw (0 when omitted); only with ``shuffle`` or ``stratify``.
    y : array, optional
        Class labels, for ``stratify``.
    stratify : bool, default False
        Keep the class proportions in both parts (implies a random draw).

    Returns
    -------
    Fold
        ``fold=0``, ``repeat=0``; both index arrays sorted.

    Raises
    ------
    ReglabError
        If ``split`` is not in (0, 1), either part would be empty, a seed is given
        without a random draw, or ``y`` does not fit.

    Examples
    --------
    >>> fold = validation_split(10, 0.2)
    >>> fold.train.tolist(), fold.validation.tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    >>> len(validation_split(10, 0.2, shuffle=True, seed=1).validation)
    2
    """
    n_samples = check_int("n_samples", n_samples, owner="validation_split", low=1)
    split = check_number(
        "split", split, owner="validation_split", low=0.0, high=1.0, low_open=True, high_open=True
    )
    split_at = math.floor(n_samples * (1.0 - split))  # Keras' exact rounding
    if split_at in (0, n_samples):
        part = "training" if split_at == 0 else "validation"
        raise ReglabError(
            f"Invalid value for `split` of validation_split: {n_samples} samples are not "
            f"enough to split with split={split!r}; the {part} part would be empty. "
            "Give more data or a different split."
        )
    random = shuffle or stratify
    if seed is not None and not random:
        raise ReglabError(
            "Invalid arguments of validation_split: setting a seed has no effect since the "
            f"last rows validate (shuffle=False). Received: seed={seed!r}. Drop the seed or "
            "set shuffle=True."
        )
    if y is not None and not stratify:
        raise ReglabError(
            "Invalid arguments of validation_split: `y` is only used with stratify=True. "
            "Set stratify=True or drop y."
        )
    rows = np.arange(n_samples, dtype=np.int64)
    if not random:
        return Fold(train=rows[:split_at], validation=rows[split_at:], fold=0, repeat=0)
    state = check_int("seed", 0 if seed is None else seed, owner="validation_split")
    size = n_samples - split_at  # the same count as Keras' rule, drawn at random
    if stratify:
        labels = _check_labels(y, n_samples, 2, owner="validation_split")
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=size, random_state=state)
    else:
        labels = None
        splitter = ShuffleSplit(n_splits=1, test_size=size, random_state=state)
    train, validation = next(splitter.split(np.zeros((n_samples, 1)), labels))
    return Fold(train=np.sort(train).astype(np.int64),
                validation=np.sort(validation).astype(np.int64), fold=0, repeat=0)  # fmt: skip


def _splitter(folds: int, repeats: int, shuffle: bool, seed: int | None, *, stratified: bool):
    if repeats > 1:
        cls = RepeatedStratifiedKFold if stratified else RepeatedKFold
        return cls(n_splits=folds, n_repeats=repeats, random_state=seed)
    cls = StratifiedKFold if stratified else KFold
    return cls(n_splits=folds, shuffle=shuffle, random_state=seed)


def _check_labels(
    y: np.ndarray | None, n_samples: int, folds: int, owner: str = "kfold"
) -> np.ndarray:
    if y is None:
        raise ReglabError(
            f"Invalid arguments of {owner}: stratify=True needs `y`, one class label per sample."
        )
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2 and _is_one_hot(labels):
        labels = labels.argmax(axis=1)  # to_categorical targets: stratify by their class
    if labels.ndim != 1 or len(labels) != n_samples:
        raise ReglabError(
            f"Invalid value for `y` of {owner}: expected one class label per sample, shape "
            f"({n_samples},) or one-hot rows. "
            f"Received: an array of shape {labels.shape}."
        )
    classes, counts = np.unique(labels, return_counts=True)
    # scikit-learn only warns here and then builds folds that miss the class; refuse instead.
    if counts.min() < folds:
        rare = classes[counts.argmin()].item()
        raise ReglabError(
            f"Invalid value for `y` of {owner}: stratifying into {folds} folds needs at least "
            f"{folds} samples of every class; class {rare!r} has {counts.min()}. "
            "Use fewer folds or stratify=False."
        )
    return labels


def _is_one_hot(labels: np.ndarray) -> bool:
    return bool(np.isin(labels, (0, 1)).all() and (labels.sum(axis=1) == 1).all())
