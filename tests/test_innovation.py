"""Tests of the innovation module (model/modules/innovation.py, innovation_rates.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from model.links import Linked, hightech_value_added
from model.modules import innovation
from model.params import parse_declarations
from model.timeline import YEARS
from tests.declarations import assert_integer_counts, assert_named_and_sourced, declarations

PARAMS = Path(__file__).resolve().parents[1] / "model" / "data" / "params" / "innovation.toml"
DOC = tomllib.loads(PARAMS.read_text(encoding="utf-8"))
DECL = parse_declarations("innovation", DOC)
NY = len(YEARS)
COUNTS = [k for k, v in DECL.indicators.items() if v.unit == "count"]
NEVER_FALL = [k for k in COUNTS if k not in ("hightech_firms", "hightech_new", "hightech_expired")]
LINK_ON = Linked(frozenset({innovation.VA_LINK}))


def default_draws(n: int, seed: int = 5, **fixed: float) -> dict[str, np.ndarray]:
    """Uncertainties sampled from their declared defaults; ``fixed`` (``__`` for dots) pins some."""
    rng = np.random.default_rng(seed)
    draws = {k: spec.default.ppf(rng.random(n)) for k, spec in DECL.uncertainties.items()}
    for key, value in fixed.items():
        name = key.replace("__", ".")
        assert name in draws, name
        draws[name] = np.full(n, float(value))
    return draws


def levers(**changes) -> dict[str, object]:
    """The plan's levers (schedule levers as (len(YEARS),) arrays); ``changes`` use ``__``."""
    out = {}
    for k, spec in DECL.levers.items():
        value = changes.get(k.replace(".", "__"), spec.default)
        out[k] = np.broadcast_to(np.asarray(value, float), (NY,)) if spec.schedule else value
    return out


def run(lev=None, draws=None, seed: int = 11, n: int = 500, linked=LINK_ON) -> dict[str, np.ndarray]:
    return innovation.simulate(levers() if lev is None else lev, default_draws(n) if draws is None else draws,
                               np.random.default_rng(seed), linked)


def test_params_file_is_complete():
    assert_named_and_sourced(declarations("innovation"))


@pytest.mark.parametrize("n", [1, 37])
def test_shapes_declared_indicators_integer_counts(n):
    out = run(draws=default_draws(n), n=n)
    assert set(out) == set(DECL.indicators)
    for name, arr in out.items():
        assert arr.shape == (n, NY) and np.all(np.isfinite(arr)), name
    assert_integer_counts(out, COUNTS)


def test_counts_never_fall_except_high_tech_through_expiry():
    out = run(n=3000)
    for name in NEVER_FALL:
        assert np.all(np.diff(out[name], axis=1) >= 0), name
    assert np.all(out["high_level_teams"] <= out["innovation_teams"])
    cov = out["rd_institution_coverage"]
    assert np.all((cov >= 0) & (cov <= 100)) and np.all(np.diff(cov, axis=1) >= 0)
    active, expired, new = out["hightech_firms"], out["hightech_expired"], out["hightech_new"]
    np.testing.assert_array_equal(active[:, 0], 11)  # data.md: about 11 at the end of 2016
    assert np.all(active[:, 1:] >= active[:, :-1] - expired[:, 1:])
    np.testing.assert_array_equal(active[:, 1:], active[:, :-1] + new[:, 1:] - expired[:, 1:])
    assert np.any(np.diff(active, axis=1) < 0)  # with validity 3 and renewal < 1 it can fall


def test_high_tech_count_never_falls_without_validity():
    out = run(lev=levers(hightech_validity=0), n=3000)
    assert np.all(np.diff(out["hightech_firms"], axis=1) >= 0)
    assert np.all(out["hightech_expired"] == 0)


@pytest.mark.parametrize("change", [{"fund__annual": 3000.0}, {"hightech_subsidy": 50.0},
                                    {"fund__guided": 50000.0}])
def test_more_fund_or_subsidy_never_lowers_a_count(change):
    """Common random numbers: totals never fall when a fund or subsidy grows.

    The high-tech holders are checked without expiry (validity 0): with expiry, one more early
    award brings one more renewal trial that may lapse and leaves one fewer candidate later, so
    in rare replications (1 in 3,000 here) a bigger subsidy ends with one holder fewer; the
    awards made (the running sum of new certificates) still never fall.
    """
    draws = default_draws(3000, seed=12)
    names = [*NEVER_FALL, "rd_institution_coverage", "rd_intensity"]
    for validity in (3, 0):
        plan = run(lev=levers(hightech_validity=validity), draws=draws, seed=4)
        more = run(lev=levers(hightech_validity=validity, **change), draws=draws, seed=4)
        less = run(lev=levers(hightech_validity=validity, fund__annual=0.0, fund__guided=0.0,
                              hightech_subsidy=0.0), draws=draws, seed=4)
        plan["awarded"], more["awarded"], less["awarded"] = (
            np.cumsum(x["hightech_new"], axis=1) for x in (plan, more, less))
        for name in [*names, "awarded", *(["hightech_firms"] if validity == 0 else [])]:
            assert np.all(more[name] >= plan[name] - 1e-12), (validity, name)
            assert np.all(less[name] <= plan[name] + 1e-12), (validity, name)
    if "hightech_subsidy" in change:
        assert more["awarded"].sum() > plan["awarded"].sum()
    else:
        assert more["rd_intensity"].sum() > plan["rd_intensity"].sum()


def test_rng_use_does_not_depend_on_levers():
    draws = default_draws(50)
    after = []
    for lev in (levers(), levers(fund__annual=0.0, hightech_subsidy=0.0), levers(hightech_validity=0)):
        rng = np.random.default_rng(3)
        innovation.simulate(lev, draws, rng)
        after.append(rng.random())
    assert after[0] == after[1] == after[2]


def test_rd_intensity_is_positive_ratio_of_simulated_series():
    out = run(n=2000)
    assert np.all(out["rd_intensity"] > 0) and np.all(out["gdp"] > 0)
    np.testing.assert_allclose(out["rd_intensity"], 100 * out["rd_spending"] / out["gdp"], rtol=1e-12)
    draws = default_draws(2000)
    np.testing.assert_allclose(out["rd_intensity"][:, 0], draws["rd.intensity_2016"], rtol=1e-12)
    # a growth shock of -inf standard deviations is floored: spending stays positive
    extreme = run(draws=default_draws(200, rd__growth=-0.3, rd__growth_sd=0.5), n=200)
    assert np.all(extreme["rd_spending"] > 0)


def test_va_growth_link_off_is_base_growth_and_on_follows_firm_growth():
    draws = default_draws(2000)
    off = run(draws=draws, linked=Linked())
    on = run(draws=draws, linked=LINK_ON)
    base = draws["hightech_va.base_growth"]
    np.testing.assert_array_equal(off["hightech_va_growth"], np.repeat(base[:, None], NY, axis=1))
    expected = hightech_value_added({"innovation.hightech_firms": on["hightech_firms"]},
                                    {"innovation.hightech_va.base_growth": base,
                                     "innovation.hightech_va.elasticity": draws["hightech_va.elasticity"]})
    expected = expected["hightech_va_growth"]
    np.testing.assert_array_equal(on["hightech_va_growth"], expected)
    assert np.any(on["hightech_va_growth"] != off["hightech_va_growth"])
    for name in set(off) - {"hightech_va_growth"}:  # the link changes nothing else
        np.testing.assert_array_equal(on[name], off[name], err_msg=name)


def test_open_pool_count_is_poisson():
    """No fund effect, constant rate r, approval b, no lag: teams by the end of year k are
    Poisson(r b k). The sample mean has sd sqrt(mu / N); the sample variance has sd
    sqrt((mu4 - mu^2 (N-3)/(N-1)) / N) with the Poisson fourth central moment mu4 = mu + 3 mu^2.
    5 sd bounds: a false alarm less than once in a million runs (seed fixed)."""
    n, r, b = 20_000, 6.0, 0.5
    draws = default_draws(n, fund_effect=0.0, teams__rate=r, teams__approve=b, teams__lag=0)
    out = run(draws=draws, seed=99, n=n)
    for k in range(1, NY):
        x = out["innovation_teams"][:, k]
        mu = r * b * k
        assert abs(x.mean() - mu) < 5 * np.sqrt(mu / n)
        assert abs(x.var(ddof=1) - mu) < 5 * np.sqrt((mu + 3 * mu**2 - mu**2 * (n - 3) / (n - 1)) / n)


def test_high_level_teams_are_binomial_thinning():
    """Given the teams, high-level teams are Binomial(teams, h): mean h * E[teams] within 5 sd."""
    n, h = 20_000, 0.2
    out = run(draws=default_draws(n, teams__high_level_share=h), seed=5, n=n)
    teams, high = out["innovation_teams"][:, -1], out["high_level_teams"][:, -1]
    resid = high - h * teams  # mean 0, variance E[teams] h (1 - h)
    assert abs(resid.mean()) < 5 * np.sqrt(teams.mean() * h * (1 - h) / n)


def test_closed_pool_count_is_binomial():
    """Leading firms with constant probabilities and no fund effect: by the end of year k,
    Binomial(m, 1 - (1 - a b)^k); mean and variance within 5 Monte Carlo sd as in test_smart."""
    n, m, a, b = 20_000, 10, 0.4, 0.5
    draws = default_draws(n, fund_effect=0.0, leading_firms__pool=m, leading_firms__apply=a,
                          leading_firms__approve=b, leading_firms__lag=0)
    out = run(draws=draws, seed=77, n=n)
    for k in range(1, NY):
        p = 1 - (1 - a * b) ** k
        x = out["leading_firms"][:, k]
        var = m * p * (1 - p)
        mu4 = var * (1 + 3 * (m - 2) * p * (1 - p))
        assert abs(x.mean() - m * p) < 5 * np.sqrt(var / n)
        assert abs(x.var(ddof=1) - var) < 5 * np.sqrt((mu4 - var**2 * (n - 3) / (n - 1)) / n)
