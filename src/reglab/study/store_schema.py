"""The store's tables, as SQL, and the steps that upgrade an older store to them.

``docs/store.md`` describes every column. A new schema version adds its statements to
:data:`UPGRADES`, so a store of any older version is brought up to date in one
transaction, and :data:`SCHEMA_VERSION` is what a newer reglab refuses to go below.
"""

from __future__ import annotations

from reglab.study.claims import CLAIMS_TABLE

__all__ = ["EPOCH_COLUMNS", "RUN_FIELDS", "SCHEMA", "SCHEMA_VERSION", "UPGRADES"]

# 1: the first release. 2: `studies.identity` (what the spec says, the basis of run keys)
# and the `claims` table. A version-1 store is upgraded in place when a study runs in it.
SCHEMA_VERSION = 2

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
    + CLAIMS_TABLE
    + ";"
)

UPGRADES = {  # from version N to N + 1
    1: ["ALTER TABLE studies ADD COLUMN identity TEXT", CLAIMS_TABLE],
}

RUN_FIELDS = (
    "status", "error", "started", "finished", "seconds", "metric", "train_loss",
    "train_metric", "test_loss", "test_metric", "best_epoch", "stopped_epoch",
    "epochs_run", "sparsity",
)  # fmt: skip
