"""Each figure function on small plain data: the axes, lines and labels a reader relies on."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from reglab.errors import ReglabError
from reglab.report import kfold_validation_curve, learning_curves, weight_histograms


def ema(values, factor):
    """The smoothing of Chollet's book, written out: previous * f + point * (1 - f)."""
    out = [values[0]]
    for v in values[1:]:
        out.append(out[-1] * factor + v * (1 - factor))
    return np.array(out)


def line(ax, label):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def test_learning_curves_of_one_history_has_a_loss_and_a_metric_panel(tiny_study):
    fig = learning_curves(tiny_study.runs[0].history)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["run: loss", "run: accuracy"]
    assert fig.axes[1].get_ylabel() == "accuracy (%)"
    assert fig.axes[0].get_xlabel() == "epoch"


def test_learning_curves_plot_the_mean_over_runs_raw_and_smoothed(tiny_study):
    histories = [r.history for r in tiny_study.runs if r.variant == "baseline"]
    fig = learning_curves({"baseline": histories}, smoothing=0.5)
    loss_ax, metric_ax = fig.axes
    mean = np.mean([[row["val_loss"] for row in h] for h in histories], axis=0)
    np.testing.assert_allclose(line(loss_ax, "validation (raw)").get_ydata(), mean)
    np.testing.assert_allclose(line(loss_ax, "validation").get_ydata(), ema(mean, 0.5))
    accuracy = 100 * np.mean([[row["accuracy"] for row in h] for h in histories], axis=0)
    np.testing.assert_allclose(line(metric_ax, "train (raw)").get_ydata(), accuracy)


def test_learning_curves_mark_the_lowest_validation_loss_as_best(tiny_study):
    fig = learning_curves({"baseline": [tiny_study.runs[0].history]})
    assert line(fig.axes[0], "best epoch").get_xdata()[0] == 5  # VAL_LOSS is lowest at epoch 5


def test_learning_curves_mark_the_stopped_epoch_when_given(tiny_study):
    fig = learning_curves({"es": [tiny_study.runs[0].history]}, stopped_epochs={"es": 8})
    assert line(fig.axes[1], "stopped").get_xdata()[0] == 8


def test_learning_curves_one_row_per_variant_sharing_axes(tiny_study):
    runs = {"a": [tiny_study.runs[0].history], "b": [tiny_study.runs[3].history]}
    fig = learning_curves(runs)
    assert [ax.get_title() for ax in fig.axes] == [
        "a: loss",
        "a: accuracy",
        "b: loss",
        "b: accuracy",
    ]
    assert fig.axes[0].get_ylim() == fig.axes[2].get_ylim()


def test_learning_curves_use_mae_for_regression(kfold_study):
    fig = learning_curves(kfold_study.runs[0].history)
    assert fig.axes[1].get_title() == "run: mae"
    assert fig.axes[1].get_ylabel() == "MAE"


def test_learning_curves_refuse_rows_without_loss():
    with pytest.raises(ReglabError, match="a run of 'run' has no History rows with a 'loss'"):
        learning_curves([{"epoch": 1, "accuracy": 0.5}])


def test_learning_curves_refuse_no_variants():
    with pytest.raises(ReglabError, match="expected at least one variant with at least one run"):
        learning_curves({})


def test_learning_curves_refuse_smoothing_of_one(tiny_study):
    with pytest.raises(
        ReglabError, match=r"`smoothing` of learning_curves: expected a float in \[0, 1\)"
    ):
        learning_curves(tiny_study.runs[0].history, smoothing=1.0)


def test_weight_histograms_grid_is_variants_by_layers(tiny_study):
    fig = weight_histograms({"baseline": tiny_study.runs[0].histograms,
                             "l2 0.01": tiny_study.runs[3].histograms})  # fmt: skip
    titles = [ax.get_title() for ax in fig.axes]
    assert sorted(titles) == sorted(
        ["baseline: dense_0", "baseline: dense_1", "l2 0.01: dense_0", "l2 0.01: dense_1"]
    )
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["first epoch", "last epoch"]


def test_weight_histograms_show_fractions_of_the_weights(tiny_study):
    fig = weight_histograms({"baseline": tiny_study.runs[0].histograms})
    first = tiny_study.runs[0].histograms[0]
    stairs = fig.axes[0].patches[0]
    heights, edges = stairs.get_data()[:2]
    np.testing.assert_allclose(heights, np.array(first.counts) / np.sum(first.counts))
    np.testing.assert_allclose(edges, first.edges)


def test_weight_histograms_share_axes_down_a_layer(tiny_study):
    fig = weight_histograms(
        {"a": tiny_study.runs[0].histograms, "b": tiny_study.runs[3].histograms}
    )
    a_dense0, b_dense0 = (ax for ax in fig.axes if ax.get_title().endswith("dense_0"))
    assert a_dense0.get_xlim() == b_dense0.get_xlim()
    assert a_dense0.get_ylim() == b_dense0.get_ylim()


def test_weight_histograms_accept_numbered_epochs():
    h = [{"layer": "d", "epoch": e, "edges": [0.0, 1.0, 2.0], "counts": [1, 3]} for e in (1, 7, 3)]
    legend = weight_histograms({"v": h}).axes[0].get_legend().get_texts()
    assert [t.get_text() for t in legend] == ["epoch 1", "epoch 7"]


def test_weight_histograms_refuse_two_runs_mixed(tiny_study):
    mixed = tiny_study.runs[0].histograms + tiny_study.runs[1].histograms
    with pytest.raises(
        ReglabError, match="'v' has two histograms of layer 'dense_0' at epoch first"
    ):
        weight_histograms({"v": mixed})


def test_weight_histograms_refuse_edges_not_matching_counts():
    h = [{"layer": "d", "epoch": 1, "edges": [0.0, 1.0], "counts": [1, 3]}]
    with pytest.raises(ReglabError, match=r"needs len\(edges\) == len\(counts\) \+ 1"):
        weight_histograms({"v": h})


def test_weight_histograms_refuse_nothing_to_draw():
    with pytest.raises(
        ReglabError, match="expected at least one variant with at least one histogram"
    ):
        weight_histograms({})


def test_dollar_signs_in_names_are_drawn_as_text(tiny_study):
    fig = weight_histograms({"cost $5": tiny_study.runs[0].histograms})
    fig.savefig(io.BytesIO(), format="png")  # unescaped, an odd "$" makes mathtext raise
    assert fig.axes[0].get_title() == r"cost \$5: dense_0"


def test_kfold_curve_is_the_smoothed_mean_over_folds():
    folds = [[3.0, 2.0, 1.5, 1.4, 1.3], [2.8, 2.2, 1.6, 1.5, 1.2]]
    ax = kfold_validation_curve(folds, smoothing=0.9).axes[0]
    mean = np.mean(folds, axis=0)
    np.testing.assert_allclose(line(ax, "mean over folds (raw)").get_ydata(), mean)
    np.testing.assert_allclose(line(ax, "mean over folds").get_ydata(), ema(mean, 0.9))
    assert list(line(ax, "mean over folds").get_xdata()) == [1, 2, 3, 4, 5]


def test_kfold_curve_drops_the_first_ten_epochs_of_a_long_run():
    rng = np.random.default_rng(0)
    folds = (5.0 / np.arange(1, 51) + rng.uniform(0, 0.1, (4, 50))).tolist()
    ax = kfold_validation_curve({"baseline": folds}).axes[0]
    smoothed = line(ax, "baseline")
    assert smoothed.get_xdata()[0] == 11
    np.testing.assert_allclose(smoothed.get_ydata(), ema(np.mean(folds, axis=0)[10:], 0.9))
    assert "first 10 epochs dropped" in ax.get_title()


def test_kfold_curve_refuses_skipping_every_epoch():
    with pytest.raises(ReglabError, match="expected fewer than the 2 epochs of the curves"):
        kfold_validation_curve([[1.0, 2.0]], skip_first=2)


def test_kfold_curve_refuses_no_folds():
    with pytest.raises(ReglabError, match="expected at least one fold's curve per variant"):
        kfold_validation_curve({"v": []})


def test_kfold_curve_refuses_a_negative_skip():
    with pytest.raises(
        ReglabError, match="`skip_first` of kfold_validation_curve: expected an int >= 0"
    ):
        kfold_validation_curve([[1.0, 2.0]], skip_first=-1)


def test_figures_are_not_left_open_in_pyplot(tiny_study):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    learning_curves(tiny_study.runs[0].history)
    weight_histograms({"v": tiny_study.runs[0].histograms})
    kfold_validation_curve([[1.0, 2.0]])
    assert plt.get_fignums() == before
