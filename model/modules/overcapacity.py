"""Overcapacity plan (化解过剩产能): zombie-enterprise disposal, seed section 二(六).

Milestones, then a queue (DESIGN.md section 4):

* the survey (排查) finishes ``survey_delay`` days after its deadline 2017-06-30;
* the disposal plan (处置计划方案) finishes ``plan_delay`` days after its deadline 2017-12-31, but
  no sooner than ``plan_min_time`` months after the survey;
* the ``count`` identified firms all enter the disposal queue when the plan is made, and pass a
  working team, the resettlement fund and (for bankruptcies) the court, as modelled in
  :mod:`model.processes.zombie`. Per-firm randomness is drawn from ``rng`` in shapes that do not
  depend on levers, so scenarios that differ in levers share it.

Indicators are yearly values at the end of each year of ``model.timeline.YEARS`` (end of year
``y`` is decimal year ``y + 1``), event times in decimal years, or counts per replication.
Lever and uncertainty names are those of ``model/data/params/overcapacity.toml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from model.links import NO_LINKS, SECTORS, Linked
from model.processes import zombie
from model.timeline import YEARS, decimal_year

#: Survey deadline, end of 2017-06-30 (seed 二(六) 时间节点: 2017年6月底前，完成排查工作).
SURVEY_DEADLINE = decimal_year(dt.date(2017, 6, 30))
#: Plan deadline, end of 2017-12-31 (seed 二(六): 2017年12月底前，完成…处置计划方案的制定工作).
PLAN_DEADLINE = decimal_year(dt.date(2017, 12, 31))
DAY = 1.0 / 365.0  # [yr]; 2017 and 2018 have 365 days
MONTH = 1.0 / 12.0  # [yr]
#: Year ends at which yearly indicators are read [decimal yr].
YEAR_ENDS = np.array([y + 1.0 for y in YEARS])


def milestones(draws: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Survey and plan completion times.

    Parameters
    ----------
    draws : mapping
        Uncertainties ``survey_delay`` [days], ``plan_delay`` [days], ``plan_min_time``
        [months], each of shape ``(n,)``.

    Returns
    -------
    survey, plan : numpy.ndarray
        ``(n,)`` completion times [decimal yr].
    """
    survey = SURVEY_DEADLINE + np.asarray(draws["survey_delay"], float) * DAY
    plan = np.maximum(PLAN_DEADLINE + np.asarray(draws["plan_delay"], float) * DAY,
                      survey + np.asarray(draws["plan_min_time"], float) * MONTH)
    return survey, plan


def firm_params(draws: Mapping[str, np.ndarray]) -> zombie.FirmParams:
    """Per-replication parameters of the per-firm draws, converted to years and 万元."""
    d = {k: np.asarray(v, float) for k, v in draws.items()}
    return zombie.FirmParams(
        share_shell=d["share.shell"],
        share_court=d["share.court"],
        share_merger=d["share.merger"],
        share_fund=d["share.fund"],
        prep_median=d["prep_months.other"] * MONTH,
        prep_median_shell=d["prep_months.shell"] * MONTH,
        shell_median=d["route_months.shell"] * MONTH,
        debt_median=d["route_months.debt"] * MONTH,
        merger_median=d["route_months.merger"] * MONTH,
        court_median=d["court_years"],
        spread=d["duration_spread"],
        cost_median=d["resettle_cost"],
        cost_spread=d["cost_spread"],
    )


def _queue_arguments(levers: Mapping[str, Any]) -> dict[str, Any]:
    """Lever values as the queue functions take them (checked)."""
    teams, court = int(levers["teams"]), int(levers["court_capacity"])
    if teams < 1 or court < 1:
        raise ValueError(f"teams ({teams}) and court_capacity ({court}) must be at least 1")
    topups = np.broadcast_to(np.asarray(levers["fund_topup"], float), (len(YEARS),))
    return {"teams": teams, "court_capacity": court,
            "fund_initial": float(levers["fund_initial"]), "fund_topups": topups.tolist(),
            "topup_times": zombie.TOPUP_TIMES}


def draw(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray],
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, zombie.ZombieInputs]:
    """Milestones and per-firm inputs of ``n`` replications (no event loop yet).

    Returns
    -------
    survey, plan : numpy.ndarray
        ``(n,)`` [decimal yr].
    inputs : ZombieInputs
        Every firm arrives at ``plan``; ``K`` is the largest count found.
    """
    survey, plan = milestones(draws)
    count = np.maximum(np.rint(np.asarray(draws["count"], float)), 0).astype(np.int64)
    inputs = zombie.draw_inputs(rng, count, plan, firm_params(draws), str(levers["work_order"]))
    return survey, plan, inputs


def by_year_end(t: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Firms (or their ``weights``) in ``mask`` whose time ``t`` is at or before each year end.

    Parameters
    ----------
    t : numpy.ndarray
        ``(n, K)`` event times [decimal yr] (``inf``: never).
    mask : numpy.ndarray
        ``(n, K)`` bool, firms to count.
    weights : numpy.ndarray, optional
        ``(n, K)`` amounts to add up instead of counting.

    Returns
    -------
    numpy.ndarray
        ``(n, len(YEARS))`` cumulative counts (or sums) at the end of each year.
    """
    n, years = t.shape[0], len(YEARS)
    year = np.searchsorted(YEAR_ENDS, np.where(mask, t, np.inf), side="left")  # first end >= t
    cell = (np.arange(n)[:, None] * (years + 1) + year)[mask]
    per_year = np.bincount(cell, None if weights is None else weights[mask],
                           minlength=n * (years + 1)).reshape(n, years + 1)
    return np.cumsum(per_year[:, :years], axis=1, dtype=float)


def disposal_times(inputs: zombie.ZombieInputs, times: zombie.ZombieTimes,
                   court_cases_count: str) -> np.ndarray:
    """When each firm counts as disposed [decimal yr].

    ``"when_closed"``: when its route ends (a bankruptcy when the court case ends).
    ``"when_accepted"``: a bankruptcy already when the court takes the case up (its case then
    runs ``court_time``); the other routes when they end.
    """
    if court_cases_count == "when_closed":
        return times.done
    return np.where(inputs.route == zombie.COURT, times.done - inputs.court_time, times.done)


def indicators(survey: np.ndarray, plan: np.ndarray, inputs: zombie.ZombieInputs,
               times: zombie.ZombieTimes, court_cases_count: str = "when_closed") -> dict[str, np.ndarray]:
    """Indicators declared in ``overcapacity.toml`` from the stage times of every firm."""
    valid = inputs.valid
    count = inputs.count.astype(float)

    def percent(firms: np.ndarray) -> np.ndarray:  # (n, years) firms -> % of those found
        return np.divide(100.0 * firms, count[:, None], out=np.zeros(firms.shape),
                         where=count[:, None] > 0)

    needs = valid & (inputs.cost > 0)
    court = valid & (inputs.route == zombie.COURT)
    return {
        "zombie_survey_done": survey,
        "zombie_plan_done": plan,
        "zombie_found": count,
        "zombie_disposed": percent(by_year_end(disposal_times(inputs, times, court_cases_count), valid)),
        "zombie_started": percent(by_year_end(times.funded, valid)),
        "zombie_court_cases": court.sum(axis=1).astype(float),
        "zombie_in_court": by_year_end(times.funded, court) - by_year_end(times.done, court),
        "zombie_fund_used": by_year_end(times.funded, needs, inputs.cost),
        "zombie_fund_waiting": by_year_end(times.team_done, needs)
        - by_year_end(times.funded, needs),
    }


def exit_shares(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Share of each sector's 2016 capacity closed by each year end, ``(n, len(YEARS))`` [0-1].

    A constant yearly exit share ``x = min(exit.<sector> * exit_multiplier, 0.95)`` from 2017
    leaves ``(1 - x) ** k`` of the capacity after ``k`` years.
    """
    k = np.arange(len(YEARS), dtype=float)
    out = {}
    for sector in SECTORS:
        x = np.clip(np.asarray(draws[f"exit.{sector}"], float) * float(levers["exit_multiplier"]), 0.0, 0.95)
        out[f"exit_share.{sector}"] = 1.0 - (1.0 - x[:, None]) ** k
    return out


def _run(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray], rng: np.random.Generator,
         queue: Callable[..., zombie.ZombieTimes]) -> dict[str, np.ndarray]:
    survey, plan, inputs = draw(levers, draws, rng)
    times = queue(inputs, **_queue_arguments(levers))
    out = indicators(survey, plan, inputs, times, str(levers["court_cases_count"]))
    out.update(exit_shares(levers, draws))
    return out


def simulate(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray],
             rng: np.random.Generator, linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """Module entry point (see ``model.modules``): runs the vectorised twin of the queue.

    Parameters
    ----------
    levers : mapping
        ``teams``, ``court_capacity`` [-], ``fund_initial`` [万元], ``fund_topup`` [万元/yr]
        (shape ``(len(YEARS),)``, paid in on 1 January), ``work_order``.
    draws : mapping
        Uncertainties of ``overcapacity.toml``, each of shape ``(n,)``.
    rng : numpy.random.Generator
        Per-firm random events.
    linked : Linked
        Unused: no link leads into this module.

    Returns
    -------
    dict
        Indicator name -> ``(n,)`` or ``(n, len(YEARS))`` array.
    """
    return _run(levers, draws, rng, zombie.simulate_vectorised_detail)


def simulate_reference(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray],
                       rng: np.random.Generator) -> dict[str, np.ndarray]:
    """As :func:`simulate` but with the SimPy reference model (slow; for tests and checks)."""
    return _run(levers, draws, rng, zombie.simulate_simpy_detail)
