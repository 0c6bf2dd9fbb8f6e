"""The summary table: per variant, each final number as a mean ± 95% CI over its runs.

Three sets, each named: the training rows, the validation rows (a split, the folds, or
the test set itself when the study validates on it) and the test set, scored once after
training. The gap is train − test where the runs scored the test set, else train −
validation (a store made before the test set was scored for splits and folds), and says
which. A K-fold study's refit runs (all training rows, scored on test) are summarized
apart, as its final line. The report and the command line both print these numbers.

Only runs with status ``done`` enter the means. A diverged run has no meaningful final
metric (its weights are NaN or huge), and averaging it in would make a variant look
worse for a reason the table could not show; it is counted in its own column instead,
so a reader sees at once that e.g. "2 of 5 runs diverged".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from reglab.study.units import MetricUnits, group_by_variant
from reglab.validate import MeanCI, mean_ci

__all__ = [
    "VariantSummary",
    "finished_runs",
    "held_out_metric",
    "run_best_epoch",
    "summarize_variants",
]


@dataclass(frozen=True)
class VariantSummary:
    """One row of the summary table, numbers in shown units (accuracy in percent).

    Attributes
    ----------
    variant : str
    runs, done, diverged, failed : int
        Runs of the variant, and how many ended in each status.
    train, validation, test, gap : MeanCI or None
        Final training, validation and test metric and the gap over the ``done`` runs;
        None when no run is done (``test`` also when the runs did not score it).
    gap_against : str
        ``"test"`` or ``"validation"``: what the gap compares the training metric with.
    refit_test : MeanCI or None
        K-fold with ``refit``: the refit runs' test metric (one run per seed).
    refit_epochs : int
        The epochs the refit runs trained (0 without refit).
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
    validation: MeanCI | None = None
    gap_against: str = "test"
    refit_test: MeanCI | None = None
    refit_epochs: int = 0

    @property
    def held_out(self) -> MeanCI | None:
        """The score the variants are ranked on: test where scored, else validation."""
        return self.test if self.test is not None else self.validation


def held_out_metric(run) -> float | None:
    """A run's held-out score: its test metric, or its validation metric where the test
    set was not scored (a store made before schema 3 for a split or K-fold).

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> held_out_metric(R(test_metric=None, val_metric=0.7)), held_out_metric(R(test_metric=0.8))
    (0.7, 0.8)
    """
    test = getattr(run, "test_metric", None)
    return test if test is not None else getattr(run, "val_metric", None)


def finished_runs(runs: Sequence) -> list:
    """The runs whose final numbers enter means and tests: status ``done``, finite metrics,
    not a refit run (those are summarized apart).

    A "done" run with a non-finite final metric cannot enter a mean; the summary still
    counts it among the variant's runs.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> len(finished_runs([R(status="done", train_metric=1.0, test_metric=0.5),
    ...                    R(status="diverged", train_metric=1.0, test_metric=0.5)]))
    1
    """
    return [r for r in runs if r.status == "done" and not _is_refit(r)
            and _finite(r.train_metric, held_out_metric(r))]  # fmt: skip


def _is_refit(run) -> bool:
    return getattr(run, "fold", 0) < 0


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
    >>> from reglab.study.units import metric_units
    >>> runs = [R(variant="a", status="done", train_metric=0.9, test_metric=0.8,
    ...           best_epoch=3, stopped_epoch=0, sparsity=0.0, history=[])]
    >>> s = summarize_variants(runs, metric_units("accuracy"))[0]
    >>> round(s.gap.mean, 6), s.best_test
    (10.0, True)
    """
    table = [_summarize(variant, group, units) for variant, group in group_by_variant(runs).items()]
    tests = [s.held_out.mean for s in table if s.held_out is not None]
    gaps = [abs(s.gap.mean) for s in table if s.gap is not None]
    best = (max(tests) if units.higher_is_better else min(tests)) if tests else None
    smallest = min(gaps) if gaps else None
    return [
        dataclasses.replace(
            s,
            best_test=s.held_out is not None and s.held_out.mean == best,
            smallest_gap=s.gap is not None and abs(s.gap.mean) == smallest,
        )
        for s in table
    ]


def _summarize(variant: str, runs: list, units: MetricUnits) -> VariantSummary:
    done = finished_runs(runs)
    refits = [r for r in runs if _is_refit(r) and r.status == "done"
              and _finite(r.test_metric)]  # fmt: skip
    tested = bool(done) and all(_finite(r.test_metric) for r in done)
    held_out = [r.test_metric if tested else held_out_metric(r) for r in done]
    validation = [r.val_metric for r in done if _finite(getattr(r, "val_metric", None))]
    best = [b for b in (run_best_epoch(r) for r in done) if b is not None]
    stopped = [r.stopped_epoch for r in done if r.stopped_epoch]
    sparsity = [s for s in (_total_sparsity(r.sparsity) for r in done) if s is not None]
    return VariantSummary(
        variant=variant,
        runs=len(runs),
        done=sum(r.status == "done" for r in runs),
        diverged=sum(r.status == "diverged" for r in runs),
        failed=sum(r.status == "failed" for r in runs),
        train=_ci([r.train_metric * units.scale for r in done]),
        validation=_ci([v * units.scale for v in validation]),
        test=_ci([r.test_metric * units.scale for r in done]) if tested else None,
        gap=_ci([units.gap(r.train_metric, h) for r, h in zip(done, held_out)]),
        gap_against="test" if tested or not done else "validation",
        best_epoch=float(np.mean(best)) if best else None,
        stopped_epoch=float(np.mean(stopped)) if stopped else None,
        stopped_runs=len(stopped),
        sparsity=float(np.mean(sparsity)) if sparsity else None,
        refit_test=_ci([r.test_metric * units.scale for r in refits]),
        refit_epochs=refits[0].epochs_run if refits else 0,
    )


def _ci(values: list[float]) -> MeanCI | None:
    return mean_ci(values) if values else None


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _total_sparsity(sparsity) -> float | None:
    # The engine reports a dict per layer plus "total"; a store may keep the total alone.
    if isinstance(sparsity, Mapping):
        sparsity = sparsity.get("total")
    return float(sparsity) if sparsity is not None and math.isfinite(sparsity) else None


# Said wherever a study that validated on the test set shows its numbers.
OPTIMISTIC_TEST = (
    'This study validates on the test set (validation = "test", the tutorials\' choice): the '
    "test set chose the epochs (early stopping, best epoch), so its test numbers are "
    "optimistic. Use validation = { split = 0.2 } to keep the test set untouched."
)


def protocol_notes(spec: dict, summaries: Sequence[VariantSummary]) -> list[str]:
    """The sentences a reader needs to know which set the numbers come from.

    Examples
    --------
    >>> protocol_notes({"validation": {"split": None, "folds": None}}, [])[0][:42]
    'This study validates on the test set (vali'
    """
    validation = spec.get("validation") or {}
    notes = []
    if validation.get("split") is None and validation.get("folds") is None:
        notes.append(OPTIMISTIC_TEST)
    elif any(s.gap_against == "validation" for s in summaries):
        notes.append(
            "These runs were stored before reglab scored the test set for splits and "
            "folds: their held-out numbers are validation scores, and the gap is "
            "train − validation."
        )
    refits = [s for s in summaries if s.refit_test is not None]
    if refits:
        epochs = ", ".join(f"{s.variant} {s.refit_epochs}" for s in refits)
        notes.append(
            "Final line of the K-fold study: one run per seed retrained on all training "
            f"rows for the epochs the folds chose ({epochs}), scored once on the test set."
        )
    return notes
