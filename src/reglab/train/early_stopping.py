"""Early stopping: stop a member when its monitored metric has stopped improving.

The rule is Keras 3's ``keras.callbacks.EarlyStopping``, line by line, so that a
patience, a ``min_delta`` or a baseline means here exactly what it means in Keras:

- each monitored epoch first increments ``wait``; an epoch whose value beats the best by
  more than ``min_delta`` becomes the best, and resets ``wait`` to 0 only if it also beats
  ``baseline`` (when one is given);
- otherwise, once ``wait >= patience``, training stops (never on the very first epoch);
- the first ``start_from_epoch`` epochs are not monitored at all (warm-up);
- with ``restore_best``, the first monitored epoch is the fallback best, so there are
  always weights to restore, even when nothing ever improves.

Epochs are 1-based here (Keras counts from 0): ``best_epoch_ = 3`` is the third epoch,
and 0 means "none". Where this deviates from Keras, on purpose:

- a monitor missing from the logs is an error listing what the logs have (Keras warns
  and silently never stops, usually because of a typo such as ``val_los``);
- ``min_delta`` must be >= 0 (Keras silently takes ``abs``, hiding a sign confusion);
- an unknown ``mode`` is an error (Keras warns and falls back to ``auto``);
- ``best_`` is reset by ``on_train_begin`` as well (Keras 3 keeps the previous
  training's best, so a reused callback compares against a stale value).
"""

from __future__ import annotations

from reglab.errors import ReglabTypeError, check_int, check_number
from reglab.train.monitor import MonitorCallback, infer_mode

__all__ = ["EarlyStopping", "infer_mode"]


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored metric has stopped improving (Keras 3's rule).

    Parameters
    ----------
    monitor : str, default "val_loss"
        The History column to watch.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; ``"auto"`` infers it from the name
        (see :func:`infer_mode`).
    patience : int, default 0
        Epochs without improvement after which training stops.
    min_delta : float, default 0.0
        An improvement must beat the best by more than this, >= 0.
    baseline : float, optional
        A value the monitor must beat: until an epoch beats it, ``wait`` is never reset,
        so training stops after ``patience`` epochs however much it improves below it.
    start_from_epoch : int, default 0
        Number of warm-up epochs not monitored at all.
    restore_best : bool, default False
        Ask the engine to restore the best epoch's weights when training ends, also when
        it ran to the end without stopping (Keras' ``restore_best_weights``).

    Attributes
    ----------
    best_ : float
        Best monitored value so far (``inf`` / ``-inf`` before any).
    best_epoch_ : int
        Epoch (1-based) of the weights to keep; 0 for none.
    wait_ : int
        Monitored epochs since the last reset.
    stopped_epoch_ : int
        Epoch at which training was stopped; 0 if it was not.
    improved_ : bool
        Whether the epoch just seen became ``best_epoch_`` (with ``restore_best``, the
        callback then keeps a snapshot of its member's weights and buffers, and puts it
        back when training ends).

    Raises
    ------
    ReglabError, ReglabTypeError
        For an invalid argument (unknown mode, negative patience or min_delta, ...).

    Examples
    --------
    >>> es = EarlyStopping(monitor="val_loss", patience=1)
    >>> es.on_train_begin()
    >>> for epoch, value in enumerate([3.0, 2.0, 2.5, 2.4, 1.0], start=1):
    ...     es.on_epoch_end(epoch, {"val_loss": value})
    ...     if es.stop_training:
    ...         break
    >>> es.stopped_epoch_, es.best_epoch_, es.best_
    (3, 2, 2.0)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        baseline: float | None = None,
        start_from_epoch: int = 0,
        restore_best: bool = False,
    ) -> None:
        owner = "EarlyStopping"
        super().__init__(monitor, mode, min_delta, owner=owner)
        if not isinstance(restore_best, bool):
            raise ReglabTypeError(
                f"Invalid value for `restore_best` of {owner}: expected True or False. "
                f"Received: restore_best={restore_best!r}."
            )
        self.patience = check_int("patience", patience, owner=owner, low=0)
        self.baseline = (
            None if baseline is None else check_number("baseline", baseline, owner=owner)
        )
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, owner=owner, low=0)
        self.restore_best = restore_best
        self.on_train_begin()

    def on_train_begin(self) -> None:
        """Forget the previous training: best value, best epoch, wait and stop."""
        super().on_train_begin()
        self.best_ = self.worst
        self.best_epoch_ = 0
        self.wait_ = 0
        self.stopped_epoch_ = 0
        self.improved_ = False
        self._best_state = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Update the state with the monitored value of ``epoch`` (1-based).

        Raises
        ------
        ReglabError
            If ``logs`` has no ``monitor`` column.
        """
        self.improved_ = False
        current = self.monitored(logs)
        if epoch <= self.start_from_epoch:  # warm-up: Keras' `epoch < start_from_epoch`, 0-based
            return
        if self.restore_best and self.best_epoch_ == 0:
            # No weights kept yet: the first monitored epoch's are the fallback best.
            self.best_epoch_ = epoch
            self.improved_ = True
        self.wait_ += 1
        if self.is_improvement(current, self.best_):
            self.best_ = current
            self.best_epoch_ = epoch
            self.improved_ = True
            # Only restart the wait if we beat both the baseline and our previous best.
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait_ = 0
            self._keep_best()
            return
        self._keep_best()  # the fallback best of the first monitored epoch
        if self.wait_ >= self.patience and epoch > 1:
            self.stopped_epoch_ = epoch
            self.stop_training = True

    def _keep_best(self) -> None:
        if self.restore_best and self.improved_ and self.view is not None:
            self._best_state = self.view.snapshot()

    def on_train_end(self) -> None:
        """Put the best epoch's weights back (also when training ran to the end)."""
        if self.restore_best and self._best_state is not None:
            self.view.restore(self._best_state)
        self._best_state = None  # a callback kept by the user does not hold the weights

    @property
    def should_restore_(self) -> bool:
        """Whether the engine must restore the best epoch's weights at train end."""
        return self.restore_best and self.best_epoch_ > 0

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, "
            f"patience={self.patience}, min_delta={self.min_delta}, baseline={self.baseline}, "
            f"start_from_epoch={self.start_from_epoch}, restore_best={self.restore_best})"
        )
