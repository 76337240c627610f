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
    disposal,
    disposed_share,
    topup_instants,
)


def _fifo_servers(arrival: np.ndarray, service: np.ndarray, needed: np.ndarray, free: np.ndarray,
                  factor: tuple[Sequence[float], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """First-come queue on the slots ``free``; positions along axis 0, replications along axis 1.

    ``arrival``, ``service`` (K, n) [yr], arrivals nondecreasing along axis 0. Position ``j``
    is served in the first ``needed[j]`` replications (``needed`` nonincreasing: sort the
    replications first) and takes the slot that frees first: start = ``max(arrival, earliest
    free)``, end = start + service. ``free`` (S, n): when each slot is free (``-inf``: from the
    start, ``inf``: never). ``factor`` = (times, factors (J, n)) multiplies the service of a
    position that starts after ``times[j]`` by ``factors[j]`` (as :func:`zombie.court_factor_at`).
    Returns start and end (K, n), ``inf`` where not served.

    The slots are kept sorted per replication, so the earliest is row 0 and an end replaces it
    by a sorted insertion (two elementwise passes) instead of an ``argmin`` and a scatter: which
    of several equally early slots is taken never changes a time.
    """
    k, n = arrival.shape
    start, end = np.full((k, n), np.inf), np.full((k, n), np.inf)
    a = np.sort(free, axis=0)
    b, tmp = np.empty_like(a), np.empty((max(a.shape[0] - 1, 0), n))
    for j in range(k):
        r = int(needed[j])
        if r == 0:
            break
        s, e = start[j, :r], end[j, :r]
        np.maximum(arrival[j, :r], a[0, :r], out=s)
        if factor is None:
            np.add(s, service[j, :r], out=e)
        else:
            f = np.ones(r)
            for t, fj in zip(factor[0], factor[1]):
                np.copyto(f, fj[:r], where=s > t)
            np.multiply(service[j, :r], f, out=e)
            np.add(s, e, out=e)
        if a.shape[0] == 1:
            a[0, :r] = e
            continue
        # remove the earliest (row 0) and insert e: row i becomes min(a[i+1], max(a[i], e))
        np.maximum(a[:-1, :r], e, out=tmp[:, :r])
        np.minimum(a[1:, :r], tmp[:, :r], out=b[:-1, :r])
        np.maximum(a[-1, :r], e, out=b[-1, :r])
        a, b = b, a
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


def _by_column(rows: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """(n, K) arrays as C-contiguous (K, n), replications in the order ``rows``."""
    return [np.ascontiguousarray(a[rows].T) for a in arrays]


def _by_row(rows: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_by_column` for one array: (K, n) in the order ``rows`` -> (n, K)."""
    out = np.empty(a.shape[::-1])
    out[rows] = a.T
    return out


def _served(per_row: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Replications with the most positions first, and how many of them reach each of ``k``
    positions (nonincreasing), for :func:`_fifo_servers`."""
    return np.argsort(-per_row, kind="stable"), np.count_nonzero(per_row[:, None] > np.arange(k), axis=0)


def _twin(inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
          fund_topups: Sequence[float], topup_times: Sequence[float],
          free: np.ndarray | None = None,
          factor: tuple[Sequence[float], np.ndarray] | None = None) -> ZombieTimes:
    """The twin on one group of replications (inputs already checked); ``free`` (n, extra)
    adds team slots free from the given times, ``factor`` = (times, factors (n, J)) the
    court-time factors (both from the feedback)."""
    n, k = inputs.arrival.shape
    base = (np.arange(n) * k)[:, None]
    def take(a, flat):
        return a.reshape(-1)[flat]  # a: C-contiguous (n, K)
    ow = inputs.order + base  # flat index: work position -> firm
    firm = {f: np.ascontiguousarray(getattr(inputs, f)) for f in
            ("arrival", "prep", "route", "route_time", "court_time", "cost")}
    valid = np.arange(k)[None, :] < inputs.count[:, None]  # in work order: a prefix
    cost = take(firm["cost"], ow)
    # working teams: the real firms of a replication are the first in the order of work
    rows, needed = _served(inputs.count, k)
    slots = np.full((n, int(teams)), -np.inf)
    slots = slots if free is None else np.concatenate([slots, free], axis=1)
    _, team = _fifo_servers(*_by_column(rows, take(firm["arrival"], ow), take(firm["prep"], ow)),
                            needed, *_by_column(rows, slots))
    team = _by_row(rows, team)
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
    # the court: the funded bankruptcies come first in court order; those never funded
    # (the fund ran dry) never start
    rows, needed = _served(np.count_nonzero(court & np.isfinite(funded), axis=1), k)
    by_court = None if factor is None else (factor[0], *_by_column(rows, factor[1]))
    starts, ends = _fifo_servers(*_by_column(rows, take(funded, co), take(take(firm["court_time"], ow), co)),
                                 needed, np.full((int(court_capacity), n), -np.inf), by_court)
    starts, ends = _by_row(rows, starts), _by_row(rows, ends)
    court_start, court_end = np.full((n, k), np.inf), np.empty((n, k))
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
