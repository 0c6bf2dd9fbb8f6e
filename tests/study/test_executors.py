"""Choosing an executor: the names, the options each takes, and Ray's absence."""

import re
import sys

import pytest

from reglab.errors import ReglabError
from reglab.study.executors import LocalExecutor, make_executor, torch_threads


def test_the_local_executor_yields_each_result_or_the_exception_it_raised():
    out = list(LocalExecutor().map(lambda x, progress=None: 1 / x, [2, 0]))
    assert out[0] == (2, 0.5)
    assert out[1][0] == 0 and isinstance(out[1][1], ZeroDivisionError)


def test_the_local_executor_hands_each_item_its_progress_callback():
    seen = []
    results = list(
        LocalExecutor().map(lambda x, progress=None: seen.append(progress), [1, 2],
                            progress=lambda x: x * 10)
    )  # fmt: skip
    assert seen == [10, 20] and len(results) == 2


def test_the_local_executor_trains_with_its_threads_and_restores_them():
    import torch

    before = torch.get_num_threads()
    inside = list(LocalExecutor(threads=1).map(lambda x, progress=None: torch.get_num_threads(),
                                               [0]))  # fmt: skip
    assert inside == [(0, 1)] and torch.get_num_threads() == before


def test_a_thread_count_below_one_is_refused():
    with pytest.raises(ReglabError, match=r"^Invalid value for `threads`: expected an int >= 1\."):
        make_executor("local", threads=0)
    with (
        pytest.raises(ReglabError, match=r"^Invalid value for `threads`: expected an int >= 1\."),
        torch_threads(0),
    ):
        pass


def test_an_address_that_nothing_answers_is_one_line():
    pytest.importorskip("ray", reason="needs the ray extra: pip install reglab[ray]")
    with pytest.raises(
        ReglabError,
        match=r"^Invalid value for `address`: nothing answers at 127\.0\.0\.1:1; start the "
        r"cluster's head there with `ray start --head --port 1`, or give the address it "
        r"printed\. Received: address='127\.0\.0\.1:1'\.$",
    ):
        make_executor("ray", address="127.0.0.1:1").device("auto")


def test_a_malformed_address_is_refused():
    pytest.importorskip("ray", reason="needs the ray extra: pip install reglab[ray]")
    with pytest.raises(
        ReglabError,
        match=r"^Invalid value for `address`: expected HOST:PORT of the cluster's head \(the "
        r"address `ray start --head` printed, port 6379 by default\) or 'auto'\. "
        r"Received: address='head-node'\.$",
    ):
        make_executor("ray", address="head-node")


def test_an_address_without_the_ray_executor_is_refused():
    with pytest.raises(
        ReglabError,
        match=r"^Invalid value for `address`: expected no address with the local executor "
        r"\(add --executor ray\)\. Received: address='127\.0\.0\.1:6379'\.$",
    ):
        make_executor("local", address="127.0.0.1:6379")


def test_without_ray_installed_the_ray_executor_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without it
    with pytest.raises(
        ReglabError,
        match=r"^Invalid value for `executor`: 'ray' needs the Ray package, which is not "
        r"installed; install it with `pip install reglab\[ray\]`, or use the local "
        r"executor\. Received: executor='ray'\.$",
    ):
        make_executor("ray")


def test_options_beside_an_executor_instance_are_refused(write_spec, tmp_path):
    from reglab.study import run_study

    with pytest.raises(
        ReglabError,
        match=r"^Invalid value for `threads`: expected no threads with an Executor instance "
        r"\(set it on the executor\)\. Received: threads=2\.$",
    ):
        run_study(write_spec(), store=tmp_path / "s.db", executor=LocalExecutor(), threads=2)


def test_a_node_with_other_versions_fails_its_task_naming_both():
    pytest.importorskip("ray", reason="needs the ray extra: pip install reglab[ray]")
    from reglab.study.ray_executor import _run_task, _versions

    reglab_version, torch_version, python = _versions()
    expected = (
        f"this node runs reglab {reglab_version}, torch {torch_version}, Python {python} where "
        "the driver runs 0.0, 1.0, 3.0; install the same versions on every node"
    )
    with pytest.raises(RuntimeError, match=f"^{re.escape(expected)}$"):
        _run_task(lambda item: item, 0, 1, ("0.0", "1.0", "3.0"))
