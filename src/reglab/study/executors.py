"""Where populations train: the :class:`Executor` seam and the in-process :class:`LocalExecutor`.

An executor takes a job (train one population) and the populations, and streams each
population back with its results, or with the exception that ended it, in any order.
The driver alone writes the store, so an executor never touches it: a Ray executor
(populations as remote tasks, results streamed back) fits behind the same two methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

import numpy as np

from reglab.data import Augment
from reglab.errors import check_choice
from reglab.study.inputs import StudyData
from reglab.study.models import population_model
from reglab.study.planner import Population
from reglab.study.records import WeightHistogram
from reglab.study.store import RunResult, now
from reglab.train import fit

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "make_executor", "train_population"]

EXECUTORS = ("local",)
HISTOGRAM_BINS = 30

Item = TypeVar("Item")
Result = TypeVar("Result")


class Executor(Protocol):
    """Runs a job on each item and yields ``(item, result or exception)`` as each ends."""

    name: str

    def map(
        self, job: Callable[[Item], Result], items: Iterable[Item]
    ) -> Iterator[tuple[Item, Result | Exception]]: ...


class LocalExecutor:
    """Train the populations one after the other in this process.

    Examples
    --------
    >>> list(LocalExecutor().map(lambda x: 1 / x, [2, 0]))[0]
    (2, 0.5)
    """

    name = "local"

    def map(
        self, job: Callable[[Item], Result], items: Iterable[Item]
    ) -> Iterator[tuple[Item, Result | Exception]]:
        """Yield each item with its result, or with the ``Exception`` it raised.

        ``KeyboardInterrupt`` is not caught: Ctrl-C stops the study.
        """
        for item in items:
            try:
                result = job(item)
            except Exception as error:  # one population failing must not stop the study
                yield item, error
            else:
                yield item, result


def make_executor(name: str) -> Executor:
    """The executor called ``name`` (only ``"local"`` for now).

    Raises
    ------
    ReglabError
        For an unknown name.

    Examples
    --------
    >>> make_executor("local").name
    'local'
    """
    check_choice("executor", name, EXECUTORS)
    return LocalExecutor()


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
    folds = runs[0].train_index is not None
    augment = shape.augment
    histories = fit(
        model,
        data.x_train,
        data.y_train,
        epochs=shape.epochs,
        batch_size=shape.batch_size,
        optimizer=shape.optimizer,
        learning_rate=[r.settings.resolved_learning_rate for r in runs],
        momentum=shape.momentum,
        weight_decay=shape.weight_decay,
        seed=[r.seed for r in runs],
        train_index=[r.train_index for r in runs] if folds else None,
        validation_index=[r.validation_index for r in runs] if folds else None,
        validation_data=None if folds else (data.x_test, data.y_test),
        standardize=data.standardize,
        early_stopping=[r.settings.early_stopping and r.settings.early_stopping.build()
                        for r in runs],
        augment=None if augment is None else Augment(augment.rotation, tuple(augment.scale),
                                                     augment.translate),
        image_shape=data.image_shape if augment is not None else None,
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
            test_loss=h.final.get("val_loss"),
            test_metric=h.final.get(f"val_{metric}"),
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
