"""From a spec to the runs it asks for, grouped into populations that train together.

A run is one (variant, seed, repeat, fold). Its key is the sha256 of what its spec says
(:mod:`reglab.study.identity`) as canonical JSON, so the same spec gives the same keys in
any process, on any machine and in later reglab versions, and a rerun recognises what the
store already holds. Runs that share the
architecture and the training shape (every setting in :data:`SHAPE_FIELDS`) train as one
population: one batched forward/backward per step for all of them. Everything else
(seed, fold, dropout, DropConnect, penalty, learning rate, early stopping, learning-rate
schedule, ReduceLROnPlateau) may differ between members. A population is capped by a
memory budget and split when over it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

from reglab.study.identity import legacy_v1_identity, run_identity
from reglab.study.models import layers_structure
from reglab.study.settings import RunSettings
from reglab.study.spec import Spec
from reglab.validate import kfold, validation_split

__all__ = [
    "REFIT_FOLD",
    "SHAPE_FIELDS",
    "Plan",
    "PlannedRun",
    "Population",
    "default_memory_budget",
    "machine_memory",
    "member_bytes",
    "plan_study",
    "run_key",
]

# The settings that must match for runs to share one batched forward/backward pass.
SHAPE_FIELDS = (
    "epochs",
    "batch_size",
    "optimizer",
    "hidden",
    "activation",
    "batchnorm",
    "augment",
    "momentum",
    "weight_decay",  # the engine applies one decoupled decay to the whole population
    "nesterov",  # the optimizer's constants are one per population (clipping is per member)
    "rho",
    "epsilon",
    "centered",
    "beta_1",
    "beta_2",
    "weight_decay_exclude",
    "semantics",
    "layers",  # without their per-member arguments (see reglab.study.models)
    "module",
)

_BYTES = 4  # float32
_OPTIMIZER_STATE = {"sgd": 0, "rmsprop": 1, "adam": 2, "adamw": 2}


# The fold number of a K-fold study's refit run (all training rows, no validation).
REFIT_FOLD = -1


@dataclass(frozen=True, eq=False)
class PlannedRun:
    """One run to train: its identity, its settings and its rows.

    ``train_index`` / ``validation_index`` are None when the run trains on the whole
    training set: it then validates on the dataset's test set, or, for a refit run
    (``fold == REFIT_FOLD``), not at all.
    """

    key: str
    variant: str
    seed: int
    fold: int
    repeat: int
    position: int  # order in the study: variant (spec order), seed, repeat, fold
    settings: RunSettings
    train_index: np.ndarray | None = None
    validation_index: np.ndarray | None = None
    legacy_key: str = ""  # its key in a schema-1 store (every default hashed)

    @property
    def refit(self) -> bool:
        return self.fold == REFIT_FOLD


@dataclass(frozen=True, eq=False)
class Population:
    """Runs that train together; they share every setting in :data:`SHAPE_FIELDS`."""

    runs: list[PlannedRun]

    @property
    def settings(self) -> RunSettings:
        """The shared shape (read the per-member settings from each run)."""
        return self.runs[0].settings

    @property
    def keys(self) -> list[str]:
        return [run.key for run in self.runs]


@dataclass(frozen=True, eq=False)
class Plan:
    """Every run of a study, and the populations they train in."""

    runs: list[PlannedRun]
    populations: list[Population] = field(default_factory=list)
    budget: int = 0  # the memory budget the populations were cut to (bytes)


def run_key(identity: dict) -> str:
    """First 16 hex characters of the sha256 of ``identity`` as canonical JSON.

    Canonical: keys sorted, no spaces, so the key does not depend on dict order.

    Examples
    --------
    >>> run_key({"seed": 0, "variant": "l2"}) == run_key({"variant": "l2", "seed": 0})
    True
    >>> len(run_key({"seed": 0}))
    16
    """
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def member_bytes(
    settings: RunSettings, n_features: int, n_outputs: int, input_shape: tuple | None = None
) -> int:
    """Estimated memory of one population member while it trains, in bytes.

    Parameters, their gradients and optimizer state, a DropConnect mask, and the
    activations of one batch (pre-activation, activation and dropout mask per hidden
    unit, two more with batch norm), all float32.

    Examples
    --------
    >>> member_bytes(RunSettings(hidden=(10,), optimizer="sgd", batch_size=1), 4, 2)
    720

    For ``layers`` the parameters are counted from the built layout and the activations
    from each layer's output shape (three copies each: output, gradient, a mask); for a
    ``module``, from its parameters, with activations guessed as four floats per input
    value and parameter.
    """
    if settings.layers is not None or settings.module is not None:
        return _model_bytes(settings, n_features, n_outputs, input_shape or (n_features,))
    widths = [n_features, *settings.hidden, n_outputs]
    params = sum((a + 1) * b for a, b in itertools.pairwise(widths))
    copies = 2 + _OPTIMIZER_STATE[settings.optimizer]  # weights, gradients, state
    if settings.momentum:
        copies += 1
    if settings.dropconnect:
        copies += 1
    per_unit = 5 if settings.batchnorm else 3
    activations = settings.batch_size * (n_features + per_unit * sum(settings.hidden) + n_outputs)
    return _BYTES * (copies * params + activations)


def _model_bytes(settings: RunSettings, n_features: int, n_outputs: int, input_shape) -> int:
    from reglab.study.models import build_layers, make_module

    copies = 2 + _OPTIMIZER_STATE[settings.optimizer] + (1 if settings.momentum else 0)
    if settings.module is not None:
        params = sum(p.numel() for p in make_module(settings.module).parameters())
        activations = settings.batch_size * 4 * (n_features + params)
        return _BYTES * (copies * params + activations)
    model = build_layers([list(settings.layers)])
    layout = model._build_layout(tuple(input_shape), n_outputs)
    per_sample = n_features + 3 * sum(math.prod(layer.output_shape) for layer in model.layers)
    return _BYTES * (copies * layout.width + settings.batch_size * per_sample)


def default_memory_budget() -> int:
    """A quarter of the machine's memory, at most 2 GiB, per population.

    Examples
    --------
    >>> 0 < default_memory_budget() <= 2 * 1024**3
    True
    """
    cap = 2 * 1024**3
    total = machine_memory()
    return cap if total is None else max(1, min(cap, total // 4))


def machine_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the OS does not say.

    Examples
    --------
    >>> (machine_memory() or 1) > 0
    True
    """
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # not every OS has these names
        return None


def plan_study(
    spec: Spec,
    *,
    n_train: int,
    n_features: int,
    n_outputs: int,
    y_train: np.ndarray | None = None,
    memory_budget: int | None = None,
    input_shape: tuple | None = None,
) -> Plan:
    """Expand a spec into runs (variant x seed x repeat x fold) and populations.

    Parameters
    ----------
    spec : Spec
        The validated study.
    n_train : int
        Rows of the training set the study uses (after ``train_size``).
    n_features, n_outputs : int
        Input width and output units, for the memory estimate.
    y_train : numpy.ndarray, optional
        Training labels, needed by ``validation.stratify``.
    memory_budget : int, optional
        Bytes a population may use; :func:`default_memory_budget` when omitted.
    input_shape : tuple, optional
        Each sample's shape (``(C, H, W)`` for images), for the estimate of ``layers``.

    Returns
    -------
    Plan

    Raises
    ------
    ReglabError
        If the folds or the split cannot be made from ``n_train`` rows.

    Examples
    --------
    >>> from reglab.study.spec import parse_spec
    >>> spec = parse_spec({"name": "s", "dataset": "iris", "seeds": [0, 1],
    ...                    "validation": {"folds": 3},
    ...                    "variants": {"base": {}, "bn": {"batchnorm": True}}})
    >>> plan = plan_study(spec, n_train=112, n_features=4, n_outputs=3)
    >>> len(plan.runs), [len(p.runs) for p in plan.populations]
    (12, [6, 6])
    """
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    splits = _splits(spec, n_train, y_train)
    runs = []
    for variant in spec.variant_names:
        settings = spec.resolve(variant)
        for seed in spec.seeds:
            for fold in splits:
                where = (0, 0) if fold is None else (fold.fold, fold.repeat)
                runs.append(
                    PlannedRun(
                        key=run_key(run_identity(spec, variant, seed, *where)),
                        variant=variant,
                        seed=seed,
                        fold=where[0],
                        repeat=where[1],
                        position=len(runs),
                        settings=settings,
                        train_index=None if fold is None else fold.train,
                        validation_index=None if fold is None else fold.validation,
                        legacy_key=run_key(
                            legacy_v1_identity(spec, variant, settings, seed, *where)
                        ),
                    )
                )
    populations = group_runs(runs, spec, n_features, n_outputs, budget, input_shape)
    return Plan(runs=runs, populations=populations, budget=budget)


def population_shape(settings: RunSettings) -> dict:
    """The settings that must match for runs to train as one population."""
    values = settings.to_json()
    shape = {name: values.get(name) for name in SHAPE_FIELDS}
    shape["layers"] = layers_structure(shape["layers"])
    return shape


def group_runs(
    runs: list[PlannedRun],
    spec: Spec,
    n_features: int,
    n_outputs: int,
    budget: int,
    input_shape: tuple | None = None,
) -> list[Population]:
    """Group runs by shape, in plan order, then split each group to fit ``budget``."""
    groups: dict[str, list[PlannedRun]] = {}
    for run in runs:
        shape = population_shape(run.settings)
        groups.setdefault(json.dumps(shape, sort_keys=True), []).append(run)
    populations = []
    for members in groups.values():
        heaviest = max(
            member_bytes(r.settings, n_features, n_outputs, input_shape) for r in members
        )
        size = max(1, budget // heaviest)  # one member always runs, however large
        if spec.max_members is not None:
            size = min(size, spec.max_members)
        for start in range(0, len(members), size):
            populations.append(Population(runs=members[start : start + size]))
    return populations


def _splits(spec: Spec, n_train: int, y_train: np.ndarray | None) -> list:
    """The folds every (variant, seed) runs on; ``[None]`` for the test set."""
    scheme = spec.validation
    if scheme.kind == "test":
        return [None]
    labels = None
    if scheme.stratify:
        labels = None if y_train is None else np.asarray(y_train)[:n_train]
    if scheme.kind == "split":
        random = scheme.shuffle or scheme.stratify
        return [validation_split(n_train, scheme.split, shuffle=scheme.shuffle,
                                 seed=scheme.seed if random else None, y=labels,
                                 stratify=scheme.stratify)]  # fmt: skip
    return kfold(
        n_train,
        folds=scheme.folds,
        repeats=scheme.repeats,
        shuffle=True,
        seed=scheme.seed,
        y=labels,
        stratify=scheme.stratify,
    )
