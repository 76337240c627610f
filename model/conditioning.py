"""Conditioning a run on observed figures: likelihood weights of its replications (issue 11).

Method: importance weights by likelihood weighting. The replications of a run are draws from the
forecast (the prior over everything the model samples); given observed figures y_k
(:mod:`model.observed`), replication i gets the weight

    w_i  proportional to  prod_k L_k(i),   L_k(i) = phi((y_k - m_k(i)) / sd_k) / sd_k

where m_k(i) is the model's value of figure k in replication i (a published series' value for
its year, :func:`model.series.series_values`; the value a target tests at its deadline; an
event's date) and phi the standard normal density: the figure is taken to be the model's value
plus a normal measurement error of sd_k (a partial-year reading is compared with the full-year
value, with the larger sd of :func:`model.observed.partial_sd`). An exact outcome (a target met
or missed, a milestone not done by a date) has L = 1 where the replication agrees and 0 where
not. A replication whose model value is undefined (NaN) gets weight 0. The weights are
normalised to sum to 1; a weighted mean sum_i w_i x_i estimates the forecast's mean of x given
the figures, and so on for any statistic (``Results.weights``).

Effective sample size (Kish's; Kong, Liu & Wong 1994, J. Amer. Statist. Assoc. 89: 278-288;
Owen, *Monte Carlo theory, methods and examples*, 2013, ch. 9.3): ESS = (sum w)^2 / sum w^2,
between 1 and the number of replications (equal weights). It is the number of equally weighted
draws that would give a mean with the same variance; intervals of a conditioned run use it in
place of the replications. Below :data:`MIN_EFFECTIVE` the run is refused with a
:class:`ConditioningError` naming the most informative figure (the one whose weights alone
leave the smallest ESS) and what to do: more replications (the ESS grows in proportion to
them, the weights' spread being a property of the forecast and the figures), or a looser sd.

No resampling: resampling (sampling replications with replacement in proportion to w) only adds
noise to every estimate (Owen ch. 9.4); it pays in sequential Monte Carlo, where the resampled
draws are moved on. When the weights collapse (an ESS below :data:`MIN_EFFECTIVE`),
:func:`model.posterior.posterior` conditions by sequential Monte Carlo instead (:mod:`model.smc`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .observed import Figure, Observed, ObservedError
from .series import series_values
from .stats import effective_size, equal_weights
from .timeline import year_index

__all__ = ["MIN_EFFECTIVE", "Conditioning", "ConditioningError", "condition", "condition_run", "effective_size",
           "equal_weights", "log_likelihoods", "model_values", "moved_weights", "normalised", "observed_meta",
           "refuse_stream"]

#: Smallest effective sample size a conditioned run may have. With 200 effective replications a
#: likelihood near 50 % has a Wilson 95 % interval of about +/- 6.9 points, the widest that still
#: tells the traffic-light bands apart (red < 50 % <= amber < 80 % <= green); below it a few
#: replications carry most of the weight and the ESS itself becomes an unreliable estimate
#: (Owen ch. 9.3). Not a share of the replications: a larger run with the same figures has a
#: proportionally larger ESS, so a relative floor would refuse a well-sampled large run.
MIN_EFFECTIVE = 200


class ConditioningError(ObservedError):
    """The figures leave too few effective replications: the message names the most informative
    figure and says what to do (the command line prints it and exits 2)."""


@dataclass(frozen=True)
class Conditioning:
    """Normalised weights (replications,), their effective sample size, and each figure's own ESS."""

    weights: np.ndarray
    effective: float
    alone: dict[str, float]


def model_values(figure: Figure, indicators: Mapping[str, np.ndarray], values: Mapping[str, np.ndarray],
                 met: Mapping[str, np.ndarray], series: dict[str, np.ndarray]) -> np.ndarray:
    """The model's value of ``figure`` per replication (met: 1.0 / 0.0); ``series`` caches the
    series computed so far (the one mapping of a figure to replications: conditioning and
    :mod:`model.scorecard` both use it)."""
    if figure.kind == "series":
        if figure.id not in series:
            series[figure.id] = series_values(figure.id, indicators)
        return series[figure.id][:, year_index(figure.year)]
    if figure.kind == "met":
        return np.asarray(met[figure.id], dtype=float)
    return np.asarray(values[figure.id], dtype=float)


def log_likelihood(figure: Figure, model: np.ndarray) -> np.ndarray:
    """log L of ``figure`` per replication, up to a constant; -inf where impossible or undefined."""
    with np.errstate(invalid="ignore"):
        if figure.kind == "met":
            ok = model == figure.value
        elif figure.kind == "not_done":
            ok = ~(model <= figure.value)  # not happened by then (never: NaN or inf, also not done)
        else:
            z = (figure.value - model) / figure.sd
            out = -0.5 * z * z
            out[~np.isfinite(out)] = -np.inf
            return out
    return np.where(ok, 0.0, -np.inf)


def normalised(log_weights: np.ndarray) -> np.ndarray:
    """Weights from log-weights, summing to 1 (all 0 when none is finite)."""
    top = float(np.max(log_weights))
    if not math.isfinite(top):
        return np.zeros(log_weights.shape)
    weights = np.exp(log_weights - top)
    return weights / weights.sum()


def condition(observed: Observed, indicators: Mapping[str, np.ndarray], values: Mapping[str, np.ndarray],
              met: Mapping[str, np.ndarray], replications: int) -> Conditioning:
    """The likelihood weights of ``replications`` replications given ``observed``.

    Raises
    ------
    ConditioningError
        The effective sample size is below :data:`MIN_EFFECTIVE`.
    """
    series: dict[str, np.ndarray] = {}
    total = np.zeros(replications)
    alone: dict[str, float] = {}
    for figure in observed.figures:
        log_l = log_likelihood(figure, model_values(figure, indicators, values, met, series))
        alone[figure.key] = effective_size(normalised(log_l))
        total += log_l
    weights = normalised(total)
    effective = effective_size(weights)
    if effective < MIN_EFFECTIVE:
        raise _refusal(observed, effective, alone, replications)
    return Conditioning(weights, effective, alone)


def log_likelihoods(observed: Observed, run) -> np.ndarray:
    """log L of every figure of ``observed`` together, per replication of ``run`` (anything with
    ``indicators``, ``values`` and ``met``); -inf where impossible."""
    series: dict[str, np.ndarray] = {}
    return sum((log_likelihood(f, model_values(f, run.indicators, run.values, run.met, series))
                for f in observed.figures), np.zeros(len(next(iter(run.met.values())))))


def moved_weights(weights: np.ndarray, observed: Observed, before, after) -> Conditioning:
    """The weights of the same particles after a lever move (:meth:`Results.with_levers` of a
    particle run, :mod:`model.posterior`): they were drawn for the figures under the levers
    ``before``; under those of ``after`` their importance weights are w * L_after / L_before.

    Raises
    ------
    ConditioningError
        When the move changes the figures' likelihood so much that fewer than
        :data:`MIN_EFFECTIVE` particles keep weight (levers that reach the published past).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_w = np.log(weights) + log_likelihoods(observed, after) - log_likelihoods(observed, before)
    moved = normalised(np.where(np.isnan(log_w), -np.inf, log_w))
    effective = effective_size(moved)
    if effective < MIN_EFFECTIVE:
        raise ConditioningError(observed.path, None, f"with these levers the figures leave {effective:.0f} "
                                f"effective particles (minimum {MIN_EFFECTIVE}): the levers change the past the "
                                "figures describe; simulate the changed scenario with the same observed file")
    return Conditioning(moved, effective, {})


def _refusal(observed: Observed, effective: float, alone: dict[str, float], replications: int) -> ConditioningError:
    figure = min(observed.figures, key=lambda f: alone[f.key])
    looser = f"give it a looser sd (sd = {2 * figure.sd * (365 if figure.kind == 'done' else 1):.3g})" \
        if figure.sd is not None else "check the outcome"
    if effective <= 0:
        message = (f"no replication of {replications:,} is consistent with the figures together; the most "
                   f"informative is this one (alone it leaves {alone[figure.key]:.0f} effective replications): "
                   f"check the figures, {looser}, or run more replications")
    else:
        needed = 1000 * math.ceil(1.2 * replications * MIN_EFFECTIVE / effective / 1000)
        figures = "the figure" if len(observed) == 1 else f"the {len(observed)} figures"
        message = (f"conditioning on {figures} leaves {effective:.0f} effective replications of "
                   f"{replications:,}, below the minimum {MIN_EFFECTIVE}; the most informative figure is this one "
                   f"(alone it leaves {alone[figure.key]:.0f}): run about {needed:,} replications (--replications), "
                   f"or {looser}")
    return ConditioningError(observed.path, figure.key, message, figure.line)


def refuse_stream(observed: Observed, replications: int) -> ObservedError:
    """The error for conditioning a streamed run (not supported yet)."""
    return ObservedError(observed.path, None,
                         f"a streamed run ({replications:,} replications, or stream=True) keeps no replications "
                         "to weight, so it cannot be conditioned on observed figures yet; run at most 100,000 "
                         "replications in memory (stream=False)")


def condition_run(results, observed: Observed) -> None:
    """Weight ``results`` (a :class:`~model.results.Results` just simulated) by ``observed``:
    sets ``results.weights``, ``results.observed`` and the manifest's ``observed_*`` and
    ``effective_replications`` (through ``results.meta``)."""
    done = condition(observed, results.indicators, results.values, results.met, results.replications)
    results.weights, results.observed = done.weights, observed
    results.meta.update(observed_meta(observed, done.effective))


def observed_meta(observed: Observed, effective: float) -> dict:
    """The manifest's record of a conditioned run: the file, its hash, its figures, the ESS."""
    return {"observed_file": observed.path, "observed_sha256": observed.sha256, "observed_figures": len(observed),
            "effective_replications": round(effective, 2)}
