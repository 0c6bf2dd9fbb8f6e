"""Where populations train: the :class:`Executor` seam and the in-process :class:`LocalExecutor`.

An executor takes a job (train one population) and the populations, and streams each
population back with its results, or with the exception that ended it, in any order.
The driver alone writes the store, so an executor never touches it: the Ray executor
(``reglab.study.ray_executor``: populations as remote tasks, results streamed back)
fits behind the same two methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import numpy as np
import torch

from reglab.data import Augment
from reglab.errors import ReglabError, check_choice, check_int, invalid
from reglab.study.inputs import StudyData
from reglab.study.models import population_model
from reglab.study.planner import Population
from reglab.study.records import WeightHistogram
from reglab.study.store import RunResult, now
from reglab.train import fit
from reglab.train.setup import resolve_device

__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalExecutor",
    "make_executor",
    "torch_threads",
    "train_population",
]

EXECUTORS = ("local", "ray")
HISTOGRAM_BINS = 30

Item = TypeVar("Item")
Result = TypeVar("Result")


class Executor(Protocol):
    """Runs a job on each item and yields ``(item, result or exception)`` as each ends.

    ``device`` resolves the device name where the jobs will run (``"auto"`` depends on
    the machines); ``progress``, when given, is called with an item as it starts and
    returns the per-epoch callback for its job (executors that train elsewhere skip it).
    """

    name: str

    def device(self, name: str) -> str: ...

    def map(
        self,
        job: Callable[..., Result],
        items: Iterable[Item],
        *,
        progress: Callable[[Item], object] | None = None,
    ) -> Iterator[tuple[Item, Result | Exception]]: ...


class LocalExecutor:
    """Train the populations one after the other in this process.

    Parameters
    ----------
    threads : int, optional
        torch's CPU threads while training; see :func:`reglab.fit` for the default.

    Examples
    --------
    >>> list(LocalExecutor().map(lambda x, progress=None: 1 / x, [2, 0]))[0]
    (2, 0.5)
    """

    name = "local"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = None if threads is None else check_int("threads", threads, low=1)

    def device(self, name: str) -> str:
        """``"auto"`` is CUDA when this machine has it, else the CPU."""
        return str(resolve_device(name))

    def map(
        self,
        job: Callable[..., Result],
        items: Iterable[Item],
        *,
        progress: Callable[[Item], object] | None = None,
    ) -> Iterator[tuple[Item, Result | Exception]]:
        """Yield each item with its result, or with the ``Exception`` it raised.

        ``KeyboardInterrupt`` is not caught: Ctrl-C stops the study.
        """
        with torch_threads(self.threads):
            for item in items:
                try:
                    result = job(item, progress=None if progress is None else progress(item))
                except Exception as error:  # one population failing must not stop the study
                    yield item, error
                else:
                    yield item, result


def make_executor(name: str, *, address: str | None = None, threads: int | None = None) -> Executor:
    """The executor called ``name``: ``"local"`` (this process) or ``"ray"``.

    Parameters
    ----------
    name : {"local", "ray"}
    address : str, optional
        The Ray cluster's ``HOST:PORT`` or ``"auto"`` (ray only; a local Ray when
        omitted).
    threads : int, optional
        torch's CPU threads (local), or each Ray task's CPUs and threads (ray).

    Raises
    ------
    ReglabError
        For an unknown name, an address without the ray executor, or ray not installed.

    Examples
    --------
    >>> make_executor("local").name
    'local'
    """
    check_choice("executor", name, EXECUTORS)
    if name == "ray":
        from reglab.study.ray_executor import RayExecutor  # imports ray only when asked

        return RayExecutor(address, threads=threads)
    if address is not None:
        raise ReglabError(
            invalid("address", "no address with the local executor (add --executor ray)", address)
        )
    return LocalExecutor(threads=threads)


@contextmanager
def torch_threads(count: int | None):
    """Run a block with torch's CPU threads at ``count`` (unchanged if None), then restore.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(check_int("threads", count, low=1))
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def train_population(
    population: Population, data: StudyData, *, device: str = "auto", progress=None
) -> list[RunResult]:
    """Train one population with the engine; one :class:`RunResult` per run, in order.

    Parameters
    ----------
    population : Population
        Runs sharing an architecture and training shape.
    data : StudyData
        The prepared dataset.
    device : str, default "auto"
    progress : callable, optional
        ``fit``'s per-epoch callback.

    Returns
    -------
    list of RunResult
    """
    runs, shape = population.runs, population.settings
    started = now()
    model = population_model(runs)
    # A split or a fold validates on its own rows; a refit has no validation rows; else
    # the test set validates (the tutorials' choice). The test set is scored by all.
    folds = runs[0].train_index is not None
    test_set = (data.x_test, data.y_test)
    validates_on_test = not folds and not runs[0].refit
    augment = shape.augment
    histories = fit(
        model,
        data.x_train,
        data.y_train,
        epochs=shape.epochs,
        batch_size=shape.batch_size,
        optimizer=shape.optimizer,
        learning_rate=[r.settings.resolved_learning_rate for r in runs],
        **shape.optimizer_constants(),  # written values over the semantics' defaults
        clipnorm=[r.settings.clipnorm for r in runs],
        clipvalue=[r.settings.clipvalue for r in runs],
        global_clipnorm=[r.settings.global_clipnorm for r in runs],
        seed=[r.seed for r in runs],
        train_index=[r.train_index for r in runs] if folds else None,
        validation_index=[r.validation_index for r in runs] if folds else None,
        validation_data=test_set if validates_on_test else None,
        test_data=test_set,
        standardize=data.standardize,
        early_stopping=[r.settings.early_stopping and r.settings.early_stopping.build()
                        for r in runs],
        lr_schedule=[r.settings.lr_schedule and r.settings.lr_schedule.build() for r in runs],
        reduce_lr_on_plateau=[r.settings.reduce_lr_on_plateau
                              and r.settings.reduce_lr_on_plateau.build() for r in runs],
        augment=None if augment is None else Augment(augment.rotation, tuple(augment.scale),
                                                     augment.translate),
        image_shape=data.image_shape if augment is not None else None,
        label_smoothing=[r.settings.label_smoothing for r in runs],
        mixup=[r.settings.mixup and r.settings.mixup.alpha for r in runs],
        cutmix=[r.settings.cutmix and r.settings.cutmix.alpha for r in runs],
        ema=[r.settings.ema and r.settings.ema.momentum for r in runs],
        swa=[r.settings.swa and r.settings.swa.build() for r in runs],
        task=data.task,
        device=device,
        record_weights=True,
        progress=progress,
    )  # fmt: skip
    if not isinstance(histories, list):
        histories = [histories]
    finished = now()
    metric = data.task.metric
    return [
        RunResult.of(
            run,
            status="diverged" if h.diverged else "done",
            error=None,
            seconds=h.seconds,
            metric=metric,
            train_loss=h.final.get("loss"),
            train_metric=h.final.get(metric),
            val_loss=h.final.get("val_loss"),
            val_metric=h.final.get(f"val_{metric}"),
            test_loss=h.final.get("test_loss"),
            test_metric=h.final.get(f"test_{metric}"),
            best_epoch=h.best_epoch,
            stopped_epoch=h.stopped_epoch,
            epochs_run=h.epochs_run,
            sparsity=h.sparsity.get("total"),
            history=list(h.rows),
            histograms=_histograms(h.weights),
            started=started,
            finished=finished,
        )
        for run, h in zip(runs, histories, strict=True)
    ]


def _histograms(weights: dict) -> list[WeightHistogram]:
    out = []
    for moment in ("first", "last"):
        for layer, kernel in weights.get(moment, {}).items():
            values = np.asarray(kernel, dtype=np.float64).ravel()
            values = values[np.isfinite(values)]  # a diverged run's kernels may hold NaN
            if values.size == 0:
                continue
            counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
            out.append(WeightHistogram(layer, moment, edges.tolist(), counts.tolist()))
    return out
