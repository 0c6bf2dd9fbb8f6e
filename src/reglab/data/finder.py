"""Where dataset files are looked for, in order, and the one-time download when none is found.

Search order for each file of a dataset called NAME:

1. ``$REGLAB_DATA`` and ``$REGLAB_DATA/NAME/`` (the user's own folder);
2. Keras' cache ``~/.keras/datasets`` (or ``$KERAS_HOME/datasets``) and the subfolder
   Keras uses for it (``fashion-mnist/``), so files Keras already fetched are reused;
3. OS dataset folders ``/usr/share/datasets/NAME`` with ``_`` or ``-`` (Debian's
   ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist/``);
4. reglab's download folder, ``$REGLAB_DATA/NAME`` or pooch's user cache ``.../reglab/NAME``,
   where a missing file is downloaded once, with its published checksum checked by pooch.

IDX files are found gzipped (``NAME.gz``) or raw.
"""

from __future__ import annotations

import os
from pathlib import Path

import pooch

from reglab.data.catalog import DataFile, DatasetInfo, Layout
from reglab.errors import DataError

__all__ = ["OS_DATASET_ROOTS", "download_dir", "fetch", "locate", "locate_layout", "search_dirs"]

OS_DATASET_ROOTS: tuple[Path, ...] = (Path("/usr/share/datasets"),)
DOWNLOAD_TIMEOUT_S = 30  # per connection attempt and per read


def keras_cache() -> Path:
    """Keras' dataset cache: ``$KERAS_HOME/datasets``, by default ``~/.keras/datasets``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> keras_cache().name
    'datasets'
    """
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def download_dir(dataset: str) -> Path:
    """The folder a missing file of ``dataset`` is downloaded to.

    One folder per dataset, because MNIST and Fashion-MNIST use the same file names.

    Parameters
    ----------
    dataset : str
        The dataset's name.

    Returns
    -------
    pathlib.Path
        ``$REGLAB_DATA/<dataset>``, or pooch's user cache ``.../reglab/<dataset>``.

    Examples
    --------
    >>> download_dir("imdb").name
    'imdb'
    """
    root = os.environ.get("REGLAB_DATA")
    return (Path(root) if root else Path(pooch.os_cache("reglab"))) / dataset


def search_dirs(dataset: str, file: DataFile) -> list[Path]:
    """The folders searched for ``file`` of ``dataset``, in order (see the module docstring).

    Parameters
    ----------
    dataset : str
        The dataset's name.
    file : DataFile
        The file looked for (its Keras subfolder is searched too).

    Returns
    -------
    list of pathlib.Path
        Without repeats; folders need not exist.

    Examples
    --------
    >>> from reglab.data.catalog import KNOWN_DATASETS
    >>> info = KNOWN_DATASETS["fashion_mnist"]
    >>> [str(d) for d in search_dirs("fashion_mnist", info.layouts[0].files[0])][-3:-1]
    ['/usr/share/datasets/fashion_mnist', '/usr/share/datasets/fashion-mnist']
    """
    dirs = []
    root = os.environ.get("REGLAB_DATA")
    if root:
        dirs += [Path(root), Path(root) / dataset]
    keras = keras_cache()
    dirs.append(keras)
    if file.keras_subdir:
        dirs.append(keras / file.keras_subdir)
    for os_root in OS_DATASET_ROOTS:
        dirs += [os_root / dataset, os_root / dataset.replace("_", "-")]
    dirs.append(download_dir(dataset))
    return list(dict.fromkeys(dirs))  # without repeats, order kept


def locate(dataset: str, file: DataFile) -> Path | None:
    """The first existing copy of ``file`` along the search order, or None.

    Parameters
    ----------
    dataset : str
        The dataset's name.
    file : DataFile
        The file looked for; an IDX file is found as ``NAME.gz`` or ``NAME``.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> from reglab.data.catalog import DataFile
    >>> locate("nothing", DataFile("no-such-file.npz")) is None
    True
    """
    names = (file.name + ".gz", file.name) if file.idx else (file.name,)
    for folder in search_dirs(dataset, file):
        for name in names:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def locate_layout(info: DatasetInfo) -> tuple[Layout, dict[str, Path]] | None:
    """The first layout of ``info`` whose files are all present, with their paths by name.

    Nothing is opened or hashed: this only looks at the folders.

    Parameters
    ----------
    info : DatasetInfo
        The dataset's catalog entry.

    Returns
    -------
    (Layout, dict of str to pathlib.Path) or None
        None when no layout is complete.

    Examples
    --------
    >>> from reglab.data.catalog import KNOWN_DATASETS
    >>> locate_layout(KNOWN_DATASETS["iris"]) is None  # embedded: no files at all
    True
    """
    for layout in info.layouts:
        paths = {file.name: locate(info.name, file) for file in layout.files}
        if all(paths.values()):
            return layout, paths  # type: ignore[return-value]
    return None


def fetch(dataset: str, file: DataFile) -> Path:
    """Download ``file`` once into :func:`download_dir`, checking its published hash.

    Parameters
    ----------
    dataset : str
        The dataset's name (names the download folder).
    file : DataFile
        The file, with its URL and published hash.

    Returns
    -------
    pathlib.Path
        The downloaded file (pooch skips the download when it is already there).

    Raises
    ------
    DataError
        If the download fails (saying which file to put in which folder) or its checksum
        does not match.
    """
    folder = download_dir(dataset)
    try:
        path = pooch.retrieve(
            file.url,
            known_hash=file.known_hash,
            fname=file.download_name,
            path=folder,
            # Bounded waits: behind a firewall that drops packets a download would
            # otherwise hang instead of failing with the "put the file here" message.
            downloader=pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT_S, progressbar=False),
        )
    except ValueError as error:  # pooch's word for a checksum mismatch
        raise DataError(
            f"Downloaded {file.download_name} from {file.url} but its checksum "
            f"does not match the published one ({error})."
        ) from error
    except OSError as error:  # no network, refused, timed out (requests' errors are OSErrors)
        raise DataError(
            f"Cannot download {file.download_name} for dataset '{dataset}' from {file.url} "
            f"({type(error).__name__}). Put {file.download_name} in {folder} (or in the folder "
            "named by the REGLAB_DATA environment variable, or in ~/.keras/datasets) and "
            "run again."
        ) from error
    return Path(path)
