"""K-fold and Keras' validation_split, checked with invariants and Keras' rounding rule."""

import math

import numpy as np
import pytest

from reglab.errors import ReglabError, ReglabTypeError
from reglab.validate import Fold, kfold, validation_split


def check_cv_coverage(folds: list[Fold], n_samples: int, n_folds: int) -> None:
    """scikit-learn's invariant: per repeat, validation folds partition the samples."""
    repeats = {f.repeat for f in folds}
    for repeat in repeats:
        of_repeat = [f for f in folds if f.repeat == repeat]
        assert [f.fold for f in of_repeat] == list(range(n_folds))
        seen = np.concatenate([f.validation for f in of_repeat])
        assert np.array_equal(np.sort(seen), np.arange(n_samples))
    for f in folds:
        assert np.intersect1d(f.train, f.validation).size == 0
        assert np.array_equal(np.union1d(f.train, f.validation), np.arange(n_samples))
        assert f.train.dtype == np.int64 and f.validation.dtype == np.int64


@pytest.mark.parametrize("n_samples, folds", [(10, 2), (17, 4), (23, 5), (5, 5)])
def test_kfold_validation_folds_partition_the_samples(n_samples, folds):
    check_cv_coverage(kfold(n_samples, folds=folds), n_samples, folds)


def test_repeated_kfold_covers_every_sample_once_per_repeat():
    folds = kfold(30, folds=3, repeats=4, seed=7)
    assert len(folds) == 12
    assert [f.repeat for f in folds] == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    check_cv_coverage(folds, 30, 3)


def test_repeats_reshuffle_into_different_partitions():
    folds = kfold(30, folds=3, repeats=2, seed=0)
    first = {tuple(f.validation) for f in folds if f.repeat == 0}
    second = {tuple(f.validation) for f in folds if f.repeat == 1}
    assert first != second


def test_fold_sizes_differ_by_at_most_one():
    sizes = [len(f.validation) for f in kfold(23, folds=5)]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 23


def test_unshuffled_folds_are_consecutive_blocks():
    folds = kfold(7, folds=3, shuffle=False)
    # scikit-learn's KFold: the first n % k folds get one extra sample.
    assert [f.validation.tolist() for f in folds] == [[0, 1, 2], [3, 4], [5, 6]]


def test_same_seed_gives_the_same_folds():
    a, b = kfold(40, folds=4, seed=3), kfold(40, folds=4, seed=3)
    assert all(np.array_equal(x.validation, y.validation) for x, y in zip(a, b, strict=True))


def test_different_seeds_give_different_folds():
    a, b = kfold(40, folds=4, seed=3), kfold(40, folds=4, seed=4)
    assert any(not np.array_equal(x.validation, y.validation) for x, y in zip(a, b, strict=True))


def test_seed_none_means_seed_zero():
    a, b = kfold(40, folds=4), kfold(40, folds=4, seed=0)
    assert all(np.array_equal(x.validation, y.validation) for x, y in zip(a, b, strict=True))


def test_stratified_folds_keep_each_class_share():
    y = np.array([0] * 40 + [1] * 20 + [2] * 8)
    folds = kfold(len(y), folds=4, y=y, stratify=True, seed=1)
    check_cv_coverage(folds, len(y), 4)
    for f in folds:
        assert np.bincount(y[f.validation], minlength=3).tolist() == [10, 5, 2]


def test_repeated_stratified_folds_keep_each_class_share():
    y = np.array([0] * 12 + [1] * 6)
    folds = kfold(len(y), folds=3, repeats=2, y=y, stratify=True, seed=2)
    check_cv_coverage(folds, len(y), 3)
    for f in folds:
        assert np.bincount(y[f.validation]).tolist() == [4, 2]


def test_stratify_accepts_one_hot_labels():
    labels = np.array([0] * 8 + [1] * 4)
    one_hot = np.eye(2)[labels]
    a = kfold(12, folds=4, y=one_hot, stratify=True)
    b = kfold(12, folds=4, y=labels, stratify=True)
    assert all(np.array_equal(x.validation, z.validation) for x, z in zip(a, b, strict=True))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"folds": 1}, r"`folds` of kfold: expected an int >= 2. Received: folds=1"),
        ({"folds": 11}, r"`folds` of kfold: expected an int in \[2, n_samples=10\]"),
        ({"repeats": 0}, r"`repeats` of kfold: expected an int >= 1. Received: repeats=0"),
        ({"shuffle": False, "seed": 3}, r"setting a seed has no effect since shuffle is False"),
        ({"shuffle": False, "repeats": 2}, r"repeats > 1 needs shuffle=True"),
        ({"y": np.zeros(10)}, r"`y` is only used with stratify=True"),
        ({"stratify": True}, r"stratify=True needs `y`"),
        ({"stratify": True, "y": np.zeros(9)}, r"one class label per sample, shape \(10,\)"),
        (
            {"stratify": True, "y": np.array([0] * 8 + [1] * 2)},
            r"needs at least 4 samples of every class; class 1 has 2",
        ),
    ],
)
def test_kfold_refuses_bad_options(kwargs, message):
    with pytest.raises(ReglabError, match=message):
        kfold(10, **kwargs)


def test_kfold_refuses_a_float_fold_count():
    with pytest.raises(ReglabTypeError, match=r"Received: folds=2.0"):
        kfold(10, folds=2.0)


@pytest.mark.parametrize("n_samples, split", [(10, 0.2), (7, 0.3), (100, 0.15), (3, 0.5)])
def test_validation_split_takes_the_last_fraction_as_keras_does(n_samples, split):
    fold = validation_split(n_samples, split)
    split_at = math.floor(n_samples * (1.0 - split))  # Keras' train_validation_split
    assert fold.train.tolist() == list(range(split_at))
    assert fold.validation.tolist() == list(range(split_at, n_samples))


def test_validation_split_rounds_the_training_part_down():
    # 7 * (1 - 0.3) = 4.9: Keras trains on 4 rows and validates on 3.
    fold = validation_split(7, 0.3)
    assert (len(fold.train), len(fold.validation)) == (4, 3)


@pytest.mark.parametrize("split", [0.0, 1.0, -0.1, 1.5])
def test_validation_split_outside_open_unit_interval_is_refused(split):
    with pytest.raises(
        ReglabError, match=r"`split` of validation_split: expected a float in \(0, 1\)"
    ):
        validation_split(10, split)


@pytest.mark.parametrize(
    "n_samples, split, part", [(1, 0.5, "training"), (10, 1e-17, "validation")]
)
def test_validation_split_that_leaves_a_part_empty_is_refused(n_samples, split, part):
    with pytest.raises(
        ReglabError, match=rf"not enough to split .* the {part} part would be empty"
    ):
        validation_split(n_samples, split)
