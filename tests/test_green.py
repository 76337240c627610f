"""Tests of the green module: Bass diffusion, LMDI decomposition, invariants, shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from model.links import NO_LINKS, Linked
from model.modules import bass, green
from model.modules.sectors import SECTORS
from model.timeline import YEARS
from tests.declarations import assert_named_and_sourced, rng_state_after
from tests.green_inputs import DECLARED, INDICATORS, UNCERTAINTIES, central_draws, default_levers, spread_draws

PARAMS = Path(__file__).resolve().parents[1] / "model" / "data" / "params" / "green.toml"
N_YEARS = len(YEARS)


def run(levers=None, draws=None, seed: int = 7, n: int = 200, linked=NO_LINKS) -> dict[str, np.ndarray]:
    levers = default_levers() if levers is None else levers
    draws = spread_draws(n, 1) if draws is None else draws
    return green.simulate(levers, draws, np.random.default_rng(seed), linked)


def exits_linked(n: int, seed: int) -> Linked:
    """Capacity exits as the link capacity_exits_energy delivers them: 0-5 % a year."""
    x = np.random.default_rng(seed).uniform(0.0, 0.05, (n, len(SECTORS), 1))
    return Linked(frozenset({"capacity_exits_energy"}),
                  {"exit_share": 1.0 - (1.0 - x) ** np.arange(N_YEARS)})


# --- Bass diffusion -------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "q"), [(0.03, 0.38), (0.0072, 0.118), (0.005, 0.5), (0.2, 0.0)])
def test_bass_cdf_matches_ode(p, q):
    t = np.linspace(0.0, 30.0, 61)
    sol = solve_ivp(lambda _, f: (p + q * f) * (1 - f), (0, 30), [0.0], t_eval=t,
                    method="DOP853", rtol=1e-11, atol=1e-13)
    # The ODE solver is run to ~1e-11; 1e-9 leaves room for its accumulated error.
    np.testing.assert_allclose(bass.bass_cdf(t, p, q), sol.y[0], rtol=0, atol=1e-9)


def test_bass_advance_composes_with_closed_form():
    p, q, t1, t2 = 0.02, 0.4, 1.7, 4.3
    exact = bass.bass_cdf(t2, p, q)
    np.testing.assert_allclose(bass.bass_advance(0.0, t2, p, q), exact, atol=1e-14)
    f1 = bass.bass_cdf(t1, p, q)
    np.testing.assert_allclose(bass.bass_advance(f1, t2 - t1, p, q), bass.bass_cdf(t2, p, q),
                               atol=1e-14)
    assert bass.bass_cdf(5.0, 0.0, 0.3) == 0.0  # no innovators: nobody ever starts
    assert bass.bass_advance(1.0, 2.0, 0.0, 0.3) == 1.0
    assert bass.bass_cdf(3.0, 0.0, 0.0) == 0.0  # p = q = 0: nothing moves, and no 0/0
    assert bass.bass_advance(0.4, 2.0, 0.0, 0.0) == 0.4


def test_bass_path_with_switch_matches_piecewise_ode():
    p0, p1, q, switch = 0.01, 0.05, 0.3, 0.53
    t = np.arange(5.0)
    sol = solve_ivp(lambda s, f: ((p1 if s >= switch else p0) + q * f) * (1 - f), (0, 4), [0.0],
                    t_eval=t, method="DOP853", rtol=1e-11, atol=1e-13, max_step=0.01)
    # The switch makes the right-hand side discontinuous; max_step 0.01 keeps the error < 1e-8.
    np.testing.assert_allclose(bass.bass_path(t, switch, p0, p1, q), sol.y[0], atol=1e-8)
    # A switch at or before 0 is constant p1 from the start.
    np.testing.assert_allclose(bass.bass_path(t, -1.0, p0, p1, q), bass.bass_cdf(t, p1, q))


def test_bass_increases_with_p():
    t = np.linspace(0.1, 10, 50)
    assert np.all(np.diff(bass.bass_cdf(t[:, None], np.linspace(0, 0.5, 40), 0.3), axis=1) > 0)


def test_lumpy_adoption_mean_matches_closed_form():
    n, plants = 40_000, np.array([1, 2, 3, 5, 10, 30])
    t = np.arange(N_YEARS, dtype=float)
    f = np.broadcast_to(bass.bass_cdf(t, 0.04, 0.35)[None, None, :], (n, 6, N_YEARS))
    rng = np.random.default_rng(2017)
    u = rng.random((n, 6, green.MAX_PLANTS), dtype=np.float32)
    adopted = bass.lumpy_adoption(f, np.broadcast_to(plants, (n, 6)), u)
    assert adopted.shape == (n, 6, N_YEARS)
    assert np.all(adopted[..., 0] == 0.0)
    # Each adopted share is the mean of `plants` Bernoulli(F) indicators, so over n replications
    # its mean has standard error sqrt(F (1 - F) / (plants * n)). We allow 5 SE (false alarm
    # ~6e-7 per comparison, ~2e-5 over the 30 here) plus 1e-6 for the float32 grid of u.
    se = np.sqrt(f[0] * (1 - f[0]) / (plants[:, None] * n))
    assert np.all(np.abs(adopted.mean(axis=0) - f[0]) <= 5 * se + 1e-6)
    # Lumpiness: the variance of the share is F (1 - F) / plants (relative SE of a sample
    # variance ~ sqrt(2 / n) < 1 %, so 5 % is safe).
    var_exact = f[0, :, -1] * (1 - f[0, :, -1]) / plants
    np.testing.assert_allclose(adopted[..., -1].var(axis=0), var_exact, rtol=0.05)


# --- LMDI decomposition ---------------------------------------------------------------------


def test_lmdi_multiplies_back_exactly():
    rng = np.random.default_rng(3)
    va = rng.uniform(0.1, 5.0, (50, 6, N_YEARS))
    intensity = rng.uniform(0.5, 12.0, (50, 6, N_YEARS))
    d_str, d_eff = green.lmdi(va, intensity)
    agg = (va * intensity).sum(axis=1) / va.sum(axis=1)
    np.testing.assert_allclose(d_str * d_eff, agg / agg[:, :1], rtol=1e-12)
    np.testing.assert_allclose(green.log_mean(np.array([2.0, 3.0]), np.array([2.0, 1.0])),
                               [2.0, 2.0 / np.log(3.0)], rtol=1e-14)


def test_effects_combine_to_total_cut():
    out = run(n=500)
    kept = (1 - out["structure_effect"] / 100) * (1 - out["efficiency_effect"] / 100)
    combined = 100 * (1 - kept)
    np.testing.assert_allclose(combined, out["energy_intensity_cut"], rtol=0, atol=1e-10)


# --- invariants -----------------------------------------------------------------------------


def test_base_year_is_zero():
    out = run()
    for name in ("energy_intensity_cut", "structure_effect", "efficiency_effect",
                 "retrofit_adoption", "value_added_growth"):
        assert np.all(out[name][:, 0] == 0.0), name


def test_nothing_changes_gives_zero_cut():
    draws = central_draws(100, **{"growth.*": 0.0, "decline.*": 0.0, "growth_sd": 0.0,
                                  "bass_p": 0.0, "plant.sd": 0.0, "plant.spread": 0.0})
    out = run(draws=draws)
    for name in ("energy_intensity_cut", "structure_effect", "efficiency_effect",
                 "retrofit_adoption", "value_added_growth"):
        np.testing.assert_allclose(out[name], 0.0, atol=1e-12, err_msg=name)


def test_structure_only_change_has_no_efficiency_effect():
    draws = spread_draws(300, 5)
    draws.update({k: np.zeros(300) for k in draws if k.startswith("decline.")})
    draws["bass_p"] = np.zeros(300)  # no retrofits; growth differs by sector and exits happen
    # equal plants: no change of the plant mix within a sector (plants.py)
    draws["plant.sd"], draws["plant.spread"] = np.zeros(300), np.zeros(300)
    out = run(draws=draws, n=300, linked=exits_linked(300, 5))
    assert np.all(out["efficiency_effect"] == 0.0)
    np.testing.assert_allclose(out["structure_effect"], out["energy_intensity_cut"], atol=1e-10)
    assert np.all(out["structure_effect"][:, -1] != 0.0)


def test_efficiency_only_change_has_no_structure_effect():
    draws = central_draws(300, **{"growth.*": 0.04, "growth_sd": 0.0, "plant.sd": 0.0})
    out = run(draws=draws)
    np.testing.assert_allclose(out["structure_effect"], 0.0, atol=1e-10)
    np.testing.assert_allclose(out["efficiency_effect"], out["energy_intensity_cut"], atol=1e-10)
    np.testing.assert_allclose(out["value_added_growth"][:, 1:], 4.0, rtol=1e-12)


def test_pure_autonomous_decline_compounds():
    draws = central_draws(10, **{"growth.*": 0.03, "growth_sd": 0.0, "plant.sd": 0.0,
                                 "decline.*": 0.02, "bass_p": 0.0})
    out = run(draws=draws)
    expected = np.broadcast_to(100 * (1 - 0.98 ** np.arange(N_YEARS)), (10, N_YEARS))
    np.testing.assert_allclose(out["energy_intensity_cut"], expected,
                               rtol=1e-12)


@pytest.mark.parametrize("seed", [11, 12])
def test_raising_p_multiplier_never_lowers_cut(seed):
    draws = spread_draws(2_000, seed)
    cuts = [run(default_levers(p_multiplier=m), draws, seed=seed)["energy_intensity_cut"]
            for m in (0.0, 0.5, 1.0, 2.0, 5.0, 20.0)]
    for lower, higher in zip(cuts, cuts[1:]):
        assert np.all(higher >= lower - 1e-12)
    assert np.any(cuts[-1] > cuts[0])


def test_measures_and_earlier_start_never_lower_cut():
    draws = spread_draws(2_000, 4)
    off = default_levers(inspection=False, differential_pricing=False, post_subsidy=False)
    base = run(off, draws)["energy_intensity_cut"]
    plan = run(default_levers(), draws)["energy_intensity_cut"]
    early = run(default_levers(measures_start=2016.0), draws)["energy_intensity_cut"]
    assert np.all(plan >= base - 1e-12) and np.all(early >= plan - 1e-12)
    assert np.mean(plan[:, -1] - base[:, -1]) > 0


def test_rng_use_does_not_depend_on_levers():
    draws = spread_draws(50, 2)
    states = [rng_state_after(lambda rng, lev=levers: green.simulate(lev, draws, rng))
              for levers in (default_levers(), default_levers(p_multiplier=3.0, post_subsidy=False))]
    assert states[0] == states[1]


# --- shapes and declarations ----------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 37])
def test_shapes_and_declared_indicators(n):
    out = run(draws=spread_draws(n, 8))
    assert set(out) == set(INDICATORS)
    for name, arr in out.items():
        assert INDICATORS[name]["kind"] == "yearly"
        assert arr.shape == (n, N_YEARS) and np.all(np.isfinite(arr)), name
    assert np.all((out["retrofit_adoption"] >= 0) & (out["retrofit_adoption"] <= 100))


def test_params_file_is_complete():
    assert_named_and_sourced(DECLARED)
    # which names are declared and read: tests/test_param_usage.py (all modules at once)
    assert all(e["range"][1] <= green.MAX_PLANTS for k, e in UNCERTAINTIES.items()
               if k.startswith("plants."))


# --- links ------------------------------------------------------------------------------------


@pytest.mark.parametrize("switch", [-1.0, 0.0, 0.526, 1.3, 2.0, 9.0])
def test_yearly_bass_path_with_constant_p_equals_closed_form(switch):
    p0 = np.array([0.01, 0.02, 0.0])
    p1 = np.array([0.05, 0.02, 0.03])
    q = np.array([0.4, 0.1, 0.0])
    yearly = bass.bass_path_yearly(switch, p0, np.repeat(p1[:, None], N_YEARS, axis=1), q)
    t = np.arange(N_YEARS, dtype=float)
    closed = bass.bass_path(t, switch, p0[:, None], p1[:, None], q[:, None])
    np.testing.assert_allclose(yearly, closed, rtol=1e-12, atol=1e-15)


def test_links_with_nothing_to_pass_reproduce_unlinked_results():
    draws = spread_draws(200, 3)
    unlinked = run(draws=draws)
    zeros = Linked(frozenset({"capacity_exits_energy", "renovation_retrofit"}),
                   {"exit_share": np.zeros((200, len(SECTORS), N_YEARS)),
                    "renovated_share": np.zeros((200, N_YEARS))})
    linked = run(draws=draws, linked=zeros)
    for name in unlinked:
        np.testing.assert_allclose(linked[name], unlinked[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_more_renovation_never_lowers_retrofit_adoption():
    draws = spread_draws(500, 6)
    share = np.linspace(0.0, 0.6, N_YEARS)[None, :].repeat(500, axis=0)
    outs = [run(draws=draws, n=500, linked=Linked(frozenset({"renovation_retrofit"}), {"renovated_share": k * share}))
            for k in (0.0, 0.5, 1.0)]
    for lower, higher in zip(outs, outs[1:]):
        assert np.all(higher["retrofit_adoption"] >= lower["retrofit_adoption"] - 1e-9)
        assert np.all(higher["energy_intensity_cut"] >= lower["energy_intensity_cut"] - 1e-9)
    assert np.mean(outs[-1]["retrofit_adoption"][:, -1] - outs[0]["retrofit_adoption"][:, -1]) > 0


def test_missing_draw_is_named():
    draws = spread_draws(5, 1)
    del draws["growth.steel"]
    with pytest.raises(KeyError, match="growth.steel"):
        run(draws=draws)
