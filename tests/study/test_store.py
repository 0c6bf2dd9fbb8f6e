"""The SQLite store: round trip, replacement of failed runs, schema and path errors."""

import math
import sqlite3
from pathlib import Path

import pytest

from reglab.errors import ReglabError
from reglab.study import Store, list_studies, load_study, store_checks
from reglab.study.records import WeightHistogram
from reglab.study.store import SCHEMA_VERSION, RunResult

SPEC = {"name": "s", "epochs": 2}


def _result(key="k1", status="done", **kw):
    fields = dict(
        key=key,
        variant="base",
        seed=0,
        fold=1,
        repeat=0,
        status=status,
        error=None,
        seconds=1.5,
        metric="accuracy",
        train_loss=0.1,
        train_metric=0.99,
        test_loss=0.4,
        test_metric=0.9,
        best_epoch=2,
        stopped_epoch=0,
        epochs_run=2,
        sparsity=0.25,
        history=[
            {"epoch": 1.0, "loss": 0.5, "val_loss": 0.6, "accuracy": 0.8},
            {"epoch": 2.0, "loss": 0.2, "val_loss": 0.4, "accuracy": 0.9, "lr": 0.01},
        ],
        histograms=[
            WeightHistogram("dense_0", "first", [0.0, 0.5, 1.0], [2, 3]),
            WeightHistogram("dense_0", "last", [0.0, 1.0], [5]),
        ],
    )
    fields.update(kw)
    return RunResult(**fields)


def _store(path):
    store = Store(path)
    store.begin_study("s", SPEC, dataset="iris", device="cpu", versions=("0.1", "2.4"))
    return store


def test_a_run_reads_back_as_written(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 0, _result())
    study = load_study(tmp_path / "s.db", "s")
    assert (study.name, study.spec, study.dataset, study.device) == ("s", SPEC, "iris", "cpu")
    (run,) = study.runs
    written = _result()
    for name in (
        "key",
        "variant",
        "seed",
        "fold",
        "repeat",
        "status",
        "seconds",
        "metric",
        "train_loss",
        "train_metric",
        "test_loss",
        "test_metric",
        "best_epoch",
        "stopped_epoch",
        "epochs_run",
        "sparsity",
        "history",
        "histograms",
    ):
        assert getattr(run, name) == getattr(written, name), name


def test_runs_come_back_in_plan_order(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 2, _result("c"))
        store.write_run("s", 0, _result("a"))
        store.write_run("s", 1, _result("b"))
    assert [r.key for r in load_study(tmp_path / "s.db", "s").runs] == ["a", "b", "c"]


def test_nan_metrics_are_stored_as_null(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run(
            "s",
            0,
            _result(
                status="diverged", train_loss=math.nan, history=[{"epoch": 1.0, "loss": math.nan}]
            ),
        )
    (run,) = load_study(tmp_path / "s.db", "s").runs
    assert run.train_loss is None and run.status == "diverged"
    assert "loss" not in run.history[0]


def test_a_failed_run_is_replaced_by_its_retry(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 0, _result(status="failed", error="boom"))
        assert store.finished_keys("s") == set()
        store.write_run("s", 0, _result())
        assert store.finished_keys("s") == {"k1"}
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM histograms").fetchone()[0] == 2


def test_store_is_wal_with_a_schema_version(tmp_path):
    _store(tmp_path / "s.db").close()
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_schema_is_refused_and_the_file_left_untouched(tmp_path):
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE future (x)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(
        ReglabError,
        match=rf"schema version {SCHEMA_VERSION + 1}, newer than this reglab "
        rf"understands \({SCHEMA_VERSION}\).*not changed\.$",
    ):
        Store(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]


def test_a_store_under_a_file_names_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(
        ReglabError, match=r"^Cannot create the store .*file/s\.db: .*/file is a file, not a folder"
    ):
        Store(blocker / "s.db")


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not sqlite " * 100)
    with pytest.raises(
        ReglabError,
        match=r"^Cannot open the store .*notes\.db: file is not a "
        r"database\.$",
    ):
        Store(path)


def test_an_unknown_study_lists_the_known_ones(tmp_path):
    _store(tmp_path / "s.db").close()
    with pytest.raises(ReglabError, match=r"Unknown study 'x' in the store .*: it holds 's'\.$"):
        load_study(tmp_path / "s.db", "x")


def test_a_missing_store_is_one_line(tmp_path):
    with pytest.raises(ReglabError, match=r"^No store at .*none\.db: run a study first"):
        list_studies(tmp_path / "none.db")


def test_the_same_name_with_another_spec_is_refused_once_runs_finished(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 0, _result())
        with pytest.raises(
            ReglabError,
            match=r"already holds a study named 's' with a different spec and finished runs; "
            r"give the changed spec a new `name`",
        ):
            store.begin_study(
                "s", {"name": "s", "epochs": 3}, dataset="iris", device="cpu", versions=("0", "2")
            )


def test_a_study_whose_runs_all_failed_takes_the_corrected_spec(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 0, _result(status="failed", error="bad monitor"))
        state = store.begin_study(
            "s", {"name": "s", "epochs": 3}, dataset="iris", device="cpu", versions=("0", "2")
        )
        assert state == "new"
    study = load_study(tmp_path / "s.db", "s")
    assert study.spec == {"name": "s", "epochs": 3} and study.runs == []


def test_list_studies_names_every_study(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.begin_study("t", {"name": "t"}, dataset="wine", device="cpu", versions=("0.1", "2.4"))
    assert list_studies(tmp_path / "s.db") == ["s", "t"]


def test_a_read_only_store_file_is_named_as_such(tmp_path, monkeypatch):
    _store(tmp_path / "s.db").close()
    monkeypatch.setattr(store_checks.os, "access", lambda path, mode: Path(path).is_dir())
    with pytest.raises(
        ReglabError,
        match=r"^Cannot write the store .*s\.db: the file is read-only; make it writable "
        r"\(chmod u\+w\) or choose another --store\.$",
    ):
        Store(tmp_path / "s.db")
    assert load_study(tmp_path / "s.db", "s").name == "s"  # reading needs no write access


def test_a_store_in_a_read_only_folder_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr(store_checks.os, "access", lambda path, mode: False)
    with pytest.raises(
        ReglabError,
        match=r"^Cannot write the store .*new\.db: the folder .* is not writable \(SQLite keeps "
        r"its journal beside the store\); choose another --store\.$",
    ):
        Store(tmp_path / "new.db")
    assert not (tmp_path / "new.db").exists()


def test_reading_falls_back_to_immutable_where_read_only_mode_cannot_open(tmp_path, monkeypatch):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 0, _result())
    real = sqlite3.connect

    def no_wal_index(target, *args, **kwargs):  # a read-only folder: no -shm can be made
        if "mode=ro" in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(store_checks.sqlite3, "connect", no_wal_index)
    assert [r.key for r in load_study(tmp_path / "s.db", "s").runs] == ["k1"]
