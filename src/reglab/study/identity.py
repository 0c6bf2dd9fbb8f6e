"""What makes two runs the same run: what their spec says, plus the training semantics.

A run's key hashes the keys the user wrote (after validation: ``"Adam"`` and ``"adam"``
are one optimizer) and :data:`TRAINING_SEMANTICS`, never the defaults a reglab version
happens to fill in. A later reglab that adds a setting with a default therefore leaves
every stored key unchanged, and a store made by an older reglab resumes. A change to
what training computes for the same spec (a default's value, the engine's numerics)
bumps :data:`TRAINING_SEMANTICS` instead, so such runs are not mixed with the new ones: a
study stored under an older semantics resumes with that semantics' numerics
(:meth:`reglab.study.spec.Spec.with_semantics`, chosen by the runner), and a new study
trains with the current one.

Stores of schema version 1 hashed every resolved default; :func:`legacy_v1_key`
recomputes those keys (from the settings version 1 had) so they can be re-keyed once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from reglab.data.options import dataset_info, resolve_options
from reglab.study.settings import TRAINING_SEMANTICS, RunSettings
from reglab.study.spec import Spec

__all__ = ["TRAINING_SEMANTICS", "legacy_v1_identity", "run_identity", "spec_identity"]

# TRAINING_SEMANTICS (defined in reglab.study.settings, which RunSettings needs): bump it
# when the same spec would train to different numbers (see the module docstring).

# The settings a schema-1 key hashed, with every default: frozen as they were then.
_V1_SETTINGS = (
    "epochs", "batch_size", "hidden", "activation", "optimizer", "learning_rate", "momentum",
    "weight_decay", "penalty", "dropout", "dropout_mode", "dropconnect", "batchnorm",
    "early_stopping", "augment",
)  # fmt: skip
# The validation keys version 1 had.
_V1_VALIDATION = ("split", "folds", "repeats", "stratify", "seed")
# The datasets whose options listed `trusted = false` in version 1.
_V1_TRUSTED_OPTION = ("mnist", "fashion_mnist", "imdb", "reuters", "boston_housing")


def _written(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_unset=True)


def spec_identity(spec: Spec) -> dict[str, Any]:
    """What the spec says, as plain JSON: the keys written, validated, no defaults.

    ``max_members`` is left out: it only packs runs into populations.

    Examples
    --------
    >>> from reglab.study.spec import parse_spec
    >>> spec = parse_spec({"name": "s", "dataset": "iris", "variants": {"a": {"dropout": 0.5}}})
    >>> spec_identity(spec)["variants"], "epochs" in spec_identity(spec)
    ({'a': {'dropout': 0.5}}, False)
    """
    out = _written(spec)
    out.pop("max_members", None)
    out["dataset"] = {"name": spec.dataset.name, "options": spec.dataset.written_options}
    out["semantics"] = spec.semantics
    return out


def variant_identity(spec: Spec, variant: str) -> dict[str, Any]:
    """A variant's written settings: its keys over the ``[model]`` keys over the study's."""
    chosen = {name: getattr(spec, name) for name in ("epochs", "batch_size")
              if name in spec.model_fields_set}  # fmt: skip
    for layer in (spec.model, spec.variants[variant]):
        chosen.update(_written(layer))
    if "module" in chosen:  # the module's code is part of what trains
        from reglab.study.models import module_fingerprint

        chosen["module_sha256"] = module_fingerprint(chosen["module"])
    return chosen


def run_identity(spec: Spec, variant: str, seed: int, fold: int, repeat: int) -> dict[str, Any]:
    """Everything a run's key hashes.

    Examples
    --------
    >>> from reglab.study.spec import parse_spec
    >>> spec = parse_spec({"name": "s", "dataset": "iris", "variants": {"a": {}}})
    >>> sorted(run_identity(spec, "a", 0, 0, 0))
    ['dataset', 'fold', 'repeat', 'seed', 'semantics', 'settings', 'study', 'validation', 'variant']
    """
    identity = {
        "semantics": spec.semantics,
        "study": spec.name,
        "variant": variant,
        "dataset": {"name": spec.dataset.name, "options": spec.dataset.written_options},
        "validation": _written(spec.validation),
        "settings": variant_identity(spec, variant),
        "seed": seed,
        "fold": fold,
        "repeat": repeat,
    }
    for name in ("train_size", "label_noise"):
        if name in spec.model_fields_set:
            identity[name] = getattr(spec, name)
    return identity


def legacy_v1_identity(
    spec: Spec, variant: str, settings: RunSettings, seed: int, fold: int, repeat: int
) -> dict[str, Any]:
    """What reglab's first release hashed for this run (every resolved default)."""
    resolved: dict[str, Any] = {}
    for name in _V1_SETTINGS:
        value = getattr(settings, name)
        resolved[name] = value.model_dump() if isinstance(value, BaseModel) else value
    resolved["hidden"] = list(settings.hidden)
    resolved["learning_rate"] = settings.resolved_learning_rate
    for name in ("momentum", "weight_decay"):  # unset (None) now; version 1 filled in 0.0
        resolved[name] = resolved[name] or 0.0
    options = resolve_options(dataset_info(spec.dataset.name), spec.dataset.written_options)
    if spec.dataset.name in _V1_TRUSTED_OPTION:
        options["trusted"] = False
    return {
        "study": spec.name,
        "variant": variant,
        "dataset": {"name": spec.dataset.name, "options": options},
        "train_size": spec.train_size,
        "label_noise": spec.label_noise,
        "validation": spec.validation.model_dump(mode="json", include=set(_V1_VALIDATION)),
        "settings": resolved,
        "seed": seed,
        "fold": fold,
        "repeat": repeat,
    }
