"""Reduce a member's learning rate when its monitored metric has stopped improving.

Keras 3's ``keras.callbacks.ReduceLROnPlateau``, rule for rule, on one population member
through its :class:`~reglab.train.member_view.MemberView`. At the end of each epoch:

- while in cooldown, the cooldown counter drops by one and ``wait`` is reset to 0;
- an epoch that beats the best by more than ``min_delta`` becomes the best, ``wait = 0``;
- otherwise, outside cooldown, ``wait`` grows; once ``wait >= patience`` the rate becomes
  ``max(lr * factor, min_lr)`` if it is still above ``min_lr`` (compared in float32, as
  Keras' optimizer variable is), and then cooldown starts and ``wait`` is reset.

The improvement rule (``monitor``, ``mode``, ``min_delta``) is the one EarlyStopping uses
(:class:`~reglab.train.monitor.MonitorCallback`), with its deliberate strictness: an
unknown monitor or mode is an error rather than a warning, and ``mode="auto"`` reads the
direction from the name (``val_accuracy`` is maximised, losses and errors minimised).
"""

from __future__ import annotations

import numpy as np

from reglab.errors import check_int, check_number
from reglab.train.monitor import MonitorCallback

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the member's rate by ``factor`` after ``patience`` epochs without progress.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The History column to watch.
    factor : float, default 0.1
        ``new_lr = lr * factor``, in (0, 1).
    patience : int, default 10
        Epochs without improvement after which the rate is reduced.
    mode : {"auto", "min", "max"}, default "auto"
    min_delta : float, default 1e-4
        An improvement must beat the best by more than this, >= 0.
    cooldown : int, default 0
        Epochs after a reduction during which ``wait`` does not count.
    min_lr : float, default 0.0
        The rate is never reduced below this.

    Attributes
    ----------
    best_ : float
        Best monitored value so far.
    wait_ : int
        Epochs without improvement counted towards ``patience``.
    cooldown_counter_ : int
        Epochs of cooldown left.
    reductions_ : list of int
        The epochs (1-based) at whose end the rate was reduced.

    Raises
    ------
    ReglabError, ReglabTypeError
        For an invalid argument (a factor outside (0, 1), a negative patience, ...).

    Examples
    --------
    >>> plateau = ReduceLROnPlateau(patience=2)
    >>> plateau.on_train_begin()
    >>> for epoch, value in enumerate([1.0, 0.9, 0.95, 0.92, 0.91], start=1):
    ...     plateau.on_epoch_end(epoch, {"val_loss": value})
    >>> plateau.reductions_, plateau.best_
    ([4], 0.9)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        owner = "ReduceLROnPlateau"
        super().__init__(monitor, mode, min_delta, owner=owner)
        # Keras refuses factor >= 1 (no reduction); 0 would stop learning altogether.
        self.factor = check_number(
            "factor", factor, owner=owner, low=0.0, high=1.0, low_open=True, high_open=True
        )
        self.patience = check_int("patience", patience, owner=owner, low=0)
        self.cooldown = check_int("cooldown", cooldown, owner=owner, low=0)
        self.min_lr = check_number("min_lr", min_lr, owner=owner, low=0.0)
        self.on_train_begin()

    def on_train_begin(self) -> None:
        """Forget the previous training: best value, wait, cooldown, reductions."""
        super().on_train_begin()
        self.best_ = self.worst
        self.wait_ = 0
        self.cooldown_counter_ = 0
        self.reductions_: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Count the epoch and reduce the member's rate when the plateau is long enough.

        Without a view (driven by hand, as in the example) the reduction is recorded in
        :attr:`reductions_` only.

        Raises
        ------
        ReglabError
            If ``logs`` has no ``monitor`` column.
        """
        current = self.monitored(logs)
        if self.in_cooldown():
            self.cooldown_counter_ -= 1
            self.wait_ = 0
        if self.is_improvement(current, self.best_):
            self.best_ = current
            self.wait_ = 0
        elif not self.in_cooldown():
            self.wait_ += 1
            if self.wait_ >= self.patience and self._reduce():
                self.reductions_.append(epoch)
                self.cooldown_counter_ = self.cooldown
                self.wait_ = 0

    def in_cooldown(self) -> bool:
        """Whether the epochs after the last reduction are still cooling down."""
        return self.cooldown_counter_ > 0

    def _reduce(self) -> bool:
        if self.view is None:
            return True
        old = self.view.learning_rate
        if not np.float32(old) > np.float32(self.min_lr):  # Keras' float32 comparison
            return False
        self.view.learning_rate = max(old * self.factor, self.min_lr)
        return True

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor}, "
            f"patience={self.patience}, mode={self.mode!r}, min_delta={self.min_delta}, "
            f"cooldown={self.cooldown}, min_lr={self.min_lr})"
        )
