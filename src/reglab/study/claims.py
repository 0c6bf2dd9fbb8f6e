"""Claims: a run is leased to one runner before it trains, so concurrent runners split the work.

A claim is a row ``(key, study, owner, expires)`` in the store's ``claims`` table, taken
in one ``BEGIN IMMEDIATE`` transaction with the check that nobody finished or holds the
run, so two runners can never take the same run. The owner (``host:pid:token``) renews
its leases from a background thread while it trains; a runner killed with ``kill -9``
stops renewing, its leases expire, and any runner still working takes the runs over.
Writing a finished run deletes its claim in the run's own transaction.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DEFAULT_LEASE_SECONDS", "LeaseRenewer", "claim_runs", "lease_seconds", "new_owner"]

# Long enough that a busy machine never misses a renewal (one every quarter lease),
# short enough that a killed runner's work is taken over within a minute.
DEFAULT_LEASE_SECONDS = 60.0

CLAIMS_TABLE = """
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY, study TEXT NOT NULL, owner TEXT NOT NULL, expires REAL NOT NULL)
"""


def lease_seconds() -> float:
    """The lease length: ``REGLAB_LEASE_SECONDS`` when set (tests shorten it), else 60 s.

    Examples
    --------
    >>> lease_seconds() > 0
    True
    """
    try:
        value = float(os.environ.get("REGLAB_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    except ValueError:
        return DEFAULT_LEASE_SECONDS
    return value if value > 0 else DEFAULT_LEASE_SECONDS


def new_owner() -> str:
    """A name for this runner that no other process shares: ``host:pid:token``.

    Examples
    --------
    >>> new_owner().count(":")
    2
    """
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def claim_runs(
    db: sqlite3.Connection, study: str, keys: Iterable[str], owner: str, lease: float
) -> tuple[list[str], int]:
    """Claim every run among ``keys`` that is neither finished nor leased to another runner.

    Returns
    -------
    taken : list of str
        The keys now leased to ``owner`` (in the order given).
    held : int
        How many of the others are leased to a runner still alive.

    Raises
    ------
    sqlite3.OperationalError
        If another program holds the store's lock for longer than its busy timeout.
    """
    keys = list(keys)
    stamp = time.time()
    db.execute("BEGIN IMMEDIATE")
    try:
        marks = ",".join("?" * len(keys))
        finished = {
            k for (k,) in db.execute(
                f"SELECT key FROM runs WHERE key IN ({marks}) AND status IN ('done', 'diverged')",
                keys,
            )
        }  # fmt: skip
        leased = {
            k for (k,) in db.execute(
                f"SELECT key FROM claims WHERE key IN ({marks}) AND owner != ? AND expires > ?",
                [*keys, owner, stamp],
            )
        }  # fmt: skip
        taken = [k for k in keys if k not in finished and k not in leased]
        db.executemany(
            "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)",
            [(k, study, owner, stamp + lease) for k in taken],
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return taken, len(leased - finished)


def release(db: sqlite3.Connection, owner: str) -> None:
    """Drop every lease of ``owner`` (a runner stopping with runs unfinished)."""
    db.execute("DELETE FROM claims WHERE owner = ?", (owner,))


class LeaseRenewer:
    """Renews an owner's leases every quarter lease, on its own connection and thread.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "s.db"
    ...     sqlite3.connect(path).execute(CLAIMS_TABLE).connection.close()
    ...     with LeaseRenewer(path, "me", lease=1.0):
    ...         pass
    """

    def __init__(self, path: Path, owner: str, *, lease: float) -> None:
        self.path, self.owner, self.lease = Path(path), owner, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reglab-lease", daemon=True)

    def __enter__(self) -> LeaseRenewer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=self.lease / 4)
        try:
            while not self._stop.wait(self.lease / 4):
                try:
                    db.execute(
                        "UPDATE claims SET expires = ? WHERE owner = ?",
                        (time.time() + self.lease, self.owner),
                    )
                except sqlite3.Error:  # locked for a moment: the next beat renews
                    continue
        finally:
            db.close()
