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
