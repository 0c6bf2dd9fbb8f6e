"""`reglab run` / `reglab runs` as a user meets them: interrupted, killed, given bad input."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

# Twelve populations of one (max_members = 1): the store fills up run by run.
SLOW = """
name = "slow"
dataset = "iris"
epochs = 40
batch_size = 8
seeds = [0, 1, 2]
max_members = 1

[model]
hidden = [16]

[variants.baseline]
[variants.l2]
penalty = { l2 = 0.01 }
[variants.dropout]
dropout = 0.3
[variants.early_stopping]
early_stopping = { patience = 100 }
"""
N_RUNS = 12


def _reglab(*args, cwd):
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-m", "reglab.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "reglab.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


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


def _interrupt_after_some_runs(process, store: Path, sig) -> None:
    deadline = time.monotonic() + 90
    while _stored(store) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no run reached the store"
        time.sleep(0.05)
    process.send_signal(sig)


def _check_complete(store: Path) -> None:
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT key, status FROM runs").fetchall()
    assert len(rows) == N_RUNS == len({key for key, _ in rows})
    assert {status for _, status in rows} == {"done"}
    epochs = db.execute("SELECT run, COUNT(*) FROM epochs GROUP BY run").fetchall()
    assert len(epochs) == N_RUNS and {count for _, count in epochs} == {40}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_an_interrupted_study_is_completed_by_running_it_again(tmp_path, sig):
    (tmp_path / "slow.toml").write_text(SLOW)
    store = tmp_path / "s.db"
    first = _reglab("run", "slow.toml", "--store", "s.db", "--quiet", cwd=tmp_path)
    _interrupt_after_some_runs(first, store, sig)
    _, err = first.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert first.returncode == 130
        assert "interrupted; rerun the same command" in err and "Traceback" not in err
    else:
        assert first.returncode == -signal.SIGKILL
    kept = _stored(store)
    assert 2 <= kept < N_RUNS
    again = _reglab("run", "slow.toml", "--store", "s.db", "--quiet", cwd=tmp_path)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    _check_complete(store)


def test_bad_spec_on_the_command_line_is_one_line_and_loses_nothing(tmp_path):
    (tmp_path / "good.toml").write_text(
        SLOW.replace("epochs = 40", "epochs = 1").replace("seeds = [0, 1, 2]", "seeds = [0]")
    )
    assert _run("run", "good.toml", "--store", "s.db", "--quiet", cwd=tmp_path).returncode == 0
    before = (tmp_path / "s.db").read_bytes()
    (tmp_path / "bad.toml").write_text(SLOW.replace("dropout = 0.3", "dropuot = 0.3"))
    bad = _run("run", "bad.toml", "--store", "s.db", cwd=tmp_path)
    err = bad.stderr
    assert bad.returncode == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "reglab: error: bad.toml: unknown key 'dropuot' at variants.dropout; "
        "did you mean 'dropout'?"
    )
    assert (tmp_path / "s.db").read_bytes() == before


def test_runs_of_an_unknown_study_exits_2_with_the_known_ones(tmp_path):
    (tmp_path / "good.toml").write_text(
        SLOW.replace("epochs = 40", "epochs = 1").replace("seeds = [0, 1, 2]", "seeds = [0]")
    )
    assert _run("run", "good.toml", "--store", "s.db", "--quiet", cwd=tmp_path).returncode == 0
    runs = _run("runs", "slwo", "--store", "s.db", cwd=tmp_path)
    assert runs.returncode == 2
    assert runs.stderr.strip() == (
        "reglab: error: Unknown study 'slwo' in the store s.db: it holds 'slow'."
    )
