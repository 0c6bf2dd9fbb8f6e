"""Export a stored study to TensorBoard: per-epoch scalars and weight histograms per run.

The store is the record; TensorBoard is one more way to look at it. Exporting from the
store (rather than logging during training) means any finished study can be opened in
TensorBoard later, and a resumed study's log has no duplicated or missing epochs.

Layout: ``<directory>/<study>/<variant>/seed<S>-fold<F>`` (``-repeat<R>`` for repeated
K-fold), one event file per run, so TensorBoard's run selector lists every run and its
regex filter picks a variant. Names are made safe for paths; two variants whose safe
names collide get a numeric suffix.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from reglab.errors import ReglabError
from reglab.report.loading import open_study
from reglab.report.outputs import check_log_dir
from reglab.study.units import group_by_variant

__all__ = ["export_tensorboard"]


def export_tensorboard(store_path: str | Path, study: str, directory: str | Path) -> list[Path]:
    """Write a study's runs as TensorBoard logs.

    For each run: every History column as a scalar per epoch (tag = column name,
    step = epoch), and each layer's weight histogram at the first and last recorded
    epoch (tag ``weights/<layer>``), rebuilt from the stored bin edges and counts with
    ``SummaryWriter.add_histogram_raw``.

    Parameters
    ----------
    store_path : str or Path
        The SQLite store; it must exist.
    study : str
        The study's name.
    directory : str or Path
        Root log folder (what ``tensorboard --logdir`` is given); created if missing.

    Returns
    -------
    list of Path
        One log folder per run, in the store's run order.

    Raises
    ------
    ReglabError
        If the store or the study does not exist, or the ``tensorboard`` package is
        not installed.

    Examples
    --------
    >>> export_tensorboard("no-such-store.db", "demo", "logs")
    Traceback (most recent call last):
    ...
    reglab.errors.ReglabError: No store at 'no-such-store.db': the file does not exist. ...
    """
    record = open_study(store_path, study)
    check_log_dir(directory)
    writer_class = _summary_writer()
    root = Path(directory) / _safe(record.name)
    folders = []
    for variant_folder, runs in _variant_folders(record.runs).items():
        for run in runs:
            suffix = f"-repeat{run.repeat}" if getattr(run, "repeat", 0) else ""
            folder = root / variant_folder / f"seed{run.seed}-fold{run.fold}{suffix}"
            writer = writer_class(log_dir=str(folder))
            try:
                _write_scalars(writer, run.history)
                _write_histograms(writer, run.histograms, run.epochs_run)
            finally:
                writer.close()
            folders.append(folder)
    return folders


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:  # tensorboard is an optional dependency
        raise ReglabError(
            "TensorBoard export needs the tensorboard package, which is not installed: "
            "pip install 'reglab[tensorboard]'."
        ) from error
    return SummaryWriter


def _write_scalars(writer, rows) -> None:
    for row in rows:
        step = int(row["epoch"])
        for column, value in row.items():
            if column != "epoch" and value is not None:
                writer.add_scalar(column, float(value), global_step=step)


def _write_histograms(writer, histograms, epochs_run: int) -> None:
    # The store names the two moments "first" (after epoch 1) and "last" (the end of
    # training); TensorBoard wants steps, so they become epochs 1 and epochs_run.
    steps = {"first": 1, "last": max(int(epochs_run or 1), 1)}
    by_layer: dict[str, dict[int, object]] = {}
    for h in histograms or []:
        step = steps.get(h.epoch) if isinstance(h.epoch, str) else int(h.epoch)
        if step is not None:
            by_layer.setdefault(h.layer, {})[step] = h
    for layer, epochs in by_layer.items():
        for step in sorted({min(epochs), max(epochs)}):
            _write_histogram(writer, f"weights/{layer}", epochs[step], step)


def _write_histogram(writer, tag: str, histogram, step: int) -> None:
    edges = np.asarray(histogram.edges, dtype=np.float64)
    counts = np.asarray(histogram.counts, dtype=np.float64)
    if counts.sum() <= 0:
        return  # an empty histogram has no min/max; TensorBoard would show garbage
    centres = (edges[:-1] + edges[1:]) / 2
    filled = np.flatnonzero(counts)
    # Only the bins are stored, so the moments are those of the binned values (each
    # weight at its bin's centre), and min/max are the edges of the outermost filled bins.
    writer.add_histogram_raw(
        tag,
        min=float(edges[filled[0]]),
        max=float(edges[filled[-1] + 1]),
        num=int(counts.sum()),
        sum=float(np.sum(centres * counts)),
        sum_squares=float(np.sum(centres**2 * counts)),
        bucket_limits=edges[1:].tolist(),  # TensorBoard keeps each bucket's right edge
        bucket_counts=counts.tolist(),
        global_step=step,
    )


def _variant_folders(runs) -> dict[str, list]:
    folders: dict[str, list] = {}
    for variant, group in group_by_variant(runs).items():
        name, n = _safe(variant), 1
        while name in folders:
            n += 1
            name = f"{_safe(variant)}-{n}"
        folders[name] = group
    return folders


def _safe(name: str) -> str:
    # User text as one path component: no separators, no "..", nothing hidden.
    safe = re.sub(r"[^\w.=-]+", "_", str(name)).strip("._")
    return safe or "unnamed"
