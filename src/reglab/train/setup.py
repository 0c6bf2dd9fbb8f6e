"""Checks every argument of ``fit`` where it enters and turns them into a :class:`FitSetup`.

Everything the loop needs is decided here, once: the model (built on first use), the
task, the device, the data on the device, each member's training and validation rows,
standardization statistics from each member's training rows only, callbacks cloned per
member, and the per-member shuffling generators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reglab.data import MultiHot, infer_task
from reglab.errors import (
    ReglabError,
    ReglabTypeError,
    check_choice,
    check_int,
    check_number,
    per_member,
)
from reglab.nn import ModuleModel, PopulationModel
from reglab.nn.masks import derive_seed
from reglab.nn.module import population_of
from reglab.train.callback import Callback
from reglab.train.early_stopping import EarlyStopping
from reglab.train.inputs import Inputs
from reglab.train.lr_schedules import LearningRateSchedule
from reglab.train.optimizers import DEFAULT_LEARNING_RATES, OPTIMIZERS
from reglab.train.reduce_lr import ReduceLROnPlateau
from reglab.validate import validation_split as keras_validation_split

__all__ = ["FitSetup", "prepare_fit", "resolve_device"]


@dataclass
class FitSetup:
    model: PopulationModel
    inputs: Inputs
    targets: torch.Tensor
    train_rows: list[np.ndarray]
    val_inputs: Inputs | None
    val_targets: torch.Tensor | None
    val_rows: list[np.ndarray] | None
    test_inputs: Inputs | None
    test_targets: torch.Tensor | None
    seeds: list[int]
    learning_rates: list[float]
    callbacks: list[list[Callback]]
    shufflers: list[torch.Generator]
    augmenter: object | None
    optimizer: str
    optimizer_options: dict  # fit's optimizer settings as given; make_optimizer checks them
    epochs: int
    batch_size: int
    shuffle: bool
    device: torch.device
    record_weights: bool
    # Decided once here; None when unused, so the loop pays nothing for them.
    soft_targets: object | None = None  # label smoothing, mixup, cutmix
    ema: object | None = None
    swa: object | None = None


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; asking for absent CUDA is an error."""
    if isinstance(device, torch.device):
        return device
    name = check_choice("device", device, ["auto", "cpu", "cuda"])
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ReglabError(
            "Invalid value for `device`: CUDA was asked for but no CUDA device is available; "
            "use 'cpu' or 'auto'. Received: device='cuda'."
        )
    return torch.device(name)


def _as_model(model, seed) -> PopulationModel:
    """A reglab model itself; a user module as the population of one member per seed
    (the one ``fit`` made for it before, to continue training, when the seeds match)."""
    if isinstance(model, PopulationModel):
        return model
    if isinstance(model, torch.nn.Module):
        members = len(seed) if isinstance(seed, (list, tuple)) else 1
        existing = population_of(model)
        if existing is not None and existing.members == members:
            return existing
        return ModuleModel(model, members=members)
    raise ReglabTypeError(
        "Invalid value for `model`: expected a reglab model (reglab.Sequential, reglab.mlp) "
        f"or a torch.nn.Module. Received: model={model!r}."
    )


def _check_rows(name: str, rows, n: int) -> np.ndarray:
    array = np.asarray(rows)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer) or len(array) == 0:
        raise ReglabError(
            f"Invalid value for `{name}`: expected non-empty 1-D integer arrays of row "
            f"numbers. Received: an array of shape {array.shape} and dtype {array.dtype}."
        )
    if array.min() < 0 or array.max() >= n:
        raise ReglabError(
            f"Invalid value for `{name}`: row numbers must lie in [0, {n}). "
            f"Received rows from {array.min()} to {array.max()}."
        )
    return array.astype(np.int64)


def _check_lengths(x, y, what: str) -> None:
    if len(x) != len(y):
        raise ReglabError(
            f"Invalid {what}: x and y must have one row per sample. "
            f"Received {len(x)} rows of x and {len(y)} of y."
        )


def prepare_fit(
    *, model, x, y, epochs, batch_size, optimizer, learning_rate, seed, shuffle,
    validation_data, validation_split, train_index, validation_index, test_data,
    standardize, early_stopping, callbacks, augment, image_shape, task, device, threads,
    record_weights, progress, label_smoothing=None, mixup=None, cutmix=None, ema=None,
    swa=None, lr_schedule=None, reduce_lr_on_plateau=None, **optimizer_options,
) -> FitSetup:  # fmt: skip
    """Validate ``fit``'s arguments (see :func:`reglab.train.fit`) and prepare the run.

    The optimizer's settings (``momentum``, ``rho``, ``clipnorm``, ...) travel together to
    :func:`reglab.train.optimizers.make_optimizer`, their one check.
    """
    model = _as_model(model, seed)
    k = model.members
    epochs = check_int("epochs", epochs, owner="fit", low=1)
    batch_size = check_int("batch_size", batch_size, owner="fit", low=1)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS, owner="fit")
    dev = resolve_device(device)
    if not isinstance(x, MultiHot):
        x = np.asarray(x)
    y = np.asarray(y)
    _check_lengths(x, y, "training data")
    task = task if task is not None else infer_task(y)
    inputs = Inputs(x, dev)
    seeds = [check_int("seed", s, owner="fit") for s in per_member("seed", seed, k, owner="fit")]
    lrs = per_member("learning_rate", learning_rate, k, owner="fit")
    lrs = [
        DEFAULT_LEARNING_RATES[optimizer]
        if lr is None
        else check_number("learning_rate", lr, owner="fit", low=0.0, low_open=True)
        for lr in lrs
    ]
    train_rows, val_rows, val_inputs, val_y = _split_rows(
        len(inputs), k, validation_data, validation_split, train_index, validation_index, dev
    )
    if model.built and model.input_shape != inputs.sample_shape:
        raise ReglabError(
            f"Invalid training data: the model was built for samples of shape "
            f"{model.input_shape} but x has shape {tuple(x.shape)}."
        )
    if not model.built:
        model.build(inputs.sample_shape, task, seeds, sparse_input=inputs.sparse, device=dev)
    model.reset_generators(seeds, dev)
    head = model.head
    targets = head.targets(y, dev)
    val_targets = None
    if val_inputs is not None:
        val_targets = head.targets(val_y, dev)
        _check_sample_shape("validation_data", val_inputs, inputs.sample_shape)
    if val_inputs is None and val_rows is not None:
        val_inputs, val_targets = inputs, targets
    test_inputs, test_targets = None, None
    if test_data is not None and test_data is validation_data:
        # The tutorials' protocol (a study's validation = "test"): one copy on the device.
        test_inputs, test_targets = val_inputs, val_targets
    elif test_data is not None:
        test_inputs, test_y = _held_out("test_data", test_data, dev, inputs.sample_shape)
        test_targets = head.targets(test_y, dev)
    if standardize:
        _fit_standardization(model, inputs, train_rows)
    augmenter = None
    if augment is not None:
        from reglab.train.augmenting import BatchAugmenter

        augmenter = BatchAugmenter(augment, image_shape, inputs.sample_shape, seeds, dev)
    member_callbacks = _member_callbacks(
        early_stopping, callbacks, k, lr_schedule, reduce_lr_on_plateau
    )
    averages = _averages(ema, swa, model, epochs, member_callbacks)
    return FitSetup(
        model=model,
        inputs=inputs,
        targets=targets,
        train_rows=train_rows,
        val_inputs=val_inputs,
        val_targets=val_targets,
        val_rows=val_rows,
        test_inputs=test_inputs,
        test_targets=test_targets,
        seeds=seeds,
        learning_rates=lrs,
        callbacks=member_callbacks,
        shufflers=[torch.Generator().manual_seed(derive_seed(s, "shuffle")) for s in seeds],
        augmenter=augmenter,
        optimizer=optimizer,
        optimizer_options=optimizer_options,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=bool(shuffle),
        device=dev,
        record_weights=bool(record_weights),
        soft_targets=_soft_targets(label_smoothing, mixup, cutmix, head, inputs, seeds, dev),
        ema=averages[0],
        swa=averages[1],
    )


def _soft_targets(label_smoothing, mixup, cutmix, head, inputs, seeds, device):
    if label_smoothing is None and mixup is None and cutmix is None:
        return None
    from reglab.train.soft_targets import soft_targets_for

    return soft_targets_for(
        label_smoothing, mixup, cutmix, head=head, inputs=inputs, seeds=seeds, device=device
    )


def _averages(ema, swa, model, epochs, member_callbacks):
    """EMA and SWA of the weights (see :mod:`reglab.train.ema`, :mod:`reglab.train.swa`)."""
    if ema is None and swa is None:
        return None, None
    from reglab.train.ema import ema_for
    from reglab.train.swa import swa_for

    # Early stopping's restore would put trained weights back over the average.
    restores = [
        any(isinstance(c, EarlyStopping) and c.restore_best for c in member)
        for member in member_callbacks
    ]
    k = model.members
    return ema_for(ema, k, model.bank, restores), swa_for(swa, k, model, epochs, restores, ema)


def _split_rows(n, k, validation_data, split, train_index, validation_index, device):
    """Each member's training rows, and where its validation comes from."""
    chosen = [
        name
        for name, value in [
            ("validation_data", validation_data),
            ("validation_split", split or None),
            ("validation_index", validation_index),
        ]
        if value is not None
    ]
    if len(chosen) > 1:
        raise ReglabError(
            f"Invalid validation arguments of fit: give at most one of validation_data, "
            f"validation_split and validation_index. Received: {', '.join(chosen)}."
        )
    all_rows = np.arange(n, dtype=np.int64)
    train = [all_rows] * k
    if train_index is not None:
        train = [
            _check_rows("train_index", r, n)
            for r in per_member("train_index", train_index, k, owner="fit")
        ]
    if split:
        if train_index is not None:
            raise ReglabError(
                "Invalid validation arguments of fit: validation_split cannot be combined "
                "with train_index; give validation_index instead."
            )
        fold = keras_validation_split(n, split)
        return [fold.train] * k, [fold.validation] * k, None, None
    if validation_index is not None:
        rows = [
            _check_rows("validation_index", r, n)
            for r in per_member("validation_index", validation_index, k, owner="fit")
        ]
        return train, rows, None, None
    if validation_data is not None:
        val_inputs, y_val = _held_out("validation_data", validation_data, device)
        return train, None, val_inputs, y_val
    return train, None, None, None


def _held_out(name: str, data, device, sample_shape=None) -> tuple[Inputs, np.ndarray]:
    """``validation_data`` or ``test_data``: a pair ``(x, y)`` of one row per sample."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ReglabTypeError(
            f"Invalid value for `{name}` of fit: expected a tuple (x, y). "
            f"Received: {type(data).__name__}."
        )
    x, y = data
    x = x if isinstance(x, MultiHot) else np.asarray(x)
    y = np.asarray(y)
    _check_lengths(x, y, name)
    held_out = Inputs(x, device, name=name)
    if sample_shape is not None:
        _check_sample_shape(name, held_out, sample_shape)
    return held_out, y


def _check_sample_shape(name: str, held_out: Inputs, sample_shape: tuple) -> None:
    if held_out.sample_shape != sample_shape:
        raise ReglabError(
            f"Invalid {name}: its samples have shape {held_out.sample_shape} "
            f"but the training samples have shape {sample_shape}."
        )


def _fit_standardization(model: PopulationModel, inputs: Inputs, train_rows) -> None:
    if inputs.sparse:
        raise ReglabError(
            "Invalid value for `standardize` of fit: multi-hot inputs cannot be standardised "
            "(it would make them dense). Received: standardize=True."
        )
    means, stds = [], []
    for rows in train_rows:
        part = inputs.data[torch.as_tensor(rows, device=inputs.data.device)]
        mean = part.mean(0)
        std = part.std(0, unbiased=False)
        # A constant column has std 0: dividing by 1 leaves it centred instead of NaN.
        stds.append(torch.where(std > 0, std, torch.ones_like(std)))
        means.append(mean)
    model.set_standardization(torch.stack(means).unsqueeze(1), torch.stack(stds).unsqueeze(1))


# The callbacks that set a member's learning rate: two on one member would fight.
RATE_SETTERS = (LearningRateSchedule, ReduceLROnPlateau)


def _member_callbacks(
    early_stopping, callbacks, k: int, lr_schedule=None, reduce_lr_on_plateau=None
) -> list[list[Callback]]:
    """Each member's callbacks: one object per member, the user's own for the first.

    The object the user passed watches the first member it is given for; every other
    member gets a :meth:`Callback.clone` of it, and ``members_`` on each maps every such
    member to its object (docs/architecture.md, "Callbacks").
    """
    by_member: list[list[Callback]] = [[] for _ in range(k)]
    given: dict[int, dict[int, Callback]] = {}  # id of the user's object -> members_

    def place(m: int, callback: Callback) -> None:
        served = given.get(id(callback))
        if served is None:
            served = given[id(callback)] = {}
            callback.members_ = served
            twin = callback
        elif m in served:
            raise ReglabError(
                f"Invalid callbacks of fit: {callback!r} is given twice for member {m}; "
                "give each callback once (it serves every member it is given for)."
            )
        else:
            twin = callback.clone()
            twin.members_ = served
        served[m] = twin
        by_member[m].append(twin)

    per_member_kinds = [
        ("early_stopping", early_stopping, Callback, "an EarlyStopping"),
        ("lr_schedule", lr_schedule, LearningRateSchedule, "a StepDecay, ExponentialDecay or "
                                                           "CosineDecay"),
        ("reduce_lr_on_plateau", reduce_lr_on_plateau, ReduceLROnPlateau, "a ReduceLROnPlateau"),
    ]  # fmt: skip
    for name, value, kind, what in per_member_kinds:
        for m, callback in enumerate(per_member(name, value, k, owner="fit")):
            if callback is None:
                continue
            if not isinstance(callback, kind):
                raise ReglabTypeError(
                    f"Invalid value for `{name}` of fit: expected {what}, a list of them "
                    f"(None for members without), or None. Received: {callback!r}."
                )
            place(m, callback)
    for callback in callbacks or []:
        if not isinstance(callback, Callback):
            raise ReglabTypeError(
                "Invalid value in `callbacks` of fit: expected Callback objects. "
                f"Received: {callback!r}."
            )
        for m in range(k):
            place(m, callback)
    for m, member_callbacks in enumerate(by_member):
        steering = [c for c in member_callbacks if isinstance(c, RATE_SETTERS)]
        if len(steering) > 1:
            raise ReglabError(
                f"Invalid callbacks of fit: member {m} has {len(steering)} callbacks that set "
                f"its learning rate ({', '.join(type(c).__name__ for c in steering)}), each "
                "overwriting what the other sets; give a member one lr_schedule or one "
                "reduce_lr_on_plateau."
            )
    return by_member
