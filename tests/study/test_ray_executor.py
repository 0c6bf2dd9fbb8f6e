"""Studies on a real Ray cluster: a head and a second node (1 CPU each) on 127.0.0.1 only.

Ray advertises the machine's own interface address even when told `--node-ip-address
127.0.0.1`, so the cluster and the driver that talks to it run inside a network and PID
namespace that these tests make (`unshare -n -p`): there the only address is 127.0.0.1,
`ray stop` sees only this namespace's processes, and ending the namespace ends every
process in it. Where no namespace can be made (not root), the tests skip with that reason.
"""

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from reglab.study import load_study, run_study

ray = pytest.importorskip("ray", reason="needs the ray extra: pip install reglab[ray]")

SRC = str(Path(__file__).resolve().parents[2] / "src")
RAY = Path(sys.executable).with_name("ray")
PORT = 6379
ADDRESS = f"127.0.0.1:{PORT}"

# Four populations of two (max_members = 2), each about a second of training.
SPEC = """
name = "cluster"
dataset = "iris"
epochs = 30
batch_size = 8
seeds = [0, 1]
max_members = 2

[model]
hidden = [16]

[variants.baseline]
[variants.l2]
penalty = { l2 = 0.01 }
[variants.dropout]
dropout = 0.3
[variants.l1]
penalty = { l1 = 0.001 }
"""
N_RUNS = 8

# A driver on the Python API, so that the executor's task records can be read back.
DRIVER = """
import dataclasses, json, sys
from reglab.study import run_study
from reglab.study.ray_executor import RayExecutor
spec, store, address, retries, out = sys.argv[1:6]
executor = RayExecutor(address or None, max_retries=int(retries))
try:
    run_study(spec, store=store, executor=executor, progress=False)
finally:
    with open(out, "w") as f:
        json.dump([dataclasses.asdict(t) for t in executor.tasks_], f)
"""


def _namespace_problem() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "making a network namespace needs root (CI runs as root)"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"needs util-linux's {tool}"
    if not RAY.exists():
        return f"needs the ray command beside {sys.executable}"
    probe = subprocess.run(
        ["unshare", "-n", "-p", "-f", "--mount-proc", "true"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"unshare could not make a namespace: {probe.stderr.strip()}"
    return None


PROBLEM = _namespace_problem()
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")


# PID 1 of the namespace: reaps the orphans that `ray stop` kills (a PID 1 that never
# waits leaves them zombies, and `ray stop` then waits its whole grace period), and ends
# after 15 minutes whatever happens to the test process.
INIT = """
import os, time
end = time.monotonic() + 900
while time.monotonic() < end:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pid = 0
    if pid == 0:
        time.sleep(0.1)
"""


class Namespace:
    """A network and PID namespace of our own: 127.0.0.1 only, its processes die with it."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="rl-ray-", dir="/tmp"))  # short: unix sockets
        self.holder = subprocess.Popen(
            [
                "unshare",
                "-n",
                "-p",
                "-f",
                "--mount-proc",
                "--kill-child",
                sys.executable,
                "-c",
                INIT,
            ]
        )
        self.pid = self._child(self.holder.pid)  # the namespace's PID 1
        self.env = {
            **os.environ,
            "PYTHONPATH": SRC,
            "RAY_AUTH_MODE": "disabled",
            "RAY_USAGE_STATS_ENABLED": "0",
            "OMP_NUM_THREADS": "1",
        }
        self.run("ip", "link", "set", "lo", "up")

    @staticmethod
    def _child(pid: int) -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except FileNotFoundError:
                children = []
            if children:
                return int(children[0])
            time.sleep(0.01)
        raise RuntimeError(f"no child of process {pid}")

    def command(self, *args, cwd=None) -> list[str]:
        # Entering the mount namespace resets the working directory: --wd sets it again.
        wd = [f"--wd={cwd}"] if cwd is not None else []
        return ["nsenter", "-t", str(self.pid), "-n", "-p", "-m", *wd, "--", *map(str, args)]

    def run(self, *args, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args, cwd=cwd), env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def start(self, *args, cwd: Path) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args, cwd=cwd), env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def start_cluster(self) -> None:
        common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats",
                  "--object-store-memory", "100000000"]  # fmt: skip
        head = self.run(
            RAY, "start", "--head", "--port", PORT, "--include-dashboard=false",
            "--temp-dir", self.tmp / "ray", *common,
        )  # fmt: skip
        assert head.returncode == 0, head.stderr
        node = self.run(RAY, "start", "--address", ADDRESS, *common)
        assert node.returncode == 0, node.stderr

    def processes(self, title: str) -> list[int]:
        """Host PIDs of this namespace's processes whose command line starts with ``title``."""
        mine = os.readlink(f"/proc/{self.pid}/ns/pid")
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.readlink(entry / "ns" / "pid") != mine:
                    continue
                if (entry / "cmdline").read_bytes().startswith(title.encode()):
                    found.append(int(entry.name))
            except OSError:  # ended meanwhile
                continue
        return found

    def close(self) -> None:
        try:
            self.run(RAY, "stop", "--force", timeout=60)
        finally:
            self.holder.kill()  # PID 1 of the namespace ends, and with it every process left
            self.holder.wait(timeout=30)
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    namespace = Namespace()
    try:
        namespace.start_cluster()
        yield namespace
    finally:
        namespace.close()


@pytest.fixture
def own_namespace():
    namespace = Namespace()
    try:
        yield namespace
    finally:
        namespace.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same study with the local executor and one thread, as each Ray task trains."""
    folder = tmp_path_factory.mktemp("local")
    (folder / "spec.toml").write_text(SPEC)
    run_study(folder / "spec.toml", store=folder / "s.db", threads=1, progress=False)
    return _numbers(folder / "s.db")


def _numbers(store: Path) -> dict:
    """Every stored value of every run, by key, less wall times and timestamps."""
    out = {}
    for run in load_study(store, "cluster").runs:
        fields = dataclasses.asdict(run)
        fields.pop("seconds")
        fields["history"] = [{k: v for k, v in row.items() if k != "epoch_time"}
                             for row in fields["history"]]  # fmt: skip
        out[run.key] = fields
    return out


def _stored(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        db = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # the tables are being created
        return 0


def _wait_for(condition, process, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _whole_runs_only(store: Path, epochs: int = 30) -> int:
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT key, status FROM runs").fetchall()
    assert len(rows) == len({key for key, _ in rows})
    counts = dict(db.execute("SELECT run, COUNT(*) FROM epochs GROUP BY run").fetchall())
    assert all(count == epochs for count in counts.values()) and len(counts) == len(rows)
    return len(rows)


def _reglab_run(*extra) -> list:
    return [sys.executable, "-m", "reglab.cli", "run", "spec.toml", "--quiet", *extra]


def test_a_study_runs_on_both_nodes_and_equals_the_local_executor(cluster, tmp_path, reference):
    (tmp_path / "spec.toml").write_text(SPEC)
    (tmp_path / "driver.py").write_text(DRIVER)
    done = cluster.run(
        sys.executable, tmp_path / "driver.py", tmp_path / "spec.toml", tmp_path / "s.db",
        ADDRESS, 2, tmp_path / "tasks.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert sorted(t["index"] for t in tasks) == [0, 1, 2, 3]
    assert {t["outcome"] for t in tasks} == {"done"}
    assert len({t["node"] for t in tasks}) == 2  # the head and the second node
    assert {t["threads"] for t in tasks} == {1}  # exactly each task's num_cpus
    assert _numbers(tmp_path / "s.db") == reference


def test_a_killed_worker_is_retried_and_nothing_is_lost_or_duplicated(cluster, tmp_path, reference):
    (tmp_path / "spec.toml").write_text(SPEC)
    (tmp_path / "driver.py").write_text(DRIVER)
    driver = cluster.start(
        sys.executable, tmp_path / "driver.py", tmp_path / "spec.toml", tmp_path / "s.db",
        ADDRESS, 2, tmp_path / "tasks.json", cwd=tmp_path,
    )  # fmt: skip
    _wait_for(lambda: cluster.processes("ray::_run_task"), driver, "a busy worker")
    os.kill(cluster.processes("ray::_run_task")[0], signal.SIGKILL)
    _, err = driver.communicate(timeout=180)
    assert driver.returncode == 0, err
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    lost = [t for t in tasks if t["outcome"] == "lost"]
    assert len(lost) == 1 and lost[0]["error"].startswith("WorkerCrashedError")
    retried = [t for t in tasks if t["index"] == lost[0]["index"] and t["outcome"] == "done"]
    assert [t["attempt"] for t in retried] == [2]
    assert _whole_runs_only(tmp_path / "s.db") == N_RUNS
    assert _numbers(tmp_path / "s.db") == reference


def test_a_worker_lost_beyond_the_retries_is_recorded_failed_with_the_reason(
    cluster, tmp_path, reference
):
    (tmp_path / "spec.toml").write_text(SPEC)
    (tmp_path / "driver.py").write_text(DRIVER)
    driver = cluster.start(
        sys.executable, tmp_path / "driver.py", tmp_path / "spec.toml", tmp_path / "s.db",
        ADDRESS, 0, tmp_path / "tasks.json", cwd=tmp_path,
    )  # fmt: skip
    _wait_for(lambda: cluster.processes("ray::_run_task"), driver, "a busy worker")
    os.kill(cluster.processes("ray::_run_task")[0], signal.SIGKILL)
    _, err = driver.communicate(timeout=180)
    assert driver.returncode == 0, err
    runs = load_study(tmp_path / "s.db", "cluster").runs
    failed = [r for r in runs if r.status == "failed"]
    assert len(failed) == 2  # the two members of the lost population
    assert failed[0].error.startswith(
        "WorkerLostError: its Ray task lost its worker or node at each of 1 attempt(s) "
        "(max_retries=0); last: WorkerCrashedError"
    )
    command = _reglab_run("--store", tmp_path / "s.db", "--executor", "ray", "--address", ADDRESS)
    again = cluster.run(*command, cwd=tmp_path, timeout=180)
    assert again.returncode == 0, again.stderr
    assert _numbers(tmp_path / "s.db") == reference


def test_ctrl_c_keeps_whole_runs_and_a_rerun_completes(cluster, tmp_path, reference):
    (tmp_path / "spec.toml").write_text(SPEC)
    store = tmp_path / "s.db"
    command = _reglab_run("--store", store, "--executor", "ray", "--address", ADDRESS)
    first = cluster.start(*command, cwd=tmp_path)
    _wait_for(lambda: _stored(store) >= 2, first, "a stored run")
    os.kill(Namespace._child(first.pid), signal.SIGINT)  # the driver, inside nsenter
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert "interrupted; rerun the same command" in err and "Traceback" not in err
    deadline = time.monotonic() + 30
    while cluster.processes("ray::_run_task"):  # the cancelled tasks stop on the nodes
        assert time.monotonic() < deadline, "tasks still running after Ctrl-C"
        time.sleep(0.1)
    assert 2 <= _whole_runs_only(store) < N_RUNS
    again = cluster.run(*command, cwd=tmp_path, timeout=180)
    assert again.returncode == 0, again.stderr
    assert _numbers(store) == reference


def test_cuda_on_a_cluster_without_gpus_is_one_line_and_exit_2(cluster, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    command = _reglab_run("--store", tmp_path / "s.db", "--executor", "ray", "--address", ADDRESS)
    bad = cluster.run(*command, "--device", "cuda", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        f"reglab: error: Invalid value for `device`: CUDA was asked for but the Ray cluster "
        f"at {ADDRESS} has no GPU; use 'cpu' or 'auto'. Received: device='cuda'."
    )


def test_more_threads_than_any_node_has_is_refused(cluster, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    command = _reglab_run("--store", tmp_path / "s.db", "--executor", "ray", "--address", ADDRESS)
    bad = cluster.run(*command, "--threads", 2, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        f"reglab: error: Invalid value for `threads`: each task asks for 2 CPUs, and the "
        f"largest node of the Ray cluster at {ADDRESS} has 1; ask for at most that many. "
        f"Received: threads=2."
    )


# One population per run and 400 epochs: on a quiet machine the 8 runs of SPEC can all end
# in the second or two that `ray stop` takes, and the study would finish before the cluster
# went down (CI saw it once).
LONG_SPEC = SPEC.replace("epochs = 30", "epochs = 400").replace(
    "max_members = 2", "max_members = 1"
)


def test_a_cluster_shut_down_mid_study_is_one_line_exit_2_and_resumable(own_namespace, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    (local / "spec.toml").write_text(LONG_SPEC)
    run_study(local / "spec.toml", store=local / "s.db", threads=1, progress=False)
    reference = _numbers(local / "s.db")
    own_namespace.start_cluster()
    (tmp_path / "spec.toml").write_text(LONG_SPEC)
    store = tmp_path / "s.db"
    first = own_namespace.start(
        *_reglab_run("--store", store, "--executor", "ray", "--address", ADDRESS), cwd=tmp_path
    )
    _wait_for(lambda: _stored(store) >= 2, first, "a stored run")
    assert own_namespace.run(RAY, "stop", "--force").returncode == 0
    _, err = first.communicate(timeout=120)
    assert first.returncode == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"reglab: error: Lost the Ray cluster at {ADDRESS}: its head no "
                           "longer answers, with ")  # fmt: skip
    assert last.endswith("every finished run is in the store, so rerun the same command "
                         "once the cluster is back.")  # fmt: skip
    assert 2 <= _whole_runs_only(store, epochs=400) < N_RUNS
    run_study(tmp_path / "spec.toml", store=store, threads=1, progress=False)  # resumes
    assert _numbers(store) == reference


def test_auto_without_a_cluster_on_this_machine_is_one_line_and_exit_2(own_namespace, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    command = _reglab_run("--store", tmp_path / "s.db", "--executor", "ray", "--address", "auto")
    bad = own_namespace.run(*command, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert (
        bad.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "reglab: error: Could not connect to the Ray cluster at auto: ConnectionError: Could "
            "not find any running Ray instance."
        )
    )
    assert not (tmp_path / "s.db").exists()  # refused before the store was opened


def test_without_an_address_a_local_ray_runs_the_study(own_namespace, tmp_path, reference):
    (tmp_path / "spec.toml").write_text(SPEC)
    command = _reglab_run("--store", tmp_path / "s.db", "--executor", "ray")
    done = own_namespace.run(*command, cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    assert _numbers(tmp_path / "s.db") == reference
    assert not own_namespace.processes("ray::")  # the local Ray stopped with the study
