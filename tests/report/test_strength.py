"""Strength curves: the numbers of each swept value, recomputed from the store with NumPy,
and the figure's axes (log where the values span decades, the baseline's lines)."""

import re

import numpy as np
import pytest
from scipy import stats

from reglab.errors import ReglabError
from reglab.report import render_report, strength_curve, strength_curves
from reglab.report.strength import log_axis, strength_baseline
from reglab.study.records import StudyRecord
from reglab.study.store import load_study
from reglab.study.summary import summarize_variants
from reglab.study.units import metric_units

from .conftest import run

# variant -> (sweep, key, value, per seed (train, test)); listed out of value order.
SWEPT = {
    "baseline": (None, None, None, [(1.0, 0.90), (0.99, 0.91), (0.995, 0.905)]),
    "l2=0.001": ("l2", "penalty.l2", 1e-3, [(0.93, 0.925), (0.94, 0.92), (0.935, 0.93)]),
    "l2=1e-5": ("l2", "penalty.l2", 1e-5, [(0.99, 0.91), (1.0, 0.905), (0.985, 0.9)]),
    "l2=0.0001": ("l2", "penalty.l2", 1e-4, [(0.97, 0.915), (0.96, 0.92), (0.975, 0.91)]),
    "drop=0.5": ("drop", "dropout", 0.5, [(0.95, 0.92), (0.96, 0.915), (0.94, 0.925)]),
    "drop=0.1": ("drop", "dropout", 0.1, [(0.99, 0.9), (0.98, 0.91), (0.99, 0.905)]),
}


def swept_study() -> StudyRecord:
    runs = [run(variant, seed, train, test)
            for variant, (*_, finals) in SWEPT.items()
            for seed, (train, test) in enumerate(finals)]  # fmt: skip
    sweeps = {v: {"sweep": s, "key": k, "value": x}
              for v, (s, k, x, _) in SWEPT.items() if s is not None}  # fmt: skip
    spec = {"name": "sweep", "dataset": "digits", "validation": {"split": 0.2, "folds": None},
            "variants": {v: {} for v in SWEPT}, "sweeps": sweeps}  # fmt: skip
    return StudyRecord("sweep", spec, "2026-01-01", "digits", "cpu", "0.1.0", "2.4.0", runs)


def numpy_ci(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(half)


@pytest.fixture
def stored(store_of):
    return load_study(store_of(swept_study()), "sweep")


def test_each_swept_value_has_the_store_s_numbers_recomputed_with_numpy(stored):
    units = metric_units("accuracy")
    curves = strength_curves(summarize_variants(stored.runs, units), stored.spec["sweeps"])
    assert list(curves) == ["penalty.l2", "dropout"]  # in the order the sweeps appear
    (l2,) = curves["penalty.l2"]
    assert l2.sweep == "l2" and l2.values == (1e-5, 1e-4, 1e-3)
    assert l2.variants == ("l2=1e-5", "l2=0.0001", "l2=0.001")
    for variant, validation, test, gap in zip(l2.variants, l2.validation, l2.test, l2.gap):
        runs = [r for r in stored.runs if r.variant == variant]
        train_m = np.array([r.train_metric for r in runs])
        test_m = np.array([r.test_metric for r in runs])
        val_m = np.array([r.val_metric for r in runs])
        for shown, expected in ((test, 100 * test_m), (validation, 100 * val_m),
                                (gap, 100 * (train_m - test_m))):  # fmt: skip
            mean, half = numpy_ci(expected)
            assert shown.mean == pytest.approx(mean) and shown.half_width == pytest.approx(half)
    (dropout,) = curves["dropout"]
    assert dropout.values == (0.1, 0.5) and dropout.variants == ("drop=0.1", "drop=0.5")


def test_variants_without_runs_are_left_out(stored):
    units = metric_units("accuracy")
    runs = [r for r in stored.runs if r.variant != "l2=0.0001"]
    curves = strength_curves(summarize_variants(runs, units), stored.spec["sweeps"])
    assert curves["penalty.l2"][0].values == (1e-5, 1e-3)


def test_the_baseline_is_the_reference_unless_it_is_swept(stored):
    summaries = summarize_variants(stored.runs, metric_units("accuracy"))
    assert strength_baseline(summaries, stored.spec["sweeps"]).variant == "baseline"
    swept_only = [s for s in summaries if s.variant != "baseline"]
    assert strength_baseline(swept_only, stored.spec["sweeps"]) is None


def test_a_log_axis_where_values_span_two_decades():
    assert log_axis([1e-5, 1e-4, 1e-3]) and log_axis([1.0, 100.0])
    assert not log_axis([1.0, 99.0]) and not log_axis([0.1, 0.3, 0.5])
    assert not log_axis([0.0, 1.0, 100.0]) and not log_axis([-1.0, 200.0])


def test_the_figure_draws_validation_test_gap_and_the_baseline(stored):
    units = metric_units("accuracy")
    summaries = summarize_variants(stored.runs, units)
    curves = strength_curves(summaries, stored.spec["sweeps"])
    base = strength_baseline(summaries, stored.spec["sweeps"])
    fig = strength_curve(curves["penalty.l2"], baseline=base)
    score, gap = fig.axes
    assert score.get_xscale() == "log" and gap.get_xscale() == "log"
    lines = {line.get_label(): line for line in score.get_lines()}
    assert list(lines) == ["l2 validation", "l2 test", "baseline validation", "baseline test"]
    assert list(lines["l2 test"].get_xdata()) == [1e-5, 1e-4, 1e-3]
    assert list(lines["l2 test"].get_ydata()) == [ci.mean for ci in curves["penalty.l2"][0].test]
    assert lines["baseline test"].get_ydata()[0] == pytest.approx(base.test.mean)
    assert [line.get_label() for line in gap.get_lines()] == ["l2", "baseline gap"]
    assert strength_curve(curves["dropout"]).axes[0].get_xscale() == "linear"


def test_the_figure_takes_the_curves_of_one_key(stored):
    summaries = summarize_variants(stored.runs, metric_units("accuracy"))
    curves = strength_curves(summaries, stored.spec["sweeps"])
    with pytest.raises(
        ReglabError,
        match=r"expected the curves of one swept key\. Received: "
        r"2 curves of keys \['dropout', 'penalty\.l2'\]",
    ):
        strength_curve([curves["dropout"][0], curves["penalty.l2"][0]])
    with pytest.raises(ReglabError, match=r"Received: 0 curves"):
        strength_curve([])


def images(html: str) -> list[tuple[str, str]]:
    """(id, data-key) of every inlined PNG, in document order."""
    return re.findall(r'<img id="(figure-[^"]+)"(?: data-key="([^"]*)")? '
                      r'src="data:image/png;base64,', html)  # fmt: skip


def test_the_report_shows_one_strength_curve_per_swept_key(stored):
    shown = images(render_report(stored))
    assert [s for s in shown if s[0].startswith("figure-strength")] == [
        ("figure-strength-1", "penalty.l2"), ("figure-strength-2", "dropout"),
    ]  # fmt: skip


def test_a_study_without_sweeps_has_no_strength_section(tiny_study):
    html = render_report(tiny_study)
    assert 'id="strength"' not in html and "figure-strength" not in html


def test_the_header_leaves_the_sweep_records_to_their_section(stored):
    html = render_report(stored)
    header = html[html.index('<dl class="meta"') : html.index("</dl>")]
    assert "Sweeps" not in header and "penalty.l2" not in header
