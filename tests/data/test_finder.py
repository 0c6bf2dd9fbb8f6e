"""Finding files along the search order, checksums, and the one-time download (never real)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pooch
import pytest

from reglab.data import catalog, finder, load_dataset
from reglab.errors import DataError

FASHION = catalog.KNOWN_DATASETS["fashion_mnist"]
IMAGES = FASHION.layouts[0].files[0]


def test_reglab_data_comes_before_keras_cache_and_os_folders(files, isolated):
    for folder in (
        isolated["data"],
        isolated["home"] / ".keras/datasets/fashion-mnist",
        isolated["os"] / "fashion-mnist",
    ):
        files.write_idx(
            folder / "train-images-idx3-ubyte.gz", np.zeros((1, 2, 2), np.uint8), gz=True
        )
    assert finder.locate("fashion_mnist", IMAGES).parent == isolated["data"]


def test_keras_cache_subfolder_comes_before_os_folders(files, isolated):
    keras = isolated["home"] / ".keras/datasets/fashion-mnist"
    for folder in (keras, isolated["os"] / "fashion_mnist"):
        files.write_idx(folder / "train-images-idx3-ubyte", np.zeros((1, 2, 2), np.uint8))
    assert finder.locate("fashion_mnist", IMAGES).parent.name == "fashion-mnist"


def test_keras_home_variable_moves_the_keras_cache(files, isolated, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    files.write_idx(tmp_path / "kh/datasets/train-images-idx3-ubyte", np.zeros(1, np.uint8))
    expected = tmp_path / "kh/datasets/train-images-idx3-ubyte"
    assert finder.locate("fashion_mnist", IMAGES) == expected


@pytest.mark.parametrize("spelling", ["fashion-mnist", "fashion_mnist"])
def test_os_dataset_folder_is_found_with_either_spelling(files, isolated, spelling):
    files.write_idx_set(isolated["os"] / spelling)
    data = load_dataset("fashion_mnist", trusted=True)
    assert data.source == str(isolated["os"] / spelling)


def test_reglab_data_dataset_subfolder_is_searched(files, isolated):
    written = files.write_idx_set(isolated["data"] / "mnist", gz=False)
    data = load_dataset("mnist", trusted=True)
    np.testing.assert_array_equal(data.x_test, written["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_train, written["train-labels-idx1-ubyte"])


def test_idx_checksum_is_of_the_decompressed_data_so_regzipped_copies_pass(
    files, isolated, monkeypatch
):
    written = files.write_idx_set(isolated["os"] / "mnist", gz=True)
    info = catalog.KNOWN_DATASETS["mnist"]
    pinned = {name: files.sha256_bytes(files.idx_bytes(a)) for name, a in written.items()}
    layout = info.layouts[0]
    layout = catalog.Layout(
        "idx",
        tuple(
            catalog.DataFile(f.name, content_sha256=pinned[f.name], idx=True) for f in layout.files
        ),
    )
    monkeypatch.setitem(catalog.KNOWN_DATASETS, "mnist", replace(info, layouts=(layout,)))
    np.testing.assert_array_equal(load_dataset("mnist").y_test, written["t10k-labels-idx1-ubyte"])


def test_local_file_with_wrong_checksum_is_an_error_naming_both_hashes(files, isolated):
    path = isolated["data"] / "mnist.npz"
    np.savez(
        path,
        x_train=np.zeros((1, 2, 2), np.uint8),
        y_train=np.zeros(1, np.uint8),
        x_test=np.zeros((1, 2, 2), np.uint8),
        y_test=np.zeros(1, np.uint8),
    )
    expected = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    with pytest.raises(
        DataError,
        match=rf"Checksum mismatch for {path}: expected SHA-256 "
        rf"{expected}, found {files.sha256(path)}",
    ):
        load_dataset("mnist")


def test_idx_file_with_wrong_content_checksum_is_an_error(files, isolated):
    files.write_idx_set(isolated["os"] / "fashion-mnist")
    with pytest.raises(
        DataError,
        match=r"Checksum mismatch .*train-images-idx3-ubyte.gz: "
        r"expected SHA-256 of the decompressed data c59f468a",
    ):
        load_dataset("fashion_mnist")


def test_missing_file_is_downloaded_once_with_its_published_hash(files, isolated, monkeypatch):
    calls = []

    def fake_retrieve(url, known_hash, fname, path, downloader):
        calls.append((url, known_hash, fname, Path(path)))
        target = Path(path) / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('{"movie": 1}')
        return str(target)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    from reglab.data import get_word_index

    assert get_word_index("imdb", trusted=True) == {"movie": 1}
    assert calls == [
        (
            catalog.KERAS_ORIGIN + "imdb_word_index.json",
            "md5:bfafd718b763782e994055a2d397834f",
            "imdb_word_index.json",
            isolated["data"] / "imdb",
        )
    ]
    get_word_index("imdb", trusted=True)  # found in the download folder now
    assert len(calls) == 1


def test_no_network_says_which_file_to_put_in_which_folder(isolated, offline):
    folder = isolated["data"] / "imdb"
    with pytest.raises(
        DataError,
        match=rf"Cannot download imdb.npz for dataset 'imdb' from "
        rf"{catalog.KERAS_ORIGIN}imdb.npz \(ConnectionError\). Put imdb.npz in "
        rf"{folder} \(or in the folder named by the REGLAB_DATA",
    ):
        load_dataset("imdb")


def test_download_with_wrong_checksum_is_an_error(isolated, monkeypatch):
    def corrupt(url, *args, **kwargs):
        raise ValueError("SHA256 hash of downloaded file does not match the known hash")

    monkeypatch.setattr(pooch, "retrieve", corrupt)
    with pytest.raises(
        DataError,
        match=r"Downloaded boston_housing.npz from .* but its checksum "
        r"does not match",
    ):
        load_dataset("boston_housing")


def test_fashion_mnist_downloads_keras_gz_files_with_their_sha256(isolated, monkeypatch):
    seen = []

    def record(url, known_hash, **kwargs):
        seen.append((url, known_hash))
        raise OSError("offline")

    monkeypatch.setattr(pooch, "retrieve", record)
    with pytest.raises(DataError, match=r"Put train-images-idx3-ubyte.gz in"):
        load_dataset("fashion_mnist")
    assert seen == [
        (
            catalog.KERAS_ORIGIN + "train-images-idx3-ubyte.gz",
            "sha256:3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        )
    ]


def test_digest_is_cached_until_the_file_changes(files, tmp_path, monkeypatch):
    from reglab.data import integrity

    calls = []
    real_new = integrity.hashlib.new

    def counting_new(*args, **kwargs):
        calls.append(args)
        return real_new(*args, **kwargs)

    monkeypatch.setattr(integrity.hashlib, "new", counting_new)
    path = tmp_path / "file.bin"
    path.write_bytes(b"one")
    assert integrity.digest(path) == integrity.digest(path) == files.sha256(path)
    assert len(calls) == 1
    path.write_bytes(b"two!")
    assert integrity.digest(path) == files.sha256(path)
    assert len(calls) == 2
