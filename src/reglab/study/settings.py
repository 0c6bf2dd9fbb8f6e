"""The typed pieces of a study spec: training settings, penalty, early stopping, augmentation.

Each class is a strict pydantic model (unknown keys refused, no silent type coercion:
``epochs = 10.0`` is an error, not 10), so that every mistake in a spec is reported with
its path. A variant is a :class:`VariantSettings`: any of these keys, overriding the
study's; :class:`RunSettings` is the fully resolved result the planner works with.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reglab.errors import ReglabError
from reglab.nn import ACTIVATIONS, L1, L2, ElasticNet, Penalty
from reglab.train import EarlyStopping, ReduceLROnPlateau
from reglab.train.lr_schedules import SCHEDULES
from reglab.train.optimizer_settings import (
    DEFAULT_LEARNING_RATES,
    EXCLUDABLE,
    OPTIMIZERS,
    OPTIONS,
    optimizer_defaults,
)

__all__ = [
    "TRAINING_SEMANTICS",
    "AugmentSettings",
    "EMASettings",
    "EarlyStoppingSettings",
    "LrScheduleSettings",
    "MixSettings",
    "ModelSettings",
    "PenaltySettings",
    "ReduceLROnPlateauSettings",
    "RunSettings",
    "SWASettings",
    "VariantSettings",
    "problem",
]

STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)

# Settings added after the first release that are left out of to_json() while unset.
LATER_SETTINGS = ("label_smoothing", "mixup", "cutmix", "ema", "swa",
                  "gaussian_noise", "gaussian_dropout", "kernel_constraint")  # fmt: skip

# What training computes for a spec; a run's identity hashes it (reglab.study.identity,
# which imports this module, so the constant lives here). 1: the first release
# (PyTorch's optimizer rules and constants); 2: Keras' optimizers.
TRAINING_SEMANTICS = 2

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


def problem(message: str) -> PydanticCustomError:
    """A complete reglab message that pydantic carries with its location.

    The message travels as context, never as the template, so braces in user values
    cannot break pydantic's formatting.
    """
    return PydanticCustomError("reglab_problem", "{message}", {"message": message})


def _choice(value: Any, choices: list[str]) -> str:
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    listed = ", ".join(repr(c) for c in choices)
    raise PydanticCustomError(
        "reglab_value", "one of {choices}", {"choices": listed, "options": choices}
    )


class PenaltySettings(BaseModel):
    """A weight penalty on the hidden kernels: L1, L2, or both (ElasticNet)."""

    model_config = STRICT

    l1: NonNegativeFloat | None = None
    l2: NonNegativeFloat | None = None
    proximal_l1: bool = False  # soft-thresholding step: exact zeros, reported as sparsity

    @model_validator(mode="after")
    def _something_to_do(self) -> PenaltySettings:
        if self.l1 is None and self.l2 is None:
            raise problem("a penalty needs `l1`, `l2` or both")
        if self.proximal_l1 and not self.l1:
            raise problem("`proximal_l1 = true` has no effect without an `l1` strength")
        return self

    def build(self) -> Penalty:
        """The engine's penalty object: ``L1``, ``L2`` or ``ElasticNet``."""
        if self.l1 is not None and self.l2 is not None:
            return ElasticNet(self.l1, self.l2, proximal=self.proximal_l1)
        if self.l1 is not None:
            return L1(self.l1, proximal=self.proximal_l1)
        return L2(self.l2)


class EarlyStoppingSettings(BaseModel):
    """Keras 3's ``EarlyStopping`` arguments (``restore_best`` = ``restore_best_weights``)."""

    model_config = STRICT

    monitor: str = "val_loss"
    mode: str = "auto"
    patience: NonNegativeInt = 0
    min_delta: NonNegativeFloat = 0.0
    baseline: float | None = None
    start_from_epoch: NonNegativeInt = 0
    restore_best: bool = False

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> str:
        return _choice(value, ["auto", "min", "max"])

    def build(self) -> EarlyStopping:
        """The engine's callback."""
        return EarlyStopping(**self.model_dump())


def _built(settings: BaseModel):
    """``settings.build()``, its library's refusal carried as the spec's problem.

    The library checks the values (one definition of each rule); pydantic only the types.
    """
    try:
        return settings.build()
    except ReglabError as error:
        raise problem(str(error)) from None


class LrScheduleSettings(BaseModel):
    """A per-epoch learning-rate schedule (``reglab.StepDecay``, ``ExponentialDecay``,
    ``CosineDecay``), from the member's ``learning_rate``; see docs/spec.md."""

    model_config = STRICT

    type: str
    decay_epochs: int
    # Unset ones take the schedule's defaults; which type takes which: its signature.
    decay_rate: float | None = None  # step, exponential
    alpha: float | None = None  # cosine
    warmup_epochs: int | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> str:
        return _choice(value, list(SCHEDULES))

    @model_validator(mode="after")
    def _valid(self) -> LrScheduleSettings:
        signature = inspect.signature(SCHEDULES[self.type]).parameters
        takes = {n: p for n, p in signature.items() if n in type(self).model_fields}
        for name in ("decay_rate", "alpha"):
            if getattr(self, name) is not None and name not in takes:
                raise problem(
                    f"`{name}` does not apply to lr_schedule type '{self.type}', which takes "
                    + ", ".join(f"`{p}`" for p in takes)
                )
            required = name in takes and takes[name].default is inspect.Parameter.empty
            if getattr(self, name) is None and required:
                raise problem(f"lr_schedule type '{self.type}' needs `{name}`")
        _built(self)
        return self

    def build(self):
        """The engine's schedule callback."""
        arguments = self.model_dump(exclude={"type"}, exclude_none=True)
        return SCHEDULES[self.type](**arguments)


class ReduceLROnPlateauSettings(BaseModel):
    """Keras' ``ReduceLROnPlateau`` arguments; an unset one takes the library's default."""

    model_config = STRICT

    monitor: str | None = None
    factor: float | None = None
    patience: int | None = None
    mode: str | None = None
    min_delta: float | None = None
    cooldown: int | None = None
    min_lr: float | None = None

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> str:
        return _choice(value, ["auto", "min", "max"])

    @model_validator(mode="after")
    def _valid(self) -> ReduceLROnPlateauSettings:
        _built(self)
        return self

    def build(self) -> ReduceLROnPlateau:
        """The engine's callback."""
        return ReduceLROnPlateau(**self.model_dump(exclude_none=True))


class AugmentSettings(BaseModel):
    """Random rotation (degrees), zoom range and shift (fraction) of training images."""

    model_config = STRICT

    rotation: Annotated[float, Field(ge=0.0, le=180.0)] = 0.0
    scale: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=2, max_length=2)] = [
        1.0,
        1.0,
    ]
    translate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0

    @model_validator(mode="after")
    def _ordered_scale(self) -> AugmentSettings:
        if self.scale[0] > self.scale[1]:
            raise problem(f"`scale` must be [low, high] with low <= high, not {self.scale}")
        return self


class MixSettings(BaseModel):
    """``mixup`` / ``cutmix``: the ``alpha`` of ``Beta(alpha, alpha)`` (see reglab.train.mixing)."""

    model_config = STRICT

    alpha: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class EMASettings(BaseModel):
    """``ema``: Keras' ``ema_momentum`` (an average of the weights after every step)."""

    model_config = STRICT

    momentum: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.99  # Keras' default


class SWASettings(BaseModel):
    """``swa``: equal average of the epoch-end weights from ``start_epoch`` (1-based) on,
    trained with the constant rate ``lr`` from then on (the member's own rate if omitted)."""

    model_config = STRICT

    start_epoch: PositiveInt
    lr: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None

    def build(self):
        """The engine's :class:`reglab.SWA`."""
        from reglab.train.swa import SWA

        return SWA(self.start_epoch, self.lr)


class ModelSettings(BaseModel):
    """The ``[model]`` table: architecture, optimizer and study-wide regularization.

    The architecture is the MLP shorthand (``hidden``, ``activation``, ``batchnorm``,
    ``dropout``, ``dropconnect``), or ``layers`` (reglab layers named as Keras names
    them), or ``module`` (``"package.module:factory"``, your own ``torch.nn.Module``).
    """

    model_config = STRICT

    layers: Annotated[list[Any], Field(min_length=1)] | None = None
    module: str | None = None

    hidden: list[PositiveInt] | None = None
    activation: str | None = None
    optimizer: str | None = None
    learning_rate: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None
    momentum: Rate | None = None
    weight_decay: NonNegativeFloat | None = None
    # Keras' optimizer arguments (docs/spec.md says which optimizer has which).
    nesterov: bool | None = None
    rho: Rate | None = None
    epsilon: PositiveFloat | None = None
    centered: bool | None = None
    beta_1: Rate | None = None
    beta_2: Rate | None = None
    weight_decay_exclude: Annotated[list[str], Field(min_length=1)] | None = None
    clipnorm: PositiveFloat | None = None
    clipvalue: PositiveFloat | None = None
    global_clipnorm: PositiveFloat | None = None
    penalty: PenaltySettings | None = None
    dropout: Rate | None = None
    dropout_mode: str | None = None
    dropconnect: Rate | None = None
    # Keras' GaussianNoise (on the inputs) and GaussianDropout (after each hidden
    # activation), and a constraint on every hidden kernel: the MLP shorthand's keys.
    gaussian_noise: NonNegativeFloat | None = None
    gaussian_dropout: Rate | None = None
    kernel_constraint: dict[str, Any] | None = None
    batchnorm: bool | None = None
    early_stopping: EarlyStoppingSettings | None = None
    augment: AugmentSettings | None = None
    label_smoothing: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    mixup: MixSettings | None = None
    cutmix: MixSettings | None = None
    ema: EMASettings | None = None
    swa: SWASettings | None = None
    lr_schedule: LrScheduleSettings | None = None
    reduce_lr_on_plateau: ReduceLROnPlateauSettings | None = None

    @field_validator("activation", mode="before")
    @classmethod
    def _activation(cls, value: Any) -> str:
        return _choice(value, sorted(ACTIVATIONS))

    @field_validator("layers", mode="before")
    @classmethod
    def _layers(cls, value: Any) -> Any:
        from reglab.errors import ReglabError
        from reglab.study.models import check_layer_table

        if not isinstance(value, list):
            return value  # pydantic words the type error
        tables = []
        for i, table in enumerate(value):
            try:
                tables.append(check_layer_table(table))
            except ReglabError as error:
                raise problem(f"layer {i}: {error}") from None
        return tables

    @field_validator("module", mode="before")
    @classmethod
    def _module(cls, value: Any) -> Any:
        from reglab.errors import ReglabError
        from reglab.study.models import make_module

        if not isinstance(value, str):
            return value
        try:
            make_module(value)
        except ReglabError as error:
            raise problem(str(error)) from None
        return value

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer(cls, value: Any) -> str:
        return _choice(value, list(OPTIMIZERS))

    @field_validator("kernel_constraint")
    @classmethod
    def _kernel_constraint(cls, value: Any) -> Any:
        from reglab.study.models import constraint_from_table  # models imports this module

        try:
            constraint_from_table(value)
        except (ReglabError, TypeError) as error:
            raise problem(str(error).removeprefix("kernel_constraint: ")) from None
        return value

    @field_validator("weight_decay_exclude", mode="before")
    @classmethod
    def _weight_decay_exclude(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value  # pydantic words the type error
        return [_choice(name, list(EXCLUDABLE)) for name in value]

    @field_validator("dropout_mode", mode="before")
    @classmethod
    def _dropout_mode(cls, value: Any) -> str:
        return _choice(value, ["inverted", "classic"])


class VariantSettings(ModelSettings):
    """A ``[variants.NAME]`` table: any model key, plus ``epochs`` and ``batch_size``."""

    epochs: PositiveInt | None = None
    batch_size: PositiveInt | None = None


@dataclass(frozen=True)
class RunSettings:
    """Every setting of one variant, resolved: the variant over the study over the defaults.

    Examples
    --------
    >>> s = RunSettings(epochs=5)
    >>> s.optimizer, s.resolved_learning_rate
    ('adam', 0.001)
    """

    epochs: int = 20
    batch_size: int = 32
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    optimizer: str = "adam"
    learning_rate: float | None = None  # None: Keras' default for the optimizer
    momentum: float | None = None  # None: the optimizer's default (under `semantics`)
    weight_decay: float | None = None
    penalty: PenaltySettings | None = None
    dropout: float = 0.0
    dropout_mode: str = "inverted"
    dropconnect: float = 0.0
    gaussian_noise: float | None = None  # None: no such layer
    gaussian_dropout: float | None = None
    kernel_constraint: dict | None = None
    batchnorm: bool = False
    early_stopping: EarlyStoppingSettings | None = None
    augment: AugmentSettings | None = None
    # Added after the first release: absent from a run's identity while unset, so that
    # the runs of older stores keep their keys.
    layers: tuple[dict, ...] | None = None
    module: str | None = None
    label_smoothing: float | None = None
    mixup: MixSettings | None = None
    cutmix: MixSettings | None = None
    ema: EMASettings | None = None
    swa: SWASettings | None = None
    lr_schedule: LrScheduleSettings | None = None
    reduce_lr_on_plateau: ReduceLROnPlateauSettings | None = None
    nesterov: bool | None = None
    rho: float | None = None
    epsilon: float | None = None
    centered: bool | None = None
    beta_1: float | None = None
    beta_2: float | None = None
    weight_decay_exclude: tuple[str, ...] | None = None
    clipnorm: float | None = None  # the clipping thresholds may differ between members
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    # The training semantics to train with: the current one, or an older study's (its
    # runs resume with the numbers they were trained with).
    semantics: int = TRAINING_SEMANTICS

    def optimizer_constants(self, semantics: int | None = None) -> dict:
        """``fit``'s optimizer settings: ``formula`` and every setting of the optimizer,
        the written ones over :func:`~reglab.train.optimizers.optimizer_defaults`.

        Parameters
        ----------
        semantics : int, optional
            The training semantics whose defaults fill the unset settings;
            :attr:`semantics` when omitted.

        Examples
        --------
        >>> RunSettings(optimizer="rmsprop", rho=0.8).optimizer_constants(semantics=1)
        {'formula': 'torch', 'rho': 0.8, 'momentum': 0.0, 'epsilon': 1e-08, 'centered': False}
        """
        constants = optimizer_defaults(
            self.optimizer, self.semantics if semantics is None else semantics
        )
        del constants["learning_rate"]  # per member: resolved_learning_rate
        for key in OPTIONS[self.optimizer]:
            if getattr(self, key) is not None:
                constants[key] = getattr(self, key)
        return constants

    @property
    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return DEFAULT_LEARNING_RATES[self.optimizer]

    def to_json(self) -> dict:
        """Plain JSON values, every default filled in (the basis of run keys)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.model_dump() if isinstance(value, BaseModel) else value
        out["hidden"] = list(self.hidden)
        out["learning_rate"] = self.resolved_learning_rate
        for name in ("layers", "module", *LATER_SETTINGS):
            if out[name] is None:
                del out[name]
        if "layers" in out:
            out["layers"] = [dict(table) for table in self.layers]
        if self.module is not None:
            from reglab.study.models import module_fingerprint

            out["module_sha256"] = module_fingerprint(self.module)
        return out
