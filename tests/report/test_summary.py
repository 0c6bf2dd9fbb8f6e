"""The summary table's numbers, against scipy's t-interval and hand-computed gaps."""

import numpy as np
import pytest
from scipy import stats

from reglab.study.summary import run_best_epoch, summarize_variants
from reglab.study.units import metric_units

ACCURACY = metric_units("accuracy")


def scipy_interval(values):
    values = np.asarray(values, dtype=float)
    return stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))


def by_variant(study, units=ACCURACY):
    return {s.variant: s for s in summarize_variants(study.runs, units)}


def test_test_metric_ci_matches_scipy_t_interval(tiny_study, finals):
    tests = [100 * test for _, test in finals["l2 0.01"]]
    summary = by_variant(tiny_study)["l2 0.01"]
    low, high = scipy_interval(tests)
    assert summary.test.mean == pytest.approx(np.mean(tests))
    assert (summary.test.low, summary.test.high) == pytest.approx((low, high))


def test_gap_is_train_minus_test_in_points_for_accuracy(tiny_study, finals):
    gaps = [100 * (train - test) for train, test in finals["baseline"]]
    summary = by_variant(tiny_study)["baseline"]
    assert summary.gap.mean == pytest.approx(np.mean(gaps))
    assert (summary.gap.low, summary.gap.high) == pytest.approx(scipy_interval(gaps))


def test_gap_is_test_minus_train_for_mae(kfold_study):
    # Lower is better for MAE: overfitting shows as a test error above the training one.
    summary = by_variant(kfold_study, metric_units("mae"))["baseline"]
    expected = np.mean([(2.5 + 0.2 * f) - (1.0 + 0.1 * f) for f in range(3)])
    assert summary.gap.mean == pytest.approx(expected)


def test_diverged_runs_are_counted_not_averaged(tiny_study):
    summary = by_variant(tiny_study)["l2 0.01"]
    assert (summary.runs, summary.done, summary.diverged) == (4, 3, 1)
    assert summary.test.n == 3


def test_best_test_metric_and_smallest_gap_are_marked(tiny_study):
    summaries = by_variant(tiny_study)
    assert summaries["l2 0.01"].best_test and not summaries["baseline"].best_test
    assert summaries["l2 0.01"].smallest_gap and not summaries["baseline"].smallest_gap


def test_lower_mae_is_marked_best(kfold_study):
    worse = [r.__class__(**{**r.__dict__, "variant": "worse", "test_metric": r.test_metric + 1})
             for r in kfold_study.runs]  # fmt: skip
    summaries = {
        s.variant: s for s in summarize_variants(kfold_study.runs + worse, metric_units("mae"))
    }
    assert summaries["baseline"].best_test and not summaries["worse"].best_test


def test_best_epoch_falls_back_to_lowest_validation_loss(tiny_study):
    # No early stopping in these runs: VAL_LOSS is lowest at epoch 5.
    assert run_best_epoch(tiny_study.runs[0]) == 5


def test_sparsity_is_the_mean_fraction_of_zero_weights(tiny_study):
    assert by_variant(tiny_study)["l2 0.01"].sparsity == pytest.approx(0.25)
