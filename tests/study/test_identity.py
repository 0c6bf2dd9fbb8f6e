"""Run identity survives upgrades: keys hash what the spec says, not every default."""

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import pytest

from reglab.study import identity, load_spec, load_study, parse_spec, run_study, spec
from reglab.study.planner import plan_study
from reglab.study.settings import RunSettings
from reglab.study.store import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
TINY = {
    "name": "t", "dataset": "iris", "epochs": 2, "batch_size": 16, "model": {"hidden": [4]},
    "variants": {"base": {}, "l2": {"penalty": {"l2": 0.01}}},
}  # fmt: skip


def _keys(data: dict) -> list[str]:
    plan = plan_study(parse_spec(data), n_train=112, n_features=4, n_outputs=3)
    return [run.key for run in plan.runs]


def _v1_copy(tmp_path) -> tuple[Path, Path]:
    shutil.copy(FIXTURES / "v1_store.db", tmp_path / "v1.db")
    shutil.copy(FIXTURES / "v1_study.toml", tmp_path / "v1.toml")
    return tmp_path / "v1.toml", tmp_path / "v1.db"


def _epochs(store: Path) -> list:
    db = sqlite3.connect(store)
    try:
        return db.execute("SELECT * FROM epochs ORDER BY run, epoch").fetchall()
    finally:
        db.close()


def test_a_store_made_by_the_first_release_resumes_without_retraining(tmp_path):
    spec_path, store = _v1_copy(tmp_path)
    before = load_study(store, "v1")
    outcome = run_study(spec_path, store=store, progress=False)
    assert (outcome.planned, outcome.skipped, outcome.trained) == (4, 4, 0)
    after = load_study(store, "v1")
    # The first release's study resumes with its numerics: training semantics 1.
    spec = load_spec(spec_path).with_semantics(1)
    plan = plan_study(spec, n_train=112, n_features=4, n_outputs=3)
    assert sorted(r.key for r in after.runs) == sorted(r.key for r in plan.runs)
    for old, new in zip(before.runs, after.runs, strict=True):
        assert (old.variant, old.seed, old.test_metric, old.history) == (
            new.variant, new.seed, new.test_metric, new.history
        )  # fmt: skip
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    again = run_study(spec_path, store=store, progress=False)
    assert again.trained == 0


def test_reading_a_first_release_store_changes_nothing(tmp_path):
    _, store = _v1_copy(tmp_path)
    before = store.read_bytes()
    assert [r.status for r in load_study(store, "v1").runs] == ["done"] * 4
    assert store.read_bytes() == before


def test_a_setting_added_with_a_default_leaves_stored_runs_alone(tmp_path, monkeypatch):
    store = tmp_path / "s.db"
    first = run_study(parse_spec(TINY), store=store, progress=False)
    assert first.trained == 2

    @dataclasses.dataclass(frozen=True)
    class LaterRunSettings(RunSettings):
        label_smoothing: float = 0.0  # what a later reglab might add

    monkeypatch.setattr(spec, "RunSettings", LaterRunSettings)
    later = parse_spec(TINY)
    assert isinstance(later.resolve("base"), LaterRunSettings)
    outcome = run_study(later, store=store, progress=False)
    assert (outcome.skipped, outcome.trained) == (2, 0)


def test_the_same_spec_written_differently_gives_the_same_keys():
    shouted = {**TINY, "model": {"hidden": [4], "optimizer": "Adam"}}
    assert _keys(shouted) == _keys({**TINY, "model": {"hidden": [4], "optimizer": "adam"}})


def test_a_key_depends_on_what_the_spec_says_not_on_the_defaults():
    said = {**TINY, "model": {"hidden": [4], "learning_rate": 0.001}}
    assert _keys(said) != _keys(TINY)  # same numbers today, but the spec says more


def test_another_training_semantics_gives_other_keys():
    before = _keys(TINY)
    plan = plan_study(parse_spec(TINY).with_semantics(1), n_train=112, n_features=4,
                      n_outputs=3)  # fmt: skip
    assert set(r.key for r in plan.runs).isdisjoint(before)
    assert identity.TRAINING_SEMANTICS == 2  # Keras' optimizers; 1 was the first release


def test_a_first_release_store_of_another_spec_is_refused(tmp_path):
    spec_path, store = _v1_copy(tmp_path)
    spec_path.write_text(spec_path.read_text().replace("epochs = 2", "epochs = 3"))
    with pytest.raises(Exception, match=r"already holds a study named 'v1' with a different spec"):
        run_study(spec_path, store=store, progress=False)
    assert len(load_study(store, "v1").runs) == 4
