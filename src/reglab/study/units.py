"""How a study's metric is shown: its scale, its unit and which direction is better.

Accuracy is stored as a fraction in [0, 1] (as Keras reports it) but read by people in
percent, so every number the report shows for it is multiplied by 100 and its
differences are "points"; MAE is shown in the units of the targets. Keeping this in one
place stops the table, the verdicts and the figures from disagreeing about a factor 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from reglab.errors import check_choice
from reglab.validate import MeanCI

__all__ = ["MetricUnits", "group_by_variant", "metric_units"]


@dataclass(frozen=True)
class MetricUnits:
    """Presentation of one metric.

    Attributes
    ----------
    name : str
        The History column ("accuracy" or "mae").
    label : str
        What a reader calls it ("accuracy", "MAE").
    scale : float
        Factor from stored to shown values (100 for accuracy: percent).
    unit : str
        Unit of a shown difference (" points" for accuracy, "" for MAE).
    higher_is_better : bool
        True for accuracy, False for errors such as MAE and losses.
    digits : int
        Decimals shown (2 for percent, 3 for MAE in target units).
    """

    name: str
    label: str
    scale: float
    unit: str
    higher_is_better: bool
    digits: int

    def format(self, value: float | None, signed: bool = False) -> str:
        """Format a shown value with this metric's decimals ("—" for a missing value).

        Examples
        --------
        >>> metric_units("accuracy").format(0.4, signed=True)
        '+0.40'
        """
        if value is None or not math.isfinite(value):
            return "—"
        return f"{value:{'+' if signed else ''}.{self.digits}f}"

    def format_ci(self, ci: MeanCI | None) -> str:
        """Format ``mean ± half_width``; the mean alone when one run gives no interval.

        Examples
        --------
        >>> from reglab.validate import mean_ci
        >>> metric_units("mae").format_ci(mean_ci([2.0, 2.5, 3.0]))
        '2.500 ± 1.242'
        """
        if ci is None:
            return "—"
        if not math.isfinite(ci.half_width):
            return self.format(ci.mean)
        return f"{self.format(ci.mean)} ± {self.format(ci.half_width)}"

    def gap(self, train: float, test: float) -> float:
        """Train-test gap in shown units, positive when training looks better (overfitting).

        Examples
        --------
        >>> round(metric_units("accuracy").gap(0.98, 0.93), 6)
        5.0
        >>> metric_units("mae").gap(1.5, 2.5)
        1.0
        """
        difference = (train - test) * self.scale
        return difference if self.higher_is_better else -difference


def metric_units(metric: str) -> MetricUnits:
    """Return the presentation of ``metric``.

    Parameters
    ----------
    metric : {"accuracy", "mae"}
        The metric of the study's task.

    Returns
    -------
    MetricUnits

    Raises
    ------
    ReglabError
        If ``metric`` is not a known metric.

    Examples
    --------
    >>> metric_units("accuracy").scale
    100.0
    """
    metric = check_choice("metric", metric, ["accuracy", "mae"], owner="metric_units")
    if metric == "accuracy":
        return MetricUnits("accuracy", "accuracy", 100.0, " points", True, 2)
    return MetricUnits("mae", "MAE", 1.0, "", False, 3)


def group_by_variant(runs: Iterable) -> dict[str, list]:
    """Group run records by their ``variant``, variants in order of first appearance.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> g = group_by_variant([R(variant="b"), R(variant="a"), R(variant="b")])
    >>> {k: len(v) for k, v in g.items()}
    {'b': 2, 'a': 1}
    """
    groups: dict[str, list] = {}
    for run in runs:
        groups.setdefault(run.variant, []).append(run)
    return groups
