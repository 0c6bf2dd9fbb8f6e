"""P2 — text MLPs on multi-hot input, IMDB's shape, with and without the dense matrix.

25,000 documents over a 10,000-word vocabulary, Zipf-distributed word ids, lengths around
230; the Keras book's model 16-16-1 (relu, sigmoid output), RMSprop, batch 512. reglab
trains it from the sparse index form (the first layer sums kernel rows of the words
present) and from the dense 25,000 x 10,000 matrix, in the same script; the two must give
the same losses. A plain PyTorch loop over the dense matrix is the baseline.

Run: ``python bench/p2_text_mlp.py`` (full) or ``--quick`` (2,000 documents).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reglab
from common import arguments, interleaved, median_ratio, report, timed


def documents(n: int, vocab: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(230, 80, n).astype(int), 10, 1000)
    words = (rng.zipf(1.2, lengths.sum()) % (vocab - 4)) + 4  # Keras reserves ids 0..3
    sequences = np.split(words, np.cumsum(lengths)[:-1])
    labels = np.array([int(s[: len(s) // 2].sum() % 2) for s in sequences])
    return [s.tolist() for s in sequences], labels


def dense_pytorch_epoch(x, y, epochs: int = 1) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 1),
    )  # fmt: skip
    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=512, shuffle=True
    )
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xb), yb)
            loss.backward()
            opt.step()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    n = 2000 if args.quick else 25000
    vocab = 10000
    sequences, labels = documents(n, vocab)
    sparse = reglab.multi_hot(sequences, vocab, sparse=True)
    dense = reglab.multi_hot(sequences, vocab)

    def fit(x, epochs=1):
        model = reglab.mlp([16, 16])
        return reglab.fit(
            model, x, labels, epochs=epochs, batch_size=512, optimizer="rmsprop", seed=0
        )

    models = {"sparse": reglab.mlp([16, 16]), "dense": reglab.mlp([16, 16])}

    def epoch(kind: str, x) -> float:
        """One more epoch of a kept model; its time as the History records it."""
        history = reglab.fit(models[kind], x, labels, epochs=1, batch_size=512, optimizer="rmsprop")
        return history.rows[0]["epoch_time"]

    xt, yt = torch.as_tensor(dense), torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)
    runs = {
        "pytorch_dense": lambda: timed(lambda: dense_pytorch_epoch(xt, yt)),
        "reglab_dense": lambda: epoch("dense", dense),
        "reglab_sparse": lambda: epoch("sparse", sparse),
    }
    interleaved(runs, 1)  # warm-up
    seconds = interleaved(runs, args.repeats)
    base_time, dense_time, sparse_time = (
        statistics.median(seconds[k]) for k in ("pytorch_dense", "reglab_dense", "reglab_sparse")
    )
    a, b = fit(sparse, epochs=2), fit(dense, epochs=2)
    difference = max(abs(ra["loss"] - rb["loss"]) / rb["loss"] for ra, rb in zip(a.rows, b.rows))
    if difference > 1e-4:
        raise SystemExit(f"sparse and dense paths disagree (relative difference {difference:.2e})")
    rows = [
        {"what": "PyTorch, dense matrix (DataLoader)", "seconds": base_time, "ratio": 1.0},
        {
            "what": "reglab, dense matrix",
            "seconds": dense_time,
            "ratio": median_ratio(seconds["reglab_dense"], seconds["pytorch_dense"]),
        },
        {
            "what": "reglab, sparse word indices",
            "seconds": sparse_time,
            "ratio": median_ratio(seconds["reglab_sparse"], seconds["pytorch_dense"]),
        },
    ]
    report(
        "P2 text MLP",
        rows,
        {
            "documents": n,
            "vocabulary": vocab,
            "mean_length": round(float(np.mean([len(s) for s in sequences])), 1),
            "speedup_sparse_vs_dense_reglab": round(
                1 / median_ratio(seconds["reglab_sparse"], seconds["reglab_dense"]), 2
            ),
            "speedup_sparse_vs_dense_pytorch": round(
                1 / median_ratio(seconds["reglab_sparse"], seconds["pytorch_dense"]), 2
            ),
            "input_bytes_dense": int(dense.nbytes),
            "input_bytes_sparse": int(sparse.nbytes),
            "epoch": "one epoch after a warm-up epoch; contenders interleaved, median of "
            f"{args.repeats} rounds",
            "seconds": seconds,
            "memory_ratio": round(dense.nbytes / sparse.nbytes, 1),
            "max_relative_loss_difference": difference,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
