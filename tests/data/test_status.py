"""dataset_statuses / print_datasets: what is found, what is missing and how to get it."""

import io
import time

from rich.console import Console

import reglab.data as data
from reglab.data import KNOWN_DATASETS, dataset_statuses, print_datasets


def _by_name():
    return {status.name: status for status in dataset_statuses()}


def test_every_known_dataset_has_a_row():
    assert list(_by_name()) == list(KNOWN_DATASETS)


def test_sklearn_sets_are_always_found():
    rows = _by_name()
    for name in ("digits", "breast_cancer", "diabetes", "wine", "iris"):
        assert rows[name].found and rows[name].location == "scikit-learn (embedded)"


def test_missing_dataset_says_which_files_to_put_where(isolated):
    row = _by_name()["mnist"]
    assert not row.found
    assert row.location == (
        "missing: put (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) or mnist.npz in "
        f"{isolated['data'] / 'mnist'} (or $REGLAB_DATA); otherwise downloaded on first use"
    )


def test_found_dataset_shows_its_folder(files, isolated):
    files.write_idx_set(isolated["os"] / "fashion-mnist")
    row = _by_name()["fashion_mnist"]
    assert row.found and row.location == str(isolated["os"] / "fashion-mnist")


def test_sizes_and_shapes_are_known_without_files():
    row = _by_name()["imdb"]
    assert (row.n_train, row.n_test, row.input_shape) == (25000, 25000, "word sequences")
    assert _by_name()["mnist"].input_shape == "28x28"
    assert _by_name()["boston_housing"].input_shape == "13 features"


def test_statuses_never_hash_or_read_files(files, isolated, monkeypatch):
    files.write_idx_set(isolated["os"] / "fashion-mnist")  # their checksums would not match
    hashed, read = [], []
    monkeypatch.setattr(data.integrity.hashlib, "new", lambda *a, **k: hashed.append(a))
    monkeypatch.setattr(data.formats.idx, "read_bytes", lambda path: read.append(path))
    start = time.perf_counter()
    rows = dataset_statuses()  # a download attempt would raise NetworkUsed (see conftest)
    assert time.perf_counter() - start < 2.0
    assert hashed == [] and read == []
    assert {row.name for row in rows if not row.found} == {
        "mnist",
        "imdb",
        "reuters",
        "boston_housing",
    }


def test_print_datasets_prints_a_table_row_per_dataset():
    console = Console(record=True, width=300, file=io.StringIO())
    print_datasets(console)
    text = console.export_text()
    for name in KNOWN_DATASETS:
        assert name in text
    assert "scikit-learn (embedded)" in text and "missing: put" in text


def test_public_names_are_importable():
    exported = {name for name in vars(data) if not name.startswith("_")}
    assert set(data.__all__) <= exported
    assert {
        "Dataset",
        "Task",
        "MultiHot",
        "Standardizer",
        "load_dataset",
        "infer_task",
        "to_categorical",
        "multi_hot",
        "scale_images",
        "get_word_index",
        "dataset_statuses",
        "print_datasets",
        "KNOWN_DATASETS",
    } <= set(data.__all__)
