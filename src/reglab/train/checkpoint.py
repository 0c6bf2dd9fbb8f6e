"""Write the best model seen so far to disk (``torch.save`` of one member's state dict).

The file is a plain dict of tensors, so it reads back with ``torch.load(path,
weights_only=True)``: no pickled code is ever needed to restore a reglab checkpoint.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from reglab.train.early_stopping import EarlyStopping

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(EarlyStopping):
    """Save a member's weights whenever the monitored value improves.

    The improvement rule is EarlyStopping's (``monitor``, ``mode``, ``min_delta``); a
    checkpoint never stops training.

    Parameters
    ----------
    path : str or Path
        Where to write; ``{member}`` in the name is replaced by the population member's
        index, so one callback serves a whole population.
    monitor : str, default "val_loss"
    mode : {"auto", "min", "max"}, default "auto"
    min_delta : float, default 0.0

    Examples
    --------
    >>> import tempfile, os, numpy as np, torch
    >>> from reglab import fit, mlp
    >>> path = os.path.join(tempfile.mkdtemp(), "best.pt")
    >>> x = np.eye(4, dtype="float32"); y = np.array([0, 1, 0, 1])
    >>> _ = fit(mlp([4]), x, y, epochs=2, validation_data=(x, y), callbacks=[ModelCheckpoint(path)])
    >>> sorted(torch.load(path, weights_only=True))[:2]
    ['dense_0/bias', 'dense_0/kernel']
    """

    def __init__(
        self, path, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0
    ) -> None:
        self.path = str(path)
        super().__init__(monitor=monitor, mode=mode, min_delta=min_delta, patience=2**31)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        super().on_epoch_end(epoch, logs)
        self.stop_training = False
        if self.improved_ and self.view is not None and math.isfinite(self.best_):
            target = Path(self.path.format(member=self.view.member))
            target.parent.mkdir(parents=True, exist_ok=True)
            torch.save(self.view.state_dict(), target)
