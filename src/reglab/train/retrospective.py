"""Where early stopping would have stopped one long run, for several patiences.

Train once for many epochs without stopping, then replay the History through a fresh
:class:`~reglab.train.early_stopping.EarlyStopping` per (patience, min_delta): the table
says at which epoch each setting would have stopped, which epoch's weights it would have
kept (``restore_best=True``) and what those weights scored, against training to the end.
Replaying the real callback, rather than a second copy of the rule, guarantees the table
agrees with what ``fit(early_stopping=...)`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reglab.errors import ReglabError, did_you_mean
from reglab.train.early_stopping import EarlyStopping

__all__ = ["RetrospectiveRow", "early_stopping_retrospective"]

# Tried in order when no score column is named: the validation metric of classification,
# then of regression.
_SCORE_COLUMNS = ("val_accuracy", "val_mae")


@dataclass(frozen=True)
class RetrospectiveRow:
    """What one early-stopping setting would have done to the run.

    Attributes
    ----------
    patience : int
    min_delta : float
    stopped_epoch : int
        Epoch at which it would have stopped; 0 if it would have run to the end.
    best_epoch : int
        Epoch whose weights it would have kept (restored); 0 if no epoch was monitored.
    score : float
        The ``score`` column at ``best_epoch`` (at the last epoch run if ``best_epoch``
        is 0): what stopping would have kept.
    score_at_end : float
        The ``score`` column at the run's last epoch: what training to the end kept.
    epochs_run : int
        Epochs it would have trained.
    epochs_saved : int
        Epochs of the long run it would not have trained.
    """

    patience: int
    min_delta: float
    stopped_epoch: int
    best_epoch: int
    score: float
    score_at_end: float
    epochs_run: int
    epochs_saved: int


def early_stopping_retrospective(
    history_rows: Sequence[Mapping[str, float]],
    patiences: Sequence[int] = (1, 2, 5, 10, 20),
    min_deltas: Sequence[float] = (0.0,),
    monitor: str = "val_loss",
    mode: str = "auto",
    score: str | None = None,
) -> list[RetrospectiveRow]:
    """Replay one run's History through early stopping with each (patience, min_delta).

    Parameters
    ----------
    history_rows : sequence of dict
        The run's per-epoch rows (``History.rows``), epoch 1 first.
    patiences : sequence of int, default (1, 2, 5, 10, 20)
        Patiences to try.
    min_deltas : sequence of float, default (0.0,)
        Minimum improvements to try, each with every patience.
    monitor : str, default "val_loss"
        The column early stopping watches.
    mode : {"auto", "min", "max"}, default "auto"
        As in :class:`EarlyStopping`.
    score : str, optional
        The column reported for the kept weights; by default ``val_accuracy`` if the
        rows have it, else ``val_mae``, else ``monitor``.

    Returns
    -------
    list of RetrospectiveRow
        One per (min_delta, patience), min_delta-major, in the order given.

    Raises
    ------
    ReglabError
        If there are no rows, a column is missing, or a setting is invalid.

    Examples
    --------
    >>> rows = [{"val_loss": v, "val_accuracy": a}
    ...         for v, a in [(1.0, .5), (.8, .6), (.9, .7), (.95, .65), (.97, .66)]]
    >>> r = early_stopping_retrospective(rows, patiences=(1, 2))
    >>> [(x.patience, x.stopped_epoch, x.best_epoch, x.score) for x in r]
    [(1, 3, 2, 0.6), (2, 4, 2, 0.6)]
    """
    rows = list(history_rows)
    if not rows:
        raise ReglabError(
            "Invalid value for `history_rows` of early_stopping_retrospective: expected the "
            "rows of a run with at least one epoch. Received no rows."
        )
    score = _score_column(rows[0], score, monitor)
    last = len(rows)
    end_score = float(rows[-1][score])
    table = []
    for min_delta in min_deltas:
        for patience in patiences:
            es = EarlyStopping(
                monitor=monitor, mode=mode, patience=patience, min_delta=min_delta,
                restore_best=True,
            )  # fmt: skip
            es.on_train_begin()
            run = 0
            for run, row in enumerate(rows, start=1):
                es.on_epoch_end(run, row)
                if es.stop_training:
                    break
            es.on_train_end()
            kept = es.best_epoch_ if es.best_epoch_ > 0 else run
            table.append(
                RetrospectiveRow(
                    patience=es.patience,
                    min_delta=es.min_delta,
                    stopped_epoch=es.stopped_epoch_,
                    best_epoch=es.best_epoch_,
                    score=float(rows[kept - 1][score]),
                    score_at_end=end_score,
                    epochs_run=run,
                    epochs_saved=last - run,
                )
            )
    return table


def _score_column(first: Mapping[str, float], score: str | None, monitor: str) -> str:
    if score is None:
        return next((c for c in _SCORE_COLUMNS if c in first), monitor)
    if score not in first:
        have = ", ".join(repr(k) for k in first)
        raise ReglabError(
            f"Invalid value for `score` of early_stopping_retrospective: the History has no "
            f"column {score!r}; it has: {have}{did_you_mean(score, first) or '.'}"
        )
    return score
