"""Running a study: plan it, train what the store does not hold yet, write each run.

The driver (this process) alone writes the store, one transaction per finished run, so
a study interrupted at any moment (Ctrl-C, ``kill -9``) is completed by running the same
command again: runs already ``done`` or ``diverged`` are skipped, ``failed`` ones retried.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from reglab._version import __version__
from reglab.errors import ReglabError, invalid
from reglab.study.executors import Executor, make_executor, train_population
from reglab.study.inputs import StudyData, prepare_data
from reglab.study.planner import Population, plan_study
from reglab.study.spec import Spec, load_spec
from reglab.study.store import RunResult, Store, now
from reglab.study.tables import summary_table

__all__ = ["StudyOutcome", "run_study"]


@dataclass(frozen=True)
class StudyOutcome:
    """What one ``run_study`` call did.

    Attributes
    ----------
    study : str
        The study's name (to load it or write its report).
    store : pathlib.Path
    planned : int
        Runs in the study.
    skipped : int
        Runs the store already held (done or diverged).
    trained, diverged, failed : int
        Of the runs trained now: how many finished, diverged, failed.
    """

    study: str
    store: Path
    planned: int
    skipped: int
    trained: int
    diverged: int
    failed: int


def run_study(
    spec: Spec | str | Path,
    *,
    store: str | Path,
    device: str = "auto",
    executor: str | Executor = "local",
    address: str | None = None,
    threads: int | None = None,
    tensorboard: str | Path | None = None,
    progress: bool = True,
    memory_budget: int | None = None,
) -> StudyOutcome:
    """Train every run of a study that the store does not hold yet, then print its summary.

    Parameters
    ----------
    spec : Spec, str or pathlib.Path
        A validated spec, or the path of a TOML spec.
    store : str or pathlib.Path
        The SQLite store (created when missing).
    device : {"auto", "cpu", "cuda"}, default "auto"
        Where the populations train (on Ray, ``"auto"`` is CUDA when the cluster has GPUs).
    executor : {"local", "ray"} or Executor, default "local"
        ``"local"`` trains in this process, ``"ray"`` as Ray tasks (``pip install
        reglab[ray]``; see docs/cluster.md); an :class:`~reglab.study.executors.Executor`
        instance is used as given.
    address : str, optional
        The Ray cluster's ``HOST:PORT`` or ``"auto"``; a local Ray when omitted (ray only).
    threads : int, optional
        torch's CPU threads (local; by default ``OMP_NUM_THREADS`` and the CPU affinity
        decide), or each Ray task's CPUs and threads (ray; 1 by default).
    tensorboard : str or pathlib.Path, optional
        Accepted for the command line; TensorBoard logs are exported from the store
        afterwards (``reglab.report``), so training does not write them.
    progress : bool, default True
        Show progress bars (overall and per population).
    memory_budget : int, optional
        Bytes a population may use; see :func:`reglab.study.planner.default_memory_budget`.

    Returns
    -------
    StudyOutcome

    Raises
    ------
    ReglabError
        For a bad spec, dataset, store or argument, or a Ray cluster lost mid-study
        (nothing stored is lost).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from reglab.study.spec import parse_spec
    >>> spec = parse_spec({"name": "tiny", "dataset": "iris", "epochs": 2,
    ...                    "variants": {"base": {}}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = run_study(spec, store=pathlib.Path(tmp) / "s.db", progress=False)
    ...     again = run_study(spec, store=pathlib.Path(tmp) / "s.db", progress=False)
    <BLANKLINE>
    ...
    >>> out.trained, again.skipped
    (1, 1)
    """
    del tensorboard  # exported from the store by the report layer
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    pool = _executor(executor, address=address, threads=threads)
    resolved = pool.device(device)  # before loading data: a bad device or address fails fast
    data = prepare_data(spec)
    plan = plan_study(
        spec,
        n_train=data.n_train,
        n_features=data.n_features,
        n_outputs=data.task.n_outputs,
        y_train=data.y_train,
        memory_budget=memory_budget,
    )
    console = Console()
    counts = {"done": 0, "diverged": 0, "failed": 0}
    with Store(store) as db:
        db.begin_study(
            spec.name, spec.to_json(), dataset=spec.dataset.name, device=str(resolved),
            versions=(__version__, torch.__version__),
        )  # fmt: skip
        finished = db.finished_keys(spec.name)
        todo = [Population([r for r in p.runs if r.key not in finished]) for p in plan.populations]
        todo = [p for p in todo if p.runs]
        # A module-level function bound to the data: picklable, so a Ray executor ships it
        # (and the data) once; the local executor adds each population's progress bar.
        job = functools.partial(train_population, data=data, device=resolved)
        with _Bars(console, todo, enabled=progress) as bars:
            for population, results in pool.map(job, todo, progress=bars.epoch_callback):
                if isinstance(results, Exception):
                    results = _failed(population, results, data)
                for run, result in zip(population.runs, results, strict=True):
                    db.write_run(spec.name, run.position, result)
                    counts[result.status] += 1
                bars.population_done(population)
        record = db.load(spec.name)
    console.print(summary_table(record))
    return StudyOutcome(
        study=spec.name, store=Path(store), planned=len(plan.runs),
        skipped=len(plan.runs) - sum(len(p.runs) for p in todo), trained=counts["done"],
        diverged=counts["diverged"], failed=counts["failed"],
    )  # fmt: skip


def _executor(executor: str | Executor, *, address, threads) -> Executor:
    if isinstance(executor, str):
        return make_executor(executor, address=address, threads=threads)
    for name, value in (("address", address), ("threads", threads)):
        if value is not None:  # an Executor instance carries its own
            raise ReglabError(
                invalid(name, f"no {name} with an Executor instance (set it on the executor)",
                        value)
            )  # fmt: skip
    return executor


def _failed(population: Population, error: Exception, data: StudyData) -> list[RunResult]:
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    stamp = now()
    return [
        RunResult.of(
            r,
            status="failed",
            error=text,
            seconds=None,
            metric=data.task.metric,
            train_loss=None,
            train_metric=None,
            test_loss=None,
            test_metric=None,
            best_epoch=0,
            stopped_epoch=0,
            epochs_run=0,
            sparsity=None,
            started=stamp,
            finished=stamp,
        )
        for r in population.runs
    ]


class _Bars:
    """An overall bar (runs) and one bar per population (epochs, best validation metric)."""

    def __init__(self, console: Console, todo: list[Population], *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, disable=not enabled,
        )  # fmt: skip
        self.overall = self.progress.add_task("runs", total=sum(len(p.runs) for p in todo), best="")
        self.current = None

    def __enter__(self) -> _Bars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def epoch_callback(self, population: Population):
        settings = population.settings
        label = f"{len(population.runs)} x {population.runs[0].variant}"
        self.current = self.progress.add_task(f"  {label}, epoch", total=settings.epochs, best="")
        best = {"value": None}

        def update(epoch: int, rows: list[dict | None]) -> None:
            for row in rows:
                for name, better in (("val_accuracy", max), ("val_mae", min)):
                    value = None if row is None else row.get(name)
                    if value is not None and math.isfinite(value):
                        old = best["value"]
                        best["value"] = value if old is None else better(old, value)
                        best["name"] = name
            shown = f"best {best['name']} {best['value']:.4f}" if best["value"] is not None else ""
            self.progress.update(self.current, completed=epoch, best=shown)

        return update

    def population_done(self, population: Population) -> None:
        if self.current is not None:
            self.progress.remove_task(self.current)
            self.current = None
        self.progress.advance(self.overall, len(population.runs))
