"""The store's tables, as SQL, and the steps that upgrade an older store to them.

``docs/store.md`` describes every column. A new schema version adds its steps to
:data:`UPGRADES` (SQL statements, or functions of the connection), so a store of any
older version is brought up to date in one transaction, and :data:`SCHEMA_VERSION` is
what a newer reglab refuses to go below.
"""

from __future__ import annotations

import json
import sqlite3

from reglab.study.claims import CLAIMS_TABLE

__all__ = [
    "EPOCH_COLUMNS",
    "RUN_FIELDS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "UPGRADES",
    "held_out_was_test",
]

# 1: the first release. 2: `studies.identity` (what the spec says, the basis of run keys)
# and the `claims` table. 3: `runs.val_loss` / `val_metric` beside `test_loss` /
# `test_metric`: the validation rows and the test set apart. An older store is upgraded
# in place when a study runs in it, and read as if upgraded when only read.
SCHEMA_VERSION = 3

# The History columns (docs/architecture.md); anything else goes to `extra` as JSON.
EPOCH_COLUMNS = (
    "loss", "data_loss", "penalty", "accuracy", "mae",
    "val_loss", "val_accuracy", "val_mae", "epoch_time",
)  # fmt: skip

SCHEMA = (
    f"""
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL, dataset TEXT NOT NULL, created TEXT NOT NULL,
    reglab_version TEXT NOT NULL, torch_version TEXT NOT NULL, device TEXT NOT NULL,
    identity TEXT);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY, study TEXT NOT NULL REFERENCES studies(name), position INTEGER,
    variant TEXT NOT NULL, seed INTEGER NOT NULL, fold INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'diverged', 'failed')), error TEXT,
    started TEXT, finished TEXT, seconds REAL, metric TEXT,
    train_loss REAL, train_metric REAL, test_loss REAL, test_metric REAL,
    best_epoch INTEGER, stopped_epoch INTEGER, epochs_run INTEGER, sparsity REAL,
    val_loss REAL, val_metric REAL);
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
    + CLAIMS_TABLE
    + ";"
)


def held_out_was_test(spec: dict) -> bool:
    """Whether a study stored before schema 3 validated on the test set.

    Until then a run stored one held-out score, in ``test_*``: the test set's when the
    spec said ``validation = "test"``, else its split's or fold's (the test set was not
    scored at all). Both the upgrade and the reading of an older store use this rule.

    Examples
    --------
    >>> held_out_was_test({"validation": {"split": None, "folds": None}})
    True
    >>> held_out_was_test({"validation": {"split": 0.2, "folds": None}})
    False
    """
    validation = spec.get("validation") or {}
    return validation.get("split") is None and validation.get("folds") is None


def _split_held_out_scores(db: sqlite3.Connection) -> None:
    """Schema 3's step: the one stored held-out score becomes validation, and test too
    where the test set was what validated."""
    for name, spec in db.execute("SELECT name, spec FROM studies").fetchall():
        test_too = held_out_was_test(json.loads(spec))
        db.execute(
            "UPDATE runs SET val_loss = test_loss, val_metric = test_metric"
            + ("" if test_too else ", test_loss = NULL, test_metric = NULL")
            + " WHERE study = ?",
            (name,),
        )


UPGRADES = {  # from version N to N + 1
    1: ["ALTER TABLE studies ADD COLUMN identity TEXT", CLAIMS_TABLE],
    2: [
        "ALTER TABLE runs ADD COLUMN val_loss REAL",
        "ALTER TABLE runs ADD COLUMN val_metric REAL",
        _split_held_out_scores,
    ],
}

RUN_FIELDS = (
    "status", "error", "started", "finished", "seconds", "metric", "train_loss",
    "train_metric", "test_loss", "test_metric", "best_epoch", "stopped_epoch",
    "epochs_run", "sparsity", "val_loss", "val_metric",
)  # fmt: skip
