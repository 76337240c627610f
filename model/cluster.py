"""Running the blocks on a dask.distributed cluster (``--executor dask``).

Every block's numbers depend only on the seed, the block index and the scenario
(:mod:`model.blocks`), so a cluster gives exactly the numbers of a local run: the tasks here are
pure functions of their arguments. That is also what makes dask's own fault tolerance safe: when
a worker is lost, the scheduler runs its tasks again elsewhere (and the finished ones whose
results only it held), and they come out the same. Nothing here distributes work itself: dask
schedules, retries and moves the data; this module only submits the tasks and hands back their
results as they complete.

A result is the same only if every worker runs the same model on the same numerical libraries,
so before a run each worker's :func:`fingerprint` is compared with this machine's.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from importlib import metadata
from pathlib import Path
from typing import Any

import distributed

from .blocks import BlockResult, run_block
from .scenario import Scenario

#: Seconds to wait for a scheduler to answer [s].
CONNECT_SECONDS = 10
#: Seconds to wait for a scheduler that has no worker to get one [s].
WORKER_WAIT_SECONDS = 30
#: Packages whose version can change the numbers (besides the model's own files).
NUMERIC_PACKAGES = ("numpy", "scipy", "pandas", "simpy")


class ClusterError(RuntimeError):
    """The cluster cannot run the model: no scheduler at the address, no workers, or workers that
    run another copy of the model. Raised before anything is computed."""


class ClusterFault(RuntimeError):
    """The cluster failed during a run: workers died so often under one task that dask gave up
    on it (``KilledWorker``), or the connection to the scheduler was lost."""


def run_tasks(scenario: Scenario, seed: int, blocks: list[tuple[int, int]]) -> list[BlockResult]:
    """One dask task: the blocks ``(index, size)`` of ``scenario`` at ``seed`` (pure)."""
    return [run_block(scenario, seed, b, n) for b, n in blocks]


def _same(value):
    """A task that returns its argument: holds the scenario on the cluster, and can be rerun
    (its data is in the task itself) if the worker holding it is lost, unlike scattered data."""
    return value


def fingerprint() -> str:
    """SHA-256 of this copy of the model package (every file but bytecode) and the versions of
    :data:`NUMERIC_PACKAGES`: two processes with the same fingerprint compute the same numbers."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes())
    for name in NUMERIC_PACKAGES:
        digest.update(f"{name}=={metadata.version(name)}\0".encode())
    return digest.hexdigest()


def local_cluster(workers: int) -> distributed.LocalCluster:
    """A cluster on this machine: ``workers`` single-threaded worker processes (the model's
    blocks hold the GIL, so one thread per process), its web page on a free port (the default
    8787 may be taken by another cluster)."""
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int = 1) -> Iterator[distributed.Client]:
    """A client of the scheduler at ``scheduler``, checked to have workers that run this model.

    With no address, a local cluster of ``workers`` single-threaded worker processes is started
    for the duration (and closed after). Raises :class:`ClusterError` (one line naming the
    address and the fix) if the scheduler does not answer within :data:`CONNECT_SECONDS`, has no
    worker within :data:`WORKER_WAIT_SECONDS`, or a worker's :func:`fingerprint` differs.
    """
    if scheduler is None:
        with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
            _check(client, cluster.scheduler_address)
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError):
        raise ClusterError(f"--scheduler: no dask scheduler answered at {scheduler} within {CONNECT_SECONDS} s; "
                           f"start one there with `dask scheduler` (and workers with `dask worker {scheduler}`), "
                           "or leave out --scheduler to use a local cluster") from None
    with client:
        _check(client, scheduler)
        yield client


def _check(client: distributed.Client, scheduler: str) -> None:
    """Raise :class:`ClusterError` unless the cluster has workers and they and the scheduler all
    run this model."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except TimeoutError:
        raise ClusterError(f"the dask scheduler at {scheduler} has no workers; start some with "
                           f"`dask worker {scheduler}` on each machine") from None
    mine = fingerprint()
    try:  # the scheduler too: it unpickles the tasks
        theirs = {f"scheduler {scheduler}": client.run_on_scheduler(fingerprint)}
        theirs.update({f"worker {address}": value for address, value in client.run(fingerprint).items()})
    except Exception as exc:  # a machine without the model (or a broken one): its own error, in one line
        why = (str(exc).splitlines() or [""])[0]
        raise ClusterError(f"the dask cluster of {scheduler} cannot run the model ({type(exc).__name__}: {why}); "
                           "install this checkout on the scheduler's and every worker's machine (./setup.sh) and "
                           "start them from its .venv") from None
    for address, other in sorted(theirs.items()):
        if other != mine:
            raise ClusterError(f"dask {address} runs another copy of the model or of "
                               f"{'/'.join(NUMERIC_PACKAGES)} than this machine, so its numbers could differ; install "
                               "this checkout there (./setup.sh) and restart it from its .venv")


def run_dask(fn: Callable[..., Any], scenario: Scenario, args: tuple, tasks: list[list[tuple[int, int]]], *,
             scheduler: str | None = None, workers: int = 1) -> Iterator[tuple[int, Any]]:
    """Run ``fn(scenario, *args, task)`` for each of ``tasks`` (lists of blocks) on dask: yields
    (task index, its result) as they complete.

    Parameters
    ----------
    fn : callable
        A pure module-level function: :func:`run_tasks` (the blocks' results) or
        :func:`model.streaming.summarise` (their summary, for a streamed run).
    scenario : Scenario
        Sent to the cluster once (a task holding it, which dask can rerun if it is lost).
    args : tuple
        The other arguments before the task (the root seed, and a streamed run's layout).
    tasks : list of list of (int, int)
        The blocks (index, size) of each task, as :func:`model.engine.simulate` cuts them.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default a local cluster of
        ``workers`` processes, started and closed here.
    workers : int
        Worker processes of the local cluster (ignored with ``scheduler``).

    Raises
    ------
    ClusterError
        Before anything runs (see :func:`connect`).
    ClusterFault
        When dask gave up on a task after its workers died (``distributed.scheduler.allowed-failures``
        times, 3 by default), or the scheduler was lost; a single lost worker is retried without
        changing any number.
    """
    with connect(scheduler, workers) as client:
        held = client.submit(_same, scenario, pure=False)
        futures = {client.submit(fn, held, *args, task): i for i, task in enumerate(tasks)}
        try:
            for future in distributed.as_completed(list(futures)):
                try:
                    blocks = future.result()
                except distributed.KilledWorker:
                    raise ClusterFault("dask workers died again and again while running the same blocks (killed, "
                                       "or out of memory), so dask gave up on them") from None
                except (OSError, CancelledError):  # the scheduler went away: its tasks are cancelled
                    raise ClusterFault(f"the connection to the dask scheduler at {scheduler or 'the local cluster'} "
                                       "was lost during the run") from None
                future.release()
                yield futures[future], blocks
        finally:  # a run left early (an error, Ctrl-C) leaves no work queued on a shared cluster
            client.cancel([*futures, held])
