"""Learning curves: training and validation loss and metric per epoch, one row per variant.

Each panel shows the mean over a variant's runs (seeds, folds) with its 95% band, the
raw mean as a faint line and its EMA-smoothed version on top: the raw line keeps the
reader honest about the noise, the smoothed one shows the trend. Panels share their
axes down each column so that variants compare at a glance.

The figure is a plain :class:`matplotlib.figure.Figure` (no pyplot, so no GUI backend
and no figure left open in a global registry); in a notebook, display it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from reglab.errors import ReglabError, check_number
from reglab.report.figures._text import plain
from reglab.study.units import metric_units
from reglab.validate import mean_curve, smooth_curve

__all__ = ["learning_curves"]

_TRAIN, _VALIDATION = "tab:blue", "tab:orange"


def learning_curves(
    runs: Mapping[str, Sequence[Sequence[Mapping[str, float]]]] | Sequence[Mapping[str, float]],
    *,
    smoothing: float = 0.6,
    best_epochs: Mapping[str, float] | None = None,
    stopped_epochs: Mapping[str, float] | None = None,
) -> Figure:
    """Plot loss and metric curves, training and validation, for each variant.

    Parameters
    ----------
    runs : mapping of str to list of History rows, or one History's rows
        ``{variant: [rows_of_run_1, rows_of_run_2, ...]}``, each run's rows as in
        ``History.rows`` (dicts with ``loss``, ``val_loss``, ``accuracy`` or ``mae``,
        ...). A bare list of rows (one History) is shown as a single variant "run".
    smoothing : float, default 0.6
        EMA factor of the smoothed line, in [0, 1) (0.9 lags a 20-epoch run too much).
    best_epochs : mapping of str to float, optional
        Epoch to mark as "best" per variant; by default the epoch of lowest mean
        validation loss.
    stopped_epochs : mapping of str to float, optional
        Epoch at which early stopping stopped, per variant; not marked when absent or 0.

    Returns
    -------
    matplotlib.figure.Figure
        ``2 * len(runs)`` axes: for each variant, loss then metric. Accuracy is in percent.

    Raises
    ------
    ReglabError
        If there are no runs, a run has no rows, or the rows lack ``loss``.

    Examples
    --------
    >>> rows = [{"epoch": e, "loss": 1 / e, "val_loss": 1 / e + 0.1 * e,
    ...          "accuracy": 0.5 + 0.04 * e, "val_accuracy": 0.5 + 0.02 * e}
    ...         for e in range(1, 11)]
    >>> fig = learning_curves(rows)
    >>> [ax.get_title() for ax in fig.axes]
    ['run: loss', 'run: accuracy']
    """
    smoothing = check_number(
        "smoothing", smoothing, owner="learning_curves", low=0.0, high=1.0, high_open=True
    )
    variants = _as_variants(runs)
    metric = _metric_column(variants)
    units = metric_units(metric) if metric else None
    fig = Figure(figsize=(10, 2.7 * len(variants) + 0.6), layout="constrained")
    axes = fig.subplots(len(variants), 2, sharex=True, sharey="col", squeeze=False)
    for row, (variant, histories) in enumerate(variants.items()):
        loss_ax, metric_ax = axes[row]
        _panel(loss_ax, histories, "loss", 1.0, smoothing)
        loss_ax.set_title(f"{plain(variant)}: loss")
        loss_ax.set_ylabel("loss")
        if units is not None:
            _panel(metric_ax, histories, units.name, units.scale, smoothing)
            metric_ax.set_title(f"{plain(variant)}: {units.name}")
            metric_ax.set_ylabel(units.label + (" (%)" if units.scale == 100 else ""))
        else:
            metric_ax.set_visible(False)
        best = (best_epochs or {}).get(variant) or _lowest_validation_loss(histories)
        stopped = (stopped_epochs or {}).get(variant)
        for ax in (loss_ax, metric_ax):
            if best:
                ax.axvline(best, color="tab:green", linestyle="--", linewidth=1, label="best epoch")
            if stopped:
                ax.axvline(stopped, color="tab:red", linestyle=":", linewidth=1.2, label="stopped")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    axes[0][0].legend(fontsize="small", loc="upper right")
    return fig


def _panel(ax, histories, column: str, scale: float, smoothing: float) -> None:
    for prefix, color, name in (("", _TRAIN, "train"), ("val_", _VALIDATION, "validation")):
        curves = [[row.get(prefix + column, np.nan) * scale for row in h] for h in histories]
        if all(np.all(np.isnan(c)) for c in curves):
            continue  # e.g. no validation data: nothing to draw rather than an empty legend
        band = mean_curve(curves)
        epochs = np.arange(1, len(band.mean) + 1)
        ax.fill_between(epochs, band.low, band.high, color=color, alpha=0.15, linewidth=0)
        ax.plot(epochs, band.mean, color=color, alpha=0.35, linewidth=1, label=f"{name} (raw)")
        ax.plot(epochs, _smooth(band.mean, smoothing), color=color, linewidth=2, label=name)
    ax.grid(alpha=0.3)


def _smooth(mean: np.ndarray, factor: float) -> np.ndarray:
    # Smooth the reached epochs only: a NaN (no run got that far) would poison the EMA.
    smoothed = np.full_like(mean, np.nan)
    reached = ~np.isnan(mean)
    smoothed[reached] = smooth_curve(mean[reached], factor)
    return smoothed


def _lowest_validation_loss(histories) -> int | None:
    curves = [[row.get("val_loss", np.nan) for row in h] for h in histories]
    if all(np.all(np.isnan(c)) for c in curves):
        return None
    mean = mean_curve(curves).mean
    return int(np.nanargmin(mean)) + 1


def _as_variants(runs) -> dict[str, list[list[Mapping[str, float]]]]:
    if isinstance(runs, Mapping):
        variants = {
            str(name): [list(rows) for rows in histories] for name, histories in runs.items()
        }
    else:
        variants = {"run": [list(runs)]}
    if not variants or any(not histories for histories in variants.values()):
        raise ReglabError(
            "Invalid value for `runs` of learning_curves: expected at least one variant "
            "with at least one run."
        )
    for name, histories in variants.items():
        for rows in histories:
            if not rows or "loss" not in rows[0]:
                raise ReglabError(
                    f"Invalid value for `runs` of learning_curves: a run of {name!r} has "
                    "no History rows with a 'loss' column."
                )
    return variants


def _metric_column(variants) -> str | None:
    first = next(iter(variants.values()))[0][0]
    return next((m for m in ("accuracy", "mae") if m in first), None)
