"""P1 — the seed MLP: 784-1000-10, relu/softmax, Adam, batch 64, Fashion-MNIST.

Measures one epoch after a warm-up epoch, validation on the test set included, for:
an idiomatic PyTorch loop (DataLoader over a TensorDataset, nn.Sequential, torch.optim.Adam,
``loss.item()`` per step as most tutorials log it), a tight PyTorch loop (tensors sliced
by a permutation, fused Adam, no per-step sync), reglab's ``fit``, and Keras' ``fit`` when
Keras is installed in ``bench/.keras-venv`` (``bash bench/keras_env.sh``): Keras 3 on JAX,
TensorFlow and PyTorch. Every contender runs in its own process (``p1_contenders.py``) on
the very same arrays, and the rounds are interleaved. Two yardsticks run in every round
beside them, each in its own process: the roofline (the epoch's matrix products, each
shape timed alone at its best rate) and the floor (those products and Adam's update in a
loop, nothing else: what any implementation of this step pays here). Also where reglab's
epoch time goes (profiled).

Run: ``python bench/p1_seed_mlp.py`` (full) or ``--quick`` (tiny, checks agreement).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reglab
from common import (
    arguments,
    found_locally,
    interleaved,
    median_ratio,
    report,
    tight_training_pass,
)
from p1_contenders import torch_sequential


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


KERAS_PYTHON = Path(__file__).resolve().parent / ".keras-venv" / "bin" / "python"
KERAS_BACKENDS = ("jax", "tensorflow", "torch")
PEER = "keras/jax"  # the fastest peer a user would pick instead; every ratio is also to it


class Contender:
    """One contender in its own process (``p1_contenders.py``), one epoch per request."""

    def __init__(self, name: str, python: Path, data: Path, hidden: int, env: dict) -> None:
        script = Path(__file__).resolve().parent / "p1_contenders.py"
        self.process = subprocess.Popen(
            [str(python), str(script), name.split("/")[0], str(data), str(hidden)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env={**os.environ, **env},
        )  # fmt: skip
        self.walls: list[float] = []
        self.description = self._answer()["ready"]

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the contender exited with status {self.process.wait()}")
        return json.loads(line)

    def epoch(self) -> float:
        self.process.stdin.write("epoch\n")
        self.process.stdin.flush()
        answer = self._answer()
        self.walls.append(answer["wall"])
        return answer["epoch"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=60)


def start_contenders(data: Path, hidden: int, quick: bool, chosen) -> tuple[dict, list[str]]:
    """PyTorch's loops and reglab from this Python; Keras on each backend from the bench
    environment when it exists (quick mode, which the test suite runs, leaves Keras out).
    ``chosen`` limits the contenders to those names (the idiomatic loop and the two
    yardsticks always run: every ratio is to the first, every share to the others)."""
    contenders, skipped = {}, []
    for name in ("idiomatic", "tight", "reglab", *YARDSTICKS):
        if name in ("idiomatic", *YARDSTICKS) or chosen is None or name in chosen:
            contenders[name] = Contender(name, Path(sys.executable), data, hidden, {})
    if quick:
        return contenders, skipped
    if not KERAS_PYTHON.exists():
        return contenders, ["Keras: no bench/.keras-venv (make it with bash bench/keras_env.sh)"]
    for backend in KERAS_BACKENDS:
        if chosen is not None and f"keras/{backend}" not in chosen:
            continue
        try:
            contenders[f"keras/{backend}"] = Contender(
                "keras", KERAS_PYTHON, data, hidden,
                {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )  # fmt: skip
        except RuntimeError as error:
            skipped.append(f"keras/{backend}: {error}")
    return contenders, skipped


YARDSTICKS = ("roofline", "floor")  # measured in every round, beside the contenders
LABELS = {
    "idiomatic": "PyTorch, idiomatic (DataLoader, loss.item())",
    "tight": "PyTorch, tight loop + fused Adam",
    "reglab": "reglab fit",
    "roofline": "matmul roofline (each product alone)",
    "floor": "floor: the products + Adam in a loop",
}


def where_time_goes(x, y, xt, yt, hidden: int) -> dict[str, float]:
    """Seconds of one reglab epoch by what they do, from the operators' self time.

    The engine names its validation pass and its final evaluation (after the last epoch,
    outside the epoch's time) with ``record_function``; an operator inside either counts
    there, every other one by its name. What the operators do not account for of the
    epoch is Python and dispatch. The profiler's own cost per operator (about a
    microsecond) inflates the small operators, so the shares are approximate.
    """
    from torch.profiler import ProfilerActivity, profile

    model = reglab.mlp([hidden])
    reglab.fit(model, x, y, epochs=1, batch_size=64, validation_data=(xt, yt))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        history = reglab.fit(model, x, y, epochs=1, batch_size=64, validation_data=(xt, yt))
    kinds = ("training matmuls", "Adam", "validation pass", "gathers", "elementwise and loss")
    groups = dict.fromkeys(kinds, 0.0)
    for event in prof.events():
        if not event.name.startswith("aten::"):
            continue
        region, parent = None, event.cpu_parent
        while parent is not None:
            if parent.name.startswith("reglab."):
                region = parent.name
            parent = parent.cpu_parent
        seconds, name = event.self_cpu_time_total / 1e6, event.name
        if region == "reglab.final_evaluation":
            continue  # after the epoch
        if region == "reglab.validation":
            groups["validation pass"] += seconds
        elif name in ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"):
            groups["training matmuls"] += seconds
        elif "adam" in name:
            groups["Adam"] += seconds
        elif name in ("aten::index_select", "aten::index", "aten::take", "aten::randperm"):
            groups["gathers"] += seconds
        else:
            groups["elementwise and loss"] += seconds
    epoch = history.rows[0]["epoch_time"]
    groups["Python and dispatch"] = max(epoch - sum(groups.values()), 0.0)
    groups["epoch (profiled)"] = epoch
    return {key: round(value, 3) for key, value in groups.items()}


def main() -> None:
    args = arguments(
        __doc__.splitlines()[0],
        contenders=dict(
            default=None, type=lambda text: text.split(","),
            help="comma-separated contenders to run (idiomatic always runs): "
            "tight, reglab, keras/jax, keras/tensorflow, keras/torch",
        ),
    )  # fmt: skip
    hidden = 64 if args.quick else 1000
    x, y, xt, yt, source = load(args.quick)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "p1.npz"
        np.savez(data, x=x, y=y, xt=xt, yt=yt)  # the very same arrays for every contender
        contenders, skipped = start_contenders(data, hidden, args.quick, args.contenders)
        try:
            runs = {name: contender.epoch for name, contender in contenders.items()}
            seconds = interleaved(runs, args.repeats)
        finally:
            for contender in contenders.values():
                contender.close()
    load_after = os.getloadavg()
    rows = []
    for name, contender in contenders.items():
        row = {
            "what": LABELS[name] if name in LABELS else f"Keras fit ({name.split('/')[-1]})",
            "seconds": statistics.median(seconds[name]),
            "ratio": median_ratio(seconds[name], seconds["idiomatic"]),
            "runs_on": contender.description,
            "wall_seconds": statistics.median(contender.walls),
        }
        if name in YARDSTICKS:
            del row["wall_seconds"]
        if PEER in seconds:
            row["note"] = f"{median_ratio(seconds[name], seconds[PEER]):.2f}x Keras/JAX's time"
        rows.append(row)
    agreement = check_agreement(x[:1024], y[:1024])
    extra = {
        "data": source,
        "epoch": "one epoch after a warm-up, validation on the test set included; each "
        f"contender in its own process, interleaved, median of {args.repeats} rounds",
        "seconds": seconds,
        "load_average": {"before": load_before, "after": load_after},
        "agreement_max_relative_difference": agreement,
    }
    if "reglab" in seconds:
        extra["reglab_vs_idiomatic"] = round(
            median_ratio(seconds["reglab"], seconds["idiomatic"]), 3
        )
        # Shares are medians of per-round ratios, as every ratio here: the roofline and
        # the floor are measured in each round, at that round's speed.
        extra["fraction_of_roofline"] = round(
            median_ratio(seconds["roofline"], seconds["reglab"]), 3
        )
    extra["floor_fraction_of_roofline"] = round(
        median_ratio(seconds["roofline"], seconds["floor"]), 3
    )
    if PEER in seconds and "reglab" in seconds:
        extra["reglab_vs_keras_jax"] = round(median_ratio(seconds["reglab"], seconds[PEER]), 3)
    if skipped:
        extra["skipped"] = skipped
    if not args.quick and "reglab" in seconds:
        extra["reglab_epoch_seconds_by_kind"] = where_time_goes(x, y, xt, yt, hidden)
    report("P1 seed MLP", rows, extra, args.json)


def check_agreement(x, y) -> float:
    """reglab and a plain PyTorch loop from the same weights, same batches: same losses."""
    model = reglab.mlp([32])
    history = reglab.fit(model, x, y, epochs=1, batch_size=64, shuffle=False, seed=3)
    fresh = reglab.mlp([32])
    fresh.build(784, reglab.infer_task(y), [3])
    net = torch_sequential(784, 32)
    for layer, name in ((net[0], "dense_0"), (net[2], "output")):
        layer.weight.data = fresh.params[f"{name}/kernel"][0].detach().T.clone()
        layer.bias.data = fresh.params[f"{name}/bias"][0, 0].detach().clone()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    X, Y = torch.as_tensor(x), torch.as_tensor(y)
    # The same batches in the same order (no shuffling).
    theirs = float(tight_training_pass(net, opt, X, Y, torch.arange(len(X)), 64)) / len(X)
    difference = abs(history.rows[0]["data_loss"] - theirs) / theirs
    if difference > 1e-4:
        raise SystemExit(f"reglab and PyTorch disagree: {history.rows[0]['data_loss']} vs {theirs}")
    return difference


if __name__ == "__main__":
    main()
