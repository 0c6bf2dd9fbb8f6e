"""The strength curve of one swept key: metric and gap against the strength.

scikit-learn's validation-curve figure, for a study's sweep: on the left the validation
(dashed) and test (solid) metric of each swept value, on the right the train-test gap,
each the mean with its 95% band over the value's runs. A log x-axis where the values
span decades (:func:`reglab.report.strength.log_axis`), and the baseline, where the
study has one, as grey reference lines: a strength is worth it where the test line
clears the baseline's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reglab.errors import ReglabError
from reglab.report.figures._text import plain
from reglab.report.strength import StrengthCurve, log_axis
from reglab.study.summary import VariantSummary
from reglab.study.units import metric_units
from reglab.validate import MeanCI

__all__ = ["strength_curve"]

_BASELINE = "0.45"  # grey: a reference, not a curve


def strength_curve(
    curves: Sequence[StrengthCurve],
    *,
    metric: str = "accuracy",
    baseline: VariantSummary | None = None,
    gap_against: str = "test",
) -> Figure:
    """Plot the validation and test metric and the gap of the sweeps of one key.

    Parameters
    ----------
    curves : sequence of StrengthCurve
        The curves of one swept key (:func:`reglab.report.strength.strength_curves`),
        one line per sweep.
    metric : {"accuracy", "mae"}, default "accuracy"
        The study's metric (labels and units).
    baseline : VariantSummary, optional
        Drawn as horizontal reference lines (validation dashed, test solid, gap).
    gap_against : {"test", "validation"}, default "test"
        What the gap compares the training metric with (its axis label).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: metric (validation and test lines per sweep) and gap; x log-scaled
        where the values span decades.

    Raises
    ------
    ReglabError
        If ``curves`` is empty or holds curves of several keys.

    Examples
    --------
    >>> from reglab.validate import mean_ci
    >>> ci = [mean_ci([90.0, 91.0]), mean_ci([92.0, 92.5]), mean_ci([88.0, 89.0])]
    >>> curve = StrengthCurve("penalty.l2", "l2", (1e-5, 1e-4, 1e-3), ("a", "b", "c"),
    ...                       tuple(ci), tuple(ci), tuple(ci))
    >>> fig = strength_curve([curve])
    >>> fig.axes[0].get_xscale(), [line.get_label() for line in fig.axes[0].get_lines()]
    ('log', ['l2 validation', 'l2 test'])
    """
    if not curves or len({c.key for c in curves}) != 1:
        keys = sorted({c.key for c in curves})
        raise ReglabError(
            "Invalid value for `curves` of strength_curve: expected the curves of one swept "
            f"key. Received: {len(curves)} curves of keys {keys}."
        )
    units = metric_units(metric)
    label = units.label + (" (%)" if units.scale == 100 else "")
    key = curves[0].key
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    score, gap = fig.subplots(1, 2, sharex=True)
    for i, curve in enumerate(curves):
        color = f"C{i % 10}"
        name = plain(curve.sweep)
        _line(score, curve.values, curve.validation, color, "--", "white", f"{name} validation")
        _line(score, curve.values, curve.test, color, "-", color, f"{name} test")
        _line(gap, curve.values, curve.gap, color, "-", color, name)
    if baseline is not None:
        base = plain(baseline.variant)
        for axes, ci, style, what in ((score, baseline.validation, ":", "validation"),
                                      (score, baseline.test, "-", "test"),
                                      (gap, baseline.gap, "-", "gap")):  # fmt: skip
            if ci is not None:
                axes.axhline(ci.mean, color=_BASELINE, linestyle=style, linewidth=1,
                             label=f"{base} {what}")  # fmt: skip
    values = [v for c in curves for v in c.values]
    for axes in (score, gap):
        if log_axis(values):
            axes.set_xscale("log")
        axes.set_xlabel(plain(key))
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    score.set_ylabel(label)
    score.set_title(f"validation and test {units.label} against {plain(key)}")
    unit = f" ({units.unit.strip()})" if units.unit else ""
    gap.set_ylabel(f"gap{unit}")
    gap.set_title(f"train − {gap_against} gap (positive: overfitting)")
    return fig


def _line(axes: Axes, values, cis: Sequence[MeanCI | None], color, style, face, label) -> None:
    """Mean with its 95% band; values without a number are skipped, not drawn as 0."""
    kept = [(v, ci) for v, ci in zip(values, cis) if ci is not None]
    if not kept:
        return
    x = np.array([v for v, _ in kept])
    mean = np.array([ci.mean for _, ci in kept])
    half = np.array([ci.half_width if math.isfinite(ci.half_width) else 0.0 for _, ci in kept])
    axes.plot(x, mean, color=color, linestyle=style, marker="o", markerfacecolor=face,
              label=label)  # fmt: skip
    axes.fill_between(x, mean - half, mean + half, color=color, alpha=0.12, linewidth=0)
