"""cross_validate: folds as one population, statistics from each fold's training part only."""

import numpy as np
import pytest
import torch

from reglab import cross_validate, mlp
from reglab.errors import ReglabError


def _regression(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, 3)) * [1, 10, 100] + [0, 5, -50]).astype(np.float32)
    return x, x @ np.array([1.0, 0.1, 0.01], dtype=np.float32)


def test_every_sample_is_validated_exactly_once_per_repeat():
    x, y = _regression()
    cv = cross_validate(mlp([4]), x, y, folds=4, repeats=2, epochs=1)
    assert len(cv.histories) == 8
    for repeat in range(2):
        rows = np.concatenate([f.validation for f in cv.folds if f.repeat == repeat])
        assert np.array_equal(np.sort(rows), np.arange(len(x)))
    for fold in cv.folds:
        assert not set(fold.train) & set(fold.validation)


def test_standardization_statistics_come_from_each_fold_training_rows_only():
    x, y = _regression()
    cv = cross_validate(mlp([4]), x, y, folds=3, epochs=1)
    for m, fold in enumerate(cv.folds):
        expected = x[fold.train].mean(0)
        torch.testing.assert_close(
            cv.model.input_mean[m, 0], torch.tensor(expected), rtol=1e-4, atol=1e-4
        )
        assert not np.allclose(expected, x[fold.validation].mean(0), rtol=1e-3)


def test_fold_curve_and_score_aggregate_every_fold():
    x, y = _regression()
    cv = cross_validate(mlp([4]), x, y, folds=4, epochs=3)
    band = cv.curve("val_mae")
    assert len(band.mean) == 3
    np.testing.assert_allclose(
        band.mean[-1], np.mean([h.rows[-1]["val_mae"] for h in cv.histories]), rtol=1e-6
    )
    assert cv.score("val_mae").n == 4


def test_cross_validate_refuses_arguments_the_folds_decide():
    x, y = _regression()
    with pytest.raises(ReglabError, match="`validation_split` of cross_validate"):
        cross_validate(mlp([4]), x, y, validation_split=0.2)
