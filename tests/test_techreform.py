"""Tests of the tech-renovation module (model/modules/techreform.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model.modules import techreform as tr
from tests.declarations import assert_named_and_sourced, declarations
from tests.techreform_inputs import NY, SPEC, mid_draws, plan_levers, spread_draws

CITY = ("industrial_investment", "investment", "firms")


def run(levers, draws, seed: int = 123):
    return tr.simulate(levers, draws, np.random.default_rng(seed))


# ----------------------------------------------------------------------- subsidy arithmetic
def test_subsidy_floor_rate_and_cap():
    cost = np.array([0.0, 100.0, 499.99, 500.0, 1000.0, 3000.0, 10000.0 / 3, 5000.0, 1e6])
    # 30 % of the whole project (equipment + R&D share 1): floor at 500 inclusive, cap 1000.
    got = tr.project_subsidy(cost, 0.30, 500.0, 1000.0, 1.0)
    np.testing.assert_allclose(got, [0, 0, 0, 150, 300, 900, 1000, 1000, 1000], rtol=1e-12)
    # Only equipment + R&D spend is subsidised: half of the project -> 15 % of cost, cap at
    # cost >= 1000 / 0.15 = 6666.7万.
    got = tr.project_subsidy(cost, 0.30, 500.0, 1000.0, 0.5)
    np.testing.assert_allclose(got, [0, 0, 0, 75, 150, 450, 500, 750, 1000], rtol=1e-12)
    # Levers: a lower floor, a higher cap, no subsidy.
    np.testing.assert_allclose(tr.project_subsidy([100.0], 0.3, 0.0, 1000.0, 1.0), [30.0])
    np.testing.assert_allclose(tr.project_subsidy([1e5], 0.3, 500.0, 5000.0, 1.0), [5000.0])
    assert not tr.project_subsidy(cost, 0.0, 500.0, 1000.0, 1.0).any()


def test_hazard_formula():
    # No subsidy or zero elasticity: the base probability itself.
    for e, eps in ((0.0, 0.8), (0.2, 0.0)):
        assert tr.adoption_probability(0.2, 1.0, e, eps) == pytest.approx(0.2, rel=1e-12)
    # A 20 % cost cut with elasticity 1 raises the hazard by 1 / 0.8.
    lam = tr.hazard(0.2, 1.0, 0.2, 1.0)
    assert lam == pytest.approx(-np.log(0.8) / 0.8, rel=1e-12)
    assert tr.adoption_probability(0.2, 1.0, 0.2, 1.0) == pytest.approx(1 - 0.8 ** 1.25)


# ------------------------------------------------------------------------------- contract
def test_params_file_declares_every_entry_with_source_or_assumption():
    assert_named_and_sourced(declarations("techreform"), origin=("levers", "uncertainties"))
    lev = SPEC["levers"]
    assert (lev["subsidy_rate"]["default"], lev["subsidy_min_project"]["default"],
            lev["subsidy_cap"]["default"]) == (0.30, 500.0, 1000.0)


def test_shapes_and_declared_indicators():
    n = 37
    out = run(plan_levers(), mid_draws(n))
    assert set(out) == set(SPEC["indicators"])
    # 7 city figures, 3 of the feedback (test_responsibility_techreform.py), 3 per district, counts
    assert len(out) == 7 + 3 + 3 * 19 + len(tr.techreform_counts.INDICATORS)  # counts: test_techreform_counts.py
    for name, arr in out.items():
        assert arr.shape == (n, NY), name
    assert np.isnan(out["firms"][:, 0]).all() and np.isnan(out["growth_gap"][:, 0]).all()
    assert (out["completed_share"][:, 0] == 0).all() and (out["subsidy_outlay"][:, 0] == 0).all()
    for name in ("investment_share", "investment", "industrial_investment", "completed_share"):
        assert np.isfinite(out[name]).all(), name


def test_reproducible_and_draw_count_independent_of_levers():
    draws = spread_draws(300)
    a, b = run(plan_levers(), draws), run(plan_levers(), draws)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    # Common random numbers: the rng is consumed identically whatever the levers.
    states = []
    for lev in (plan_levers(), plan_levers(subsidy_rate=0.0, subsidy_cap=0.0),
                plan_levers(subsidy_rate=0.9, subsidy_min_project=0.0, subsidy_cap=1e6)):
        rng = np.random.default_rng(5)
        tr.simulate(lev, draws, rng)
        states.append(rng.random())
    assert states[0] == states[1] == states[2]


# ------------------------------------------------------------------------------ invariants
def test_districts_sum_to_city_and_share_in_range():
    n = tr.CHUNK + 13  # crosses a chunk boundary
    out = run(plan_levers(), spread_draws(n))
    for key in CITY:
        total = sum(out[f"district.{d}.{key}"] for d in tr.DISTRICT_IDS)
        cols = slice(1, None) if key == "firms" else slice(None)
        np.testing.assert_allclose(total[:, cols], out[key][:, cols], rtol=1e-9, atol=1e-9)
    share = out["investment_share"]
    assert ((share >= 0) & (share <= 100)).all()
    np.testing.assert_allclose(share, 100 * out["investment"] / out["industrial_investment"])
    # 2016: the seed's "16 %" base share (draws 15-17 %).
    assert ((share[:, 0] >= 15 - 1e-9) & (share[:, 0] <= 17 + 1e-9)).all()
    # Growth gap is tech-renovation growth minus industrial-investment growth, in pp.
    t, i = out["investment"], out["industrial_investment"]
    np.testing.assert_allclose(out["growth_gap"][:, 1:],
                               100 * (t[:, 1:] / t[:, :-1] - i[:, 1:] / i[:, :-1]))


def test_share_stays_in_range_in_extremes():
    draws = mid_draws(200, propensity__base=0.9, propensity__campaign_growth=2.0,
                      investment__trend=-0.5, response__elasticity=5.0)
    out = run(plan_levers(subsidy_rate=1.0, subsidy_min_project=0.0, subsidy_cap=1e6), draws)
    share = out["investment_share"]
    assert ((share >= 0) & (share <= 100)).all()
    assert (out["completed_share"] <= 100).all()


@pytest.mark.parametrize("more", [
    {"subsidy_rate": 0.5},
    {"subsidy_cap": 3000.0},
    {"subsidy_min_project": 100.0},
    {"subsidy_rate": [0.3, 0.3, 0.6, 0.6, 0.9], "subsidy_cap": 1e6},
])
def test_more_subsidy_never_lowers_adoption(more):
    draws = spread_draws(400)
    lo, hi = run(plan_levers(), draws), run(plan_levers(**more), draws)
    keys = ["investment_share", "investment", "industrial_investment", "completed_share",
            "subsidy_outlay"]
    keys += [f"district.{d}.{k}" for d in tr.DISTRICT_IDS for k in ("investment", "firms")]
    for key in keys + ["firms"]:
        a, b = lo[key][:, 1:], hi[key][:, 1:]
        assert (b >= a).all(), key
    assert (hi["firms"][:, 1:] > lo["firms"][:, 1:]).any()  # and it does something


def test_zero_subsidy_or_zero_elasticity_make_the_subsidy_irrelevant():
    draws = spread_draws(300)
    base = run(plan_levers(subsidy_rate=0.0), draws)
    assert (base["subsidy_outlay"] == 0).all()
    for lev in (plan_levers(subsidy_cap=0.0), plan_levers(subsidy_min_project=1e6)):
        other = run(lev, draws)
        for name in base:
            np.testing.assert_array_equal(other[name], base[name], err_msg=name)
    draws["response.elasticity"] = np.zeros(300)
    flat = run(plan_levers(subsidy_rate=0.0), draws)
    rich = run(plan_levers(subsidy_rate=1.0, subsidy_min_project=0.0, subsidy_cap=1e6), draws)
    for name in flat:
        if name != "subsidy_outlay":
            np.testing.assert_array_equal(rich[name], flat[name], err_msg=name)
    assert (rich["subsidy_outlay"][:, 1:] > 0).all()


# ----------------------------------------------------------------------------- statistical
def test_firm_count_is_binomial_with_fixed_hazard_and_no_subsidy():
    """With hazard h for every firm, no frailty, no campaign and no subsidy, the yearly count is
    Binomial(300, h), independent across years and replications; the number of firms that ever
    renovated by 2020 is Binomial(300, 1 - (1 - h)^4)."""
    n, h, nf = 10_000, 0.2, tr.N_FIRMS
    draws = mid_draws(n, propensity__base=h, propensity__firm_sigma=0.0,
                      propensity__campaign_growth=1.0)
    out = tr.simulate(plan_levers(subsidy_rate=0.0), draws, np.random.default_rng(20170711))
    counts = out["firms"][:, 1:].ravel()  # 40,000 independent Binomial(300, 0.2) counts
    mean, var = nf * h, nf * h * (1 - h)  # 60 and 48
    m = counts.size
    # Monte Carlo error: the sample mean has sd sqrt(var / m) = 0.035 firms; the sample variance
    # has sd ~ var * sqrt(2 / (m - 1)) = 0.34 (binomial excess kurtosis (1 - 6h(1-h)) / var
    # = 0.0008 is negligible). 4 sd: a false alarm about once in 16,000 runs; the seed is fixed.
    assert abs(counts.mean() - mean) < 4 * np.sqrt(var / m)
    assert abs(counts.var(ddof=1) - var) < 4 * var * np.sqrt(2 / (m - 1))
    p4 = 1 - (1 - h) ** 4
    ever = out["completed_share"][:, -1] / 100 * nf
    mean4, var4 = nf * p4, nf * p4 * (1 - p4)
    assert abs(ever.mean() - mean4) < 4 * np.sqrt(var4 / n)
    assert abs(ever.var(ddof=1) - var4) < 4 * var4 * np.sqrt(2 / (n - 1))
