"""Tests of the smart module (model/modules/smart.py) and the count helpers it uses."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from model.modules import smart
from model.modules.bass import bass_cdf
from model.modules.counting import push_factor, year_weights
from model.params import parse_declarations
from model.timeline import YEARS
from tests.declarations import assert_integer_counts, assert_named_and_sourced, declarations

PARAMS = Path(__file__).resolve().parents[1] / "model" / "data" / "params" / "smart.toml"
DOC = tomllib.loads(PARAMS.read_text(encoding="utf-8"))
DECL = parse_declarations("smart", DOC)
NY = len(YEARS)
COUNTS = [k for k, v in DECL.indicators.items() if v.unit == "count"]
CUMULATIVE = [k for k in COUNTS if not k.endswith("_new")]
REWARDS = [k for k in DECL.levers if k.startswith("reward.")]


def default_draws(n: int, seed: int = 5, **fixed: float) -> dict[str, np.ndarray]:
    """Uncertainties sampled from their declared defaults; ``fixed`` (``__`` for dots) pins some."""
    rng = np.random.default_rng(seed)
    draws = {k: spec.default.ppf(rng.random(n)) for k, spec in DECL.uncertainties.items()}
    for key, value in fixed.items():
        name = key.replace("__", ".")
        assert name in draws, name
        draws[name] = np.full(n, float(value))
    return draws


def levers(scale: float = 1.0) -> dict[str, object]:
    """The plan's levers, every reward multiplied by ``scale``."""
    return {k: spec.default * (scale if k in REWARDS else 1.0) for k, spec in DECL.levers.items()}


def run(lev=None, draws=None, seed: int = 11, n: int = 500) -> dict[str, np.ndarray]:
    return smart.simulate(levers() if lev is None else lev, default_draws(n) if draws is None else draws,
                          np.random.default_rng(seed))


def test_params_file_is_complete():
    assert_named_and_sourced(declarations("smart"))


@pytest.mark.parametrize("n", [1, 37])
def test_shapes_declared_indicators_integer_counts(n):
    out = run(draws=default_draws(n), n=n)
    assert set(out) == set(DECL.indicators)
    for name, arr in out.items():
        assert arr.shape == (n, NY) and np.all(np.isfinite(arr)), name
    assert_integer_counts(out, COUNTS)
    for name in COUNTS:
        assert np.all(out[name][:, 0] == 0), name  # nothing awarded in the base year
    pen = out["platform_penetration"]
    assert np.all((pen >= 0) & (pen <= 100))


def test_cumulative_counts_and_penetration_never_fall():
    out = run(n=2000)
    for name in [*CUMULATIVE, "platform_penetration"]:
        assert np.all(np.diff(out[name], axis=1) >= 0), name
    # "new in the year" sums to the total
    for item in ("iim_pilots", "smart_factories", "service_mfg_demos"):
        np.testing.assert_array_equal(np.cumsum(out[f"{item}_new"], axis=1), out[item])


@pytest.mark.parametrize("scale", [0.0, 0.5, 3.0])
def test_rewards_never_lower_a_count_under_common_random_numbers(scale):
    draws = default_draws(3000, seed=9)
    plan = run(draws=draws, seed=4)
    other = run(lev=levers(scale), draws=draws, seed=4)
    # Totals (and 2017's new awards) never fall with a larger reward. Later years' "new" flows
    # may: more early awards leave fewer candidates in a closed pool (their running sums hold).
    checked = {name: other[name] for name in [*CUMULATIVE, "platform_penetration"]}
    checked.update({f"{name}[2017]": other[name][:, 1] for name in COUNTS if name.endswith("_new")})
    reference = {name: plan[name] for name in [*CUMULATIVE, "platform_penetration"]}
    reference.update({f"{name}[2017]": plan[name][:, 1] for name in COUNTS if name.endswith("_new")})
    for name in checked:
        if scale >= 1:
            assert np.all(checked[name] >= reference[name]), name
        else:
            assert np.all(checked[name] <= reference[name]), name
    if scale > 1:  # and the rewards do something
        assert other["smart_factories"].sum() > plan["smart_factories"].sum()
        assert other["platform_penetration"].sum() > plan["platform_penetration"].sum()


def test_rng_use_does_not_depend_on_levers():
    draws = default_draws(50)
    after = []
    for scale in (0.0, 1.0, 10.0):
        rng = np.random.default_rng(3)
        smart.simulate(levers(scale), draws, rng)
        after.append(rng.random())
    assert after[0] == after[1] == after[2]


def test_closed_pool_count_is_binomial():
    """Constant probabilities, no lag, no reward effect: awards by the end of year k from a pool
    of m are Binomial(m, 1 - (1 - a b)^k). Monte Carlo error over N replications: the sample
    mean has sd sqrt(var / N); the sample variance has sd sqrt((mu4 - var^2 (N-3)/(N-1)) / N)
    with the binomial fourth central moment mu4 = m p q (1 + 3 (m - 2) p q). 5 sd bounds: a false
    alarm less than once in a million runs (seed fixed)."""
    n, m, a, b = 20_000, 20, 0.1, 0.5
    draws = default_draws(n, reward_effect=0.0, smart_factories__pool=m, smart_factories__apply=a,
                          smart_factories__approve=b, smart_factories__lag=0)
    out = run(draws=draws, seed=2017, n=n)
    for k in range(1, NY):
        p = 1 - (1 - a * b) ** k
        x = out["smart_factories"][:, k]
        mean, var = m * p, m * p * (1 - p)
        mu4 = m * p * (1 - p) * (1 + 3 * (m - 2) * p * (1 - p))
        assert abs(x.mean() - mean) < 5 * np.sqrt(var / n)
        assert abs(x.var(ddof=1) - var) < 5 * np.sqrt((mu4 - var**2 * (n - 3) / (n - 1)) / n)


def test_platform_share_from_zero_is_the_bass_closed_form():
    p, q = np.array([0.03, 0.1, 0.0]), np.array([0.38, 0.1, 0.5])
    f = smart.platform_share(np.zeros(3), p, q, np.ones((3, NY)))
    np.testing.assert_allclose(f, bass_cdf(np.arange(NY)[None, :], p[:, None], q[:, None]), rtol=1e-12, atol=1e-15)


def test_lumpy_platform_share_has_the_bass_mean():
    """Each of N firms adopts when its uniform is below F(t): the adopted count is
    Binomial(N, F(t)), so the mean share over n replications is F(t) within 5 sd of
    sqrt(F (1 - F) / (N n))."""
    n = 20_000
    draws = default_draws(n, reward_effect=0.0, platform__firms=20, platform__initial_share=0.3,
                          platform__bass_p=0.05, platform__bass_q=0.3)
    out = run(draws=draws, seed=8, n=n)
    f = smart.platform_share(np.full(1, 0.3), np.full(1, 0.05), np.full(1, 0.3), np.ones((1, NY)))[0]
    share = out["platform_penetration"].mean(axis=0) / 100
    sd = np.sqrt(f * (1 - f) / (20 * n))
    assert np.all(np.abs(share - f) <= 5 * sd + 1e-12)


def test_push_factor_and_year_weights():
    w = year_weights(np.array([0.5, 0.0]))
    np.testing.assert_array_equal(w[:, 0], 0.0)
    np.testing.assert_array_equal(w[:, 1], [0.5, 0.0])
    f = push_factor(w, (np.array([0.2, 0.2]), 30.0, 10.0))
    np.testing.assert_allclose(f[0], [1.0, 1.3, 1.6, 1.6, 1.6])
    np.testing.assert_allclose(f[1], [1.0, 1.0, 1.6, 1.6, 1.6])
