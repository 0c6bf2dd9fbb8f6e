"""The summary table: per variant, each final number as a mean ± 95% CI over its runs.

Only runs with status ``done`` enter the means. A diverged run has no meaningful final
metric (its weights are NaN or huge), and averaging it in would make a variant look
worse for a reason the table could not show; it is counted in its own column instead,
so a reader sees at once that e.g. "2 of 5 runs diverged".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from reglab.report.units import MetricUnits, group_by_variant
from reglab.validate import MeanCI, mean_ci

__all__ = ["VariantSummary", "finished_runs", "run_best_epoch", "summarize_variants"]


@dataclass(frozen=True)
class VariantSummary:
    """One row of the summary table, numbers in shown units (accuracy in percent).

    Attributes
    ----------
    variant : str
    runs, done, diverged, failed : int
        Runs of the variant, and how many ended in each status.
    train, test, gap : MeanCI or None
        Final training metric, test (or validation) metric and their gap over the
        ``done`` runs; None when no run is done.
    best_epoch : float or None
        Mean best epoch (see :func:`run_best_epoch`).
    stopped_epoch : float or None
        Mean epoch at which early stopping stopped, over the runs it stopped.
    stopped_runs : int
        How many runs early stopping stopped.
    sparsity : float or None
        Mean fraction of exact-zero weights.
    best_test, smallest_gap : bool
        Marks: this variant has the best mean test metric / the gap closest to zero.
    """

    variant: str
    runs: int
    done: int
    diverged: int
    failed: int
    train: MeanCI | None
    test: MeanCI | None
    gap: MeanCI | None
    best_epoch: float | None
    stopped_epoch: float | None
    stopped_runs: int
    sparsity: float | None
    best_test: bool = False
    smallest_gap: bool = False


def finished_runs(runs: Sequence) -> list:
    """The runs whose final numbers enter means and tests: status ``done``, finite metrics.

    A "done" run with a non-finite final metric cannot enter a mean; the summary still
    counts it among the variant's runs.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> len(finished_runs([R(status="done", train_metric=1.0, test_metric=0.5),
    ...                    R(status="diverged", train_metric=1.0, test_metric=0.5)]))
    1
    """
    return [r for r in runs if r.status == "done" and _finite(r.train_metric, r.test_metric)]


def run_best_epoch(run) -> int | None:
    """The epoch a run did best at: early stopping's best epoch, else its lowest ``val_loss``.

    Early stopping (monitoring ``val_loss`` by default) records the epoch whose weights
    it kept; a run trained without it has ``best_epoch == 0``, and the epoch of lowest
    validation loss is what the same rule would have picked.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> run_best_epoch(R(best_epoch=0, history=[{"val_loss": 2.0}, {"val_loss": 1.0}]))
    2
    """
    if run.best_epoch and run.best_epoch > 0:
        return int(run.best_epoch)
    losses = [row.get("val_loss", math.nan) for row in run.history]
    finite = [(loss, epoch) for epoch, loss in enumerate(losses, start=1) if math.isfinite(loss)]
    return min(finite)[1] if finite else None


def summarize_variants(runs: Sequence, units: MetricUnits) -> list[VariantSummary]:
    """Summarize each variant's runs for the summary table.

    Parameters
    ----------
    runs : sequence of RunRecord
        A study's runs (``variant``, ``status``, ``train_metric``, ``test_metric``,
        ``best_epoch``, ``stopped_epoch``, ``sparsity``, ``history``).
    units : MetricUnits
        The study's metric presentation.

    Returns
    -------
    list of VariantSummary
        One per variant, in order of first appearance, with the best test metric and
        the smallest absolute gap marked (ties mark every tied variant).

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> from reglab.report.units import metric_units
    >>> runs = [R(variant="a", status="done", train_metric=0.9, test_metric=0.8,
    ...           best_epoch=3, stopped_epoch=0, sparsity=0.0, history=[])]
    >>> s = summarize_variants(runs, metric_units("accuracy"))[0]
    >>> round(s.gap.mean, 6), s.best_test
    (10.0, True)
    """
    table = [_summarize(variant, group, units) for variant, group in group_by_variant(runs).items()]
    tests = [s.test.mean for s in table if s.test is not None]
    gaps = [abs(s.gap.mean) for s in table if s.gap is not None]
    best = (max(tests) if units.higher_is_better else min(tests)) if tests else None
    smallest = min(gaps) if gaps else None
    return [
        VariantSummary(
            **{
                **s.__dict__,
                "best_test": s.test is not None and s.test.mean == best,
                "smallest_gap": s.gap is not None and abs(s.gap.mean) == smallest,
            }
        )
        for s in table
    ]


def _summarize(variant: str, runs: list, units: MetricUnits) -> VariantSummary:
    done = finished_runs(runs)
    train = [r.train_metric * units.scale for r in done]
    test = [r.test_metric * units.scale for r in done]
    gaps = [units.gap(r.train_metric, r.test_metric) for r in done]
    best = [b for b in (run_best_epoch(r) for r in done) if b is not None]
    stopped = [r.stopped_epoch for r in done if r.stopped_epoch]
    sparsity = [s for s in (_total_sparsity(r.sparsity) for r in done) if s is not None]
    return VariantSummary(
        variant=variant,
        runs=len(runs),
        done=sum(r.status == "done" for r in runs),
        diverged=sum(r.status == "diverged" for r in runs),
        failed=sum(r.status == "failed" for r in runs),
        train=mean_ci(train) if done else None,
        test=mean_ci(test) if done else None,
        gap=mean_ci(gaps) if done else None,
        best_epoch=float(np.mean(best)) if best else None,
        stopped_epoch=float(np.mean(stopped)) if stopped else None,
        stopped_runs=len(stopped),
        sparsity=float(np.mean(sparsity)) if sparsity else None,
    )


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _total_sparsity(sparsity) -> float | None:
    # The engine reports a dict per layer plus "total"; a store may keep the total alone.
    if isinstance(sparsity, Mapping):
        sparsity = sparsity.get("total")
    return float(sparsity) if sparsity is not None and math.isfinite(sparsity) else None
