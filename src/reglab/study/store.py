"""The SQLite store: one file (WAL) holding every study, run, epoch and weight histogram.

Only the driver process writes. A run is written in ONE transaction when it ends, so a
study killed at any moment leaves either the whole run or nothing of it, and a rerun
trains only what is missing. The tables are described in ``docs/store.md``.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from reglab.errors import ReglabError
from reglab.study.records import RunRecord, StudyRecord, WeightHistogram

__all__ = ["EPOCH_COLUMNS", "SCHEMA_VERSION", "RunResult", "Store", "list_studies", "load_study"]

SCHEMA_VERSION = 1

# The History columns (docs/architecture.md); anything else goes to `extra` as JSON.
EPOCH_COLUMNS = (
    "loss", "data_loss", "penalty", "accuracy", "mae",
    "val_loss", "val_accuracy", "val_mae", "epoch_time",
)  # fmt: skip

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL, dataset TEXT NOT NULL, created TEXT NOT NULL,
    reglab_version TEXT NOT NULL, torch_version TEXT NOT NULL, device TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY, study TEXT NOT NULL REFERENCES studies(name), position INTEGER,
    variant TEXT NOT NULL, seed INTEGER NOT NULL, fold INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'diverged', 'failed')), error TEXT,
    started TEXT, finished TEXT, seconds REAL, metric TEXT,
    train_loss REAL, train_metric REAL, test_loss REAL, test_metric REAL,
    best_epoch INTEGER, stopped_epoch INTEGER, epochs_run INTEGER, sparsity REAL);
CREATE INDEX IF NOT EXISTS runs_by_study ON runs(study, position);
CREATE TABLE IF NOT EXISTS epochs (
    run TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    {", ".join(f"{c} REAL" for c in EPOCH_COLUMNS)}, extra TEXT,
    PRIMARY KEY (run, epoch));
CREATE TABLE IF NOT EXISTS histograms (
    run TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE, layer TEXT NOT NULL,
    epoch TEXT NOT NULL CHECK (epoch IN ('first', 'last')), edges TEXT NOT NULL,
    counts TEXT NOT NULL, PRIMARY KEY (run, layer, epoch));
"""

_RUN_FIELDS = (
    "status", "error", "started", "finished", "seconds", "metric", "train_loss",
    "train_metric", "test_loss", "test_metric", "best_epoch", "stopped_epoch",
    "epochs_run", "sparsity",
)  # fmt: skip


@dataclass(frozen=True)
class RunResult(RunRecord):
    """A finished run on its way to the store: a :class:`RunRecord` plus its timestamps."""

    started: str | None = None
    finished: str | None = None

    @classmethod
    def of(cls, run, **fields) -> RunResult:
        """The result of the planned ``run`` (its key, variant, seed, fold and repeat)."""
        return cls(
            key=run.key, variant=run.variant, seed=run.seed, fold=run.fold, repeat=run.repeat,
            **fields,
        )  # fmt: skip


def now() -> str:
    """The current time in ISO 8601, UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """A study store: one SQLite file, created with its parent folder when missing.

    Parameters
    ----------
    path : str or pathlib.Path
        The store's file.

    Raises
    ------
    ReglabError
        If the path cannot be written, is not an SQLite file, or holds a newer schema
        than this reglab knows (the file is then left untouched).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with Store(pathlib.Path(tmp) / "s.db") as store:
    ...         store.finished_keys("none")
    set()
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _refuse_newer(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            if self._version() == 0:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executescript(_SCHEMA)  # executescript commits
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as error:
            raise ReglabError(f"Cannot write the store {self.path}: {error}.") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the data is already committed)."""
        self._db.close()

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def begin_study(self, name: str, spec: dict, *, dataset: str, device: str, versions) -> None:
        """Record a study, or check that its stored spec is the one given.

        Raises
        ------
        ReglabError
            If a study of that name exists with a different spec.
        """
        text = json.dumps(spec, sort_keys=True)
        row = self._db.execute("SELECT spec FROM studies WHERE name = ?", (name,)).fetchone()
        if row is not None:
            if json.loads(row[0]) != json.loads(text):
                raise ReglabError(
                    f"The store {self.path} already holds a study named '{name}' with a "
                    "different spec; give the changed spec a new `name`, or use another --store."
                )
            self._db.execute("UPDATE studies SET device = ? WHERE name = ?", (device, name))
            return
        self._db.execute(
            "INSERT INTO studies VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, text, dataset, now(), versions[0], versions[1], device),
        )

    def finished_keys(self, study: str) -> set[str]:
        """Keys of the study's runs that need no retraining (done or diverged)."""
        rows = self._db.execute(
            "SELECT key FROM runs WHERE study = ? AND status IN ('done', 'diverged')", (study,)
        )
        return {key for (key,) in rows}

    def write_run(self, study: str, position: int, run: RunResult) -> None:
        """Write one finished run, its epochs and histograms, in ONE transaction.

        A previous row with the same key (a failed attempt) is replaced.
        """
        values = [_finite(getattr(run, f)) for f in _RUN_FIELDS]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM runs WHERE key = ?", (run.key,))
            self._db.execute(
                f"INSERT INTO runs VALUES ({', '.join('?' * (7 + len(_RUN_FIELDS)))})",
                (run.key, study, position, run.variant, run.seed, run.fold, run.repeat, *values),
            )
            self._db.executemany(
                f"INSERT INTO epochs VALUES ({', '.join('?' * (3 + len(EPOCH_COLUMNS)))})",
                [_epoch_values(run.key, row) for row in run.history],
            )
            self._db.executemany(
                "INSERT INTO histograms VALUES (?, ?, ?, ?, ?)",
                [
                    (run.key, h.layer, h.epoch, json.dumps(h.edges), json.dumps(h.counts))
                    for h in run.histograms
                ],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def study_names(self) -> list[str]:
        """Every study in the store, oldest first."""
        rows = self._db.execute("SELECT name FROM studies ORDER BY created, name")
        return [name for (name,) in rows]

    def load(self, name: str) -> StudyRecord:
        """Read one study with all its runs, epochs and histograms.

        Raises
        ------
        ReglabError
            If the store has no study of that name (the ones it has are listed).
        """
        row = self._db.execute(
            "SELECT name, spec, created, dataset, device, reglab_version, torch_version "
            "FROM studies WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            known = ", ".join(repr(n) for n in self.study_names()) or "none"
            raise ReglabError(f"Unknown study {name!r} in the store {self.path}: it holds {known}.")
        runs = [self._run(values) for values in self._db.execute(
            f"SELECT key, variant, seed, fold, repeat, {', '.join(_RUN_FIELDS)} FROM runs "
            "WHERE study = ? ORDER BY position, key", (name,)
        ).fetchall()]  # fmt: skip
        return StudyRecord(row[0], json.loads(row[1]), *row[2:], runs=runs)

    def _run(self, values: tuple) -> RunRecord:
        fields = dict(
            zip(("key", "variant", "seed", "fold", "repeat", *_RUN_FIELDS), values, strict=True)
        )
        key = fields["key"]
        fields.pop("started")
        fields.pop("finished")
        columns = ", ".join(EPOCH_COLUMNS)
        history = []
        for epoch, *numbers, extra in self._db.execute(
            f"SELECT epoch, {columns}, extra FROM epochs WHERE run = ? ORDER BY epoch", (key,)
        ):
            row = {"epoch": float(epoch)}
            for column, number in zip(EPOCH_COLUMNS, numbers, strict=True):
                if number is not None:
                    row[column] = float(number)
            row.update(json.loads(extra) if extra else {})
            history.append(row)
        histograms = [
            WeightHistogram(layer, epoch, json.loads(edges), json.loads(counts))
            for layer, epoch, edges, counts in self._db.execute(
                "SELECT layer, epoch, edges, counts FROM histograms WHERE run = ? "
                "ORDER BY layer, epoch = 'last'",
                (key,),
            )
        ]
        for name in ("best_epoch", "stopped_epoch", "epochs_run"):
            fields[name] = fields[name] or 0
        fields["metric"] = fields["metric"] or ""
        return RunRecord(**fields, history=history, histograms=histograms)


def load_study(store_path: str | Path, name: str) -> StudyRecord:
    """Read a study from a store, for a report or a notebook.

    Parameters
    ----------
    store_path : str or pathlib.Path
        The store's file; it must exist.
    name : str
        The study's name.

    Returns
    -------
    StudyRecord

    Raises
    ------
    ReglabError
        If there is no store at ``store_path`` or no such study in it.

    Examples
    --------
    >>> load_study("no-such-store.db", "demo")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No store at no-such-store.db: run a study first ...
    """
    with _existing(store_path) as store:
        return store.load(name)


def list_studies(store_path: str | Path) -> list[str]:
    """The names of the studies in a store, oldest first.

    Examples
    --------
    >>> list_studies("no-such-store.db")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No store at no-such-store.db: run a study first ...
    """
    with _existing(store_path) as store:
        return store.study_names()


def _existing(path: str | Path) -> Store:
    if not Path(path).is_file():
        raise ReglabError(
            f"No store at {path}: run a study first (reglab run SPEC --store {path})."
        )
    return Store(path)


def _refuse_newer(path: Path) -> None:
    """Read the schema version without writing anything (WAL mode would change the file)."""
    if not path.is_file():
        return
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error as error:
        raise ReglabError(f"Cannot open the store {path}: {error}.") from None
    if version > SCHEMA_VERSION:
        raise ReglabError(
            f"The store {path} has schema version {version}, newer than this reglab "
            f"understands ({SCHEMA_VERSION}); upgrade reglab to read it. The file was not changed."
        )


def _finite(value):
    """SQLite has no NaN (it would store NULL silently); make that choice explicit."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _epoch_values(key: str, row: dict) -> tuple:
    extra = {k: v for k, v in row.items() if k not in EPOCH_COLUMNS and k != "epoch"}
    numbers = [_finite(row.get(column)) for column in EPOCH_COLUMNS]
    return (key, int(row["epoch"]), *numbers, json.dumps(extra) if extra else None)
