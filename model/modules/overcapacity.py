"""Overcapacity plan (化解过剩产能攻坚方案): closures of section 二(一)-(五), zombie disposal 二(六).

Closures (:mod:`model.processes.closures`, :mod:`model.processes.polluters`):

* coal mines (二(一)): 120万吨 in 2017 (long-idle mines by 2017-06-30, the others by 2017-10-31)
  and 81万吨 in 2018; each mine closes in its window or slips by an uncertain delay;
* 地条钢 induction furnaces (二(二)) found during a survey due 2017-05-31, dismantled soon after;
* coal-power units (二(三)): survey due 2017-05-31 and closure plan due 2017-06-30 (milestones),
  then the units meeting the criteria close over an uncertain period;
* cement capacity (二(四)) listed by a survey due 2017-05-31, each unit closed after a delay;
* 453 small polluters (二(五)) closed by joint enforcement teams (a queue), then revival
  (死灰复燃) held down and cleared by routine patrols.

The closures also give the share of each energy-model sector's 2016 value added that has closed
(``exit_share.<sector>``, read by ``model.links``), with a residual yearly exit per sector.

Zombie disposal: milestones, then a queue (DESIGN.md section 4):

* the survey (排查) finishes ``survey_delay`` days after its deadline 2017-06-30;
* the disposal plan (处置计划方案) finishes ``plan_delay`` days after its deadline 2017-12-31, but
  no sooner than ``plan_min_time`` months after the survey;
* the ``count`` identified firms all enter the disposal queue when the plan is made, and pass a
  working team, the resettlement fund and (for bankruptcies) the court, as modelled in
  :mod:`model.processes.zombie`. Per-firm randomness is drawn from ``rng`` in shapes that do not
  depend on levers, so scenarios that differ in levers share it.
* target responsibility (link ``responsibility_zombies``, :func:`model.modules.responsibility.responsibility_zombies`):
  at the half-year check (end of 2018-06-30) and the year-end assessment (end of 2018-12-31)
  the share disposed is measured against the plan's path (linear from the plan deadline to
  70 % at the end of 2018); a city behind adds working teams from that instant and speeds up
  the bankruptcy cases the court accepts afterwards (``response.*``). The feedback moves only
  capacities and a factor on pre-drawn court times, never a draw.

Indicators are yearly values at the end of each year of ``model.timeline.YEARS`` (end of year
``y`` is decimal year ``y + 1``), event times in decimal years, or counts per replication.
Lever and uncertainty names are those of ``model/data/params/overcapacity.toml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from model.links import NO_LINKS, Before, Linked
from model.modules import FloatDraws
from model.modules.responsibility import ZOMBIE_ASSESSMENTS, responsibility_zombies, zombie_path
from model.modules.sectors import SECTORS
from model.processes import closures, polluters, zombie, zombie_simpy, zombie_twin
from model.timeline import DAY, YEARS, decimal_year

#: Survey deadline, end of 2017-06-30 (seed 二(六) 时间节点: 2017年6月底前，完成排查工作).
SURVEY_DEADLINE = decimal_year(dt.date(2017, 6, 30))
#: Plan deadline, end of 2017-12-31 (seed 二(六): 2017年12月底前，完成…处置计划方案的制定工作).
PLAN_DEADLINE = decimal_year(dt.date(2017, 12, 31))
MONTH = 1.0 / 12.0  # [yr]
#: Year ends at which yearly indicators are read [decimal yr].
YEAR_ENDS = np.array([y + 1.0 for y in YEARS])
#: Deadlines of the 2017 closure tasks (化解过剩产能方案 二(二)-(五) 时间节点), end of the day.
MAY31 = decimal_year(dt.date(2017, 5, 31))
JUN30 = SURVEY_DEADLINE
OCT31 = decimal_year(dt.date(2017, 10, 31))
#: The surveys of 二(二) and 二(四) run from the start of 2017 (assumption: the year of the task).
TASKS_START = 2017.0
#: "小散乱污" firms to close (二(五): 依法整治取缔453家).
POLLUTERS = 453
#: Sectors of the energy model that the 二(五) list reaches (有色熔炼加工 -> nonferrous; 轧钢 ->
#: steel; 化工 -> chemicals; 陶瓷、耐火材料、石灰窑、砖瓦窑、水泥粉磨站 -> building; 橡胶、制革、铸造、
#: 丝网、废塑料、印刷、家具 -> other). Power is not on it.
POLLUTER_SECTORS = ("nonferrous", "steel", "chemicals", "building", "other")


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
    d = FloatDraws(draws)
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
    if weights is None:  # a few passes of compare-and-count beat sorting into buckets
        return np.stack([np.count_nonzero(mask & (t <= end), axis=1) for end in YEAR_ENDS],
                        axis=1).astype(float)
    n, years = t.shape[0], len(YEARS)
    year = np.searchsorted(YEAR_ENDS, np.where(mask, t, np.inf), side="left")  # first end >= t
    cell = (np.arange(n)[:, None] * (years + 1) + year)[mask]
    per_year = np.bincount(cell, None if weights is None else weights[mask],
                           minlength=n * (years + 1)).reshape(n, years + 1)
    return np.cumsum(per_year[:, :years], axis=1, dtype=float)


#: Draws of the target-responsibility feedback (``response.*`` in overcapacity.toml).
RESPONSE = ("tolerance", "team_gain", "max_teams", "court_gain", "max_court_cut")
RESPONSE_LINK = "responsibility_zombies"


def feedback(draws: Mapping[str, np.ndarray], linked: Linked,
             when_accepted: bool) -> tuple[zombie.Feedback | None, dict[str, np.ndarray]]:
    """The queue's feedback when the link ``responsibility_zombies`` is on (else None), and
    the response draws under the link's keys (read whether the link is on or not)."""
    d = FloatDraws(draws)
    response = {f"overcapacity.response.{k}": d[f"response.{k}"] for k in RESPONSE}
    if RESPONSE_LINK not in linked.enabled:
        return None, response

    def respond(rows: np.ndarray, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        measured = {f"overcapacity.zombie_assessed.{name}": shares[:, j]
                    for j, (name, _) in enumerate(ZOMBIE_ASSESSMENTS)}
        out = responsibility_zombies(measured, {k: v[rows] for k, v in response.items()})
        return out["extra_teams"], out["court_factor"]
    reserve = np.floor(response["overcapacity.response.max_teams"]).astype(np.int64)
    return zombie.Feedback(tuple(t for _, t in ZOMBIE_ASSESSMENTS), reserve, respond, when_accepted), response


def indicators(survey: np.ndarray, plan: np.ndarray, inputs: zombie.ZombieInputs,
               times: zombie.ZombieTimes, court_cases_count: str = "when_closed",
               response: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Indicators declared in ``overcapacity.toml`` from the stage times of every firm.

    ``response``: the response draws when the feedback was on (None: off, nothing added).
    """
    valid = inputs.valid
    count = inputs.count.astype(float)

    def percent(firms: np.ndarray) -> np.ndarray:  # (n, years) firms -> % of those found
        return np.divide(100.0 * firms, count[:, None], out=np.zeros(firms.shape),
                         where=count[:, None] > 0)

    needs = valid & (inputs.cost > 0)
    court = valid & (inputs.route == zombie.COURT)
    disposed = zombie.disposal(inputs.route, times.done, times.court_start, court_cases_count == "when_accepted")
    out = {
        "zombie_survey_done": survey,
        "zombie_plan_done": plan,
        "zombie_found": count,
        "zombie_disposed": percent(by_year_end(disposed, valid)),
        "zombie_started": percent(by_year_end(times.funded, valid)),
        "zombie_court_cases": court.sum(axis=1).astype(float),
        "zombie_in_court": by_year_end(times.funded, court) - by_year_end(times.done, court),
        "zombie_fund_used": by_year_end(times.funded, needs, inputs.cost),
        "zombie_fund_waiting": by_year_end(times.team_done, needs)
        - by_year_end(times.funded, needs),
    }
    for name, t in ZOMBIE_ASSESSMENTS:  # what each assessment finds (the feedback's input)
        out[f"zombie_assessed.{name}"] = zombie.disposed_share(disposed, inputs.count, t)
        out[f"zombie_behind.{name}"] = (out[f"zombie_assessed.{name}"] < zombie_path(t)).astype(float)
    n = len(count)
    out["zombie_extra_teams"], out["zombie_court_factor"] = np.zeros(n), np.ones(n)
    if response is not None:
        added = responsibility_zombies({f"overcapacity.{k}": v for k, v in out.items()}, response)
        out["zombie_extra_teams"] = added["extra_teams"][:, -1]
        out["zombie_court_factor"] = added["court_factor"][:, -1]
    return out


def closure_indicators(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray],
                       rng: np.random.Generator,
                       close: Callable[[np.ndarray, float, int], np.ndarray],
                       linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """Indicators of the closures of 二(一)-(五) and the sectors' exit shares.

    ``close`` is :func:`model.processes.polluters.close_vectorised` or its SimPy reference.
    Randomness: four child generators of ``rng`` (coal, furnaces, cement, polluters), every
    array in a shape that depends on counts drawn from ``draws`` only, never on a lever. With
    the link ``macro_exits`` on, the residual exits of a bad year are ``1 + exit_surge`` times
    the usual ones.
    """
    g_coal, g_furnace, g_cement, g_poll = rng.spawn(4)
    d = FloatDraws(draws)
    n, spread, ends = len(d["coal.mines_2017"]), d["closure_spread"], tuple(YEAR_ENDS)
    # 二(一) coal mines
    mines = closures.coal_mines(g_coal, d["coal.mines_2017"], d["coal.mines_2018"], d["coal.idle_share"],
                                d["coal.slip_prob"], d["coal.slip_months"] * MONTH, spread)
    cut = closures.coal_cut(mines, (OCT31, *ends))
    # 二(二) 地条钢 furnaces, dismantled from when they are found
    furnaces = closures.survey_closures(
        g_furnace, d["furnaces.count"], TASKS_START, MAY31 + d["furnaces.survey_delay"] * DAY, True,
        d["furnaces.dismantle_days"] * DAY, spread)
    removed = closures.percent_closed(furnaces, (JUN30, *ends), by_weight=False)
    # 二(四) cement capacity listed when its survey ends
    units = closures.survey_closures(
        g_cement, d["cement.units"], TASKS_START, MAY31 + d["cement.survey_delay"] * DAY, False,
        d["cement.close_months"] * MONTH, spread, d["cement.size_spread"])
    cement = closures.percent_closed(units, (OCT31, *ends), by_weight=True)
    # 二(三) coal power: survey and plan milestones, then closures spread over close_years
    power_survey, power_plan, power_closed = _coal_power(d)
    if levers["closures_ordered"]:
        # 二(五) small polluters: teams close them, then revival and patrols
        closed, ever, still_open = _small_polluters(levers, d, g_poll, close, n)
        shut = closures.amount_by(closed, (MAY31, *ends))
    else:  # a baseline without the plan: nothing closes (the polluters' child is theirs alone)
        cut, removed, cement = np.zeros_like(cut), np.zeros_like(removed), np.zeros_like(cement)
        power_survey = power_plan = np.full(n, np.inf)
        power_closed = np.zeros_like(power_closed)
        closed, shut, ever = np.full((n, 1), np.inf), np.zeros((n, 1 + len(ends))), np.zeros((n, len(ends)))
        still_open = np.full((n, len(ends)), float(POLLUTERS))  # never shut, all still operating
    named = _named_exits(d, cut, removed, cement, power_closed, shut)
    out = {
        "coal_cut_oct2017": cut[:, 0], "coal_cut": cut[:, 1:],
        "furnaces_found": furnaces.count.astype(float), "furnaces_removed_jun2017": removed[:, 0],
        "cement_units_listed": units.count.astype(float), "cement_closed_oct2017": cement[:, 0],
        "cement_closed": cement[:, 1:],
        "coal_power_survey_done": power_survey, "coal_power_plan_done": power_plan,
        "polluters_closed_may2017": shut[:, 0], "polluters_done": closed.max(axis=1),
        "polluters_revived": ever, "polluters_open": still_open,
        "polluters_relapse": ever if levers["relapse_reading"] == "ever_revived" else still_open,
    }
    residual = {s: d[f"exit.{s}"] for s in SECTORS}
    surge = None
    if "bad_year" in linked.inputs:  # link macro_exits (model.links)
        surge = 1.0 + d["exit_surge"][:, None] * np.asarray(linked.inputs["bad_year"], float)
    out.update(closures.exit_shares(named, residual, float(levers["residual_exit_multiplier"]), len(YEARS), surge))
    return out


def _coal_power(d: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """二(三) coal power: survey and plan completion (n,) [decimal yr] and the share closed by
    each year end (n, years), closures spread evenly over ``close_years`` after the plan."""
    survey = MAY31 + d["coal_power.survey_delay"] * DAY
    plan = np.maximum(JUN30 + d["coal_power.plan_delay"] * DAY, survey + d["coal_power.plan_min_days"] * DAY)
    closed = np.clip((YEAR_ENDS[None, :] - plan[:, None])
                     / np.maximum(d["coal_power.close_years"], 1e-9)[:, None], 0.0, 1.0)
    return survey, plan, closed


def _small_polluters(levers: Mapping[str, Any], d: Mapping[str, np.ndarray], rng: np.random.Generator,
                     close: Callable[[np.ndarray, float, int], np.ndarray], n: int):
    """二(五) small polluters: closing times (n, POLLUTERS) [decimal yr], then the numbers ever
    revived and still operating at each year end."""
    teams, start = int(levers["polluter_teams"]), float(levers["polluter_start"])
    z_case, e_revive, u_detect = closures.per_item(rng, POLLUTERS, n, "zeu", np.float32)
    spread32 = d["polluters.case_spread"].astype(np.float32)[:, None]
    service = d["polluters.case_days"][:, None] * DAY * np.exp(spread32 * z_case)
    closed = close(service, start, teams)
    back = polluters.revival(closed, e_revive, u_detect, d["polluters.hazard"], d["polluters.deterrence"],
                             d["polluters.detect"], float(levers["patrols_per_year"]), start, YEAR_ENDS[-1])
    ever, still_open = back.counts(tuple(YEAR_ENDS))
    return closed, ever, still_open


def _named_exits(d: Mapping[str, np.ndarray], cut, removed, cement, power_closed, shut) -> dict[str, list[np.ndarray]]:
    """Exits of the named closures as shares of each sector's 2016 value added, (n, years) each."""
    named: dict[str, list[np.ndarray]] = {s: [] for s in SECTORS}
    named["other"].append(d["coal.va_share"][:, None] * cut[:, 1:] / (closures.COAL_2017 + closures.COAL_2018))
    named["steel"].append(d["furnaces.va_share"][:, None] * removed[:, 1:] / 100.0)
    named["building"].append(d["cement.va_share"][:, None] * cement[:, 1:] / 100.0)
    named["power"].append(d["coal_power.va_share"][:, None] * power_closed)
    for sector in POLLUTER_SECTORS:
        named[sector].append(d["polluters.va_share"][:, None] * shut[:, 1:] / POLLUTERS)
    return named


def _zombies(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray], rng: np.random.Generator,
             queue: Callable[..., zombie.ZombieTimes], linked: Linked) -> dict[str, np.ndarray]:
    """Indicators of the zombie disposal; spawns its children of ``rng`` (the first ones)."""
    survey, plan, inputs = draw(levers, draws, rng)
    reading = str(levers["court_cases_count"])
    fb, response = feedback(draws, linked, reading == "when_accepted")
    times = queue(inputs, **_queue_arguments(levers), feedback=fb)
    return indicators(survey, plan, inputs, times, reading, None if fb is None else response)


#: Levers of the zombie disposal (:func:`_zombies`); the closures read the others.
ZOMBIE_LEVERS = frozenset({"teams", "court_capacity", "fund_initial", "fund_topup", "work_order", "court_cases_count"})


def _run(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray], rng: np.random.Generator,
         queue: Callable[..., zombie.ZombieTimes],
         close: Callable[[np.ndarray, float, int], np.ndarray], linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    out = _zombies(levers, draws, rng, queue, linked)
    out.update(closure_indicators(levers, draws, rng, close, linked))
    return out


def simulate_again(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray], rng: np.random.Generator,
                   linked: Linked, before: Before) -> dict[str, np.ndarray]:
    """:func:`simulate`, reusing the zombie disposal's earlier indicators when none of its levers
    moved and the links into the module are those of then, or the closures' when none of theirs
    and none of their linked inputs did (the module contract, ``model.modules``)."""
    moved, links_moved = before.moved(levers), before.linked_moved(linked)
    out = dict(before.indicators)
    if moved & ZOMBIE_LEVERS or linked.enabled != before.linked.enabled:
        out.update(_zombies(levers, draws, rng, zombie_twin.simulate_vectorised_detail, linked))
    else:  # the same children as the zombies' draw, so the closures draw from the same streams
        rng.spawn(zombie.CHILDREN)
    if moved - ZOMBIE_LEVERS or links_moved:
        out.update(closure_indicators(levers, draws, rng, polluters.close_vectorised, linked))
    return out


def simulate(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray],
             rng: np.random.Generator, linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """Module entry point (see ``model.modules``): runs the vectorised twins of the queues.

    Parameters
    ----------
    levers : mapping
        ``teams``, ``court_capacity`` [-], ``fund_initial`` [万元], ``fund_topup`` [万元/yr]
        (shape ``(len(YEARS),)``, paid in on 1 January), ``work_order``, ``court_cases_count``;
        ``polluter_teams`` [-], ``polluter_start`` [decimal yr], ``patrols_per_year`` [1/yr],
        ``relapse_reading``; ``closures_ordered`` [bool], ``residual_exit_multiplier`` [ratio].
    draws : mapping
        Uncertainties of ``overcapacity.toml``, each of shape ``(n,)``.
    rng : numpy.random.Generator
        Per-firm, per-mine and per-unit random events (child generators, lever-independent).
    linked : Linked
        ``bad_year`` (n, years) from the link ``macro_exits``: the macro layer's bad years, in
        which residual exits surge by ``exit_surge``; whether ``responsibility_zombies`` is on
        (the module applies that link itself, see :func:`feedback`).

    Returns
    -------
    dict
        Indicator name -> ``(n,)`` or ``(n, len(YEARS))`` array.
    """
    return _run(levers, draws, rng, zombie_twin.simulate_vectorised_detail, polluters.close_vectorised, linked)


def simulate_reference(levers: Mapping[str, Any], draws: Mapping[str, np.ndarray],
                       rng: np.random.Generator, linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """As :func:`simulate` but with the SimPy reference models (slow; for tests and checks)."""
    return _run(levers, draws, rng, zombie_simpy.simulate_simpy_detail, polluters.close_simpy, linked)
