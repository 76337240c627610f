"""Zombie-enterprise disposal: the SimPy reference model (readable, one environment per replication).

The stages, the inputs and their draws are described in :mod:`model.processes.zombie`; the
vectorised twin that gives identical times is :mod:`model.processes.zombie_twin`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import simpy

from model.processes.zombie import COURT, TOPUP_TIMES, ZombieInputs, ZombieTimes, check_inputs


def _top_up(env: simpy.Environment, fund: simpy.Container, times: Sequence[float],
            amounts: Sequence[float]):
    """Put each year's top-up into the fund on its date (SimPy refuses zero amounts)."""
    for t, amount in zip(times, amounts):
        yield env.timeout(t - env.now)
        if amount > 0:
            yield fund.put(amount)


def _firm(env, i, arrival, prep, route, route_time, court_time, cost, team, fund, court, out):
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
            yield env.timeout(court_time)
    else:
        yield env.timeout(route_time)
    out[2][i] = env.now


def simulate_simpy_detail(
    inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
    fund_topups: Sequence[float], topup_times: Sequence[float] = TOPUP_TIMES,
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

    Returns
    -------
    ZombieTimes
        Firms never funded (the fund ran dry) have ``funded = done = inf``.
    """
    check_inputs(inputs, teams, court_capacity, fund_initial, fund_topups, topup_times)
    valid = inputs.valid
    times = [np.where(valid, np.inf, np.nan) for _ in range(3)]
    amounts = [float(a) for a in fund_topups]
    instants = [float(t) for t in topup_times]
    for r in range(valid.shape[0]):
        env = simpy.Environment()
        team = simpy.Resource(env, capacity=int(teams))
        court = simpy.Resource(env, capacity=int(court_capacity))
        fund = simpy.Container(env, capacity=float("inf"), init=float(fund_initial))
        env.process(_top_up(env, fund, instants, amounts))
        out = [t[r].tolist() for t in times]
        row = [getattr(inputs, f)[r].tolist() for f in
               ("arrival", "prep", "route", "route_time", "court_time", "cost")]
        for i in inputs.order[r, : inputs.count[r]].tolist():
            env.process(_firm(env, i, *(col[i] for col in row), team, fund, court, out))
        env.run()
        for t, o in zip(times, out):
            t[r] = o
    return ZombieTimes(*times)
