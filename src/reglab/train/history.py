"""The record of one member's training: one row of plain floats per epoch, and the outcome.

Columns (see docs/architecture.md): ``epoch`` (1-based), ``loss`` (data loss + penalty,
the quantity minimised, as Keras' ``loss``), ``data_loss``, ``penalty``, the training
metric (``accuracy`` or ``mae``: a running mean over the epoch's batches, weighted by
batch size, measured with dropout active, exactly as Keras reports it), ``val_loss``
(data loss only), ``val_accuracy`` / ``val_mae``, ``epoch_time`` (seconds), ``lr`` (the
learning rate the epoch trained with, which schedules and callbacks may change).

With ``label_smoothing``, ``mixup`` or ``cutmix`` the training ``loss`` / ``data_loss``
are those of the smoothed or mixed targets the optimizer saw, the training metric
compares with each row's own label, and ``val_*`` and ``final`` score the true labels
(unsmoothed, unmixed). With ``ema`` or ``swa`` each epoch's ``val_*`` uses the weights
being trained and ``final`` the averaged weights that replace them when training ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["History"]


@dataclass
class History:
    """Per-epoch metrics and the outcome of one member's training.

    Attributes
    ----------
    rows : list of dict
        One dict of floats per epoch.
    seed : int
        The member's seed.
    best_epoch, stopped_epoch : int
        From early stopping, 1-based; 0 when there is none.
    diverged : bool
        The loss became NaN or infinite; training stopped at ``diverged_epoch``.
    final : dict
        Metrics evaluated after training (best weights restored when asked, or the EMA /
        SWA average), dropout off, on the true labels: ``loss``/metric on the member's
        training rows, ``val_*`` on its validation data.
    sparsity : dict
        Fraction of exact-zero weights per kernel and in ``total``.
    seconds : float
        Wall time of the fit that trained this member (shared by a population).
    weights : dict
        ``{"first": {layer: kernel}, "last": {...}}`` after epoch 1 and at the end.

    Examples
    --------
    >>> h = History(rows=[{"epoch": 1.0, "loss": 0.5}, {"epoch": 2.0, "loss": 0.25}])
    >>> h.history["loss"], h.epoch
    ([0.5, 0.25], [1, 2])
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    seed: int = 0
    best_epoch: int = 0
    stopped_epoch: int = 0
    diverged: bool = False
    diverged_epoch: int = 0
    final: dict[str, float] = field(default_factory=dict)
    sparsity: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras' ``History.history``: a list per column."""
        keys = list(self.rows[0]) if self.rows else []
        return {key: [row[key] for row in self.rows] for key in keys if key != "epoch"}

    @property
    def epoch(self) -> list[int]:
        return [int(row["epoch"]) for row in self.rows]

    @property
    def epochs_run(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict:
        """A JSON-able summary (NaN and infinities become None)."""

        def clean(value):
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return {
            "rows": [{k: clean(v) for k, v in row.items()} for row in self.rows],
            "seed": self.seed,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
            "diverged": self.diverged,
            "diverged_epoch": self.diverged_epoch,
            "final": {k: clean(v) for k, v in self.final.items()},
            "sparsity": dict(self.sparsity),
            "seconds": self.seconds,
        }
