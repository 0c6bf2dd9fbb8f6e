"""The hooks the engine calls on every member's callbacks, and nothing else.

A callback watches one member's training, as a Keras callback watches one model: the
engine calls :meth:`Callback.on_train_begin` once, :meth:`Callback.on_epoch_begin` and
:meth:`Callback.on_epoch_end` around every epoch (with that member's History row), and
:meth:`Callback.on_train_end` at the end. Before that it gives the callback
:attr:`Callback.view`, a :class:`~reglab.train.member_view.MemberView` of its member (the
member index, its learning rate to read and set, its weights): Keras' ``self.model``,
narrowed to one member. To stop the member, a callback sets
:attr:`Callback.stop_training`; stopping is a flag, never an exception, so Ctrl-C stays
Ctrl-C and one member stopping leaves the others be.

One object per member, made visible: in a population of K, the object the user passed
watches the first member it is given for, and a :meth:`Callback.clone` of it watches
each other one; :attr:`Callback.members_` maps every member to its object. Chosen over
routing every member's events to the one object because each object then holds exactly
one model's state (an EarlyStopping's ``best_``, ``wait_``), so a callback written for
one model works unchanged in a population, and each member's callbacks behave as in
that member's single fit. After ``fit`` the passed object keeps its state (its member's
``best_epoch_``, a recorder's list), and ``members_`` reaches the others.
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
    view : MemberView or None
        The member watched (``view.member``, ``view.learning_rate``, ``view.weights()``),
        given by the engine before :meth:`on_train_begin`; released after
        :meth:`on_train_end`. None before the first fit.
    members_ : dict of int to Callback
        After (and during) a fit: the object watching each member this callback was given
        for, this object itself for the first.

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
    view = None  # a class default: a subclass that skips __init__ still has it

    def __init__(self) -> None:
        self.stop_training = False
        self.members_: dict[int, Callback] = {}

    def set_view(self, view) -> None:
        """Called by the engine before training with the view of the member watched.

        Keeps it as :attr:`view` (Keras' ``set_model``), then calls :meth:`bind`.
        """
        self.view = view
        self.bind(view._model, view.member)

    def bind(self, model, member: int) -> None:
        """The population and the member index, for callbacks written before the view.

        The default ignores them; new callbacks use :attr:`view` instead.
        """

    def on_train_begin(self) -> None:
        """Reset what was learned in a previous training, so one callback serves many.

        Subclasses that learn state extend this and call ``super().on_train_begin()``.
        """
        self.stop_training = False

    def on_epoch_begin(self, epoch: int) -> None:
        """The member is about to train epoch ``epoch`` (1-based): e.g. set its rate."""

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
            A deep copy without :attr:`view` and :attr:`members_`, its learned state
            reset by :meth:`on_train_begin`.

        Examples
        --------
        >>> a = Callback()
        >>> a.stop_training = True
        >>> a.clone().stop_training
        False
        """
        # Never the view (it reaches the whole population) nor the other members' objects.
        twin = copy.deepcopy(self, {id(self.view): None, id(self.members_): {}})
        twin.on_train_begin()
        return twin
