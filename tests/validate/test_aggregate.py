"""Curves, means with CIs and comparisons, checked against scipy and hand-computed values."""

import math

import numpy as np
import pytest
from scipy import stats

from reglab.errors import ReglabError
from reglab.validate import compare_means, mean_ci, mean_curve, smooth_curve


def reference_smooth(points, factor):
    """Chollet's smooth_curve, as written in Deep Learning with Python."""
    smoothed = []
    for point in points:
        if smoothed:
            previous = smoothed[-1]
            smoothed.append(previous * factor + point * (1 - factor))
        else:
            smoothed.append(point)
    return smoothed


def test_smooth_curve_matches_the_hand_written_loop():
    points = np.random.default_rng(0).normal(size=50)
    np.testing.assert_allclose(smooth_curve(points, 0.8), reference_smooth(points, 0.8))


def test_smooth_curve_three_points_by_hand():
    # 2; 2*0.9 + 4*0.1 = 2.2; 2.2*0.9 + 1*0.1 = 2.08
    np.testing.assert_allclose(smooth_curve([2.0, 4.0, 1.0]), [2.0, 2.2, 2.08])


def test_smooth_curve_with_factor_zero_is_the_identity():
    assert smooth_curve([3.0, 1.0, 2.0], factor=0.0).tolist() == [3.0, 1.0, 2.0]


@pytest.mark.parametrize("factor", [1.0, -0.1])
def test_smooth_curve_refuses_a_factor_outside_zero_one(factor):
    with pytest.raises(
        ReglabError, match=r"`factor` of smooth_curve: expected a float in \[0, 1\)"
    ):
        smooth_curve([1.0, 2.0], factor=factor)


def test_smooth_curve_refuses_a_table():
    with pytest.raises(ReglabError, match=r"one-dimensional .* shape \(2, 2\)"):
        smooth_curve([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_mean_ci_matches_scipy_t_interval(confidence):
    values = [0.81, 0.84, 0.79, 0.86, 0.83]
    ci = mean_ci(values, confidence)
    low, high = stats.t.interval(confidence, len(values) - 1, np.mean(values), stats.sem(values))
    assert ci.mean == pytest.approx(np.mean(values))
    assert (ci.low, ci.high) == (pytest.approx(low), pytest.approx(high))
    assert ci.half_width == pytest.approx((high - low) / 2)
    assert ci.n == 5


def test_mean_ci_of_one_value_has_no_interval():
    ci = mean_ci([0.7])
    assert ci.mean == 0.7 and ci.n == 1
    assert math.isnan(ci.half_width) and math.isnan(ci.low) and math.isnan(ci.high)


def test_mean_ci_of_equal_values_has_zero_width():
    assert mean_ci([2.0, 2.0, 2.0]).half_width == 0.0


def test_mean_ci_refuses_nan():
    with pytest.raises(ReglabError, match=r"`values` of mean_ci: expected finite numbers; 1 of 3"):
        mean_ci([1.0, float("nan"), 2.0])


def test_mean_ci_refuses_no_values():
    with pytest.raises(ReglabError, match=r"`values` of mean_ci: expected at least one value"):
        mean_ci([])


@pytest.mark.parametrize("confidence", [0.0, 1.0])
def test_mean_ci_refuses_confidence_outside_open_unit_interval(confidence):
    with pytest.raises(ReglabError, match=r"`confidence` of mean_ci: expected a float in \(0, 1\)"):
        mean_ci([1.0, 2.0], confidence)


def test_mean_curve_averages_the_runs_that_reached_each_epoch():
    curves = [[1.0, 2.0, 3.0, 4.0], [3.0, 4.0], [2.0, 6.0, 5.0]]
    band = mean_curve(curves)
    assert band.count.tolist() == [3, 3, 2, 1]
    np.testing.assert_allclose(band.mean, [2.0, 4.0, 4.0, 4.0])


def test_mean_curve_band_is_the_t_interval_where_two_runs_or_more():
    curves = [[1.0, 2.0, 3.0, 4.0], [3.0, 4.0], [2.0, 6.0, 5.0]]
    band = mean_curve(curves)
    for epoch, reached in enumerate([[1.0, 3.0, 2.0], [2.0, 4.0, 6.0], [3.0, 5.0]]):
        low, high = stats.t.interval(0.95, len(reached) - 1, np.mean(reached), stats.sem(reached))
        assert (band.low[epoch], band.high[epoch]) == (pytest.approx(low), pytest.approx(high))


def test_mean_curve_band_collapses_where_one_run():
    band = mean_curve([[1.0, 2.0, 3.0, 4.0], [3.0, 4.0]])
    assert band.low[3] == band.high[3] == band.mean[3] == 4.0


def test_mean_curve_treats_a_diverged_point_as_not_reached():
    band = mean_curve([[1.0, 2.0], [3.0, float("nan")]])
    assert band.count.tolist() == [2, 1] and band.mean.tolist() == [2.0, 2.0]


def test_mean_curve_refuses_no_curves():
    with pytest.raises(ReglabError, match=r"`curves` of mean_curve: expected at least one curve"):
        mean_curve([])


def test_welch_comparison_matches_scipy():
    a = [0.91, 0.93, 0.90, 0.94, 0.92]
    b = [0.88, 0.91, 0.85, 0.90]
    c = compare_means(a, b)
    reference = stats.ttest_ind(a, b, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert c.test == "Welch's t-test"
    assert c.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert c.p_value == pytest.approx(reference.pvalue)
    assert c.half_width == pytest.approx((interval.high - interval.low) / 2)


def test_welch_half_width_uses_welch_satterthwaite_degrees_of_freedom():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.5, 0.2, 0.4, 0.1])
    va, vb = a.var(ddof=1) / 3, b.var(ddof=1) / 5
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 4)
    expected = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert compare_means(a, b).half_width == pytest.approx(expected)


def test_paired_comparison_matches_scipy_ttest_rel():
    a = [0.80, 0.85, 0.78, 0.90]
    b = [0.79, 0.83, 0.78, 0.87]
    c = compare_means(a, b, paired=True)
    assert c.test == "paired t-test"
    assert c.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    diffs = np.subtract(a, b)
    assert c.half_width == pytest.approx(mean_ci(diffs).half_width)


def test_clearly_different_means_are_significant():
    c = compare_means([4.1, 4.3, 3.9, 4.0, 4.2], [1.2, 1.0, 1.4, 1.1, 1.3])
    assert c.significant and c.p_value < 1e-6


def test_overlapping_means_are_not_significant():
    c = compare_means([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 2.0, 3.5])
    assert not c.significant and c.p_value > 0.5


def test_pairing_detects_a_consistent_small_gain_that_welch_misses():
    # Seeds move both variants together; the paired test sees the constant +0.01.
    a = np.array([0.70, 0.80, 0.90, 0.75]) + 0.01 + np.array([0.001, -0.001, 0.0, 0.0005])
    b = np.array([0.70, 0.80, 0.90, 0.75])
    assert compare_means(a, b, paired=True).significant
    assert not compare_means(a, b).significant


def test_comparison_of_constant_samples_is_exact():
    c = compare_means([1.0, 1.0], [0.5, 0.5])
    assert (c.difference, c.half_width, c.p_value, c.significant) == (0.5, 0.0, 0.0, True)
    same = compare_means([1.0, 1.0], [1.0, 1.0])
    assert (same.p_value, same.significant) == (1.0, False)


def test_comparison_refuses_a_single_run():
    with pytest.raises(ReglabError, match=r"`b` of compare_means: expected at least two values"):
        compare_means([1.0, 2.0], [1.0])


def test_paired_comparison_refuses_unequal_lengths():
    with pytest.raises(ReglabError, match=r"paired=True needs one value of `b` per value of `a`"):
        compare_means([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)


def test_comparison_refuses_nan():
    with pytest.raises(ReglabError, match=r"`a` of compare_means: expected finite numbers"):
        compare_means([1.0, float("nan")], [1.0, 2.0])
