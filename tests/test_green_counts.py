"""Tests of the green plan's count targets and rates (model/modules/green_counts.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model.modules import green, green_counts
from model.processes.pipeline import raise_odds
from model.timeline import YEARS
from tests.declarations import rng_state_after
from tests.green_inputs import INDICATORS, default_levers, spread_draws
from tests.moments import binomial_moments_ok

NY = len(YEARS)
COUNTS = ("green_factories", "green_parks", "circular_park", "efficiency_leaders",
          "energy_mgmt_centers", "ep_firms")


def run(levers=None, draws=None, seed: int = 11, n: int = 400) -> dict[str, np.ndarray]:
    levers = default_levers() if levers is None else levers
    draws = spread_draws(n, 4) if draws is None else draws
    return green.simulate(levers, draws, np.random.default_rng(seed))


def fixed_draws(n: int, **values: float) -> dict[str, np.ndarray]:
    """Spread draws with the given names (``__`` for dots) fixed for every replication."""
    draws = spread_draws(n, 5)
    for key, value in values.items():
        name = key.replace("__", ".")
        assert name in draws, name
        draws[name] = np.full(n, float(value))
    return draws


# --- invariants -------------------------------------------------------------------------------


def test_counts_are_whole_nonnegative_and_never_fall():
    out = run()
    for name in COUNTS:
        x = out[name]
        assert np.all(x >= 0) and np.all(x == np.rint(x)), name
        assert np.all(np.diff(x, axis=1) >= 0), name
    assert np.all(out["circular_park"] <= 1)
    for name in ("green_factories", "green_parks", "efficiency_leaders", "energy_mgmt_centers"):
        assert np.all(out[name][:, 0] == 0), name  # counted from 2017


def test_counts_stay_within_their_pools():
    draws = spread_draws(400, 4)
    out = run(draws=draws)
    for name, pool in (("green_factories", "factory.candidates"), ("efficiency_leaders", "leader.candidates"),
                       ("energy_mgmt_centers", "energy_centre.candidates")):
        assert np.all(out[name][:, -1] <= np.rint(draws[pool])), name
    assert np.all(out["green_parks"] <= green_counts.PARK_CANDIDATES)
    assert np.all(out["ep_firms"][:, 0] == np.rint(draws["ep.initial_firms"]))


def test_audit_coverage_in_range_and_nondecreasing():
    draws = spread_draws(400, 4)
    cov = run(draws=draws)["cleaner_audit_coverage"]
    assert np.all((cov >= 0) & (cov <= 100))
    assert np.all(np.diff(cov, axis=1) >= -1e-12)
    k = np.rint(draws["audit.key_firms"])
    np.testing.assert_allclose(cov[:, 0], 100 * np.rint(draws["audit.initial_share"] * k) / k)


# --- levers (common random numbers) -------------------------------------------------------------


@pytest.mark.parametrize(("lever", "low", "high", "names"), [
    ("reward.factory", 0.0, 50.0, ["green_factories"]),
    ("reward.factory", 50.0, 500.0, ["green_factories"]),
    ("reward.park", 0.0, 200.0, ["green_parks"]),
    ("leader_promotion", False, True, ["efficiency_leaders"]),
    ("audit_campaign", False, True, ["cleaner_audit_coverage"]),
    ("energy_centre_promotion", False, True, ["energy_mgmt_centers"]),
    ("ep_support", False, True, ["ep_firms", "ep_industry_growth"]),
    ("measures_start", 2018.5, 2017.0, ["green_factories", "green_parks", "efficiency_leaders",
                                        "cleaner_audit_coverage", "energy_mgmt_centers", "ep_firms"]),
    ("circular_park_start", 2018.5, 2017.2, ["circular_park"]),
])
def test_more_support_never_lowers_a_count(lever, low, high, names):
    draws = spread_draws(600, 9)
    lo = run(default_levers(**{lever: low}), draws, n=600)
    hi = run(default_levers(**{lever: high}), draws, n=600)
    for name in names:
        assert np.all(hi[name] >= lo[name] - 1e-9), (lever, name)
    assert any(np.any(hi[name] > lo[name]) for name in names), lever  # and it does something


def test_rng_use_does_not_depend_on_count_levers():
    draws = spread_draws(50, 2)
    states = [rng_state_after(lambda rng, lev=levers: green.simulate(lev, draws, rng))
              for levers in (default_levers(), default_levers(**{"reward.factory": 0.0, "reward.park": 900.0,
                                                       "ep_support": False, "audit_campaign": False}))]
    assert states[0] == states[1]


# --- closed forms -------------------------------------------------------------------------------


@pytest.mark.parametrize("reward", [0.0, 100.0])
def test_green_factories_are_binomial(reward):
    """Pool 20, lag 0: each candidate is recognised by 2020 with probability
    1 - prod_t (1 - b * raise_odds(a, 1 + e * reward / 50 * active_t)), independently."""
    n, pool, a, b, e, start = 20_000, 20, 0.08, 0.5, 1.2, 2017.526
    draws = fixed_draws(n, factory__candidates=pool, factory__apply=a, factory__approve=b,
                        factory__lag=0, factory__reward_effect=e)
    out = run(default_levers(**{"reward.factory": reward, "measures_start": start}), draws, seed=2017, n=n)
    act = green_counts.active_fraction(start)[1:]
    p_yearly = b * raise_odds(a, 1 + e * reward / green_counts.REWARD_REF * act)
    p_total = 1 - np.prod(1 - p_yearly)
    binomial_moments_ok(out["green_factories"][:, -1], pool, p_total)
    p_2017 = p_yearly[0]
    binomial_moments_ok(out["green_factories"][:, 1], pool, p_2017)


def test_audit_coverage_mean_matches_closed_form():
    """Unaudited firms K - A0 are each audited by 2018 with probability
    1 - (1 - pass * r_2017)(1 - pass * r_2018), r_t = base + (campaign - base) * active_t."""
    n, k, s0, base, camp, pss, start = 20_000, 40, 0.5, 0.2, 0.8, 0.9, 2017.526
    draws = fixed_draws(n, audit__key_firms=k, audit__initial_share=s0, audit__base_rate=base,
                        audit__campaign_rate=camp, audit__pass=pss)
    out = run(default_levers(measures_start=start), draws, seed=3, n=n)
    act = green_counts.active_fraction(start)
    r = base + (camp - base) * act[1:3]
    p = 1 - np.prod(1 - pss * r)
    audited = out["cleaner_audit_coverage"][:, 2] / 100 * k - k * s0
    binomial_moments_ok(np.rint(audited), int(k * (1 - s0)), p)


def test_ep_firms_are_poisson():
    """Entrants by 2020 ~ Poisson(sum_t rate * (1 + (f - 1) * active_t)): mean = variance."""
    n, rate, f, start = 20_000, 1.0, 2.0, 2017.526
    draws = fixed_draws(n, ep__entry_rate=rate, ep__support_effect=f, ep__initial_firms=5)
    out = run(default_levers(measures_start=start), draws, seed=8, n=n)
    lam = float(np.sum(rate * (1 + (f - 1) * green_counts.active_fraction(start)[1:])))
    x = out["ep_firms"][:, -1] - 5
    # sd of the mean sqrt(lam / n); the sample variance of a Poisson has sd sqrt((lam + 2 lam^2) / n)
    # (fourth central moment lam + 3 lam^2). 4.5 sd each, fixed seed.
    assert abs(x.mean() - lam) < 4.5 * np.sqrt(lam / n)
    assert abs(x.var(ddof=1) - lam) < 4.5 * np.sqrt((lam + 2 * lam**2) / n)


def test_ep_value_added_and_average_growth():
    n = 3
    g = np.full((n, NY), 0.1)
    entrants = np.zeros((n, NY))
    va = green_counts.ep_value_added(g, np.zeros((n, NY - 1)), entrants, np.full(n, 0.05))
    np.testing.assert_allclose(va, np.broadcast_to(1.1 ** np.arange(NY), (n, NY)), rtol=1e-12)
    np.testing.assert_allclose(green_counts.average_growth(va)[:, 1:], 10.0, rtol=1e-12)
    entrants[:, 1] = 2  # two entrants in 2017, each 5 % of 2016 value added, then growing
    va = green_counts.ep_value_added(g, np.zeros((n, NY - 1)), entrants, np.full(n, 0.05))
    np.testing.assert_allclose(va[:, -1], 1.1**4 + 0.1 * 1.1**3, rtol=1e-12)
    assert np.all(green_counts.average_growth(va)[:, 0] == 0)


def test_circular_park_completes_exactly_after_its_duration():
    draws = fixed_draws(4)
    draws["circular_park.duration"] = np.array([0.4, 1.474, 2.5, 4.5])
    out = run(default_levers(circular_park_start=2017.526), draws, n=4)["circular_park"]
    # completion at 2017.926 (2017), 2019.0 (end of 2018), 2020.026 (2020), 2022.026 (never)
    np.testing.assert_array_equal(out, [[0, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])


def test_active_fraction():
    np.testing.assert_allclose(green_counts.active_fraction(2017.526), [0, 0.474, 1, 1, 1], atol=1e-12)
    np.testing.assert_array_equal(green_counts.active_fraction(2016.0), [0, 1, 1, 1, 1])
    np.testing.assert_array_equal(green_counts.active_fraction(2021.0), [0, 0, 0, 0, 0])


# --- the energy-intensity model is untouched -----------------------------------------------------


def test_energy_indicators_identical_with_and_without_counts(monkeypatch):
    draws = spread_draws(300, 6)
    full = run(draws=draws, n=300)
    monkeypatch.setattr(green, "simulate_counts", lambda levers, draws, rng: {})
    bare = run(draws=draws, n=300)
    assert set(full) - set(bare) == set(green_counts.INDICATORS)
    for name in bare:
        np.testing.assert_array_equal(full[name], bare[name], err_msg=name)
    # Count levers and count uncertainties do not move the energy-intensity model either.
    other = run(default_levers(**{"reward.factory": 0.0, "ep_support": False}),
                {**draws, "factory.apply": np.full(300, 0.9)}, n=300)
    for name in bare:
        np.testing.assert_array_equal(other[name], bare[name], err_msg=name)


# --- shapes and declarations ----------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 37])
def test_shapes_and_declarations(n):
    out = run(draws=spread_draws(n, 8), n=n)
    for name in green_counts.INDICATORS:
        assert INDICATORS[name]["kind"] == "yearly"
        assert out[name].shape == (n, NY) and np.all(np.isfinite(out[name])), name


def test_missing_count_draw_is_named():
    draws = spread_draws(5, 1)
    del draws["audit.pass"]
    with pytest.raises(KeyError, match="audit.pass"):
        run(draws=draws, n=5)
