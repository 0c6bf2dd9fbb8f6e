"""The benchmarks: quick mode in every test run (tiny sizes, both paths must agree),
full mode only with --runslow (minutes each)."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
NAMESPACE = (
    hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare") is not None
    and importlib.util.find_spec("ray") is not None
)  # fmt: skip
SCRIPTS = [
    "p1_seed_mlp.py",
    "p2_text_mlp.py",
    "p3_tiny_batches.py",
    "p4_populations.py",
    "p5_cnn_population.py",
    "threads_loaded.py",
    pytest.param(
        "ray_overhead.py",
        marks=pytest.mark.skipif(
            not NAMESPACE, reason="needs root, unshare and the ray extra for its namespace"
        ),
    ),
]


def _run(script: str, tmp_path: Path, *options: str) -> dict:
    target = tmp_path / f"{script}.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *options, "--json", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(target.read_text())


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_benchmark_runs_and_its_paths_agree(script, tmp_path):
    record = _run(script, tmp_path, "--quick", "--repeats", "1")
    assert record["rows"] and all(row["seconds"] > 0 for row in record["rows"])


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_full_benchmark(script, tmp_path):
    record = _run(script, tmp_path, "--repeats", "3")
    assert record["rows"]


def test_p1_yardsticks_time_the_products_a_training_step_makes():
    """The roofline and the floor time the step's own matrix products: the ones a PyTorch
    training step of the seed MLP runs (autograd, profiled), each up to transposition."""
    sys.path.insert(0, str(BENCH))
    try:
        from p1_contenders import BATCH, _step_shapes, torch_sequential
    finally:
        sys.path.remove(str(BENCH))
    import torch
    from torch.profiler import ProfilerActivity, profile

    hidden = 24
    net = torch_sequential(784, hidden)
    x, y = torch.rand(BATCH, 784), torch.randint(0, 10, (BATCH,))
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        torch.nn.functional.cross_entropy(net(x), y).backward()

    def product(m, k, n):  # C = A B and C^T = B^T A^T are the same work
        return (k, min(m, n), max(m, n))

    made = []
    for event in prof.events():
        operands = {"aten::mm": slice(0, 2), "aten::addmm": slice(1, 3)}.get(event.name)
        if operands is None:
            continue
        (m, k), (_, n) = event.input_shapes[operands]
        made.append(product(m, k, n))
    assert sorted(made) == sorted(product(*shape) for shape in _step_shapes(hidden))
