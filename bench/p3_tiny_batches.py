"""P3 — tiny batches, many steps: the Keras book's Boston K-fold (13-64-64-1, RMSprop, batch 1).

Four folds x EPOCHS epochs on 404 samples, trained (a) as four sequential idiomatic PyTorch
loops (DataLoader with batch size 1, nn.Sequential, torch.optim.RMSprop, the MAE logged
with ``.item()`` per step as the book's loop does) and (b) by reglab as one population of
four members. Keras' time is added where Keras is installed. Per-step overhead dominates
this workload: the report gives microseconds per step for each.

Run: ``python bench/p3_tiny_batches.py`` (100 epochs) or ``--quick`` (3 epochs).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reglab
from common import (
    arguments,
    found_locally,
    interleaved,
    keras_available,
    median_ratio,
    median_time,
    report,
    timed,
)


def data():
    """Boston housing when its file is present, else a regression of the same shape."""
    if found_locally("boston_housing"):
        d = reglab.load_dataset("boston_housing")
        return d.x_train.astype(np.float32), d.y_train.astype(np.float32), "Boston housing"
    else:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(404, 13)).astype(np.float32) * rng.uniform(0.5, 50, 13).astype(
            np.float32
        )
        w = rng.normal(size=13).astype(np.float32) / x.std(0)
        y = (x @ w + 22 + rng.normal(size=404)).astype(np.float32)
        return x, y, "synthetic (Boston housing file not present)"


def idiomatic_kfold(x, y, folds, epochs) -> None:
    for fold in folds:
        mean, std = x[fold.train].mean(0), x[fold.train].std(0)
        xs = torch.tensor((x - mean) / std)
        ys = torch.tensor(y).unsqueeze(1)
        net = torch.nn.Sequential(
            torch.nn.Linear(13, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
            torch.nn.Linear(64, 1),
        )  # fmt: skip
        opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)
        train = torch.utils.data.TensorDataset(xs[fold.train], ys[fold.train])
        loader = torch.utils.data.DataLoader(train, batch_size=1, shuffle=True)
        for _ in range(epochs):
            mae = 0.0
            for xb, yb in loader:
                opt.zero_grad()
                out = net(xb)
                loss = torch.nn.functional.mse_loss(out, yb)
                loss.backward()
                opt.step()
                mae += (out - yb).abs().mean().item()
            with torch.no_grad():
                (net(xs[fold.validation]) - ys[fold.validation]).abs().mean().item()


def reglab_kfold(x, y, epochs):
    return reglab.cross_validate(
        reglab.mlp([64, 64]), x, y, folds=4, epochs=epochs, batch_size=1, optimizer="rmsprop"
    )


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    epochs = 3 if args.quick else 100
    x, y, source = data()
    folds = reglab.kfold(len(x), folds=4, seed=0)
    steps = sum(len(f.train) for f in folds) * epochs
    reglab_kfold(x, y, 1)  # warm-up
    seconds = interleaved(
        {
            "idiomatic": lambda: timed(lambda: idiomatic_kfold(x, y, folds, epochs)),
            "reglab": lambda: timed(lambda: reglab_kfold(x, y, epochs)),
        },
        args.repeats,
    )
    runs_base, runs_ours = seconds["idiomatic"], seconds["reglab"]
    idiomatic, ours = statistics.median(runs_base), statistics.median(runs_ours)
    ratio = median_ratio(runs_ours, runs_base)
    rows = [
        {"what": "4 sequential idiomatic PyTorch loops", "seconds": idiomatic, "ratio": 1.0,
         "note": f"{idiomatic / steps * 1e6:.0f} us/step"},
        {"what": "reglab, 4 folds as one population", "seconds": ours, "ratio": ratio,
         "note": f"{ours / (steps / 4) * 1e6:.0f} us/population step"},
    ]  # fmt: skip
    if keras_available() and not args.quick:
        rows.append(keras_row(x, y, folds, epochs, idiomatic))
    cv = reglab_kfold(x, y, epochs)
    report(
        "P3 tiny batches",
        rows,
        {
            "data": source,
            "speedup": round(1 / ratio, 2),
            "epochs": epochs,
            "runs_idiomatic": runs_base,
            "runs_reglab": runs_ours,
            "reglab_val_mae": round(float(cv.score("val_mae").mean), 3),
        },
        args.json,
    )


def keras_row(x, y, folds, epochs, idiomatic) -> dict:
    import keras

    def run():
        for fold in folds:
            mean, std = x[fold.train].mean(0), x[fold.train].std(0)
            model = keras.Sequential(
                [keras.Input((13,)), keras.layers.Dense(64, activation="relu"),
                 keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)]
            )  # fmt: skip
            model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
            model.fit((x[fold.train] - mean) / std, y[fold.train], epochs=epochs, batch_size=1,
                      validation_data=((x[fold.validation] - mean) / std, y[fold.validation]),
                      verbose=0)  # fmt: skip

    seconds, _ = median_time(run, 1)
    return {"what": f"Keras fit x4 ({keras.backend.backend()})", "seconds": seconds,
            "ratio": seconds / idiomatic}  # fmt: skip


if __name__ == "__main__":
    main()
