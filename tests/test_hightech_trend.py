"""The open end of the high-tech pipeline (issue 10, item 7): candidates joining the pool each
year (``hightech.inflow``), against the exact expectation and as a no-op when zero."""

from __future__ import annotations

import numpy as np
import pytest

from model.modules import innovation
from model.processes.pipeline import candidate_pipeline
from model.timeline import YEARS
from tests.declarations import rng_state_after
from tests.test_innovation import default_draws, levers

Y = len(YEARS)


def expected_active(pool, p, inflow, initial, validity, renewal):
    """Exact expectation of the pipeline's holders at each year end (lag 0).

    Every step of :func:`candidate_pipeline` is a binomial thinning with a probability fixed in
    advance, so expectations follow the same recursion with counts replaced by their means
    (E[Binomial(N, p)] = p E[N]). The initial holders come up for renewal over the first
    ``validity`` years as the pipeline spreads them (remainder first); ``inflow`` is whole
    firms here, so rounding plays no part.
    """
    due = np.zeros(Y + validity + 1)
    base, extra = divmod(initial, validity)
    for j in range(1, validity + 1):
        due[j] += base + (extra >= j)
    remaining, active = float(pool), [float(initial)]
    for t in range(1, Y):
        kept = renewal * due[t]
        expired = due[t] - kept
        due[t + validity] += kept
        remaining += expired + inflow[t]
        awarded = p[t] * remaining
        remaining -= awarded
        due[t + validity] += awarded
        active.append(active[-1] + awarded - expired)
    return np.array(active)


@pytest.mark.parametrize(("pool", "a", "b", "flow", "renewal"),
                         [(30, 0.2, 0.7, 3.0, 0.8), (10, 0.5, 0.9, 1.0, 0.6), (40, 0.1, 0.5, 0.0, 0.9)])
def test_inflow_matches_exact_expectation(pool, a, b, flow, renewal):
    n = 40_000
    inflow = np.zeros((n, Y))
    inflow[:, 2:] = flow  # from 2018, as the module has it
    out = candidate_pipeline(np.random.default_rng(7), pool=np.full(n, float(pool)), apply_prob=a,
                             approve_prob=b, initial=np.full(n, 11.0), validity=3,
                             renewal_prob=np.full(n, renewal), inflow=inflow)
    exact = expected_active(pool, np.full(Y, a * b), inflow[0], 11, 3, renewal)
    # Monte Carlo tolerance: 4.5 standard errors of the mean, the SE taken from the sample
    # (counts of a few tens; n = 40,000 gives SEs of about 0.02 firms).
    se = out.active.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(out.active.mean(axis=0) - exact) <= 4.5 * se + 1e-12), (out.active.mean(axis=0), exact)


def test_zero_inflow_changes_nothing():
    n = 2_000
    kwargs = dict(pool=np.full(n, 25.0), apply_prob=0.2, approve_prob=0.6, initial=np.full(n, 11.0),
                  validity=3, renewal_prob=np.full(n, 0.8))
    closed = candidate_pipeline(np.random.default_rng(3), **kwargs)
    zero = candidate_pipeline(np.random.default_rng(3), inflow=np.zeros((n, Y)), **kwargs)
    for field in ("new", "renewed", "expired", "active", "cumulative"):
        np.testing.assert_array_equal(getattr(closed, field), getattr(zero, field))
    assert (rng_state_after(lambda rng: candidate_pipeline(rng, **kwargs))
            == rng_state_after(lambda rng: candidate_pipeline(rng, inflow=np.full((n, Y), 4.0), **kwargs)))


def test_fractional_inflow_keeps_its_total():
    """1.5 firms a year join as 2, 1, 2 ...: the running total is rounded, no firm is lost."""
    out = candidate_pipeline(np.random.default_rng(1), pool=np.zeros(1), apply_prob=1.0, approve_prob=1.0,
                             inflow=np.full((1, Y), 1.5))
    np.testing.assert_array_equal(out.cumulative[0], np.rint(1.5 * np.arange(Y)))


def test_module_high_tech_growth_matches_analytic_value():
    """innovation.simulate with the plan's pushes switched off: the mean number of valid
    certificates each year equals the exact expectation for the drawn pool, rates and inflow."""
    n = 40_000
    draws = default_draws(n, seed=8, fund_effect=0.0, reward_effect=0.0, hightech__pool=30,
                          hightech__apply=0.15, hightech__approve=0.7, hightech__renewal=0.8,
                          hightech__inflow=2.0, hightech__initial=11)
    out = innovation.simulate(levers(), draws, np.random.default_rng(21))
    inflow = np.zeros(Y)
    inflow[innovation.INFLOW_FROM:] = 2.0
    exact = expected_active(30, np.full(Y, 0.15 * 0.7), inflow, 11, 3, 0.8)
    se = out["hightech_firms"].std(axis=0, ddof=1) / np.sqrt(n)  # tolerance as above
    assert np.all(np.abs(out["hightech_firms"].mean(axis=0) - exact) <= 4.5 * se + 1e-12)
    # the open pool keeps new certifications from draining away: 2020 gets more than without it
    closed = innovation.simulate(levers(), {**draws, "hightech.inflow": np.zeros(n)}, np.random.default_rng(21))
    assert np.all(out["hightech_new"].sum(axis=1) >= closed["hightech_new"].sum(axis=1))
    assert out["hightech_new"][:, -1].mean() > closed["hightech_new"][:, -1].mean() + 0.5
