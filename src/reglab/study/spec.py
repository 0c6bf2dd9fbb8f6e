"""The study spec: a TOML file naming the dataset, the model, the variants, seeds and folds.

:func:`load_spec` reads and validates a spec and reports every problem at once, each
with its dotted path, as one :class:`SpecError` line. The keys are documented in
``docs/spec.md``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from reglab.data.options import dataset_info, resolve_options
from reglab.errors import ReglabError, did_you_mean
from reglab.study.settings import (
    STRICT,
    TRAINING_SEMANTICS,
    ModelSettings,
    NonNegativeInt,
    PositiveInt,
    RunSettings,
    VariantSettings,
    problem,
)
from reglab.study.spec_errors import SpecError, describe_errors
from reglab.study.sweeps import SweepPoint, expand_sweeps
from reglab.train.clipping import CLIP_OPTIONS, check_clipping
from reglab.train.optimizer_settings import OPTIONS, optimizers_with, resolve_constants

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DatasetSpec", "Spec", "SpecError", "ValidationSpec", "load_spec", "parse_spec"]


class DatasetSpec(BaseModel):
    """``dataset = "name"`` or ``dataset = { name = "imdb", num_words = 10000 }``."""

    model_config = STRICT

    name: str
    options: dict[str, Any] = {}
    _written: tuple[str, ...] = PrivateAttr(default=())  # the option keys the spec gives

    @model_validator(mode="before")
    @classmethod
    def _from_toml(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and "options" not in value:
            rest = {k: v for k, v in value.items() if k != "name"}
            return {"name": value.get("name"), "options": rest} if "name" in value else value
        return value

    @model_validator(mode="after")
    def _known(self) -> DatasetSpec:
        if "trusted" in self.options:
            # A spec is shared text; vouching for a file is the runner's own act.
            raise problem(
                "`trusted` is not a spec key: trusting a data file is up to the person "
                "running reglab; remove it and pass `reglab run SPEC --trust-data FILE` "
                "(or `load_dataset(..., trusted=[FILE])` in Python)"
            )
        try:
            info = dataset_info(self.name)
            options = resolve_options(info, self.options)
        except ReglabError as error:  # the data layer's own message, with its suggestion
            raise problem(str(error)) from None
        self._written = tuple(sorted(self.options))
        object.__setattr__(self, "name", info.name)
        object.__setattr__(self, "options", options)
        return self

    @property
    def written_options(self) -> dict[str, Any]:
        """The options the spec gives, validated (the defaults are not part of a run's key)."""
        return {key: self.options[key] for key in self._written}


class ValidationSpec(BaseModel):
    """Where the validation rows come from; the dataset's test set is scored at the end.

    ``{ split = 0.2 }`` (Keras' rule: the last fraction of the training rows; ``shuffle``
    or ``stratify`` draw them at random), ``{ folds = 4 }`` (K-fold; ``refit = true``
    then trains one run per seed on all training rows for the epochs the folds chose),
    or ``"test"``: the test set itself validates, as the tutorials do, and its numbers
    are then optimistic (the report says so).
    """

    model_config = STRICT

    split: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    folds: Annotated[int, Field(ge=2)] | None = None
    repeats: PositiveInt = 1
    shuffle: bool = False
    stratify: bool = False
    refit: bool = False
    # Of the fold shuffle or the split's draw (the same rows for every run seed); NumPy's
    # seeds are 32-bit.
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0

    @model_validator(mode="before")
    @classmethod
    def _from_toml(cls, value: Any) -> Any:
        if value == "test":
            return {}
        if isinstance(value, str):
            raise problem(
                f'expected "test", {{ split = FRACTION }} or {{ folds = K }}; received {value!r}'
            )
        return value

    @model_validator(mode="after")
    def _one_scheme(self) -> ValidationSpec:
        if self.split is not None and self.folds is not None:
            raise problem("give either `split` or `folds`, not both")
        if self.folds is None and (self.repeats != 1 or self.refit):
            raise problem("`repeats` and `refit` apply to K-fold only: add `folds`")
        if self.split is None and self.shuffle:
            raise problem("`shuffle` applies to a split only (K-fold always shuffles): add `split`")
        if self.kind == "test" and (self.stratify or self.seed != 0):
            raise problem(
                "`stratify` and `seed` apply to a split or K-fold: add `split` or `folds`"
            )
        if self.kind == "split" and self.seed != 0 and not (self.shuffle or self.stratify):
            raise problem(
                "`seed` has no effect on a split that takes the last rows: add "
                "`shuffle = true` or drop `seed`"
            )
        return self

    @property
    def kind(self) -> str:
        """``"test"``, ``"split"`` or ``"kfold"``."""
        if self.folds is not None:
            return "kfold"
        return "split" if self.split is not None else "test"


class Spec(BaseModel):
    """A validated study spec.

    Build one with :func:`load_spec` (a TOML file) or :func:`parse_spec` (a dict).

    Examples
    --------
    >>> spec = parse_spec({"name": "tiny", "dataset": "iris", "epochs": 3,
    ...                    "variants": {"baseline": {}, "l2": {"penalty": {"l2": 0.01}}}})
    >>> spec.variant_names, spec.resolve("l2").penalty.l2, spec.resolve("l2").epochs
    (['baseline', 'l2'], 0.01, 3)
    """

    model_config = STRICT

    name: Annotated[str, Field(min_length=1)]
    dataset: DatasetSpec
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 32
    seeds: Annotated[list[NonNegativeInt], Field(min_length=1)] = [0]
    validation: ValidationSpec = ValidationSpec()
    train_size: PositiveInt | None = None  # keep the first N training rows (smaller = overfit)
    # Replace this fraction of the training labels by random classes (test labels stay
    # true): a model that memorises its training set then pays for it on the test set.
    label_noise: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    max_members: PositiveInt | None = None  # cap on a population's size
    model: ModelSettings = ModelSettings()
    variants: Annotated[dict[str, VariantSettings], Field(min_length=1)]
    # Each variant a sweep made (parse_spec expands sweeps before validation).
    _sweeps: dict[str, SweepPoint] = PrivateAttr(default_factory=dict)
    # What training computes (reglab.study.identity): the current semantics, or the
    # older one a stored study was trained with, which it resumes with.
    _semantics: int = PrivateAttr(default=TRAINING_SEMANTICS)

    @property
    def semantics(self) -> int:
        """The training semantics this study trains with (see :meth:`with_semantics`)."""
        return self._semantics

    def with_semantics(self, semantics: int) -> Spec:
        """The same spec trained with an older training semantics' numerics.

        A study stored by an earlier reglab (semantics 1: PyTorch's optimizer rules and
        constants) resumes with them, so all its runs share one set of numerics.

        Examples
        --------
        >>> spec = parse_spec({"name": "s", "dataset": "iris", "variants": {"a": {}}})
        >>> spec.with_semantics(1).resolve("a").optimizer_constants()["formula"]
        'torch'
        >>> spec.semantics == TRAINING_SEMANTICS
        True
        """
        if semantics not in range(1, TRAINING_SEMANTICS + 1):
            raise ReglabError(
                f"Invalid training semantics {semantics!r}: this reglab knows 1 to "
                f"{TRAINING_SEMANTICS}; upgrade reglab to resume this study."
            )
        twin = self.model_copy()
        twin._semantics = semantics
        return twin

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise problem(f"seeds must be distinct, received {seeds}")
        return seeds

    @property
    def variant_names(self) -> list[str]:
        """The variants in the order the spec lists them."""
        return list(self.variants)

    @property
    def sweeps(self) -> dict[str, SweepPoint]:
        """The variants made by a sweep: name -> its :class:`~reglab.study.sweeps.SweepPoint`.

        Examples
        --------
        >>> spec = parse_spec({"name": "s", "dataset": "iris",
        ...                    "variants": {"dropout": {"dropout": [0.1, 0.5]}}})
        >>> spec.variant_names, spec.sweeps["dropout=0.5"].key
        (['dropout=0.1', 'dropout=0.5'], 'dropout')
        """
        return dict(self._sweeps)

    def resolve(self, variant: str) -> RunSettings:
        """One variant's settings: its own keys over the study's over the defaults."""
        chosen: dict[str, Any] = {"epochs": self.epochs, "batch_size": self.batch_size}
        for layer in (self.model, self.variants[variant]):
            chosen.update(layer.model_dump(exclude_none=True, exclude_unset=True))
            for name in type(layer).model_fields:
                if isinstance(getattr(layer, name), BaseModel):
                    chosen[name] = getattr(layer, name)  # keep the model, not its dump
        for name in ("hidden", "weight_decay_exclude"):
            if name in chosen:
                chosen[name] = tuple(chosen[name])
        if "layers" in chosen:
            chosen["layers"] = _layers_with_overrides(chosen)
        return RunSettings(**chosen, semantics=self._semantics)

    def to_json(self) -> dict:
        """The spec with every default filled in, as plain JSON values."""
        out = self.model_dump(mode="json")
        out["resolved"] = {v: self.resolve(v).to_json() for v in self.variants}
        if self._sweeps:  # for the report's strength curves; absent without sweeps
            out["sweeps"] = {name: point.to_json() for name, point in self._sweeps.items()}
        return out


WEIGHTED_LAYERS = ("dense", "dropconnect", "conv2d")


def _layers_with_overrides(chosen: dict) -> tuple[dict, ...]:
    """``layers`` with the shorthand keys that keep their meaning applied: ``dropout``
    sets every Dropout layer's rate, ``penalty`` every hidden (not last) weighted layer's
    kernel_regularizer, as they do for the MLP shorthand."""
    tables = [dict(table) for table in chosen["layers"]]
    if "dropout" in chosen:
        for table in tables:
            if table["type"] == "dropout":
                table["rate"] = chosen["dropout"]
    if chosen.get("penalty") is not None:
        weighted = [t for t in tables if t["type"] in WEIGHTED_LAYERS]
        for table in weighted[:-1]:
            table["kernel_regularizer"] = chosen["penalty"].model_dump(exclude_none=True)
    return tuple(tables)


def parse_spec(data: dict, source: str = "<spec>") -> Spec:
    """Validate a spec given as a dict (what ``tomllib`` reads from a file).

    Parameters
    ----------
    data : dict
        The spec's tables and keys.
    source : str, default "<spec>"
        Where it came from, named at the start of any error message.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        With every problem found, each with its dotted path, in one line.

    Examples
    --------
    >>> parse_spec({"name": "x", "dataset": "iris", "variants": {"a": {"dropuot": 0.5}}},
    ...            source="study.toml")
    Traceback (most recent call last):
    ...
    reglab.study.spec_errors.SpecError: study.toml: unknown key 'dropuot' at variants.a; ...
    """
    if not isinstance(data, dict):
        raise SpecError(source, [f"expected a table of keys, received {type(data).__name__}"])
    sweeps = None
    if isinstance(data.get("variants"), dict):
        sweeps = expand_sweeps(data["variants"], VariantSettings, data.get("model"))
        data = {**data, "variants": sweeps.variants}
        if "model" in data:
            data["model"] = sweeps.model
    problems = list(sweeps.problems) if sweeps else []
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        raise SpecError(source, problems + describe_errors(error, Spec)) from None
    if problems:
        raise SpecError(source, problems)
    spec._sweeps = sweeps.points if sweeps else {}
    problems = _cross_checks(spec)
    if problems:
        raise SpecError(source, problems)
    return spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate a study spec from a TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The spec file.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        If the file is missing or unreadable, is not valid TOML (line and column
        given), or holds invalid keys or values (all of them listed).

    Examples
    --------
    >>> load_spec("no-such-spec.toml")
    Traceback (most recent call last):
    ...
    reglab.study.spec_errors.SpecError: no-such-spec.toml: no such file
    """
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError(source, ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(source, [f"cannot read the spec ({error})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(source, [f"invalid TOML: {error}"]) from None
    return parse_spec(data, source)


# Every optimizer setting a spec may give (each optimizer has some of them).
OPTION_KEYS = tuple(sorted({key for keys in OPTIONS.values() for key in keys}))

SHORTHAND_KEYS = ("hidden", "activation", "batchnorm", "dropconnect", "dropout_mode",
                  "gaussian_noise", "gaussian_dropout", "kernel_constraint")  # fmt: skip


def _model_checks(spec: Spec, variant: str, settings, info) -> list[str]:
    """The model form's own rules: keys that mean nothing for it, shapes that cannot build."""
    chosen = {
        key
        for table in (spec.model, spec.variants[variant])
        for key in table.model_dump(exclude_none=True, exclude_unset=True)
    }
    where = f"variants.{variant}"
    if settings.layers is not None and settings.module is not None:
        return [f"{where} names both `layers` and `module`: give one model"]
    if settings.module is not None:
        extra = sorted(chosen & {*SHORTHAND_KEYS, "dropout"})
        return [
            f"{key} at {where} applies to the MLP shorthand or `layers`; a `module` makes its "
            "own layers (give it arguments in its factory)"
            for key in extra
        ]
    if settings.layers is None:
        return []
    problems = [
        f"{key} at {where} applies to the MLP shorthand; with `layers` write it into the "
        "layer tables"
        for key in sorted(chosen & set(SHORTHAND_KEYS))
    ]
    if "dropout" in chosen and not any(t["type"] == "dropout" for t in settings.layers):
        problems.append(
            f"dropout at {where} sets the rate of the model's Dropout layers, and its "
            'layers have none; add { type = "dropout", rate = ... }'
        )
    problems += _shape_problems(where, settings.layers, info)
    return problems


def _shape_problems(where: str, tables, info) -> list[str]:
    """Build the layers for the dataset's sample shape: a Conv2D on tabular data, a Dense
    without Flatten or a last layer of the wrong width is found before any training."""
    from reglab.study.models import build_layers

    if info.input_shape is None:  # sequences: multi-hot rows of the vocabulary's width
        shape: tuple[int, ...] = (1,)
    elif info.input_kind == "images":
        shape = (1, *info.input_shape) if len(info.input_shape) == 2 else info.input_shape
    else:
        shape = tuple(info.input_shape)
    classes = re.search(r"\((\d+) classes\)", info.task)
    outputs = int(classes.group(1)) if classes else 1
    try:
        build_layers([list(tables)])._build_layout(shape, outputs)
    except ReglabError as error:
        return [f"layers at {where} cannot take {info.name}'s samples {shape}: {error}"]
    return []


def history_columns(info) -> tuple[str, ...]:
    """The History columns every run of a study on this dataset will have.

    Examples
    --------
    >>> history_columns(dataset_info("diabetes"))[-1]
    'val_mae'
    """
    metric = "mae" if info.task == "regression" else "accuracy"
    return ("loss", "data_loss", "penalty", metric, "val_loss", f"val_{metric}")


def _soft_target_and_averaging_checks(variant: str, settings, info) -> list[str]:
    """What fit would refuse for ``label_smoothing``, ``mixup``, ``cutmix``, ``ema``, ``swa``."""
    where = f"variants.{variant}"
    problems = []
    mixing = [name for name in ("mixup", "cutmix") if getattr(settings, name) is not None]
    if info.task == "regression":
        for name in ([] if not settings.label_smoothing else ["label_smoothing"]) + mixing:
            problems.append(f"{name} at {where} applies to class labels; dataset "
                            f"'{info.name}' is a regression task")  # fmt: skip
    if len(mixing) == 2:
        problems.append(f"mixup and cutmix at {where}: a run mixes one way; give one")
    if settings.cutmix is not None and info.input_kind != "images":
        problems.append(f"cutmix at {where} needs image data; dataset '{info.name}' is "
                        f"{info.input_kind}")  # fmt: skip
    if settings.mixup is not None and info.input_kind == "sequences":
        problems.append(f"mixup at {where} cannot mix multi-hot sequences (dataset "
                        f"'{info.name}')")  # fmt: skip
    swa, ema, stopping = settings.swa, settings.ema, settings.early_stopping
    if swa is not None and swa.start_epoch > settings.epochs:
        problems.append(f"swa.start_epoch = {swa.start_epoch} at {where} is after the last "
                        f"epoch ({settings.epochs}): nothing would be averaged")  # fmt: skip
    if swa is not None and ema is not None:
        problems.append(f"ema and swa at {where}: a run ends with one average; give one")
    if stopping is not None and stopping.restore_best:
        for name in ("ema", "swa"):
            if getattr(settings, name) is not None:
                problems.append(
                    f"{name} at {where} with early_stopping.restore_best: the restored best "
                    "weights would replace the average, so it would do nothing"
                )
    return problems


def _optimizer_checks(variant: str, settings: RunSettings) -> list[str]:
    """Settings the variant's optimizer does not have, and fit's own checks of the rest
    (Nesterov without momentum, more than one kind of clipping, exclusions from no decay)."""
    where = f"variants.{variant}"
    name = settings.optimizer
    unknown = [
        f"{key} at {where} applies to {' and '.join(optimizers_with(key))} only, not '{name}'"
        for key in OPTION_KEYS
        if key != "weight_decay" and getattr(settings, key) is not None and key not in OPTIONS[name]
    ]  # weight_decay has its own message (an L2 penalty may be meant)
    if unknown:
        return unknown
    problems = []
    constants = settings.optimizer_constants()
    try:
        resolve_constants(name, constants.pop("formula"), constants)
        check_clipping(1, **{key: getattr(settings, key) for key in CLIP_OPTIONS})
    except ReglabError as error:
        problems.append(f"{where}: {error}")
    exclude = settings.weight_decay_exclude or ()
    if "batchnorm" in exclude and _has_no_batchnorm(settings):
        problems.append(
            f"weight_decay_exclude at {where} names 'batchnorm' but the model has no batch "
            "normalization with gamma and beta"
        )
    return problems


def _has_no_batchnorm(settings: RunSettings) -> bool:
    """For the MLP shorthand and ``layers``; a ``module``'s parameters are checked by fit."""
    if settings.module is not None:
        return False
    if settings.layers is None:
        return not settings.batchnorm
    return not any(
        t["type"] == "batch_normalization" and t.get("affine", True) for t in settings.layers
    )


def _cross_checks(spec: Spec) -> list[str]:
    """Problems that need several keys at once (or the dataset's facts) to see."""
    problems = []
    info = dataset_info(spec.dataset.name)
    columns = history_columns(info)
    for variant in spec.variants:
        settings = spec.resolve(variant)
        problems += _model_checks(spec, variant, settings, info)
        for key in ("early_stopping", "reduce_lr_on_plateau"):
            watcher = getattr(settings, key)
            monitor = None if watcher is None else watcher.build().monitor  # with its default
            if monitor is not None and monitor not in columns:
                problems.append(
                    f"Invalid value for `{key}.monitor` at variants.{variant}: expected "
                    f"a History column of this study's runs ({', '.join(columns)}). "
                    f"Received: {monitor!r}{did_you_mean(monitor, columns) or ''}"
                )
        if settings.lr_schedule is not None and settings.reduce_lr_on_plateau is not None:
            problems.append(
                f"lr_schedule and reduce_lr_on_plateau at variants.{variant} would each "
                "overwrite the learning rate the other sets; keep one of them"
            )
        if settings.augment is not None and info.input_kind != "images":
            problems.append(
                f"augment at variants.{variant} needs image data; dataset "
                f"'{info.name}' is {info.input_kind}"
            )
        problems += _soft_target_and_averaging_checks(variant, settings, info)
        if settings.weight_decay and settings.optimizer != "adamw":
            problems.append(
                f"weight_decay at variants.{variant} is AdamW's decoupled decay and has no "
                f"effect with optimizer '{settings.optimizer}'; use penalty = {{ l2 = ... }}"
            )
        problems += _optimizer_checks(variant, settings)
    n_train = info.n_train if spec.train_size is None else min(spec.train_size, info.n_train)
    if spec.train_size is not None and spec.train_size > info.n_train:
        problems.append(
            f"train_size = {spec.train_size} but dataset '{info.name}' has only "
            f"{info.n_train} training samples"
        )
    folds = spec.validation.folds
    if folds is not None and folds > n_train:
        problems.append(
            f"validation.folds = {folds} but only {n_train} training samples are used; "
            "every fold needs at least one sample"
        )
    return problems
