"""The shared count pipeline against closed forms and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.processes.pipeline import (
    binomial_inverse,
    candidate_pipeline,
    open_pipeline,
    poisson_inverse,
    raise_odds,
)
from model.timeline import YEARS
from tests.declarations import rng_state_after

Y = len(YEARS)


def _close(sample: np.ndarray, mean: float, var: float, z: float = 4.5) -> None:
    """Sample mean and variance within z standard errors of the exact values.

    SE of the mean: sqrt(var / n). SE of the sample variance: sqrt((mu4 - var^2) / n), bounded
    here by sqrt(2 var^2 / n + kurtosis slack): we use the normal-theory value times 2, generous
    for the mildly skewed counts tested (binomial and Poisson with means >= 2).
    """
    n = sample.size
    assert abs(sample.mean() - mean) < z * np.sqrt(var / n), (sample.mean(), mean)
    assert abs(sample.var(ddof=1) - var) < z * 2 * np.sqrt(2 * var**2 / n), (sample.var(ddof=1), var)


@pytest.mark.parametrize(("pool", "a", "b"), [(40, 0.3, 0.5), (12, 0.9, 0.9), (200, 0.05, 0.6)])
def test_closed_pool_total_is_binomial(pool, a, b):
    n = 40_000
    out = candidate_pipeline(np.random.default_rng(1), pool=np.full(n, pool), apply_prob=a, approve_prob=b)
    for t in range(1, Y):
        p = 1 - (1 - a * b) ** t  # survive t independent yearly chances
        _close(out.cumulative[:, t], pool * p, pool * p * (1 - p))


def test_open_pool_total_is_poisson():
    n = 40_000
    rate, approve = np.full(n, 6.0), 0.5
    out = open_pipeline(np.random.default_rng(2), rate=rate, approve_prob=approve, initial=np.full(n, 4))
    for t in range(1, Y):
        _close(out.cumulative[:, t], 3.0 * t, 3.0 * t)
    np.testing.assert_array_equal(out.active, 4 + out.cumulative)


def test_inverse_transforms_match_scipy():
    rng = np.random.default_rng(3)
    u = rng.random(5_000)
    mean = rng.uniform(0, 60, 5_000)
    np.testing.assert_array_equal(poisson_inverse(u, mean), stats.poisson.ppf(u, mean))
    trials, p = rng.integers(0, 50, 5_000).astype(float), rng.random(5_000)
    np.testing.assert_array_equal(binomial_inverse(u, trials, p), stats.binom.ppf(u, trials, p))
    assert poisson_inverse(np.array([0.3]), np.array([800.0]))[0] == stats.poisson.ppf(0.3, 800.0)


def test_counts_are_whole_nonnegative_and_add_up():
    rng = np.random.default_rng(4)
    n = 3_000
    out = candidate_pipeline(rng, pool=rng.integers(0, 30, n), apply_prob=rng.random((n, Y)),
                             approve_prob=rng.random(n), lag=rng.integers(0, 3, n),
                             initial=rng.integers(0, 20, n), validity=3, renewal_prob=rng.random(n))
    for arr in (out.new, out.renewed, out.expired, out.active, out.cumulative):
        assert np.all(arr >= 0) and np.all(arr == np.rint(arr))
    np.testing.assert_array_equal(out.active[:, 1:], out.active[:, :-1] + out.new[:, 1:] - out.expired[:, 1:])
    assert np.all(np.diff(out.cumulative, axis=1) >= 0)
    assert np.any(np.diff(out.active, axis=1) < 0)  # certificates do lapse


def test_without_validity_holders_never_fall():
    rng = np.random.default_rng(5)
    n = 2_000
    out = candidate_pipeline(rng, pool=np.full(n, 25), apply_prob=0.2, approve_prob=0.7, initial=np.full(n, 9))
    assert np.all(np.diff(out.active, axis=1) >= 0)
    assert np.all(out.expired == 0) and np.all(out.renewed == 0)


def test_initial_certificates_lapse_evenly_without_renewal():
    n = 10
    out = candidate_pipeline(np.random.default_rng(6), pool=np.zeros(n), apply_prob=0.0, approve_prob=0.0,
                             initial=np.full(n, 13), validity=3, renewal_prob=0.0)
    # 13 = 5 + 4 + 4 come up in 2017, 2018, 2019; none renew, none apply
    np.testing.assert_array_equal(out.expired[0], [0, 5, 4, 4, 0])
    np.testing.assert_array_equal(out.active[0], [13, 8, 4, 0, 0])


def test_renewed_certificates_stay_and_come_up_again():
    n = 10
    out = candidate_pipeline(np.random.default_rng(7), pool=np.zeros(n), apply_prob=0.0, approve_prob=0.0,
                             initial=np.full(n, 2), validity=2, renewal_prob=1.0)
    np.testing.assert_array_equal(out.renewed[0], [0, 1, 1, 1, 1])  # each renews every 2 years
    np.testing.assert_array_equal(out.active[0], [2, 2, 2, 2, 2])


def test_lag_delays_awards():
    n = 5_000
    kw = dict(pool=np.full(n, 30), apply_prob=0.4, approve_prob=0.8)
    now = candidate_pipeline(np.random.default_rng(8), **kw)
    later = candidate_pipeline(np.random.default_rng(8), lag=1, **kw)
    assert np.all(later.new[:, 1] == 0)
    np.testing.assert_array_equal(later.new[:, 2:], now.new[:, 1:-1])  # same draws, one year on


@pytest.mark.parametrize("validity", [None, 3])
def test_higher_probability_never_gives_fewer_awards(validity):
    n = 5_000
    counts = [candidate_pipeline(np.random.default_rng(9), pool=np.full(n, 40), apply_prob=a,
                                 approve_prob=0.6, validity=validity, renewal_prob=0.7,
                                 initial=np.full(n, 10)).cumulative
              for a in (0.0, 0.1, 0.3, 0.9)]
    for low, high in zip(counts, counts[1:]):
        assert np.all(high >= low)
    rates = [open_pipeline(np.random.default_rng(9), rate=np.full(n, r)).cumulative for r in (0.5, 2.0, 8.0)]
    for low, high in zip(rates, rates[1:]):
        assert np.all(high >= low)


def test_random_numbers_do_not_depend_on_probabilities():
    states = [rng_state_after(lambda rng, a=a: candidate_pipeline(rng, pool=np.full(50, 20), apply_prob=a,
                                                                 approve_prob=1.0, validity=3), seed=10)
              for a in (0.0, 0.7)]
    assert states[0] == states[1]


def test_raise_odds():
    base = np.array([0.0, 0.1, 0.5, 1.0])
    np.testing.assert_allclose(raise_odds(base, 1.0), base)
    np.testing.assert_allclose(raise_odds(0.5, 3.0), 0.75)  # odds 1 -> 3
    assert raise_odds(0.0, 5.0) == 0.0 and raise_odds(1.0, 0.0) == 1.0
    factors = np.linspace(0, 10, 50)
    assert np.all(np.diff(raise_odds(0.2, factors)) > 0)
