"""Claims: a run leased to one runner is not taken by another until the lease expires."""

import threading
import time

from reglab.study.claims import LeaseRenewer, claim_runs, new_owner, release
from reglab.study.store import RunResult, Store


def _store(path) -> Store:
    store = Store(path)
    store.begin_study("s", {"name": "s"}, dataset="iris", device="cpu", versions=("0", "0"))
    return store


def _done(key: str) -> RunResult:
    return RunResult(key, "base", 0, 0, 0, "done", None, 1.0, "accuracy", 0.1, 1.0, 0.2, 0.9,
                     0, 0, 1, 0.0)  # fmt: skip


def test_a_claimed_run_is_not_claimed_again_while_its_lease_lives(tmp_path):
    with _store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        taken, held = claim_runs(a.connection, "s", ["k1", "k2"], "A", lease=60)
        assert (taken, held) == (["k1", "k2"], 0)
        taken, held = claim_runs(b.connection, "s", ["k1", "k2", "k3"], "B", lease=60)
        assert (taken, held) == (["k3"], 2)


def test_an_expired_lease_is_taken_over(tmp_path):
    with _store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        claim_runs(a.connection, "s", ["k1"], "A", lease=0.05)
        time.sleep(0.1)
        assert claim_runs(b.connection, "s", ["k1"], "B", lease=60) == (["k1"], 0)


def test_a_finished_run_is_never_claimed(tmp_path):
    with _store(tmp_path / "s.db") as store:
        store.write_run("s", 0, _done("k1"))
        assert claim_runs(store.connection, "s", ["k1"], "A", lease=60) == ([], 0)


def test_writing_a_run_drops_its_claim_and_a_run_finished_by_another_is_not_rewritten(tmp_path):
    with _store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        claim_runs(a.connection, "s", ["k1"], "A", lease=0.01)
        time.sleep(0.05)
        claim_runs(b.connection, "s", ["k1"], "B", lease=60)  # A looked dead
        assert b.write_run("s", 0, _done("k1"), owner="B")
        assert not a.write_run("s", 0, _done("k1"), owner="A")  # A was only slow
        assert a.connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
        assert a.connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_the_renewer_keeps_a_lease_alive_and_release_drops_it(tmp_path):
    with _store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        with LeaseRenewer(a.path, "A", lease=0.2):
            claim_runs(a.connection, "s", ["k1"], "A", lease=0.2)
            time.sleep(0.5)
            assert claim_runs(b.connection, "s", ["k1"], "B", lease=60) == ([], 1)
        release(a.connection, "A")
        assert claim_runs(b.connection, "s", ["k1"], "B", lease=60) == (["k1"], 0)


def test_owners_are_distinct_even_in_one_process():
    assert new_owner() != new_owner()


def test_starting_the_same_study_at_once_is_safe(tmp_path):
    errors, states = [], []

    def begin():
        try:
            with Store(tmp_path / "s.db") as store:
                states.append(store.begin_study("s", {"name": "s"}, dataset="iris",
                                                device="cpu", versions=("0", "0")))  # fmt: skip
        except Exception as error:  # collected: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=begin) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(states) == ["new"] + ["same"] * 7
