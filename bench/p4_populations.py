"""P4 — populations: 16 regularization settings of one small MLP, trained at once.

Digits (64-128-10), batch 32, Adam: 16 members with different penalties and dropout
rates trained as ONE population, against the same 16 trained by 16 sequential single
``fit`` calls (the results must be equal), then how the time grows with the number of
members (1, 4, 16, 64) and with the number of samples.

Run: ``python bench/p4_populations.py`` (30 epochs) or ``--quick`` (2 epochs).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reglab
from common import arguments, interleaved, median_ratio, median_time, report, timed


def settings(members: int):
    """``members`` distinct (penalty, dropout) settings."""
    penalties = [None, reglab.L2(1e-4), reglab.L2(1e-3), reglab.L1(1e-4)]
    dropouts = [0.0, 0.2, 0.4, 0.6]
    grid = [(p, d) for p in penalties for d in dropouts]
    chosen = [grid[i % len(grid)] for i in range(members)]
    return [p for p, _ in chosen], [d for _, d in chosen]


def population(x, y, xt, yt, members, epochs):
    penalties, dropouts = settings(members)
    model = reglab.mlp([128], dropout=dropouts, kernel_regularizer=penalties)
    return reglab.fit(model, x, y, epochs=epochs, batch_size=32, seed=list(range(members)),
                      validation_data=(xt, yt))  # fmt: skip


def singles(x, y, xt, yt, members, epochs):
    penalties, dropouts = settings(members)
    return [
        reglab.fit(reglab.mlp([128], dropout=d, kernel_regularizer=p), x, y, epochs=epochs,
                   batch_size=32, seed=m, validation_data=(xt, yt))
        for m, (p, d) in enumerate(zip(penalties, dropouts))
    ]  # fmt: skip


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    epochs = 2 if args.quick else 30
    data = reglab.load_dataset("digits")
    x, xt = (data.x_train / 16).astype(np.float32), (data.x_test / 16).astype(np.float32)
    y, yt = data.y_train, data.y_test
    population(x, y, xt, yt, 16, 1)  # warm-up
    seconds = interleaved(
        {
            "singles": lambda: timed(lambda: singles(x, y, xt, yt, 16, epochs)),
            "population": lambda: timed(lambda: population(x, y, xt, yt, 16, epochs)),
        },
        args.repeats,
    )
    pop_runs, single_runs = seconds["population"], seconds["singles"]
    pop_time, single_time = statistics.median(pop_runs), statistics.median(single_runs)
    ratio = median_ratio(pop_runs, single_runs)
    together = population(x, y, xt, yt, 16, epochs)
    apart = singles(x, y, xt, yt, 16, epochs)
    difference = max(
        abs(a.rows[-1]["val_loss"] - b.rows[-1]["val_loss"]) / abs(b.rows[-1]["val_loss"])
        for a, b in zip(together, apart)
    )
    if difference > 1e-4:
        raise SystemExit(
            f"population and single fits disagree (relative difference {difference:.2e})"
        )
    rows = [
        {"what": "16 sequential single fits", "seconds": single_time, "ratio": 1.0},
        {"what": "one population of 16", "seconds": pop_time, "ratio": ratio},
    ]
    scaling = {}
    for members in [1, 4] if args.quick else [1, 4, 16, 64]:
        seconds, _ = median_time(lambda m=members: population(x, y, xt, yt, m, epochs), 1)
        scaling[str(members)] = round(seconds, 3)
        rows.append({"what": f"population of {members}", "seconds": seconds,
                     "note": f"{seconds / members * 1e3:.1f} ms per member"})  # fmt: skip
    by_samples = {}
    for factor in [1] if args.quick else [1, 2, 4]:
        xs, ys = np.concatenate([x] * factor), np.concatenate([y] * factor)
        seconds, _ = median_time(lambda xs=xs, ys=ys: population(xs, ys, xt, yt, 16, epochs), 1)
        by_samples[str(len(xs))] = round(seconds, 3)
    report(
        "P4 populations",
        rows,
        {
            "speedup_16": round(1 / ratio, 2),
            "seconds_by_members": scaling,
            "seconds_by_samples_16_members": by_samples,
            "max_relative_difference_vs_singles": difference,
            "runs_population": pop_runs,
            "runs_singles": single_runs,
            "epochs": epochs,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
