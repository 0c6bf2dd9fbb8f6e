"""The shipped studies: each parses, is listed, and runs in its reduced form."""

import sqlite3

import numpy as np
import pooch
import pytest
import requests

from reglab.cli import main
from reglab.data import KNOWN_DATASETS, finder
from reglab.errors import ReglabError
from reglab.study import run_study
from reglab.study.demo import DEMOS, demo_lines, demo_path, demo_spec
from reglab.study.reduced import reduced_spec
from reglab.study.spec import load_spec

FASHION = [name for name in DEMOS if demo_spec(name).dataset.name == "fashion_mnist"]
USER_FILES = {"imdb", "reuters", "boston_housing"}  # Keras' formats, on the user's disk


@pytest.fixture(autouse=True)
def user_folders(tmp_path, monkeypatch):
    """An empty REGLAB_DATA and home (the OS dataset folders stay: Fashion-MNIST)."""
    data = tmp_path / "reglab-data"
    data.mkdir()
    monkeypatch.setenv("REGLAB_DATA", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)

    def offline(url, *args, **kwargs):
        raise requests.exceptions.ConnectionError(f"Failed to resolve host for {url}")

    monkeypatch.setattr(pooch, "retrieve", offline)
    return data


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_shipped_spec_parses_from_its_file(name):
    spec = demo_spec(name)
    assert spec == load_spec(demo_path(name))
    assert len(spec.seeds) >= 3  # docs/reproductions.md reports 95% CIs over seeds
    assert spec.validation.kind != "test"  # three sets: the test set is scored once
    if spec.validation.kind == "kfold":
        assert spec.validation.refit


def test_demo_list_has_one_line_per_study_naming_its_dataset():
    lines = demo_lines()
    assert len(lines) == len(DEMOS)
    for line, (name, demo) in zip(lines, DEMOS.items()):
        assert line.split()[0] == name and demo.reproduces in line
        assert f"; {demo_spec(name).dataset.name};" in line and line.endswith(demo.duration)


def test_demos_standing_in_fashion_mnist_for_mnist_say_so():
    for name in FASHION:
        text = demo_path(name).read_text()
        if name != "fashion_mnist":
            assert "Fashion-MNIST stands in for MNIST" in text


def test_demos_on_user_files_say_where_to_put_them():
    for name in DEMOS:
        if demo_spec(name).dataset.name in USER_FILES:
            assert "$REGLAB_DATA or ~/.keras/datasets" in demo_path(name).read_text()


def test_reduced_spec_caps_epochs_rows_and_seeds_and_keeps_the_rest():
    spec = demo_spec("mnist_mlp")
    small = reduced_spec(spec, epochs=3, train_size=50, seeds=2)
    assert (small.name, small.epochs, small.train_size, small.seeds) == (
        "mnist-mlp-reduced", 3, 50, [0, 1])  # fmt: skip
    assert small.variant_names == spec.variant_names
    for variant in spec.variant_names:
        full, cut = spec.resolve(variant), small.resolve(variant)
        assert cut.epochs == min(full.epochs, 3)
        assert cut.layers == full.layers and cut.optimizer == full.optimizer
    assert small.validation == spec.validation and small.dataset == spec.dataset


def test_reduced_spec_keeps_a_smaller_train_size_and_the_dataset_options():
    spec = demo_spec("dlwp_imdb")
    small = reduced_spec(spec, train_size=10_000)
    assert small.train_size == 10_000 and small.dataset.options["num_words"] == 10000
    assert reduced_spec(demo_spec("digits"), train_size=10_000).train_size == 500


def test_reduced_spec_refuses_a_count_below_one():
    message = r"`seeds` of reduced_spec: expected an int >= 1. Received: seeds=0"
    with pytest.raises(ReglabError, match=message):
        reduced_spec(demo_spec("digits"), seeds=0)


def _write_user_files(folder, rng):
    """Small files in Keras' own formats (imdb.npz, reuters.npz, boston_housing.npz)."""

    def sequences(n, vocabulary=300):
        array = np.empty(n, dtype=object)
        for i in range(n):
            array[i] = [1, *rng.integers(3, vocabulary, rng.integers(5, 40)).tolist()]
        return array

    np.savez(folder / "imdb.npz", x_train=sequences(300), y_train=rng.integers(0, 2, 300),
             x_test=sequences(100), y_test=rng.integers(0, 2, 100))  # fmt: skip
    np.savez(folder / "reuters.npz", x=sequences(400), y=rng.integers(0, 46, 400))
    x = rng.normal(size=(300, 13))
    np.savez(folder / "boston_housing.npz", x=x, y=x @ rng.normal(size=13) + 22.0)


def _expected_runs(spec) -> int:
    validation = spec.validation
    per_seed = 1 if validation.kind == "split" else validation.folds * validation.repeats
    per_seed += 1 if validation.refit else 0
    return len(spec.variant_names) * len(spec.seeds) * per_seed


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_shipped_study_runs_in_its_reduced_form(name, user_folders, tmp_path):
    spec = reduced_spec(demo_spec(name), epochs=2, train_size=120, seeds=1)
    trusted, info = False, KNOWN_DATASETS[spec.dataset.name]
    if spec.dataset.name in USER_FILES:
        _write_user_files(user_folders, np.random.default_rng(0))
        trusted = True  # our own small files, not the published ones
    elif not info.embedded and finder.locate_layout(info) is None:
        pytest.skip(f"{spec.dataset.name} is not installed (dataset-fashion-mnist)")
    store = tmp_path / "store.db"
    outcome = run_study(spec, store=store, progress=False, threads=1, trusted=trusted)
    assert (outcome.failed, outcome.diverged) == (0, 0)
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT status, epochs_run, test_metric FROM runs").fetchall()
    assert len(rows) == _expected_runs(spec) == outcome.trained
    assert all(status == "done" and 1 <= epochs <= 2 for status, epochs, _ in rows)
    assert all(metric is not None and np.isfinite(metric) for *_, metric in rows)


def test_a_demo_on_missing_user_files_names_the_file_and_the_folder(user_folders, capsys):
    status = main(["demo", "dlwp_imdb", "--out", str(user_folders / "out"), "--quiet"])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert "imdb.npz" in error and str(user_folders) in error


def test_demo_list_prints_the_studies_and_refuses_a_name(capsys):
    assert main(["demo", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == demo_lines()
    assert main(["demo", "mnist1d", "--list"]) == 2
    assert "--list` lists every shipped study" in capsys.readouterr().err


def test_demo_refuses_a_name_and_another_dataset(capsys):
    assert main(["demo", "mnist1d", "--dataset", "digits"]) == 2
    assert "names two demos" in capsys.readouterr().err
