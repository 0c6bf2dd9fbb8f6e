"""Populations as Ray tasks: the :class:`RayExecutor`, behind the same seam as the local one.

Choices, and why:

- **The data travels through the object store, once per study.** The job (training bound
  to the study's prepared data and device) is ``ray.put`` once; every task takes that
  reference, and each node fetches the object once and keeps it in its own object store
  (numpy arrays are read in place, not copied per task). A node therefore needs no data
  files, only the same reglab, PyTorch and Python as the driver (checked by each task).
  Loading the dataset on each node from its own data folder was the other choice: it
  would need the same files on every node and would prepare them again for every task.
- **Results stream back** with ``ray.wait`` as each task ends; the driver alone writes
  the store, so an interrupted study holds whole runs only.
- **Retries are the driver's own.** Ray's are off (``max_retries=0``), so that every
  attempt is recorded (:attr:`RayExecutor.tasks_`): a task whose worker process or node
  died is submitted again up to ``max_retries`` times, then yielded as failed with the
  reason. An exception raised by training itself is not retried (it would raise again)
  and is yielded as the local executor yields it.
- **A lost cluster stops the study.** After a lost task, and every few seconds while
  waiting, the driver checks that the cluster's head still answers; when it does not,
  :class:`ClusterLostError` (one line, exit 2 on the command line) says so, and a rerun
  trains what is missing.
- **Ctrl-C** stops every task not finished yet (the driver disconnects, and Ray stops
  the tasks of a disconnected driver), then stays Ctrl-C.
- **Threads and devices.** A task asks for ``threads`` CPUs (default 1: populations are
  small, and one thread per core scales across populations) and sets torch's threads to
  exactly that; on a cluster with GPUs, a CUDA population asks for one GPU.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import torch

from reglab._version import __version__
from reglab.errors import ReglabError, check_choice, check_int, invalid

__all__ = ["ClusterLostError", "RayExecutor", "TaskRecord", "WorkerLostError"]

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

HEALTH_EVERY = 5.0  # seconds between checks that the head answers, while tasks run
CONNECT_TIMEOUT = 5.0  # seconds to wait for the head's port to answer


class ClusterLostError(ReglabError):
    """The Ray cluster stopped answering mid-study; what is stored stays, a rerun resumes."""


class WorkerLostError(RuntimeError):
    """A population's task lost its worker process or node on every attempt."""


@dataclass(frozen=True)
class TaskRecord:
    """One attempt at one population, as the driver saw it.

    Attributes
    ----------
    index : int
        The population's position among the items given to :meth:`RayExecutor.map`.
    attempt : int
        1 for the first submission, 2 for the first retry...
    outcome : str
        ``"done"`` (results came back), ``"raised"`` (training raised; not retried) or
        ``"lost"`` (the worker or its node died).
    node : str or None
        The Ray node id the task ran on (None when lost).
    pid : int or None
        The worker process on that node (None when lost).
    threads : int or None
        torch's CPU threads while the task trained.
    seconds : float
        From submission to the driver seeing the outcome.
    error : str or None
        The reason for ``"raised"`` and ``"lost"``.
    """

    index: int
    attempt: int
    outcome: str
    node: str | None
    pid: int | None
    threads: int | None
    seconds: float
    error: str | None = None


class RayExecutor:
    """Train each population as a Ray task on a cluster, or on a local Ray.

    Parameters
    ----------
    address : str, optional
        ``HOST:PORT`` of a running cluster's head (the address ``ray start --head``
        prints), or ``"auto"`` for the cluster started on this machine. When omitted, a
        local Ray is started on 127.0.0.1 for the study and stopped after it.
    threads : int, optional
        CPUs each task asks for, and torch's threads inside it; 1 when omitted.
    max_retries : int, default 2
        Submissions again of a population whose worker or node died, before it is
        recorded as failed.

    Raises
    ------
    ReglabError
        If Ray is not installed, or ``address`` is not ``HOST:PORT`` or ``"auto"``.

    Examples
    --------
    >>> try:
    ...     executor = RayExecutor("127.0.0.1:6379", threads=2)  # connects only when used
    ... except ReglabError as error:  # without the ray extra
    ...     print("pip install reglab[ray]" in str(error))
    ... else:
    ...     print(executor.name, executor.num_cpus, executor.max_retries)
    ray 2 2
    """

    name = "ray"

    def __init__(
        self, address: str | None = None, *, threads: int | None = None, max_retries: int = 2
    ) -> None:
        import_ray()
        self.address = None if address is None else _check_address(address)
        self.num_cpus = 1 if threads is None else check_int("threads", threads, low=1)
        self.max_retries = check_int("max_retries", max_retries, low=0)
        self.tasks_: list[TaskRecord] = []
        self.device_: str | None = None  # set by device(); "cuda" makes tasks ask for a GPU
        self._owned = False  # whether this executor started or connected the Ray it uses
        self._head: tuple[str, int] | None = None  # the head's host and port, once connected
        self._where = address or "a local Ray"

    def device(self, name: str) -> str:
        """The device the tasks train on: ``"auto"`` is CUDA when the cluster has GPUs.

        Raises
        ------
        ReglabError
            For ``"cuda"`` on a cluster without GPUs.
        """
        name = check_choice("device", name, ["auto", "cpu", "cuda"])
        gpus = 0 if name == "cpu" else self._connect().cluster_resources().get("GPU", 0)
        if name == "cuda" and not gpus:
            raise ReglabError(
                f"Invalid value for `device`: CUDA was asked for but the Ray cluster at "
                f"{self._where} has no GPU; use 'cpu' or 'auto'. Received: device='cuda'."
            )
        self.device_ = "cuda" if gpus else "cpu"
        return self.device_

    def map(
        self,
        job: Callable[[Item], Result],
        items: Iterable[Item],
        *,
        progress: Callable[[Item], object] | None = None,
    ) -> Iterator[tuple[Item, Result | Exception]]:
        """Run ``job`` on every item as a Ray task; yield each as it ends, in any order.

        ``job`` must be picklable (a module-level function bound with
        ``functools.partial``); it goes to the object store once. ``progress`` is not
        used: per-epoch progress stays on the nodes, and the caller's overall progress
        advances as each population comes back.

        Raises
        ------
        ClusterLostError
            When the cluster's head stops answering.
        """
        del progress
        items = list(items)
        self.tasks_ = []
        ray = self._connect()
        pending: dict = {}
        try:
            if not items:
                return
            self._check_fits(ray)
            task = ray.remote(_run_task).options(
                num_cpus=self.num_cpus,
                num_gpus=1 if self.device_ == "cuda" else 0,
                max_retries=0,
                retry_exceptions=False,
            )
            shared = ray.put(job)  # once per study: every task reads the same object
            expected = _versions()

            def submit(index: int, attempt: int) -> None:
                ref = task.remote(shared, items[index], self.num_cpus, expected)
                pending[ref] = (index, attempt, time.monotonic())

            for index in range(len(items)):
                submit(index, 1)
            checked = time.monotonic()
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                if not done:
                    if time.monotonic() - checked > HEALTH_EVERY:
                        self._check_alive(len(pending))
                        checked = time.monotonic()
                    continue
                ref = done[0]
                index, attempt, since = pending.pop(ref)
                outcome = self._outcome(ray, ref, index, attempt, since, len(pending) + 1)
                if outcome is None:  # lost, and submitted again
                    submit(index, attempt + 1)
                    continue
                yield items[index], outcome
        finally:  # done, Ctrl-C, a lost cluster, or the caller stopped early
            if self._owned:
                # Disconnecting ends the driver's job, and Ray stops every task the job
                # still owns. Cancelling them one by one first raced with tasks finishing
                # meanwhile and crashed Ray's core worker in the driver (Ray 2.60).
                self.close()
            else:  # the caller's own Ray session stays open: cancel what is left in it
                for ref in pending:
                    with contextlib.suppress(Exception):  # never hide why the study stopped
                        ray.cancel(ref, force=True)

    def close(self) -> None:
        """Disconnect from the cluster (and stop the local Ray this executor started)."""
        if self._owned:
            import_ray().shutdown()
            self._owned = False

    def _outcome(self, ray, ref, index: int, attempt: int, since: float, unfinished: int):
        """Results or the exception to yield; None when the task was lost and is retried."""
        elapsed = time.monotonic() - since
        try:
            results, node, pid, threads = ray.get(ref)
        except ray.exceptions.RayTaskError as error:  # training raised: as the local executor
            cause = error.cause if isinstance(error.cause, Exception) else error
            self._record(index, attempt, "raised", None, None, None, elapsed, _reason(cause))
            return cause
        except _lost_errors(ray) as error:
            self._check_alive(unfinished)
            reason = _reason(error)
            self._record(index, attempt, "lost", None, None, None, elapsed, reason)
            if attempt <= self.max_retries:
                log.warning("population %d lost its worker (%s); retrying", index, reason)
                return None
            return WorkerLostError(
                f"its Ray task lost its worker or node at each of {attempt} attempt(s) "
                f"(max_retries={self.max_retries}); last: {reason}"
            )
        except ray.exceptions.RayError as error:  # unschedulable, runtime env...: not retried
            self._record(index, attempt, "raised", None, None, None, elapsed, _reason(error))
            return error
        self._record(index, attempt, "done", node, pid, threads, elapsed, None)
        return results

    def _record(self, index, attempt, outcome, node, pid, threads, seconds, error) -> None:
        record = TaskRecord(index, attempt, outcome, node, pid, threads, seconds, error)
        self.tasks_.append(record)
        log.info("%s", record)

    def _connect(self):
        ray = import_ray()
        if self._head is not None and ray.is_initialized():
            return ray
        if ray.is_initialized():  # the caller's own Ray session: used, and left open
            self._locate(ray)
            return ray
        if self.address not in (None, "auto"):
            _check_reachable(self.address)
        options = dict(logging_level=logging.WARNING, log_to_driver=False)
        try:
            if self.address is None:
                ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", **options)
            else:
                ray.init(address=self.address, **options)
        except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise ReglabError(
                f"Could not connect to the Ray cluster at {self._where}: {_reason(error)}"
            ) from None
        self._owned = True
        self._locate(ray)
        return ray

    def _locate(self, ray) -> None:
        host, _, port = ray.get_runtime_context().gcs_address.rpartition(":")
        self._head = (host, int(port))
        self._where = f"{host}:{port}"

    def _check_fits(self, ray) -> None:
        """Refuse a task no node can take: Ray would leave it pending forever."""
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        cpus = max((r.get("CPU", 0) for r in nodes), default=0)
        if self.num_cpus > cpus:
            raise ReglabError(
                f"Invalid value for `threads`: each task asks for {self.num_cpus} CPUs, and "
                f"the largest node of the Ray cluster at {self._where} has {cpus:g}; ask for "
                f"at most that many. Received: threads={self.num_cpus}."
            )

    def _check_alive(self, unfinished: int) -> None:
        if self._head is None or _answers(*self._head):
            return
        raise ClusterLostError(
            f"Lost the Ray cluster at {self._where}: its head no longer answers, with "
            f"{unfinished} population(s) unfinished; every finished run is in the store, "
            f"so rerun the same command once the cluster is back."
        )


def import_ray():
    """The ``ray`` module, or a one-line error saying how to install it.

    Raises
    ------
    ReglabError
        When Ray is not installed.
    """
    try:
        import ray
    except ImportError:
        raise ReglabError(
            "Invalid value for `executor`: 'ray' needs the Ray package, which is not "
            "installed; install it with `pip install reglab[ray]`, or use the local "
            "executor. Received: executor='ray'."
        ) from None
    return ray


def _run_task(job, item, threads: int, expected: tuple[str, str, str]):
    """The task itself, on a worker: check versions, set the threads, run the job."""
    import ray

    from reglab.study.executors import torch_threads

    found = _versions()
    if found != expected:
        raise RuntimeError(
            f"this node runs reglab {found[0]}, torch {found[1]}, Python {found[2]} where "
            f"the driver runs {expected[0]}, {expected[1]}, {expected[2]}; install the same "
            f"versions on every node"
        )
    with torch_threads(threads):
        results = job(item)
        used = torch.get_num_threads()
    return results, ray.get_runtime_context().get_node_id(), os.getpid(), used


def _versions() -> tuple[str, str, str]:
    return __version__, torch.__version__, ".".join(platform.python_version_tuple()[:2])


def _lost_errors(ray) -> tuple[type[Exception], ...]:
    """Ray's errors for a task whose worker process, node or result went away."""
    e = ray.exceptions
    return (
        e.WorkerCrashedError,
        e.NodeDiedError,
        e.ObjectLostError,
        e.OutOfMemoryError,
        e.LocalRayletDiedError,
        e.RaySystemError,
    )


def _reason(error: BaseException) -> str:
    """The error's type and the first line of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _check_address(address: str) -> str:
    if address == "auto":
        return address
    host, sep, port = str(address).rpartition(":")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return address
    raise ReglabError(
        invalid(
            "address",
            "HOST:PORT of the cluster's head (the address `ray start --head` printed, "
            "port 6379 by default) or 'auto'",
            address,
        )
    )


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def _check_reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not _answers(host, int(port)):
        raise ReglabError(
            f"Invalid value for `address`: nothing answers at {address}; start the "
            f"cluster's head there with `ray start --head --port {port}`, or give the "
            f"address it printed. Received: address={address!r}."
        )
