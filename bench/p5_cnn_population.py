"""P5 — a CNN population: 8 members of a small CNN with batch norm and dropout, at once.

The model, per member (channels first, ``(1, 28, 28)`` Fashion-MNIST images in [0, 1]):
Conv2D(32, 3) - BatchNorm - relu - MaxPool2D(2) - Conv2D(64, 3) - BatchNorm - relu -
MaxPool2D(2) - Flatten - Dense(128, relu) - Dropout(0.5) - Dense(10), batch 64, Adam
(lr 1e-3), one epoch. Eight members (seeds 0-7) trained as ONE ``reglab.fit``
population, against 8 sequential PyTorch loops of the same ``torch.nn.Sequential``:
idiomatic (``DataLoader(TensorDataset, shuffle=True)``, ``loss.item()`` every step,
``torch.optim.Adam``) and tight (the data as one tensor sliced by a permutation, no
per-step sync, fused Adam). Every contender trains every member on the same rows, in
steps of 64, once. reglab's time is the epoch time its History records (the final
evaluation over the training rows, which the loops do not do, is left out).

Also checks that one reglab member and a PyTorch loop started from the same weights,
fed the same batches, reach the same loss (dropout off there: the masks differ).

Run: ``python bench/p5_cnn_population.py`` (2,560 rows) or ``--quick`` (256 rows).
"""

from __future__ import annotations

import os
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
    idiomatic_training_pass,
    interleaved,
    median_ratio,
    report,
    tight_training_pass,
    timed,
)

MEMBERS = 8
BATCH = 64
# 40 steps of 64 per member. A full epoch (60,000 rows) of 8 members for 3 contenders and
# 3 rounds would take over an hour on a shared 2-core machine.
FULL_ROWS = 2_560
QUICK_ROWS = 256
WARM_UP_ROWS = 128  # one round on these first: the same shapes, so the kernels' caches are warm


def load(rows: int):
    if found_locally("fashion_mnist"):
        data = reglab.load_dataset("fashion_mnist")
        x, y = data.x_train[:rows], data.y_train[:rows]
        source = "Fashion-MNIST"
    else:
        rng = np.random.default_rng(0)  # same shapes and value range when it is absent
        x = rng.integers(0, 256, (rows, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, rows)
        source = "synthetic (Fashion-MNIST not installed)"
    return reglab.scale_images(x)[:, None], y.astype(np.int64), source


def population(rate: float = 0.5) -> reglab.nn.Sequential:
    nn = reglab.nn
    return nn.Sequential(
        [
            nn.Conv2D(32, 3), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(2),
            nn.Conv2D(64, 3), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(2),
            nn.Flatten(), nn.Dense(128, activation="relu"), nn.Dropout(rate), nn.Dense(10),
        ],
        members=MEMBERS if rate else 1,
    )  # fmt: skip


def network(rate: float = 0.5) -> torch.nn.Sequential:
    """The same CNN as plain PyTorch (5x5 maps of 64 channels before the dense layer)."""
    t = torch.nn
    return t.Sequential(
        t.Conv2d(1, 32, 3), t.BatchNorm2d(32), t.ReLU(), t.MaxPool2d(2),
        t.Conv2d(32, 64, 3), t.BatchNorm2d(64), t.ReLU(), t.MaxPool2d(2),
        t.Flatten(), t.Linear(64 * 5 * 5, 128), t.ReLU(), t.Dropout(rate), t.Linear(128, 10),
    )  # fmt: skip


def idiomatic_loops(X, Y) -> int:
    """8 members one after the other, as the tutorials write the loop; returns the steps."""
    steps = 0
    for member in range(MEMBERS):
        torch.manual_seed(member)
        net = network()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(X, Y), batch_size=BATCH, shuffle=True
        )
        steps += idiomatic_training_pass(net, opt, loader)
    return steps


def tight_epoch(net, opt, X, Y, order) -> float:
    return float(tight_training_pass(net, opt, X, Y, order, BATCH)) / len(X)


def tight_loops(X, Y) -> int:
    """8 members one after the other: resident tensors, no per-step sync, fused Adam."""
    steps = 0
    for member in range(MEMBERS):
        torch.manual_seed(member)
        net = network()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
        net.train()
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(member))
        tight_epoch(net, opt, X, Y, order)
        steps += -(-len(X) // BATCH)
    return steps


def reglab_epoch(x, y) -> tuple[float, list]:
    histories = reglab.fit(
        population(), x, y, seed=list(range(MEMBERS)), batch_size=BATCH, epochs=1,
        optimizer="adam",
    )  # fmt: skip
    return histories[0].rows[0]["epoch_time"], histories


def check_agreement(x, y) -> float:
    """One reglab member and a PyTorch loop from the same weights and batches: same loss."""
    history = reglab.fit(population(0.0), x, y, batch_size=BATCH, shuffle=False, seed=3)
    fresh = population(0.0)
    fresh.build((1, 28, 28), reglab.infer_task(y), [3])
    net = network(0.0)
    pairs = [(0, "conv2d_0"), (4, "conv2d_1"), (9, "dense_0"), (12, "dense_1")]
    with torch.no_grad():
        for index, name in pairs:
            kernel = fresh.params[f"{name}/kernel"][0]
            bias = fresh.params[f"{name}/bias"][0].reshape(-1)
            net[index].weight.copy_(kernel if kernel.ndim == 4 else kernel.T)
            net[index].bias.copy_(bias)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    X, Y = torch.as_tensor(x), torch.as_tensor(y)
    theirs = tight_epoch(net.train(), opt, X, Y, torch.arange(len(X)))
    difference = abs(history.rows[0]["data_loss"] - theirs) / theirs
    if difference > 1e-4:
        raise SystemExit(f"reglab and PyTorch disagree: {history.rows[0]['data_loss']} vs {theirs}")
    return difference


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    x, y, source = load(QUICK_ROWS if args.quick else FULL_ROWS)
    X, Y = torch.as_tensor(x), torch.as_tensor(y)
    steps: dict[str, int] = {}
    losses: list[float] = []

    def record_steps(name: str, count: int) -> None:
        if steps.setdefault(name, count) != count:
            raise SystemExit(f"{name} took {count} steps, earlier {steps[name]}")

    def ours() -> float:
        seconds, histories = reglab_epoch(x, y)
        record_steps("reglab", MEMBERS * -(-len(x) // BATCH))
        losses[:] = [h.rows[0]["data_loss"] for h in histories]
        return seconds

    w = WARM_UP_ROWS
    interleaved(
        {
            "idiomatic": lambda: timed(lambda: idiomatic_loops(X[:w], Y[:w])),
            "tight": lambda: timed(lambda: tight_loops(X[:w], Y[:w])),
            "reglab": lambda: reglab_epoch(x[:w], y[:w])[0],
        },
        1,
    )
    runs = {
        "idiomatic": lambda: timed(lambda: record_steps("idiomatic", idiomatic_loops(X, Y))),
        "tight": lambda: timed(lambda: record_steps("tight", tight_loops(X, Y))),
        "reglab": ours,
    }
    load_before = os.getloadavg()
    seconds = interleaved(runs, args.repeats)
    load_after = os.getloadavg()
    if len(set(steps.values())) != 1:
        raise SystemExit(f"the contenders took different numbers of steps: {steps}")
    if not all(np.isfinite(losses)):
        raise SystemExit(f"a member's loss is not finite: {losses}")
    idiomatic, tight, reglab_s = (
        statistics.median(seconds[k]) for k in ("idiomatic", "tight", "reglab")
    )
    speedup_idiomatic = median_ratio(seconds["idiomatic"], seconds["reglab"])
    speedup_tight = median_ratio(seconds["tight"], seconds["reglab"])
    rows = [
        {"what": "8 idiomatic PyTorch loops (DataLoader, .item())", "seconds": idiomatic,
         "ratio": 1.0},
        {"what": "8 tight PyTorch loops (fused Adam)", "seconds": tight,
         "ratio": median_ratio(seconds["tight"], seconds["idiomatic"])},
        {"what": "reglab population of 8", "seconds": reglab_s,
         "ratio": median_ratio(seconds["reglab"], seconds["idiomatic"]),
         "note": f"{speedup_idiomatic:.2f}x faster than idiomatic, {speedup_tight:.2f}x than "
                 "tight"},
    ]  # fmt: skip
    agreement = check_agreement(x[:128], y[:128])
    extra = {
        "data": source,
        "training_rows": len(x),
        "steps_per_contender": steps["reglab"],
        "epoch": f"one epoch of {len(x)} rows per member after a warm-up round on {w} rows; "
        f"contenders interleaved, median of {args.repeats} rounds",
        "speedup_vs_idiomatic": round(speedup_idiomatic, 3),
        "speedup_vs_tight": round(speedup_tight, 3),
        "round_speedups_vs_idiomatic": [
            round(a / b, 3) for a, b in zip(seconds["idiomatic"], seconds["reglab"])
        ],
        "round_speedups_vs_tight": [
            round(a / b, 3) for a, b in zip(seconds["tight"], seconds["reglab"])
        ],
        "seconds": seconds,
        "load_average_1_5_15_min_before_and_after": [load_before, load_after],
        "reglab_member_losses": [round(v, 4) for v in losses],
        "agreement_max_relative_difference": agreement,
    }
    report("P5 CNN population", rows, extra, args.json)


if __name__ == "__main__":
    main()
