"""Strength sweeps: a list where a variant expects a number makes one variant per value.

``[variants.dropout] dropout = [0.1, 0.3, 0.5]`` is the spec for three variants,
``dropout=0.1``, ``dropout=0.3`` and ``dropout=0.5``, each exactly the table a user
would have written by hand under that name (``dropout = 0.3``). Expansion happens on
the spec's raw tables, before validation, so an expanded variant is validated, keyed
and planned as the hand-written one is: its runs have the same keys, and adding a value
to a sweep leaves the other values' stored runs where they are.

Rules (docs/spec.md, "Sweeps"):

- any key of a variant's table, or of one of its sub-tables (``penalty``,
  ``early_stopping``, ``augment``, ...), whose value is a number sweeps when given a
  list of numbers; keys that take a list (``hidden``, ``augment.scale``, ``layers``)
  keep their meaning, and lists inside ``layers`` are layer arguments, not sweeps;
- one sweep per variant: a grid is several variants, each sweeping one key;
- the expanded variant is named ``<variant>=<value>``, the value as Python's ``repr``
  writes it, exponents without padding (``1e-05`` -> ``1e-5``): stable across runs and
  releases, and distinct for distinct values; the variants take the sweep's place in
  the spec's order, in the list's order.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

__all__ = ["Expansion", "SweepPoint", "expand_sweeps", "sweep_name"]


@dataclass(frozen=True)
class SweepPoint:
    """Where an expanded variant came from: its sweep, the key swept and its value.

    Attributes
    ----------
    sweep : str
        The variant as the spec names it (``"l2"`` for ``[variants.l2]``).
    key : str
        The swept key's dotted path inside the variant's table (``"penalty.l2"``).
    value : int or float
        This variant's value.

    Examples
    --------
    >>> SweepPoint("l2", "penalty.l2", 1e-4).to_json()
    {'sweep': 'l2', 'key': 'penalty.l2', 'value': 0.0001}
    """

    sweep: str
    key: str
    value: int | float

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values, as the store keeps them for the report."""
        return {"sweep": self.sweep, "key": self.key, "value": self.value}


@dataclass(frozen=True)
class Expansion:
    """The result of :func:`expand_sweeps`.

    Attributes
    ----------
    variants : dict
        The variant tables with every sweep expanded, in the spec's order; a table
        with a bad sweep keeps its other keys (so they are still checked), not the list.
    model : dict or None
        The ``[model]`` table less any list that would have swept it.
    points : dict of str to SweepPoint
        Each expanded variant's sweep.
    problems : list of str
        One message per bad sweep, each naming its dotted path.
    """

    variants: dict[str, Any]
    model: Any = None
    points: dict[str, SweepPoint] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def sweep_name(variant: str, value: int | float) -> str:
    """The name of the variant a sweep makes for one value.

    Examples
    --------
    >>> sweep_name("dropout", 0.3), sweep_name("l2", 1e-5), sweep_name("epochs", 40)
    ('dropout=0.3', 'l2=1e-5', 'epochs=40')
    """
    text = repr(value)
    if "e" in text:  # 1e-05 -> 1e-5, 1e+20 -> 1e20: the same number, shorter
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else ""
        text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return f"{variant}={text}"


def expand_sweeps(
    variants: Mapping[str, Any], settings: type[BaseModel], model: Any = None
) -> Expansion:
    """Expand every sweep of a spec's variant tables into one variant per value.

    Parameters
    ----------
    variants : mapping of str to dict
        The ``[variants.NAME]`` tables as read from TOML.
    settings : pydantic model class
        The class a variant table validates as (``VariantSettings``): its field types
        say which keys take a number.
    model : dict, optional
        The ``[model]`` table; a list there is reported (sweeps go in a variant) and
        left out of the returned ``model``.

    Returns
    -------
    Expansion

    Examples
    --------
    >>> from reglab.study.settings import VariantSettings
    >>> out = expand_sweeps({"base": {}, "l2": {"penalty": {"l2": [1e-4, 1e-3]}}},
    ...                     VariantSettings)
    >>> out.variants
    {'base': {}, 'l2=0.0001': {'penalty': {'l2': 0.0001}}, 'l2=0.001': {'penalty': {'l2': 0.001}}}
    >>> out.points["l2=0.001"]
    SweepPoint(sweep='l2', key='penalty.l2', value=0.001)
    """
    problems: list[str] = []
    if isinstance(model, Mapping):
        listed = _lists(model, settings, "model", problems)
        problems += [
            f"a sweep at model.{path}: sweeps go in a [variants.NAME] table (one variant "
            "per value); give [model] one value"
            for path, values in listed if values is not None
        ]  # fmt: skip
        model = _without(model, [path for path, _ in listed])
    expanded: dict[str, Any] = {}
    points: dict[str, SweepPoint] = {}
    written = set(variants)
    for name, table in variants.items():
        if not isinstance(table, Mapping):
            expanded[name] = table  # pydantic words the type error
            continue
        where = f"variants.{name}"
        listed = _lists(table, settings, where, problems)
        found = [(path, values) for path, values in listed if values is not None]
        good = [(p, values) for p, values in found if _usable(where, p, values, problems)]
        if len(found) > 1:
            problems.append(
                f"{where} sweeps {' and '.join(p for p, _ in found)}: one sweep per "
                "variant (write one variant per swept key)"
            )
        if len(listed) != 1 or not good:
            expanded[name] = _without(table, [path for path, _ in listed])
            continue
        path, values = good[0]
        for value in values:
            new = sweep_name(name, value)
            if new in written or new in expanded:
                problems.append(
                    f"the sweep at {where}.{path} names a variant {new!r}, and the spec "
                    "already has one: rename one of them"
                )
                continue
            expanded[new] = _with(table, path.split("."), value)
            points[new] = SweepPoint(name, path, value)
    return Expansion(expanded, model, points, problems)


def _lists(table: Mapping, model: type[BaseModel], where: str, problems: list[str]):
    """The (dotted path, list) pairs of ``table`` that would sweep a key: numeric keys'
    lists, and (reported into ``problems``, value None) lists given to keys that take no
    number, left out of the table so that pydantic does not report them a second time."""
    found: list[tuple[str, Any]] = []
    for key, value in table.items():
        annotation = model.model_fields[key].annotation if key in model.model_fields else None
        kind = _kind(annotation)
        if isinstance(kind, type) and isinstance(value, Mapping):
            inner = _lists(value, kind, f"{where}.{key}", problems)
            found += [(f"{key}.{path}", values) for path, values in inner]
        elif not isinstance(value, list) or annotation is None:
            continue  # not a list, or an unknown key (pydantic names it, with the closest)
        elif kind == "number":
            found.append((key, value))
        elif kind == "list":
            if any(isinstance(item, list) for item in value):
                found.append((key, None))
                problems.append(
                    f"{key} at {where} takes a list already, so a list of lists does not "
                    "sweep it (only numeric keys sweep): write one variant per value"
                )
        else:
            taken = "a table" if isinstance(kind, type) else kind
            found.append((key, None))
            problems.append(
                f"a list at {where}.{key} would sweep it, and only numeric keys sweep; "
                f"`{key}` takes {taken}: write one variant per value"
            )
    return found


def _usable(where: str, path: str, values: list, problems: list[str]) -> bool:
    """Whether the sweep's values are usable; what is wrong goes into ``problems``."""
    if not values:
        problems.append(f"the sweep at {where}.{path} is empty: give at least one value")
        return False
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
    if bad:
        problems.append(
            f"Invalid value in the sweep at {where}.{path}: expected numbers. Received: {bad[0]!r}"
        )
        return False
    repeated = sorted({repr(v) for v in values if values.count(v) > 1})
    if repeated:
        problems.append(
            f"the sweep at {where}.{path} repeats {', '.join(repeated)}: give each value once"
        )
        return False
    return True


def _kind(annotation: Any) -> Any:
    """``"number"``, ``"list"``, a sub-table's model class, or a word for other types."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [_kind(a) for a in typing.get_args(annotation) if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else "a value"
    if typing.get_origin(annotation) is list:
        return "list"
    if annotation in (int, float):
        return "number"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return {bool: "true or false", str: "a string"}.get(annotation, "a value")


def _without(table: Mapping, paths: list[str]) -> dict:
    """``table`` less the keys at ``paths``: the rest is still validated and reported."""
    out = dict(table)
    for path in paths:
        head, _, rest = path.partition(".")
        out[head] = _without(out[head], [rest]) if rest else None
        if not out[head]:  # an emptied sub-table would only add "needs a key" errors
            del out[head]
    return out


def _with(table: Mapping, path: list[str], value: Any) -> dict:
    """A copy of ``table`` with the key at ``path`` set to ``value``."""
    out = dict(table)
    out[path[0]] = value if len(path) == 1 else _with(table[path[0]], path[1:], value)
    return out
