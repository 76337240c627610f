"""The target-responsibility feedback (目标责任制, issue 10 item 2): effort rises when a city lags.

China's binding targets are split down to cities, assessed every year against the path the plan
sets, and enforced through accountability; a region that falls behind does more, and the last
year of a period carries a push, up to limiting production (the record of 2006-2015 in
``reference/outside-view.md``). The pieces here are shared by the modules that own a binding
target and step their years in order: the shortfall at an assessment, an effort that rises with
it within a bound and never falls back, the production limit on the largest energy users that
would bring a year's intensity back to the path, and the three self-links of
:data:`model.links.LINKS` that apply them (``responsibility_energy`` in ``green``,
``responsibility_zombies`` in ``overcapacity``, ``responsibility_renovation`` in
``techreform``), each called by its module with its own arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from model.timeline import decimal_year


def shortfall(path: float | np.ndarray, achieved: np.ndarray) -> np.ndarray:
    """How far an indicator lags the plan's path at an assessment [its unit], 0 when on the path."""
    return np.maximum(np.asarray(path, float) - achieved, 0.0)


def raised_effort(previous: np.ndarray, lag: np.ndarray, strength: np.ndarray,
                  bound: np.ndarray) -> np.ndarray:
    """Next year's effort multiplier: ``max(previous, min(bound, 1 + strength * lag))``.

    Effort never falls during the plan (the responsibility system does not stand teams down
    while a target is open), never goes below 1 (no effort is withdrawn) and never above
    ``bound`` (staff, budget and enforcement capacity are finite).

    Parameters
    ----------
    previous : numpy.ndarray
        Effort in force this year [ratio], ``(n,)``, >= 1.
    lag : numpy.ndarray
        Shortfall at this year's assessment [points], ``(n,)``, >= 0.
    strength, bound : numpy.ndarray
        Effort added per point of shortfall [1/point] and the largest effort [ratio], ``(n,)``.
    """
    wanted = np.minimum(np.maximum(bound, 1.0), 1.0 + strength * lag)
    return np.maximum(previous, wanted)


def production_limit(limited: tuple[np.ndarray, np.ndarray], others: tuple[np.ndarray, np.ndarray],
                     goal: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Share of the limited sectors' output to hold back so that intensity meets ``goal``.

    Limiting production removes the limited plants' output and energy in proportion, so the
    year's intensity is ``(E_o + (1 - L) E_l) / (V_o + (1 - L) V_l)``; the ``L`` that makes it
    ``goal`` is ``1 - (goal V_o - E_o) / (E_l - goal V_l)``. No limit is needed where intensity
    is already at or below ``goal``; where the limited sectors are no more intensive than the
    goal, limiting them cannot help, and the limit is 0. The result is clipped to ``[0, bound]``.

    Parameters
    ----------
    limited, others : tuple of numpy.ndarray
        ``(energy, value_added)`` of the limited sectors and of the rest of industry, ``(n,)``.
    goal : numpy.ndarray
        Intensity to reach [same unit as energy / value added], ``(n,)``.
    bound : numpy.ndarray
        Largest share of the limited sectors' yearly output the city will hold back, ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Limit ``L`` [share of the limited sectors' output], ``(n,)``.
    """
    e_l, v_l = limited
    e_o, v_o = others
    above = (e_l + e_o) > goal * (v_l + v_o)
    excess = e_l - goal * v_l  # > 0: the limited sectors are more intensive than the goal
    helps = excess > 0
    need = 1.0 - (goal * v_o - e_o) / np.where(helps, excess, 1.0)
    return np.where(above & helps, np.clip(need, 0.0, np.maximum(bound, 0.0)), 0.0)


def responsibility_energy(indicators: Mapping[str, np.ndarray],
                          draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The yearly assessment of the energy target: a shortfall raises the next year's effort.

    A link within the green module (目标责任制, :mod:`model.modules.responsibility`), which
    steps its years and calls it after each assessment (end of 2017, 2018, 2019) with its arrays
    so far when the link is on; off, the effort stays 1 and production is never limited.

    Parameters
    ----------
    indicators : mapping
        ``green.path_shortfall``: how far the cut lags the plan's path at each year end
        [points], ``green.retrofit_effort``: the effort in force in each year [ratio],
        ``(n, years)``.
    draws : mapping
        ``green.response.retrofit_push`` [1/point], ``green.response.max_push`` [ratio],
        ``green.response.limit_threshold`` [points], ``(n,)`` (see ``green.toml``).

    Returns
    -------
    dict
        Column ``k`` is what the assessment at the end of year ``k`` decides for year ``k + 1``,
        ``(n, years)``: ``effort``, the multiplier on the retrofit innovation rate ``p``, in
        ``[max(1, year k's), max_push]`` (:func:`model.modules.responsibility.raised_effort`);
        ``may_limit`` (bool), the shortfall exceeds the threshold, so the city limits the heavy
        sectors' production where needed (in the final year it does so whenever it is behind).
    """
    lag = np.asarray(indicators["green.path_shortfall"], float)
    per_rep = {name: np.asarray(draws[f"green.response.{name}"], float)[:, None]
               for name in ("retrofit_push", "max_push", "limit_threshold")}
    effort = raised_effort(np.asarray(indicators["green.retrofit_effort"], float), lag,
                           per_rep["retrofit_push"], per_rep["max_push"])
    return {"effort": effort, "may_limit": lag > per_rep["limit_threshold"]}


#: The plan's path for zombie disposal (seed 二(六)): from the plan deadline (end of 2017-12-31)
#: linearly to 70 % disposed at the end of 2018-12-31.
ZOMBIE_PATH_START, ZOMBIE_PATH_END, ZOMBIE_PATH_SHARE = 2018.0, 2019.0, 70.0
#: Assessments of zombie disposal: (name, instant [decimal yr]): the half-year check at the end
#: of 2018-06-30 and the year-end assessment of the 70 % target at the end of 2018-12-31.
ZOMBIE_ASSESSMENTS: tuple[tuple[str, float], ...] = (
    ("mid2018", decimal_year(dt.date(2018, 6, 30))), ("end2018", decimal_year(dt.date(2018, 12, 31))))


def zombie_path(t: float) -> float:
    """Share of the zombie firms the plan's path asks to be disposed by ``t`` [%]."""
    return ZOMBIE_PATH_SHARE * min(max((t - ZOMBIE_PATH_START) / (ZOMBIE_PATH_END - ZOMBIE_PATH_START), 0.0), 1.0)


def responsibility_zombies(indicators: Mapping[str, np.ndarray],
                           draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Zombie disposal behind the plan's path brings more working teams and court priority.

    A link within the overcapacity module, which calls it at each assessment of
    :data:`ZOMBIE_ASSESSMENTS` with the shares measured so far (the queue then runs on with the
    response). At assessment ``j`` the gap is ``g = max(0, path - share) / path`` (the missing
    part of the path's value, 0-1); the city responds only when ``g`` exceeds ``tolerance``,
    and then adds ``round(team_gain * g)`` teams, from that instant, and cuts the court time
    of cases accepted afterwards by ``court_gain * g`` more; effort is never withdrawn, and the
    totals are capped at ``max_teams`` (rounded down) and ``max_court_cut``.

    Parameters
    ----------
    indicators : mapping
        ``overcapacity.zombie_assessed.<name>`` for each assessment: share disposed at its
        instant, ``(n,)`` [%]; NaN for an assessment not made yet (it adds nothing).
    draws : mapping
        ``overcapacity.response.tolerance`` [share of the path], ``.team_gain`` [teams at a gap
        of 1], ``.max_teams`` [teams], ``.court_gain`` [cut in court time at a gap of 1],
        ``.max_court_cut`` [share], each ``(n,)``.

    Returns
    -------
    dict
        ``extra_teams``: teams added in all by each assessment, ``(n, J)`` whole numbers,
        nondecreasing, in ``[0, floor(max_teams)]``; ``court_factor``: factor on the court time
        of cases accepted after each assessment, ``(n, J)`` in ``[1 - max_court_cut, 1]``,
        nonincreasing.
    """
    def draw(name: str) -> np.ndarray:
        return np.asarray(draws[f"overcapacity.response.{name}"], float)
    tolerance, team_gain, court_gain = draw("tolerance"), draw("team_gain"), draw("court_gain")
    cap, max_cut = np.floor(draw("max_teams")), draw("max_court_cut")
    teams, cut = np.zeros_like(cap), np.zeros_like(cap)
    out_teams, out_factor = [], []
    for name, t in ZOMBIE_ASSESSMENTS:
        share = np.asarray(indicators[f"overcapacity.zombie_assessed.{name}"], float)
        gap = np.clip(1.0 - share / zombie_path(t), 0.0, 1.0)
        gap = np.where(np.isfinite(share) & (gap > tolerance), gap, 0.0)
        teams = np.minimum(cap, teams + np.floor(team_gain * gap + 0.5))
        cut = np.minimum(max_cut, cut + court_gain * gap)
        out_teams.append(teams)
        out_factor.append(1.0 - cut)
    return {"extra_teams": np.stack(out_teams, axis=1), "court_factor": np.stack(out_factor, axis=1)}


def responsibility_renovation(indicators: Mapping[str, np.ndarray],
                              draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Target-responsibility feedback: lagging the plan's path raises next year's project starts.

    A link within the techreform module, which calls it after each yearly assessment with the
    shortfalls seen so far. At the assessment of year t (end of 2017, 2018, 2019) the shortfall
    ``s_t`` against the plan's own path (path minus achieved share, 0 when on or above it) sets
    the campaign effort of year t + 1, a multiplier of every firm's project-start hazard
    (攻坚 meetings, 专班 visits, faster approvals)::

        E_2016 = E_2017 = 1
        E_t+1  = min(max_effort, max(E_t, 1 + strength * s_t))

    so effort never falls below 1, never above its bound, and never back during the plan. The
    final-year push: in 2020 the city watches the year's own figures against the 2020 goal (as
    lagging provinces did in 2010) and raises the effort in force once more,
    ``E_2020 = min(max_effort, max(E_2020, 1 + final_push * strength * s_2020))``.

    Parameters
    ----------
    indicators : mapping
        ``techreform.path_shortfall``: ``(n, years)`` shortfall seen at each assessment [pp]
        (column 2020: the in-year look against the 2020 goal); NaN or 0 for years not yet
        assessed.
    draws : mapping
        ``techreform.response.strength`` [1/pp], ``techreform.response.max_effort`` [-] (>= 1),
        ``techreform.response.final_push`` [-], each ``(n,)``.

    Returns
    -------
    dict
        ``campaign_effort``: ``(n, years)`` hazard multiplier in force in each year [-], 1 = none.
    """
    shortfall = np.nan_to_num(np.asarray(indicators["techreform.path_shortfall"], float), nan=0.0)
    strength = np.asarray(draws["techreform.response.strength"], float)
    bound = np.asarray(draws["techreform.response.max_effort"], float)
    final = np.asarray(draws["techreform.response.final_push"], float)
    effort = np.ones_like(shortfall)
    for t in range(2, shortfall.shape[1]):  # 2016 (base) and 2017 (no assessment yet) stay 1
        effort[:, t] = raised_effort(effort[:, t - 1], shortfall[:, t - 1], strength, bound)
    effort[:, -1] = raised_effort(effort[:, -1], shortfall[:, -1], final * strength, bound)
    return {"campaign_effort": effort}
