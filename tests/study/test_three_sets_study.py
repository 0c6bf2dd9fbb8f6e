"""Studies keep training, validation and test apart: which rows validate, what is scored
on test, K-fold's refit, the labels on the command line, and stores of schema 2."""

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from reglab.study import load_study, parse_spec, run_study
from reglab.study.planner import REFIT_FOLD
from reglab.study.spec import SpecError
from reglab.study.store import SCHEMA_VERSION
from reglab.study.tables import summary_notes
from reglab.validate import validation_split

FIXTURES = Path(__file__).parent / "fixtures"
BASE = {"dataset": "iris", "epochs": 4, "batch_size": 16, "seeds": [0, 1],
        "model": {"hidden": [8]}}  # fmt: skip


def _study(tmp_path, validation, variants=None, **extra):
    spec = parse_spec({**BASE, "name": "s", "validation": validation,
                       "variants": variants or {"baseline": {}}, **extra})  # fmt: skip
    store = tmp_path / "s.db"
    outcome = run_study(spec, store=store, progress=False)
    return outcome, load_study(store, "s")


def test_a_split_validates_on_its_rows_and_scores_the_untouched_test_set(tmp_path):
    _, study = _study(tmp_path, {"split": 0.25})
    for run in study.runs:
        assert run.val_metric is not None and run.test_metric is not None
        assert run.val_loss != run.test_loss  # two different sets
        assert "val_loss" in run.history[0] and "test_loss" not in run.history[0]
        assert run.history[-1]["val_loss"] == pytest.approx(run.val_loss, rel=1e-5)


def test_validating_on_the_test_set_stores_the_same_numbers_twice_and_says_so(tmp_path):
    _, study = _study(tmp_path, "test")
    for run in study.runs:
        assert run.val_metric == pytest.approx(run.test_metric)
    assert any("the test set chose the epochs" in line for line in summary_notes(study))


def test_the_command_line_summary_names_its_sets(tmp_path, capsys):
    _study(tmp_path, "test")
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "train" in line and "gap" in line)
    assert header.split()[:6] == ["variant", "runs", "train", "val", "test", "gap"]
    assert "optimistic" in out


def test_kfold_refit_trains_one_run_per_seed_for_the_epochs_of_the_best_mean_curve(tmp_path):
    outcome, study = _study(tmp_path, {"folds": 3, "refit": True}, epochs=6)
    folds = [r for r in study.runs if not r.refit]
    refits = [r for r in study.runs if r.refit]
    assert (len(folds), len(refits)) == (6, 2) and outcome.planned == 8
    mean = np.mean([[row["val_accuracy"] for row in r.history] for r in folds], axis=0)
    chosen = int(np.argmax(mean)) + 1
    assert {r.epochs_run for r in refits} == {chosen}
    assert {r.seed for r in refits} == {0, 1} and {r.fold for r in refits} == {REFIT_FOLD}
    for run in refits:  # all training rows, no validation, scored on test
        assert run.val_metric is None and run.test_metric is not None
        assert "val_loss" not in run.history[0]
    again = run_study(parse_spec({**BASE, "name": "s", "epochs": 6, "variants": {"baseline": {}},
                                  "validation": {"folds": 3, "refit": True}}),
                      store=tmp_path / "s.db", progress=False)  # fmt: skip
    assert (again.planned, again.trained) == (8, 0)


def test_kfold_refit_with_early_stopping_trains_the_mean_kept_epoch(tmp_path):
    es = {"early_stopping": {"patience": 1, "restore_best": True}}
    _, study = _study(tmp_path, {"folds": 3, "refit": True}, {"es": es}, epochs=30)
    folds = [r for r in study.runs if not r.refit]
    refits = [r for r in study.runs if r.refit]
    assert {r.epochs_run for r in refits} == {round(np.mean([r.best_epoch for r in folds]))}
    assert all(r.stopped_epoch == 0 for r in refits)


def test_a_shuffled_stratified_split_keeps_keras_size_and_the_class_shares():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    fold = validation_split(100, 0.2, stratify=True, seed=3, y=y)
    keras = validation_split(100, 0.2)
    assert len(fold.validation) == len(keras.validation) == 20
    assert sorted(np.concatenate([fold.train, fold.validation]).tolist()) == list(range(100))
    assert np.bincount(y[fold.validation]).tolist() == [10, 6, 4]
    shuffled = validation_split(100, 0.2, shuffle=True, seed=3)
    assert shuffled.validation.tolist() != keras.validation.tolist()
    assert (
        shuffled.validation.tolist()
        == validation_split(100, 0.2, shuffle=True, seed=3).validation.tolist()
    )


@pytest.mark.parametrize(
    ("validation", "message"),
    [
        ({"split": 0.2, "refit": True}, "`repeats` and `refit` apply to K-fold only"),
        ({"folds": 3, "shuffle": True}, "`shuffle` applies to a split only"),
        ({"split": 0.2, "seed": 4}, "`seed` has no effect on a split that takes the last rows"),
    ],
)
def test_validation_options_that_would_do_nothing_are_refused(validation, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**BASE, "name": "s", "validation": validation, "variants": {"a": {}}})


def _v2_copy(tmp_path) -> Path:
    for name in ("v2_store.db", "v2_test.toml", "v2_split.toml", "v2_kfold.toml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path / "v2_store.db"


def test_reading_a_schema_2_store_splits_its_held_out_scores_without_changing_it(tmp_path):
    store = _v2_copy(tmp_path)
    before = store.read_bytes()
    test, split = load_study(store, "v2_test"), load_study(store, "v2_split")
    assert all(r.val_metric == r.test_metric is not None for r in test.runs)
    assert all(r.val_metric is not None and r.test_metric is None for r in split.runs)
    assert store.read_bytes() == before


def test_a_schema_2_store_upgrades_and_resumes_every_study_without_retraining(tmp_path):
    store = _v2_copy(tmp_path)
    raw = sqlite3.connect(store)
    old = dict(raw.execute("SELECT key, test_metric FROM runs").fetchall())
    raw.close()
    for kind, planned in (("test", 6), ("split", 6), ("kfold", 18)):
        outcome = run_study(tmp_path / f"v2_{kind}.toml", store=store, progress=False)
        assert (outcome.planned, outcome.skipped, outcome.trained) == (planned, planned, 0)
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT key, study, val_metric, test_metric FROM runs").fetchall()
    for key, study, val, test in rows:
        assert val == old[key]  # the one stored held-out score was the validation score
        assert test == (old[key] if study == "v2_test" else None)


def test_a_schema_2_study_resumes_its_missing_runs_with_the_numerics_it_was_trained_with(
    tmp_path, capsys
):
    store = _v2_copy(tmp_path)
    before = {r.key: r for r in load_study(store, "v2_split").runs}
    db = sqlite3.connect(store)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("DELETE FROM runs WHERE study = 'v2_split' AND seed = 1")  # as if interrupted
    db.commit()
    db.close()
    outcome = run_study(tmp_path / "v2_split.toml", store=store, progress=False)
    assert (outcome.trained, outcome.skipped) == (3, 3)
    assert "training semantics 1" in capsys.readouterr().out
    after = {r.key: r for r in load_study(store, "v2_split").runs}
    assert sorted(after) == sorted(before)  # the same keys: semantics 1's
    for key, old in before.items():  # adam and rmsprop under PyTorch's constants, as then
        new = after[key]
        assert [row["loss"] for row in new.history] == pytest.approx(
            [row["loss"] for row in old.history], rel=1e-6, abs=1e-7
        )
        assert new.val_metric == pytest.approx(old.val_metric, abs=1e-6)
        if old.seed == 1:  # retrained now: it scored the test set too
            assert new.test_metric is not None


def test_a_new_study_trains_with_keras_numerics_under_another_name(tmp_path):
    store = _v2_copy(tmp_path)
    text = (tmp_path / "v2_split.toml").read_text().replace('name = "v2_split"',
                                                            'name = "fresh"')  # fmt: skip
    (tmp_path / "fresh.toml").write_text(text)
    run_study(tmp_path / "fresh.toml", store=store, progress=False)
    old = {(r.variant, r.seed): r for r in load_study(store, "v2_split").runs}
    new = {(r.variant, r.seed): r for r in load_study(store, "fresh").runs}
    # The same spec under semantics 2 (Keras' epsilon and rho) trains to other numbers.
    assert new["rmsprop", 0].history[-1]["loss"] != pytest.approx(
        old["rmsprop", 0].history[-1]["loss"], rel=1e-6
    )


def test_a_schema_2_study_extended_by_a_variant_trains_it_with_the_old_numerics(tmp_path):
    store = _v2_copy(tmp_path)
    spec = tmp_path / "v2_split.toml"
    spec.write_text(spec.read_text() + '\n[variants.sgd]\noptimizer = "sgd"\n')
    outcome = run_study(spec, store=store, progress=False)
    assert (outcome.planned, outcome.skipped, outcome.trained) == (8, 6, 2)
    db = sqlite3.connect(store)
    identity = db.execute("SELECT identity FROM studies WHERE name = 'v2_split'").fetchone()[0]
    assert '"semantics": 1' in identity
