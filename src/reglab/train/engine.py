"""The training engine: one loop that trains a population of K >= 1 models at once.

Every step gathers each member's batch on the device, runs one batched forward and
backward for all members, adds the penalties' gradients, and updates the members that
are still training. Losses and metrics are summed on the device and read back once per
epoch (no ``.item()`` per step). A single-model ``fit`` is a population of one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch

from reglab.errors import check_int
from reglab.train.callback import Callback
from reglab.train.evaluation import evaluate_rows
from reglab.train.history import History
from reglab.train.inputs import epoch_batches, take_rows
from reglab.train.member_view import MemberView
from reglab.train.optimizers import make_optimizer
from reglab.train.setup import FitSetup, prepare_fit

__all__ = ["fit", "train_population"]


def fit(
    model,
    x,
    y,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    optimizer: str = "adam",
    learning_rate: float | list[float] | None = None,
    momentum: float | None = None,
    nesterov: bool | None = None,
    rho: float | None = None,
    epsilon: float | None = None,
    centered: bool | None = None,
    beta_1: float | None = None,
    beta_2: float | None = None,
    weight_decay: float | None = None,
    weight_decay_exclude: list[str] | None = None,
    clipnorm: float | list[float | None] | None = None,
    clipvalue: float | list[float | None] | None = None,
    global_clipnorm: float | list[float | None] | None = None,
    formula: str = "keras",
    seed: int | list[int] = 0,
    shuffle: bool = True,
    validation_data: tuple | None = None,
    validation_split: float = 0.0,
    train_index: list[np.ndarray] | None = None,
    validation_index: list[np.ndarray] | None = None,
    test_data: tuple | None = None,
    standardize: bool = False,
    early_stopping=None,
    callbacks: list[Callback] | None = None,
    augment=None,
    image_shape: tuple[int, int, int] | None = None,
    label_smoothing: float | list[float] | None = None,
    mixup: float | list[float | None] | None = None,
    cutmix: float | list[float | None] | None = None,
    ema: float | list[float | None] | None = None,
    swa=None,
    task=None,
    device: str = "auto",
    threads: int | None = None,
    record_weights: bool = False,
    progress: Callable[[int, list[dict | None]], None] | None = None,
    lr_schedule=None,
    reduce_lr_on_plateau=None,
):
    """Train ``model`` (an :func:`reglab.mlp` population or a ``torch.nn.Module``).

    Parameters
    ----------
    model : Sequential, MLP or torch.nn.Module
        Built on first use from the samples' shape and the task. A ``torch.nn.Module``
        trains as one member per seed (see :class:`reglab.nn.ModuleModel`); afterwards it
        holds member 0's trained weights.
    x : array (N, F), images (N, C, H, W), or reglab.data.MultiHot
    y : array
        Targets; the task (loss, output activation, metric) is inferred from them.
    epochs : int, default 1
    batch_size : int, default 32
        Keras' default.
    optimizer : {"sgd", "rmsprop", "adam", "adamw"}, default "adam"
    learning_rate : float or list of float, optional
        Per member; Keras' default for the optimizer when omitted.
    momentum : float, default 0.0
        For sgd and rmsprop (Keras' ``momentum``).
    nesterov : bool, default False
        Nesterov momentum, for sgd.
    rho : float, default 0.9
        RMSprop's decay of the squared-gradient average.
    epsilon : float, default 1e-7
        RMSprop's (inside the square root) and Adam's (added to ``sqrt(v)``), as Keras.
    centered : bool, default False
        RMSprop divides by the gradient's variance instead of its second moment.
    beta_1, beta_2 : float, default 0.9 and 0.999
        Adam's and AdamW's moment decays.
    weight_decay : float, default 0.004 with adamw
        AdamW's decoupled weight decay ``w -= w * weight_decay * lr`` (not an L2
        penalty); adamw only, and Keras' default 0.004 when omitted.
    weight_decay_exclude : list of {"bias", "batchnorm"}, optional
        Weights AdamW does not decay (Keras' ``exclude_from_weight_decay``): biases,
        batch normalization's gamma and beta.
    clipnorm, clipvalue, global_clipnorm : float or list, optional
        Keras' gradient clipping, per member (one value, or one per member with None for
        none): each weight variable's gradient to L2 norm ``clipnorm``, each element to
        ``[-clipvalue, clipvalue]``, or all of a member's gradients together to L2 norm
        ``global_clipnorm``. At most one of the three per member.
    formula : {"keras", "torch"}, default "keras"
        The update rules and defaults: Keras 3's, or reglab's first release (PyTorch's,
        kept so that older studies resume with the numbers they were trained with).
    seed : int or list of int, default 0
        Per member: initial weights, dropout and DropConnect masks, shuffling. For a
        ``torch.nn.Module``, one member per seed.
    shuffle : bool, default True
        Reshuffle each member's training rows every epoch.
    validation_data : tuple (x_val, y_val), optional
        Shared hold-out data, evaluated after every epoch.
    validation_split : float, default 0.0
        Keras' rule: the last fraction of ``x`` (before shuffling) is held out.
    train_index, validation_index : list of arrays, optional
        Per member, the rows of ``x`` to train on and to validate on (K-fold).
    test_data : tuple (x_test, y_test), optional
        The test set: evaluated once, after training (after early stopping restored its
        weights), into ``History.final["test_loss"]`` and ``final["test_<metric>"]``.
        It never enters a History row, a callback or ``progress``, so nothing that
        chooses (early stopping, the best epoch) can see it. Validate on other data.
    standardize : bool, default False
        Standardise inputs with statistics of each member's own training rows only.
    early_stopping : EarlyStopping or list, optional
        One callback (cloned for every member) or one per member (None for none).
    callbacks : list of Callback, optional
        Further callbacks, for every member: the object given watches member 0 and a
        clone of it each other member (``callback.members_`` maps them all).
    augment : reglab.data.Augment, optional
        Random rotation / scaling / translation of the training batches.
    image_shape : tuple (C, H, W), optional
        Shape of each flattened image, for ``augment``.
    label_smoothing : float or list of float, optional
        Per member, Keras' label smoothing of the training targets for cross-entropy
        (``y * (1 - ls) + ls / classes``; ``+ 0.5 * ls`` for sigmoid outputs). The training
        loss is smoothed; ``val_*`` and ``History.final`` are not.
    mixup, cutmix : float or list of float, optional
        Per member (None: off), the ``alpha`` of mixup's or CutMix's ``Beta(alpha, alpha)``
        (see :mod:`reglab.train.mixing`); CutMix needs ``(C, H, W)`` samples.
    ema : float or list of float, optional
        Per member, the momentum of an exponential moving average of the weights (Keras'
        ``use_ema`` / ``ema_momentum``; see :mod:`reglab.train.ema`).
    swa : reglab.SWA or list, optional
        Per member, stochastic weight averaging (see :mod:`reglab.train.swa`).
    task : reglab.data.Task, optional
        Overrides the task inferred from ``y``.
    device : {"auto", "cpu", "cuda"}, default "auto"
    threads : int, optional
        CPU threads (torch's intra-op threads). When omitted, ``OMP_NUM_THREADS`` and
        the process's CPU affinity decide and are never overridden: torch's current
        setting stands, lowered to the cores in the affinity mask only when
        ``OMP_NUM_THREADS`` is unset and the setting exceeds them.
    record_weights : bool, default False
        Keep each member's kernels after epoch 1 and at the end (``History.weights``).
    progress : callable, optional
        Called after every epoch with the epoch and each member's row (None once stopped).
    lr_schedule : StepDecay, ExponentialDecay, CosineDecay or list, optional
        A per-epoch learning-rate schedule from each member's ``learning_rate``: one
        (cloned for every member) or one per member (None for none).
    reduce_lr_on_plateau : ReduceLROnPlateau or list, optional
        Keras' ReduceLROnPlateau, one or one per member (None for none); a member cannot
        have both this and an ``lr_schedule``.

    Returns
    -------
    History or list of History
        One History when the model has one member, else one per member.

    Raises
    ------
    ReglabError
        For any invalid argument, with what was received and what is allowed.

    Examples
    --------
    >>> import numpy as np
    >>> from reglab.nn import mlp, L2
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(64, 4)).astype("float32"); y = (x[:, 0] > 0).astype(int)
    >>> h = fit(mlp([8], kernel_regularizer=L2(1e-3)), x, y, epochs=2, batch_size=16)
    >>> h.epoch, sorted(h.rows[0])[:3]
    ([1, 2], ['accuracy', 'data_loss', 'epoch'])

    Members that differ in their schedule train as one population:

    >>> from reglab.train import StepDecay
    >>> hs = fit(mlp([8], members=2), x, y, epochs=3, seed=[0, 1], learning_rate=0.01,
    ...          lr_schedule=[StepDecay(decay_epochs=1, decay_rate=0.5), None])
    >>> [h.history["lr"] for h in hs]
    [[0.01, 0.005, 0.0025], [0.01, 0.01, 0.01]]
    """
    setup = prepare_fit(**{k: v for k, v in locals().items()})
    histories = train_population(setup, threads=threads, progress=progress)
    return histories[0] if len(histories) == 1 else histories


def _resolve_threads(threads: int | None) -> None:
    """Set torch's CPU threads for a fit.

    ``threads`` given: exactly that many. Omitted: torch's current setting stands, since
    it already follows ``OMP_NUM_THREADS``, the CPU affinity at start-up (``taskset``) and
    whatever the caller set (a Ray task sets its ``num_cpus``); it is lowered to the
    cores of this process's affinity mask only when ``OMP_NUM_THREADS`` is unset and the
    setting exceeds them (the mask shrank after start-up, a cgroup cpuset): more threads
    than cores only wait on each other, 40-80x slower on a busy 2-core machine.
    """
    if threads is not None:
        threads = check_int("threads", threads, low=1)
    elif "OMP_NUM_THREADS" not in os.environ:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on every OS
            cores = os.cpu_count() or 1
        threads = min(torch.get_num_threads(), cores)
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def train_population(
    setup: FitSetup,
    *,
    threads: int | None = None,
    progress: Callable[[int, list[dict | None]], None] | None = None,
) -> list[History]:
    """Run the training loop described by ``setup``; one History per member."""
    if setup.device.type == "cpu":
        _resolve_threads(threads)
    model = setup.model
    k = model.members
    inputs, targets = setup.inputs, setup.targets
    optimizer = make_optimizer(
        setup.optimizer, model.bank, model.grad, setup.learning_rates, layout=model.layout,
        **setup.optimizer_options,
    )  # fmt: skip
    callbacks = setup.callbacks
    views = [MemberView(model, optimizer, m) for m in range(k)]
    for member, member_callbacks in enumerate(callbacks):
        for callback in member_callbacks:
            callback.set_view(views[member])
            callback.on_train_begin()
    histories = [History(seed=s) for s in setup.seeds]
    alive = [True] * k
    shufflers = setup.shufflers
    started = time.perf_counter()
    model.train()
    penalized, proximal, constrained = model.penalized, model.proximal, model.constrained
    soft_targets, ema, swa = setup.soft_targets, setup.ema, setup.swa
    validated = None  # the last validation, and the state it was measured on
    for epoch in range(1, setup.epochs + 1):
        t0 = time.perf_counter()
        for m, member_callbacks in enumerate(callbacks):  # per epoch, never per step
            if alive[m]:
                for callback in member_callbacks:
                    callback.on_epoch_begin(epoch)  # a schedule sets the epoch's rate here
        if swa is not None:
            swa.epoch_begin(epoch, optimizer)
        orders = [
            rows[torch.randperm(len(rows), generator=g).numpy()] if setup.shuffle else rows
            for rows, g in zip(setup.train_rows, shufflers)
        ]
        loss_sum = torch.zeros(k, device=setup.device)
        metric_sum = torch.zeros(k, device=setup.device)
        penalty_sum = torch.zeros(k, device=setup.device)
        for batch in epoch_batches(orders, setup.batch_size, alive, setup.device):
            xb = inputs.gather(batch.index)
            if setup.augmenter is not None:
                xb = setup.augmenter(xb, batch)
            yb = take_rows(targets, batch.index)
            soft = None
            if soft_targets is not None:
                xb, soft = soft_targets(xb, yb, batch)
            xb = model.prepare_inputs(xb)
            per_sample, correct = model.train_step(xb, yb, batch, soft)
            size = per_sample.shape[1] if batch.sample_weight is None else batch.size
            grad = model.grad
            with torch.no_grad():
                # train_step's results are detached. With batch size 1 the sample is the
                # sum (two operations fewer a step).
                if per_sample.shape[1] == 1:
                    loss_sum += per_sample[:, 0]
                    metric_sum += correct[:, 0]
                else:
                    loss_sum += per_sample.sum(1)
                    metric_sum += correct.sum(1)
                if penalized:
                    model.penalize_(grad, penalty_sum, size)
            movers = _movers(batch.members, alive)
            optimizer.step(movers)
            if proximal:
                model.proximal_(optimizer.step_sizes(), _mask(movers, k, setup.device))
            if ema is not None:  # Keras: the average before the constraints
                ema.update(movers)
            if constrained:  # Keras applies constraints after the update
                model.constrain_(movers)
        rows, validated = _epoch_rows(setup, epoch, loss_sum, metric_sum, penalty_sum, alive)
        if swa is not None:
            swa.epoch_end(epoch, [row is not None for row in rows])
        elapsed = time.perf_counter() - t0
        for m in range(k):
            if rows[m] is None:
                continue
            rows[m]["epoch_time"] = elapsed
            rows[m]["lr"] = optimizer.learning_rates[m]  # the rate this epoch trained with
            histories[m].rows.append(rows[m])
            if epoch == 1 and setup.record_weights:
                histories[m].weights["first"] = model.kernels(m)
            if not math.isfinite(rows[m]["loss"]):
                alive[m] = False
                histories[m].diverged = True
                histories[m].diverged_epoch = epoch
                continue
            for callback in callbacks[m]:
                callback.on_epoch_end(epoch, rows[m])
                if callback.stop_training:
                    alive[m] = False
        if progress is not None:
            progress(epoch, rows)
        if not any(alive):
            break
    model.eval()
    # The averages replace the weights before on_train_end, as Keras' finalize_variable_values.
    if ema is not None:
        ema.finish()
    if swa is not None:
        swa.finish(setup)
    seconds = time.perf_counter() - started
    _finish(setup, histories, seconds, validated)
    for view in views:
        view.release()  # the callbacks the user keeps must not keep the population
    model.finish_fit()
    return histories


def _movers(batch_members: list[int] | None, alive: list[bool]) -> list[int] | None:
    if batch_members is None and all(alive):
        return None
    candidates = range(len(alive)) if batch_members is None else batch_members
    return [m for m in candidates if alive[m]]


def _mask(movers: list[int] | None, k: int, device) -> torch.Tensor | None:
    if movers is None:
        return None
    mask = torch.zeros(k, 1, device=device)
    mask[movers] = 1.0
    return mask


def _epoch_rows(setup: FitSetup, epoch, loss_sum, metric_sum, penalty_sum, alive):
    """The epoch's History rows (one host sync for the training sums, one for validation),
    and the validation scores with the :class:`_StateStamp` of the weights they measured."""
    counts = np.array([len(rows) for rows in setup.train_rows], dtype=np.float64)
    data_loss = loss_sum.cpu().numpy() / counts
    metric = metric_sum.cpu().numpy() / counts
    penalty = penalty_sum.cpu().numpy() / counts
    with torch.profiler.record_function("reglab.validation"):  # named for profiles
        val = _validate(setup)
    name = setup.model.head.metric_name
    rows: list[dict | None] = []
    for m in range(setup.model.members):
        if not alive[m]:
            rows.append(None)
            continue
        row = {
            "epoch": float(epoch),
            "loss": float(data_loss[m] + penalty[m]),
            "data_loss": float(data_loss[m]),
            "penalty": float(penalty[m]),
            name: float(metric[m]),
        }
        if val is not None:
            row["val_loss"] = float(val[0][m])
            row[f"val_{name}"] = float(val[1][m])
        rows.append(row)
    return rows, (None if val is None else (val, _StateStamp(setup.model)))


class _StateStamp:
    """What evaluation reads (the bank and the per-member buffers), and each tensor's
    version counter as it was: any in-place change since (an optimizer step, a restore of
    the best weights, an average swapped in, a callback writing through a view) moves the
    counter, and a buffer replaced by a new tensor is a different object. The tensors are
    held, so no new tensor can take an old one's place."""

    def __init__(self, model) -> None:
        self._versions = [(tensor, tensor._version) for tensor in self._evaluated(model)]

    def unchanged(self, model) -> bool:
        tensors = self._evaluated(model)
        return len(tensors) == len(self._versions) and all(
            tensor is then and tensor._version == version
            for tensor, (then, version) in zip(tensors, self._versions)
        )

    @staticmethod
    def _evaluated(model) -> list[torch.Tensor]:
        return [model.bank, *model.member_buffers().values()]


def _validate(setup: FitSetup):
    if setup.val_inputs is None:
        return None
    return evaluate_rows(setup.model, setup.val_inputs, setup.val_targets, setup.val_rows)


def _finish(setup: FitSetup, histories: list[History], seconds: float, validated) -> None:
    """Callbacks' ``on_train_end``, then the final scores: training rows, validation (the
    last epoch's when nothing has changed the weights since), and the test set."""
    model = setup.model
    for m, history in enumerate(histories):
        for callback in setup.callbacks[m]:
            callback.on_train_end()  # EarlyStopping puts its best weights back here
            history.best_epoch = max(history.best_epoch, int(callback.best_epoch_))
            history.stopped_epoch = max(history.stopped_epoch, int(callback.stopped_epoch_))
    with torch.profiler.record_function("reglab.final_evaluation"):  # named for profiles
        loss, metric = evaluate_rows(model, setup.inputs, setup.targets, setup.train_rows)
        if validated is not None and validated[1].unchanged(model):
            val = validated[0]  # the same weights give the same numbers: not measured twice
        else:
            val = _validate(setup)
        test = None
        if setup.test_inputs is setup.val_inputs and setup.val_rows is None:
            test = val  # validation_data given as test_data too: the same numbers, once
        elif setup.test_inputs is not None:  # the only place the test set is ever evaluated
            test = evaluate_rows(model, setup.test_inputs, setup.test_targets, None)
    name = model.head.metric_name
    sparsity = model.sparsity()
    for m, history in enumerate(histories):
        history.final = {"loss": float(loss[m]), name: float(metric[m])}
        for prefix, scores in (("val_", val), ("test_", test)):
            if scores is not None:
                history.final[f"{prefix}loss"] = float(scores[0][m])
                history.final[f"{prefix}{name}"] = float(scores[1][m])
        history.sparsity = sparsity[m]
        history.seconds = seconds
        if setup.record_weights:
            history.weights["last"] = model.kernels(m)
