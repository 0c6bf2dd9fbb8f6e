"""Summaries over runs: smoothed curves, mean curves with bands, means with CIs, comparisons.

A study trains every variant over several seeds and folds; the report states each result
as a mean with a 95% confidence interval and each verdict with a test ("narrowed the gap
from 4.1 ± 0.3 to 1.2 ± 0.2 points (Welch's t-test, p=0.03)"). The intervals use
Student's t distribution because a study has few runs (3 to 10 seeds), where the normal
approximation's 1.96 would make the intervals too narrow. scipy.stats does the statistics.

Missing values: :func:`mean_ci` and :func:`compare_means` refuse NaN, because a NaN there
is a diverged run and silently dropping it would overstate the variant; the caller
decides (and says) what to do with diverged runs. :func:`mean_curve` draws curves, where
a non-finite point simply counts as "this run has no value at this epoch".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from reglab.errors import ReglabError, check_number

__all__ = [
    "Comparison",
    "CurveBand",
    "MeanCI",
    "compare_means",
    "mean_ci",
    "mean_curve",
    "smooth_curve",
]


@dataclass(frozen=True)
class MeanCI:
    """A mean with its t confidence interval ``mean ± half_width = [low, high]``.

    Examples
    --------
    >>> str(MeanCI(mean=4.1, half_width=0.3, low=3.8, high=4.4, n=5))
    '4.1 ± 0.3'
    """

    mean: float
    half_width: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3g} ± {self.half_width:.2g}"


@dataclass(frozen=True, eq=False)
class CurveBand:
    """A mean curve with its per-epoch band; ``count[e]`` runs reached epoch ``e + 1``."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """The difference ``mean(a) - mean(b)`` with its CI half width and a t-test."""

    difference: float
    half_width: float
    p_value: float
    test: str
    significant: bool


def smooth_curve(points: Sequence[float], factor: float = 0.9) -> np.ndarray:
    """Exponential moving average: ``smoothed = previous * factor + point * (1 - factor)``.

    The first point is kept as it is (the smoothing of Chollet's ``smooth_curve``), so
    the curve starts where the data starts instead of at 0.

    Parameters
    ----------
    points : sequence of float
        The curve, one value per epoch.
    factor : float, default 0.9
        Weight of the past, in [0, 1); 0 leaves the curve unchanged.

    Returns
    -------
    numpy.ndarray of float64
        The smoothed curve, same length. A NaN propagates to every later point.

    Raises
    ------
    ReglabError
        If ``factor`` is outside [0, 1) or ``points`` is not one-dimensional.

    Examples
    --------
    >>> smooth_curve([1.0, 0.0, 0.0], factor=0.5).tolist()
    [1.0, 0.5, 0.25]
    """
    factor = check_number("factor", factor, owner="smooth_curve", low=0.0, high=1.0, high_open=True)
    values = _as_1d("points", points, owner="smooth_curve")
    smoothed = np.empty_like(values)
    for i, point in enumerate(values):
        smoothed[i] = point if i == 0 else smoothed[i - 1] * factor + point * (1.0 - factor)
    return smoothed


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> MeanCI:
    """Mean of ``values`` with a two-sided Student-t confidence interval.

    ``half_width = t.ppf((1 + confidence) / 2, n - 1) * s / sqrt(n)`` with ``s`` the
    sample standard deviation (``ddof=1``).

    Parameters
    ----------
    values : sequence of float
        One value per run (seed or fold); NaN is refused (see the module notes).
    confidence : float, default 0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    MeanCI
        With one value, ``half_width``, ``low`` and ``high`` are NaN: one run says
        nothing about the spread between runs.

    Raises
    ------
    ReglabError
        If ``values`` is empty or holds NaN or infinities, or ``confidence`` is not in (0, 1).

    Examples
    --------
    >>> ci = mean_ci([1.0, 2.0, 3.0])
    >>> round(ci.mean, 3), round(ci.half_width, 3)
    (2.0, 2.484)
    """
    confidence = _check_confidence(confidence, owner="mean_ci")
    x = _finite_sample("values", values, owner="mean_ci")
    n = len(x)
    mean = float(x.mean())
    if n == 1:
        return MeanCI(mean=mean, half_width=math.nan, low=math.nan, high=math.nan, n=1)
    sem = float(x.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf((1.0 + confidence) / 2.0, n - 1)) * sem
    return MeanCI(mean=mean, half_width=half, low=mean - half, high=mean + half, n=n)


def mean_curve(curves: Sequence[Sequence[float]], confidence: float = 0.95) -> CurveBand:
    """Per-epoch mean of several runs' curves, with a t-interval band.

    Runs may have different lengths (early-stopped runs are shorter): at each epoch the
    mean is taken over the runs that reached it, and ``count`` says how many did. A
    non-finite point (a diverged run's last epoch) counts as not reached. Where two or
    more runs reach an epoch the band is the :func:`mean_ci` interval; where one does,
    the band collapses onto its value; where none does, everything is NaN.

    Parameters
    ----------
    curves : sequence of sequences of float
        One curve per run, epoch 1 first.
    confidence : float, default 0.95
        Coverage of the band, in (0, 1).

    Returns
    -------
    CurveBand
        Arrays as long as the longest curve.

    Raises
    ------
    ReglabError
        If ``curves`` is empty or a curve is not one-dimensional.

    Examples
    --------
    >>> band = mean_curve([[1.0, 2.0, 3.0], [3.0, 4.0]])
    >>> band.mean.tolist(), band.count.tolist()
    ([2.0, 3.0, 3.0], [2, 2, 1])
    """
    confidence = _check_confidence(confidence, owner="mean_curve")
    runs = [_as_1d("curves", curve, owner="mean_curve") for curve in curves]
    if not runs:
        raise ReglabError("Invalid value for `curves` of mean_curve: expected at least one curve.")
    length = max(len(run) for run in runs)
    table = np.full((len(runs), length), np.nan)
    for i, run in enumerate(runs):
        table[i, : len(run)] = run
    table[~np.isfinite(table)] = np.nan
    count = np.sum(~np.isnan(table), axis=0)
    mean, low, high = (np.full(length, np.nan) for _ in range(3))
    for epoch in range(length):
        reached = table[~np.isnan(table[:, epoch]), epoch]
        if len(reached) == 0:
            continue
        ci = mean_ci(reached, confidence)
        mean[epoch] = ci.mean
        low[epoch], high[epoch] = (ci.low, ci.high) if ci.n > 1 else (ci.mean, ci.mean)
    return CurveBand(mean=mean, low=low, high=high, count=count)


def compare_means(
    a: Sequence[float], b: Sequence[float], paired: bool = False, confidence: float = 0.95
) -> Comparison:
    """Compare two variants' results: ``mean(a) - mean(b)``, its CI and a t-test.

    Unpaired, Welch's t-test (``scipy.stats.ttest_ind(equal_var=False)``), which does not
    assume equal variances. Paired (``paired=True``, when ``a[i]`` and ``b[i]`` come from
    the same seed or fold), the t-test on the differences (``scipy.stats.ttest_rel``),
    which removes the seed-to-seed variation the two share.

    Parameters
    ----------
    a, b : sequence of float
        One value per run, at least two each; NaN is refused.
    paired : bool, default False
        Pair ``a[i]`` with ``b[i]``; they must have the same length.
    confidence : float, default 0.95
        Coverage of the difference's interval; ``significant`` means
        ``p_value < 1 - confidence``.

    Returns
    -------
    Comparison
        ``test`` is ``"Welch's t-test"`` or ``"paired t-test"``. When neither sample
        varies, the difference is exact: ``half_width`` 0, ``p_value`` 0 if the means
        differ and 1 if not.

    Raises
    ------
    ReglabError
        If a sample has fewer than two values or holds NaN, or paired samples differ
        in length.

    Examples
    --------
    >>> c = compare_means([4.0, 4.2, 3.9, 4.1], [1.1, 1.3, 1.2, 1.0])
    >>> round(c.difference, 2), c.test, c.significant
    (2.9, "Welch's t-test", True)
    """
    confidence = _check_confidence(confidence, owner="compare_means")
    x = _finite_sample("a", a, owner="compare_means")
    y = _finite_sample("b", b, owner="compare_means")
    for name, sample in (("a", x), ("b", y)):
        if len(sample) < 2:
            raise ReglabError(
                f"Invalid value for `{name}` of compare_means: expected at least two values "
                f"(runs) to estimate their spread. Received {len(sample)}."
            )
    if paired and len(x) != len(y):
        raise ReglabError(
            "Invalid arguments of compare_means: paired=True needs one value of `b` per "
            f"value of `a`. Received {len(x)} and {len(y)} values."
        )
    test = "paired t-test" if paired else "Welch's t-test"
    difference = float(np.mean(x - y) if paired else x.mean() - y.mean())
    spread = np.ptp(x - y) if paired else max(np.ptp(x), np.ptp(y))
    if spread == 0:
        # t is 0/0 or d/0 here; scipy answers NaN with a warning. The answer is exact.
        p = 1.0 if difference == 0 else 0.0
        return Comparison(difference, 0.0, p, test, significant=p < 1.0 - confidence)
    result = stats.ttest_rel(x, y) if paired else stats.ttest_ind(x, y, equal_var=False)
    interval = result.confidence_interval(confidence_level=confidence)
    half = float(interval.high - interval.low) / 2.0
    p = float(result.pvalue)
    return Comparison(difference, half, p, test, significant=p < 1.0 - confidence)


def _check_confidence(confidence: float, *, owner: str) -> float:
    return check_number(
        "confidence", confidence, owner=owner, low=0.0, high=1.0, low_open=True, high_open=True
    )


def _as_1d(name: str, values, *, owner: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ReglabError(
            f"Invalid value for `{name}` of {owner}: expected a one-dimensional sequence of "
            f"numbers. Received an array of shape {array.shape}."
        )
    return array


def _finite_sample(name: str, values, *, owner: str) -> np.ndarray:
    x = _as_1d(name, values, owner=owner)
    if len(x) == 0:
        raise ReglabError(f"Invalid value for `{name}` of {owner}: expected at least one value.")
    if not np.all(np.isfinite(x)):
        raise ReglabError(
            f"Invalid value for `{name}` of {owner}: expected finite numbers; "
            f"{int(np.sum(~np.isfinite(x)))} of {len(x)} are NaN or infinite (diverged "
            "runs?). Drop them first and report how many there were."
        )
    return x
