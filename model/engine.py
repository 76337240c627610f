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

import ctypes
import hashlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from . import modules as plan_modules
from .distributions import correlation_matrix, gaussian_copula_normals, uniforms
from .links import linked_for
from .params import all_params, indicator_spec
from .scenario import Scenario
from .targets import Target, deadline_value, is_met, load_registry

#: Replications per random block (the unit of seeding; never change it lightly: results depend
#: on it). 500 keeps per-block overhead small and arrays cache-friendly.
BLOCK = 500

#: Default replications: a Wilson 95 % interval around p = 0.5 has half-width
#: 1.96 * sqrt(0.25 / 10_000) = 0.98 percentage points.
DEFAULT_REPLICATIONS = 10_000
DEFAULT_SEED = 20170711  # the date of the notice 济政〔2017〕27号

_UNCERTAINTY, _MODULE = 0, 1

#: Memory one replication of one scenario takes [bytes], measured with tracemalloc on
#: scenarios/plan.toml (10,000 and 40,000 replications, 1 and 2 workers): a finished Results
#: holds 8.25 kB per replication (indicators, values, met and the sampled inputs); while
#: simulate() runs, the blocks and their concatenation are both alive: 16.6 kB at the peak.
HELD_BYTES = 8_500
#: Seconds per replication and scenario on one worker (README benchmark: ~2,400 per second).
SECONDS_PER_REPLICATION = 1 / 2_400


def _physical_memory() -> int:
    """This machine's physical memory [bytes] (24 GiB assumed where the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 24 * 2**30


#: Memory the results of one command may take [bytes]: a third of this machine's memory (8 GiB
#: on the 24 GiB development machine). The rest is for other users, the interpreter and imports
#: (~0.3 GiB per process) and the allocator's slack (RSS runs ~10-20 % above what tracemalloc
#: counts). One scenario needs 2 * 8.5 kB per replication at the peak (+0.5 * 8.5 kB with
#: workers, whose chunks are a quarter of their share, pickled once), so on 24 GiB the cap is
#: 8 GiB / 17 kB = 505,000 replications for one scenario on one worker (8 GiB / 21.25 kB =
#: 404,000 with workers); a sweep of 5 values (6 scenarios kept) allows 8 GiB / (7 * 8.5 kB) =
#: 144,000.
MEMORY_BUDGET = _physical_memory() // 3


def _size(nbytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{nbytes / 2**10:.0f} KiB"


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def memory_estimate(replications: int, scenarios: int = 1, workers: int = 1) -> float:
    """Peak memory [bytes] of simulating ``scenarios`` scenarios and keeping all their results."""
    per = HELD_BYTES * (scenarios + 1 + (0.5 if workers > 1 else 0))
    return replications * per


def max_replications(scenarios: int = 1, workers: int = 1) -> int:
    """The most replications per scenario that fit in :data:`MEMORY_BUDGET` (rounded down to 1,000)."""
    cap = int(MEMORY_BUDGET // memory_estimate(1, scenarios, workers))
    return cap - cap % 1000 if cap > 1000 else cap


def check_budget(replications: int, scenarios: int = 1, workers: int = 1, option: str = "replications") -> None:
    """Refuse a run whose results would not fit in :data:`MEMORY_BUDGET`.

    Parameters
    ----------
    replications : int
        Replications per scenario [-].
    scenarios : int
        Scenarios whose results are kept together (a sweep keeps len(values) + 1) [-].
    workers : int
        Processes [-] (for the time estimate, and the chunks the workers hold).
    option : str
        How the user gave ``replications`` (e.g. ``--replications``), for the message.

    Raises
    ------
    ValueError
        With the estimated memory and time and the largest number accepted.
    """
    cap = max_replications(scenarios, workers)
    if replications <= cap:
        return
    memory = memory_estimate(replications, scenarios, workers)
    seconds = replications * scenarios * SECONDS_PER_REPLICATION / workers
    what = "1 scenario" if scenarios == 1 else f"{scenarios} scenarios kept together"
    raise ValueError(
        f"{option} {replications:,} is too many: {what} would need about {_size(memory)} of memory and "
        f"about {_duration(seconds)} on {workers} worker{'s' if workers > 1 else ''}; at most {cap:,} fit in the {_size(MEMORY_BUDGET)} "
        f"allowed for results (a third of this machine's {_size(_physical_memory())}; 10,000 give +/-1 percentage point)"
    )


def _die_with_parent(parent: int) -> None:
    """Worker initializer: ask Linux to send SIGTERM to this worker when its parent dies.

    Without it a killed parent leaves idle workers behind (re-parented to init). SIGTERM gets its
    default action (a forked worker would otherwise inherit the command line's handler). On other
    platforms this does nothing.
    """
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


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once: drop queued tasks and end the workers (on an interrupt or an error).

    The queue's feeder thread could otherwise block the exit of the interpreter, writing tasks
    into a pipe no worker reads any more.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    call_queue = getattr(pool, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    for process in processes:
        process.terminate()


def _stream_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def stream(seed: int, domain: int, block: int, name: str) -> np.random.Generator:
    """The generator for one named stream of one block."""
    seq = np.random.SeedSequence(seed, spawn_key=(domain, block, _stream_id(name)))
    return np.random.Generator(np.random.PCG64(seq))


def sample_inputs(scenario: Scenario, seed: int, block: int, n: int) -> dict[str, np.ndarray]:
    """Draw every uncertainty of ``scenario`` for one block: ``"module.name"`` -> (n,)."""
    names = sorted(scenario.uncertainties)
    z = {name: stream(seed, _UNCERTAINTY, block, name).standard_normal(n) for name in names}
    if scenario.correlations:
        group, matrix = correlation_matrix(scenario.correlations)
        mixed = gaussian_copula_normals(np.vstack([z[g] for g in group]), matrix)
        z.update(zip(group, mixed))
    return {name: scenario.uncertainties[name].ppf(uniforms(z[name])) for name in names}


def run_modules(scenario: Scenario, draws: dict[str, np.ndarray], seed: int, block: int) -> dict[str, np.ndarray]:
    """Run every plan module on one block, in order, feeding enabled links between them.

    Returns ``"module.indicator"`` -> array.
    """
    indicators: dict[str, np.ndarray] = {}
    params = all_params()
    enabled = scenario.enabled_links
    for name in plan_modules.MODULE_NAMES:
        declared = params[name]
        module_draws = {u: draws[f"{name}.{u}"] for u in declared.uncertainties}
        linked = linked_for(name, enabled, indicators, draws)
        out = plan_modules.load(name).simulate(
            scenario.lever_values(name), module_draws, stream(seed, _MODULE, block, name), linked
        )
        undeclared = set(out) - set(declared.indicators)
        if undeclared:
            raise RuntimeError(f"module {name} returned undeclared indicators {sorted(undeclared)}")
        indicators.update({f"{name}.{k}": v for k, v in out.items()})
    return indicators


def evaluate(targets: tuple[Target, ...], indicators: dict[str, np.ndarray], thresholds: dict[str, float]):
    """Per modelled target: (value at the deadline, met) arrays of shape (n,)."""
    values, met = {}, {}
    for target in targets:
        if not target.modelled:
            continue
        kind = indicator_spec(target.indicator).kind
        value = deadline_value(target, kind, indicators[target.indicator])
        values[target.id] = value
        met[target.id] = is_met(target, value, thresholds.get(target.id))
    return values, met


@dataclass
class BlockResult:
    """Everything one block produced."""

    indicators: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]


def run_block(scenario: Scenario, seed: int, block: int, n: int) -> BlockResult:
    draws = sample_inputs(scenario, seed, block, n)
    indicators = run_modules(scenario, draws, seed, block)
    values, met = evaluate(load_registry(), indicators, scenario.thresholds)
    return BlockResult(indicators, values, met, draws)


def _run_task(scenario: Scenario, seed: int, blocks: list[tuple[int, int]]) -> list[BlockResult]:
    return [run_block(scenario, seed, b, n) for b, n in blocks]


def plan_blocks(replications: int) -> list[tuple[int, int]]:
    """(block index, size) covering ``replications``."""
    return [(b, min(BLOCK, replications - b * BLOCK)) for b in range(-(-replications // BLOCK))]


def _chunks(blocks: list[tuple[int, int]], chunk_size: int) -> Iterator[list[tuple[int, int]]]:
    per = max(1, -(-chunk_size // BLOCK))
    for i in range(0, len(blocks), per):
        yield blocks[i : i + per]


def simulate(
    scenario: Scenario,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    chunk_size: int | None = None,
    progress: bool | Callable[[int], None] = False,
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
        Processes to run chunks in (1 runs in this process).
    chunk_size : int, optional
        Replications per task, rounded up to whole blocks of :data:`BLOCK`; default spreads the
        blocks evenly over the workers (several tasks each, for a smooth progress bar).
    progress : bool or callable
        ``True`` shows a progress bar on a terminal; a callable receives the number of
        replications each finished task completed.

    Returns
    -------
    Results

    Raises
    ------
    ValueError
        For fewer than 1 replication or worker, or more replications than fit in memory
        (:func:`check_budget`).
    """
    from .results import Results

    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    check_budget(replications, 1, workers)
    started = time.time()
    blocks = plan_blocks(replications)
    if chunk_size is None:
        chunk_size = BLOCK * max(1, len(blocks) // (4 * workers))
    tasks = list(_chunks(blocks, chunk_size))
    done: dict[int, list[BlockResult]] = {}
    bar = _progress(progress, replications)
    if workers == 1:
        for i, task in enumerate(tasks):
            done[i] = _run_task(scenario, seed, task)
            bar(sum(n for _, n in task))
    else:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            futures = {pool.submit(_run_task, scenario, seed, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                i = futures[future]
                done[i] = future.result()
                bar(sum(n for _, n in tasks[i]))
        except BaseException:  # Ctrl-C, SIGTERM or an error: do not wait for the other tasks
            _stop(pool)
            raise
        pool.shutdown()
    bar(None)
    parts = [block for i in range(len(tasks)) for block in done[i]]
    return Results.from_blocks(
        scenario, parts, seed=seed, replications=replications, workers=workers,
        started=started, finished=time.time(),
    )


def _progress(progress: bool | Callable[[int], None], total: int) -> Callable[[int | None], None]:
    """A callback taking replications just completed (``None`` to finish).

    ``True`` draws a one-line bar on stderr when it is a terminal and the run has taken more
    than a second; the line is cleared at the end so the printed tables stay clean.
    """
    if callable(progress):
        return lambda n: None if n is None else progress(n)
    if not progress or not sys.stderr.isatty():
        return lambda n: None
    start, done, shown = time.monotonic(), 0, False

    def update(n: int | None) -> None:
        nonlocal done, shown
        if n is None:
            if shown:
                sys.stderr.write("\r" + " " * 60 + "\r")
                sys.stderr.flush()
            return
        done += n
        elapsed = time.monotonic() - start
        if elapsed < 1.0 or done >= total:
            return
        width = 30
        filled = int(width * done / total)
        eta = elapsed * (total - done) / done
        sys.stderr.write(f"\rsimulating [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  ~{eta:.0f} s left ")
        sys.stderr.flush()
        shown = True

    return update
