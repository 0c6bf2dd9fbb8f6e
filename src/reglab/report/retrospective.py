"""The early-stopping retrospective, averaged per variant over its runs.

Each run that trained to the end is replayed through early stopping
(:func:`reglab.train.retrospective.early_stopping_retrospective`, which drives the real
callback) for every (patience, min_delta): where it would have stopped, which epoch's
weights it would have kept and what they scored on the held-out data, against what
training to the end scored. The per-run answers are averaged per variant, because a
penalty or dropout changes where the validation loss turns up, so "which patience"
depends on the variant.

Runs that early stopping already stopped are left out: their History ends at the stop,
so what a larger patience would have done is unknown, and a table that silently
treated "the History ends" as "training ended" would overstate the savings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reglab.study.summary import finished_runs
from reglab.study.units import MetricUnits, group_by_variant

__all__ = ["RetrospectiveSummary", "retrospective_summaries"]


@dataclass(frozen=True)
class RetrospectiveSummary:
    """One (variant, patience, min_delta) row, means over the variant's replayed runs.

    Attributes
    ----------
    variant : str
    patience : int
    min_delta : float
    runs : int
        Runs replayed.
    stopped_epoch : float
        Mean epoch at which training would have ended (the last epoch for runs where
        it would never have stopped).
    never_stopped : int
        Runs where early stopping would not have triggered.
    kept_epoch : float
        Mean epoch whose weights would have been kept (restored).
    score_kept, score_at_end : float
        Mean held-out metric of the kept weights, and of the last epoch's, shown units.
    epochs_saved : float
        Mean epochs not trained.
    """

    variant: str
    patience: int
    min_delta: float
    runs: int
    stopped_epoch: float
    never_stopped: int
    kept_epoch: float
    score_kept: float
    score_at_end: float
    epochs_saved: float


def retrospective_summaries(
    runs: Sequence,
    units: MetricUnits,
    patiences: Sequence[int] = (1, 2, 5, 10, 20),
    min_deltas: Sequence[float] = (0.0, 0.01),
) -> list[RetrospectiveSummary]:
    """Replay every run that trained to the end and average the answers per variant.

    Parameters
    ----------
    runs : sequence of RunRecord
        A study's runs; those finished, not stopped early and with a ``val_loss`` column
        are replayed.
    units : MetricUnits
        The study's metric: the score is its validation column, in shown units.
    patiences : sequence of int, default (1, 2, 5, 10, 20)
    min_deltas : sequence of float, default (0.0, 0.01)
        Minimum decrease of ``val_loss`` that counts as an improvement.

    Returns
    -------
    list of RetrospectiveSummary
        Variant-major, then min_delta, then patience, in the order given. Variants with
        no replayable run have no rows.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> from reglab.study.units import metric_units
    >>> rows = [{"val_loss": v, "val_accuracy": a}
    ...         for v, a in [(1.0, .5), (.8, .6), (.9, .7), (.95, .65), (.97, .66)]]
    >>> run = R(variant="a", status="done", train_metric=1.0, test_metric=0.66,
    ...         stopped_epoch=0, history=rows)
    >>> s = retrospective_summaries([run], metric_units("accuracy"), patiences=(1,),
    ...                             min_deltas=(0.0,))[0]
    >>> s.stopped_epoch, s.kept_epoch, round(s.score_kept, 6), round(s.score_at_end, 6)
    (3.0, 2.0, 60.0, 66.0)
    """
    # Imported here: the training engine (and torch) is only needed for this replay, and
    # the rest of the report renders stored numbers without it.
    from reglab.train.retrospective import early_stopping_retrospective

    score = "val_" + units.name
    table = []
    for variant, group in group_by_variant(runs).items():
        replayable = [r for r in finished_runs(group) if _replayable(r, score)]
        if not replayable:
            continue
        per_run = [
            early_stopping_retrospective(
                r.history, patiences=patiences, min_deltas=min_deltas, score=score
            )
            for r in replayable
        ]
        for i, first in enumerate(per_run[0]):
            rows = [answers[i] for answers in per_run]
            table.append(
                RetrospectiveSummary(
                    variant=variant,
                    patience=first.patience,
                    min_delta=first.min_delta,
                    runs=len(rows),
                    stopped_epoch=_mean(r.epochs_run for r in rows),
                    never_stopped=sum(r.stopped_epoch == 0 for r in rows),
                    kept_epoch=_mean(r.best_epoch or r.epochs_run for r in rows),
                    score_kept=_mean(r.score * units.scale for r in rows),
                    score_at_end=_mean(r.score_at_end * units.scale for r in rows),
                    epochs_saved=_mean(r.epochs_saved for r in rows),
                )
            )
    return table


def _replayable(run, score: str) -> bool:
    if run.stopped_epoch or not run.history:
        return False
    first = run.history[0]
    return "val_loss" in first and score in first and math.isfinite(run.history[-1][score])


def _mean(values) -> float:
    return float(np.mean(list(values)))
