"""Weight histograms: each layer's kernel after the first and the last epoch, per variant.

One row per variant, one column per layer, with shared x and y axes down each column: a
penalty's effect is seen by reading down a column (L2 pulls the weights towards zero,
L1 piles them onto it). Rows rather than columns per variant, so that a study with many
variants grows taller instead of squeezing every panel. Heights are fractions of the
layer's weights, so histograms of layers or runs with different bin edges compare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from reglab.errors import ReglabError
from reglab.report.figures._text import plain

__all__ = ["weight_histograms"]


def weight_histograms(histograms: Mapping[str, Sequence]) -> Figure:
    """Plot first- and last-epoch weight histograms of each layer, for each variant.

    Parameters
    ----------
    histograms : mapping of str to sequence of WeightHistogram
        ``{variant: [histogram, ...]}`` with one run's histograms per variant; each
        histogram has ``layer``, ``epoch`` (a 1-based number, or ``"first"`` /
        ``"last"`` as the store keeps them), ``edges`` (``len(counts) + 1`` increasing
        bin edges) and ``counts`` (attributes, or keys of a dict). The earliest and the
        latest epoch of each layer are drawn.

    Returns
    -------
    matplotlib.figure.Figure
        ``variants x layers`` axes titled ``"variant: layer"``, each with one step line
        per epoch drawn (labelled ``"epoch N"``, or ``"first epoch"`` / ``"last epoch"``).

    Raises
    ------
    ReglabError
        If there is nothing to draw, a histogram's edges and counts do not match, or a
        variant has two histograms for the same layer and epoch (several runs mixed).

    Examples
    --------
    >>> h = [{"layer": "dense_0", "epoch": e, "edges": [-1.0, 0.0, 1.0], "counts": c}
    ...      for e, c in [(1, [5, 5]), (10, [2, 8])]]
    >>> fig = weight_histograms({"baseline": h})
    >>> fig.axes[0].get_title(), [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ('baseline: dense_0', ['epoch 1', 'epoch 10'])
    """
    tables = {str(v): _by_layer(str(v), items) for v, items in histograms.items()}
    layers = list(dict.fromkeys(layer for table in tables.values() for layer in table))
    if not layers:
        raise ReglabError(
            "Invalid value for `histograms` of weight_histograms: expected at least one "
            "variant with at least one histogram."
        )
    width = min(4.2 * len(layers) + 0.8, 11.0)
    fig = Figure(figsize=(width, 2.3 * len(tables) + 0.6), layout="constrained")
    axes = fig.subplots(len(tables), len(layers), sharex="col", sharey="col", squeeze=False)
    for row, (variant, table) in enumerate(tables.items()):
        for col, layer in enumerate(layers):
            ax = axes[row][col]
            ax.set_title(f"{plain(variant)}: {plain(layer)}", fontsize="medium")
            epochs = table.get(layer, {})
            if not epochs:
                ax.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax.transAxes)
                continue
            order = sorted(epochs, key=_epoch_order)
            drawn = list(dict.fromkeys([order[0], order[-1]]))
            for epoch, color in zip(drawn, ("tab:blue", "tab:red"), strict=False):
                edges, counts = epochs[epoch]
                total = counts.sum()
                fraction = counts / total if total > 0 else counts
                ax.stairs(fraction, edges, color=color, linewidth=1.4, label=_epoch_label(epoch))
            ax.grid(alpha=0.3)
            ax.legend(fontsize="x-small")
            if col == 0:
                ax.set_ylabel("fraction of weights")
            if row == len(tables) - 1:
                ax.set_xlabel("weight")
    return fig


def _by_layer(variant: str, items: Sequence) -> dict[str, dict]:
    # layer -> epoch -> (edges, counts)
    table: dict[str, dict[int | str, tuple[np.ndarray, np.ndarray]]] = {}
    for item in items:
        layer, epoch, edges, counts = (
            _field(item, k) for k in ("layer", "epoch", "edges", "counts")
        )
        edges = np.asarray(edges, dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        if edges.ndim != 1 or counts.ndim != 1 or len(edges) != len(counts) + 1:
            raise ReglabError(
                f"Invalid value for `histograms` of weight_histograms: the histogram of layer "
                f"{layer!r} at epoch {epoch} of {variant!r} needs len(edges) == len(counts) + 1. "
                f"Received {edges.shape[0]} edges and {counts.shape[0]} counts."
            )
        epochs = table.setdefault(str(layer), {})
        epoch = epoch if isinstance(epoch, str) else int(epoch)
        if epoch in epochs:
            raise ReglabError(
                f"Invalid value for `histograms` of weight_histograms: {variant!r} has two "
                f"histograms of layer {layer!r} at epoch {epoch}; pass one run's histograms "
                "per variant."
            )
        epochs[epoch] = (edges, counts)
    return table


def _epoch_order(epoch: int | str) -> float:
    # The store names the two moments "first" and "last"; a History's epochs are numbers.
    if isinstance(epoch, str):
        return {"first": -np.inf, "last": np.inf}.get(epoch, 0.0)
    return float(epoch)


def _epoch_label(epoch: int | str) -> str:
    return f"{epoch} epoch" if isinstance(epoch, str) else f"epoch {epoch}"


def _field(item, key: str):
    return item[key] if isinstance(item, Mapping) else getattr(item, key)
