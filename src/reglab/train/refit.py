"""K-fold's final step: how many epochs to train on all training rows.

Deep Learning with Python's recipe: after K-fold, average the validation curves over the
folds, take the epoch where the mean is best, and train one model on all training rows
for that many epochs; only that model is scored on the test set. With early stopping the
folds have already chosen: the mean of the epochs whose weights each fold kept (its best
epoch when it restores the best weights, else the epochs it trained).

Both :func:`reglab.cross_validate` and the study runner's refit runs choose with
:func:`refit_epochs`; it reads validation curves only, never a test score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from reglab.errors import ReglabError

__all__ = ["kept_epoch", "refit_epochs"]


def kept_epoch(best_epoch: int, epochs_run: int, restores_best: bool) -> int:
    """The epoch whose weights a run ended with under early stopping.

    Examples
    --------
    >>> kept_epoch(best_epoch=7, epochs_run=12, restores_best=True)
    7
    >>> kept_epoch(best_epoch=7, epochs_run=12, restores_best=False)
    12
    """
    return int(best_epoch) if restores_best and best_epoch > 0 else int(epochs_run)


def refit_epochs(
    curves: Sequence[Sequence[float]],
    *,
    higher_is_better: bool,
    kept_epochs: Sequence[int] | None = None,
) -> int:
    """The epoch count a refit on all training rows trains for.

    Parameters
    ----------
    curves : sequence of sequences of float
        Each fold run's per-epoch validation score (the monitored column), epoch 1 first.
    higher_is_better : bool
        True for accuracy, False for a loss or an error.
    kept_epochs : sequence of int, optional
        With early stopping: each fold's kept epoch (:func:`kept_epoch`); the refit then
        trains for their mean, rounded, and ``curves`` are not read.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ReglabError
        If no fold run has a finite validation score to choose from.

    Examples
    --------
    >>> refit_epochs([[3.0, 2.0, 2.5], [2.8, 2.2, 2.1]], higher_is_better=False)
    2
    >>> refit_epochs([], higher_is_better=True, kept_epochs=[4, 5, 7])
    5
    """
    if kept_epochs is not None and len(kept_epochs):
        return max(1, round(float(np.mean(kept_epochs))))
    finite = [_finite_prefix(curve) for curve in curves]
    finite = [curve for curve in finite if len(curve)]
    if not finite:
        raise ReglabError(
            "Cannot choose the refit's epoch count: no fold run has a finite validation "
            "score (all diverged or failed)."
        )
    # Only the epochs every fold reached: a mean over the folds that happened to train
    # longer would compare different sets of runs from one epoch to the next.
    length = min(len(curve) for curve in finite)
    mean = np.mean([curve[:length] for curve in finite], axis=0)
    best = int(np.argmax(mean) if higher_is_better else np.argmin(mean))
    return best + 1


def _finite_prefix(curve: Sequence[float]) -> list[float]:
    out = []
    for value in curve:
        if value is None or not math.isfinite(value):
            break
        out.append(float(value))
    return out
