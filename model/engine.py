"""The Monte Carlo engine: seeding, sampling, running the modules, evaluating targets.

Randomness (DESIGN.md section 5). Replications are cut into fixed blocks of :data:`BLOCK`.
Every random stream is a ``SeedSequence(seed, spawn_key=(domain, block, name))``:

* each uncertainty ``module.name`` has its own stream of standard normals per block;
* each module has its own stream for its random events per block.

A block's numbers therefore do not depend on which worker runs it, on how blocks are grouped
into chunks, or on what else the scenario contains: the same seed gives identical results for
any ``workers`` and ``chunk_size``, and two scenarios run with the same seed share their draws
wherever their structure is the same (common random numbers).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import multiprocessing.context
import os
import pickle
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .blocks import BLOCK, BlockResult, plan_blocks, run_block, run_recorded
from .cluster import run_dask, run_tasks
from .conditioning import refuse_stream
from .observed import Observed, as_observed
from .posterior import posterior
from .results import Results, _meta
from .scenario import Scenario
from .streaming import Aggregate, PackedFlags, StreamedResults, StreamLayout, aggregate, summarise

#: Default replications: a Wilson 95 % interval around p = 0.5 has half-width
#: 1.96 * sqrt(0.25 / 10_000) = 0.98 percentage points.
DEFAULT_REPLICATIONS = 10_000
DEFAULT_SEED = 20170711  # the date of the notice 济政〔2017〕27号

#: Memory one replication of one scenario takes [bytes], measured with tracemalloc on
#: scenarios/plan.toml (10,000 and 40,000 replications, 1 and 2 workers): a finished Results
#: holds 8.25 kB per replication (indicators, values, met and the sampled inputs); while
#: simulate() runs, the blocks and their concatenation are both alive: 16.6 kB at the peak.
#: The macro layer (seven yearly indicators, thirteen inputs) brought it to 8.62 kB, issue 10's
#: feedback and plants (eleven yearly indicators, twenty-odd inputs) to 9.07 kB.
HELD_BYTES = 10_000
#: Runs of more replications than this are streamed (:mod:`model.streaming`) unless asked
#: otherwise: at 100,000 a run in memory holds ~0.9 GB (peak ~1.8 GB), above it the streamed run's
#: compact record (bits and float32) is the better trade.
IN_MEMORY_MAX = 100_000
#: Memory a streamed run keeps per replication [bytes]: 139 met flags as bits (18 B) and the
#: outside view's five yearly indicators in float32 (100 B), with slack for the block lists.
STREAMED_BYTES = 150
#: Memory a streamed run needs whatever its size [bytes]: its sketch (~900 columns of 2,048 bins:
#: count, minimum, maximum, 44 MB) and one task's sketch arriving from a worker.
SKETCH_BYTES = 100 * 2**20
#: Seconds per replication and scenario on one worker, for the estimates the command line quotes:
#: conservative (the README benchmark: 6,300 per second idle, 2,400-3,000 under a load of 4-9).
SECONDS_PER_REPLICATION = 1 / 2_400


def memory_estimate(replications: int, scenarios: int = 1, workers: int = 1, stream: bool | None = None) -> float:
    """Peak memory [bytes] of simulating ``scenarios`` scenarios and keeping all their results.

    A streamed run (``stream``; default above :data:`IN_MEMORY_MAX`) needs :data:`STREAMED_BYTES`
    per replication and :data:`SKETCH_BYTES` per scenario. In memory, one scenario needs
    2 * :data:`HELD_BYTES` per replication at the peak (the blocks and their concatenation),
    +0.5 * HELD_BYTES with workers (whose chunks are a quarter of their share, pickled once);
    every further scenario kept adds HELD_BYTES. How much is allowed is the caller's policy (the
    command line's is in :mod:`model.budget`); :func:`simulate` never refuses.
    """
    if (replications > IN_MEMORY_MAX) if stream is None else stream:
        return scenarios * (replications * STREAMED_BYTES + SKETCH_BYTES)
    per = HELD_BYTES * (scenarios + 1 + (0.5 if workers > 1 else 0))
    return replications * per


def time_estimate(replications: int, scenarios: int = 1, workers: int = 1) -> float:
    """Rough seconds [s] of simulating ``scenarios`` scenarios on ``workers`` processes."""
    return replications * scenarios * SECONDS_PER_REPLICATION / workers


_STOP = None  # set in worker processes (:func:`_init_worker`): the parent sets it to stop the run


def _init_worker(parent: int, stop) -> None:
    """Worker initializer: obey the parent's stop event, and die with the parent.

    ``stop`` (a multiprocessing ``Event``) is checked between blocks, so an interrupted run ends
    within one block per worker. SIGINT is ignored (Ctrl-C reaches the whole process group: the
    parent decides and sets ``stop``) and SIGTERM gets its default action (a forked worker would
    otherwise inherit the command line's handler). On Linux the kernel is asked to send SIGTERM
    to this worker when its parent dies (``PR_SET_PDEATHSIG``), so a killed parent leaves no idle
    workers behind (re-parented to init); elsewhere that part does nothing.
    """
    global _STOP
    _STOP = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG (linux/prctl.h)
    except (OSError, AttributeError):  # no prctl in this libc: keep the default behaviour
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _context() -> multiprocessing.context.BaseContext:
    """Fork on Linux (cheap: the imported model is shared; the worker's parent is this process,
    which :func:`_init_worker` relies on), the platform's default elsewhere. Explicit, so the
    default changing to forkserver in Python 3.14 does not change how workers start."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _blocks(scenario: Scenario, seed: int, blocks: list[tuple[int, int]]) -> Iterator[tuple[int, BlockResult]]:
    """Run some blocks in turn; in a worker, stop early (after the block under way) once the
    parent says so."""
    for b, n in blocks:
        if _STOP is not None and _STOP.is_set():
            return
        yield b, run_block(scenario, seed, b, n)


def _run_task(scenario: Scenario, seed: int, blocks: list[tuple[int, int]]) -> list[BlockResult]:
    """Run some blocks and return what is done."""
    return [result for _, result in _blocks(scenario, seed, blocks)]


def _stream_task(scenario: Scenario, seed: int, layout: StreamLayout, blocks: list[tuple[int, int]]) -> Aggregate:
    """Run some blocks of a streamed run and return their summary, not their replications."""
    return aggregate(layout, _blocks(scenario, seed, blocks))


def _spooled_task(spool: str, work: Callable[[list[tuple[int, int]]], Any], blocks: list[tuple[int, int]]) -> str:
    """:func:`_run_task` in a worker, its results written to a file in ``spool``: returns the path.

    The pool then carries only a short path back. A message that short is written to the pipe in
    one piece (at most ``PIPE_BUF`` bytes, atomic on Linux), so a worker killed at any moment
    leaves either its whole message or none; a worker killed while it sent megabytes of results
    left a half-written message on which ``concurrent.futures`` waited forever (CPython's pool
    reads the rest of a message before it looks at its workers again).
    """
    path = os.path.join(spool, f"blocks-{blocks[0][0]}.pickle")
    with open(path + ".partial", "wb") as fh:
        pickle.dump(work(blocks), fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".partial", path)
    return path


def _unspool(path: str) -> Any:
    """Read back (and delete) what :func:`_spooled_task` wrote; only this run's own private files."""
    with open(path, "rb") as fh:
        blocks = pickle.load(fh)
    os.unlink(path)
    return blocks


def _run_pool(work: Callable[[list[tuple[int, int]]], Any], tasks: list[list[tuple[int, int]]],
              workers: int) -> Iterator[tuple[int, Any]]:
    """Run ``work`` on each of ``tasks`` on ``workers`` processes: yields (task index, its result)
    as tasks finish.

    On an interrupt (Ctrl-C, SIGTERM raised as an exception) or an error the queued tasks are
    cancelled and the workers told to stop after their current block; the pool is shut down and
    waited for (public ``concurrent.futures`` API only), so no worker outlives the call.
    """
    context = _context()
    stop = context.Event()
    with tempfile.TemporaryDirectory(prefix="jiyuan-blocks-") as spool, \
            ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                initargs=(os.getpid(), stop)) as pool:
        futures = {pool.submit(_spooled_task, spool, work, task): i for i, task in enumerate(tasks)}
        pending, seen = set(futures), {}
        try:
            while pending:
                finished, pending = wait(pending, timeout=WATCH_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield futures[future], _unspool(future.result())
                if pending:
                    _check_workers(seen)
        except (BrokenProcessPool, WorkerError) as exc:  # a worker died: end the others, never wait on it
            stop.set()
            for child in multiprocessing.active_children():
                child.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            if isinstance(exc, WorkerError):
                raise
            raise WorkerError("a worker process died while the run was under way (killed, or out of memory)") from None
        except BaseException:  # do not wait for the other tasks, only for the blocks under way (also when closed early)
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


#: How often the parent checks that every worker is alive while it waits [s].
WATCH_SECONDS = 1.0


class WorkerError(RuntimeError):
    """A worker process died during a run (killed by a signal, or out of memory): nothing is saved."""


def _check_workers(seen: dict[int, multiprocessing.Process]) -> None:
    """Raise :class:`WorkerError` if a worker this run started has ended while tasks are pending.

    Watching the processes (``multiprocessing.active_children``, public API) notices a dead worker
    within :data:`WATCH_SECONDS` whatever the pool is doing; results come back spooled
    (:func:`_spooled_task`), so the pool is never left reading a half-written message.
    """
    for child in multiprocessing.active_children():
        seen.setdefault(child.pid, child)
    for child in seen.values():
        code = child.exitcode
        if code is not None:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            raise WorkerError(f"a worker process (pid {child.pid}) {how} while the run was under way "
                              "(killed, or out of memory)")


def _chunks(blocks: list[tuple[int, int]], chunk_size: int) -> Iterator[list[tuple[int, int]]]:
    per = max(1, -(-chunk_size // BLOCK))
    for i in range(0, len(blocks), per):
        yield blocks[i : i + per]


@dataclass(frozen=True)
class _Execution:
    """Where and how a run's tasks go: this process, local worker processes, or dask."""

    workers: int
    chunk_size: int | None
    progress: Callable[[int], None] | None
    executor: str
    scheduler: str | None

    def tasks(self, blocks: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        chunk_size = self.chunk_size
        if chunk_size is None:
            chunk_size = BLOCK if self.executor == "dask" else BLOCK * max(1, len(blocks) // (4 * self.workers))
        return list(_chunks(blocks, chunk_size))

    def run(self, fns: tuple[Callable, Callable], scenario: Scenario, args: tuple, blocks: list[tuple[int, int]]
            ) -> Iterator[tuple[int, Any]]:
        """(task index, ``fn(scenario, *args, task)``) for every task of ``blocks``; ``fns`` is
        the local function (which obeys a stop) and the pure one dask runs."""
        tasks = self.tasks(blocks)
        local, pure = fns
        if self.executor == "dask":
            finished = run_dask(pure, scenario, args, tasks, scheduler=self.scheduler, workers=self.workers)
        elif self.workers == 1:
            finished = ((i, local(scenario, *args, task)) for i, task in enumerate(tasks))
        else:
            finished = _run_pool(functools.partial(local, scenario, *args), tasks, self.workers)
        with contextlib.closing(finished):  # an error here also ends the workers (closing runs the pool's cleanup)
            for i, part in finished:
                if self.progress is not None:
                    self.progress(sum(n for _, n in tasks[i]))
                yield i, part


def simulate(
    scenario: Scenario,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    stream: bool | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    observed: Observed | str | Path | None = None,
    replay: bool = False,
    notify: Callable[[str], None] | None = None,
):
    """Simulate ``scenario`` and evaluate every modelled target.

    Parameters
    ----------
    scenario : Scenario
        From :func:`model.load_scenario`.
    replications : int
        Number of joint draws [-]. The default gives a Monte Carlo interval of about
        +/- 1 percentage point.
    seed : int
        Root seed; the same seed gives the same results for any ``workers``/``chunk_size``.
    workers : int
        Processes to run chunks in (1 runs in this process); with ``executor="dask"`` and no
        ``scheduler``, the worker processes of the local cluster.
    chunk_size : int, optional
        Replications per task, rounded up to whole blocks of :data:`BLOCK`; default spreads the
        blocks evenly over the workers (several tasks each, for a smooth progress bar), on dask
        one block per task (even load on any cluster, little to redo when a worker is lost).
    progress : callable, optional
        Called with the number of replications each finished task completed (the command line
        passes a progress bar's ``update``).
    stream : bool, optional
        Summarise block by block instead of keeping every replication (:mod:`model.streaming`:
        the same likelihoods, quantiles within a documented bound, no sampled inputs kept).
        Default: above :data:`IN_MEMORY_MAX` replications.
    executor : {"local", "dask"}
        ``"dask"`` runs the tasks on dask.distributed (:func:`model.cluster.run_dask`): the same
        numbers as a local run of the same seed.
    scheduler : str, optional
        With ``"dask"``: a running scheduler's address (``tcp://host:8786``); default a local
        cluster of ``workers`` processes.
    observed : Observed or path, optional
        Observed figures (:func:`model.load_observed`) to condition the run on
        (:func:`model.posterior.posterior`: the replications' likelihood weights, or sequential
        Monte Carlo particles when those leave too few). Default: the scenario's own.
    replay : bool
        Record every module's random stream while simulating (in this process: one worker, local,
        in memory), so that even the first :meth:`Results.with_levers` move replays its modules'
        random numbers instead of drawing and recording them (:mod:`model.replay`; the lever
        explorer's base runs). About 30 kB per replication while it fits in ``REPLAY_BYTES``.
    notify : callable, optional
        Called with a line of news while conditioning by sequential Monte Carlo (its stages).

    Returns
    -------
    Results
        A :class:`model.streaming.StreamedResults` when streamed.

    Raises
    ------
    ValueError
        For fewer than 1 replication or worker. Any larger number is run as asked:
        :func:`memory_estimate` says what it needs (the command line refuses what does not fit).
    ObservedError
        A bad observed file, or observed figures for a streamed run (not supported yet);
        :class:`~model.conditioning.ConditioningError` when no particle can reproduce them.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if executor not in ("local", "dask"):
        raise ValueError(f"executor must be 'local' or 'dask', found {executor!r}")
    started = time.time()
    blocks = plan_blocks(replications)
    if stream is None:
        stream = replications > IN_MEMORY_MAX
    if replay and (workers > 1 or executor != "local" or stream):
        raise ValueError("replay records streams in this process: one worker, local executor, not streamed")
    observed = as_observed(scenario.observed if observed is None else observed)
    if stream and observed is not None:
        raise refuse_stream(observed, replications)
    how = _Execution(workers, chunk_size, progress, executor, scheduler)
    if stream:
        results = _simulate_streamed(scenario, seed, replications, blocks, how, started)
    else:
        if replay:
            parts, recorded = run_recorded(scenario, seed, blocks, progress)
        else:
            done, recorded = dict(how.run((_run_task, run_tasks), scenario, (seed,), blocks)), {}
            parts = [block for i in range(len(done)) for block in done[i]]
        results = Results.from_blocks(
            scenario, parts, seed=seed, replications=replications, workers=workers,
            started=started, finished=time.time(),
        )
        results._streams = recorded
        if observed is not None:
            results = posterior(results, observed, notify)
    results.meta["executor"] = executor
    if executor == "dask":
        results.meta["scheduler"] = scheduler or "local cluster"
    return results


def _simulate_streamed(scenario: Scenario, seed: int, replications: int, blocks: list[tuple[int, int]],
                       how: _Execution, started: float) -> StreamedResults:
    """:func:`simulate` block by block: the pilot block (block 0, whatever the workers) sets the
    sketch's bins (:mod:`model.sketch`); every other task returns an :class:`Aggregate`."""
    b0, n0 = blocks[0]
    pilot = run_block(scenario, seed, b0, n0)
    layout = StreamLayout.from_pilot(scenario, pilot)
    total = Aggregate(layout)
    total.add(b0, pilot)
    del pilot
    if how.progress is not None:
        how.progress(n0)
    if blocks[1:]:
        for _, part in how.run((_stream_task, summarise), scenario, (seed, layout), blocks[1:]):
            total.merge(part)
    meta = {**_meta(how.workers, started, time.time()), "streamed": True}
    return StreamedResults(scenario, seed, replications, {}, {}, PackedFlags(layout.targets, total.flags), meta,
                           {}, total)
