"""Fixtures for the data layer: an isolated file system view, no network, file writers.

Every test runs with REGLAB_DATA, the home folder (Keras' cache) and the OS dataset
folders pointed at empty temporary folders, and with pooch's download replaced by one
that fails: a test that would reach the network fails instead.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pooch
import pytest
import requests

from reglab.data import catalog, finder

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
REAL_OS_ROOTS = finder.OS_DATASET_ROOTS


class NetworkUsed(AssertionError):
    """Raised by the stand-in for pooch.retrieve when a test did not expect a download."""


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Empty search folders and no network; returns the folders as a dict of Paths."""
    folders = {
        "data": tmp_path / "reglab-data",
        "home": tmp_path / "home",
        "os": tmp_path / "os-datasets",
    }
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.setenv("REGLAB_DATA", str(folders["data"]))
    monkeypatch.setenv("HOME", str(folders["home"]))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setattr(finder, "OS_DATASET_ROOTS", (folders["os"],))

    def no_network(url, *args, **kwargs):
        raise NetworkUsed(f"a test tried to download {url}")

    monkeypatch.setattr(pooch, "retrieve", no_network)
    return folders


@pytest.fixture
def offline(monkeypatch):
    """pooch.retrieve failing as it does without a network connection."""

    def fail(url, *args, **kwargs):
        raise requests.exceptions.ConnectionError(f"Failed to resolve host for {url}")

    monkeypatch.setattr(pooch, "retrieve", fail)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idx_bytes(array: np.ndarray, code: int | None = None) -> bytes:
    """IDX bytes written independently of the reader: header by struct, big-endian data."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype] if code is None else code
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False, code: int | None = None) -> Path:
    data = idx_bytes(array, code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_idx_set(folder: Path, *, n_train=6, n_test=4, gz=True, seed=0) -> dict[str, np.ndarray]:
    """MNIST-layout IDX files with random uint8 images; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / (name + ".gz" if gz else name), array, gz=gz)
    return arrays


def objects(sequences) -> np.ndarray:
    """A 1-D object array of lists, as in Keras' imdb.npz and reuters.npz."""
    array = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):
        array[i] = list(seq)
    return array


def pin_hash(monkeypatch, dataset: str, file_name: str, path: Path) -> None:
    """Make ``path``'s SHA-256 the published hash of ``file_name`` for this test."""
    info = catalog.KNOWN_DATASETS[dataset]
    digest = sha256(path)
    layouts = tuple(
        dataclasses.replace(
            layout,
            files=tuple(
                dataclasses.replace(f, sha256=digest) if f.name == file_name else f
                for f in layout.files
            ),
        )
        for layout in info.layouts
    )
    monkeypatch.setitem(catalog.KNOWN_DATASETS, dataset, dataclasses.replace(info, layouts=layouts))


@pytest.fixture
def files():
    """The file writers above, for tests (test modules cannot import conftest by name)."""
    return SimpleNamespace(
        sha256=sha256,
        sha256_bytes=sha256_bytes,
        idx_bytes=idx_bytes,
        write_idx=write_idx,
        write_idx_set=write_idx_set,
        objects=objects,
        pin_hash=pin_hash,
        real_os_roots=REAL_OS_ROOTS,
        NetworkUsed=NetworkUsed,
    )
