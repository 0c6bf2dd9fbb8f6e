"""P1's contenders, each served from its own process, one epoch per request.

``python bench/p1_contenders.py NAME DATA.npz`` loads the arrays P1 saved (the same
scaled Fashion-MNIST for everyone), builds the contender, trains one warm-up epoch
(Keras compiles its step then), prints ``ready`` and then, for every ``epoch`` line on
its standard input, trains one more epoch and prints one JSON line: ``epoch`` (seconds
from the epoch's start to the end of its validation pass, which every contender reports
alike) and ``wall`` (the whole call, setup included). ``quit`` ends it.

A process per contender keeps their allocators, thread pools and JIT caches apart; the
driver (``p1_seed_mlp.py``) interleaves the rounds. NAME is ``idiomatic``, ``tight``,
``reglab`` or ``keras`` (its backend from ``KERAS_BACKEND``; run with the Python of
``bench/.keras-venv``, made by ``bench/keras_env.sh``). Keras imports nothing of reglab
or of PyTorch unless its backend is torch.
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


CONTENDERS = {"idiomatic": idiomatic, "tight": tight, "reglab": reglab_fit, "keras": keras_fit}


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
