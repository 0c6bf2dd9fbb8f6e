"""The one place where reglab words its complaints about user input.

Every check that guards a public boundary (a function argument, a file, a spec key)
goes through here, so every message has the same shape::

    Invalid value for `rate` of Dropout: expected a float in [0, 1). Received: rate=1.5.

The command line catches :class:`ReglabError` and prints the message alone with exit
status 2; Python callers get an ordinary ``ValueError`` / ``TypeError`` subclass.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence

__all__ = [
    "DataError",
    "ReglabError",
    "ReglabTypeError",
    "check_choice",
    "check_int",
    "check_number",
    "check_rate",
    "did_you_mean",
    "invalid",
    "per_member",
]


class ReglabError(ValueError):
    """A problem with what the user gave reglab: a value, a file, a spec.

    The message is complete on its own (what was received, what is allowed, how to
    fix it), so the command line prints it as one line with no traceback.

    Examples
    --------
    >>> import reglab
    >>> try:
    ...     reglab.Dropout(1.5)
    ... except reglab.ReglabError as error:
    ...     print(error)
    Invalid value for `rate` of Dropout: expected a float in [0, 1). Received: rate=1.5.
    """


class ReglabTypeError(ReglabError, TypeError):
    """An argument of the wrong type (also a ``TypeError`` for Python callers)."""


class DataError(ReglabError):
    """A data file or dataset problem: missing, truncated, malformed, wrong checksum.

    Examples
    --------
    >>> import reglab
    >>> try:
    ...     reglab.load_dataset("mnits")
    ... except reglab.ReglabError as error:
    ...     print("mnist" in str(error))
    True
    """


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest option, or ``""`` if none is close.

    Examples
    --------
    >>> did_you_mean("dropuot", ["dropout", "dropconnect"])
    "; did you mean 'dropout'?"
    >>> did_you_mean("zzz", ["dropout"])
    ''
    """
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def invalid(name: str, expected: str, received: object, *, owner: str | None = None) -> str:
    """Build the standard message for an invalid argument.

    Parameters
    ----------
    name : str
        The argument's name as the user wrote it.
    expected : str
        What is allowed, in words ("a float in [0, 1)").
    received : object
        The value received; shown with ``repr``.
    owner : str, optional
        The function or class the argument belongs to.

    Examples
    --------
    >>> invalid("rate", "a float in [0, 1)", 1.5, owner="Dropout")
    'Invalid value for `rate` of Dropout: expected a float in [0, 1). Received: rate=1.5.'
    """
    of = f" of {owner}" if owner else ""
    return f"Invalid value for `{name}`{of}: expected {expected}. Received: {name}={received!r}."


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_number(
    name: str,
    value: object,
    *,
    owner: str | None = None,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a finite number in a range.

    Raises
    ------
    ReglabTypeError
        If ``value`` is not a number.
    ReglabError
        If it lies outside the range or is NaN.

    Examples
    --------
    >>> check_number("l2", 0.01, low=0)
    0.01
    >>> check_number("l2", -1, low=0, owner="L2")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `l2` of L2: expected a float in [0, inf)...
    """
    lo = "(" if low_open else "["
    hi = ")" if high_open or high == math.inf else "]"
    expected = f"a float in {lo}{_fmt(low)}, {_fmt(high)}{hi}"
    if not _is_real(value):
        raise ReglabTypeError(invalid(name, expected, value, owner=owner))
    x = float(value)  # type: ignore[arg-type]
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    if math.isnan(x) or too_low or too_high:
        raise ReglabError(invalid(name, expected, value, owner=owner))
    return x


def check_rate(name: str, value: object, *, owner: str | None = None) -> float:
    """Check a drop probability: a float in [0, 1).

    Examples
    --------
    >>> check_rate("rate", 1.5, owner="Dropout")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `rate` of Dropout: ... Received: rate=1.5.
    """
    return check_number(name, value, owner=owner, low=0.0, high=1.0, high_open=True)


def check_int(name: str, value: object, *, owner: str | None = None, low: int = 0) -> int:
    """Check an integer no smaller than ``low``.

    Examples
    --------
    >>> check_int("epochs", 0, low=1)
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `epochs`: expected an int >= 1. Received: epochs=0.
    """
    expected = f"an int >= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        # NumPy integers are fine; floats such as 3.0 are not (Keras refuses them too).
        if not (hasattr(value, "__index__") and not isinstance(value, bool)):
            raise ReglabTypeError(invalid(name, expected, value, owner=owner))
        value = int(value)  # type: ignore[call-overload]
    if value < low:
        raise ReglabError(invalid(name, expected, value, owner=owner))
    return int(value)


def check_choice(
    name: str, value: object, choices: Sequence[str], *, owner: str | None = None
) -> str:
    """Check that ``value`` is one of ``choices`` (case-insensitive), suggesting the closest.

    Examples
    --------
    >>> check_choice("optimizer", "Adam", ["sgd", "rmsprop", "adam", "adamw"])
    'adam'
    >>> check_choice("optimizer", "adma", ["sgd", "rmsprop", "adam", "adamw"])
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `optimizer`: ...; did you mean 'adam'?
    """
    listed = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise ReglabTypeError(invalid(name, f"one of {listed}", value, owner=owner))
    key = value.lower()
    if key not in choices:
        message = invalid(name, f"one of {listed}", value, owner=owner)
        hint = did_you_mean(key, choices)
        raise ReglabError(message[:-1] + hint if hint else message)
    return key


def per_member(name: str, value: object, members: int, *, owner: str) -> list:
    """Broadcast a scalar to every population member, or check a list has one per member.

    Examples
    --------
    >>> per_member("dropout", 0.5, 3, owner="mlp")
    [0.5, 0.5, 0.5]
    >>> per_member("seed", [1, 2], 3, owner="fit")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `seed` of fit: ... (3). Received 2 values.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != members:
            raise ReglabError(
                f"Invalid value for `{name}` of {owner}: expected one value per model member "
                f"({members}). Received {len(value)} values."
            )
        return list(value)
    return [value] * members


def _fmt(x: float) -> str:
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
