"""P1's contenders, each served from its own process, one epoch per request.

``python bench/p1_contenders.py NAME DATA.npz`` loads the arrays P1 saved (the same
scaled Fashion-MNIST for everyone), builds the contender, trains one warm-up epoch
(Keras compiles its step then), prints ``ready`` and then, for every ``epoch`` line on
its standard input, trains one more epoch and prints one JSON line: ``epoch`` (seconds
from the epoch's start to the end of its validation pass, which every contender reports
alike) and ``wall`` (the whole call, setup included). ``quit`` ends it.

A process per contender keeps their allocators, thread pools and JIT caches apart; the
driver (``p1_seed_mlp.py``) interleaves the rounds. NAME is ``idiomatic``, ``tight``,
``reglab``, ``keras`` (its backend from ``KERAS_BACKEND``; run with the Python of
``bench/.keras-venv``, made by ``bench/keras_env.sh``), or one of the two yardsticks
measured in every round beside them: ``roofline`` (the epoch's matrix products alone)
and ``floor`` (those products and Adam's update, in a loop, nothing else). Keras imports
nothing of reglab or of PyTorch unless its backend is torch.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

BATCH = 64


def torch_sequential(features: int, hidden: int):
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
    )


def idiomatic(data, hidden: int):
    """As most PyTorch tutorials write it: DataLoader, optim.Adam, ``loss.item()`` per step."""
    import torch

    from common import idiomatic_training_pass

    x, y, xt, yt = (torch.as_tensor(data[k]) for k in ("x", "y", "xt", "yt"))
    torch.manual_seed(0)
    net = torch_sequential(x.shape[1], hidden)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True
    )

    def epoch() -> float:
        start = time.perf_counter()
        idiomatic_training_pass(net, opt, loader)
        net.eval()
        with torch.no_grad():
            torch.nn.functional.cross_entropy(net(xt), yt).item()
        return time.perf_counter() - start

    return epoch


def tight(data, hidden: int):
    """Resident tensors sliced by a permutation, fused Adam, no per-step host sync."""
    import torch

    from common import tight_training_pass

    x, y, xt, yt = (torch.as_tensor(data[k]) for k in ("x", "y", "xt", "yt"))
    torch.manual_seed(0)
    net = torch_sequential(x.shape[1], hidden)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)

    def epoch() -> float:
        start = time.perf_counter()
        total = tight_training_pass(net, opt, x, y, torch.randperm(len(x)), BATCH)
        with torch.no_grad():
            torch.nn.functional.cross_entropy(net(xt), yt).item()
        float(total)
        return time.perf_counter() - start

    return epoch


def reglab_fit(data, hidden: int):
    """``reglab.fit`` for one epoch; its History's epoch time is the epoch."""
    import reglab

    model = reglab.mlp([hidden])
    x, y, xt, yt = (data[k] for k in ("x", "y", "xt", "yt"))

    def epoch() -> float:
        history = reglab.fit(model, x, y, epochs=1, batch_size=BATCH, validation_data=(xt, yt))
        return history.rows[0]["epoch_time"]

    return epoch


def keras_fit(data, hidden: int):
    """Keras 3 ``fit`` with its defaults (Adam, shuffling), the epoch timed by a callback."""
    import keras

    x, y, xt, yt = (data[k] for k in ("x", "y", "xt", "yt"))
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((x.shape[1],)), keras.layers.Dense(hidden, activation="relu"),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class EpochTimer(keras.callbacks.Callback):
        # on_epoch_end comes after the validation pass, as reglab's epoch_time.
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = EpochTimer()

    def epoch() -> float:
        model.fit(
            x, y, epochs=1, batch_size=BATCH, validation_data=(xt, yt), verbose=0,
            callbacks=[timer],
        )  # fmt: skip
        return timer.seconds

    return epoch


def _step_shapes(hidden: int, outputs: int = 10) -> list[tuple[int, int, int]]:
    """The (m, k, n) of every matrix product one training step of the seed MLP makes."""
    return [
        (BATCH, 784, hidden),  # forward, layer 1
        (BATCH, hidden, outputs),  # forward, layer 2
        (784, BATCH, hidden),  # gradient of W1
        (hidden, BATCH, outputs),  # gradient of W2
        (BATCH, outputs, hidden),  # gradient into the hidden layer
    ]


def roofline(data, hidden: int, reps: int = 50, trials: int = 5):
    """The epoch's matrix products, each shape timed alone at its best rate this round.

    A shape's time is the best of ``trials`` means of ``reps`` calls (the machine's speed
    drifts by up to 2x over seconds, and one trial caught at a slow moment would make
    the roofline 2x too slow); the epoch's is the step's sum times its steps, plus the
    validation pass's two products. Each round measures it afresh, beside the others.
    """
    import torch

    steps, n_test = -(-len(data["x"]) // BATCH), len(data["xt"])

    def best(function, repeats: int) -> float:
        function()
        means = []
        for _ in range(trials):
            start = time.perf_counter()
            for _ in range(repeats):
                function()
            means.append((time.perf_counter() - start) / repeats)
        return min(means)

    def epoch() -> float:
        step = 0.0
        for m, k, n in _step_shapes(hidden):
            a, b = torch.randn(m, k), torch.randn(k, n)
            step += best(lambda a=a, b=b: torch.mm(a, b), reps)
        a, w1, w2 = torch.randn(n_test, 784), torch.randn(784, hidden), torch.randn(hidden, 10)
        return step * steps + best(lambda: torch.mm(torch.mm(a, w1), w2), 1)

    return epoch


def floor(data, hidden: int):
    """The epoch's matrix products and Adam's update, in the step's order, and nothing else.

    What every implementation of this step with these products and this update rule
    pays inside a training loop on this machine: the products write into one gradient
    buffer, one fused Adam updates the whole bank (795,000 weights) after each step, and
    the validation pass runs its two products. No gathers, activations, loss or Python
    beyond the loop. Unlike the roofline, the products here run with Adam's 22 MB of
    traffic per step between them, as they do in training.
    """
    import torch

    x, xt = torch.as_tensor(data["x"]), torch.as_tensor(data["xt"])
    sizes = [784 * hidden, hidden, hidden * 10, 10]
    bank, grad = torch.zeros(sum(sizes)), torch.zeros(sum(sizes))
    exp_avg, exp_avg_sq, count = torch.zeros_like(bank), torch.zeros_like(bank), torch.zeros(())

    def split(flat):
        w1, b1, w2, b2 = flat.split(sizes)
        return w1.view(784, hidden), b1, w2.view(hidden, 10), b2

    (w1, b1, w2, b2), (g1, _, g2, _) = split(bank), split(grad)  # bias sums: not products
    w1.normal_(0.0, 0.03), w2.normal_(0.0, 0.03)
    z, upstream = torch.empty(BATCH, hidden), torch.empty(BATCH, hidden)
    logits_grad = torch.randn(BATCH, 10) * 1e-3

    def epoch() -> float:
        start = time.perf_counter()
        for first in range(0, len(x) - BATCH + 1, BATCH):
            rows = x[first : first + BATCH]  # a view: gathers are not part of the floor
            torch.addmm(b1, rows, w1, out=z)
            torch.addmm(b2, z, w2)
            torch.mm(z.T, logits_grad, out=g2)
            torch.mm(logits_grad, w2.T, out=upstream)
            torch.mm(rows.T, upstream, out=g1)
            count.add_(1.0)
            torch._fused_adam_(
                [bank], [grad], [exp_avg], [exp_avg_sq], [], [count], lr=1e-3, beta1=0.9,
                beta2=0.999, weight_decay=0.0, eps=1e-7, amsgrad=False, maximize=False,
            )  # fmt: skip
        torch.mm(torch.mm(xt, w1), w2)
        return time.perf_counter() - start

    return epoch


CONTENDERS = {
    "idiomatic": idiomatic,
    "tight": tight,
    "reglab": reglab_fit,
    "keras": keras_fit,
    "roofline": roofline,
    "floor": floor,
}


def describe(name: str) -> str:
    """What the contender is, with the versions it runs on."""
    if name == "keras":
        import keras

        backend = keras.backend.backend()
        module = __import__(backend)
        return f"keras {keras.__version__} on {backend} {module.__version__}"
    import torch

    return f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def serve(name: str, path: str, hidden: int) -> None:
    data = dict(np.load(path))
    epoch = CONTENDERS[name](data, hidden)
    epoch()  # the warm-up epoch: compilation, allocator and caches
    print(json.dumps({"ready": describe(name)}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        start = time.perf_counter()
        seconds = epoch()
        print(json.dumps({"epoch": seconds, "wall": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
