"""Keras' optimizer names and defaults, reglab's first-release ones, and the check of a setting.

One declaration (:data:`OPTIONS`, from Keras 3's constructors) says which optimizer has
which setting; ``fit``, the population optimizer and the study spec's cross-checks all
read it. :func:`optimizer_defaults` gives each version of reglab's training semantics its
constants, so that a study stored by the first release resumes with its numbers.
"""

from __future__ import annotations

import torch

from reglab.errors import ReglabError, ReglabTypeError, check_choice, check_number, did_you_mean
from reglab.nn.layout import Layout

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "EXCLUDABLE",
    "FORMULAS",
    "OPTIMIZERS",
    "OPTIONS",
    "decay_mask",
    "optimizer_defaults",
    "optimizers_with",
    "resolve_constants",
]

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
FORMULAS = ("keras", "torch")
# Keras 3's defaults (keras.optimizers.SGD, RMSprop, Adam, AdamW), training semantics 2.
_KERAS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "adamw": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
              "weight_decay": 0.004, "weight_decay_exclude": ()},
}  # fmt: skip
# What reglab's first release (semantics 1) used instead: PyTorch's constants.
_TORCH = {"rmsprop": {"rho": 0.99, "epsilon": 1e-8}, "adam": {"epsilon": 1e-8},
          "adamw": {"epsilon": 1e-8, "weight_decay": 0.0}}  # fmt: skip
DEFAULT_LEARNING_RATES = {name: values["learning_rate"] for name, values in _KERAS.items()}
# Each optimizer's settings: the one declaration fit, make_optimizer and the spec check.
OPTIONS = {
    name: tuple(k for k in values if k != "learning_rate") for name, values in _KERAS.items()
}
# weight_decay_exclude's names and the bank slot kinds each one leaves undecayed.
EXCLUDABLE = {"bias": ("bias",), "batchnorm": ("gamma", "beta")}
_RATES = ("momentum", "rho", "beta_1", "beta_2")  # each a float in [0, 1)
_FLAGS = ("nesterov", "centered")


def optimizer_defaults(name: str, semantics: int) -> dict:
    """Every constant of optimizer ``name`` under a version of reglab's training semantics.

    Parameters
    ----------
    name : {"sgd", "rmsprop", "adam", "adamw"}
    semantics : {1, 2}
        1: reglab's first release (PyTorch's rules and constants); 2: Keras 3's.

    Returns
    -------
    dict
        ``formula`` ("torch" or "keras"), ``learning_rate`` and each of the optimizer's
        settings (:data:`OPTIONS`).

    Examples
    --------
    >>> optimizer_defaults("rmsprop", 2)["rho"], optimizer_defaults("rmsprop", 1)["rho"]
    (0.9, 0.99)
    >>> optimizer_defaults("adamw", 1)["weight_decay"], optimizer_defaults("adamw", 2)["formula"]
    (0.0, 'keras')
    """
    name = check_choice("optimizer", name, OPTIMIZERS)
    if semantics not in (1, 2):
        raise ReglabError(
            f"Invalid value for `semantics`: expected 1 (reglab's first release) or 2 "
            f"(Keras' optimizers). Received: semantics={semantics!r}."
        )
    values = {"formula": "keras", **_KERAS[name]}
    if semantics == 1:
        values.update(formula="torch", **_TORCH.get(name, {}))
    return values


def optimizers_with(option: str) -> tuple[str, ...]:
    """The optimizers that have a setting ``option``.

    Examples
    --------
    >>> optimizers_with("momentum")
    ('sgd', 'rmsprop')
    """
    return tuple(name for name in OPTIMIZERS if option in OPTIONS[name])


def resolve_constants(name: str, formula: str, options: dict) -> dict:
    """Every setting of optimizer ``name``: the given ones (None: unset), checked, over the
    defaults of ``formula`` ("keras": Keras 3's; "torch": reglab's first release).

    Raises
    ------
    ReglabError
        An unknown setting (with the closest name), a value out of range, or a setting
        that would do nothing (one the optimizer does not have, Nesterov without
        momentum, exclusions without decay).

    Examples
    --------
    >>> resolve_constants("rmsprop", "keras", {"rho": 0.8, "momentum": None})["epsilon"]
    1e-07
    >>> resolve_constants("adam", "keras", {"rho": 0.8})
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: Invalid value for `rho`: optimizer 'adam' has no rho setting ...
    """
    name = check_choice("optimizer", name, OPTIMIZERS)
    formula = check_choice("formula", formula, FORMULAS)
    known = sorted({key for keys in OPTIONS.values() for key in keys})
    for key, value in options.items():
        if key not in known:
            raise ReglabTypeError(
                f"Invalid argument `{key}` of the optimizer: expected one of "
                f"{', '.join(known)}{did_you_mean(key, known) or '.'}"
            )
        if value is not None and key not in OPTIONS[name]:
            raise ReglabError(_not_a_setting(name, key, value))
    constants = optimizer_defaults(name, 2 if formula == "keras" else 1)
    constants.update({k: v for k, v in options.items() if v is not None})
    del constants["formula"], constants["learning_rate"]
    return _checked(formula, constants)


def _not_a_setting(name: str, key: str, value) -> str:
    if key == "weight_decay":
        return (
            f"Invalid value for `weight_decay`: decoupled weight decay applies to optimizer "
            f"'adamw' only; for an L2 penalty with {name!r} use kernel_regularizer=L2(...). "
            f"Received: weight_decay={value!r}."
        )
    having = " or ".join(repr(n) for n in optimizers_with(key))
    return (
        f"Invalid value for `{key}`: optimizer {name!r} has no {key} setting "
        f"(use {having}). Received: {key}={value!r}."
    )


def _checked(formula: str, constants: dict) -> dict:
    for key in _RATES:
        if key in constants:
            constants[key] = check_number(key, constants[key], low=0.0, high=1.0, high_open=True)
    if "epsilon" in constants:
        constants["epsilon"] = check_number("epsilon", constants["epsilon"], low=0.0, low_open=True)
    if "weight_decay" in constants:
        constants["weight_decay"] = check_number("weight_decay", constants["weight_decay"], low=0.0)
    for key in _FLAGS:
        if key in constants and not isinstance(constants[key], bool):
            raise ReglabTypeError(
                f"Invalid value for `{key}`: expected True or False. "
                f"Received: {key}={constants[key]!r}."
            )
        if constants.get(key) and formula == "torch":
            raise ReglabError(
                f"Invalid value for `{key}`: reglab's first release (formula 'torch') had "
                f"no {key} option; use formula 'keras'. Received: {key}=True."
            )
    if constants.get("nesterov") and not constants["momentum"]:
        raise ReglabError(
            "Invalid value for `nesterov`: Nesterov momentum has no effect with momentum 0; "
            "give momentum in (0, 1). Received: nesterov=True."
        )
    exclude = constants.get("weight_decay_exclude")
    if exclude:
        if isinstance(exclude, str) or not isinstance(exclude, (list, tuple)):
            raise ReglabTypeError(
                "Invalid value for `weight_decay_exclude`: expected a list of names from "
                f"{', '.join(repr(n) for n in EXCLUDABLE)}. "
                f"Received: weight_decay_exclude={exclude!r}."
            )
        exclude = tuple(check_choice("weight_decay_exclude", n, list(EXCLUDABLE)) for n in exclude)
        if not constants["weight_decay"]:
            raise ReglabError(
                "Invalid value for `weight_decay_exclude`: there is no weight decay to exclude "
                f"from (weight_decay=0). Received: weight_decay_exclude={list(exclude)!r}."
            )
        constants["weight_decay_exclude"] = exclude
    return constants


def decay_mask(exclude: tuple[str, ...], layout: Layout | None, width: int, device) -> torch.Tensor:
    """``(width,)``: 0 on the bank columns of the excluded variables, 1 elsewhere.

    Examples
    --------
    >>> layout = Layout()
    >>> _ = layout.add("dense/kernel", (2, 1), "kernel"), layout.add("dense/bias", (1,), "bias")
    >>> decay_mask(("bias",), layout, 4, "cpu").tolist()
    [1.0, 1.0, 0.0, 1.0]
    """
    if layout is None:
        raise ReglabError(
            "Invalid value for `weight_decay_exclude`: it needs the model's layout to know "
            "which weights are biases or batch-norm parameters."
        )
    mask = torch.ones(width, device=device)
    for name in exclude:
        slots = [s for s in layout.slots.values() if s.kind in EXCLUDABLE[name]]
        if not slots:
            raise ReglabError(
                f"Invalid value for `weight_decay_exclude`: {name!r} matches no weights of "
                f"this model (in a torch.nn.Module, 'bias' covers every 1-D parameter, "
                f"normalization ones included). Received: weight_decay_exclude={list(exclude)!r}."
            )
        for slot in slots:
            mask[slot.offset : slot.offset + slot.stored_size] = 0.0
    return mask
