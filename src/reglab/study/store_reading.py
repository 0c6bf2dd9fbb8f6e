"""Reading a study back from the store: the records the report and notebooks use.

A mixin of :class:`reglab.study.store.Store`, kept apart from the writing side: it only
runs SELECTs, so a store opened read-only serves it whole.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from reglab.errors import ReglabError
from reglab.study.records import RunRecord, StudyRecord, WeightHistogram
from reglab.study.store_schema import EPOCH_COLUMNS, RUN_FIELDS, held_out_was_test

__all__ = ["StoreReading", "json_cell"]


class StoreReading:
    """The read methods of a store; needs ``self._db`` and ``self.path``."""

    _db: sqlite3.Connection
    path: Path
    version: int

    def study_names(self) -> list[str]:
        """Every study in the store, oldest first."""
        rows = self._db.execute("SELECT name FROM studies ORDER BY created, name")
        return [name for (name,) in rows]

    def stored_identity(self, name: str) -> tuple[bool, dict | None]:
        """Whether the store holds study ``name``, and its identity (None for a study
        written by schema 1, which stored none)."""
        row = self._db.execute("SELECT identity FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            return False, None
        return True, None if row[0] is None else json_cell(row[0], self.path, name)

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
        spec = json_cell(row[1], self.path, name)
        fields = RUN_FIELDS
        if self.version < 3:  # read as the upgrade would write it (store_schema)
            fields = tuple(f"NULL AS {f}" if f.startswith("val_") else f for f in fields)
        runs = [self._run(values) for values in self._db.execute(
            f"SELECT key, variant, seed, fold, repeat, {', '.join(fields)} FROM runs "
            "WHERE study = ? ORDER BY position, key", (name,)
        ).fetchall()]  # fmt: skip
        if self.version < 3:
            runs = [_as_schema_3(run, held_out_was_test(spec)) for run in runs]
        return StudyRecord(row[0], spec, *row[2:], runs=runs)

    def _run(self, values: tuple) -> RunRecord:
        fields = dict(
            zip(("key", "variant", "seed", "fold", "repeat", *RUN_FIELDS), values, strict=True)
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
            row.update(json_cell(extra, self.path, key) if extra else {})
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


def _as_schema_3(run: RunRecord, test_too: bool) -> RunRecord:
    held_out = {"val_loss": run.test_loss, "val_metric": run.test_metric}
    if not test_too:
        held_out.update(test_loss=None, test_metric=None)
    return dataclasses.replace(run, **held_out)


def json_cell(text: str, path: Path, where: str):
    """A JSON cell of the store, or one line saying the store is damaged there."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as error:
        raise ReglabError(
            f"The store {path} is damaged: the stored JSON of '{where}' does not parse "
            f"({error}); restore the file from a copy or use another --store."
        ) from None
