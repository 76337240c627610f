"""One block of replications: its random streams, sampled inputs, module runs and targets.

The pure core under :mod:`model.engine` (which cuts a run into blocks and runs them on workers)
and :meth:`model.results.Results.with_levers` (which reruns some modules of saved blocks). Every
random stream is a ``SeedSequence(seed, spawn_key=(domain, block, name))``: each uncertainty
``module.name`` has its own stream of standard normals per block, each module its own stream for
its random events per block, so a block's numbers depend only on the seed, the block index and
the scenario's structure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import modules as plan_modules
from .distributions import correlation_matrix, gaussian_copula_normals, ppf_rows, uniforms
from .links import Before, linked_for
from .params import all_params, indicator_spec
from .replay import REPLAY_BYTES, Recording, StreamMismatch
from .scenario import Scenario
from .targets import Target, deadline_value, is_met, load_registry

#: Replications per random block (the unit of seeding; never change it lightly: results depend
#: on it). 2,500 since issue 12 (500 before): the modules' per-block costs are mostly fixed
#: numpy call overhead, so the whole model took 2.5 s of CPU at 2,500 against 3.4 s at 500
#: (1,000: 3.0, 2,000: 2.75, 5,000: 2.6; 10,000 replications of plan.toml, same machine and
#: load), and 10,000 replications make four blocks, two for each of two workers.
BLOCK = 2500

_UNCERTAINTY, _MODULE = 0, 1
MODULE_DOMAIN = _MODULE  # the stream domain of the modules' random events (model.smc draws its first particles so)



def _stream_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def stream(seed: int, domain: int, block: int, name: str) -> np.random.Generator:
    """The generator for one named stream of one block."""
    seq = np.random.SeedSequence(seed, spawn_key=(domain, block, _stream_id(name)))
    return np.random.Generator(np.random.PCG64(seq))


def sample_normals(scenario: Scenario, seed: int, block: int, n: int) -> np.ndarray:
    """The independent standard normals behind every uncertainty of one block: (uncertainties in
    sorted name order, n); :func:`inputs_from_normals` maps them to the inputs."""
    names = sorted(scenario.uncertainties)
    z = np.empty((len(names), n))
    for i, name in enumerate(names):
        stream(seed, _UNCERTAINTY, block, name).standard_normal(n, out=z[i])
    return z


def sample_inputs(scenario: Scenario, seed: int, block: int, n: int) -> dict[str, np.ndarray]:
    """Draw every uncertainty of ``scenario`` for one block: ``"module.name"`` -> (n,)."""
    return inputs_from_normals(scenario, sample_normals(scenario, seed, block, n))


def inputs_from_normals(scenario: Scenario, z: np.ndarray) -> dict[str, np.ndarray]:
    """Every uncertainty of ``scenario`` from independent standard normals ``z`` (one row per
    uncertainty, in sorted name order, one column per replication): the correlated ones mixed by
    the Gaussian copula of ``scenario.correlations``, then each through its distribution's ppf.
    :func:`sample_inputs` and :mod:`model.sensitivity` both map through it."""
    names = sorted(scenario.uncertainties)
    z = np.array(z, dtype=float)
    if scenario.correlations:
        group, matrix = correlation_matrix(scenario.correlations)
        at = [names.index(g) for g in group]
        z[at] = gaussian_copula_normals(z[at], matrix)
    values = ppf_rows([scenario.uncertainties[name] for name in names], uniforms(z))
    return dict(zip(names, values))


@dataclass(frozen=True)
class Earlier:
    """An earlier run of the same block and draws under other levers: its scenario and its
    indicators (``"module.indicator"`` -> array)."""

    scenario: Scenario
    indicators: dict[str, np.ndarray]


def run_modules(scenario: Scenario, draws: dict[str, np.ndarray], seed: int, block: int,
                earlier: Earlier | None = None, streams: dict[str, Recording] | None = None,
                ) -> dict[str, np.ndarray]:
    """Run every plan module on one block, in order, feeding enabled links between them.

    With ``earlier``, a module whose levers and linked inputs are those it had then would compute
    exactly its earlier indicators (the same draws, stream, levers and linked inputs, compared
    value by value), which are taken instead; a module that must run again and defines
    ``simulate_again`` (:class:`model.links.Before`) is given what it had then, to reuse the
    parts its changes cannot reach. With ``streams`` (module -> :class:`model.replay.Recording`
    of its stream of this block, filled in as modules run), a module's random numbers are read
    back instead of drawn again. Returns ``"module.indicator"`` -> array.
    """
    indicators: dict[str, np.ndarray] = {}
    params = all_params()
    enabled = scenario.enabled_links
    for name in plan_modules.MODULE_NAMES:
        declared = params[name]
        linked = linked_for(name, enabled, indicators, draws)
        levers = scenario.lever_values(name)
        before = None if earlier is None else Before(
            earlier.scenario.lever_values(name),
            linked_for(name, earlier.scenario.enabled_links, earlier.indicators, draws),
            {k.split(".", 1)[1]: v for k, v in earlier.indicators.items() if k.split(".", 1)[0] == name})
        if before is not None and before.same(levers, linked):
            out = dict(before.indicators)
        else:
            args = (plan_modules.load(name), levers, {u: draws[f"{name}.{u}"] for u in declared.uncertainties},
                    linked, before)
            fresh = partial(stream, seed, _MODULE, block, name)
            if streams is None:
                out = _simulate(*args, fresh())
            else:
                try:
                    out = _simulate(*args, streams.setdefault(name, Recording(fresh())).player())
                except StreamMismatch:  # it draws differently now: a fresh stream, recorded anew
                    streams[name] = Recording(fresh())
                    out = _simulate(*args, streams[name].player())
        undeclared = set(out) - set(declared.indicators)
        if undeclared:
            raise RuntimeError(f"module {name} returned undeclared indicators {sorted(undeclared)}")
        indicators.update({f"{name}.{k}": v for k, v in out.items()})
    return indicators


def _simulate(module, levers, draws, linked, before, rng) -> dict[str, np.ndarray]:
    again = None if before is None else getattr(module, "simulate_again", None)
    return module.simulate(levers, draws, rng, linked) if again is None else again(levers, draws, rng, linked, before)


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


def run_block(scenario: Scenario, seed: int, block: int, n: int,
              streams: dict[str, Recording] | None = None) -> BlockResult:
    """Sample, simulate and evaluate one block; with ``streams`` (empty), record each module's
    random stream into it (:func:`run_modules`) for later lever moves."""
    draws = sample_inputs(scenario, seed, block, n)
    indicators = run_modules(scenario, draws, seed, block, streams=streams)
    values, met = evaluate(load_registry(), indicators, scenario.thresholds)
    return BlockResult(indicators, values, met, draws)


def run_recorded(scenario: Scenario, seed: int, blocks: list[tuple[int, int]], progress=None,
                 ) -> tuple[list[BlockResult], dict[int, dict[str, Recording]] | None]:
    """Run ``blocks`` in this process, recording each module's stream of every block
    (:mod:`model.replay`) for the lever moves to come: (their results, block -> module ->
    recording), the recordings None once they would not fit in :data:`REPLAY_BYTES`."""
    parts: list[BlockResult] = []
    streams: dict[int, dict[str, Recording]] | None = {}
    for b, n in blocks:
        parts.append(run_block(scenario, seed, b, n, None if streams is None else streams.setdefault(b, {})))
        held = 0 if streams is None else sum(r.nbytes for block in streams.values() for r in block.values())
        if held * len(blocks) > REPLAY_BYTES * len(parts):  # at this rate, every block's would not fit
            streams = None
        if progress is not None:
            progress(n)
    return parts, streams


def plan_blocks(replications: int) -> list[tuple[int, int]]:
    """(block index, size) covering ``replications``."""
    return [(b, min(BLOCK, replications - b * BLOCK)) for b in range(-(-replications // BLOCK))]

