"""CPU threads of a fit: OMP_NUM_THREADS and the CPU affinity decide unless told.

Each case runs a fit in a fresh interpreter (torch reads OMP_NUM_THREADS and the
affinity once, at start-up) and reports torch's thread count during training, as seen
from the progress callback.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reglab import fit, mlp
from reglab.errors import ReglabError

SRC = str(Path(__file__).resolve().parents[2] / "src")

# `threads` is passed through as a Python literal; `shrink` pins the process to CPU 0
# after torch has started (what a cgroup cpuset or a late sched_setaffinity does).
FIT = """
import json, os, sys, torch
import numpy as np
from reglab import fit, mlp
threads, shrink = json.loads(sys.argv[1])
if shrink:
    os.sched_setaffinity(0, {0})
seen = []
x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
y = (x[:, 0] > 0).astype(int)
fit(mlp([4]), x, y, epochs=1, batch_size=16, device="cpu", threads=threads,
    progress=lambda epoch, rows: seen.append(torch.get_num_threads()))
print(json.dumps({"during": seen[0], "start": torch.get_num_threads()}))
"""

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
needs_two_cores = pytest.mark.skipif(CORES < 2, reason="needs a process allowed 2 or more cores")


def _threads_in_fit(*, threads=None, shrink=False, omp=None, prefix=()) -> int:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = SRC
    if omp is not None:
        env["OMP_NUM_THREADS"] = str(omp)
    out = subprocess.run(
        [*prefix, sys.executable, "-c", FIT, json.dumps([threads, shrink])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["during"]


@needs_two_cores
def test_the_default_keeps_omp_num_threads():
    assert _threads_in_fit(omp=1) == 1


@needs_two_cores
@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs util-linux's taskset")
def test_the_default_follows_taskset():
    assert _threads_in_fit(prefix=("taskset", "-c", "0")) == 1


@needs_two_cores
def test_the_default_uses_every_allowed_core_without_omp_num_threads():
    assert _threads_in_fit() == CORES


@needs_two_cores
def test_the_default_lowers_to_an_affinity_that_shrank_after_start_up():
    assert _threads_in_fit(shrink=True) == 1


@needs_two_cores
def test_omp_num_threads_wins_over_a_shrunk_affinity():
    assert _threads_in_fit(shrink=True, omp=2) == 2


def test_an_explicit_count_wins_over_omp_num_threads():
    assert _threads_in_fit(threads=3, omp=1) == 3


def test_a_thread_count_below_one_is_refused():
    with pytest.raises(ReglabError, match=r"`threads`: expected an int >= 1\. Received: threads=0"):
        fit(mlp([4]), [[0.0, 1.0]] * 4, [0, 1, 0, 1], threads=0)
