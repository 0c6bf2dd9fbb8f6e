"""Keras .npz reading: keys checked, object arrays unpickled safely, planted code refused."""

import os

import numpy as np
import pytest

from reglab.data import load_dataset
from reglab.data.formats.npz import read_npz
from reglab.errors import DataError


class _RunsCommand:
    """Unpickling this calls os.system: what a malicious dataset file would do."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _planted_imdb(path, marker, files):
    evil = np.empty(1, dtype=object)
    evil[0] = _RunsCommand(f"touch {marker}")
    labels = np.array([1])
    np.savez(path, x_train=evil, y_train=labels, x_test=files.objects([[1]]), y_test=labels)


def test_numeric_arrays_are_read_without_pickle(tmp_path):
    path = tmp_path / "mnist.npz"
    x = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    np.savez(path, x_train=x, y_train=np.array([0, 1]), x_test=x, y_test=np.array([1, 0]))
    arrays = read_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    np.testing.assert_array_equal(arrays["x_train"], x)


def test_object_arrays_of_int_lists_are_rebuilt_by_the_safe_unpickler(files, tmp_path):
    path = tmp_path / "reuters.npz"
    sequences = [[1, 5, 2], [7], []]
    np.savez(path, x=files.objects(sequences), y=np.array([3, 0, 1]))
    arrays = read_npz(path, ["x", "y"])
    assert arrays["x"].dtype == object
    assert [list(s) for s in arrays["x"]] == sequences


def test_missing_keys_names_expected_and_found(tmp_path):
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=np.zeros(2), labels=np.zeros(2))
    with pytest.raises(
        DataError,
        match=r"imdb.npz lacks arrays 'y_train', 'x_test': expected "
        r"'x_train', 'y_train', 'x_test'; found 'labels', 'x_train'",
    ):
        read_npz(path, ["x_train", "y_train", "x_test"])


def test_a_file_that_is_not_a_zip_archive_is_refused(tmp_path):
    path = tmp_path / "imdb.npz"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match=r"imdb.npz is not a readable .npz archive"):
        read_npz(path, ["x"])


def test_planted_pickle_is_refused_and_its_code_never_runs(files, tmp_path):
    path, marker = tmp_path / "imdb.npz", tmp_path / "pwned"
    _planted_imdb(path, marker, files)
    with pytest.raises(
        DataError,
        match=r"refused to unpickle array 'x_train' \(refused to load "
        r"`posix.system`\).*may be malicious: delete it and fetch the published one",
    ):
        read_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    assert not marker.exists()


def test_planted_pickle_never_reaches_unpickling_through_load_dataset(files, isolated, tmp_path):
    marker = tmp_path / "pwned"
    _planted_imdb(isolated["data"] / "imdb.npz", marker, files)
    with pytest.raises(DataError, match=r"Checksum mismatch for .*imdb.npz"):
        load_dataset("imdb")
    assert not marker.exists()


def test_planted_pickle_is_refused_even_when_its_checksum_is_pinned(
    files, isolated, tmp_path, monkeypatch
):
    marker, path = tmp_path / "pwned", isolated["data"] / "imdb.npz"
    _planted_imdb(path, marker, files)
    files.pin_hash(monkeypatch, "imdb", "imdb.npz", path)
    with pytest.raises(DataError, match=r"refused to unpickle array 'x_train'"):
        load_dataset("imdb")
    assert not marker.exists()
