"""Shared plumbing of the benchmarks: timing, the side-by-side table, the JSON record.

Every benchmark runs its baseline and reglab in the same process, on the same data, and
reports ratios; absolute seconds are printed too, with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def arguments(description: str, **options: dict) -> argparse.Namespace:
    """The benchmarks' common options, and ``options``: ``--name`` for each keyword, with
    argparse's keyword arguments as its value."""
    parser = argparse.ArgumentParser(description=description)
    for name, settings in options.items():
        parser.add_argument(f"--{name}", **settings)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: check the script and agreement"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median is reported")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    return parser.parse_args()


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def median_time(function: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    runs = [timed(function) for _ in range(repeats)]
    return statistics.median(runs), runs


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Time every contender once per round, round after round; each callable returns seconds.

    Interleaving matters on shared machines whose speed drifts over minutes: timing all
    of one contender's repeats and then all of the other's would fold that drift into
    the ratio. The reported ratios are medians of per-round ratios.
    """
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            seconds[name].append(run())
    return seconds


def median_ratio(numerator: list[float], denominator: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": time.strftime("%Y-%m-%d"),
    }


def report(name: str, rows: list[dict], extra: dict, path: Path | None) -> dict:
    """Print the table of ``rows`` (each with 'what', 'seconds' and optional 'ratio'), save JSON."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=name)
    for column in ("what", "seconds", "ratio", "note"):
        table.add_column(column, justify="right" if column in ("seconds", "ratio") else "left")
    for row in rows:
        ratio = row.get("ratio")
        table.add_row(
            row["what"],
            f"{row['seconds']:.3f}" if row.get("seconds") is not None else "-",
            f"{ratio:.2f}x" if ratio is not None else "",
            row.get("note", ""),
        )
    Console().print(table)
    for key, value in extra.items():
        print(f"{key}: {value}")
    record = {"benchmark": name, "machine": machine(), "rows": rows, **extra}
    target = path or RESULTS / f"{name.split()[0].lower()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=2, default=str))
    print(f"results: {target}")
    return record


def idiomatic_training_pass(net, opt, loader) -> int:
    """One pass over ``loader`` as most PyTorch tutorials write it (``zero_grad``, loss,
    ``backward``, ``step``, ``loss.item()`` summed every step); returns the steps taken."""
    net.train()
    running, steps = 0.0, 0
    for xb, yb in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        running += loss.item()
        steps += 1
    return steps


def tight_training_pass(net, opt, x, y, order, batch: int) -> torch.Tensor:
    """One pass over the resident tensors ``x``, ``y`` in ``order``, ``batch`` rows a step,
    with no host sync per step; returns the sum of the per-row losses (a tensor)."""
    losses = []
    for first in range(0, len(x), batch):
        rows = order[first : first + batch]
        loss = torch.nn.functional.cross_entropy(net(x[rows]), y[rows])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach() * len(rows))
    return torch.stack(losses).sum()


def found_locally(dataset: str) -> bool:
    """Whether the dataset's files are on this machine (benchmarks never download)."""
    from reglab.data import dataset_statuses

    return any(s.name == dataset and s.found for s in dataset_statuses())


def keras_available() -> bool:
    try:
        import keras  # noqa: F401
    except Exception:  # any import failure means: no Keras to compare with
        return False
    return True
