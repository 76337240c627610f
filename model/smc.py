"""Conditioning by sequential Monte Carlo with rejuvenation, when likelihood weighting collapses.

Likelihood weighting (:mod:`model.conditioning`) re-weights the replications of one run; with many
published figures a few replications carry all the weight (twenty figures of 2017 and the first
half of 2018 leave an effective sample size of about 1 in 100,000). The published series are
driven mostly by the modules' own random events (a year's shocks, which firms invest), far less
by the sampled inputs (the correlation of a 2017 figure between two runs with the same inputs
and different events is 0.0-0.3 for most series), so moving the inputs alone cannot help: the
events must move too.

Method: a tempered resample-move sampler (Del Moral, Doucet & Jasra 2006, *J. R. Statist. Soc.
B* 68: 411-436; Chopin 2002, *Biometrika* 89: 539-551). Particles are replications: their
independent standard normals ``z`` (the inputs, through :func:`model.blocks.inputs_from_normals`)
and their module streams (:mod:`model.latent`). From the prior (beta = 0) to the posterior
(beta = 1) the likelihood is raised in steps, each beta chosen so that the incremental weights
keep half the particles effective (:data:`TARGET_ESS`); after each step the particles are
resampled (systematic resampling) and moved by Metropolis-Hastings steps that move ``z`` by a
preconditioned Crank-Nicolson step and the module events by the same coefficient
(:mod:`model.latent`), in two kinds of move (below). Every proposal keeps the prior, so a move is
accepted with probability min(1, (L'/L)^beta). Each kind's step is adapted to an acceptance of
about a quarter (:class:`StepSizes`), and each stage makes moves until the particles have moved,
on average, :data:`MOVES_PER_STAGE` accepted times of each kind.

Small steps alone leave the events the figures do not constrain (the years after them, most
firms' projects) nearly where the resampled ancestor had them, which makes the forecast of 2020
too narrow: each stage first probes the cells of the events (a call's array, or one year of it:
:func:`model.latent.cells_of`), redrawing one random cell of each particle, and the cells whose
redraws are nearly always accepted are moved by moves of their own ("free" moves, redrawing them
whole at first), alternating with "local" moves of every other cell by ``rho``. (Measured on one
truth with twenty figures, 1,000 particles: the 80 % interval of the 2020 tech-renovation share
was 8.0 points wide with small steps alone, 13.6 with four times as many moves, and 13.7 with the
free cells redrawn at the first cost; about 80-90 % of the cells are free.) Each kind adapts its
own step: hundreds of free cells redrawn at once do change the figures at high beta, and when
one proposal moved both kinds their rejections drove ``rho`` to its floor (0.9999), so that the
constrained cells no longer moved and the particles of a small population kept their
ancestors' (twenty groups of 100 particles on one truth: the groups' medians of the 2020
tech-renovation share scattered by 3.0 points, an 80 % interval being 8.4 wide; 2.0 with the moves
apart, where ``rho`` ends near 0.997). Whatever the probes find, every proposal keeps the prior
and so the stage's target; the free cells, the kinds' steps and when a stage stops follow the
population, as in any adaptive SMC sampler, which is consistent as the particles grow rather
than exact at a given number (the calibration checks in ``tests/test_calibration_smc.py``).

Particles may belong to groups with their own figures (``group_of``): each group is tempered,
resampled and moved on its own beta.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .blocks import MODULE_DOMAIN, evaluate, inputs_from_normals, run_modules, sample_normals, stream
from .conditioning import MIN_EFFECTIVE, ConditioningError, log_likelihood, model_values, normalised
from .latent import LatentStream, Steps, cells_of, gather, merge
from .observed import Observed
from .params import all_params
from .scenario import Scenario
from .stats import effective_size
from .targets import load_registry

__all__ = ["MIN_PARTICLES", "SMC_BLOCK", "TARGET_ESS", "Population", "smc"]

#: Particles per block: at most techreform's CHUNK (2,048, one chunk per block, so every drawn
#: array has the block's particles on its first or last axis) and unlike any other drawn
#: dimension (firms, plants, years).
SMC_BLOCK = 2000
#: Fewest particles: every block must be larger than any other dimension a module draws (453,
#: the polluting firms), so that the particles' axis of each array is never in doubt.
MIN_PARTICLES = 500
#: Each tempering step keeps this share of the particles effective (the usual choice: Jasra et al.
#: 2011, *Scand. J. Statist.* 38: 1-22).
TARGET_ESS = 0.5
#: Accepted moves of each kind (local, free) per particle each stage, on average (assumption:
#: with the free cells redrawn whole, two gave the same 2020 intervals as eight without; more
#: costs time in proportion).
MOVES_PER_STAGE = 2.0
MAX_PROPOSALS = 12  # per stage, both kinds, however low the acceptance
#: Probes per stage, and the share of a cell's probes that must be accepted for it to be free
#: (assumption: two probes give each of ~200 cells about ten tries at 1,000 particles; a cell
#: whose redraw is accepted nine times in ten barely touches the figures, and if it does the
#: free moves' acceptance shows it and their step adapts).
PROBES = 2
FREE_SHARE = 0.9
_SMC_DOMAIN = 7  # stream domains of the moves: 7 + stage * (MAX_PROPOSALS + PROBES) + proposal


@dataclass
class Block:
    """One block of particles: normals ``z`` (uncertainties, n), module recordings, results."""

    z: np.ndarray
    streams: dict
    indicators: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    log_l: np.ndarray

    @property
    def n(self) -> int:
        return self.z.shape[1]


@dataclass
class Population:
    """The particles after conditioning, block by block, with what the run reports of them."""

    blocks: list[Block]
    #: per particle, summing to 1 in each group: the final stage's importance weights (the last
    #: step to beta = 1 reweights the particles and does not resample them)
    weights: np.ndarray
    betas: list[np.ndarray] = field(default_factory=list)  # per stage, per group
    acceptance: list[float] = field(default_factory=list)  # per proposal
    effective: list[float] = field(default_factory=list)  # smallest group ESS of each stage's weights
    free_cells: list[float] = field(default_factory=list)  # share of the cells found free, per stage
    prior: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # the first particles' results

    def cat(self, attr: str) -> dict[str, np.ndarray]:
        """``"indicators"``, ``"values"`` or ``"met"`` of every particle, in order."""
        first = getattr(self.blocks[0], attr)
        return {k: np.concatenate([getattr(b, attr)[k] for b in self.blocks]) for k in first}

    def inputs(self, scenario: Scenario) -> dict[str, np.ndarray]:
        """The sampled inputs of every particle."""
        return inputs_from_normals(scenario, np.concatenate([b.z for b in self.blocks], axis=1))


def _sizes(particles: int) -> list[int]:
    count = -(-particles // SMC_BLOCK)
    return [particles // count + (1 if i < particles % count else 0) for i in range(count)]


def _simulate(scenario: Scenario, z: np.ndarray, old: dict | None, steps: Steps | float, seed: int, domain: int,
              block: int, loglik: Callable) -> Block:
    n = z.shape[1]
    streams = {name: LatentStream(None if old is None else old[name], steps, stream(seed, domain, block, name),
                                  (name,), n) for name in all_params()}
    inputs = inputs_from_normals(scenario, z)
    indicators = run_modules(scenario, inputs, seed, block, streams=streams)
    values, met = evaluate(load_registry(), indicators, scenario.thresholds)
    return Block(z, {k: s.recording for k, s in streams.items()}, indicators, values, met,
                 loglik(indicators, values, met))


@dataclass(frozen=True)
class Likelihood:
    """The log-likelihood of each particle's group's figures, for the particles of one block."""

    figures_of: Sequence[Observed]
    group_of: np.ndarray

    def of_block(self, start: int, n: int) -> Callable:
        """(indicators, values, met) of the block holding particles ``start:start + n`` -> (n,)."""
        group = self.group_of[start:start + n]

        def log_l(indicators, values, met) -> np.ndarray:
            out, series = np.zeros(n), {}
            for g in np.unique(group):
                rows = group == g
                for figure in self.figures_of[g].figures:
                    out[rows] += log_likelihood(figure, model_values(figure, indicators, values, met, series)[rows])
            return out
        return log_l


def _tempered(log_l: np.ndarray, beta: float, target: float) -> float:
    """The next beta: the largest step from ``beta`` whose incremental weights keep ``target``
    effective particles (all the way to 1 when they do)."""
    def ess(step: float) -> float:
        return effective_size(_weights(log_l, step))
    if ess(1.0 - beta) >= target:
        return 1.0
    low, high = 0.0, 1.0 - beta
    for _ in range(60):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if ess(mid) >= target else (low, mid)
    return beta + max(low, 1e-12)


def _weights(log_l: np.ndarray, step: float) -> np.ndarray:
    """The incremental weights exp(step * log L), normalised (0 where L is 0)."""
    with np.errstate(invalid="ignore"):
        return normalised(np.where(np.isfinite(log_l), step * log_l, -np.inf))


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = weights.shape[0]
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)


@dataclass(frozen=True)
class StepSizes:
    """The moves' coefficients: ``local`` moves every cell but the free ones by this rho (pCN),
    ``free`` moves the free cells alone by this one (0: redrawn whole). Each kind of move is
    adapted on its own acceptance: redrawing hundreds of free cells at once can change the
    figures even when each alone barely does, and a rejection of that kind must not shrink the
    other kind's step (it did when one proposal moved both: rho sank to its floor, 0.9999, and the
    constrained cells stopped moving)."""

    local: float = 0.99
    free: float = 0.0

    def adapted(self, kind: str, accepted: float) -> StepSizes:
        """A smaller step (rho nearer 1) of ``kind`` when few of its proposals were accepted, a
        larger one when many."""
        rho = getattr(self, kind)
        gap = 1.0 - rho
        gap *= 0.5 if accepted < 0.15 else (1.5 if accepted > 0.4 else 1.0)
        lowest = 0.5 if kind == "local" else 0.0
        return replace(self, **{kind: float(min(0.9999, max(lowest, 1.0 - gap)))})


def smc(scenario: Scenario, figures_of: Sequence[Observed], group_of: np.ndarray, seed: int,
        progress: Callable[[str], None] | None = None) -> Population:
    """Condition particles of ``scenario`` on observed figures by tempered resample-move.

    Parameters
    ----------
    figures_of : sequence of Observed
        The figures of each group (one group: a run conditioned on one observed file).
    group_of : (particles,) int array
        Each particle's group, grouped in order (group 0 first).
    seed : int
        Root seed: the initial particles are those of blocks drawn like a run's, the moves' streams
        have domains of their own.

    Raises
    ------
    ConditioningError
        A group whose figures no particle, or fewer than :data:`model.conditioning.MIN_EFFECTIVE`,
        can reproduce at all (an exact outcome no particle matches).
    """
    group_of = np.asarray(group_of)
    if group_of.shape[0] < MIN_PARTICLES:
        raise ConditioningError(figures_of[0].path, None, f"likelihood weighting leaves too few effective "
                                f"replications, and sequential Monte Carlo needs at least {MIN_PARTICLES} particles: "
                                f"run at least {MIN_PARTICLES} replications")
    sizes, groups = _sizes(group_of.shape[0]), len(figures_of)
    likelihood = Likelihood(figures_of, group_of)
    blocks, start = [], 0
    for b, n in enumerate(sizes):  # the first particles: drawn as a run's blocks are
        z = sample_normals(scenario, seed, b, n)
        blocks.append(_simulate(scenario, z, None, 1.0, seed, MODULE_DOMAIN, b, likelihood.of_block(start, n)))
        start += n
    population, beta, stage = Population(blocks, np.zeros(group_of.shape[0])), np.zeros(groups), 0
    population.prior = {attr: population.cat(attr) for attr in ("indicators", "values", "met")}  # beta = 0
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SMC_DOMAIN - 1,)))
    step = StepSizes()
    while beta.min() < 1.0:
        log_l = np.concatenate([b.log_l for b in population.blocks])
        index, smallest = np.arange(log_l.shape[0]), math.inf
        for g in np.flatnonzero(beta < 1.0):
            rows = np.flatnonzero(group_of == g)
            possible = int(np.isfinite(log_l[rows]).sum())
            if possible < min(MIN_EFFECTIVE, rows.size):
                raise ConditioningError(figures_of[g].path, None, f"only {possible} of {rows.size} particles "
                                        "can reproduce the figures at all; check the exact outcomes, or run more "
                                        "replications")
            new = _tempered(log_l[rows], beta[g], TARGET_ESS * possible)
            w = _weights(log_l[rows], new - beta[g])
            smallest = min(smallest, effective_size(w))
            if new >= 1.0:  # the posterior: these weights are the group's, its particles stay
                population.weights[rows] = w
            else:
                index[rows] = rows[_systematic(w, rng)]
            beta[g] = new
        population.betas.append(beta.copy())
        population.effective.append(smallest)
        if beta.min() >= 1.0:
            break
        population.blocks = _resampled(population.blocks, index, sizes, rng)
        step = _moves(scenario, population, beta[group_of], step, seed, stage, likelihood, rng)
        stage += 1
        if progress is not None:
            progress(f"stage {stage}: beta {beta.min():.3g}, accepted {population.acceptance[-1]:.0%}")
    return population


def _resampled(blocks: list[Block], index: np.ndarray, sizes: list[int], rng) -> list[Block]:
    """The particles ``index`` (duplicates and all) cut into blocks of ``sizes``."""
    cuts = np.cumsum(sizes)[:-1]
    parts = np.split(index, cuts)
    names = list(blocks[0].streams)
    streams = {name: gather([b.streams[name] for b in blocks], [b.n for b in blocks], index, sizes, rng)
               for name in names}

    def pick(attr):
        whole = {k: np.concatenate([getattr(b, attr)[k] for b in blocks]) for k in getattr(blocks[0], attr)}
        return [{k: v[p] for k, v in whole.items()} for p in parts]
    z = np.concatenate([b.z for b in blocks], axis=1)
    log_l = np.concatenate([b.log_l for b in blocks])
    ind, val, met = pick("indicators"), pick("values"), pick("met")
    return [Block(z[:, p], {name: streams[name][j] for name in names}, ind[j], val[j], met[j], log_l[p])
            for j, p in enumerate(parts)]


def _moves(scenario, population: Population, beta: np.ndarray, step: StepSizes, seed: int, stage: int,
           likelihood: Likelihood, rng) -> StepSizes:
    """Metropolis-Hastings moves of every particle: :data:`PROBES` probes that each redraw one
    random cell of a particle's events or inputs whole, to find the free cells (those whose redraw keeps
    the likelihood: at least :data:`FREE_SHARE` of their probes accepted), then local moves (every
    other cell by ``step.local``) and free moves (the free cells by ``step.free``), the kind that
    has moved less first, until the particles have moved :data:`MOVES_PER_STAGE` accepted times of
    each kind on average (at most :data:`MAX_PROPOSALS` in all). Returns the adapted steps."""
    first = population.blocks[0]
    cells = [("z", i) for i in range(first.z.shape[0])] + cells_of(first.streams, first.n)
    index = {cell: i for i, cell in enumerate(cells)}
    tried, taken = np.zeros(len(cells)), np.zeros(len(cells))
    domain = _SMC_DOMAIN + stage * (MAX_PROPOSALS + PROBES)
    for probe in range(PROBES):
        assigned = [rng.integers(0, len(cells), block.n) for block in population.blocks]
        take = _propose(scenario, population, beta, [Steps(probe=a, cells=index) for a in assigned],
                        seed, domain + probe, likelihood, rng)
        for a, t in zip(assigned, take):
            tried += np.bincount(a, minlength=len(cells))
            taken += np.bincount(a, weights=t, minlength=len(cells))
    free = frozenset(cell for i, cell in enumerate(cells) if tried[i] >= 3 and taken[i] >= FREE_SHARE * tried[i])
    population.free_cells.append(len(free) / max(1, len(cells)))
    moved = {"local": 0.0, "free": 0.0 if free else math.inf}
    for proposal in range(MAX_PROPOSALS):
        kind = "free" if moved["free"] < moved["local"] else "local"
        steps = Steps(1.0, free, step.free) if kind == "free" else Steps(step.local, free, 1.0)
        take = _propose(scenario, population, beta, [steps] * len(population.blocks), seed,
                        domain + PROBES + proposal, likelihood, rng)
        share = sum(int(t.sum()) for t in take) / sum(t.size for t in take)
        population.acceptance.append(share)
        moved[kind] += share
        step = step.adapted(kind, share)
        if min(moved.values()) >= MOVES_PER_STAGE:
            break
    return step


def _propose(scenario, population: Population, beta: np.ndarray, steps: list[Steps], seed: int,
             domain: int, likelihood: Likelihood, rng) -> list[np.ndarray]:
    """One Metropolis-Hastings proposal for every particle, block by block (``steps`` per
    block): replaces the accepted ones, returns which were."""
    start, out = 0, []
    for j, block in enumerate(population.blocks):
        n = block.n
        rho_z = steps[j].of_inputs(block.z.shape[0], n)
        noise = stream(seed, domain, j, "z").standard_normal(block.z.shape)
        z = np.where(rho_z >= 1.0, block.z, rho_z * block.z + np.sqrt(1.0 - rho_z * rho_z) * noise)
        new = _simulate(scenario, z, block.streams, steps[j], seed, domain, j, likelihood.of_block(start, n))
        with np.errstate(invalid="ignore"):
            ratio = beta[start:start + n] * (new.log_l - block.log_l)
        ratio = np.where(np.isfinite(new.log_l), np.nan_to_num(ratio, nan=0.0, posinf=0.0), -np.inf)
        take = np.log(rng.random(n)) < ratio
        population.blocks[j] = _accepted(block, new, take, rng)
        out.append(take)
        start += n
    return out


def _accepted(old: Block, new: Block, take: np.ndarray, rng) -> Block:
    def pick(a: dict, b: dict) -> dict:
        return {k: np.where(take.reshape((-1,) + (1,) * (a[k].ndim - 1)), b[k], a[k]) for k in a}
    streams = {name: merge(old.streams[name], new.streams[name], take, rng) for name in old.streams}
    return Block(np.where(take, new.z, old.z), streams, pick(old.indicators, new.indicators),
                 pick(old.values, new.values), pick(old.met, new.met), np.where(take, new.log_l, old.log_l))
