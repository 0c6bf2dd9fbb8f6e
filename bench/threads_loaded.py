"""CPU threads on a loaded machine: fit's default thread count against one thread.

What: a K-fold run (``reglab.cross_validate``: digits 64-64-10, 4 folds as one
population, Adam, batch 32) in a fresh interpreter per timed run, while one busy process
per core loads the machine (as other jobs do on a shared host). The user has set
``OMP_NUM_THREADS=1``. Contenders, interleaved round by round (median of 3 rounds):

- before the fix: fit set torch's threads to every core of the affinity mask, whatever
  ``OMP_NUM_THREADS`` said (reproduced here with ``threads=<cores>``);
- after the fix: the default (``threads=None``) keeps ``OMP_NUM_THREADS``;
- one thread (``threads=1``): the baseline of every ratio.

Also, without ``OMP_NUM_THREADS``: the default (every core, before and after the fix)
against one thread, for the same load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import arguments, interleaved, median_ratio, report

SRC = str(Path(__file__).resolve().parents[1] / "src")

FIT = """
import json, sys, time
import reglab
threads, epochs = json.loads(sys.argv[1])
data = reglab.load_dataset("digits")
x = data.x_train / 16
start = time.perf_counter()
reglab.cross_validate(reglab.mlp([64]), x, data.y_train, folds=4, epochs=epochs,
                      batch_size=32, threads=threads)
print(json.dumps(time.perf_counter() - start))
"""

# A busy process per core, ending by itself after `limit` seconds whatever happens here.
SPIN = "import time\nend = time.monotonic() + float(__import__('sys').argv[1])\nwhile time.monotonic() < end: pass\n"  # noqa: E501


def _fit_seconds(threads: int | None, epochs: int, omp: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = SRC
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run(
        [sys.executable, "-c", FIT, json.dumps([threads, epochs])],
        env=env, capture_output=True, text=True, check=True, timeout=1200,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    epochs = 1 if args.quick else 3
    contenders = {
        "OMP_NUM_THREADS=1, before the fix (threads = cores)": (cores, "1"),
        "OMP_NUM_THREADS=1, after the fix (default)": (None, "1"),
        "OMP_NUM_THREADS=1, one thread": (1, "1"),
        "no OMP_NUM_THREADS, default (= cores, before and after)": (None, None),
        "no OMP_NUM_THREADS, one thread": (1, None),
    }
    load = 0 if args.quick else cores
    spinners = [
        subprocess.Popen([sys.executable, "-c", SPIN, "1800"]) for _ in range(load)
    ]  # fmt: skip
    try:
        time.sleep(0.5 if load else 0)
        seconds = interleaved(
            {name: (lambda t=t, o=o: _fit_seconds(t, epochs, o)) for name, (t, o) in
             contenders.items()},
            args.repeats,
        )  # fmt: skip
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    names = list(contenders)
    rows = []
    for name in names:
        base = names[2] if name.startswith("OMP") else names[4]
        rows.append({
            "what": name,
            "seconds": sorted(seconds[name])[len(seconds[name]) // 2],
            "ratio": median_ratio(seconds[name], seconds[base]),
            "note": "ratio to one thread, same OMP_NUM_THREADS",
        })  # fmt: skip
    report(
        "threads on a loaded machine",
        rows,
        {"cores": cores, "busy_processes": load, "epochs": epochs, "runs": seconds},
        args.json,
    )


if __name__ == "__main__":
    main()
