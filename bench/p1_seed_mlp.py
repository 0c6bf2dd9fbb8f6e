"""P1 — the seed MLP: 784-1000-10, relu/softmax, Adam, batch 64, Fashion-MNIST.

Measures one epoch after a warm-up epoch, validation on the test set included, for:
an idiomatic PyTorch loop (DataLoader over a TensorDataset, nn.Sequential, torch.optim.Adam,
``loss.item()`` per step as most tutorials log it), a tight PyTorch loop (tensors sliced
by a permutation, fused Adam, no per-step sync), reglab's ``fit``, and Keras' ``fit`` when
Keras is installed. Also measures this machine's GEMM rate on the step's own shapes (the
roofline: the epoch's matmuls alone) and where reglab's epoch time goes (profiled).

Run: ``python bench/p1_seed_mlp.py`` (full) or ``--quick`` (tiny, checks agreement).
"""

from __future__ import annotations

import statistics
import sys
import time
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


def load(quick: bool):
    if found_locally("fashion_mnist"):
        data = reglab.load_dataset("fashion_mnist")
        x, y = data.x_train.reshape(len(data.x_train), -1), data.y_train
        xt, yt = data.x_test.reshape(len(data.x_test), -1), data.y_test
        source = "Fashion-MNIST"
    else:
        rng = np.random.default_rng(0)  # same shapes and value range when it is absent
        x = rng.integers(0, 256, (60000, 784), dtype=np.uint8)
        y = rng.integers(0, 10, 60000)
        xt = rng.integers(0, 256, (10000, 784), dtype=np.uint8)
        yt = rng.integers(0, 10, 10000)
        source = "synthetic (Fashion-MNIST not installed)"
    if quick:
        x, y, xt, yt = x[:2048], y[:2048], xt[:512], yt[:512]
    x, xt = reglab.scale_images(x), reglab.scale_images(xt)
    return x, y.astype(np.int64), xt, yt.astype(np.int64), source


def sequential(hidden: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
    )


def idiomatic_epoch(net, opt, loader, xt, yt) -> None:
    net.train()
    running = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        running += loss.item()
    net.eval()
    with torch.no_grad():
        torch.nn.functional.cross_entropy(net(xt), yt).item()


def tight_epoch(net, opt, x, y, xt, yt, batch: int, shuffle: bool = True) -> list[float]:
    order = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
    losses = []
    for start in range(0, len(x), batch):
        rows = order[start : start + batch]
        loss = torch.nn.functional.cross_entropy(net(x[rows]), y[rows])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach() * len(rows))
    with torch.no_grad():
        torch.nn.functional.cross_entropy(net(xt), yt)
    return [float(torch.stack(losses).sum() / len(x))]


def roofline_seconds(n_train: int, n_test: int, hidden: int, batch: int, reps: int = 50) -> float:
    """Seconds of the epoch's matmuls alone, timed on this machine with the step's shapes."""
    shapes = [
        (batch, 784, hidden),  # forward, layer 1
        (batch, hidden, 10),  # forward, layer 2
        (784, batch, hidden),  # gradient of W1
        (hidden, batch, 10),  # gradient of W2
        (batch, 10, hidden),  # gradient into the hidden layer
    ]
    step = 0.0
    for m, k, n in shapes:
        a, b = torch.randn(m, k), torch.randn(k, n)
        torch.mm(a, b)
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        step += (time.perf_counter() - start) / reps
    a, w1, w2 = torch.randn(n_test, 784), torch.randn(784, hidden), torch.randn(hidden, 10)
    start = time.perf_counter()
    torch.mm(torch.mm(a, w1), w2)
    evaluation = time.perf_counter() - start
    return step * -(-n_train // batch) + evaluation


def where_time_goes(x, y, xt, yt, hidden: int) -> dict[str, float]:
    """Profile one reglab epoch and group the operators' self time by what they do."""
    from torch.profiler import ProfilerActivity, profile

    model = reglab.mlp([hidden])
    reglab.fit(model, x, y, epochs=1, batch_size=64, validation_data=(xt, yt))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        reglab.fit(model, x, y, epochs=1, batch_size=64, validation_data=(xt, yt))
    groups = {"matmul": 0.0, "optimizer": 0.0, "data movement": 0.0, "elementwise/loss": 0.0}
    for event in prof.key_averages():
        name, seconds = event.key, event.self_cpu_time_total / 1e6
        if any(op in name for op in ("mm", "addmm", "bmm", "linear")):
            groups["matmul"] += seconds
        elif "adam" in name or "foreach" in name:
            groups["optimizer"] += seconds
        elif any(op in name for op in ("index", "copy", "randperm", "gather", "cat", "to")):
            groups["data movement"] += seconds
        elif name.startswith("aten::"):
            groups["elementwise/loss"] += seconds
    total = sum(groups.values())
    return {key: round(value / total, 3) for key, value in groups.items()}


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    hidden = 64 if args.quick else 1000
    x, y, xt, yt, source = load(args.quick)
    X, Y, XT, YT = map(torch.as_tensor, (x, y, xt, yt))

    torch.manual_seed(0)
    net = sequential(hidden)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, Y), batch_size=64, shuffle=True
    )
    tight_net = sequential(hidden)
    tight_opt = torch.optim.Adam(tight_net.parameters(), lr=1e-3, fused=True)
    model = reglab.mlp([hidden])

    def reglab_epoch() -> float:
        # The epoch's time as the History records it: shuffle, steps, validation.
        history = reglab.fit(model, x, y, epochs=1, batch_size=64, validation_data=(xt, yt))
        return history.rows[0]["epoch_time"]

    runs = {
        "idiomatic": lambda: timed(lambda: idiomatic_epoch(net, opt, loader, XT, YT)),
        "tight": lambda: timed(lambda: tight_epoch(tight_net, tight_opt, X, Y, XT, YT, 64)),
        "reglab": reglab_epoch,
    }
    interleaved(runs, 1)  # warm-up epoch of each
    seconds = interleaved(runs, args.repeats)
    idiomatic, tight, ours = (
        statistics.median(seconds[k]) for k in ("idiomatic", "tight", "reglab")
    )
    roof = roofline_seconds(len(x), len(xt), hidden, 64)
    rows = [
        {"what": "PyTorch, idiomatic (DataLoader)", "seconds": idiomatic, "ratio": 1.0},
        {"what": "PyTorch, tight loop + fused Adam", "seconds": tight,
         "ratio": median_ratio(seconds["tight"], seconds["idiomatic"])},
        {"what": "reglab fit", "seconds": ours,
         "ratio": median_ratio(seconds["reglab"], seconds["idiomatic"])},
        {"what": "matmul roofline (this machine)", "seconds": roof, "ratio": roof / idiomatic},
    ]  # fmt: skip
    if keras_available() and not args.quick:
        rows.append(keras_row(x, y, xt, yt, hidden, idiomatic, args.repeats))
    agreement = check_agreement(x[:1024], y[:1024], xt[:256], yt[:256])
    extra = {
        "data": source,
        "epoch": "one epoch after a warm-up, validation on the test set included; contenders "
        f"interleaved, median of {args.repeats} rounds",
        "reglab_vs_idiomatic": round(rows[2]["ratio"], 3),
        "fraction_of_roofline": round(roof / ours, 3),
        "seconds": seconds,
        "agreement_max_relative_difference": agreement,
    }
    if not args.quick:
        extra["reglab_time_by_kind"] = where_time_goes(x, y, xt, yt, hidden)
    report("P1 seed MLP", rows, extra, args.json)


def check_agreement(x, y, xt, yt) -> float:
    """reglab and a plain PyTorch loop from the same weights, same batches: same losses."""
    model = reglab.mlp([32])
    history = reglab.fit(model, x, y, epochs=1, batch_size=64, shuffle=False, seed=3)
    fresh = reglab.mlp([32])
    fresh.build(784, reglab.infer_task(y), [3])
    net = sequential(32)
    for layer, name in ((net[0], "dense_0"), (net[2], "output")):
        layer.weight.data = fresh.params[f"{name}/kernel"][0].detach().T.clone()
        layer.bias.data = fresh.params[f"{name}/bias"][0, 0].detach().clone()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    X, Y, XT, YT = map(torch.as_tensor, (x, y, xt, yt))
    theirs = tight_epoch(net, opt, X, Y, XT, YT, 64, shuffle=False)[0]
    difference = abs(history.rows[0]["data_loss"] - theirs) / theirs
    if difference > 1e-4:
        raise SystemExit(f"reglab and PyTorch disagree: {history.rows[0]['data_loss']} vs {theirs}")
    return difference


def keras_row(x, y, xt, yt, hidden, idiomatic, repeats) -> dict:
    import keras

    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(hidden, activation="relu"),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=64, validation_data=(xt, yt), verbose=0)
    seconds, _ = median_time(
        lambda: model.fit(x, y, epochs=1, batch_size=64, validation_data=(xt, yt), verbose=0),
        repeats,
    )
    backend = keras.backend.backend()
    return {"what": f"Keras fit ({backend})", "seconds": seconds, "ratio": seconds / idiomatic}


if __name__ == "__main__":
    main()
