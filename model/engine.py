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

import hashlib
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
    """
    from .results import Results

    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
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
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run_task, scenario, seed, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                i = futures[future]
                done[i] = future.result()
                bar(sum(n for _, n in tasks[i]))
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
