"""The SQLite store: one file (WAL) holding every study, run, epoch and weight histogram.

Only driver processes write. A run is written in ONE transaction when it ends, so a
study killed at any moment leaves either the whole run or nothing of it, and a rerun
trains only what is missing; before it trains, a run is claimed (:mod:`.claims`), so
concurrent runners on one store split the work. Commands that only read open the file
read-only. The tables are described in ``docs/store.md``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from reglab.errors import ReglabError
from reglab.study.records import RunRecord, StudyRecord
from reglab.study.store_checks import (
    StoreLocked,
    check_schema,
    check_store_path,
    connect_read_only,
    inspect_store,
    is_locked,
    locked_message,
)
from reglab.study.store_reading import StoreReading, json_cell
from reglab.study.store_schema import (
    EPOCH_COLUMNS,
    RUN_FIELDS,
    SCHEMA,
    SCHEMA_VERSION,
    UPGRADES,
)

__all__ = [
    "EPOCH_COLUMNS",
    "SCHEMA_VERSION",
    "RunResult",
    "Store",
    "StoreLocked",
    "list_studies",
    "load_study",
]

# How long a write waits for another program's lock before reglab says so (seconds).
DEFAULT_LOCK_WAIT = 30.0


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


class Store(StoreReading):
    """A study store: one SQLite file, created with its parent folder when missing.

    Parameters
    ----------
    path : str or pathlib.Path
        The store's file.
    readonly : bool, default False
        Open for reading only: the file must exist and is never changed (a read-only
        file or folder is fine).
    lock_wait : float, optional
        Seconds a write waits for another program's lock; ``REGLAB_LOCK_WAIT`` or 30.

    Raises
    ------
    ReglabError
        If the path cannot be a store (a folder, under a file, read-only), is not an
        SQLite file, is another program's database, lacks reglab's tables, or holds a
        newer schema than this reglab knows: the file is then left untouched.
    StoreLocked
        If another program holds the store's lock for longer than ``lock_wait``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with Store(pathlib.Path(tmp) / "s.db") as store:
    ...         store.finished_keys("none")
    set()
    """

    def __init__(
        self, path: str | Path, *, readonly: bool = False, lock_wait: float | None = None
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.lock_wait = _lock_wait() if lock_wait is None else float(lock_wait)
        check_store_path(self.path, write=not readonly)
        version, tables = (0, set())
        if self.path.is_file() and self.path.stat().st_size > 0:
            version, tables = inspect_store(self.path)
        check_schema(self.path, version, tables, SCHEMA_VERSION)
        self.version = version
        try:
            if readonly:
                self._db = connect_read_only(self.path)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=self.lock_wait)
            self._db.execute(f"PRAGMA busy_timeout={int(self.lock_wait * 1000)}")
            # Switching a new file to WAL, and the first schema transaction, can meet
            # SQLITE_BUSY without SQLite's busy handler being called (it refuses to wait
            # where two connections could deadlock); several runners opening one new store
            # at once then retry here, within the same lock wait.
            _until_unlocked(lambda: self._db.execute("PRAGMA journal_mode=WAL"), self.lock_wait)
            self._db.execute("PRAGMA foreign_keys=ON")
            _until_unlocked(self._create_or_upgrade, self.lock_wait)
        except sqlite3.Error as error:
            if is_locked(error):
                raise StoreLocked(locked_message(self.path, self.lock_wait)) from None
            raise ReglabError(f"Cannot write the store {self.path}: {error}.") from None
        except OSError as error:
            raise ReglabError(
                f"Cannot write the store {self.path}: {error.strerror or error}."
            ) from None

    def _create_or_upgrade(self) -> None:
        """Make the tables of a new store, or upgrade an older one, in one transaction."""
        if self._version() == SCHEMA_VERSION:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()  # another process may have done it meanwhile
            if version == 0:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self._db.execute(statement)
            else:
                for step in range(version, SCHEMA_VERSION):
                    for statement in UPGRADES[step]:
                        if callable(statement):
                            statement(self._db)
                        else:
                            self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self.version = SCHEMA_VERSION

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (for the claims of :mod:`reglab.study.claims`)."""
        return self._db

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the data is already committed)."""
        self._db.close()

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction; another program's lock becomes :class:`StoreLocked`."""
        try:
            _until_unlocked(lambda: self._db.execute("BEGIN IMMEDIATE"), self.lock_wait)
        except sqlite3.OperationalError as error:
            if is_locked(error):
                raise StoreLocked(locked_message(self.path, self.lock_wait)) from None
            raise
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def begin_study(
        self,
        name: str,
        spec: dict,
        *,
        dataset: str,
        device: str,
        versions,
        identity: dict | None = None,
    ) -> str:
        """Record a study, or check that the stored one says the same.

        Parameters
        ----------
        name : str
        spec : dict
            The resolved spec (every default), kept for the report.
        dataset, device : str
        versions : tuple of str
            reglab's and torch's versions.
        identity : dict, optional
            What the spec says (:func:`reglab.study.identity.spec_identity`); two specs
            are the same study when their identities are equal. ``spec`` when omitted.

        Returns
        -------
        str
            ``"new"`` (recorded now, or a study without finished runs whose spec was
            replaced), ``"same"``, ``"extended"`` (the stored spec with variants added,
            a value added to a sweep: the spec is replaced, its runs are kept; see
            :meth:`reposition`), or ``"legacy"``: a study written by schema 1, which
            stored no identity; :meth:`adopt_legacy` then matches its runs by key.

        Raises
        ------
        ReglabError
            If a study of that name with finished runs says something else.
        """
        identity = spec if identity is None else identity
        text, ident = json.dumps(spec, sort_keys=True), json.dumps(identity, sort_keys=True)
        with self._transaction():
            row = self._db.execute(
                "SELECT identity, spec FROM studies WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO studies (name, spec, dataset, created, reglab_version, "
                    "torch_version, device, identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, text, dataset, now(), versions[0], versions[1], device, ident),
                )
                return "new"
            json_cell(row[1], self.path, name)  # a damaged study is found before training
            if row[0] is None:
                return "legacy"
            stored = json_cell(row[0], self.path, name)
            if adds_variants(stored, json.loads(ident)):
                self._db.execute(
                    "UPDATE studies SET spec = ?, identity = ?, device = ? WHERE name = ?",
                    (text, ident, device, name),
                )
                return "extended"
            if stored != json.loads(ident):
                if self._finished_count(name):
                    raise ReglabError(_different(self.path, name))
                self._replace_spec(name, text, ident, device)  # only failed runs: start over
                return "new"
            self._db.execute("UPDATE studies SET device = ? WHERE name = ?", (device, name))
            return "same"

    def adopt_legacy(self, name: str, spec: dict, identity: dict, keys: dict[str, str]) -> int:
        """Give a schema-1 study's runs their current keys, and store its identity.

        Parameters
        ----------
        name : str
        spec, identity : dict
            As for :meth:`begin_study`.
        keys : dict of str to str
            Each planned run's schema-1 key to its current one.

        Returns
        -------
        int
            How many stored runs were matched.

        Raises
        ------
        ReglabError
            If finished runs of the study match no planned run (another spec).
        """
        with self._transaction():
            stored = self._db.execute(
                "SELECT key, status FROM runs WHERE study = ?", (name,)
            ).fetchall()
            strangers = [k for k, status in stored if k not in keys]
            if strangers and self._finished_count(name):
                raise ReglabError(_different(self.path, name))
            self._db.execute("PRAGMA defer_foreign_keys=ON")
            matched = 0
            for old, _ in stored:
                new = keys.get(old)
                if new is None or new == old:
                    matched += new is not None
                    continue
                for table, column in (("runs", "key"), ("epochs", "run"), ("histograms", "run")):
                    self._db.execute(
                        f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new, old)
                    )
                matched += 1
            self._db.execute(
                "UPDATE studies SET spec = ?, identity = ? WHERE name = ?",
                (json.dumps(spec, sort_keys=True), json.dumps(identity, sort_keys=True), name),
            )
        return matched

    def reposition(self, study: str, positions: dict[str, int]) -> None:
        """Give the study's stored runs their places in the current plan.

        Runs are read in ``position`` order; after variants were added in the middle
        of a study (a value inserted into a sweep), the stored runs' old positions
        would interleave with the new runs'.

        Parameters
        ----------
        study : str
        positions : dict of str to int
            Each planned run's key to its position; stored runs not in it keep theirs.
        """
        with self._transaction():
            self._db.executemany(
                "UPDATE runs SET position = ? WHERE key = ? AND study = ?",
                [(position, key, study) for key, position in positions.items()],
            )

    def _finished_count(self, study: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM runs WHERE study = ? AND status IN ('done', 'diverged')",
            (study,),
        ).fetchone()[0]

    def _replace_spec(self, name: str, text: str, ident: str, device: str) -> None:
        self._db.execute("DELETE FROM runs WHERE study = ?", (name,))
        self._db.execute(
            "UPDATE studies SET spec = ?, identity = ?, device = ? WHERE name = ?",
            (text, ident, device, name),
        )

    def finished_keys(self, study: str) -> set[str]:
        """Keys of the study's runs that need no retraining (done or diverged)."""
        rows = self._db.execute(
            "SELECT key FROM runs WHERE study = ? AND status IN ('done', 'diverged')", (study,)
        )
        return {key for (key,) in rows}

    def write_run(
        self, study: str, position: int, run: RunResult, *, owner: str | None = None
    ) -> bool:
        """Write one finished run, its epochs and histograms, in ONE transaction.

        A previous row with the same key (a failed attempt) is replaced, and the run's
        claim is dropped. With ``owner`` (a runner holding claims), a run that another
        runner finished meanwhile (it took over an expired lease) is not written twice.

        Returns
        -------
        bool
            Whether the run was written.

        Raises
        ------
        StoreLocked
            If another program holds the lock for longer than ``lock_wait``; nothing
            is written then, so the caller may try again.
        """
        values = [_finite(getattr(run, f)) for f in RUN_FIELDS]
        with self._transaction():
            if owner is not None:
                row = self._db.execute(
                    "SELECT status FROM runs WHERE key = ?", (run.key,)
                ).fetchone()
                if row is not None and row[0] in ("done", "diverged"):
                    self._db.execute("DELETE FROM claims WHERE key = ? AND owner = ?",
                                     (run.key, owner))  # fmt: skip
                    return False
            self._db.execute("DELETE FROM runs WHERE key = ?", (run.key,))
            columns = ("key", "study", "position", "variant", "seed", "fold", "repeat",
                       *RUN_FIELDS)  # fmt: skip
            self._db.execute(
                f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
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
            self._db.execute("DELETE FROM claims WHERE key = ?", (run.key,))
        return True


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
    return Store(path, readonly=True)


def _lock_wait() -> float:
    try:
        value = float(os.environ.get("REGLAB_LOCK_WAIT", DEFAULT_LOCK_WAIT))
    except ValueError:
        return DEFAULT_LOCK_WAIT
    return value if value >= 0 else DEFAULT_LOCK_WAIT


def _different(path: Path, name: str) -> str:
    return (
        f"The store {path} already holds a study named '{name}' with a different spec and "
        "finished runs; give the changed spec a new `name`, or use another --store."
    )


def adds_variants(stored: dict, identity: dict) -> bool:
    """Whether ``identity`` says what ``stored`` says, with more variants: every stored
    variant unchanged and nothing else changed, so every stored run keeps its meaning."""
    old, new = stored.get("variants"), identity.get("variants")
    if not (isinstance(old, dict) and isinstance(new, dict)) or len(new) <= len(old):
        return False
    rest = [{k: v for k, v in i.items() if k != "variants"} for i in (stored, identity)]
    return rest[0] == rest[1] and all(new.get(name) == table for name, table in old.items())


def _finite(value):
    """SQLite has no NaN (it would store NULL silently); make that choice explicit."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _epoch_values(key: str, row: dict) -> tuple:
    extra = {k: v for k, v in row.items() if k not in EPOCH_COLUMNS and k != "epoch"}
    numbers = [_finite(row.get(column)) for column in EPOCH_COLUMNS]
    return (key, int(row["epoch"]), *numbers, json.dumps(extra) if extra else None)


def _until_unlocked(action, wait: float):
    """``action()``, tried again while it meets a lock, for at most ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_locked(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
