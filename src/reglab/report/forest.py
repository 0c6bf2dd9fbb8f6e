"""The forest plot's data: each variant's effect against the baseline, with its interval.

A forest plot (a meta-analysis' overview) puts every comparison on one axis: a point
for the difference, a bar for its 95% interval, a line at 0 for "no effect". The report
opens with one, so a reader sees which variants moved the test metric and the gap before
reading a sentence. Its numbers are the verdicts' own comparisons
(:func:`reglab.report.verdict.variant_verdicts`: paired t-test on the same seeds and
folds, Welch's otherwise), never computed a second way, so the figure and the sentences
always agree. The drawing is :func:`reglab.report.figures.forest_plot`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reglab.report.verdict import Verdict
from reglab.validate import Comparison

__all__ = ["ForestRow", "forest_rows"]


@dataclass(frozen=True)
class ForestRow:
    """One variant's line of the forest plot (differences in shown units).

    Attributes
    ----------
    variant : str
    held_out : Comparison or None
        ``variant - baseline`` on the test metric (on the validation metric where a side
        did not score the test set); None with fewer than two finished runs on a side.
    gap : Comparison or None
        ``variant - baseline`` on the train-test gap.
    held_out_set : str
        ``"test"`` or ``"validation"``: what ``held_out`` was measured on.
    """

    variant: str
    held_out: Comparison | None
    gap: Comparison | None
    held_out_set: str = "test"

    @property
    def low(self) -> tuple[float | None, float | None]:
        """The held-out and gap intervals' lower ends (None without a comparison)."""
        return _end(self.held_out, -1), _end(self.gap, -1)

    @property
    def high(self) -> tuple[float | None, float | None]:
        """The held-out and gap intervals' upper ends (None without a comparison)."""
        return _end(self.held_out, 1), _end(self.gap, 1)


def forest_rows(verdicts: Sequence[Verdict]) -> list[ForestRow]:
    """The forest plot's rows, one per verdict, in the verdicts' (the spec's) order.

    Parameters
    ----------
    verdicts : sequence of Verdict
        From :func:`~reglab.report.verdict.variant_verdicts`.

    Returns
    -------
    list of ForestRow

    Examples
    --------
    >>> from reglab.validate import compare_means
    >>> c = compare_means([91.0, 93.0, 92.0], [90.0, 91.0, 90.5], paired=True)
    >>> row = forest_rows([Verdict("l2", "...", gap=c, test=c)])[0]
    >>> row.held_out.difference, row.low[0] > 0  # the whole interval above 0
    (1.5, True)
    """
    return [ForestRow(v.variant, v.test, v.gap, v.held_out_set) for v in verdicts]


def _end(comparison: Comparison | None, side: int) -> float | None:
    if comparison is None:
        return None
    return comparison.difference + side * comparison.half_width
