"""MNIST-1D: generated offline by the mnist1d package, cached, shaped as published."""

import socket

import numpy as np
import pytest
from mnist1d.data import get_dataset_args, make_dataset

from reglab.data import KNOWN_DATASETS, dataset_statuses, finder, load_dataset
from reglab.data.formats import mnist1d as mnist1d_format
from reglab.study.inputs import prepare_data
from reglab.study.spec import parse_spec

# The package README's numbers: 4,000 + 1,000 sequences of 40 values, 10 classes.
PUBLISHED_TRAIN, PUBLISHED_TEST, LENGTH, CLASSES = 4000, 1000, 40, 10


@pytest.fixture(scope="module")
def reference():
    """The package's own make_dataset with its defaults, called directly."""
    return make_dataset(get_dataset_args())


@pytest.fixture
def no_sockets(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("MNIST-1D tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_mnist1d_has_the_published_shapes_and_classes(no_sockets):
    data = load_dataset("mnist1d")
    assert data.x_train.shape == (PUBLISHED_TRAIN, LENGTH)
    assert data.x_test.shape == (PUBLISHED_TEST, LENGTH)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.task.kind == "multiclass" and data.task.n_outputs == CLASSES
    # make_dataset draws num_samples // 10 = 500 sequences of each digit before the split.
    labels = np.concatenate([data.y_train, data.y_test])
    assert np.bincount(labels, minlength=CLASSES).tolist() == [500] * CLASSES
    info = KNOWN_DATASETS["mnist1d"]
    assert (info.n_train, info.n_test, info.input_shape) == (
        PUBLISHED_TRAIN,
        PUBLISHED_TEST,
        (LENGTH,),
    )
    assert data.input_kind == "signals" and data.input_shape == (LENGTH,)


def test_mnist1d_is_the_packages_default_dataset(reference, no_sockets):
    data = load_dataset("mnist1d")
    np.testing.assert_array_equal(data.x_train, reference["x"].astype(np.float32))
    np.testing.assert_array_equal(data.x_test, reference["x_test"].astype(np.float32))
    np.testing.assert_array_equal(data.y_train, reference["y"])
    np.testing.assert_array_equal(data.y_test, reference["y_test"])
    # The generator standardized the whole set; float32 keeps that to rounding.
    whole = np.concatenate([data.x_train, data.x_test]).astype(np.float64)
    assert abs(whole.mean()) < 1e-6 and abs(whole.std() - 1.0) < 1e-6


def test_generating_leaves_the_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    mnist1d_format.generate_mnist1d()
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_mnist1d_is_cached_in_the_download_folder_and_read_back(isolated, monkeypatch):
    first = load_dataset("mnist1d")
    cache = finder.download_dir("mnist1d") / mnist1d_format.MNIST1D_CACHE
    assert cache.is_file() and cache.parent.parent == isolated["data"]

    def regenerate():
        raise AssertionError("the cached MNIST-1D was generated again")

    monkeypatch.setattr(mnist1d_format, "generate_mnist1d", regenerate)
    again = load_dataset("mnist1d")
    np.testing.assert_array_equal(again.x_train, first.x_train)
    np.testing.assert_array_equal(again.y_test, first.y_test)


def test_a_damaged_cache_is_generated_again(isolated, reference):
    cache = finder.download_dir("mnist1d") / mnist1d_format.MNIST1D_CACHE
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not an npz archive")
    data = load_dataset("mnist1d")
    np.testing.assert_array_equal(data.y_train, reference["y"])
    with np.load(cache, allow_pickle=False) as stored:
        np.testing.assert_array_equal(stored["y_train"], reference["y"])


def test_mnist1d_is_always_found_by_reglab_datasets():
    row = next(status for status in dataset_statuses() if status.name == "mnist1d")
    assert row.found and row.location == "mnist1d (embedded)"
    assert row.input_shape == "signals of 40 values"


def test_a_study_on_mnist1d_gets_its_signals_unstandardized(reference):
    spec = parse_spec({"name": "s", "dataset": "mnist1d", "train_size": 100,
                       "variants": {"base": {}}})  # fmt: skip
    data = prepare_data(spec)
    assert data.x_train.shape == (100, LENGTH) and not data.standardize
    np.testing.assert_array_equal(data.x_train, reference["x"][:100].astype(np.float32))


def test_mnist1d_takes_no_options():
    with pytest.raises(ValueError, match="mnist1d"):
        load_dataset("mnist1d", test_split=0.5)
