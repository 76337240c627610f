"""Zombie-enterprise disposal: the vectorised twin of the SimPy reference (loop over firms, arrays
over replications).

Same inputs (:mod:`model.processes.zombie`) and identical times as
:func:`model.processes.zombie_simpy.simulate_simpy_detail`; ``tests/test_zombie.py`` holds the two
together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.processes.zombie import (
    COURT,
    TOPUP_TIMES,
    ZombieInputs,
    ZombieTimes,
    check_inputs,
    topup_instants,
)


def _fifo_servers(arrival: np.ndarray, service: np.ndarray, active: np.ndarray,
                  servers: int) -> np.ndarray:
    """First-come ``servers``-slot queue over the columns in order; rows are replications.

    Inactive columns occupy no slot. Returns the end of service ``(n, K)`` [yr]:
    ``max(arrival, earliest free slot) + service``; arrivals must be nondecreasing along rows.
    """
    n, k = arrival.shape
    free = np.full((n, servers), -np.inf)
    end = np.full((n, k), np.inf)
    rows = np.arange(n)
    used = np.flatnonzero(active.any(axis=0))
    for j in range(used[-1] + 1 if used.size else 0):
        slot = free.argmin(axis=1) if servers > 1 else np.zeros(n, np.intp)
        earliest = free[rows, slot]
        e = np.maximum(arrival[:, j], earliest) + service[:, j]
        end[:, j] = e
        free[rows, slot] = np.where(active[:, j], e, earliest)
    return end


def _fund_grants(request: np.ndarray, cost: np.ndarray, fund_initial: float,
                 fund_topups: Sequence[float], topup_times: Sequence[float]) -> np.ndarray:
    """Head-of-line FIFO grants, rows already in request order (no loop over firms).

    Grant ``k`` = max(request ``k``, grant ``k-1``, first instant at which cumulative supply
    covers cumulative demand up to ``k``): a running maximum. ``cost`` is 0 for firms that do
    not queue (they must sit after the queuing ones, with ``request = inf``).
    """
    demand = np.cumsum(cost, axis=1)
    supply = float(fund_initial) + np.concatenate(([0.0], np.cumsum(fund_topups, dtype=float)))
    instants = np.concatenate(([-np.inf], topup_instants(topup_times), [np.inf]))
    covered = instants[np.searchsorted(supply, demand, side="left")]
    return np.maximum.accumulate(np.maximum(request, covered), axis=1)


def _row_groups(count: np.ndarray, min_rows: int = 128) -> list[np.ndarray]:
    """Split replications into groups of similar firm counts (less padding per group).

    Groups are cut where the count passes a power of two, once a group holds ``min_rows``.
    """
    order = np.argsort(count, kind="stable")
    level = np.ceil(np.log2(np.maximum(count[order], 1))).astype(int)
    groups, start = [], 0
    for end in np.flatnonzero(np.diff(level)) + 1:
        if end - start >= min_rows and len(order) - end >= min_rows:
            groups.append(order[start:end])
            start = end
    groups.append(order[start:])
    return groups


def _twin(inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
          fund_topups: Sequence[float], topup_times: Sequence[float]) -> ZombieTimes:
    """The twin on one group of replications (inputs already checked)."""
    n, k = inputs.arrival.shape
    base = (np.arange(n) * k)[:, None]
    def take(a, flat):
        return a.reshape(-1)[flat]  # a: C-contiguous (n, K)
    ow = inputs.order + base  # flat index: work position -> firm
    firm = {f: np.ascontiguousarray(getattr(inputs, f)) for f in
            ("arrival", "prep", "route", "route_time", "court_time", "cost")}
    valid = np.arange(k)[None, :] < inputs.count[:, None]  # in work order: a prefix
    cost = take(firm["cost"], ow)
    team = _fifo_servers(take(firm["arrival"], ow), take(firm["prep"], ow), valid, int(teams))
    need = valid & (cost > 0)
    fo = np.argsort(np.where(need, team, np.inf), axis=1, kind="stable") + base
    need_f = take(need, fo)
    grant_f = _fund_grants(np.where(need_f, take(team, fo), np.inf),
                           np.where(need_f, take(cost, fo), 0.0),
                           fund_initial, fund_topups, topup_times)
    funded = team.copy()
    funded.reshape(-1)[fo[need_f]] = grant_f[need_f]
    court = valid & (take(firm["route"], ow) == COURT)
    ready_f = take(np.where(court, funded, np.inf), fo)
    co = take(fo, np.argsort(ready_f, axis=1, kind="stable") + base)  # ties: fund order
    court_end = np.empty((n, k))
    court_end.reshape(-1)[co] = _fifo_servers(take(funded, co), take(take(
        firm["court_time"], ow), co), take(court, co), int(court_capacity))
    done = np.where(court, court_end, funded + take(firm["route_time"], ow))
    out = []
    for t in (team, funded, done):
        by_firm = np.full(n * k, np.nan)
        by_firm[ow[valid]] = t[valid]
        out.append(by_firm.reshape(n, k))
    return ZombieTimes(*out)


def simulate_vectorised_detail(
    inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
    fund_topups: Sequence[float], topup_times: Sequence[float] = TOPUP_TIMES,
) -> ZombieTimes:
    """Numpy twin of :func:`model.processes.zombie_simpy.simulate_simpy_detail`: same arguments, identical times.

    Works in the order of work; the fund queue is the order of team completion; the court
    queue is the order of funding, and requests granted at one top-up instant resume in
    fund-queue order (SimPy's FIFO), so they reach the court in that order. Replications are
    processed in groups of similar firm counts, each trimmed to its own largest count.
    """
    check_inputs(inputs, teams, court_capacity, fund_initial, fund_topups, topup_times)
    n, k = inputs.arrival.shape
    out = [np.full((n, k), np.nan) for _ in range(3)]
    for rows in _row_groups(inputs.count):
        kg = max(1, int(inputs.count[rows].max(initial=0)))
        pos = np.arange(kg)[None, :]
        count = inputs.count[rows]
        order = np.where(pos < count[:, None], inputs.order[rows, :kg], pos)
        sub = ZombieInputs(count, *(getattr(inputs, f)[rows, :kg] for f in (
            "arrival", "route", "prep", "route_time", "court_time", "cost")), order)
        times = _twin(sub, teams, court_capacity, fund_initial, fund_topups, topup_times)
        for o, t in zip(out, (times.team_done, times.funded, times.done)):
            o[rows, :kg] = t
    return ZombieTimes(*out)
