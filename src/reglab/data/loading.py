"""The one entry point for data: ``load_dataset(name, **options)``, and ``get_word_index``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from reglab.data import finder
from reglab.data.catalog import WORD_INDEX_FILES, DatasetInfo, Layout
from reglab.data.dataset import Dataset
from reglab.data.formats.mnist1d import load_mnist1d
from reglab.data.formats.sklearn_sets import load_sklearn
from reglab.data.options import dataset_info, resolve_options
from reglab.data.readers import read_layout, verify
from reglab.data.tasks import infer_task
from reglab.data.trust import trust_from
from reglab.errors import DataError, ReglabError, did_you_mean

__all__ = ["get_word_index", "load_dataset"]


def load_dataset(name: str, *, trusted: bool | Path | list = False, **options) -> Dataset:
    """Load a dataset by name, finding its files (or downloading them once) and checking them.

    Parameters
    ----------
    name : str
        One of :data:`reglab.data.KNOWN_DATASETS`: mnist, fashion_mnist, imdb, reuters,
        boston_housing, mnist1d (generated offline by the ``mnist1d`` package and cached
        in :func:`reglab.data.finder.download_dir`), or scikit-learn's digits,
        breast_cancer, diabetes, wine, iris.
    **options
        Keras' options where the dataset has them: ``num_words``, ``skip_top``,
        ``maxlen``, ``start_char``, ``oov_char``, ``index_from``, ``seed`` (imdb,
        reuters), ``test_split`` (reuters, boston_housing, and the split of
        scikit-learn's sets, 0.25 by default).
    trusted : bool, pathlib.Path or list of paths, default False
        Skip the published checksum of every file (``True``) or of the files listed:
        only for files you made or vouch for. Pickled arrays are read by the restricted
        unpickler either way (plain numeric lists and arrays only), so trusting a file
        never lets it run code. A study spec cannot say this (``reglab run --trust-data``).

    Returns
    -------
    Dataset

    Raises
    ------
    ReglabError
        For an unknown name or option (with the closest valid one) or a bad value.
    DataError
        For a missing file that cannot be downloaded (saying where to put it), a
        checksum mismatch, or a malformed file.

    Examples
    --------
    >>> data = load_dataset("wine", test_split=0.5)
    >>> len(data.x_train), len(data.x_test), data.task.n_outputs
    (89, 89, 3)
    """
    info = dataset_info(name)
    trust = trust_from(trusted)
    opts = resolve_options(info, options)
    if info.embedded and info.package == "mnist1d":
        x_train, y_train, x_test, y_test = load_mnist1d(finder.download_dir(info.name))
        source = info.package
    elif info.embedded:
        x_train, y_train, x_test, y_test, _ = load_sklearn(
            info.name, opts["test_split"], opts["seed"]
        )
        source = "scikit-learn"
    else:
        layout, paths = _find(info)
        x_train, y_train, x_test, y_test = read_layout(info.name, layout, paths, opts, trust)
        folders = {p.parent for p in paths.values()}
        source = str(folders.pop()) if len(folders) == 1 else ", ".join(map(str, paths.values()))
    task = infer_task(np.concatenate([np.asarray(y_train), np.asarray(y_test)]))
    num_words = None
    if info.input_kind == "sequences":
        largest = max((max(x) for part in (x_train, x_test) for x in part if len(x)), default=0)
        num_words = max(int(largest) + 1, opts["num_words"] or 0)
    return Dataset(
        name=info.name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        task=task,
        description=info.description,
        source=source,
        input_kind=info.input_kind,
        num_words=num_words,
    )


def _find(info: DatasetInfo) -> tuple[Layout, dict[str, Path]]:
    found = finder.locate_layout(info)
    if found is not None:
        return found
    layout = next(layout for layout in info.layouts if layout.downloadable)
    paths = {}
    for file in layout.files:
        paths[file.name] = finder.locate(info.name, file) or finder.fetch(info.name, file)
    return layout, paths


def get_word_index(name: str = "imdb", *, trusted: bool = False) -> dict[str, int]:
    """The word → index mapping of the imdb or reuters dataset (Keras' ``get_word_index``).

    Indices start at 1 for the most frequent word; in the loaded sequences each is
    shifted by ``index_from`` (3 by default).

    Parameters
    ----------
    name : {"imdb", "reuters"}, default "imdb"
        The dataset.
    trusted : bool, default False
        Skip the checksum check (for a word index you made yourself).

    Returns
    -------
    dict of str to int

    Raises
    ------
    ReglabError
        For another dataset name.
    DataError
        If the JSON file is missing and cannot be downloaded, fails its checksum, or is
        not a JSON object of word → int.

    Examples
    --------
    >>> get_word_index("mnist")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No word index for dataset 'mnist': expected one of imdb, reuters. ...
    """
    if name not in WORD_INDEX_FILES:
        raise ReglabError(
            f"No word index for dataset {name!r}: expected one of "
            f"{', '.join(WORD_INDEX_FILES)}. Received: name={name!r}"
            f"{did_you_mean(str(name), WORD_INDEX_FILES) or '.'}"
        )
    file = WORD_INDEX_FILES[name]
    path = finder.locate(name, file) or finder.fetch(name, file)
    if not trusted:
        verify(file, path)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not valid JSON ({error}).") from error
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise DataError(f"{path}: expected a JSON object mapping words to integer indices.")
    return index
