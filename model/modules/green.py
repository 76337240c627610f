"""Green transformation plan (工业绿色化改造): energy intensity of above-scale industry.

Sector model (DESIGN.md section 4). For sector ``s`` and year-end ``k`` years after 2016:

* value added ``VA[s, k] = w[s] * prod_j (1 + g[s] + sd * z[s, j]) * (1 - X[s, k])``:
  2016 share ``w`` (normalised weights), real growth ``g`` with yearly shocks ``z`` drawn from
  ``rng``, and ``X`` the share of the sector's 2016 capacity closed by the overcapacity plan by
  year end ``k`` (link ``capacity_exits_energy`` in ``model.links``; zero with the link off).
  With the link ``macro_sector_growth`` on, the common shock of the macro layer is added to each
  sector's yearly growth (heavy sectors loading more, ``cycle_gap``) and the sectors are scaled
  together so that their total follows the macro layer's industrial value added.
  Exits remove value added and energy at the sector's own intensity, so they act through
  structure only.
* intensity ``e[s, k] = e0[s] * (1 - a[s]) ** k * (1 - delta[s] * A[s, k])``: relative 2016
  intensity ``e0``, autonomous decline ``a`` and savings ``delta`` of a retrofitting plant, times
  the share ``A`` of the sector's plants that have retrofitted.
* ``A`` is lumpy: a sector is ``N[s]`` equal plants (``N`` the effective number, the inverse
  Herfindahl index of plant value added); plant ``i`` has retrofitted by time ``t`` when its
  uniform ``u[i] < F[s](t)``, so its adoption time has the Bass distribution ``F`` and the mean
  of ``A`` over replications is exactly ``F``. ``F`` follows the Bass equation
  ``dF/dt = (p + qF)(1 - F)`` from the start of 2017 with innovation ``p`` and imitation ``q``;
  from the lever ``measures_start`` on, ``p`` is multiplied by the effects of the plan's measures
  that are switched on and reach the sector, and by the lever ``p_multiplier``; with the link
  ``renovation_retrofit`` on, also by ``1 + renovation_p_effect * R`` with ``R`` the share of
  firms that had started a tech-renovation project by the end of the year before.

The indicator is the cut ``100 * (1 - I[k] / I[0])`` in the intensity ``I = sum E / sum VA``,
split exactly into structure and efficiency effects by multiplicative LMDI-I.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.links import NO_LINKS, Linked
from model.modules import plants, responsibility
from model.modules.bass import bass_advance
from model.modules.green_counts import simulate_counts
from model.modules.responsibility import responsibility_energy
from model.modules.sectors import SECTORS
from model.timeline import BASE_YEAR, YEARS

#: Largest effective number of plants per sector (width of the plant-level random array).
MAX_PLANTS = 30

#: Policy measures (bool levers) -> sectors whose Bass ``p`` each raises (see ``green.toml``).
MEASURE_SECTORS: dict[str, tuple[str, ...]] = {
    "inspection": ("steel", "power", "building"),  # 三(四): steel 1, cement 1, power 2 firms
    "differential_pricing": ("nonferrous", "steel", "chemicals", "power", "building"),
    "post_subsidy": SECTORS,
}

#: Heavy sectors (1) move more with the economy's common shock than the others (0), see
#: :func:`_macro_value_added`: metal, steel, coke and cement demand are the cycle's first casualties.
HEAVY = np.array([1.0 if s in ("nonferrous", "steel", "chemicals", "building") else 0.0 for s in SECTORS])

#: Sectors whose production the city limits when the energy target lags (the largest energy
#: users, :data:`HEAVY`; power and heat are spared: households and other firms depend on them).
LIMITED = HEAVY.astype(bool)

#: The link (:mod:`model.links`) that switches the target-responsibility feedback on.
FEEDBACK_LINK = "responsibility_energy"

#: Floor on a year's growth factor ``1 + g + sd * z`` (a sector never loses > 95 % in a year).
MIN_GROWTH_FACTOR = 0.05


def log_mean(x: np.ndarray, y: np.ndarray, log_ratio: np.ndarray | None = None) -> np.ndarray:
    """Logarithmic mean ``L(x, y) = (x - y) / (ln x - ln y)``, ``L(x, x) = x``, for ``x, y > 0``.

    ``log_ratio``, if given, is ``ln(x / y)`` already computed (saves the logarithms).
    """
    d = np.log(x / y) if log_ratio is None else log_ratio
    zero = d == 0.0
    return y * np.where(zero, 1.0, np.expm1(d) / np.where(zero, 1.0, d))


#: Stand-in for a zero in the LMDI decomposition (Ang & Liu 2007 recommend 1e-10 to 1e-20).
_TINY = 1e-20


def lmdi(value_added: np.ndarray, intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative LMDI-I split of the change in aggregate intensity since the first column.

    ``I_T / I_0 = D_str * D_eff`` exactly, with ``ln D_str = sum_s W_s ln(S_sT / S_s0)`` and
    ``ln D_eff = sum_s W_s ln(e_sT / e_s0)``, ``W_s = L(eps_sT, eps_s0) / L(I_T, I_0)``,
    ``eps_s = S_s e_s`` and ``S_s`` the value-added share.

    Parameters
    ----------
    value_added : numpy.ndarray
        Sector value added, shape ``(..., S, T)`` [any unit], positive.
    intensity : numpy.ndarray
        Sector energy intensity, same shape [energy per unit of value added], positive.

    Returns
    -------
    tuple of numpy.ndarray
        ``(D_str, D_eff)``, each shape ``(..., T)`` [ratio to the first column].
    """
    # A sector whose value added or intensity reaches zero (closed down, or every retrofit
    # saving all its energy) has no logarithm: its zeros are replaced by a tiny positive value,
    # the small-value strategy of Ang & Liu (2007), "Handling zero values in the logarithmic
    # mean Divisia index decomposition approach", Energy Policy 35(1):238-246. Positive values
    # pass unchanged, so every ordinary run is untouched.
    shares = np.maximum(value_added / value_added.sum(axis=-2, keepdims=True), _TINY)
    intensity = np.maximum(intensity, _TINY)
    eps = shares * intensity
    agg = eps.sum(axis=-2)
    log_s = np.log(shares / shares[..., :1])
    log_e = np.log(intensity / intensity[..., :1])
    weight = log_mean(eps, eps[..., :1], log_s + log_e) / log_mean(agg, agg[..., :1])[..., None, :]
    d_str = np.exp((weight * log_s).sum(axis=-2))
    d_eff = np.exp((weight * log_e).sum(axis=-2))
    return d_str, d_eff


def _sector_draws(draws: Mapping[str, np.ndarray], group: str) -> np.ndarray:
    """Stack ``draws['<group>.<sector>']`` for every sector into shape ``(n, S)``."""
    missing = [f"{group}.{s}" for s in SECTORS if f"{group}.{s}" not in draws]
    if missing:
        raise KeyError(f"green: draws lack uncertainties {missing}")
    return np.stack([np.asarray(draws[f"{group}.{s}"], float) for s in SECTORS], axis=1)


def p_multipliers(levers: Mapping[str, object], draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """Factor on Bass ``p`` per sector once the measures start, shape ``(n, S)`` [ratio]."""
    n = len(draws["bass_p"])
    mult = np.full((n, len(SECTORS)), float(levers["p_multiplier"]))
    for measure, reached in MEASURE_SECTORS.items():
        if levers[measure]:
            cols = [SECTORS.index(s) for s in reached]
            mult[:, cols] *= np.asarray(draws[f"p_effect.{measure}"], float)[:, None]
    return mult


def _value_added(draws: Mapping[str, np.ndarray], shocks: np.ndarray, linked: Linked,
                 plant_index: np.ndarray) -> np.ndarray:
    """Sector value added relative to the 2016 total, ``(n, S, T)``, after capacity exits.

    ``plant_index`` is the sectors' output index from their plants' own shocks,
    ``(n, S, T)`` (:func:`model.modules.plants.sector_output`).
    """
    n, n_sec = shocks.shape[:2]
    weights = _sector_draws(draws, "share")
    growth = _sector_draws(draws, "growth")
    sd = np.asarray(draws["growth_sd"], float)[:, None, None]
    kept = 1.0 - linked.inputs["exit_share"] if "exit_share" in linked.inputs else 1.0
    if "industry_index" in linked.inputs:  # link macro_sector_growth (model.links)
        own = 1.0 + growth[..., None] + sd * shocks
        return _macro_value_added(draws, linked, weights, own, plant_index) * kept
    factor = np.maximum(1.0 + growth[..., None] + sd * shocks, MIN_GROWTH_FACTOR)
    cum = np.ones((n, n_sec, factor.shape[-1] + 1))
    plants.running_product(factor, out=cum[..., 1:])
    return (weights / weights.sum(axis=1, keepdims=True))[..., None] * cum * plant_index * kept


def _macro_value_added(draws: Mapping[str, np.ndarray], linked: Linked, weights: np.ndarray,
                       own: np.ndarray, plant_index: np.ndarray) -> np.ndarray:
    """Sector value added before exits with the macro layer's industry, ``(n, S, T)``.

    Each sector's own growth factor ``own`` (trend and sector shock) gets the common shock
    ``c_t`` with loading ``1 + cycle_gap / 2`` in the heavy sectors (:data:`HEAVY`) and
    ``1 - cycle_gap / 2`` in the others, and its plants' own shocks (``plant_index``); the
    sectors are then scaled together so that their total follows the macro layer's
    ``industry_index``. The sectors' own trends and their plants' shocks therefore act only
    through their differences (the structure), the level is the one economy's.
    """
    n, n_sec = own.shape[:2]
    gap = np.asarray(draws["cycle_gap"], float)[:, None, None]
    loading = 1.0 + gap * (HEAVY[None, :, None] - 0.5)
    shock = linked.inputs["common_shock"][:, None, 1:]
    factor = np.maximum(own + loading * shock, MIN_GROWTH_FACTOR)
    cum = np.ones((n, n_sec, factor.shape[-1] + 1))
    plants.running_product(factor, out=cum[..., 1:])
    va = (weights / weights.sum(axis=1, keepdims=True))[..., None] * cum * plant_index
    return va * (linked.inputs["industry_index"] / va.sum(axis=1))[:, None, :]


def _innovation_rates(levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
                      linked: Linked) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Bass coefficients: ``(switch, p_before (n, S), p_after (n, S, T), q (n, S))``.

    ``p_after[..., k]`` is the innovation rate after the measures start during year ``k``
    (before the responsibility feedback's effort); ``switch`` the start [yr since 2016].
    """
    n, n_sec, n_yr = len(draws["bass_p"]), len(SECTORS), len(YEARS)
    p0 = np.broadcast_to(np.asarray(draws["bass_p"], float)[:, None], (n, n_sec))
    q = np.broadcast_to(np.asarray(draws["bass_q"], float)[:, None], (n, n_sec))
    switch = float(levers["measures_start"]) - (BASE_YEAR + 1)
    p_after = np.broadcast_to((p0 * p_multipliers(levers, draws))[..., None], (n, n_sec, n_yr))
    if "renovated_share" in linked.inputs:  # link renovation_retrofit (model.links)
        # firms that started a tech-renovation project by the end of the year before
        lagged = np.concatenate([np.zeros((n, 1)), linked.inputs["renovated_share"][:, :-1]], axis=1)
        effect = np.asarray(draws["renovation_p_effect"], float)[:, None, None]
        p_after = p_after * (1.0 + effect * lagged[:, None, :])
    return switch, p0, p_after, q


def _plants(draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """Effective number of equal plants per sector, whole numbers in [1, MAX_PLANTS], ``(n, S)``."""
    return np.clip(np.rint(_sector_draws(draws, "plants")), 1, MAX_PLANTS).astype(int)


def _step_years(levers: Mapping[str, object], draws: Mapping[str, np.ndarray], linked: Linked,
                va: np.ndarray, plant_state: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    """Step the years 2017..2020 in order: retrofits, intensity, and the yearly assessment.

    In year ``k`` the Bass share ``F`` advances with ``p`` times the effort in force; plant
    ``i`` has retrofitted when its uniform ``u[i] < F`` (:mod:`model.modules.plants` turns the
    plants into the sector's intensity). With the link ``responsibility_energy`` on, the
    assessment at the end of each year compares the cut with the plan's path
    (``response.path``): the shortfall raises the next year's effort on retrofits
    (:func:`model.modules.responsibility.raised_effort`), and a shortfall above
    ``response.limit_threshold`` points, or any shortfall in the final year, makes the city
    limit the heavy sectors' production in the next year (in the final year: the same year,
    the last-year push) as far as needed to reach the path, up to ``response.limit_max``.
    With the link off the effort stays 1 and nothing is limited.

    Returns
    -------
    dict
        ``value_added`` after limits and ``intensity``, ``(n, S, T)``; ``retrofitted`` share of
        each sector's energy in retrofitted plants, ``(n, S, T)``; ``shortfall`` [points],
        ``effort``,
        ``limit`` (share of the heavy sectors' output held back) and ``loss`` (share of
        industrial value added lost to limits), ``(n, T)``.
    """
    output, relative, u, mask = plant_state
    n, n_sec, n_yr = va.shape
    switch, p0, p_after, q = _innovation_rates(levers, draws, linked)
    e0 = _sector_draws(draws, "intensity")
    decline = 1.0 - _sector_draws(draws, "decline")
    savings = _sector_draws(draws, "savings")
    path = np.asarray(levers["response.path"], float)
    feedback = FEEDBACK_LINK in linked.enabled
    if feedback:
        response = {f"green.response.{name}": np.asarray(draws[f"response.{name}"], float)
                    for name in ("retrofit_push", "max_push", "limit_threshold", "limit_max")}

    va = va.copy()
    intensity = np.empty((n, n_sec, n_yr))
    intensity[..., 0] = e0
    retrofitted = np.zeros((n, n_sec, n_yr))
    yearly = {name: np.zeros((n, n_yr)) for name in ("shortfall", "limit", "loss")}
    effort = np.ones((n, n_yr))
    base = (va[..., 0] * e0).sum(axis=1) / va[..., 0].sum(axis=1)
    share = np.zeros((n, n_sec))
    may_limit = np.zeros(n, bool)
    for k in range(1, n_yr):
        before = min(max(switch - (k - 1), 0.0), 1.0)  # part of year k before the measures start
        mid = bass_advance(share, before, p0, q)
        share = bass_advance(mid, 1.0 - before, p_after[..., k] * effort[:, k, None], q)
        adopted = (u < share.astype(np.float32)[..., None]) & mask
        factor, retrofitted[..., k] = plants.sector_mix(output[..., k], relative, savings, adopted)
        intensity[..., k] = e0 * decline ** k * factor
        if feedback and k > 1:
            energy = va[..., k] * intensity[..., k]
            heavy = (energy[:, LIMITED].sum(axis=1), va[:, LIMITED, k].sum(axis=1))
            rest = (energy[:, ~LIMITED].sum(axis=1), va[:, ~LIMITED, k].sum(axis=1))
            bound = np.where(may_limit | (k == n_yr - 1), response["green.response.limit_max"], 0.0)
            limit = responsibility.production_limit(heavy, rest, base * (1.0 - path[k] / 100.0), bound)
            yearly["limit"][:, k] = limit
            yearly["loss"][:, k] = limit * heavy[1] / (heavy[1] + rest[1])
            va[:, LIMITED, k] *= (1.0 - limit)[:, None]
        cut = 100.0 * (1.0 - (va[..., k] * intensity[..., k]).sum(axis=1) / va[..., k].sum(axis=1) / base)
        yearly["shortfall"][:, k] = responsibility.shortfall(path[k], cut)
        if feedback and k < n_yr - 1:
            assessed = responsibility_energy({"green.path_shortfall": yearly["shortfall"],
                                              "green.retrofit_effort": effort}, response)
            effort[:, k + 1], may_limit = assessed["effort"][:, k], assessed["may_limit"][:, k]
    return {"value_added": va, "intensity": intensity, "retrofitted": retrofitted,
            "effort": effort, **yearly}


def simulate(
    levers: Mapping[str, object], draws: Mapping[str, np.ndarray], rng: np.random.Generator,
    linked: Linked = NO_LINKS,
) -> dict[str, np.ndarray]:
    """Energy-intensity trajectories of above-scale industry, 2016-2020.

    Parameters
    ----------
    levers : mapping
        ``measures_start`` [decimal yr], ``p_multiplier`` [ratio], the bools ``inspection``,
        ``differential_pricing``, ``post_subsidy``, and ``response.path``, the plan's own path
        of the cut [%] per year (the yearly assessment's yardstick).
    draws : mapping
        Uncertainty name -> array ``(n,)``; per sector ``share``, ``intensity``, ``growth``,
        ``decline``, ``savings``, ``exit``, ``plants`` (as ``'growth.steel'``), and ``bass_p``,
        ``bass_q``, ``growth_sd``, ``plant.sd``, ``plant.spread``, ``p_effect.<measure>`` and
        ``response.*`` (see ``green.toml`` for units).
    rng : numpy.random.Generator
        Source of yearly sector shocks ``(n, S, T-1)``, plant uniforms ``(n, S, MAX_PLANTS)``,
        the plants' yearly output shocks ``(n, S, MAX_PLANTS, T-1)`` and intensities
        ``(n, S, MAX_PLANTS)``, then the count targets' draws (:mod:`model.modules.green_counts`),
        in that order whatever the levers and links.
    linked : Linked
        With ``responsibility_energy`` enabled the city responds to the yearly assessment
        (:func:`_step_years`).

    Returns
    -------
    dict of str to numpy.ndarray
        Yearly arrays ``(n, len(YEARS))``: ``energy_intensity_cut``, ``structure_effect``,
        ``efficiency_effect``, ``retrofit_adoption`` [%], ``value_added_growth`` [%/yr], the
        feedback's ``path_shortfall`` [points], ``retrofit_effort`` [ratio], ``production_limit`` and
        ``limit_output_loss`` [%], plus the count targets' indicators of
        :mod:`model.modules.green_counts` (whose levers, uncertainties and draws are its own).
    """
    n, n_sec, n_yr = len(draws["bass_p"]), len(SECTORS), len(YEARS)
    shocks = rng.standard_normal((n, n_sec, n_yr - 1))
    u = rng.random((n, n_sec, MAX_PLANTS), dtype=np.float32)
    z_plant = rng.standard_normal((n, n_sec, MAX_PLANTS, n_yr - 1), dtype=np.float32)
    x_plant = rng.standard_normal((n, n_sec, MAX_PLANTS), dtype=np.float32)
    # Counts and rates of the plan's other targets: drawn after everything the energy model
    # draws, so the energy results do not depend on them (green_counts.py).
    counts = simulate_counts(levers, draws, rng)

    number = _plants(draws)
    mask = plants.active(number, MAX_PLANTS)
    output = plants.plant_output(z_plant, mask, np.asarray(draws["plant.sd"], float))
    relative = plants.plant_intensity(x_plant, mask, np.asarray(draws["plant.spread"], float))
    va = _value_added(draws, shocks, linked, plants.sector_output(output, number))
    steps = _step_years(levers, draws, linked, va, (output, relative, u, mask))
    va, intensity = steps["value_added"], steps["intensity"]
    energy = va * intensity

    total_va = va.sum(axis=1)
    agg = energy.sum(axis=1) / total_va
    d_str, d_eff = lmdi(va, intensity)
    e_weight = energy[..., 0] / energy[..., 0].sum(axis=1, keepdims=True)
    k = np.arange(n_yr, dtype=float)
    growth_rate = np.zeros((n, n_yr))
    growth_rate[:, 1:] = (total_va[:, 1:] / total_va[:, :1]) ** (1.0 / k[1:]) - 1.0
    out = {
        "energy_intensity_cut": 100.0 * (1.0 - agg / agg[:, :1]),
        "structure_effect": 100.0 * (1.0 - d_str),
        "efficiency_effect": 100.0 * (1.0 - d_eff),
        "retrofit_adoption": 100.0 * (e_weight[..., None] * steps["retrofitted"]).sum(axis=1),
        "value_added_growth": 100.0 * growth_rate,
        "path_shortfall": steps["shortfall"],
        "retrofit_effort": steps["effort"],
        "production_limit": 100.0 * steps["limit"],
        "limit_output_loss": 100.0 * steps["loss"],
    }
    out.update(counts)
    return out
