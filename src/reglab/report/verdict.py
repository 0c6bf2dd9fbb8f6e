"""Plain-language verdicts: what each variant did against the baseline, from the numbers.

A verdict names both effects a reader asks about (the train-test gap and the test
metric), gives each difference with its 95% interval, and names the test behind the
"significant": a sentence such as "narrowed the gap" is only as good as the statistics
under it, so they are never left implicit.

Runs are paired (paired t-test) when the variant and the baseline ran on exactly the
same (seed, fold, repeat) keys: the same seed gives the same initial weights and the
same folds, so pairing removes the seed-to-seed variation both share. Otherwise the
samples are independent and Welch's t-test is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reglab.study.summary import VariantSummary, finished_runs, held_out_metric
from reglab.study.units import MetricUnits, group_by_variant
from reglab.validate import Comparison, compare_means

__all__ = ["Verdict", "baseline_variant", "variant_verdicts"]


@dataclass(frozen=True)
class Verdict:
    """The verdict on one variant against the baseline.

    Attributes
    ----------
    variant : str
    text : str
        The sentence, without the variant's name (the report shows it beside it).
    gap, test : Comparison or None
        ``variant - baseline`` for the gap and the test metric, in shown units; None
        when either side has fewer than two finished runs.
    held_out_set : str
        ``"test"``, or ``"validation"`` where a side did not score the test set: the
        set ``test`` (and the gap's second term) was measured on.
    """

    variant: str
    text: str
    gap: Comparison | None
    test: Comparison | None
    held_out_set: str = "test"


def baseline_variant(variants: Sequence[str]) -> str:
    """The variant the others are compared with: the one named "baseline", else the first.

    Examples
    --------
    >>> baseline_variant(["l2", "baseline"]), baseline_variant(["l2", "l1"])
    ('baseline', 'l2')
    """
    return "baseline" if "baseline" in variants else variants[0]


def variant_verdicts(
    runs: Sequence, summaries: Sequence[VariantSummary], units: MetricUnits
) -> list[Verdict]:
    """One verdict per non-baseline variant.

    Parameters
    ----------
    runs : sequence of RunRecord
        The study's runs.
    summaries : sequence of VariantSummary
        From :func:`~reglab.study.summary.summarize_variants` on the same runs.
    units : MetricUnits
        The study's metric presentation (direction words depend on it).

    Returns
    -------
    list of Verdict

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> from reglab.study.summary import summarize_variants
    >>> from reglab.study.units import metric_units
    >>> runs = [R(variant=v, seed=s, fold=0, repeat=0, status="done", train_metric=tr,
    ...           test_metric=te, best_epoch=1, stopped_epoch=0, sparsity=0.0, history=[])
    ...         for v, s, tr, te in [("baseline", 0, 1.0, 0.90), ("baseline", 1, 1.0, 0.92),
    ...                              ("l2", 0, 0.95, 0.93), ("l2", 1, 0.94, 0.94)]]
    >>> units = metric_units("accuracy")
    >>> print(variant_verdicts(runs, summarize_variants(runs, units), units)[0].text)
    narrowed the train-test gap from 9.00 ± 12.71 to 1.00 ± 12.71 points (significant,
    paired t-test p<0.001) and changed test accuracy by +2.50 ± 6.35 points (not
    significant, paired t-test p=0.13).
    """
    by_name = {s.variant: s for s in summaries}
    groups = {v: finished_runs(g) for v, g in group_by_variant(runs).items()}
    base = baseline_variant(list(by_name))
    verdicts = []
    for name, summary in by_name.items():
        if name == base:
            continue
        verdicts.append(_verdict(summary, by_name[base], groups[name], groups[base], units))
    return verdicts


def _verdict(summary, base, runs, base_runs, units) -> Verdict:
    """Compares the test metric where both sides scored the test set, else validation."""
    if summary.held_out is None or base.held_out is None:
        missing = summary.variant if summary.held_out is None else base.variant
        return Verdict(summary.variant, f"no verdict: {missing!r} has no finished run.", None, None)
    on_test = summary.test is not None and base.test is not None
    held_out = (lambda r: r.test_metric) if on_test else held_out_metric
    test_word = "test" if on_test else "validation"
    paired = _same_keys(runs, base_runs)
    if paired:  # compare_means pairs a[i] with b[i]: put both in (seed, fold, repeat) order
        runs, base_runs = _pair_order(runs), _pair_order(base_runs)
    # Rounded far below what is shown: accuracies are ratios of counts, and x100 float
    # noise would turn equal paired differences into a "nearly constant" sample that
    # scipy warns about instead of the exact answer compare_means gives for constants.
    gaps = [[round(units.gap(r.train_metric, held_out(r)), 9) for r in rs]
            for rs in (runs, base_runs)]  # fmt: skip
    tests = [[round(held_out(r) * units.scale, 9) for r in rs] for rs in (runs, base_runs)]
    enough = len(runs) >= 2 and len(base_runs) >= 2
    gap = compare_means(gaps[0], gaps[1], paired=paired) if enough else None
    test = compare_means(tests[0], tests[1], paired=paired) if enough else None

    gap_change = summary.gap.mean - base.gap.mean
    direction = "narrowed" if abs(summary.gap.mean) < abs(base.gap.mean) else "widened"
    if gap_change == 0:
        direction = "left unchanged"
    text = (
        f"{direction} the train-{test_word} gap from {units.format_ci(base.gap)} to "
        f"{units.format_ci(summary.gap)}{units.unit} {_evidence(gap)} and "
    )
    difference = summary.held_out.mean - base.held_out.mean
    better = difference > 0 if units.higher_is_better else difference < 0
    verb = ("improved" if better else "worsened") if test and test.significant else "changed"
    spread = f" ± {units.format(test.half_width)}" if test else ""
    text += (
        f"{verb} {test_word} {units.label} by {units.format(difference, signed=True)}{spread}"
        f"{units.unit} {_evidence(test)}."
    )
    lost = [f"{n} of {summary.runs} runs {what}" for n, what in
            ((summary.diverged, "diverged"), (summary.failed, "failed")) if n]  # fmt: skip
    if lost:
        text += " " + " and ".join(lost).capitalize() + " and are left out."
    return Verdict(summary.variant, text, gap, test, test_word)


def _evidence(comparison: Comparison | None) -> str:
    if comparison is None:
        return "(fewer than two runs on a side: no test possible)"
    word = "significant" if comparison.significant else "not significant"
    p = comparison.p_value
    shown = "p<0.001" if p < 0.001 else f"p={p:.2g}"
    return f"({word}, {comparison.test} {shown})"


def _same_keys(runs: list, base_runs: list) -> bool:
    def keys(rs):
        return [(r.seed, r.fold, getattr(r, "repeat", 0)) for r in rs]

    a, b = keys(runs), keys(base_runs)
    return len(set(a)) == len(a) and sorted(a) == sorted(b) and len(a) >= 2


def _pair_order(runs: list) -> list:
    return sorted(runs, key=lambda r: (r.seed, r.fold, getattr(r, "repeat", 0)))
