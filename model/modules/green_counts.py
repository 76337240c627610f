"""Countable targets and rates of the green plan (helper of :mod:`model.modules.green`).

Every count goes through the shared pipeline (:mod:`model.processes.pipeline`); parameters,
sources and assumptions are in ``model/data/params/green.toml``.

* green demonstration factories, green parks, firms on national efficiency-leader lists and new
  energy-management centres: closed pools of candidates (:func:`candidate_pipeline`); the
  yearly application probability is raised by the plan's reward or promotion (odds multiplied by
  ``1 + effect * reward / REWARD_REF`` or by a promotion factor) from the lever
  ``measures_start`` on; the targets read first awards since 2017 (``cumulative``);
* cleaner-production audits: the closed pool of key firms in the five heavy sectors; the firms
  not yet audited at the end of 2016 are audited with a yearly probability that the plan's
  mandatory campaign raises; coverage = audited (``active``) / key firms;
* above-scale energy-saving and environmental (EP) firms: an open pool (firms growing past the
  above-scale threshold or brought in, :func:`open_pipeline`) added to the firms of 2016
  (``active``); EP industry value added grows with the existing firms and jumps with every
  entrant, so the two EP targets share their random events;
* the urban-mining (静脉) park is one construction project: complete once its uncertain
  duration has passed since the lever ``circular_park_start`` (no pool, no random events).

Common random numbers: :func:`simulate_counts` is called after the energy-intensity model has
drawn its numbers, and draws from ``rng`` in a fixed order and in shapes that depend only on
``n``; levers only move probabilities and rates, never the shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.modules import FloatDraws
from model.processes.pipeline import candidate_pipeline, open_pipeline, raise_odds
from model.timeline import YEARS

#: Reward at which ``<count>.reward_effect`` is the rise of the odds of applying [万元].
REWARD_REF = 50.0
#: Candidate green parks: the three industrial clusters of the annex (虎岭, 玉川, 高新).
PARK_CANDIDATES = 3
#: Floor on a year's growth factor of EP value added (it never loses more than 95 % in a year).
MIN_GROWTH_FACTOR = 0.05

#: Indicators added to the green module's output.
INDICATORS: tuple[str, ...] = (
    "green_factories", "green_parks", "circular_park", "efficiency_leaders",
    "cleaner_audit_coverage", "energy_mgmt_centers", "ep_firms", "ep_industry_growth",
)


def active_fraction(start: float) -> np.ndarray:
    """Share of each year of :data:`YEARS` after the measures start, shape ``(len(YEARS),)``.

    Parameters
    ----------
    start : float
        Start of the measures [decimal year]; year ``y`` runs from ``y`` to ``y + 1``.

    Returns
    -------
    numpy.ndarray
        ``clip(y + 1 - start, 0, 1)`` [share]; 2016 (the base year) is always 0.
    """
    frac = np.clip(np.asarray(YEARS, float) + 1.0 - start, 0.0, 1.0)
    frac[0] = 0.0
    return frac


def odds_factor(effect: np.ndarray, push: float, active: np.ndarray) -> np.ndarray:
    """Odds multiplier ``1 + effect * push * active`` per replication and year, ``(n, Y)`` [-].

    ``effect`` (n,) is the rise of the odds at ``push = 1`` (a reward of :data:`REWARD_REF`, or
    a promotion switched on), ``active`` (Y,) the share of each year the measure runs.
    """
    return 1.0 + np.asarray(effect, float)[:, None] * (push * active)[None, :]


def ep_value_added(growth: np.ndarray, shocks: np.ndarray, entrants: np.ndarray,
                   entrant_share: np.ndarray) -> np.ndarray:
    """EP industry value added relative to 2016, shape ``(n, Y)`` [ratio].

    ``VA_t = VA_{t-1} * max(1 + g_t + shock_t, MIN_GROWTH_FACTOR) + new_t * s`` from ``VA_0 = 1``.

    Parameters
    ----------
    growth : numpy.ndarray
        Growth of the existing EP activity in each year, ``(n, Y)`` [share/yr]; column 0 unused.
    shocks : numpy.ndarray
        Yearly deviations (sd times standard normals), ``(n, Y - 1)`` [share/yr].
    entrants : numpy.ndarray
        New above-scale EP firms in each year, ``(n, Y)`` [count].
    entrant_share : numpy.ndarray
        Value added of one new firm in its first year / 2016 EP value added, ``(n,)`` [share].
    """
    n, ny = entrants.shape
    va = np.ones((n, ny))
    for t in range(1, ny):
        factor = np.maximum(1.0 + growth[:, t] + shocks[:, t - 1], MIN_GROWTH_FACTOR)
        va[:, t] = va[:, t - 1] * factor + entrants[:, t] * entrant_share
    return va


def average_growth(index: np.ndarray) -> np.ndarray:
    """Compound average growth since column 0, ``100 * ((x_t / x_0) ** (1 / t) - 1)`` [%/yr].

    Column 0 is 0 by convention.
    """
    out = np.zeros_like(index, dtype=float)
    t = np.arange(1, index.shape[1], dtype=float)
    out[:, 1:] = 100.0 * ((index[:, 1:] / index[:, :1]) ** (1.0 / t) - 1.0)
    return out


def _count(draws: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """A count-valued draw rounded to whole numbers, (n,)."""
    return np.rint(np.asarray(draws[name], float))


def simulate_counts(levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Counts and rates of the green plan's other targets, 2016-2020.

    Parameters
    ----------
    levers : mapping
        ``measures_start`` [decimal yr], ``reward.factory`` and ``reward.park`` [万元], the bools
        ``leader_promotion``, ``audit_campaign``, ``energy_centre_promotion``, ``ep_support``,
        and ``circular_park_start`` [decimal yr].
    draws : mapping
        The count targets' uncertainties declared in ``green.toml`` (``factory.*``, ``park.*``,
        ``leader.*``, ``audit.*``, ``energy_centre.*``, ``ep.*``, ``circular_park.duration``), each
        ``(n,)``.
    rng : numpy.random.Generator
        Draws, in this order: factories, parks, leaders, audits, energy centres (two uniform
        arrays ``(n, Y)`` each), EP firms (one), EP growth shocks (normals ``(n, Y - 1)``).

    Returns
    -------
    dict of str to numpy.ndarray
        The indicators of :data:`INDICATORS`, each ``(n, len(YEARS))``.
    """
    d = FloatDraws(draws)
    act = active_fraction(float(levers["measures_start"]))

    def on(name: str) -> float:
        return 1.0 if levers[name] else 0.0

    factories, parks, leaders = _award_pipelines(rng, d, levers, on, act)
    key_firms, audits = _audits(rng, d, on("audit_campaign"), act)
    centres = _energy_centres(rng, d, on("energy_centre_promotion"), act)
    ep_firms, va = _ep_industry(rng, d, on("ep_support") * act[None, :])
    done = float(levers["circular_park_start"]) + d["circular_park.duration"]
    year_end = np.asarray(YEARS, float) + 1.0
    return {
        "green_factories": factories.cumulative,
        "green_parks": parks.cumulative,
        "circular_park": (done[:, None] <= year_end[None, :]).astype(float),
        "efficiency_leaders": leaders.cumulative,
        "cleaner_audit_coverage": 100.0 * audits.active / key_firms[:, None],
        "energy_mgmt_centers": centres.cumulative,
        "ep_firms": ep_firms.active,
        "ep_industry_growth": average_growth(va),
    }


def _award_pipelines(rng, d, levers, on, act):
    """Green factories and parks (rewards) and efficiency leaders (promotion), in this order."""
    n = len(d["factory.apply"])
    factories = candidate_pipeline(
        rng, pool=_count(d, "factory.candidates"),
        apply_prob=raise_odds(d["factory.apply"][:, None], odds_factor(
            d["factory.reward_effect"], float(levers["reward.factory"]) / REWARD_REF, act)),
        approve_prob=d["factory.approve"], lag=_count(d, "factory.lag").astype(int))
    parks = candidate_pipeline(
        rng, pool=np.full(n, float(PARK_CANDIDATES)),
        apply_prob=raise_odds(d["park.apply"][:, None], odds_factor(
            d["park.reward_effect"], float(levers["reward.park"]) / REWARD_REF, act)),
        approve_prob=d["park.approve"], lag=_count(d, "park.lag").astype(int))
    leaders = candidate_pipeline(
        rng, pool=_count(d, "leader.candidates"),
        apply_prob=raise_odds(d["leader.apply"][:, None], odds_factor(
            d["leader.promotion_effect"] - 1.0, on("leader_promotion"), act)),
        approve_prob=d["leader.approve"], lag=_count(d, "leader.lag").astype(int))
    return factories, parks, leaders


def _audits(rng, d, campaign_on: float, act: np.ndarray):
    """Cleaner-production audits of the key firms: (key firms (n,), pipeline)."""
    key_firms = np.maximum(_count(d, "audit.key_firms"), 1.0)
    audited0 = np.rint(d["audit.initial_share"] * key_firms)
    campaign = campaign_on * act[None, :] * (d["audit.campaign_rate"] - d["audit.base_rate"])[:, None]
    audits = candidate_pipeline(
        rng, pool=key_firms - audited0, apply_prob=d["audit.base_rate"][:, None] + campaign,
        approve_prob=d["audit.pass"], initial=audited0)
    return key_firms, audits


def _energy_centres(rng, d, promotion_on: float, act: np.ndarray):
    """New energy-management centres (a firm's own project: no award needed)."""
    return candidate_pipeline(
        rng, pool=_count(d, "energy_centre.candidates"),
        apply_prob=raise_odds(d["energy_centre.apply"][:, None], odds_factor(
            d["energy_centre.promotion_effect"] - 1.0, promotion_on, act)),
        approve_prob=1.0,  # a centre a firm builds needs no award: it counts when in operation
        lag=_count(d, "energy_centre.lag").astype(int))


def _ep_industry(rng, d, support: np.ndarray):
    """EP firms (open pool) and EP industry value added (growth shocks drawn after the firms)."""
    n = len(d["ep.entry_rate"])
    ep_firms = open_pipeline(
        rng, rate=d["ep.entry_rate"][:, None] * (1.0 + (d["ep.support_effect"] - 1.0)[:, None] * support),
        initial=_count(d, "ep.initial_firms"))
    shocks = d["ep.growth_sd"][:, None] * rng.standard_normal((n, len(YEARS) - 1))
    growth = d["ep.growth"][:, None] + d["ep.growth_uplift"][:, None] * support
    return ep_firms, ep_value_added(growth, shocks, ep_firms.new, d["ep.entrant_share"])
