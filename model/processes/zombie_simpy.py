"""Zombie-enterprise disposal: the SimPy reference model (readable, one environment per replication).

The stages, the inputs and their draws are described in :mod:`model.processes.zombie`; the
vectorised twin that gives identical times is :mod:`model.processes.zombie_twin`.

With a :class:`~model.processes.zombie.Feedback` (the target-responsibility feedback) the city
holds ``reserve`` team posts unstaffed from the start (processes that occupy those slots of the
team resource); a process wakes at each assessment, lets everything due at that instant happen,
measures the share disposed, and staffs as many of the reserve posts as the response asks (the
firms waiting take them at once) and sets the court-time factor of cases accepted afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from model.processes.zombie import (
    COURT,
    TOPUP_TIMES,
    Feedback,
    ZombieInputs,
    ZombieTimes,
    check_inputs,
    court_factor_at,
    disposal,
    disposed_share,
)


@dataclass
class _Assessed:
    """What the assessments of one replication have found and decided so far."""

    shares: np.ndarray  # (1, J) [%], NaN until assessed
    factor: np.ndarray = field(default_factory=lambda: np.ones((1, 0)))  # (1, J) court factors
    posts: list = field(default_factory=list)  # release events of the reserve team posts
    staffed: int = 0  # reserve posts staffed so far

    def court_factor(self, times: Sequence[float], now: float) -> float:
        return float(court_factor_at(np.array([now]), times[: self.factor.shape[1]], self.factor)[0])


def _top_up(env: simpy.Environment, fund: simpy.Container, times: Sequence[float],
            amounts: Sequence[float]):
    """Put each year's top-up into the fund on its date (SimPy refuses zero amounts)."""
    for t, amount in zip(times, amounts):
        yield env.timeout(t - env.now)
        if amount > 0:
            yield fund.put(amount)


def _reserve_post(team: simpy.Resource, staffed: simpy.Event):
    """A team post held empty until the city staffs it (``staffed`` succeeds), then freed."""
    with team.request() as req:
        yield req
        yield staffed


def _assess(env: simpy.Environment, j: int, feedback: Feedback, r: int, route, out, count: int,
            state: _Assessed):
    """Assessment ``j``: at its instant, after every event due then, measure and respond."""
    t = feedback.times[j]
    yield env.timeout(t)  # started at 0, so now == t exactly
    while env.peek() <= t:  # the state at the end of the assessment day: all of t happens first
        yield env.timeout(0)
    disposed = disposal(route, np.array([out[2]]), np.array([out[3]]), feedback.when_accepted)
    state.shares[0, j] = disposed_share(disposed, np.array([count]), t)[0]
    teams, factor = feedback.responses(np.array([r]), state.shares)
    state.factor = factor[:, : j + 1]
    for post in state.posts[state.staffed: int(teams[0, j])]:
        post.succeed()
    state.staffed = max(state.staffed, int(teams[0, j]))


def _firm(env, i, arrival, prep, route, route_time, court_time, cost, team, fund, court, out,
          times=(), state=None):
    """One firm: team, then money, then court or its own route; records stage times."""
    yield env.timeout(arrival - env.now)
    with team.request() as req:
        yield req
        yield env.timeout(prep)
    out[0][i] = env.now
    if cost > 0:
        yield fund.get(cost)
    out[1][i] = env.now
    if route == COURT:
        with court.request() as req:
            yield req
            out[3][i] = env.now
            factor = 1.0 if state is None else state.court_factor(times, env.now)
            yield env.timeout(court_time * factor)
    else:
        yield env.timeout(route_time)
    out[2][i] = env.now


def simulate_simpy_detail(
    inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
    fund_topups: Sequence[float], topup_times: Sequence[float] = TOPUP_TIMES,
    feedback: Feedback | None = None,
) -> ZombieTimes:
    """Run the SimPy reference, one environment per replication; all stage times.

    Parameters
    ----------
    inputs : ZombieInputs
        Per-firm draws.
    teams, court_capacity : int
        Working teams and concurrent bankruptcy cases [-], >= 1.
    fund_initial : float
        Resettlement fund at time 0 [万元]; ``inf`` for no fund constraint.
    fund_topups : sequence of float
        Amounts added at ``topup_times`` [万元].
    topup_times : sequence of float
        Dates of the top-ups [decimal yr], nondecreasing; default 1 January of 2016..2020.
    feedback : Feedback, optional
        Assessments that add teams and court priority (none: the queue as planned).

    Returns
    -------
    ZombieTimes
        Firms never funded (the fund ran dry) have ``funded = done = inf``.
    """
    check_inputs(inputs, teams, court_capacity, fund_initial, fund_topups, topup_times)
    valid = inputs.valid
    n = valid.shape[0]
    if feedback is not None:
        feedback.check(n)
    times = [np.where(valid, np.inf, np.nan) for _ in range(4)]
    amounts = [float(a) for a in fund_topups]
    instants = [float(t) for t in topup_times]
    for r in range(n):
        env = simpy.Environment()
        reserve = 0 if feedback is None else int(feedback.reserve[r])
        team = simpy.Resource(env, capacity=int(teams) + reserve)
        court = simpy.Resource(env, capacity=int(court_capacity))
        fund = simpy.Container(env, capacity=float("inf"), init=float(fund_initial))
        env.process(_top_up(env, fund, instants, amounts))
        out = [t[r].tolist() for t in times]
        state = None
        if feedback is not None:
            state = _Assessed(np.full((1, len(feedback.times)), np.nan))
            state.posts = [env.event() for _ in range(reserve)]
            for post in state.posts:  # before any firm asks for a team
                env.process(_reserve_post(team, post))
            for j in range(len(feedback.times)):
                env.process(_assess(env, j, feedback, r, inputs.route[r], out, int(inputs.count[r]), state))
        row = [getattr(inputs, f)[r].tolist() for f in
               ("arrival", "prep", "route", "route_time", "court_time", "cost")]
        for i in inputs.order[r, : inputs.count[r]].tolist():
            env.process(_firm(env, i, *(col[i] for col in row), team, fund, court, out,
                              () if feedback is None else feedback.times, state))
        env.run()
        for t, o in zip(times, out):
            t[r] = o
    return ZombieTimes(*times)
