"""The textbook effect, measured: an MLP on digits overfits, and L2 or dropout narrow the gap."""

import numpy as np

from reglab import L2, fit, load_dataset, mlp


def test_l2_and_dropout_shrink_the_train_test_gap_over_three_seeds():
    data = load_dataset("digits")
    # A small training set and a wide layer make the overfitting plain within 60 epochs.
    x, y = data.x_train[:300] / 16.0, data.y_train[:300]
    xt, yt = data.x_test / 16.0, data.y_test
    seeds = [0, 1, 2]
    variants = {
        "baseline": dict(),
        "l2": dict(kernel_regularizer=L2(3e-3)),
        "dropout": dict(dropout=0.6),
    }
    names = [name for name in variants for _ in seeds]
    model = mlp(
        [256],
        dropout=[variants[n].get("dropout", 0.0) for n in names],
        kernel_regularizer=[variants[n].get("kernel_regularizer") for n in names],
    )
    histories = fit(model, x, y, epochs=60, batch_size=32, seed=seeds * 3,
                    validation_data=(xt, yt), optimizer="adam", learning_rate=3e-3)  # fmt: skip
    gaps = {}
    for name in variants:
        runs = [h for h, n in zip(histories, names) if n == name]
        gaps[name] = np.mean([h.final["loss"] - h.final["val_loss"] for h in runs])
        gaps[name] = -gaps[name]  # test loss minus train loss: the overfitting gap
    assert gaps["baseline"] > 0.1, gaps  # it overfits
    assert gaps["l2"] < gaps["baseline"], gaps
    assert gaps["dropout"] < gaps["baseline"], gaps
