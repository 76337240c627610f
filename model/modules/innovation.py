"""Technology innovation plan (济源市推进技术创新攻坚方案): counts, coverage, R&D, high-tech VA.

Model (parameters, sources and assumptions in ``model/data/params/innovation.toml``):

* Counts through the shared pipeline (:mod:`model.processes.pipeline`). Closed pools of
  candidates: innovative leading firms, high-tech enterprises (certificates valid
  ``hightech_validity`` years, renewed with an uncertain probability, so the count can fall;
  the pool is open to ``hightech.inflow`` new candidates a year from 2018, the firms that
  newly meet the 2016 criteria: the national and provincial trend), "little giant" firms,
  tech SMEs. Open pools (Poisson arrivals): new-type R&D institutions,
  innovation teams (each new team high-level with probability ``teams.high_level_share``, by
  binomial thinning, so high-level teams never exceed teams), national, provincial and city R&D
  platforms.
* The innovation fund (lever ``fund.annual``) multiplies application odds (closed pools) and
  rates (open pools) by ``1 + w_t * fund_effect * fund_t / 1000万``; the high-tech subsidy adds
  ``w_t * reward_effect * subsidy / 10万`` for high-tech applications. ``w_t`` is the share of
  the year under the plan (``first_year`` in 2017, 1 later).
* R&D institutions of large and medium firms: a closed pool of ``coverage.firms`` firms of which
  ``initial_share`` have one at the end of 2016; the rest set one up through the pipeline.
  Coverage = holders / firms.
* R&D intensity = R&D spending / GDP (both simulated, :mod:`model.modules.innovation_rates`):
  GDP grows at an uncertain nominal rate (with the link ``macro_gdp`` on: the macro layer's
  nominal GDP path); R&D spending grows at an uncertain rate with yearly
  shocks, plus ``rd.leverage`` x the plan's funds of the year (annual fund and a quarter of the
  guided fund a year).
* High-tech value-added growth: base growth; with the link ``hightech_value_added`` on (the
  scenario's ``[links]``), plus elasticity x the growth of the valid high-tech firm count.

Common random numbers: pipelines are called in a fixed order and draw uniforms of a shape set by
``n``; the team thinning and R&D shocks are ``(n, len(YEARS))`` arrays drawn after them.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

import numpy as np

from model.links import NO_LINKS, Linked
from model.modules import innovation_rates as rates
from model.modules.counting import N_YEARS, candidate_item, open_item, push_factor, year_weights
from model.processes.pipeline import binomial_inverse

#: Reference amounts of the effects: fund [万元/yr], subsidy [万元].
FUND_REF = 1000.0
SUBSIDY_REF = 10.0
#: Name of the link that feeds high-tech firm growth into high-tech value added.
VA_LINK = "hightech_value_added"
#: First year (column of YEARS) in which new high-tech candidates join the pool: 2018 (the
#: pool ``hightech.pool`` holds every firm that could apply in 2017).
INFLOW_FROM = 2


def _d(draws: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    return np.asarray(draws[name], float)


def _hightech(rng: np.random.Generator, levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
              weights: np.ndarray, fund: tuple):
    """High-tech enterprises: certificates pushed by the fund and the subsidy, valid
    ``hightech_validity`` years (0: never lapse) with renewal; ``hightech.inflow`` new
    candidates [firms/yr] join the pool each year from 2018."""
    subsidy = (_d(draws, "reward_effect"), levers["hightech_subsidy"], SUBSIDY_REF)
    validity = int(levers["hightech_validity"]) or None
    inflow = np.zeros_like(weights)
    inflow[:, INFLOW_FROM:] = _d(draws, "hightech.inflow")[:, None]
    return candidate_item(rng, draws, "hightech", push_factor(weights, fund, subsidy),
                          initial=_d(draws, "hightech.initial"), validity=validity,
                          renewal_prob=_d(draws, "hightech.renewal"), inflow=inflow)


def _coverage(rng: np.random.Generator, draws: Mapping[str, np.ndarray], factor: np.ndarray):
    """Firms with an R&D institution: (above-scale firms (n,), pipeline of the firms without one)."""
    firms = _d(draws, "coverage.firms")
    firms = np.maximum(np.rint(firms), 1.0)
    holders = np.rint(firms * _d(draws, "coverage.initial_share"))
    draws_cov = ChainMap({"coverage.pool": firms - holders}, draws)
    return firms, candidate_item(rng, draws_cov, "coverage", factor, initial=holders)


def _rd_spending(rng: np.random.Generator, levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
                 weights: np.ndarray, linked: Linked) -> tuple[np.ndarray, np.ndarray]:
    """GDP [亿元] and R&D spending [亿元], (n, years) each; the fund's leverage adds spending.

    GDP grows at ``rd.gdp_growth`` a year, or with the link ``macro_gdp`` on along the macro
    layer's nominal GDP path (``linked.inputs["gdp_index"]``).
    """
    z = rng.standard_normal((weights.shape[0], N_YEARS))
    if "gdp_index" in linked.inputs:  # link macro_gdp (model.links)
        gdp = _d(draws, "rd.gdp_2016")[:, None] * np.asarray(linked.inputs["gdp_index"], float)
    else:
        gdp = rates.gdp_path(_d(draws, "rd.gdp_2016"), _d(draws, "rd.gdp_growth"))
    if "gdp_loss" in linked.inputs:  # link production_limits_gdp (model.links)
        gdp = gdp * (1.0 - np.asarray(linked.inputs["gdp_loss"], float))
    fund = rates.fund_spending(levers["fund.annual"], levers["fund.guided"], weights)
    extra = _d(draws, "rd.leverage")[:, None] * fund
    spending = rates.rd_spending(gdp[:, 0] * _d(draws, "rd.intensity_2016") / 100.0, _d(draws, "rd.growth"),
                                 _d(draws, "rd.growth_sd"), z, extra)
    return gdp, spending


def simulate(levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
             rng: np.random.Generator, linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """Simulate the innovation plan (see the module docstring).

    Parameters
    ----------
    levers : mapping
        ``fund.annual`` [万元/yr] (schedule over YEARS), ``fund.guided`` [万元],
        ``hightech_subsidy`` [万元/firm], ``hightech_validity`` [yr] (0: never lapses).
    draws : mapping
        Uncertainty name -> (n,) array, as declared in ``innovation.toml``.
    rng : numpy.random.Generator
        Source of the pipelines', team and R&D random events.
    linked : Linked
        Whether ``hightech_value_added`` is in ``linked.enabled``; ``gdp_index`` (n, years)
        from the link ``macro_gdp``.

    Returns
    -------
    dict
        Indicator name -> (n, len(YEARS)) array [count, %, 亿元]; 2016 is the base year.
    """
    weights = year_weights(_d(draws, "first_year"))
    n = weights.shape[0]
    fund = (_d(draws, "fund_effect"), levers["fund.annual"], FUND_REF)
    factor = push_factor(weights, fund)

    leading = candidate_item(rng, draws, "leading_firms", factor)
    hightech = _hightech(rng, levers, draws, weights, fund)
    giants = candidate_item(rng, draws, "tech_giants", factor)
    smes = candidate_item(rng, draws, "tech_smes", factor)

    firms, coverage = _coverage(rng, draws, factor)

    institutions = open_item(rng, draws, "rd_institutions", factor)
    teams = open_item(rng, draws, "teams", factor)
    platforms = {
        level: open_item(rng, draws, f"{level}_platforms", factor, initial=_d(draws, f"{level}_platforms.initial"))
        for level in ("national", "provincial", "city")
    }

    u_high = rng.random((n, N_YEARS))
    high_new = binomial_inverse(u_high, teams.new, _d(draws, "teams.high_level_share")[:, None])
    gdp, spending = _rd_spending(rng, levers, draws, weights, linked)

    va_growth = rates.hightech_va_growth(hightech.active, _d(draws, "hightech_va.base_growth"),
                                         _d(draws, "hightech_va.elasticity"), VA_LINK in linked.enabled)
    return {
        "leading_firms": leading.cumulative,
        "hightech_firms": hightech.active,
        "hightech_new": hightech.new,
        "hightech_expired": hightech.expired,
        "tech_giants": giants.cumulative,
        "tech_smes": smes.cumulative,
        "new_rd_institutions": institutions.cumulative,
        "innovation_teams": teams.cumulative,
        "high_level_teams": np.cumsum(high_new, axis=1),
        "national_platforms": platforms["national"].active,
        "provincial_platforms": platforms["provincial"].active,
        "city_platforms": platforms["city"].active,
        "rd_institution_coverage": 100.0 * coverage.active / firms[:, None],
        "rd_intensity": 100.0 * spending / gdp,
        "rd_spending": spending,
        "gdp": gdp,
        "hightech_va_growth": va_growth,
    }
