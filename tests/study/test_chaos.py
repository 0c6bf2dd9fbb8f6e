"""Chaos: runners killed at random moments, run side by side, blocked by a lock, interrupted.

Every trial ends with the same checks: ``PRAGMA integrity_check`` is ok, every planned
run is stored exactly once and done, no claim is left behind, and every stored number
equals that of one uninterrupted run (populations of one member, so who trained a run
cannot change its rounding). The long versions are marked slow (``--runslow``).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

SPEC = """
name = "chaos"
dataset = "iris"
epochs = 12
batch_size = 8
seeds = [0, 1, 2]
max_members = 1

[model]
hidden = [8]

[variants.baseline]
[variants.l2]
penalty = { l2 = 0.01 }
"""
N_RUNS = 6
# What a run's numbers are; timings and who trained it are not compared.
NUMBERS = "key, status, train_loss, train_metric, test_loss, test_metric, best_epoch, epochs_run"
CURVES = "run, epoch, loss, data_loss, penalty, accuracy, val_loss, val_accuracy"


# A runner as `reglab run` is one, without the report (matplotlib would triple each trial).
RUNNER = """
import sys
from reglab.study import run_study
outcome = run_study("spec.toml", store="s.db", progress=False)
print(f"runs: {outcome.trained} trained now")
"""


def _start(folder: Path, *, env: dict | None = None, cli: bool = False) -> subprocess.Popen:
    command = ["-m", "reglab.cli", "run", "spec.toml", "--store", "s.db", "--quiet"]
    return subprocess.Popen(
        [sys.executable, *(command if cli else ["-c", RUNNER])],
        cwd=folder, env={**os.environ, "PYTHONPATH": SRC, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(process: subprocess.Popen, timeout: float = 180) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def _trained(out: str) -> int:
    line = next(line for line in out.splitlines() if line.startswith("runs:"))
    return int(line.split()[1])


def _stored(store: Path) -> int:
    try:
        db = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # not created yet, or its tables are being made
        return 0


def _contents(store: Path) -> tuple[list, list]:
    db = sqlite3.connect(store)
    try:
        return (
            db.execute(f"SELECT {NUMBERS} FROM runs ORDER BY key").fetchall(),
            db.execute(f"SELECT {CURVES} FROM epochs ORDER BY run, epoch").fetchall(),
        )
    finally:
        db.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[list, list]:
    """The store of one uninterrupted run of the spec, by the same command line."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "spec.toml").write_text(SPEC)
    status, out, err = _finish(_start(folder))
    assert status == 0, err
    assert _trained(out) == N_RUNS
    return _contents(folder / "s.db")


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "spec.toml").write_text(SPEC)
    return tmp_path


def _check(store: Path, reference) -> None:
    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        keys = [k for (k,) in db.execute("SELECT key FROM runs")]
        assert len(keys) == len(set(keys)) == N_RUNS
        assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    finally:
        db.close()
    assert _contents(store) == reference


def _kill_trial(folder: Path, reference, rng: random.Random, *, lease: str) -> None:
    """Kill -9 a runner at a random moment, then finish the study with a second runner."""
    env = {"REGLAB_LEASE_SECONDS": lease}
    first = _start(folder, env=env)
    time.sleep(rng.uniform(0.5, 6.0))
    first.send_signal(signal.SIGKILL)
    first.communicate()
    status, _, err = _finish(_start(folder, env=env))
    assert status == 0, err
    _check(folder / "s.db", reference)


def test_a_runner_killed_at_a_random_moment_loses_and_repeats_nothing(folder, reference):
    _kill_trial(folder, reference, random.Random(12), lease="2")


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(20))
def test_twenty_kill_9_trials_at_random_moments(trial, folder, reference):
    _kill_trial(folder, reference, random.Random(trial), lease="2")


def test_two_concurrent_runners_split_the_work_and_train_each_run_once(folder, reference):
    a, b = _start(folder), _start(folder)
    (sa, out_a, err_a), (sb, out_b, err_b) = _finish(a), _finish(b)
    assert sa == sb == 0, err_a + err_b
    assert _trained(out_a) + _trained(out_b) == N_RUNS
    _check(folder / "s.db", reference)


def test_a_killed_runners_claims_are_taken_over_when_they_expire(folder, reference):
    env = {"REGLAB_LEASE_SECONDS": "3"}
    first = _start(folder, env=env)
    deadline = time.monotonic() + 120
    while _stored(folder / "s.db") < 2:  # it now holds the claim of the third run
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    kept = _stored(folder / "s.db")
    db = sqlite3.connect(folder / "s.db")
    held = db.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    db.close()
    started = time.monotonic()
    status, out, err = _finish(_start(folder, env=env))
    assert status == 0, err
    if held:  # the dead runner's lease had to expire before its run was taken over
        assert time.monotonic() - started > 1.0
    assert _trained(out) == N_RUNS - kept
    _check(folder / "s.db", reference)


def test_a_store_locked_for_a_while_keeps_the_finished_runs_and_writes_them(folder, reference):
    runner = _start(folder, env={"REGLAB_LOCK_WAIT": "1"})
    deadline = time.monotonic() + 120
    while _stored(folder / "s.db") < 1:
        assert runner.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    lock = sqlite3.connect(folder / "s.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    time.sleep(2.0)
    lock.execute("ROLLBACK")
    lock.close()
    status, out, err = _finish(runner)
    assert status == 0, err
    assert _trained(out) == N_RUNS
    _check(folder / "s.db", reference)


@pytest.mark.slow
def test_a_store_locked_too_long_is_one_line_and_the_rerun_completes(folder, reference):
    env = {"REGLAB_LOCK_WAIT": "0.5", "REGLAB_LEASE_SECONDS": "2"}
    runner = _start(folder, env=env, cli=True)
    deadline = time.monotonic() + 120
    while _stored(folder / "s.db") < 1:
        assert runner.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    lock = sqlite3.connect(folder / "s.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    status, _, err = _finish(runner)
    lock.execute("ROLLBACK")
    lock.close()
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "The store s.db" in err and "locked by another program" in err
    status, _, err = _finish(_start(folder, env=env))
    assert status == 0, err
    _check(folder / "s.db", reference)


@pytest.mark.parametrize("delay", [0.6])
def test_ctrl_c_during_start_up_is_one_line(folder, delay):
    process = _start(folder, cli=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    status, _, err = _finish(process)
    assert status == 130, err
    assert err == "reglab: interrupted; rerun the same command to finish what is missing.\n"


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.1, 0.2, 0.5, 0.7, 1.2, 1.6, 2.0, 2.5])
def test_ctrl_c_at_many_moments_of_start_up(folder, delay):
    test_ctrl_c_during_start_up_is_one_line(folder, delay)
