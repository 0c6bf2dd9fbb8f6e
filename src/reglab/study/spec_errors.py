"""Turning pydantic's validation errors into reglab's one-line spec messages.

pydantic reports every problem at once, each with a location tuple, which is what a
spec user needs; its default rendering is a multi-line dump with links, which is not.
Here each error becomes ``<what is wrong> at <dotted.path>`` in reglab's words, with
the closest valid key for an unknown one, and all of them join into one line.
"""

from __future__ import annotations

import difflib
import types
import typing

from pydantic import BaseModel, ValidationError

from reglab.errors import ReglabError, did_you_mean

__all__ = ["SpecError", "describe_errors"]


class SpecError(ReglabError):
    """A study spec that cannot be used: every problem found, in one line.

    Attributes
    ----------
    problems : list of str
        One message per problem, in the order they were found; the exception's text
        is the file name followed by these messages joined with ``"; "``.

    Examples
    --------
    >>> error = SpecError("study.toml", ["missing key `name`"])
    >>> str(error)
    'study.toml: missing key `name`'
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        # A trailing period would read ".;" once the problems are joined into one line.
        joined = "; ".join(p.removesuffix(".") for p in self.problems[:-1])
        last = self.problems[-1] if self.problems else "invalid spec"
        super().__init__(f"{source}: " + (f"{joined}; {last}" if joined else last))


def describe_errors(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One reglab message per pydantic error, each naming its dotted path.

    Parameters
    ----------
    error : pydantic.ValidationError
        Raised by validating a spec against ``root``.
    root : type of pydantic.BaseModel
        The model that was validated, used to find the keys valid at a location.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from pydantic import ConfigDict
    >>> class Penalty(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     l2: float = 0.0
    >>> try:
    ...     Penalty.model_validate({"l3": 1.0})
    ... except ValidationError as e:
    ...     describe_errors(e, Penalty)
    ["unknown key 'l3' at (top level); did you mean 'l2'?"]
    """
    return [_describe(item, root) for item in error.errors(include_url=False)]


def _describe(item: dict, root: type[BaseModel]) -> str:
    loc = tuple(item["loc"])
    kind = item["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        valid = _keys_at(root, parent)
        where = _path(parent) or "(top level)"
        return f"unknown key '{key}' at {where}{_closest(key, valid)}"
    if kind == "missing":
        if loc == ("variants",):
            return "missing key `variants`: add at least one [variants.NAME] table"
        return f"missing key `{_path(loc)}`"
    message = item["msg"]
    if kind == "reglab_problem":
        # Our own validators word their messages completely; only the path is added.
        return f"{_path(loc)}: {message}" if loc else message
    if kind == "too_short" and loc == ("variants",):
        return "variants: add at least one [variants.NAME] table"
    received = item["input"]
    hint = ""
    if kind == "reglab_value":
        hint = did_you_mean(str(received).lower(), item["ctx"]["options"])
    # pydantic's wording names our classes ("instance of VariantSettings") and its own
    # steps ("after validation"); a spec's author needs the TOML shape instead.
    expected = _expected(kind, loc, item.get("ctx") or {}) or (
        message.removeprefix("Input should be ").removeprefix("Value error, ")
    )
    return f"Invalid value for `{_path(loc)}`: expected {expected}. Received: {received!r}" + (
        hint or "."
    )


def _expected(kind: str, loc: tuple, ctx: dict) -> str | None:
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if loc == ("dataset",):
            return 'a dataset name or a table such as { name = "imdb", num_words = 10000 }'
        return "a table (`[name]` or `{ key = value }`)"
    if kind == "string_too_short":
        return "a non-empty string"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"{bound} {n} item{'' if n == 1 else 's'}"
    return None


def _closest(key: str, valid: list[str]) -> str:
    """reglab's usual suggestion, or for short keys a looser one: 'l3' -> 'l2'."""
    hint = did_you_mean(key, valid)
    if not hint and len(key) <= 4:
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
    return hint


def _path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _keys_at(root: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the model found by walking ``loc`` down from ``root``."""
    current: object = root
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = _unwrap(field.annotation)
        elif typing.get_origin(current) is dict:
            current = _unwrap(typing.get_args(current)[1])
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: object) -> object:
    """``Model | None`` -> ``Model``: the part of an optional annotation that has keys."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if (isinstance(arg, type) and issubclass(arg, BaseModel)) or typing.get_origin(
                arg
            ) is dict:
                return arg
    return annotation
