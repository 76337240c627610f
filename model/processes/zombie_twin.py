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
    Feedback,
    ZombieInputs,
    ZombieTimes,
    check_inputs,
    court_factor_at,
    disposal,
    disposed_share,
    topup_instants,
)


def _fifo_servers(arrival: np.ndarray, service: np.ndarray, active: np.ndarray, servers: int,
                  free: np.ndarray | None = None,
                  factor: tuple[Sequence[float], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """First-come ``servers``-slot queue over the columns in order; rows are replications.

    Inactive columns occupy no slot. Returns the start and the end of service ``(n, K)`` [yr]:
    start = ``max(arrival, earliest free slot)``, end = start + service; arrivals must be
    nondecreasing along rows. ``free`` (n, extra) adds slots that are free from the given times
    (``inf``: never); ``factor`` = (times, factors (n, J)) multiplies the service of a column
    that starts after ``times[j]`` by ``factors[:, j]`` (:func:`zombie.court_factor_at`).
    """
    n, k = arrival.shape
    free = np.full((n, servers), -np.inf) if free is None else np.concatenate(
        [np.full((n, servers), -np.inf), free], axis=1)
    servers = free.shape[1]
    start = np.full((n, k), np.inf)
    end = np.full((n, k), np.inf)
    rows = np.arange(n)
    used = np.flatnonzero(active.any(axis=0))
    for j in range(used[-1] + 1 if used.size else 0):
        slot = free.argmin(axis=1) if servers > 1 else np.zeros(n, np.intp)
        earliest = free[rows, slot]
        s = np.maximum(arrival[:, j], earliest)
        e = s + (service[:, j] if factor is None else service[:, j] * court_factor_at(s, *factor))
        start[:, j], end[:, j] = s, e
        free[rows, slot] = np.where(active[:, j], e, earliest)
    return start, end


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
          fund_topups: Sequence[float], topup_times: Sequence[float],
          free: np.ndarray | None = None,
          factor: tuple[Sequence[float], np.ndarray] | None = None) -> ZombieTimes:
    """The twin on one group of replications (inputs already checked); ``free`` and ``factor``
    as in :func:`_fifo_servers`, for the teams and the court."""
    n, k = inputs.arrival.shape
    base = (np.arange(n) * k)[:, None]
    def take(a, flat):
        return a.reshape(-1)[flat]  # a: C-contiguous (n, K)
    ow = inputs.order + base  # flat index: work position -> firm
    firm = {f: np.ascontiguousarray(getattr(inputs, f)) for f in
            ("arrival", "prep", "route", "route_time", "court_time", "cost")}
    valid = np.arange(k)[None, :] < inputs.count[:, None]  # in work order: a prefix
    cost = take(firm["cost"], ow)
    _, team = _fifo_servers(take(firm["arrival"], ow), take(firm["prep"], ow), valid, int(teams), free)
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
    court_start, court_end = np.full((n, k), np.inf), np.empty((n, k))
    starts, ends = _fifo_servers(take(funded, co), take(take(firm["court_time"], ow), co),
                                 take(court, co), int(court_capacity), factor=factor)
    court_end.reshape(-1)[co] = ends
    court_start.reshape(-1)[co[take(court, co)]] = starts[take(court, co)]
    done = np.where(court, court_end, funded + take(firm["route_time"], ow))
    out = []
    for t in (team, funded, done, court_start):
        by_firm = np.full(n * k, np.nan)
        by_firm[ow[valid]] = t[valid]
        out.append(by_firm.reshape(n, k))
    return ZombieTimes(*out)


def _reserve_free(teams: np.ndarray, times: Sequence[float]) -> np.ndarray:
    """Free-from times (n, most teams added) of the added team slots: slot ``s`` from the first
    assessment whose cumulative ``teams`` (n, J) exceeds ``s``, never (``inf``) if none does."""
    slots = np.arange(int(teams.max(initial=0)))
    free = np.full((teams.shape[0], slots.size), np.inf)
    for j in reversed(range(len(times))):
        free = np.where(slots[None, :] < teams[:, j : j + 1], times[j], free)
    return free


def _grouped(inputs: ZombieInputs, args: tuple, teams: np.ndarray | None,
             factor: np.ndarray | None, times: Sequence[float]) -> ZombieTimes:
    """The twin over groups of replications of similar firm counts, each trimmed to its own
    largest count; ``teams``/``factor`` (n, J) the feedback's response (None: no feedback)."""
    n, k = inputs.arrival.shape
    out = [np.full((n, k), np.nan) for _ in range(4)]
    for rows in _row_groups(inputs.count):
        kg = max(1, int(inputs.count[rows].max(initial=0)))
        pos = np.arange(kg)[None, :]
        count = inputs.count[rows]
        order = np.where(pos < count[:, None], inputs.order[rows, :kg], pos)
        sub = ZombieInputs(count, *(getattr(inputs, f)[rows, :kg] for f in (
            "arrival", "route", "prep", "route_time", "court_time", "cost")), order)
        extra = {} if teams is None else {"free": _reserve_free(teams[rows], times),
                                          "factor": (tuple(times), factor[rows])}
        group = _twin(sub, *args, **extra)
        for o, t in zip(out, (group.team_done, group.funded, group.done, group.court_start)):
            o[rows, :kg] = t
    return ZombieTimes(*out)


def simulate_vectorised_detail(
    inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
    fund_topups: Sequence[float], topup_times: Sequence[float] = TOPUP_TIMES,
    feedback: Feedback | None = None,
) -> ZombieTimes:
    """Numpy twin of :func:`model.processes.zombie_simpy.simulate_simpy_detail`: same arguments, identical times.

    Works in the order of work; the fund queue is the order of team completion; the court
    queue is the order of funding, and requests granted at one top-up instant resume in
    fund-queue order (SimPy's FIFO), so they reach the court in that order. Replications are
    processed in groups of similar firm counts, each trimmed to its own largest count.

    With ``feedback`` the queue is run once more per assessment: run ``j`` carries the
    responses to assessments before ``j``, which change nothing before their own instants, so
    it holds the state at assessment ``j`` that the SimPy process measures; the last run
    carries every response.
    """
    check_inputs(inputs, teams, court_capacity, fund_initial, fund_topups, topup_times)
    args = (teams, court_capacity, fund_initial, fund_topups, topup_times)
    if feedback is None:
        return _grouped(inputs, args, None, None, ())
    n = inputs.arrival.shape[0]
    feedback.check(n)
    rows, times = np.arange(n), feedback.times
    shares = np.full((n, len(times)), np.nan)
    added, factor = np.zeros((n, len(times)), np.int64), np.ones((n, len(times)))
    for j, t in enumerate(times):
        run = _grouped(inputs, args, added, factor, times)
        disposed = disposal(inputs.route, run.done, run.court_start, feedback.when_accepted)
        shares[:, j] = disposed_share(disposed, inputs.count, t)
        added, factor = feedback.responses(rows, shares)
    return _grouped(inputs, args, added, factor, times)
