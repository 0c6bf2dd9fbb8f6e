"""Strength curves: each swept key's validation and test metric and gap against its value.

scikit-learn's ``validation_curve`` answers "which strength?" with one figure: the score
on the training and the held-out rows against the hyperparameter, mean ± spread over the
folds. Here the same question is asked of a study's sweeps (``dropout = [0.1, 0.3,
0.5]``, docs/spec.md): per swept key, the validation and test metric and the train-test
gap of each value, each the mean ± 95% interval of the summary table
(:func:`reglab.study.summary.summarize_variants`), so the curve and the table cannot
disagree. The drawing is :func:`reglab.report.figures.strength_curve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reglab.report.verdict import baseline_variant
from reglab.study.summary import VariantSummary
from reglab.study.sweeps import SweepPoint
from reglab.validate import MeanCI

__all__ = ["StrengthCurve", "log_axis", "strength_baseline", "strength_curves"]

# scikit-learn's examples sweep regularization strengths on a log axis (np.logspace);
# two decades are where a linear axis crowds the small values into one corner.
_DECADES_RATIO = 100.0


@dataclass(frozen=True)
class StrengthCurve:
    """One sweep's numbers, in shown units (accuracy in percent), by increasing value.

    Attributes
    ----------
    key : str
        The swept key's dotted path (``"penalty.l2"``).
    sweep : str
        The variant that was swept, as the spec names it.
    values : tuple of float
        The swept values, increasing.
    variants : tuple of str
        The expanded variant of each value.
    validation, test, gap : tuple of MeanCI or None
        Each value's validation metric, test metric and gap, as in the summary table
        (None where its runs have no such number).
    """

    key: str
    sweep: str
    values: tuple[float, ...]
    variants: tuple[str, ...]
    validation: tuple[MeanCI | None, ...]
    test: tuple[MeanCI | None, ...]
    gap: tuple[MeanCI | None, ...]


def strength_curves(
    summaries: Sequence[VariantSummary], sweeps: Mapping[str, SweepPoint | Mapping]
) -> dict[str, list[StrengthCurve]]:
    """The strength curves of a study, grouped by swept key.

    Parameters
    ----------
    summaries : sequence of VariantSummary
        From :func:`~reglab.study.summary.summarize_variants` over the study's runs.
    sweeps : mapping of str to SweepPoint or dict
        Each expanded variant's sweep: :attr:`reglab.study.Spec.sweeps`, or the stored
        spec's ``"sweeps"`` (``{"sweep", "key", "value"}`` dicts).

    Returns
    -------
    dict of str to list of StrengthCurve
        Per swept key (in the order the summaries first show it), one curve per
        variant swept along it. Variants without runs are left out.

    Examples
    --------
    >>> from reglab.validate import mean_ci
    >>> def row(name, test):
    ...     ci = mean_ci(test)
    ...     return VariantSummary(name, 2, 2, 0, 0, ci, ci, ci, None, None, 0, None,
    ...                           validation=ci)
    >>> sweeps = {"d=0.5": SweepPoint("d", "dropout", 0.5),
    ...           "d=0.1": SweepPoint("d", "dropout", 0.1)}
    >>> curve = strength_curves([row("d=0.5", [80, 82]), row("d=0.1", [90, 92])], sweeps)
    >>> curve["dropout"][0].values, [ci.mean for ci in curve["dropout"][0].test]
    ((0.1, 0.5), [91.0, 81.0])
    """
    by_name = {s.variant: s for s in summaries}
    # In the summaries' (the spec's) order: a stored spec's JSON has its keys sorted.
    points = {s.variant: _point(sweeps[s.variant]) for s in summaries if s.variant in sweeps}
    grouped: dict[str, dict[str, list[str]]] = {}
    for name, point in points.items():
        grouped.setdefault(point.key, {}).setdefault(point.sweep, []).append(name)
    curves: dict[str, list[StrengthCurve]] = {}
    for key, by_sweep in grouped.items():
        for sweep, names in by_sweep.items():
            names = sorted(names, key=lambda n: points[n].value)
            rows = [by_name[n] for n in names]
            curves.setdefault(key, []).append(
                StrengthCurve(
                    key=key,
                    sweep=sweep,
                    values=tuple(float(points[n].value) for n in names),
                    variants=tuple(names),
                    validation=tuple(r.validation for r in rows),
                    test=tuple(r.test for r in rows),
                    gap=tuple(r.gap for r in rows),
                )
            )
    return curves


def strength_baseline(
    summaries: Sequence[VariantSummary], sweeps: Mapping[str, object]
) -> VariantSummary | None:
    """The variant the curves draw as a reference line: the verdicts' baseline, unless
    that is itself a point of a sweep (a study of sweeps alone has no reference).

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> strength_baseline([S(variant="d=0.1"), S(variant="d=0.5")], {"d=0.1": 0, "d=0.5": 0})
    >>> strength_baseline([S(variant="l2=1"), S(variant="baseline")], {"l2=1": 0}).variant
    'baseline'
    """
    if not summaries:
        return None
    base = baseline_variant([s.variant for s in summaries])
    if base in sweeps:
        return None
    return next(s for s in summaries if s.variant == base)


def log_axis(values: Sequence[float]) -> bool:
    """Whether the values span decades: all positive, the largest >= 100 x the smallest.

    Examples
    --------
    >>> log_axis([1e-5, 1e-4, 1e-3]), log_axis([0.1, 0.3, 0.5]), log_axis([0.0, 1e-3, 1.0])
    (True, False, False)
    """
    values = list(values)
    return bool(values) and min(values) > 0 and max(values) / min(values) >= _DECADES_RATIO


def _point(point: SweepPoint | Mapping) -> SweepPoint:
    return point if isinstance(point, SweepPoint) else SweepPoint(**point)
