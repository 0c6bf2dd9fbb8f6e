"""The hooks the engine calls on every member's callbacks, and nothing else.

A callback watches one member's training: the engine clones it per population member,
calls :meth:`Callback.on_train_begin` once, :meth:`Callback.on_epoch_end` after every
epoch with that member's History row, and :meth:`Callback.on_train_end` at the end.
To stop the member, a callback sets :attr:`Callback.stop_training`; stopping is a flag,
never an exception, so Ctrl-C stays Ctrl-C and one member stopping leaves the others be.
"""

from __future__ import annotations

import copy

__all__ = ["Callback"]


class Callback:
    """Base class of the callbacks one population member's training calls.

    Attributes
    ----------
    stop_training : bool
        Set to True to ask the engine to stop this member after the current epoch;
        reset by :meth:`on_train_begin`.
    best_epoch_, stopped_epoch_ : int
        The epochs a callback that chooses them reports into the History (1-based;
        0 = none, the default).

    Examples
    --------
    >>> class StopAtThree(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.stop_training = epoch >= 3
    >>> cb = StopAtThree()
    >>> cb.on_train_begin()
    >>> for epoch in range(1, 10):
    ...     cb.on_epoch_end(epoch, {"loss": 1.0})
    ...     if cb.stop_training:
    ...         break
    >>> epoch
    3
    """

    best_epoch_ = 0
    stopped_epoch_ = 0

    def __init__(self) -> None:
        self.stop_training = False

    def bind(self, model, member: int) -> None:
        """Called by the engine before training: the population and the member watched.

        The default ignores them; a callback that reads or saves weights keeps them.
        """

    def on_train_begin(self) -> None:
        """Reset what was learned in a previous training, so one callback serves many.

        Subclasses that learn state extend this and call ``super().on_train_begin()``.
        """
        self.stop_training = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Look at the finished epoch.

        Parameters
        ----------
        epoch : int
            The epoch just finished, 1-based.
        logs : dict of str to float
            The member's History row for that epoch (``loss``, ``val_loss``, ...).
        """

    def on_train_end(self) -> None:
        """Training of this member ended, stopped early or not."""

    def clone(self) -> Callback:
        """Return an independent copy with the same settings, for another member.

        Returns
        -------
        Callback
            A deep copy, its learned state reset by :meth:`on_train_begin`.

        Examples
        --------
        >>> a = Callback()
        >>> a.stop_training = True
        >>> a.clone().stop_training
        False
        """
        twin = copy.deepcopy(self)
        twin.on_train_begin()
        return twin
