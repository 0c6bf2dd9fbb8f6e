"""What ``reglab datasets`` shows: every known dataset, where it is, or how to get it.

Built from the catalog and a look at the search folders only: nothing is downloaded,
opened or hashed, so the listing takes milliseconds even with large files present.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from reglab.data import finder
from reglab.data.catalog import KNOWN_DATASETS, DatasetInfo

__all__ = ["DatasetStatus", "dataset_statuses", "print_datasets"]


@dataclass(frozen=True)
class DatasetStatus:
    """One row of ``reglab datasets``.

    Parameters
    ----------
    name, task, description : str
        As in the catalog.
    n_train, n_test : int
        Sample counts with the default options.
    input_shape : str
        One sample's shape ("28x28", "13 features", "word sequences").
    found : bool
        True when the files are present (always for scikit-learn's sets).
    location : str
        The folder the files are in, "scikit-learn (embedded)" (or the package that
        makes the set), or how to get them.
    """

    name: str
    task: str
    description: str
    n_train: int
    n_test: int
    input_shape: str
    found: bool
    location: str


def dataset_statuses() -> list[DatasetStatus]:
    """The status of every known dataset, in catalog order, without downloading anything.

    Returns
    -------
    list of DatasetStatus

    Examples
    --------
    >>> [s.location for s in dataset_statuses() if s.name == "iris"]
    ['scikit-learn (embedded)']
    """
    return [_status(info) for info in KNOWN_DATASETS.values()]


def _status(info: DatasetInfo) -> DatasetStatus:
    if info.input_shape is None:
        shape = "word sequences"
    elif info.input_kind == "signals":
        shape = f"signals of {info.input_shape[-1]} values"
    elif len(info.input_shape) == 1:
        shape = f"{info.input_shape[0]} features"
    else:
        shape = "x".join(map(str, info.input_shape))
    if info.embedded:
        found, location = True, f"{info.package} (embedded)"
    else:
        located = finder.locate_layout(info)
        found = located is not None
        if located is not None:
            folders = sorted({str(p.parent) for p in located[1].values()})
            location = ", ".join(folders)
        else:
            location = _how_to_get(info)
    return DatasetStatus(
        info.name, info.task, info.description, info.n_train, info.n_test, shape, found, location
    )


def _how_to_get(info: DatasetInfo) -> str:
    layouts = [", ".join(f.download_name for f in layout.files) for layout in info.layouts]
    layouts = [f"({names})" if "," in names else names for names in layouts]
    folder = finder.download_dir(info.name)
    text = f"missing: put {' or '.join(layouts)} in {folder} (or $REGLAB_DATA)"
    if any(layout.downloadable for layout in info.layouts):
        text += "; otherwise downloaded on first use"
    return text


def print_datasets(console: Console | None = None) -> None:
    """Print the table of :func:`dataset_statuses` (the ``reglab datasets`` command).

    Parameters
    ----------
    console : rich.console.Console, optional
        Where to print; the terminal by default.

    Examples
    --------
    >>> from rich.console import Console
    >>> import io
    >>> console = Console(record=True, width=200, file=io.StringIO())
    >>> print_datasets(console)
    >>> "iris" in console.export_text()
    True
    """
    table = Table(title="reglab datasets")
    table.add_column("name", no_wrap=True)
    table.add_column("task")
    table.add_column("train", justify="right")
    table.add_column("test", justify="right")
    table.add_column("input")
    table.add_column("where", overflow="fold")  # a path must stay whole, even if folded
    statuses = dataset_statuses()
    for status in statuses:
        where = status.location if status.found else "[yellow]missing[/yellow] (see below)"
        table.add_row(
            status.name,
            status.task,
            str(status.n_train),
            str(status.n_test),
            status.input_shape,
            where,
        )
    console = console or Console()
    console.print(table)
    # How to get a missing dataset is a sentence with long paths: printed below the table,
    # where it wraps like text instead of squeezing every column.
    for status in statuses:
        if not status.found:
            console.print(f"[bold]{status.name}[/bold]: {status.location}", soft_wrap=True)
