"""Verdict sentences: numbers from scipy's tests, direction words from the metric."""

import dataclasses

import numpy as np
import pytest
from scipy import stats

from reglab.report.verdict import baseline_variant, variant_verdicts
from reglab.study.summary import summarize_variants
from reglab.study.units import metric_units


def verdicts(runs, metric="accuracy"):
    units = metric_units(metric)
    return {v.variant: v for v in variant_verdicts(runs, summarize_variants(runs, units), units)}


def test_same_seeds_are_compared_with_a_paired_t_test(tiny_study, finals):
    verdict = verdicts(tiny_study.runs)["l2 0.01"]
    a = [100 * t for _, t in finals["l2 0.01"]]
    b = [100 * t for _, t in finals["baseline"]]
    assert verdict.test.test == "paired t-test"
    assert verdict.test.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert verdict.test.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert "paired t-test" in verdict.text


def test_different_seeds_are_compared_with_welchs_t_test(tiny_study, finals):
    shifted = [dataclasses.replace(r, seed=r.seed + 10) if r.variant == "l2 0.01" else r
               for r in tiny_study.runs]  # fmt: skip
    verdict = verdicts(shifted)["l2 0.01"]
    a = [100 * t for _, t in finals["l2 0.01"]]
    b = [100 * t for _, t in finals["baseline"]]
    assert verdict.test.test == "Welch's t-test"
    assert verdict.test.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)


def test_verdict_says_the_gap_narrowed_in_points(tiny_study):
    text = verdicts(tiny_study.runs)["l2 0.01"].text
    assert text.startswith("narrowed the train-test gap from 9.00 ± ")
    assert "points" in text and "1 of 4 runs diverged" in text.lower()


def test_higher_accuracy_significant_is_an_improvement(tiny_study):
    better = [dataclasses.replace(r, test_metric=r.test_metric + 0.05 + 0.001 * r.seed)
              if r.variant == "l2 0.01" and r.status == "done" else r
              for r in tiny_study.runs]  # fmt: skip
    verdict = verdicts(better)["l2 0.01"]
    assert verdict.test.significant
    assert "improved test accuracy by +" in verdict.text


def test_higher_mae_significant_is_worse(kfold_study):
    worse = [dataclasses.replace(r, variant="noisy", test_metric=r.test_metric + 1 + 0.01 * r.fold)
             for r in kfold_study.runs]  # fmt: skip
    verdict = verdicts(kfold_study.runs + worse, metric="mae")["noisy"]
    assert verdict.test.significant
    assert "worsened test MAE by +1.0" in verdict.text
    assert "points" not in verdict.text  # MAE is in the targets' units


def test_single_runs_get_no_test(tiny_study):
    one_each = [r for r in tiny_study.runs if r.seed == 0]
    verdict = verdicts(one_each)["l2 0.01"]
    assert verdict.test is None
    assert "no test possible" in verdict.text


def test_baseline_is_the_variant_named_baseline_else_the_first():
    assert baseline_variant(["a", "baseline"]) == "baseline"
    assert baseline_variant(["a", "b"]) == "a"
