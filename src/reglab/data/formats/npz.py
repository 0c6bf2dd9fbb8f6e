"""Keras' ``.npz`` dataset files, read without ever running code from an untrusted file.

IMDB and Reuters store ragged sequences as object arrays, which NumPy can only save as
pickles, and unpickling can run any code the file names (``os.system`` via
``__reduce__``). Object arrays are therefore ALWAYS read with an unpickler that resolves
only the few NumPy globals that rebuild an array (numbers, lists and ints need no global
at all), and what it rebuilds is then checked to hold plain numbers only. Trusting a file
(:mod:`reglab.data.trust`) skips its checksum, never this reader: the published files
need nothing more. Numeric arrays never touch pickle.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reglab.errors import DataError

__all__ = ["KERAS_NPZ_KEYS", "SafeUnpickler", "read_npz"]

# The arrays each Keras file holds.
KERAS_NPZ_KEYS = {
    "mnist.npz": ("x_train", "y_train", "x_test", "y_test"),
    "imdb.npz": ("x_train", "y_train", "x_test", "y_test"),
    "reuters.npz": ("x", "y"),
    "boston_housing.npz": ("x", "y"),
}

# Rebuilding an object array of lists of ints needs exactly these (both spellings of
# NumPy's private module: files written by NumPy < 2 and >= 2); `scalar` rebuilds NumPy
# integers should a list hold them instead of Python ints.
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("builtins", "list"),
    }
)


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals needed to rebuild NumPy object arrays.

    Examples
    --------
    >>> import io, os, pickle
    >>> SafeUnpickler(io.BytesIO(pickle.dumps(os.system))).load()
    Traceback (most recent call last):
    ...
    _pickle.UnpicklingError: refused to load `posix.system`
    """

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load `{module}.{name}`")


def read_npz(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Read the arrays ``keys`` from an ``.npz`` file.

    Parameters
    ----------
    path : pathlib.Path
        The ``.npz`` file.
    keys : sequence of str
        The arrays expected (all must be present).

    Returns
    -------
    dict of str to numpy.ndarray

    Raises
    ------
    DataError
        If the file is not an ``.npz`` archive, lacks a key (naming the keys expected and
        found), or holds a pickle that names anything but NumPy's array machinery or
        rebuilds anything but numbers and lists of numbers.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = pathlib.Path(folder) / "boston_housing.npz"
    ...     np.savez(file, x=np.zeros((3, 2)), y=np.ones(3))
    ...     read_npz(file, ["x", "y"])["y"]
    array([1., 1., 1.])
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}
            missing = [k for k in keys if k not in members]
            if missing:
                found = ", ".join(map(repr, sorted(members))) or "none"
                raise DataError(
                    f"{path} lacks arrays {', '.join(map(repr, missing))}: expected "
                    f"{', '.join(map(repr, keys))}; found {found}."
                )
            return {k: _read_member(archive.read(members[k]), path, k) for k in keys}
    except (zipfile.BadZipFile, EOFError) as error:
        raise DataError(
            f"{path} is not a readable .npz archive ({error}); delete it and fetch it again."
        ) from error


def _read_member(raw: bytes, path: Path, key: str) -> np.ndarray:
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:  # 2.0 and 3.0 share the header layout; 3.0 only encodes it as UTF-8
            _, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except ValueError as error:
        raise DataError(f"{path}: array '{key}' is not a valid .npy member ({error}).") from error
    pickle_start = stream.tell()  # an object array's pickle follows the header directly
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    stream.seek(pickle_start)
    try:
        array = SafeUnpickler(stream).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as error:
        raise DataError(
            f"{path}: refused to unpickle array '{key}' ({error}). Expected only NumPy "
            "object arrays of lists of numbers, as in Keras' files; this file asks for "
            "more, so it may be malicious: delete it and fetch the published one."
        ) from error
    if not isinstance(array, np.ndarray):
        raise DataError(
            f"{path}: array '{key}' unpickled to a {type(array).__name__}, expected a NumPy array."
        )
    _check_numeric(array, path, key)
    return array


_NUMBERS = (int, float, np.number)


def _check_numeric(array: np.ndarray, path: Path, key: str) -> None:
    """Every element a number or a flat list of numbers (Keras' word-id sequences)."""
    for item in array.ravel():
        kind = type(item)
        if issubclass(kind, _NUMBERS) or (kind is np.ndarray and item.dtype.kind in "biuf"):
            continue
        # The types of a list's items as a set: one C-speed pass over 25,000 IMDB reviews.
        if kind is list and all(issubclass(t, _NUMBERS) for t in set(map(type, item))):
            continue
        raise DataError(
            f"{path}: array '{key}' holds a {kind.__name__}; expected numbers or lists of "
            "numbers, as in Keras' files. Delete the file and fetch the published one."
        )
