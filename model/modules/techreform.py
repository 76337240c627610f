"""Tech-renovation plan (济源市推进企业技术改造攻坚方案): firm-level adoption, post-subsidy.

Model (DESIGN.md section 4; parameters, sources and assumptions in
``model/data/params/techreform.toml``):

* ``N_FIRMS`` = 300 above-scale industrial firms (the seed: 60 firms are 20 %), placed in the 19
  districts of the annex in proportion to each district's 2017 firm quota (*assumption*: 5 firms
  per quota firm; the only district information there is).
* Every firm ``i`` has a typical project size ``k * c_d * A_i``: ``c_d`` is the annex's
  tech-renovation investment per renovating firm in its district (亿元), ``A_i`` a mean-one
  lognormal firm factor (a few large smelters and steel works dominate), and ``k`` a scale that
  makes the expected no-policy tech-renovation investment of the replication's firms equal the
  2016 level (2016 share x 2016 industrial investment, both uncertain).
* Each year 2017..2020 firm ``i`` has a candidate project ``K = k c_d A_i B_it (1 + trend)^j``
  (``B_it`` a mean-one lognormal project factor). The subsidy on it is
  ``min(rate * phi * K, cap)`` if ``K >= floor`` else 0 (``phi``: equipment + R&D share), its
  effective rate ``e = subsidy / K``. The firm carries it out with probability
  ``1 - exp(-lambda)``, ``lambda = -ln(1 - h0) * frailty_i * campaign^j * (1 - e)^(-eps)``:
  the subsidy lowers the user cost of the project by ``e``, and incidence responds with the
  user-cost elasticity ``eps`` (only a fraction of it in 2017, the plan being dated July).
  A project is carried out, completed and paid in its year (one project per firm and year).
* Industrial investment = tech renovation + other investment; other investment starts at
  2016 industrial minus tech-renovation investment and grows at an uncertain trend with yearly
  lognormal shocks (with the link ``macro_investment`` on, project sizes and other investment
  grow with the macro layer's industrial investment growth of each year instead); it is split
  over districts by the annex's (industrial - tech) shares, perturbed per replication. So the
  share lies in [0, 100] and districts sum to the city.
* Target responsibility (link ``responsibility_renovation``,
  :func:`model.modules.responsibility.responsibility_renovation`,
  applied here): the years are stepped in order; at each year end the share is assessed
  against the plan's path (lever ``response.path``: 16 / 20 / 25 / 30 % in 2017-2020) and a
  shortfall raises next year's hazard of every firm by the campaign effort (bounded, never
  falling); in 2020 the year's own share is looked at against the 2020 goal and the effort
  raised again (final-year push), the year's adoption redone on the same draws. With the link
  off the effort is 1 and the hazards are used untouched, so the results are exactly those
  without it. ``path_shortfall`` and ``behind_path`` are reported either way.

Common random numbers: every random number is drawn from ``rng`` in chunks of ``CHUNK``
replications, in an order and shape that depend only on ``n``; levers only move the hazards
the firms' Exp(1) draws are compared with (adopt if draw < hazard, probability
``1 - exp(-hazard)``), and a larger subsidy (rate or cap, or a lower floor) raises every hazard,
so it never lowers adoption or investment under the same draws. The campaign effort is >= 1 and
moves only the hazards, so the link never lowers adoption, investment or the share either.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.links import NO_LINKS, Linked
from model.modules import FloatDraws, responsibility, techreform_counts
from model.modules.districts import DISTRICTS
from model.modules.responsibility import responsibility_renovation
from model.timeline import YEARS

#: The 19 districts of the annex (附件) with their 2017 figures: model/data/districts.toml.
DISTRICT_IDS: tuple[str, ...] = tuple(d.id for d in DISTRICTS)

#: Above-scale firms per firm of the 2017 quota: 60 firms = 20 % (seed, 二(一) 时间节点), so 300
#: firms; each district gets 5x its quota (assumption: proportional to the quota).
FIRMS_PER_QUOTA = 5
_QUOTA = np.array([d.firms for d in DISTRICTS])
DISTRICT_FIRMS: np.ndarray = FIRMS_PER_QUOTA * _QUOTA
N_FIRMS = int(DISTRICT_FIRMS.sum())
#: District of each firm (firms of a district are contiguous, in annex order).
FIRM_DISTRICT: np.ndarray = np.repeat(np.arange(len(DISTRICTS)), DISTRICT_FIRMS)
_STARTS = np.concatenate(([0], np.cumsum(DISTRICT_FIRMS)[:-1]))
#: Relative project size of a district's firms: annex tech-renovation investment per renovating
#: firm [亿元/firm] (assumption: the annex's ratio reflects its firms' typical project size).
DISTRICT_SCALE: np.ndarray = np.array([d.investment / d.firms for d in DISTRICTS])
_DISTRICT_SCALE32 = DISTRICT_SCALE.astype(np.float32)
#: Annex 2017 other (industrial - tech-renovation) investment shares of the districts.
_OTHER = np.array([d.industrial_investment - d.investment for d in DISTRICTS])
DISTRICT_OTHER_SHARE: np.ndarray = _OTHER / _OTHER.sum()

#: Replications simulated at once (bounds memory at n = 100,000; fixed, so draws do not depend
#: on levers).
CHUNK = 2048
#: The link of the target-responsibility feedback (applied by this module itself).
FEEDBACK_LINK = "responsibility_renovation"
WAN_PER_YI = 1.0e4  # 1 亿元 = 10,000 万元
_SIM = len(YEARS) - 1  # simulated years 2017..2020 are columns 1.. of a yearly array


def project_subsidy(cost_wan, rate, floor_wan, cap_wan, eligible_share):
    """Post-subsidy of a tech-renovation project (技改方案 二(一)).

    Parameters
    ----------
    cost_wan : array_like
        Project investment completed in the year [万元].
    rate : float or array_like
        Subsidy rate on equipment + R&D spend [share], 0.30 in the plan.
    floor_wan : float
        Smallest eligible project [万元], 500 in the plan (">= 500万": eligible at exactly 500).
    cap_wan : float
        Largest subsidy per project [万元], 1000 in the plan.
    eligible_share : float or array_like
        Equipment + R&D share of project spend [share].

    Returns
    -------
    numpy.ndarray
        Subsidy [万元], 0 below the floor.
    """
    cost = np.asarray(cost_wan, dtype=float)
    paid = np.minimum(np.multiply(rate, eligible_share) * cost, cap_wan)
    return np.where(cost >= floor_wan, paid, 0.0)


def hazard(base_prob, multiplier, effective_rate, elasticity):
    """Yearly hazard (rate) that a firm carries out its candidate project.

    ``lambda = -ln(1 - base_prob) * multiplier * (1 - effective_rate) ** (-elasticity)``: a
    subsidy cutting the project's cost by the share ``effective_rate`` raises the hazard by the
    user-cost elasticity. The probability of carrying the project out in the year is
    ``1 - exp(-lambda)`` (:func:`adoption_probability`); with ``multiplier = 1`` and no subsidy
    (or zero elasticity) it is ``base_prob``.

    Parameters
    ----------
    base_prob : array_like
        Annual probability without subsidy or campaign [share], in [0, 1).
    multiplier : array_like
        Firm frailty x campaign factor [-], >= 0.
    effective_rate : array_like
        Subsidy / project cost [share], in [0, 1].
    elasticity : array_like
        Elasticity of incidence to the user cost [-], >= 0.
    """
    base = -np.log1p(-np.asarray(base_prob)) * multiplier
    cost = np.maximum(1 - np.asarray(effective_rate), 1e-6)
    return base * np.exp(-np.multiply(elasticity, np.log(cost)))


def adoption_probability(base_prob, multiplier, effective_rate, elasticity):
    """Probability ``1 - exp(-hazard)`` of carrying out the project in the year (see
    :func:`hazard`)."""
    return -np.expm1(-hazard(base_prob, multiplier, effective_rate, elasticity))


def _lognormal_mean_one(z, sigma, out=None):
    """``exp(sigma z - sigma^2 / 2)``: mean one for standard normal ``z`` (into ``out`` if given)."""
    out = np.multiply(sigma, z, out=out)
    np.subtract(out, 0.5 * sigma * sigma, out=out)
    return np.exp(out, out=out)


def _by_district(x):
    """Sum firm columns (n, N_FIRMS) into districts (n, 19), in float64."""
    return np.add.reduceat(x, _STARTS, axis=1, dtype=np.float64)


def _schedule(value) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (len(YEARS),))


def _params(draws: Mapping[str, np.ndarray], rows: slice) -> Mapping[str, np.ndarray]:
    """Per-replication parameters of a chunk as (m, 1) float64 columns."""
    return FloatDraws(draws, lambda value: np.asarray(value, dtype=float)[rows, None])


def _simulate_chunk(p, rate, floor_wan, cap_wan, kept, rng, out, rows, path=None, goal=None):
    """Simulate replications ``rows``; firm-level arithmetic in float32 (sums in float64).

    ``path``: ``(m, years)`` yearly investment growth of the macro layer [share/yr] (link
    ``macro_investment``), or None for the module's own ``investment.trend``. ``goal``: the
    plan's path of the share [%] over YEARS (lever ``response.path``) when the link
    ``responsibility_renovation`` is on, else None (no feedback: effort 1 in every year).
    """
    f4 = np.float32
    q = FloatDraws(p, lambda value: value.astype(f4))
    m = p["propensity.base"].shape[0]
    # --- draws that do not depend on the year, in a fixed order and lever-free shapes -----
    z_firm = rng.standard_normal((m, N_FIRMS), dtype=f4)
    z_frail = rng.standard_normal((m, N_FIRMS), dtype=f4)
    z_other = rng.standard_normal((m, _SIM))
    z_district = rng.standard_normal((m, len(DISTRICTS)))

    # --- 2016 base ---------------------------------------------------------------------
    ind16 = p["base2016.industrial_investment"]
    tech16 = p["base2016.share"] * ind16
    other16 = ind16 - tech16
    size = _DISTRICT_SCALE32[FIRM_DISTRICT] * _lognormal_mean_one(z_firm, q["project.firm_sigma"])
    frailty = _lognormal_mean_one(z_frail, q["propensity.firm_sigma"])
    hazard0 = hazard(q["propensity.base"], frailty, f4(0), f4(0))  # no-policy hazard
    expected0 = -np.expm1(-hazard0) * size  # expected no-policy investment per firm, unscaled
    k = tech16 / expected0.sum(axis=1, keepdims=True, dtype=np.float64)
    size *= k.astype(f4)  # typical project of each firm at 2016 prices [亿元]

    w = DISTRICT_OTHER_SHARE * np.exp(p["district.other_sigma"] * z_district)
    w /= w.sum(axis=1, keepdims=True)
    other = other16[:, 0]
    dist_tech16 = _by_district(expected0) * k
    out["investment"][rows, 0] = dist_tech16.sum(axis=1)
    out["industrial_investment"][rows, 0] = out["investment"][rows, 0] + other
    out["district_investment"][rows, 0] = dist_tech16
    out["district_industrial"][rows, 0] = dist_tech16 + other16 * w

    ever = np.zeros((m, N_FIRMS), dtype=bool)
    vol = p["investment.other_volatility"][:, 0]
    if path is None:  # the module's own trend (link macro_investment off)
        grow = 1.0 + p["investment.trend"][:, 0]
        steps = np.repeat(grow[:, None], _SIM + 1, axis=1)
        level = None
    else:  # the macro layer's industrial investment growth, year by year
        steps = 1.0 + path
        level = np.cumprod(np.where(np.arange(_SIM + 1) == 0, 1.0, steps), axis=1)
    effort = np.ones((m, _SIM + 1))
    shortfall = np.full((m, _SIM + 1), np.nan)
    floor32 = _float32_floor(floor_wan)
    # (m, N_FIRMS) work arrays, reused every year (fresh arrays of this size cost page faults)
    cost, cost_wan, sub, lam, work = (np.empty((m, N_FIRMS), dtype=f4) for _ in range(5))
    adopt = np.empty((m, N_FIRMS), dtype=bool)
    for j in range(1, _SIM + 1):
        z_proj = rng.standard_normal((m, N_FIRMS), dtype=f4)
        e_draw = rng.standard_exponential((m, N_FIRMS), dtype=f4)
        _lognormal_mean_one(z_proj, q["project.sigma"], out=cost)
        np.multiply(size, cost, out=cost)
        scale = (grow[:, None] ** j) if level is None else level[:, j, None]
        np.multiply(cost, scale.astype(f4), out=cost)  # [亿元]
        grow_j = steps[:, j]
        np.multiply(cost, f4(WAN_PER_YI), out=cost_wan)
        _subsidy32(cost_wan, float(rate[j]), floor32, cap_wan, q["project.equipment_rd_share"], sub, adopt)
        eps = q["response.elasticity"] * (q["response.first_year"] if j == 1 else f4(1))
        np.multiply(hazard0, q["propensity.campaign_growth"] ** j, out=lam)
        # lam *= (1 - sub / cost_wan) ** -eps, as exp(-eps log(max(1 - e, 1e-6)))
        np.divide(sub, cost_wan, out=work)
        np.subtract(f4(1), work, out=work)
        np.maximum(work, f4(1e-6), out=work)
        np.log(work, out=work)
        np.multiply(-eps, work, out=work)
        np.exp(work, out=work)
        np.multiply(lam, work, out=lam)
        other = other * grow_j * _lognormal_mean_one(z_other[:, j - 1], vol)
        other_j = other * kept[:, j]  # other investment of the capacity still open
        d_tech, tech = _adopt(e_draw, lam, effort[:, j], cost, goal is not None, adopt, work)
        if goal is not None:  # the assessment of year j (in 2020: the in-year look at the goal)
            shortfall[:, j] = responsibility.shortfall(goal[j], 100.0 * tech / (tech + other_j))
            effort = _campaign(shortfall, p)
            if j == _SIM:  # final-year push: the same draws against the raised hazard
                d_tech, tech = _adopt(e_draw, lam, effort[:, j], cost, True, adopt, work)
        ever |= adopt
        out["investment"][rows, j] = tech
        out["industrial_investment"][rows, j] = tech + other_j
        out["firms"][rows, j] = np.count_nonzero(adopt, axis=1)
        out["completed"][rows, j] = np.count_nonzero(ever, axis=1)
        np.multiply(sub, adopt, out=work)  # the subsidy of the projects carried out (sub >= 0)
        out["subsidy_outlay"][rows, j] = work.sum(axis=1, dtype=np.float64)
        out["district_investment"][rows, j] = d_tech
        out["district_industrial"][rows, j] = d_tech + other_j[:, None] * w
        out["district_firms"][rows, j] = np.add.reduceat(adopt.view(np.uint8), _STARTS, axis=1, dtype=np.int32)
    out["campaign_effort"][rows] = effort


def _float32_floor(floor_wan: float) -> np.float32:
    """The smallest float32 ``>= floor_wan``: ``cost >= floor_wan`` for float32 ``cost`` is
    ``cost >= _float32_floor(floor_wan)``, compared in float32."""
    f = np.float32(floor_wan)
    return f if float(f) >= floor_wan else np.nextafter(f, np.float32(np.inf))


def _subsidy32(cost_wan, rate, floor32, cap_wan, eligible_share, out, mask):
    """:func:`project_subsidy` of float32 projects ``cost_wan`` into ``out`` (float32), with
    the same values: a product of two float32 numbers is exact in float64, rounding is
    monotonic (so the cap can be applied after it), and the floor is compared exactly
    (:func:`_float32_floor`). ``mask`` (bool, like ``cost_wan``) is scratch space."""
    np.multiply(np.multiply(rate, eligible_share), cost_wan, out=out)
    np.minimum(out, np.float32(cap_wan), out=out)
    np.greater_equal(cost_wan, floor32, out=mask)
    np.multiply(out, mask, out=out)  # out >= 0: the same as where(mask, out, 0)


def _adopt(e_draw, lam, effort, cost, feedback, adopt, work):
    """Projects carried out in a year: adopt where the Exp(1) draw is below the hazard.

    ``effort`` (m,) multiplies the hazard when ``feedback`` is on (link
    ``responsibility_renovation``); off, the hazard is used as it is, so results are exactly
    those without the link. Fills ``adopt`` (m, N_FIRMS) (``work``: float32 scratch of that
    shape) and returns district and city tech-renovation investment [亿元].
    """
    if feedback:
        np.multiply(lam, effort[:, None].astype(np.float32), out=work)
        lam = work
    np.less(e_draw, lam, out=adopt)  # P = 1 - exp(-lam): an Exp(1) draw below the hazard
    np.multiply(cost, adopt, out=work)  # cost > 0: the same as where(adopt, cost, 0)
    d_tech = _by_district(work)
    return d_tech, d_tech.sum(axis=1)


def _campaign(shortfall, p):
    """Campaign effort (m, years) from the shortfalls so far: the link
    :func:`model.modules.responsibility.responsibility_renovation`, called with this module's arrays."""
    draws = {f"techreform.response.{k}": p[f"response.{k}"][:, 0] for k in ("strength", "max_effort", "final_push")}
    return responsibility_renovation({"techreform.path_shortfall": shortfall}, draws)["campaign_effort"]


def _indicators(out: Mapping[str, np.ndarray], goal: np.ndarray) -> dict[str, np.ndarray]:
    """The firm-level model's indicators from its per-year arrays: the share, the growth gap
    (tech-renovation minus industrial investment growth [pp]), the shortfall against the plan's
    path ``goal`` [%] at each year end (2016: NaN), the campaign effort, and each district's
    figures."""
    tech, ind = out["investment"], out["industrial_investment"]
    gap = np.full(tech.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap[:, 1:] = 100.0 * (tech[:, 1:] / tech[:, :-1] - ind[:, 1:] / ind[:, :-1])
    gap[~np.isfinite(gap)] = np.nan
    share = 100.0 * tech / ind
    shortfall = responsibility.shortfall(goal, share)
    shortfall[:, 0] = np.nan  # 2016: no assessment
    result = {
        "investment_share": share,
        "investment": tech,
        "industrial_investment": ind,
        "firms": out["firms"],
        "growth_gap": gap,
        "completed_share": 100.0 * out["completed"] / N_FIRMS,
        "subsidy_outlay": out["subsidy_outlay"],
        "path_shortfall": shortfall,
        "behind_path": np.where(np.isnan(shortfall), np.nan, (shortfall > 0).astype(float)),
        "campaign_effort": out["campaign_effort"],
    }
    for d, name in enumerate(DISTRICT_IDS):
        result[f"district.{name}.industrial_investment"] = out["district_industrial"][:, :, d]
        result[f"district.{name}.investment"] = out["district_investment"][:, :, d]
        result[f"district.{name}.firms"] = out["district_firms"][:, :, d]
    return result


def simulate(levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
             rng: np.random.Generator, linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """Simulate the tech-renovation plan (see the module docstring).

    Parameters
    ----------
    levers : mapping
        ``subsidy_rate`` [share] (schedule over YEARS), ``subsidy_min_project`` [万元],
        ``subsidy_cap`` [万元], ``response.path`` [%] (schedule over YEARS: the plan's path of
        the share), and the levers of :mod:`model.modules.techreform_counts`.
    draws : mapping
        Uncertainty name -> (n,) array, as declared in ``techreform.toml``.
    rng : numpy.random.Generator
        Source of firm-level random events.
    linked : Linked
        ``other_investment_factor`` (n, years) from the link ``capacity_exits_investment``:
        the share of other industrial investment still made after capacity closures;
        ``investment_growth`` (n, years) from the link ``macro_investment``: the macro layer's
        nominal industrial investment growth, used instead of ``investment.trend``; with
        ``responsibility_renovation`` in ``linked.enabled`` the module applies the
        target-responsibility feedback itself.

    Returns
    -------
    dict
        Indicator name -> (n, len(YEARS)) array; 2016 is the base year. Includes the count
        targets of :mod:`model.modules.techreform_counts` (drawn after the firm-level model).
    """
    rate = _schedule(levers["subsidy_rate"])
    floor_wan = float(levers["subsidy_min_project"])
    cap_wan = float(levers["subsidy_cap"])
    n = len(np.asarray(draws["propensity.base"]))
    ny, nd = len(YEARS), len(DISTRICTS)
    out = {
        "investment": np.empty((n, ny)), "industrial_investment": np.empty((n, ny)),
        "firms": np.full((n, ny), np.nan), "completed": np.zeros((n, ny)),
        "subsidy_outlay": np.zeros((n, ny)),
        "district_investment": np.empty((n, ny, nd)),
        "district_industrial": np.empty((n, ny, nd)),
        "district_firms": np.full((n, ny, nd), np.nan),
        "campaign_effort": np.ones((n, ny)),
    }
    kept = np.asarray(linked.inputs.get("other_investment_factor", np.ones((n, ny))), float)
    path = linked.inputs.get("investment_growth")  # link macro_investment
    goal = _schedule(levers["response.path"])  # the plan's own path of the share [%]
    feedback = FEEDBACK_LINK in linked.enabled
    for start in range(0, n, CHUNK):
        rows = slice(start, min(n, start + CHUNK))
        _simulate_chunk(_params(draws, rows), rate, floor_wan, cap_wan, kept[rows], rng, out, rows,
                        None if path is None else np.asarray(path, float)[rows], goal if feedback else None)

    result = _indicators(out, goal)
    # Count targets, drawn after the firm-level model (its results do not depend on them);
    # demonstration projects and new products come from the firms renovating in the year.
    result.update(techreform_counts.simulate_counts(levers, draws, rng, out["firms"]))
    return result
