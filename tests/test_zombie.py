"""Zombie-enterprise disposal: the SimPy reference, its vectorised twin and the module.

Tiers (DESIGN.md section 8): an analytic check (M/M/c against Erlang C), exact agreement of the
twin with the reference on the same draws, invariants, and the module contract.
"""

import itertools
import math

import numpy as np
import pytest

from model.modules import overcapacity
from model.processes import zombie, zombie_simpy, zombie_twin
from model.timeline import YEARS
from tests.zombie_inputs import (
    DECLARED,
    assert_same_times,
    court_reorder_inputs,
    default_draws,
    default_levers,
    firm_params,
    fund_wait_inputs,
    queue_inputs,
)


# ------------------------------------------------------------------ (a) M/M/c vs Erlang C
def erlang_c(c, a):
    """Probability an arrival waits in M/M/c with offered load a = lambda / mu < c."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_simpy_mmc_queue_matches_erlang_c():
    lam, mu, c = 2.0, 1.0, 3  # utilisation 2/3
    reps, customers, warm_up = 16, 1500, 200
    rng = np.random.default_rng(20170711)
    arrival = 1.0 + np.cumsum(rng.exponential(1 / lam, (reps, customers)), axis=1)
    prep = rng.exponential(1 / mu, (reps, customers))
    zeros = np.zeros((reps, customers))
    inputs = zombie.ZombieInputs(
        np.full(reps, customers), arrival, zeros.astype(int), prep, zeros, zeros, zeros,
        np.broadcast_to(np.arange(customers), (reps, customers)).copy())
    times = zombie_simpy.simulate_simpy_detail(inputs, c, 1, math.inf, [], [])
    wait = (times.team_done - prep - arrival)[:, warm_up:]
    # Independent replications: their means are iid, so the Monte Carlo standard error of the
    # grand mean is sd(replication means) / sqrt(reps). 4 standard errors (a false alarm about
    # 1 in 16,000 for a normal mean) plus 0.01 for what is left of the start-empty transient
    # after 200 customers (relaxation time of this queue ~ 30 customers).
    for observed, exact in ((wait.mean(axis=1), erlang_c(c, lam / mu) / (c * mu - lam)),
                            ((wait > 1e-9).mean(axis=1), erlang_c(c, lam / mu))):
        se = observed.std(ddof=1) / math.sqrt(reps)
        assert abs(observed.mean() - exact) < 4 * se + 0.01, (observed.mean(), exact, se)
    np.testing.assert_allclose(times.done, times.team_done)  # route time 0, no fund, no court
    assert_same_times(times, zombie_twin.simulate_vectorised_detail(inputs, c, 1, math.inf, [], []))


# ----------------------------------------------------- (b) twin == SimPy on the same draws
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("work_order", zombie.WORK_ORDERS)
@pytest.mark.parametrize("poisson", [False, True])
def test_twin_gives_the_simpy_times(seed, work_order, poisson):
    n = 40
    rng, start, inputs = queue_inputs(seed, work_order, n)
    count = inputs.count
    if poisson:  # staggered arrivals instead of all at the plan; order = arrival then rule
        k = inputs.arrival.shape[1]
        arrival = start[:, None] + np.cumsum(rng.exponential(0.05, (n, k)), axis=1)
        arrival = np.where(inputs.valid, arrival, np.inf)
        order = zombie.work_order_index(arrival, inputs.route, inputs.cost, count, work_order)
        inputs = zombie.ZombieInputs(count, arrival, inputs.route, inputs.prep,
                                     inputs.route_time, inputs.court_time, inputs.cost, order)
    args = (3, 2, 800.0, [0.0, 0.0, 1500.0, 1500.0, 1500.0])  # a fund that runs short
    ref = zombie_simpy.simulate_simpy_detail(inputs, *args)
    assert_same_times(ref, zombie_twin.simulate_vectorised_detail(inputs, *args))
    # every feature was exercised
    court = inputs.valid & (inputs.route == zombie.COURT)
    funded_at_topup = np.isin(ref.funded, [2019.0, 2020.0]) & (ref.funded > ref.team_done)
    assert funded_at_topup.sum() >= 2, "no firm waited for money across a top-up"
    tied = [np.unique(ref.funded[r][funded_at_topup[r]], return_counts=True)[1] for r in range(n)]
    assert max(t.max(initial=0) for t in tied) >= 2, "no simultaneous grants at a top-up"
    started = np.where(court, ref.done, np.nan) - inputs.court_time
    assert np.nansum(started > ref.funded + 1e-9) >= 2, "no firm waited for the court"
    assert np.isinf(ref.done).any(), "the fund never ran dry"


def test_simultaneous_grants_reach_the_court_in_fund_queue_order():
    # Three bankruptcies wait for money that arrives at t = 1 all at once. SimPy resumes them in
    # the order they asked (team finish: B at 0.1, C at 0.2, A at 0.3), not by index or size.
    inputs = fund_wait_inputs()

    def one(a):
        return np.array([a], float)
    expected = one([1.8, 1.2, 1.3])  # B 1.0-1.2, C 1.2-1.3, A 1.3-1.8
    for model in (zombie_simpy.simulate_simpy_detail, zombie_twin.simulate_vectorised_detail):
        np.testing.assert_allclose(model(inputs, 3, 1, 0.0, [300.0], [1.0]).done, expected)


def test_twin_needs_arrivals_in_work_order():
    rng = np.random.default_rng(0)
    inputs = zombie.draw_inputs(rng, np.array([5]), np.array([2018.0]), firm_params(1, rng))
    bad = zombie.ZombieInputs(inputs.count, inputs.arrival + np.arange(5)[::-1] * 0.1,
                              inputs.route, inputs.prep, inputs.route_time, inputs.court_time,
                              inputs.cost, np.arange(5)[None, :])
    with pytest.raises(ValueError, match="nondecreasing"):
        zombie_twin.simulate_vectorised_detail(bad, 2, 1, 100.0, [0.0] * 5)


def test_module_twin_and_reference_agree_end_to_end():
    draws, levers = default_draws(150, 4), default_levers(work_order="simplest_first")
    fast = overcapacity.simulate(levers, draws, np.random.default_rng(9))
    slow = overcapacity.simulate_reference(levers, draws, np.random.default_rng(9))
    assert fast.keys() == slow.keys()
    for key in fast:
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-9, err_msg=key)


def test_per_firm_draws_do_not_depend_on_capacity_or_levers():
    def inputs(capacity, order):
        rng = np.random.default_rng(3)
        return zombie.draw_inputs(rng, np.array([4, 9]), np.array([2018.0, 2018.1]),
                                  firm_params(2, np.random.default_rng(0)), order, capacity)
    a, b = inputs(9, "fifo"), inputs(15, "simplest_first")
    for field in ("route", "prep", "route_time", "court_time", "cost"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field)[:, :9])


# --------------------------------------------------------------------------- (c) invariants
@pytest.fixture(scope="module")
def defaults():
    draws = default_draws(1000, 11)
    return draws, lambda **ch: overcapacity.simulate(default_levers(**ch), draws,
                                                      np.random.default_rng(5))


def test_disposed_share_is_a_nondecreasing_percentage_starting_at_the_plan(defaults):
    _, run = defaults
    out = run()
    share, plan = out["zombie_disposed"], out["zombie_plan_done"]
    assert np.all((share >= 0) & (share <= 100))
    assert np.all(np.diff(share, axis=1) >= 0)
    before_plan = np.array([y + 1.0 for y in YEARS])[None, :] < plan[:, None]
    assert before_plan.any() and np.all(share[before_plan] == 0)
    assert np.all(out["zombie_started"] >= share)


def test_counting_bankruptcies_when_accepted_only_moves_court_firms_earlier(defaults):
    _, run = defaults
    closed, accepted = run(), run(court_cases_count="when_accepted")
    assert np.all(accepted["zombie_disposed"] >= closed["zombie_disposed"] - 1e-9)
    assert np.any(accepted["zombie_disposed"] > closed["zombie_disposed"])
    # the reading changes the count only, never the queue
    for key in ("zombie_started", "zombie_in_court", "zombie_fund_used"):
        np.testing.assert_array_equal(accepted[key], closed[key])
    # the gap is the cases the court has taken up and not closed: at most the firms funded for
    # court and not done (those also count cases still waiting for a court slot)
    gap = (accepted["zombie_disposed"] - closed["zombie_disposed"]) * accepted["zombie_found"][:, None] / 100
    assert np.all(gap <= accepted["zombie_in_court"] + 1e-9)
    assert np.allclose(gap, np.rint(gap))  # whole firms


def test_more_court_capacity_never_lowers_the_disposed_share(defaults):
    _, run = defaults
    shares = [run(court_capacity=c)["zombie_disposed"] for c in (1, 2, 4, 8)]
    for low, high in itertools.pairwise(shares):
        assert np.all(high >= low - 1e-9)
    assert np.any(shares[-1] > shares[0])


def test_more_teams_never_lower_the_share_without_fund_or_court_queues(defaults):
    # With a fund that never runs dry and a court slot for every case, a firm's disposal time
    # is its team finish plus a fixed time, and FIFO finishes move earlier with more servers.
    _, run = defaults
    unqueued = {"fund_initial": 1e9, "court_capacity": 100}
    shares = [run(teams=t, **unqueued)["zombie_disposed"] for t in (1, 3, 10, 30)]
    for low, high in itertools.pairwise(shares):
        assert np.all(high >= low - 1e-9)
    # With the queues on, single replications can lose (see below); the mean still gains.
    means = [run(teams=t)["zombie_disposed"].mean(axis=0) for t in (3, 10, 30)]
    for low, high in itertools.pairwise(means):
        assert np.all(high >= low - 1e-9)


def test_more_teams_can_lower_the_share_when_the_court_queue_reorders():
    # Known behaviour, not a bug: with two teams the short court case S reaches the court first;
    # with three, the long case L finishes its preparation sooner and takes the only slot.
    inputs = court_reorder_inputs()
    for model in (zombie_simpy.simulate_simpy_detail, zombie_twin.simulate_vectorised_detail):
        two, three = (model(inputs, t, 1, math.inf, [], []).done for t in (2, 3))
        assert (two <= 0.7).sum() == 1 and (three <= 0.7).sum() == 0


def test_more_teams_finish_every_preparation_no_later():
    rng = np.random.default_rng(8)
    inputs = zombie.draw_inputs(rng, rng.integers(1, 40, 200), np.full(200, 2018.0),
                                firm_params(200, rng))
    done = [zombie_twin.simulate_vectorised_detail(inputs, t, 2, 500.0, [300.0] * 5).team_done
            for t in (1, 2, 5)]
    for low, high in itertools.pairwise(done):
        assert np.all(np.nan_to_num(high) <= np.nan_to_num(low) + 1e-12)


# ---------------------------------------------------------------------- (d) module contract
def test_simulate_returns_the_declared_indicators_with_their_shapes(defaults):
    draws, run = defaults
    out = run()
    n = len(draws["count"])
    assert set(out) == set(DECLARED.indicators)
    for name, spec in DECLARED.indicators.items():
        shape = (n, len(YEARS)) if spec.kind == "yearly" else (n,)
        assert out[name].shape == shape, name
        assert out[name].dtype == float and not np.isnan(out[name]).any(), name
    np.testing.assert_array_equal(out["zombie_found"], np.rint(draws["count"]))
    survey_deadline = 2017 + 181 / 365  # end of 2017-06-30
    assert overcapacity.SURVEY_DEADLINE == pytest.approx(survey_deadline)
    assert overcapacity.PLAN_DEADLINE == 2018.0
    assert np.all(out["zombie_plan_done"] > out["zombie_survey_done"])


def test_levers_change_nothing_random(defaults):
    # Common random numbers: a lever that cannot act before 2018 leaves 2016-2017 untouched and
    # the draws (count, routes) identical.
    _, run = defaults
    a, b = run(), run(teams=3, court_capacity=1, work_order="simplest_first")
    for key in ("zombie_found", "zombie_court_cases", "zombie_plan_done"):
        np.testing.assert_array_equal(a[key], b[key])
