"""MNIST-1D (Greydanus, 2020), generated offline by the ``mnist1d`` package and cached.

``mnist1d.data.make_dataset`` with its default arguments draws the published benchmark's
recipe: 5,000 sequences of 40 values (ten 1-D digit templates, padded, translated,
sheared, scaled and noised), split 4,000 / 1,000 into train and test, centred and scaled
to unit standard deviation as a whole. Nothing is downloaded (the package's
``get_dataset`` would fetch its pickle from the network; ``make_dataset`` does not).

The generator seeds NumPy's and Python's *global* random state (``set_seed(42)``):
both are saved and put back around the call, so loading MNIST-1D never changes what
the caller's own ``np.random`` draws next. The arrays are cached as a plain ``.npz``
(no pickle) in the folder other datasets download to, so the ~2 s generation runs once.
"""

from __future__ import annotations

import os
import random
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["MNIST1D_CACHE", "MNIST1D_LENGTH", "generate_mnist1d", "load_mnist1d"]

MNIST1D_CACHE = "mnist1d.npz"
MNIST1D_LENGTH = 40  # the package's default final_seq_length
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def generate_mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate MNIST-1D with the ``mnist1d`` package's default arguments.

    Returns
    -------
    x_train, y_train, x_test, y_test : numpy.ndarray
        float32 ``(4000, 40)`` and ``(1000, 40)`` signals, int64 labels 0-9.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = generate_mnist1d()
    >>> x_train.shape, x_test.shape, sorted(set(y_train.tolist())) == list(range(10))
    ((4000, 40), (1000, 40), True)
    """
    from mnist1d.data import get_dataset_args, make_dataset

    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        made = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return (
        np.asarray(made["x"], dtype=np.float32),
        np.asarray(made["y"], dtype=np.int64),
        np.asarray(made["x_test"], dtype=np.float32),
        np.asarray(made["y_test"], dtype=np.int64),
    )


def load_mnist1d(cache_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST-1D from ``cache_dir/mnist1d.npz``, generated and cached there when absent.

    A cache that cannot be read as the four arrays of the right shapes is generated
    again (and rewritten), never trusted half-way.

    Parameters
    ----------
    cache_dir : pathlib.Path
        The folder of the cache file (created if needed).

    Returns
    -------
    x_train, y_train, x_test, y_test : numpy.ndarray
        As :func:`generate_mnist1d` returns them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> first = load_mnist1d(folder)
    >>> (folder / "mnist1d.npz").is_file()
    True
    >>> all((a == b).all() for a, b in zip(first, load_mnist1d(folder)))
    True
    """
    path = Path(cache_dir) / MNIST1D_CACHE
    cached = _read_cache(path)
    if cached is not None:
        return cached
    arrays = generate_mnist1d()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: two runners (or Ray tasks) generating at once never
    # leave the other a half-written file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **dict(zip(_ARRAYS, arrays)))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return arrays


def _read_cache(path: Path):
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = tuple(np.asarray(data[name]) for name in _ARRAYS)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    x_train, y_train, x_test, y_test = arrays
    shapes_ok = (
        x_train.shape == (len(y_train), MNIST1D_LENGTH)
        and x_test.shape == (len(y_test), MNIST1D_LENGTH)
        and x_train.dtype == np.float32
        and y_train.dtype == np.int64
    )
    return arrays if shapes_ok else None
