"""The one "is this an improvement" rule of the callbacks that watch a History column.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau all ask the same question of a
monitored value: does it beat a reference by more than ``min_delta`` in the direction
``mode`` says is better? Keras 3 answers it once, in ``MonitorCallback``; so does
:class:`MonitorCallback` here, with the same rule (``value + min_delta < best`` for
"min", ``value - min_delta > best`` for "max"; strict, so NaN never improves).

Where this deviates from Keras, on purpose (as EarlyStopping always did):

- a monitor missing from the logs is an error listing what the logs have (Keras warns
  and silently never acts, usually because of a typo such as ``val_los``);
- ``min_delta`` must be >= 0 (Keras silently takes ``abs``, hiding a sign confusion);
- an unknown ``mode`` is an error (Keras warns and falls back to ``auto``);
- ``mode="auto"`` is decided when the callback is made, from the name alone
  (:func:`infer_mode`), so a bad monitor name fails at once, not at the first epoch.
"""

from __future__ import annotations

import math

from reglab.errors import ReglabError, ReglabTypeError, check_choice, check_number, did_you_mean
from reglab.train.callback import Callback

__all__ = ["MonitorCallback", "infer_mode"]

# Metric names (after any ``val_`` prefix) whose larger values are better. Keras 3 asks
# the metric object for its direction; these are the names of its "up" metrics.
_HIGHER_IS_BETTER = ("acc", "accuracy", "auc", "precision", "recall", "f1_score")
# And the lower-is-better ones: losses and error metrics.
_LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse", "error", "crossentropy", "penalty")
# The columns a History has (docs/architecture.md), to suggest one for a misspelt monitor.
_HISTORY_COLUMNS = (
    "loss", "data_loss", "penalty", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae",
)  # fmt: skip


def infer_mode(monitor: str, owner: str = "EarlyStopping") -> str:
    """The direction ``mode="auto"`` picks for a monitored quantity: "min" or "max".

    Names ending in ``acc``, ``accuracy``, ``auc``, ``precision``, ``recall`` or
    ``f1_score`` are maximised; losses and error metrics (ending in ``loss``, ``mae``,
    ``mse``, ``rmse``, ``error``, ``crossentropy``, ``penalty``) are minimised.

    Parameters
    ----------
    monitor : str
        The History column, e.g. ``"val_loss"``.
    owner : str, default "EarlyStopping"
        The callback asking, named in the error message.

    Returns
    -------
    str
        ``"min"`` or ``"max"``.

    Raises
    ------
    ReglabError
        If the direction cannot be told from the name (Keras 3 refuses these too); the
        message suggests the closest History column, as the name is often a typo.

    Examples
    --------
    >>> infer_mode("val_accuracy"), infer_mode("val_loss"), infer_mode("val_mae")
    ('max', 'min', 'min')
    """
    name = monitor.lower().removeprefix("val_")
    if name.endswith(_HIGHER_IS_BETTER):
        return "max"
    if name.endswith(_LOWER_IS_BETTER):
        return "min"
    # An unclassifiable name is most often a typo of a History column: say so first.
    hint = did_you_mean(monitor, _HISTORY_COLUMNS)
    raise ReglabError(
        f"Invalid value for `mode` of {owner}: mode='auto' cannot tell whether "
        f"monitor={monitor!r} should be maximised or minimised{hint or '.'} "
        f"{'Otherwise pass' if hint else 'Pass'} mode='max' or mode='min'."
    )


class MonitorCallback(Callback):
    """Base class of the callbacks that act when a monitored History column improves.

    Parameters
    ----------
    monitor : str
        The History column to watch.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; ``"auto"`` infers it (:func:`infer_mode`).
    min_delta : float
        An improvement must beat the reference by more than this, >= 0.
    owner : str
        The subclass's name, for error messages.

    Attributes
    ----------
    direction : {"min", "max"}
        The resolved mode.

    Examples
    --------
    >>> rule = MonitorCallback("val_accuracy", "auto", 0.01, owner="Example")
    >>> rule.direction, rule.is_improvement(0.52, 0.5), rule.is_improvement(0.505, 0.5)
    ('max', True, False)
    """

    def __init__(self, monitor: str, mode: str, min_delta: float, *, owner: str) -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ReglabTypeError(
                f"Invalid value for `monitor` of {owner}: expected a History column name "
                f"such as 'val_loss'. Received: monitor={monitor!r}."
            )
        self.monitor = monitor
        self.mode = check_choice("mode", mode, ["auto", "min", "max"], owner=owner)
        self.min_delta = check_number("min_delta", min_delta, owner=owner, low=0.0)
        self.direction = infer_mode(monitor, owner) if self.mode == "auto" else self.mode
        self._owner = owner

    @property
    def worst(self) -> float:
        """The reference nothing is worse than: ``inf`` for "min", ``-inf`` for "max"."""
        return math.inf if self.direction == "min" else -math.inf

    def is_improvement(self, value: float, reference: float) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta``."""
        # Keras: monitor_op(value - min_delta, reference), min_delta negated for "min".
        # Written as comparisons, NaN is never an improvement.
        if self.direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def monitored(self, logs: dict[str, float]) -> float:
        """The monitored value of an epoch's logs.

        Raises
        ------
        ReglabError
            If ``logs`` has no ``monitor`` column (listing those it has).
        """
        if self.monitor not in logs:
            have = ", ".join(repr(k) for k in logs)
            raise ReglabError(
                f"{self._owner} monitors {self.monitor!r}, which the History does not have; "
                f"it has: {have}{did_you_mean(self.monitor, logs) or '.'}"
            )
        return float(logs[self.monitor])
