"""The K-fold validation curve: mean validation metric per epoch over folds, EMA-smoothed.

This is the Boston housing figure of Chollet's *Deep Learning with Python*: average the
per-fold validation MAE epoch by epoch, smooth it (``previous * 0.9 + point * 0.1``) and,
on a long run, drop the first 10 epochs, whose much larger values would squash the
interesting part (where the curve stops improving) into a flat line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from reglab.errors import ReglabError, check_int, check_number
from reglab.report.figures._text import plain
from reglab.validate import mean_curve, smooth_curve

__all__ = ["kfold_validation_curve"]

# Dropping 10 epochs is the book's choice for 500; below this length it would hide a
# large share of the run, so nothing is dropped.
_MANY_EPOCHS = 40


def kfold_validation_curve(
    curves: Mapping[str, Sequence[Sequence[float]]] | Sequence[Sequence[float]],
    *,
    smoothing: float = 0.9,
    skip_first: int | None = None,
    ylabel: str = "validation MAE",
) -> Figure:
    """Plot the mean over folds of the validation curve, raw and smoothed.

    Parameters
    ----------
    curves : mapping of str to list of curves, or a list of curves
        ``{variant: [fold_1_curve, fold_2_curve, ...]}``, each curve one value per epoch
        (e.g. ``History.history["val_mae"]``); a bare list is one variant.
    smoothing : float, default 0.9
        EMA factor, in [0, 1).
    skip_first : int, optional
        Epochs dropped before plotting; by default 10 when the curves are longer than
        40 epochs, else 0.
    ylabel : str, default "validation MAE"
        The y-axis label.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with, per variant, a faint raw mean line (``"<variant> (raw)"``) and the
        smoothed one (``"<variant>"``), x in epochs from ``skip_first + 1``.

    Raises
    ------
    ReglabError
        If there are no curves, or ``skip_first`` leaves no epoch.

    Examples
    --------
    >>> fig = kfold_validation_curve([[3.0, 2.0, 1.5, 1.4], [2.8, 2.2, 1.6, 1.5]])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['mean over folds (raw)', 'mean over folds']
    """
    smoothing = check_number(
        "smoothing", smoothing, owner="kfold_validation_curve", low=0.0, high=1.0, high_open=True
    )
    if isinstance(curves, Mapping):
        variants = {str(k): [list(c) for c in v] for k, v in curves.items()}
    else:
        variants = {"mean over folds": [list(c) for c in curves]}
    if not variants or any(not folds for folds in variants.values()):
        raise ReglabError(
            "Invalid value for `curves` of kfold_validation_curve: expected at least one "
            "fold's curve per variant."
        )
    means = {name: mean_curve(folds).mean for name, folds in variants.items()}
    length = max(len(mean) for mean in means.values())
    if skip_first is None:
        skip_first = 10 if length > _MANY_EPOCHS else 0
    skip_first = check_int("skip_first", skip_first, owner="kfold_validation_curve")
    if skip_first >= length:
        raise ReglabError(
            f"Invalid value for `skip_first` of kfold_validation_curve: expected fewer than "
            f"the {length} epochs of the curves. Received: skip_first={skip_first}."
        )
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for i, (name, mean) in enumerate(means.items()):
        epochs = np.arange(skip_first + 1, len(mean) + 1)
        reached = ~np.isnan(mean[skip_first:])  # epochs no fold reached have no mean
        epochs, kept = epochs[reached], mean[skip_first:][reached]
        color = f"C{i % 10}"
        ax.plot(epochs, kept, color=color, alpha=0.3, linewidth=1, label=f"{plain(name)} (raw)")
        ax.plot(epochs, smooth_curve(kept, smoothing), color=color, linewidth=2, label=plain(name))
    ax.set_xlabel("epoch")
    ax.set_ylabel(plain(ylabel))
    dropped = f", first {skip_first} epochs dropped" if skip_first else ""
    ax.set_title(f"Mean validation curve over folds (EMA {smoothing:g}{dropped})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig
