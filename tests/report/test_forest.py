"""The forest plot: its rows are the verdicts' comparisons, checked against compare_means
and NumPy on the store's numbers; the figure draws them around a line at 0."""

import dataclasses
import re

import numpy as np
import pytest
from scipy import stats

from reglab.errors import ReglabError
from reglab.report import forest_plot, forest_rows, render_report
from reglab.report.verdict import variant_verdicts
from reglab.study.store import load_study
from reglab.study.summary import summarize_variants
from reglab.study.units import metric_units
from reglab.validate import compare_means


def rows_of(runs, metric="accuracy"):
    units = metric_units(metric)
    return forest_rows(variant_verdicts(runs, summarize_variants(runs, units), units))


def by_seed(runs, variant):
    done = sorted((r for r in runs if r.variant == variant and r.status == "done"),
                  key=lambda r: r.seed)  # fmt: skip
    return np.array([r.train_metric for r in done]), np.array([r.test_metric for r in done])


def test_rows_are_paired_comparisons_of_the_store_s_numbers(stored_tiny):
    _, study = stored_tiny
    (row,) = rows_of(study.runs)
    assert row.variant == "l2 0.01" and row.held_out_set == "test"
    train, test = by_seed(study.runs, "l2 0.01")
    base_train, base_test = by_seed(study.runs, "baseline")
    expected_test = compare_means(100 * test, 100 * base_test, paired=True)
    expected_gap = compare_means(100 * (train - test), 100 * (base_train - base_test),
                                 paired=True)  # fmt: skip
    for shown, expected in ((row.held_out, expected_test), (row.gap, expected_gap)):
        assert shown.test == "paired t-test"
        assert shown.difference == pytest.approx(expected.difference)
        assert shown.half_width == pytest.approx(expected.half_width)
        assert shown.p_value == pytest.approx(expected.p_value)
    # And by hand: the mean paired difference with its t interval.
    differences = 100 * (test - base_test)
    half = stats.t.ppf(0.975, 2) * differences.std(ddof=1) / np.sqrt(3)
    assert row.low[0] == pytest.approx(differences.mean() - half)
    assert row.high[0] == pytest.approx(differences.mean() + half)


def test_runs_on_other_seeds_are_compared_with_welch(tiny_study, store_of):
    shifted = [dataclasses.replace(r, seed=r.seed + 10) if r.variant == "l2 0.01" else r
               for r in tiny_study.runs]  # fmt: skip
    study = load_study(store_of(dataclasses.replace(tiny_study, runs=shifted)), "tiny")
    (row,) = rows_of(study.runs)
    _, test = by_seed(study.runs, "l2 0.01")
    _, base_test = by_seed(study.runs, "baseline")
    expected = compare_means(100 * test, 100 * base_test, paired=False)
    assert row.held_out.test == "Welch's t-test"
    assert row.held_out.half_width == pytest.approx(expected.half_width)


def test_a_variant_with_one_run_has_no_interval(tiny_study):
    runs = [r for r in tiny_study.runs if not (r.variant == "l2 0.01" and r.seed > 0)]
    (row,) = rows_of(runs)
    assert row.held_out is None and row.gap is None and row.low == (None, None)


def test_the_figure_has_a_row_per_variant_and_a_line_at_zero(tiny_study):
    more = [
        dataclasses.replace(r, variant="dropout 0.5", test_metric=r.test_metric + 0.03)
        for r in tiny_study.runs
        if r.variant == "l2 0.01" and r.status == "done"
    ]
    rows = rows_of(tiny_study.runs + more)
    fig = forest_plot(rows, baseline="baseline")
    score, gap = fig.axes
    assert [t.get_text() for t in score.get_yticklabels()] == ["l2 0.01", "dropout 0.5"]
    for axes in (score, gap):  # axvline(0): a line from x=0 to x=0
        assert any(list(line.get_xdata()) == [0, 0] for line in axes.get_lines())
    points = [line for line in score.get_lines() if line.get_marker() == "o"]
    assert sorted(p.get_xdata()[0] for p in points) == pytest.approx(
        sorted(r.held_out.difference for r in rows)
    )
    assert score.get_title() == "test accuracy (higher is better)"
    assert score.get_xlabel() == "variant − baseline (points)"


def test_the_figure_needs_a_row():
    with pytest.raises(ReglabError, match=r"expected at least one variant compared with the "
                                          r"baseline\. Received: no rows"):  # fmt: skip
        forest_plot([], baseline="baseline")


def test_the_report_opens_with_the_forest_plot(tiny_study):
    html = render_report(tiny_study)
    assert re.search(r'<img id="figure-forest" src="data:image/png;base64,', html)
    assert html.index('id="figure-forest"') < html.index('id="summary-table"')


def test_a_study_of_one_variant_has_no_forest_plot(kfold_study):
    assert "figure-forest" not in render_report(kfold_study)
