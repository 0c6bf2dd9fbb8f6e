"""Ray's overhead per population against the local executor, on the demo study.

What: the study of ``reglab demo`` (digits, 400 training images, 7 variants x 3 seeds),
at 20 epochs instead of 100 (a task's overhead does not depend on epochs), planned two
ways: 21 populations of one (``max_members = 1``) and as the planner groups it (2
populations). Each runs with the local executor (1 thread) and on a one-node Ray cluster
with 1 CPU (one task at a time, as the local executor trains), interleaved round by
round, median of 3 rounds; the overhead per population is (Ray - local) / populations,
per round, and includes Ray's per-study cost (connecting, the data's ``ray.put``, the
first worker). That cost and the cost of one more task are then measured apart, with a
job that trains nothing but carries the demo's data, over 1 and over 101 tasks.
Also measured, for the scale model in docs/performance.md: the driver's store writes per
second (runs of 100 epochs), and the time to put a prepared dataset of MNIST's size
(60,000 x 784 float32) in the object store.

The Ray side runs inside a network and PID namespace that this script makes (``unshare
-n -p``, root only): there the cluster's only address is 127.0.0.1, and every process
it starts ends with the namespace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import arguments, interleaved, report

INSIDE = "REGLAB_BENCH_NAMESPACE"
PORT = 6379


def _reexec_in_namespace() -> int:
    """Run this script again inside a fresh network and PID namespace; its exit status."""
    env = {**os.environ, INSIDE: "1", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    # sh stays PID 1 (no exec) and reaps the processes `ray stop` kills.
    script = 'ip link set lo up && "$0" "$@"; status=$?; exit $status'
    command = ["unshare", "-n", "-p", "-f", "--mount-proc", "sh", "-c", script,
               sys.executable, *sys.argv]  # fmt: skip
    return subprocess.run(command, env=env, check=False).returncode


def _study(epochs: int, singles: bool, quick: bool):
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    from reglab.study.demo import demo_path
    from reglab.study.spec import parse_spec

    spec = tomllib.loads(Path(demo_path("digits")).read_text())
    spec["epochs"] = epochs
    if singles:
        spec["max_members"] = 1
    if quick:
        spec["seeds"] = [0]
    return parse_spec(spec)


def _populations(spec) -> int:
    from reglab.study.inputs import prepare_data
    from reglab.study.planner import plan_study

    data = prepare_data(spec)
    plan = plan_study(spec, n_train=data.n_train, n_features=data.n_features,
                      n_outputs=data.task.n_outputs, y_train=data.y_train)  # fmt: skip
    return len(plan.populations)


def _timed_study(spec, folder: Path, executor) -> float:
    from reglab.study import run_study

    store = Path(tempfile.mkdtemp(dir=folder)) / "s.db"
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the summary table
        if executor == "local":
            run_study(spec, store=store, threads=1, progress=False)
        else:
            run_study(spec, store=store, executor=executor(), progress=False)
    return time.perf_counter() - start


def _nothing(population, data) -> list:
    """A job that trains nothing: what is left of a task is Ray's own cost."""
    del population, data
    return []


def _noop_costs(spec, executor, tasks: int) -> tuple[float, float]:
    """Per-study and per-task seconds of ``tasks`` tasks that carry the data, train nothing.

    The tasks run one at a time (one CPU), so the time between two results is one task's
    cost; the rest of the run (connecting, ``ray.put``, the first worker, disconnecting)
    is the study's.
    """
    import functools

    from reglab.study.inputs import prepare_data

    job = functools.partial(_nothing, data=prepare_data(spec))
    start = time.perf_counter()
    arrivals = [time.perf_counter() for _ in executor.map(job, range(tasks))]
    total = time.perf_counter() - start
    per_task = (arrivals[-1] - arrivals[0]) / (tasks - 1)
    return total - per_task * (tasks - 1), per_task


def _store_writes_per_second(folder: Path, epochs: int = 100, count: int = 100) -> float:
    """Write ``count`` runs of ``epochs`` epochs (with histograms) into a fresh store."""
    from reglab.study import load_study
    from reglab.study.store import RunResult, Store

    source = next(folder.glob("*/s.db"))
    template = load_study(source, "demo-digits").runs[0]
    rows = [dict(template.history[i % len(template.history)], epoch=float(i + 1))
            for i in range(epochs)]  # fmt: skip
    fields = {f.name: getattr(template, f.name) for f in dataclasses.fields(template)}
    with Store(folder / "writes.db") as db:
        db.begin_study("w", {}, dataset="digits", device="cpu", versions=("0", "0"))
        start = time.perf_counter()
        for i in range(count):
            result = RunResult(**{**fields, "key": f"{i:016x}", "history": rows})
            db.write_run("w", i, result)
        return count / (time.perf_counter() - start)


def _put_seconds(repeats: int) -> tuple[float, float]:
    """Seconds to ray.put a float32 array of MNIST's training size, and its MB."""
    import numpy as np
    import ray

    x = np.random.default_rng(0).random((60_000, 784), dtype=np.float32)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ref = ray.put(x)
        times.append(time.perf_counter() - start)
        del ref
    return statistics.median(times), x.nbytes / 1e6


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    if os.environ.get(INSIDE) != "1":
        if shutil.which("unshare") is None or os.geteuid() != 0:
            sys.exit("ray_overhead: needs root and util-linux's unshare for its namespace")
        sys.exit(_reexec_in_namespace())
    import ray

    from reglab.study.ray_executor import RayExecutor

    ray_bin = Path(sys.executable).with_name("ray")
    tmp = Path(tempfile.mkdtemp(prefix="rl-bench-", dir="/tmp"))
    address = f"127.0.0.1:{PORT}"
    started = subprocess.run(
        [ray_bin, "start", "--head", "--port", str(PORT), "--node-ip-address", "127.0.0.1",
         "--num-cpus", "1", "--include-dashboard=false", "--disable-usage-stats",
         "--object-store-memory", "400000000", "--temp-dir", str(tmp / "ray")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if started.returncode != 0:
        sys.exit(started.stderr)
    try:
        epochs = 1 if args.quick else 20
        specs = {"grouped": _study(epochs, False, args.quick),
                 "singles": _study(epochs, True, args.quick)}  # fmt: skip
        counts = {name: _populations(spec) for name, spec in specs.items()}
        contenders = {}
        for name, spec in specs.items():
            contenders[f"{name}, local"] = lambda s=spec: _timed_study(s, tmp, "local")
            contenders[f"{name}, ray"] = lambda s=spec: _timed_study(
                s, tmp, lambda: RayExecutor(address)
            )
        seconds = interleaved(contenders, args.repeats)
        many = 11 if args.quick else 101
        noop = [_noop_costs(specs["grouped"], RayExecutor(address), many)
                for _ in range(args.repeats)]  # fmt: skip
        writes = _store_writes_per_second(tmp)
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        put, megabytes = _put_seconds(args.repeats)
        ray.shutdown()
    finally:
        subprocess.run([ray_bin, "stop", "--force"], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    overhead = {
        name: statistics.median(
            (r - lo) / counts[name]
            for r, lo in zip(seconds[f"{name}, ray"], seconds[f"{name}, local"])
        )
        for name in specs
    }
    per_study = statistics.median(study for study, _ in noop)
    per_task = statistics.median(task for _, task in noop)
    rows = []
    for name in specs:
        local, on_ray = seconds[f"{name}, local"], seconds[f"{name}, ray"]
        for label, runs in ((f"{name}, local", local), (f"{name}, ray", on_ray)):
            rows.append({
                "what": f"{label} ({counts[name]} populations)",
                "seconds": statistics.median(runs),
                "ratio": statistics.median(a / b for a, b in zip(runs, local)),
                "note": "ratio to local, same planning",
            })  # fmt: skip
        rows.append({
            "what": f"Ray's overhead per population ({counts[name]} populations)",
            "seconds": overhead[name],
            "note": "(Ray - local) / populations, per round; per-study cost included",
        })  # fmt: skip
    rows.append(
        {
            "what": "Ray's cost per study",
            "seconds": per_study,
            "note": "connect, ray.put, first worker, disconnect",
        }
    )
    rows.append(
        {
            "what": "Ray's cost per task",
            "seconds": per_task,
            "note": f"between results of {many} tasks training nothing, one CPU",
        }
    )
    rows.append(
        {
            "what": f"ray.put of {megabytes:.0f} MB (MNIST-sized)",
            "seconds": put,
            "note": f"{megabytes / put:.0f} MB/s into the local object store",
        }
    )
    rows.append({"what": "store write of one 100-epoch run", "seconds": 1 / writes,
                 "note": f"{writes:.0f} runs/s, the driver alone"})  # fmt: skip
    report(
        "ray_overhead vs the local executor",
        rows,
        {"populations": counts, "epochs": epochs, "runs": seconds, "noop_runs": noop,
         "overhead_per_population_ms": {k: 1000 * v for k, v in overhead.items()},
         "per_task_ms": 1000 * per_task, "per_study_s": per_study,
         "store_writes_per_s": writes, "put_mb_per_s": megabytes / put},
        args.json,
    )  # fmt: skip


if __name__ == "__main__":
    main()
