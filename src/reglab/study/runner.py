"""Running a study: plan it, train what the store does not hold yet, write each run.

Drivers (the runner processes) alone write the store, one transaction per finished run,
so a study interrupted at any moment (Ctrl-C, ``kill -9``) is completed by running the
same command again: runs already ``done`` or ``diverged`` are skipped, ``failed`` ones
retried. Runs are claimed before they train, so concurrent runners split the work.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import sqlite3
import time
from collections.abc import Iterator
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
from reglab.study.claims import LeaseRenewer, claim_runs, lease_seconds, new_owner, release
from reglab.study.executors import Executor, make_executor, train_population
from reglab.study.identity import spec_identity
from reglab.study.inputs import StudyData, prepare_data
from reglab.study.planner import Plan, Population, machine_memory, member_bytes, plan_study
from reglab.study.refit import plan_refit
from reglab.study.spec import Spec, load_spec
from reglab.study.store import RunResult, Store, StoreLocked, adds_variants, now
from reglab.study.store_checks import is_locked, locked_message
from reglab.study.tables import print_failures, summary_table

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
    trusted: bool | list = False,
) -> StudyOutcome:
    """Train every run of a study that the store does not hold yet, then print its summary.

    Each population's runs are claimed in the store before they train (leases that
    expire when a runner dies), so several runners on one store split the work, each run
    is trained once, and a killed runner's runs are taken over. A runner whose own work
    is done waits for the runs others hold, so its summary is the whole study's.

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
    trusted : bool or list of paths, default False
        Data files whose checksum is skipped (``reglab run --trust-data FILE``); see
        :func:`reglab.data.load_dataset`. Never part of the spec.

    Returns
    -------
    StudyOutcome

    Raises
    ------
    ReglabError
        For a bad spec, dataset, store or argument, found before anything trains
        (nothing stored is lost), a store locked for longer than reglab waits, or a Ray
        cluster lost mid-study.

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
    console = Console()
    with Store(store) as db:  # its path and schema are checked before the data loads
        spec = _stored_semantics(db, spec, console)
        data = prepare_data(spec, trusted=trusted)
        plan = plan_study(
            spec,
            n_train=data.n_train,
            n_features=data.n_features,
            n_outputs=data.task.n_outputs,
            y_train=data.y_train,
            input_shape=data.sample_shape,
            memory_budget=memory_budget,
        )
        check_memory(spec, plan, data.n_features, data.task.n_outputs, data.sample_shape)
        _begin(db, spec, plan, str(resolved))
        work = _Work(db, spec.name, lease_seconds(), console)
        stored = db.finished_keys(spec.name)
        todo = [r for r in plan.runs if r.key not in stored]
        refit = Plan(runs=[])
        with (
            LeaseRenewer(db.path, work.owner, lease=work.lease),
            _Bars(console, len(todo), enabled=progress) as bars,
        ):
            # A module-level function bound to the data: picklable, so a Ray executor ships
            # it (and the data) once; the local executor adds each population's progress bar.
            job = functools.partial(train_population, data=data, device=resolved)
            try:
                _train(pool, job, work, plan, bars, data)
                if spec.validation.refit:  # only once every fold run is in the store
                    work.flush()
                    refit = plan_refit(
                        spec, db.load(spec.name), first_position=len(plan.runs),
                        n_features=data.n_features, n_outputs=data.task.n_outputs,
                        budget=plan.budget, input_shape=data.sample_shape,
                    )  # fmt: skip
                    bars.add(len(work.left(refit)))
                    _train(pool, job, work, refit, bars, data)
            finally:
                work.close()
        record = db.load(spec.name)
    console.print(summary_table(record))
    print_failures(console, record)
    planned = len(plan.runs) + len(refit.runs)
    return StudyOutcome(
        study=spec.name, store=Path(store), planned=planned,
        skipped=planned - len(work.attempted), trained=work.counts["done"],
        diverged=work.counts["diverged"], failed=work.counts["failed"],
    )  # fmt: skip


def _train(pool: Executor, job, work: _Work, plan: Plan, bars: _Bars, data: StudyData) -> None:
    """Train the plan's runs that no runner has finished, until none is left."""
    while work.left(plan):
        for population, results in pool.map(job, work.claimed(plan), progress=bars.epoch_callback):
            if isinstance(results, Exception):
                results = _failed(population, results, data)
            work.finish(population, results)
            bars.population_done(population)
        work.wait_for_others(plan)


def _stored_semantics(db: Store, spec: Spec, console: Console) -> Spec:
    """The spec with the training semantics its stored study was trained with.

    A study stored by an earlier reglab, whose identity differs from the spec's only in
    its semantics (or a schema-1 study, which stored none: the first release's), resumes
    with that semantics' numerics, so every run of one study is trained alike; a new
    study, or one the spec no longer describes, gets the current semantics.
    """
    found, stored = db.stored_identity(spec.name)
    if not found:
        return spec
    older = 1 if stored is None else stored.get("semantics", 1)
    if older == spec.semantics:
        return spec
    twin = spec.with_semantics(older)
    described = json.loads(json.dumps(spec_identity(twin), sort_keys=True))
    if stored is not None and described != stored and not adds_variants(stored, described):
        return spec  # another spec under this name: begin_study says so
    console.print(
        f"reglab: study '{spec.name}' was trained by an earlier reglab (training semantics "
        f"{older}); its missing runs train with the same numerics, so all its runs compare. "
        "Give the spec a new `name` to train it with this reglab's semantics.",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip
    return twin


def _begin(db: Store, spec: Spec, plan: Plan, device: str) -> None:
    """Record the study, re-keying the runs of a schema-1 store to their current keys
    and re-placing those of a study the spec adds variants to."""
    identity = spec_identity(spec)
    state = db.begin_study(
        spec.name, spec.to_json(), dataset=spec.dataset.name, device=device,
        versions=(__version__, torch.__version__), identity=identity,
    )  # fmt: skip
    if state == "extended":  # variants added: the stored runs take their new places
        db.reposition(spec.name, {r.key: r.position for r in plan.runs})
    if state == "legacy":
        db.adopt_legacy(spec.name, spec.to_json(), identity,
                        {r.legacy_key: r.key for r in plan.runs})  # fmt: skip


# Claims tried before a lock is reported; each waits the store's lock_wait.
_LOCK_ATTEMPTS = 3


class _Work:
    """This runner's share of a study: what it claimed, what it attempted, what it wrote."""

    def __init__(self, db: Store, study: str, lease: float, console: Console) -> None:
        self.db, self.study, self.lease, self.console = db, study, lease, console
        self.owner = new_owner()
        self.attempted: set[str] = set()
        self.counts = {"done": 0, "diverged": 0, "failed": 0}
        self.pending: list[tuple[int, RunResult]] = []  # finished, not yet written
        self.warned = False

    def left(self, plan: Plan) -> list[str]:
        """Runs neither finished in the store nor attempted by this runner."""
        finished = self.db.finished_keys(self.study)
        return [r.key for r in plan.runs if r.key not in finished and r.key not in self.attempted]

    def claimed(self, plan: Plan) -> Iterator[Population]:
        """Each population's claimable runs, claimed just before it trains."""
        for population in plan.populations:
            left = set(self.left(plan))
            keys = [r.key for r in population.runs if r.key in left]
            if not keys:
                continue
            taken = self._claim(keys)
            if taken:
                self.attempted.update(taken)
                yield Population([r for r in population.runs if r.key in set(taken)])

    def _claim(self, keys: list[str]) -> list[str]:
        """Claim, waiting out another program's lock a few times (writing what it can)."""
        for attempt in range(_LOCK_ATTEMPTS):
            try:
                return claim_runs(self.db.connection, self.study, keys, self.owner, self.lease)[0]
            except sqlite3.OperationalError as error:
                if not is_locked(error) or attempt == _LOCK_ATTEMPTS - 1:
                    raise StoreLocked(locked_message(self.db.path, self.db.lock_wait)) from None
                self.flush()
        return []

    def wait_for_others(self, plan: Plan) -> None:
        """Sleep a while when the only runs left are leased to other runners."""
        if self.left(plan):
            time.sleep(min(1.0, self.lease / 4))

    def finish(self, population: Population, results: list[RunResult]) -> None:
        for run, result in zip(population.runs, results, strict=True):
            self.pending.append((run.position, result))
        self.flush()

    def flush(self) -> None:
        """Write the finished runs; while the store is locked, keep them in memory."""
        while self.pending:
            position, result = self.pending[0]
            try:
                written = self.db.write_run(self.study, position, result, owner=self.owner)
            except StoreLocked:
                if not self.warned:
                    self.console.print(
                        f"reglab: the store {self.db.path} is locked by another program; "
                        f"keeping {len(self.pending)} finished runs in memory until it is free."
                    )
                    self.warned = True
                return
            self.pending.pop(0)
            if written:
                self.counts[result.status] += 1

    def close(self) -> None:
        """Write what is still in memory (waiting, bounded, for a lock), drop the leases."""
        deadline = time.monotonic() + self.db.lock_wait
        self.flush()
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.5)
            self.flush()
        with contextlib.suppress(sqlite3.Error):  # locked: the leases expire on their own
            release(self.db.connection, self.owner)
        if self.pending:
            raise StoreLocked(
                f"The store {self.db.path} stayed locked by another program: "
                f"{len(self.pending)} finished runs could not be written; free it (close "
                "the program holding it) and run the same command again to train them."
            )


def check_memory(
    spec: Spec, plan: Plan, n_features: int, n_outputs: int, input_shape: tuple | None = None
) -> None:
    """Refuse a study whose single member would not fit in this machine's memory.

    Raises
    ------
    ReglabError
        Naming the variant, the estimate and the machine's memory.
    """
    total = machine_memory()
    if total is None:
        return
    for variant in spec.variant_names:
        settings = spec.resolve(variant)
        need = member_bytes(settings, n_features, n_outputs, input_shape)
        if need > total:
            shorthand = settings.layers is None and settings.module is None
            model = f"hidden {list(settings.hidden)}" if shorthand else "its model"
            smaller = "`hidden`" if shorthand else "layers"
            raise ReglabError(
                f"Study '{spec.name}': one member of variants.{variant} needs about "
                f"{need / 2**30:.1f} GiB to train ({model}, batch_size "
                f"{settings.batch_size}), more than this machine's {total / 2**30:.1f} GiB; "
                f"use smaller {smaller} or `batch_size`."
            )


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

    def __init__(self, console: Console, total: int, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, disable=not enabled,
        )  # fmt: skip
        self.overall = self.progress.add_task("runs", total=total, best="")
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

    def add(self, runs: int) -> None:
        """More runs to train (a K-fold study's refit runs, planned after its folds)."""
        self.progress.update(self.overall, total=self.progress.tasks[self.overall].total + runs)

    def population_done(self, population: Population) -> None:
        if self.current is not None:
            self.progress.remove_task(self.current)
            self.current = None
        self.progress.advance(self.overall, len(population.runs))
