"""Learning-rate schedules, per epoch: Keras' formulas, set on one member at each epoch.

A schedule is a callback (Keras' ``LearningRateScheduler``): at the start of every epoch
it sets its member's learning rate through its :class:`~reglab.train.member_view.
MemberView`. The rate it starts from, the *peak*, is the member's ``learning_rate`` when
training begins, so members of one population may differ in their rate, their schedule,
or both. The formulas are ``keras.optimizers.schedules``' with ``step`` = the number of
epochs already trained (epoch 1 is Keras' step 0):

- :class:`ExponentialDecay`: ``peak * decay_rate ** (step / decay_epochs)``;
- :class:`StepDecay`: the same with ``staircase=True``, the exponent floored, so the rate
  drops by ``decay_rate`` every ``decay_epochs`` epochs;
- :class:`CosineDecay`: ``peak * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_epochs)
  / decay_epochs)) + alpha)``.

Warmup (``warmup_epochs = W``, every schedule) is Keras' ``CosineDecay`` warmup with
``initial_learning_rate = 0`` and ``warmup_target`` = the peak: linear from 0, the rate is
``peak * step / W`` for the first W epochs (so epoch 1 trains at rate 0, as Keras' step
0 does), after which the decay runs with ``step - W``. The History's ``lr`` column shows
the rate each epoch trained with.
"""

from __future__ import annotations

import math

from reglab.errors import ReglabError, ReglabTypeError, check_int, check_number
from reglab.train.callback import Callback

__all__ = ["SCHEDULES", "CosineDecay", "ExponentialDecay", "LearningRateSchedule", "StepDecay"]


class LearningRateSchedule(Callback):
    """Base class: set the member's rate to :meth:`rate` at the start of every epoch.

    Subclasses define :meth:`decay`, the fraction of the peak rate after warmup.

    Parameters
    ----------
    warmup_epochs : int, default 0
        Epochs of linear warmup from 0 to the peak rate before the decay starts.

    Attributes
    ----------
    peak_ : float or None
        The member's learning rate when training began (None before).
    """

    def __init__(self, warmup_epochs: int = 0) -> None:
        super().__init__()
        self.warmup_epochs = check_int(
            "warmup_epochs", warmup_epochs, owner=type(self).__name__, low=0
        )
        self.peak_ = None

    def decay(self, step: int) -> float:
        """The fraction of the peak rate ``step`` epochs after the warmup (0-based)."""
        raise NotImplementedError

    def rate(self, epoch: int, peak: float) -> float:
        """The rate of ``epoch`` (1-based) for a member whose peak rate is ``peak``.

        Examples
        --------
        >>> schedule = StepDecay(decay_epochs=2, decay_rate=0.5, warmup_epochs=2)
        >>> [schedule.rate(epoch, 0.1) for epoch in range(1, 8)]
        [0.0, 0.05, 0.1, 0.1, 0.05, 0.05, 0.025]
        """
        step = epoch - 1  # Keras' step: epochs already trained
        if step < self.warmup_epochs:
            return peak * step / self.warmup_epochs
        return peak * self.decay(step - self.warmup_epochs)

    def on_train_begin(self) -> None:
        """Take the member's rate at the start of training as the peak."""
        super().on_train_begin()
        self.peak_ = self.view.learning_rate if self.view is not None else None

    def on_epoch_begin(self, epoch: int) -> None:
        """Set the member's rate for ``epoch``."""
        self.view.learning_rate = self.rate(epoch, self.peak_)

    def _settings(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings()}, warmup_epochs={self.warmup_epochs})"


def _decay_epochs(value, owner: str) -> int:
    return check_int("decay_epochs", value, owner=owner, low=1)


class ExponentialDecay(LearningRateSchedule):
    """Keras' ``ExponentialDecay`` per epoch: ``peak * decay_rate ** (step / decay_epochs)``.

    Parameters
    ----------
    decay_epochs : int
        Epochs over which the rate is multiplied by ``decay_rate`` once, >= 1.
    decay_rate : float
        The factor per ``decay_epochs``, > 0 and not 1 (1 would leave the rate as it is).
    staircase : bool, default False
        Floor the exponent: the rate changes in steps (see :class:`StepDecay`).
    warmup_epochs : int, default 0
        See :class:`LearningRateSchedule`.

    Raises
    ------
    ReglabError, ReglabTypeError
        For an invalid argument.

    Examples
    --------
    >>> schedule = ExponentialDecay(decay_epochs=2, decay_rate=0.25)
    >>> [schedule.rate(epoch, 1.0) for epoch in (1, 2, 3, 5)]
    [1.0, 0.5, 0.25, 0.0625]
    """

    def __init__(
        self, decay_epochs: int, decay_rate: float, staircase: bool = False,
        warmup_epochs: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(warmup_epochs)
        owner = type(self).__name__
        self.decay_epochs = _decay_epochs(decay_epochs, owner)
        self.decay_rate = check_number(
            "decay_rate", decay_rate, owner=owner, low=0.0, low_open=True
        )
        if self.decay_rate == 1.0:
            raise ReglabError(
                f"Invalid value for `decay_rate` of {owner}: a rate of 1 leaves the learning "
                f"rate unchanged; expected a float > 0 other than 1. Received: decay_rate=1.0."
            )
        if not isinstance(staircase, bool):
            raise ReglabTypeError(
                f"Invalid value for `staircase` of {owner}: expected True or False. "
                f"Received: staircase={staircase!r}."
            )
        self.staircase = staircase

    def decay(self, step: int) -> float:
        p = step / self.decay_epochs
        return self.decay_rate ** (math.floor(p) if self.staircase else p)

    def _settings(self) -> str:
        return (
            f"decay_epochs={self.decay_epochs}, decay_rate={self.decay_rate}, "
            f"staircase={self.staircase}"
        )


class StepDecay(ExponentialDecay):
    """Multiply the rate by ``decay_rate`` every ``decay_epochs`` epochs.

    Keras' ``ExponentialDecay(staircase=True)``: ``peak * decay_rate ** floor(step /
    decay_epochs)`` (PyTorch's ``StepLR`` with ``step_size`` and ``gamma``).

    Parameters
    ----------
    decay_epochs : int
        Epochs between two drops, >= 1.
    decay_rate : float
        The factor of each drop, > 0 and not 1.
    warmup_epochs : int, default 0
        See :class:`LearningRateSchedule`.

    Examples
    --------
    >>> schedule = StepDecay(decay_epochs=3, decay_rate=0.1)
    >>> [round(schedule.rate(epoch, 1.0), 6) for epoch in range(1, 8)]
    [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01]
    """

    def __init__(self, decay_epochs: int, decay_rate: float, warmup_epochs: int = 0) -> None:
        super().__init__(decay_epochs, decay_rate, staircase=True, warmup_epochs=warmup_epochs)

    def _settings(self) -> str:
        return f"decay_epochs={self.decay_epochs}, decay_rate={self.decay_rate}"


class CosineDecay(LearningRateSchedule):
    """Keras' ``CosineDecay`` per epoch, from the peak rate down to ``alpha`` times it.

    Parameters
    ----------
    decay_epochs : int
        Epochs the decay lasts (after the warmup), >= 1; later epochs keep the last rate.
    alpha : float, default 0.0
        The final rate as a fraction of the peak, in [0, 1) (1 would be no decay).
    warmup_epochs : int, default 0
        See :class:`LearningRateSchedule`; exactly Keras' ``warmup_steps`` with
        ``initial_learning_rate = 0``.

    Examples
    --------
    >>> schedule = CosineDecay(decay_epochs=4, alpha=0.1)
    >>> [round(schedule.rate(epoch, 1.0), 4) for epoch in range(1, 7)]
    [1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """

    def __init__(self, decay_epochs: int, alpha: float = 0.0, warmup_epochs: int = 0) -> None:
        super().__init__(warmup_epochs)
        owner = type(self).__name__
        self.decay_epochs = _decay_epochs(decay_epochs, owner)
        self.alpha = check_number("alpha", alpha, owner=owner, low=0.0, high=1.0, high_open=True)

    def decay(self, step: int) -> float:
        fraction = min(step, self.decay_epochs) / self.decay_epochs
        return (1 - self.alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + self.alpha

    def _settings(self) -> str:
        return f"decay_epochs={self.decay_epochs}, alpha={self.alpha}"


# The spec's `lr_schedule.type` names (one list for the spec and the library).
SCHEDULES = {"step": StepDecay, "exponential": ExponentialDecay, "cosine": CosineDecay}
