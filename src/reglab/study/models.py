"""From a study's model settings to the population model that trains a group of runs.

Three kinds of model, one per spec form:

- the MLP shorthand (``hidden``, ``activation``, ``dropout``, ...), as before;
- ``layers = [ { type = "conv2d", filters = 32, kernel_size = 3 }, ... ]``: reglab layers
  named as Keras names them (:data:`reglab.nn.layers.LAYER_TYPES`, so a new layer file
  is usable here with no change), each member's per-member arguments (a rate, a
  penalty) taken from its own run;
- ``module = "package.module:factory"``: a callable, importable from the working
  directory, that returns a ``torch.nn.Module``; the store records its name and the
  SHA-256 of its source file (part of the run's identity: edit the module and its runs
  train again).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

import torch

from reglab.errors import ReglabError, did_you_mean
from reglab.nn import ModuleModel, Sequential, mlp
from reglab.nn.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from reglab.nn.layers import LAYER_TYPES

__all__ = [
    "PENALTY_ARGUMENTS",
    "build_layers",
    "check_layer_table",
    "import_factory",
    "layers_structure",
    "module_fingerprint",
    "population_model",
]

PENALTY_ARGUMENTS = ("kernel_regularizer", "bias_regularizer")
_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def check_layer_table(table: Any) -> dict:
    """One ``[model] layers`` entry, checked: its type, its arguments, their values.

    Returns the table with its type in lower case and its penalties as plain tables.

    Raises
    ------
    ReglabError
        Naming the type or argument at fault and what is allowed.
    """
    from reglab.study.settings import PenaltySettings

    if not isinstance(table, dict):
        raise ReglabError(
            'expected a table such as { type = "dense", units = 64 }, received '
            f"{type(table).__name__} {table!r}"
        )
    kinds = sorted(LAYER_TYPES)
    kind = table.get("type")
    if kind is None:
        raise ReglabError(f"missing key `type`: one of {', '.join(repr(k) for k in kinds)}")
    if not isinstance(kind, str) or kind.lower() not in LAYER_TYPES:
        raise ReglabError(
            f"unknown layer type {kind!r}{did_you_mean(str(kind).lower(), kinds) or ''}; "
            f"known types: {', '.join(kinds)}"
        )
    kind = kind.lower()
    cls = LAYER_TYPES[kind]
    allowed = [*cls.arguments, "name"]
    clean: dict[str, Any] = {"type": kind}
    for key, value in table.items():
        if key == "type":
            continue
        if key not in allowed:
            raise ReglabError(
                f"unknown argument {key!r} of a {kind} layer{did_you_mean(key, allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )
        if key in PENALTY_ARGUMENTS:
            try:
                value = PenaltySettings.model_validate(value).model_dump(exclude_none=True)
            except Exception as error:  # pydantic's ValidationError, worded below
                raise ReglabError(f"{key}: {_first_message(error)}") from None
        elif key == "kernel_constraint":
            constraint_from_table(value)  # checked here, built per member later
        elif isinstance(value, list) and key in cls.per_member:
            raise ReglabError(
                f"{key} of a {kind} layer takes one value in a spec (members differ by "
                f"variant: give each value its own [variants.NAME]); received {value!r}"
            )
        clean[key] = value
    build_layer(clean)  # the layer's own checks, with its own messages
    return clean


def _first_message(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        item = errors()[0]
        where = ".".join(str(p) for p in item.get("loc", ()))
        message = item.get("ctx", {}).get("message") or item["msg"]
        return f"{where}: {message}" if where else message
    return str(error)


def build_layer(table: dict, members: list[dict] | None = None):
    """The layer of ``table``; with ``members`` (one table per member) its per-member
    arguments become lists of each member's value."""
    cls = LAYER_TYPES[table["type"]]
    arguments = {k: v for k, v in table.items() if k != "type"}
    for key in PENALTY_ARGUMENTS:
        if key in arguments:
            arguments[key] = _penalty(arguments[key])
    if "kernel_constraint" in arguments:
        arguments["kernel_constraint"] = constraint_from_table(arguments["kernel_constraint"])
    if members is not None:
        for key in cls.per_member:
            values = [m.get(key) for m in members]
            if key in PENALTY_ARGUMENTS:
                values = [_penalty(v) for v in values]
            elif key == "kernel_constraint":
                values = [constraint_from_table(v) for v in values]
            if any(v is not None for v in values) or key in arguments:
                arguments[key] = values
    return cls(**arguments)


CONSTRAINTS = {"max_norm": MaxNorm, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
               "non_neg": NonNeg}  # fmt: skip


def constraint_from_table(table) -> Constraint | None:
    """``{ max_norm = 3.0 }``, ``{ unit_norm = true }``, ``{ non_neg = true }`` or
    ``{ min_max_norm = { min_value = 0.5, max_value = 2.0, rate = 1.0 } }``."""
    if table is None:
        return None
    if not isinstance(table, dict) or len(table) != 1 or next(iter(table)) not in CONSTRAINTS:
        raise ReglabError(
            "kernel_constraint: expected one of { max_norm = VALUE }, { unit_norm = true }, "
            "{ non_neg = true }, { min_max_norm = { min_value = .., max_value = .., "
            f"rate = .. }}}}; received {table!r}"
        )
    ((kind, value),) = table.items()
    cls = CONSTRAINTS[kind]
    if kind == "max_norm":
        return cls(value)
    if kind == "min_max_norm":
        if not isinstance(value, dict):
            raise ReglabError(
                f"kernel_constraint.min_max_norm: expected a table, received {value!r}"
            )
        return cls(**value)
    if value is not True:
        raise ReglabError(f"kernel_constraint.{kind}: expected true, received {value!r}")
    return cls()


def _penalty(table: dict | None):
    from reglab.study.settings import PenaltySettings

    return None if table is None else PenaltySettings(**table).build()


def build_layers(per_member_tables: list[list[dict]]) -> Sequential:
    """A Sequential from each member's layer tables (the same structure for all)."""
    first = per_member_tables[0]
    layers = [
        build_layer(table, [tables[i] for tables in per_member_tables])
        for i, table in enumerate(first)
    ]
    return Sequential(layers, members=len(per_member_tables))


def layers_structure(tables) -> list[dict] | None:
    """The layers without their per-member arguments: what one population shares."""
    if tables is None:
        return None
    return [
        {k: v for k, v in table.items() if k not in LAYER_TYPES[table["type"]].per_member}
        for table in tables
    ]


def import_factory(path: str):
    """The callable ``package.module:factory``, imported from the working directory.

    Raises
    ------
    ReglabError
        If the name is malformed, the module cannot be imported, or it has no such callable.
    """
    if not isinstance(path, str) or not _FACTORY.match(path):
        raise ReglabError(
            f'expected "package.module:factory" (a callable returning a torch.nn.Module), '
            f"received {path!r}"
        )
    module_name, attribute = path.split(":")
    module = _import_fresh(module_name)
    factory = getattr(module, attribute, None)
    if not callable(factory):
        names = [n for n in vars(module) if callable(getattr(module, n)) and not n.startswith("_")]
        raise ReglabError(
            f"module {module_name!r} has no callable {attribute!r}"
            f"{did_you_mean(attribute, names) or ''}"
        )
    return factory


# module name -> (file, modification time) it was imported from: an edited file is
# imported again, so that the code that trains is the code whose hash is recorded.
_IMPORTED: dict[str, tuple[str | None, float | None]] = {}


def _import_fresh(module_name: str):
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        origin = _origin(module_name)
        stamp = (origin, os.path.getmtime(origin) if origin else None)
        if module_name in sys.modules and _IMPORTED.get(module_name) != stamp:
            del sys.modules[module_name]
        module = importlib.import_module(module_name)
        _IMPORTED[module_name] = stamp
        return module
    except Exception as error:  # any import-time failure of the user's code
        raise ReglabError(
            f"cannot import {module_name!r} from the working directory {here}: "
            f"{type(error).__name__}: {error}"
        ) from None
    finally:
        if added:
            sys.path.remove(here)


def _origin(module_name: str) -> str | None:
    """The file ``module_name`` imports from now (``find_spec`` would answer from the
    module already imported, which may be another folder's file of the same name)."""
    parts = module_name.split(".")
    spec, search = None, None
    for i in range(len(parts)):
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), search)
        if spec is None:
            return None
        search = spec.submodule_search_locations
    return spec.origin if spec.has_location else None


def module_fingerprint(path: str) -> str:
    """SHA-256 of the source file that defines the factory ``path``."""
    factory = import_factory(path)
    try:
        source = Path(inspect.getsourcefile(factory)).read_bytes()
    except (TypeError, OSError):  # built in, or no file: its qualified name stands in
        source = f"{factory.__module__}.{factory.__qualname__}".encode()
    return hashlib.sha256(source).hexdigest()


def make_module(path: str) -> torch.nn.Module:
    """Call the factory and check that it returned a module."""
    module = import_factory(path)()
    if not isinstance(module, torch.nn.Module):
        raise ReglabError(
            f"the factory {path!r} returned {type(module).__name__}, not a torch.nn.Module"
        )
    return module


def population_model(runs):
    """The model for a population's runs (they share :func:`layers_structure` etc.)."""
    shape = runs[0].settings
    penalties = [r.settings.penalty and r.settings.penalty.build() for r in runs]
    if shape.module is not None:
        return ModuleModel(make_module(shape.module), penalties, members=len(runs))
    if shape.layers is not None:
        return build_layers([list(r.settings.layers) for r in runs])
    return mlp(
        list(shape.hidden),
        shape.activation,
        batchnorm=shape.batchnorm,
        dropout=[r.settings.dropout for r in runs],
        dropout_mode=[r.settings.dropout_mode for r in runs],
        dropconnect=[r.settings.dropconnect for r in runs],
        kernel_regularizer=penalties,
        kernel_constraint=[constraint_from_table(r.settings.kernel_constraint) for r in runs],
        gaussian_noise=[r.settings.gaussian_noise or 0.0 for r in runs],
        gaussian_dropout=[r.settings.gaussian_dropout or 0.0 for r in runs],
    )
