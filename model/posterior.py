"""The forecast given observed figures: likelihood weights when they hold, else sequential Monte Carlo.

:func:`posterior` is what :func:`model.simulate` does with observed figures. It first weights the
run's own replications (:mod:`model.conditioning`: exact, fast, and the run keeps its draws, so
lever moves and paired comparisons work as for any run). When the figures are too many or too
sharp for that (fewer than :data:`~model.conditioning.MIN_EFFECTIVE` effective replications
left) it conditions by tempered resample-move instead (:mod:`model.smc`): as many particles as
the run has replications, started from the prior and moved to the posterior, which costs a
simulation of every particle per Metropolis-Hastings proposal (about ten per tempering stage).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .conditioning import ConditioningError, condition_run, model_values, observed_meta
from .observed import Observed
from .results import Results, _meta
from .score import mixture_pit
from .smc import MIN_PARTICLES, PROBES, smc
from .tables import quantiles

__all__ = ["METHOD_SMC", "METHOD_WEIGHTS", "posterior"]

METHOD_WEIGHTS = "likelihood weighting"
METHOD_SMC = "sequential Monte Carlo (tempered resample-move)"


def posterior(results: Results, observed: Observed, notify: Callable[[str], None] | None = None) -> Results:
    """``results`` conditioned on ``observed``: weighted in place when likelihood weighting keeps
    enough effective replications, else a new Results of sequential Monte Carlo particles.

    Raises
    ------
    ConditioningError
        When sequential Monte Carlo cannot condition either (no particle reproduces an exact
        outcome).
    """
    try:
        condition_run(results, observed)
    except ConditioningError as refusal:
        if results.replications < MIN_PARTICLES:
            raise ConditioningError(refusal.file, refusal.key, f"{refusal.message}; with at least {MIN_PARTICLES} "
                                    "replications the run is conditioned by sequential Monte Carlo instead",
                                    refusal.line) from None
        if notify is not None:
            notify(f"likelihood weighting on the {len(observed)} figures leaves too few effective replications: "
                   f"conditioning by sequential Monte Carlo instead ({results.replications:,} particles, each "
                   "tempering stage simulates them about twenty times)")
        return particles(results, observed, notify)
    results.meta["conditioning"] = METHOD_WEIGHTS
    return results


def particles(results: Results, observed: Observed, notify: Callable[[str], None] | None = None) -> Results:
    """A Results of the sequential Monte Carlo particles of ``results``' scenario and seed,
    conditioned on ``observed``, weighted by the last stage's importance weights."""
    started = time.time()
    scenario, n = results.scenario, results.replications
    population = smc(scenario, [observed], np.zeros(n, dtype=int), results.seed, progress=notify)
    out = Results(scenario, results.seed, n, population.cat("indicators"), population.cat("values"),
                  population.cat("met"), _meta(1, started, time.time()), population.inputs(scenario),
                  weights=population.weights, observed=observed)
    out._streams = None  # the particles' events are not the blocks' streams: never replayed as such
    out._particles = [(block.n, block.streams) for block in population.blocks]  # lever moves replay these
    out.meta.update(
        observed_meta(observed, out.effective_replications), conditioning=METHOD_SMC,
        smc_stages=len(population.betas),
        smc_proposals=len(population.acceptance) + PROBES * len(population.free_cells),
        smc_acceptance=round(float(np.median(population.acceptance)), 3) if population.acceptance else None,
        prior_figures=prior_figures(observed, population.prior))
    return out


def prior_figures(observed: Observed, prior: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """The forecast before the figures, per figure, from the particles' first (prior) draws: the
    10/50/90 % quantiles and the published value's percentile (a series), or the likelihood (an
    outcome). A particle run's own replications are the posterior, so the brief's "before"
    column reads these (:mod:`model.report.observed_brief`)."""
    out, cache = {}, {}
    for figure in observed.figures:
        x = model_values(figure, prior["indicators"], prior["values"], prior["met"], cache)
        if figure.kind == "series":
            p10, p50, p90 = (float(q) for q in np.ravel(quantiles(x, (0.1, 0.5, 0.9))))
            out[figure.key] = {"p10": p10, "p50": p50, "p90": p90,
                               "pit": mixture_pit(x, None, figure.value, figure.sd)}
        else:
            out[figure.key] = {"share": float(np.nanmean(x))}
    return out
