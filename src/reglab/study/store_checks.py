"""What a store path must be before reglab opens it: every refusal one line, the file untouched.

SQLite's own messages name the symptom ("unable to open database file"); these name the
cause (the path is a folder, its parent is a file, the file is read-only, it belongs to
another program, it is locked), and they are all found before anything is written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from reglab.errors import ReglabError

__all__ = ["StoreLocked", "check_store_path", "connect_read_only", "inspect_store", "is_locked"]

# The tables every reglab store has had since schema version 1.
REQUIRED_TABLES = ("studies", "runs", "epochs", "histograms")


class StoreLocked(ReglabError):
    """Another program holds the store's write lock for longer than reglab waits."""


def is_locked(error: sqlite3.Error) -> bool:
    """Whether an SQLite error is a busy or locked database."""
    text = str(error).lower()
    return "locked" in text or "busy" in text


def locked_message(path: Path, waited: float) -> str:
    return (
        f"The store {path} is locked by another program (waited {waited:g} s): finish or "
        "close what holds it (a `sqlite3` shell, another tool), or set REGLAB_LOCK_WAIT to "
        "wait longer, then run the same command again."
    )


def check_store_path(path: Path, *, write: bool) -> None:
    """Refuse a store path that cannot be one, naming why.

    Parameters
    ----------
    path : pathlib.Path
        The store's file.
    write : bool
        Whether the command writes (a missing file is then created, so its folder must be
        creatable and writable).

    Raises
    ------
    ReglabError
        If the path is a folder, has a file among its parents, or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_store_path(Path(tmp), write=True)
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: The store path ... is a folder: give a file in it, ...
    """
    if str(path) == "":
        raise ReglabError("The store path is empty: give a file, e.g. --store reglab.db.")
    if path.is_dir():
        raise ReglabError(
            f"The store path {path} is a folder: give a file in it, "
            f"e.g. --store {path / 'reglab.db'}."
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ReglabError(
                    f"Cannot create the store {path}: {parent} is a file, not a folder; "
                    "choose another --store."
                )
            break
    if not write:
        return
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ReglabError(
                f"Cannot write the store {path}: the file is read-only; make it writable "
                "(chmod u+w) or choose another --store."
            )
        folder = path.parent
    else:
        folder = next((p for p in path.parents if p.exists()), Path("."))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReglabError(
            f"Cannot write the store {path}: the folder {folder} is not writable (SQLite "
            "keeps its journal beside the store); choose another --store."
        )


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can never change the file, even in a read-only folder.

    ``mode=ro`` still needs the WAL index file; when that cannot be made (a read-only
    folder or file), ``immutable=1`` reads the file as it is.
    """
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        db.execute("PRAGMA user_version").fetchone()
        db.execute("SELECT name FROM sqlite_master").fetchall()
        return db
    except sqlite3.OperationalError as error:
        if is_locked(error):
            raise
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def inspect_store(path: Path) -> tuple[int, set[str]]:
    """The schema version and the table names of an existing file, read without writing.

    Raises
    ------
    ReglabError
        If the file is not an SQLite database.
    """
    try:
        db = connect_read_only(path)
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            db.close()
    except sqlite3.Error as error:
        if is_locked(error):
            raise StoreLocked(locked_message(path, 0)) from None
        raise ReglabError(f"Cannot open the store {path}: {error}.") from None
    return version, tables


def check_schema(path: Path, version: int, tables: set[str], newest: int) -> None:
    """Refuse a newer schema, another program's database, or a store missing its tables."""
    if version > newest:
        raise ReglabError(
            f"The store {path} has schema version {version}, newer than this reglab "
            f"understands ({newest}); upgrade reglab to read it. The file was not changed."
        )
    if version == 0 and tables:
        listed = ", ".join(sorted(tables)[:5])
        raise ReglabError(
            f"{path} is another program's SQLite database (tables {listed}), not a reglab "
            "store; reglab left it untouched: choose another --store."
        )
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if version > 0 and missing:
        raise ReglabError(
            f"The store {path} says schema version {version} but lacks the tables "
            f"{', '.join(missing)}: it is damaged or not reglab's; reglab left it untouched: "
            "choose another --store."
        )
