"""Tests of the tech-renovation plan's count targets (model/modules/techreform_counts.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model.modules import techreform as tr
from model.modules import techreform_counts as tc
from model.processes.pipeline import raise_odds
from model.timeline import YEARS
from tests.moments import binomial_moments_ok
from tests.techreform_inputs import SPEC, mid_draws, plan_levers, spread_draws

NY = len(YEARS)
FLOWS = ("demo_projects", "new_products", "quality_boutiques")


def run(levers=None, draws=None, seed: int = 31, n: int = 300) -> dict[str, np.ndarray]:
    levers = plan_levers() if levers is None else levers
    draws = spread_draws(n, 3) if draws is None else draws
    return tr.simulate(levers, draws, np.random.default_rng(seed))


def counts_only(n: int, firms: float, seed: int, levers=None, **values: float) -> dict[str, np.ndarray]:
    """:func:`simulate_counts` alone with ``firms`` renovating every year and fixed draws."""
    draws = mid_draws(n)
    for key, value in values.items():
        name = key.replace("__", ".")
        assert name in draws, name
        draws[name] = np.full(n, float(value))
    f = np.full((n, NY), float(firms))
    f[:, 0] = np.nan
    return tc.simulate_counts(plan_levers() if levers is None else levers, draws,
                              np.random.default_rng(seed), f)


# --- invariants -------------------------------------------------------------------------------


def test_counts_are_whole_nonnegative_and_bounded_by_renovating_firms():
    out = run()
    for name in (*FLOWS, "innovation_centre"):
        x = out[name][:, 1:]
        assert np.all(x >= 0) and np.all(x == np.rint(x)), name
    for name in FLOWS:  # flows in that year: not modelled for 2016
        assert np.all(np.isnan(out[name][:, 0])), name
    assert np.all(out["demo_projects"][:, 1:] <= out["firms"][:, 1:])
    assert np.all(out["new_products"][:, 1:] <= out["firms"][:, 1:])
    centres = out["innovation_centre"]
    assert np.all(centres[:, 0] == 0) and np.all(np.diff(centres, axis=1) >= 0)


def test_innovation_centres_within_pool():
    draws = spread_draws(300, 3)
    out = run(draws=draws)
    assert np.all(out["innovation_centre"][:, -1] <= np.rint(draws["centre.candidates"]))


# --- levers (common random numbers) -------------------------------------------------------------


@pytest.mark.parametrize(("low", "high", "names"), [
    ({"new_product.rate": 0.0}, {"new_product.rate": 0.3}, ["new_products"]),
    ({"new_product.cap": 20.0}, {"new_product.cap": 300.0}, ["new_products"]),
    ({"boutique.reward": 0.0}, {"boutique.reward": 50.0}, ["quality_boutiques"]),
    ({"centre.equipment_rate": 0.0, "centre.provincial_grant": 0.0}, {}, ["innovation_centre"]),
    ({"centre.support_years": 1}, {"centre.support_years": 3}, ["innovation_centre"]),
    ({"centre.annual_cap": 100.0}, {"centre.annual_cap": 500.0}, ["innovation_centre"]),
    # the renovation subsidy raises the firms renovating, and so the projects drawn from them
    ({"subsidy_rate": 0.0}, {"subsidy_rate": 0.3}, ["demo_projects", "new_products"]),
])
def test_more_reward_never_lowers_a_count(low, high, names):
    draws = spread_draws(1000, 9)
    lo, hi = run(plan_levers(**low), draws, n=1000), run(plan_levers(**high), draws, n=1000)
    for name in names:
        assert np.all(hi[name][:, 1:] >= lo[name][:, 1:]), name
    assert any(np.any(hi[name][:, 1:] > lo[name][:, 1:]) for name in names)  # and it does something


def test_rng_use_does_not_depend_on_count_levers():
    draws = spread_draws(60)
    states = []
    for lev in (plan_levers(), plan_levers(**{"new_product.rate": 0.0, "boutique.reward": 900.0,
                                              "centre.support_years": 0, "subsidy_rate": 0.0})):
        rng = np.random.default_rng(5)
        tr.simulate(lev, draws, rng)
        states.append(rng.random())
    assert states[0] == states[1]


# --- closed forms -------------------------------------------------------------------------------


def test_demo_projects_are_binomial_thinning_of_renovating_firms():
    n, firms, share = 20_000, 60, 0.8
    out = counts_only(n, firms, 1, demo__share=share)
    binomial_moments_ok(out["demo_projects"][:, 2], firms, share)
    binomial_moments_ok(out["demo_projects"][:, 1], firms, share)


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_new_products_are_binomial(rate):
    """Each renovating firm yields a supported product with probability
    b * raise_odds(a, 1 + e * min(rate * rd, cap) / 100 * ramp_t)."""
    n, firms, a, b, e, rd, first = 20_000, 70, 0.1, 0.7, 0.8, 250.0, 0.4
    out = counts_only(n, firms, 2, plan_levers(**{"new_product.rate": rate}),
                      new_product__apply=a, new_product__approve=b, new_product__reward_effect=e,
                      new_product__rd_spend=rd, response__first_year=first)
    subsidy = min(rate * rd, 100.0)
    for col, push in ((1, first), (3, 1.0)):
        p = b * raise_odds(a, 1 + e * subsidy / tc.NEW_PRODUCT_REF * push)
        binomial_moments_ok(out["new_products"][:, col], firms, float(p))


def test_quality_boutiques_are_poisson():
    n, rate, b, e, first = 20_000, 6.0, 0.7, 0.5, 0.25
    out = counts_only(n, 60, 3, boutique__rate=rate, boutique__approve=b, boutique__reward_effect=e,
                      response__first_year=first)
    for col, push in ((1, first), (4, 1.0)):
        lam = rate * b * (1 + e * 30.0 / tc.BOUTIQUE_REF * push)
        x = out["quality_boutiques"][:, col]
        # Poisson: sd of the mean sqrt(lam / n), of the sample variance sqrt((lam + 2 lam^2) / n).
        assert abs(x.mean() - lam) < 4.5 * np.sqrt(lam / n)
        assert abs(x.var(ddof=1) - lam) < 4.5 * np.sqrt((lam + 2 * lam**2) / n)


def test_innovation_centres_are_binomial():
    """Pool 4, lag 1: recognised by 2020 = applied and approved in 2017..2019."""
    n, pool, a, b, e, eq, first = 20_000, 4, 0.2, 0.3, 1.0, 800.0, 0.5
    out = counts_only(n, 60, 4, centre__candidates=pool, centre__apply=a, centre__approve=b,
                      centre__lag=1, centre__reward_effect=e, centre__equipment=eq,
                      response__first_year=first)
    support = tc.centre_support(0.5, eq, 500.0, 3, 500.0)
    assert support == pytest.approx(400.0 * 3 + 500.0)
    push = np.array([first, 1.0, 1.0])
    p = 1 - np.prod(1 - b * raise_odds(a, 1 + e * support / tc.CENTRE_REF * push))
    binomial_moments_ok(out["innovation_centre"][:, -1], pool, float(p))
    assert np.all(out["innovation_centre"][:, 1] == 0)  # a one-year lag: nothing in 2017


def test_subsidy_and_support_arithmetic():
    np.testing.assert_allclose(tc.new_product_subsidy(0.3, [100.0, 333.0, 1000.0], 100.0), [30.0, 99.9, 100.0])
    np.testing.assert_allclose(tc.centre_support(0.5, [200.0, 2000.0], 500.0, 3, 500.0), [800.0, 2000.0])
    np.testing.assert_array_equal(tc.ramp(np.array([0.3])), [[0, 0.3, 1, 1, 1]])


# --- the firm-level model is untouched ------------------------------------------------------------


def test_investment_indicators_identical_with_and_without_counts(monkeypatch):
    draws = spread_draws(300, 6)
    full = run(draws=draws)
    monkeypatch.setattr(tc, "simulate_counts", lambda levers, draws, rng, firms: {})
    bare = run(draws=draws)
    assert set(full) - set(bare) == set(tc.INDICATORS)
    for name in bare:
        np.testing.assert_array_equal(full[name], bare[name], err_msg=name)
    monkeypatch.undo()
    other = run(plan_levers(**{"new_product.rate": 0.0, "boutique.reward": 0.0}),
                {**draws, "demo.share": np.full(300, 0.1)})
    for name in bare:
        np.testing.assert_array_equal(other[name], bare[name], err_msg=name)


# --- shapes and declarations ----------------------------------------------------------------------


def test_shapes_and_declarations():
    n = 23
    out = run(draws=mid_draws(n), n=n)
    for name in tc.INDICATORS:
        assert SPEC["indicators"][name]["kind"] == "yearly"
        assert out[name].shape == (n, NY), name
