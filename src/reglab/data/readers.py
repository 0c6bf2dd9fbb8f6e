"""Turning the files of a found layout into train/test arrays, checksums checked first.

A file with a published checksum must match it before it is read, unless the person
running reglab vouches for it (:mod:`reglab.data.trust`: their own copy, a subset). IDX
files are checked on their decompressed bytes, so a distribution's re-gzipped copy passes
while a corrupt one does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reglab.data.catalog import DataFile, Layout
from reglab.data.formats.boston_csv import read_boston_csv
from reglab.data.formats.idx import check_pair, parse_idx, read_bytes
from reglab.data.formats.npz import KERAS_NPZ_KEYS, read_npz
from reglab.data.integrity import check_digest, digest
from reglab.data.keras_text import prepare_imdb, prepare_reuters
from reglab.data.trust import Trust

__all__ = ["keras_split", "read_layout", "verify"]

NO_TRUST = Trust()
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def verify(file: DataFile, path: Path, *, content: bytes | None = None) -> None:
    """Check ``path`` against ``file``'s published hash (of ``content`` for IDX files).

    Parameters
    ----------
    file : DataFile
        The catalog entry with the published hash; a file without one passes.
    path : pathlib.Path
        The local copy.
    content : bytes, optional
        The decompressed IDX bytes, when already read (saves reading them twice).

    Raises
    ------
    DataError
        On a mismatch, naming the file and both hashes.
    """
    if file.idx and file.content_sha256:
        data = content if content is not None else read_bytes(path)
        found = digest(path, content=lambda _: data)
        check_digest(path, file.content_sha256, found, what="SHA-256 of the decompressed data")
    elif file.sha256:
        check_digest(path, file.sha256, digest(path, "sha256"))
    elif file.md5:
        check_digest(path, file.md5, digest(path, "md5"), what="MD5")


def keras_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> Arrays:
    """Keras' Boston split: shuffle with ``RandomState(seed)``, the first ``1 - test_split`` train.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = keras_split(np.arange(10), np.arange(10), 0.2, 113)
    >>> len(x_train), len(x_test)
    (8, 2)
    """
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n = int(len(x) * (1 - test_split))
    return x[:n], y[:n], x[n:], y[n:]


def read_layout(
    name: str, layout: Layout, paths: dict[str, Path], options: dict, trust: Trust = NO_TRUST
) -> Arrays:
    """Read dataset ``name`` stored as ``layout`` at ``paths`` with its options.

    Parameters
    ----------
    name : str
        The dataset's name.
    layout : Layout
        How it is stored.
    paths : dict of str to pathlib.Path
        Where each file of the layout is, by file name.
    options : dict
        The resolved options of :func:`reglab.data.load_dataset`.
    trust : Trust, default Trust()
        The files whose checksum check is skipped (none by default).

    Returns
    -------
    tuple of numpy.ndarray
        ``x_train, y_train, x_test, y_test``.

    Raises
    ------
    DataError
        For a checksum mismatch (unless the file is trusted) or a malformed file.
    """
    if layout.format == "idx":
        return _read_idx_set(layout, paths, trust)
    if layout.format == "csv":
        x, y = read_boston_csv(paths[layout.files[0].name])
        return keras_split(x, y, options["test_split"], options["seed"])
    file = layout.files[0]
    path = paths[file.name]
    if not trust.covers(path):
        verify(file, path)
    arrays = read_npz(path, KERAS_NPZ_KEYS[file.name])
    text = {
        k: options[k]
        for k in ("num_words", "skip_top", "maxlen", "seed", "start_char", "oov_char", "index_from")
        if k in options
    }
    if file.name == "imdb.npz":
        return prepare_imdb(
            arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], **text
        )
    if file.name == "reuters.npz":
        return prepare_reuters(arrays["x"], arrays["y"], test_split=options["test_split"], **text)
    if file.name == "boston_housing.npz":
        return keras_split(arrays["x"], arrays["y"], options["test_split"], options["seed"])
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]


def _read_idx_set(layout: Layout, paths: dict[str, Path], trust: Trust) -> Arrays:
    loaded = {}
    for file in layout.files:
        path = paths[file.name]
        data = read_bytes(path)
        if not trust.covers(path):
            verify(file, path, content=data)
        ndim = 3 if "images" in file.name else 1
        loaded[file.name] = parse_idx(data, str(path), dtype=np.dtype(np.uint8), ndim=ndim)
    parts = []
    for split in ("train", "t10k"):
        images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        check_pair(loaded[images], loaded[labels], str(paths[images]), str(paths[labels]))
        parts += [loaded[images], loaded[labels]]
    return tuple(parts)  # type: ignore[return-value]
