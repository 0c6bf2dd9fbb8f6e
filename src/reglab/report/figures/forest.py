"""The forest plot: every variant's effect against the baseline, on one axis each.

Left, the change of the test metric (variant − baseline); right, the change of the
train-test gap; each a point with its 95% interval, filled where the verdict calls it
significant, hollow where not, and a vertical line at 0: a bar that crosses it is "no
evidence of an effect". The rows read top to bottom in the spec's order.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from reglab.errors import ReglabError
from reglab.report.figures._text import plain
from reglab.report.forest import ForestRow
from reglab.study.units import metric_units

__all__ = ["forest_plot"]

_SIGNIFICANT, _NOT = "tab:blue", "0.45"


def forest_plot(rows: Sequence[ForestRow], *, baseline: str, metric: str = "accuracy") -> Figure:
    """Plot each variant's effect on the held-out metric and on the gap, with 95% intervals.

    Parameters
    ----------
    rows : sequence of ForestRow
        From :func:`reglab.report.forest.forest_rows`, one per compared variant.
    baseline : str
        The variant the differences are taken against (the title names it).
    metric : {"accuracy", "mae"}, default "accuracy"
        The study's metric (labels, units and which direction is better).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes sharing the rows: the held-out metric's difference and the gap's. A row
        without a comparison (fewer than two runs on a side) is named, without a bar.

    Raises
    ------
    ReglabError
        If there are no rows.

    Examples
    --------
    >>> from reglab.validate import compare_means
    >>> c = compare_means([91.0, 93.0, 92.0], [90.0, 91.0, 90.5], paired=True)
    >>> fig = forest_plot([ForestRow("l2", c, c)], baseline="baseline")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['l2']
    """
    if not rows:
        raise ReglabError(
            "Invalid value for `rows` of forest_plot: expected at least one variant compared "
            "with the baseline. Received: no rows."
        )
    units = metric_units(metric)
    on = {r.held_out_set for r in rows}
    held_out = "test" if on == {"test"} else "held-out"
    better = "higher" if units.higher_is_better else "lower"
    fig = Figure(figsize=(9, 0.9 + 0.45 * len(rows)), layout="constrained")
    score, gap = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(rows)))[::-1]  # the first variant on top
    for y, row in zip(positions, rows):
        for axes, comparison in ((score, row.held_out), (gap, row.gap)):
            if comparison is None:
                axes.annotate("fewer than 2 runs", (0, y), ha="center", va="center",
                              fontsize="small", color=_NOT)  # fmt: skip
                continue
            color = _SIGNIFICANT if comparison.significant else _NOT
            axes.errorbar(comparison.difference, y, xerr=comparison.half_width, fmt="o",
                          color=color, markerfacecolor=color if comparison.significant
                          else "white", capsize=3)  # fmt: skip
    for axes in (score, gap):
        axes.axvline(0.0, color="black", linewidth=1)
        axes.grid(axis="x", alpha=0.3)
    score.set_yticks(positions, [plain(r.variant) for r in rows])
    score.set_ylim(-0.7, len(rows) - 0.3)
    unit = f" ({units.unit.strip()})" if units.unit else ""
    score.set_title(f"{held_out} {units.label} ({better} is better)", fontsize="medium")
    score.set_xlabel(f"variant − baseline{unit}")
    gap.set_title(f"train − {held_out} gap (negative: smaller gap)", fontsize="medium")
    gap.set_xlabel(f"variant − baseline{unit}")
    fig.suptitle(
        f"Effects against {plain(baseline)} with 95% intervals (filled: significant, p < 0.05)",
        fontsize="medium",
    )
    return fig
