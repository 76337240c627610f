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
    disposed_share,
    topup_instants,
)


def _fifo_servers(arrival: np.ndarray, service: np.ndarray, needed: np.ndarray, free: np.ndarray,
                  factor: tuple[Sequence[float], np.ndarray] | None = None,
                  until: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """First-come queue on the slots ``free``; positions along axis 0, replications along axis 1.

    ``arrival``, ``service`` (K, n) [yr], arrivals nondecreasing along axis 0. Position ``j``
    is served in the first ``needed[j]`` replications (``needed`` nonincreasing: sort the
    replications first) and takes the slot that frees first: start = ``max(arrival, earliest
    free)``, end = start + service. ``free`` (S, n): when each slot is free (``-inf``: from the
    start, ``inf``: never). ``factor`` = (times, factors (J, n)) multiplies the service of a
    position that starts after ``times[j]`` by ``factors[j]`` (as :func:`zombie.court_factor_at`).
    Returns start and end (K, n), ``inf`` where not served. With ``until`` the queue stops
    once every replication's next start is later (starts never fall along axis 0): the ends
    of what starts after ``until`` are left ``inf``.

    The first positions take the slots free from the start, so they start on arrival (no loop).
    Then the slots are kept sorted per replication: the earliest is row 0, and an end replaces
    it by a sorted insertion (two elementwise passes) instead of an ``argmin`` and a scatter;
    which of several equally early slots is taken never changes a time.
    """
    k, n = arrival.shape
    start, end = np.full((k, n), np.inf), np.full((k, n), np.inf)

    def serve(s: np.ndarray, service: np.ndarray, e: np.ndarray) -> None:  # e = s + service * factor
        if factor is None:
            np.add(s, service, out=e)
            return
        f = np.ones(s.shape)
        for t, fj in zip(factor[0], factor[1]):
            np.copyto(f, fj[: s.shape[-1]], where=s > t)
        np.multiply(service, f, out=e)
        np.add(s, e, out=e)

    a = np.sort(free, axis=0)
    m = min(k, int(np.argmin(np.append(np.all(a == -np.inf, axis=1), False))))  # slots free from the start
    if m:
        start[:m] = arrival[:m]
        serve(start[:m], service[:m], end[:m])
        unserved = np.arange(n)[None, :] >= needed[:m, None]
        start[:m][unserved] = end[:m][unserved] = np.inf
        a = np.sort(np.concatenate([end[:m], a[m:]]), axis=0)
    b, tmp = np.empty_like(a), np.empty((a.shape[0] - 1, n))
    times, factors = factor if factor is not None else ((), ())
    f, later = np.empty(n), np.empty(n, bool)
    r = n + 1
    for j in range(m, k):
        if needed[j] != r:  # views on the replications still served
            r = int(needed[j])
            if r == 0:
                break
            va, vb = (a[0, :r], a[:-1, :r], a[1:, :r], a[-1, :r]), (b[0, :r], b[:-1, :r], b[1:, :r], b[-1, :r])
            vt, vf, vl, vfac = tmp[:, :r], f[:r], later[:r], [fj[:r] for fj in factors]
        s, e = start[j, :r], end[j, :r]
        np.maximum(arrival[j, :r], va[0], out=s)
        if until is not None and np.minimum.reduce(s) > until:
            break
        if factor is None:
            np.add(s, service[j, :r], out=e)
        else:  # as serve(), on buffers
            vf.fill(1.0)
            for t, fj in zip(times, vfac):
                np.greater(s, t, out=vl)
                np.copyto(vf, fj, where=vl)
            np.multiply(service[j, :r], vf, out=e)
            np.add(s, e, out=e)
        # drop the earliest (row 0) and insert e: row i becomes min(a[i + 1], max(a[i], e))
        np.maximum(va[1], e, out=vt)
        np.minimum(va[2], vt, out=vb[1])
        np.maximum(va[3], e, out=vb[3])
        va, vb, a, b = vb, va, b, a
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


def _prepare(inputs: ZombieInputs, rows: np.ndarray) -> dict[str, np.ndarray]:
    """What every run of the queue on the replications ``rows`` shares: their firms in the
    order of work, trimmed to their largest count (``(m, K)`` each), and the team queue's
    positions by column."""
    count = inputs.count[rows]
    k = max(1, int(count.max(initial=0)))
    pos = np.arange(k)[None, :]
    valid = pos < count[:, None]  # in work order: a prefix
    order = np.where(valid, inputs.order[rows, :k], pos)
    g = {f: np.take_along_axis(getattr(inputs, f)[rows, :k], order, axis=1) for f in
         ("arrival", "prep", "route", "route_time", "court_time", "cost")}
    team_rows, team_needed = _served(count, k)
    arrival_t, prep_t = _by_column(team_rows, g.pop("arrival"), g.pop("prep"))
    g.update(rows=rows, count=count, order=order, valid=valid, need=valid & (g["cost"] > 0),
             court=valid & (g.pop("route") == COURT), team_rows=team_rows, team_needed=team_needed,
             arrival_t=arrival_t, prep_t=prep_t)
    return g


def _run(g: dict[str, np.ndarray], teams: int, court_capacity: int, fund_initial: float,
         fund_topups: Sequence[float], topup_times: Sequence[float],
         free: np.ndarray | None = None, factor: tuple[Sequence[float], np.ndarray] | None = None,
         until: float | None = None) -> tuple[np.ndarray, ...]:
    """One run of the twin on a prepared group (:func:`_prepare`): team_done, funded, done,
    court_start ``(m, K)`` in the order of work. ``free`` (m, extra) adds team slots free from
    the given times, ``factor`` = (times, factors (m, J)) the court-time factors (both from
    the feedback). With ``until`` only what happens by then is exact (later times: ``inf``)."""
    valid, need, court = g["valid"], g["need"], g["court"]
    n, k = valid.shape
    base = (np.arange(n) * k)[:, None]
    def take(a, flat):
        return a.reshape(-1)[flat]  # a: C-contiguous (n, K)
    rows = g["team_rows"]
    slots = np.full((int(teams), n), -np.inf)
    slots = slots if free is None else np.concatenate([slots, *_by_column(rows, free)])
    _, team = _fifo_servers(g["arrival_t"], g["prep_t"], g["team_needed"], slots, until=until)
    team = _by_row(rows, team)
    fo = np.argsort(np.where(need, team, np.inf), axis=1, kind="stable") + base
    need_f = take(need, fo)
    grant_f = _fund_grants(np.where(need_f, take(team, fo), np.inf),
                           np.where(need_f, take(g["cost"], fo), 0.0),
                           fund_initial, fund_topups, topup_times)
    funded = team.copy()
    funded.reshape(-1)[fo[need_f]] = grant_f[need_f]
    ready_f = take(np.where(court, funded, np.inf), fo)
    co = take(fo, np.argsort(ready_f, axis=1, kind="stable") + base)  # ties: fund order
    # the court: the funded bankruptcies come first in court order; those never funded
    # (the fund ran dry) never start
    rows, needed = _served(np.count_nonzero(court & np.isfinite(funded), axis=1), k)
    by_court = None if factor is None else (factor[0], *_by_column(rows, factor[1]))
    starts, ends = _fifo_servers(*_by_column(rows, take(funded, co), take(g["court_time"], co)),
                                 needed, np.full((int(court_capacity), n), -np.inf), by_court, until)
    starts, ends = _by_row(rows, starts), _by_row(rows, ends)
    court_start, court_end = np.full((n, k), np.inf), np.empty((n, k))
    court_end.reshape(-1)[co] = ends
    court_start.reshape(-1)[co[take(court, co)]] = starts[take(court, co)]
    done = np.where(court, court_end, funded + g["route_time"])
    return team, funded, done, court_start


def _reserve_free(teams: np.ndarray, times: Sequence[float]) -> np.ndarray:
    """Free-from times (n, most teams added) of the added team slots: slot ``s`` from the first
    assessment whose cumulative ``teams`` (n, J) exceeds ``s``, never (``inf``) if none does."""
    slots = np.arange(int(teams.max(initial=0)))
    free = np.full((teams.shape[0], slots.size), np.inf)
    for j in reversed(range(len(times))):
        free = np.where(slots[None, :] < teams[:, j : j + 1], times[j], free)
    return free


def _feedback_args(g: dict[str, np.ndarray], teams: np.ndarray, factor: np.ndarray,
                   times: Sequence[float]) -> dict:
    """The feedback's response on a prepared group as :func:`_run` takes it."""
    rows = g["rows"]
    f = factor[rows]
    return {"free": _reserve_free(teams[rows], times),  # factor 1 everywhere: the plain loop
            "factor": None if np.all(f == 1.0) else (tuple(times), f)}


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
    carries every response. The runs for an assessment stop at its instant: nothing that
    starts later (team, fund or court queues are first come, first served) changes what is
    disposed by then.
    """
    check_inputs(inputs, teams, court_capacity, fund_initial, fund_topups, topup_times)
    args = (teams, court_capacity, fund_initial, fund_topups, topup_times)
    groups = [_prepare(inputs, rows) for rows in _row_groups(inputs.count)]
    n, k = inputs.arrival.shape
    if feedback is None:
        runs = [_run(g, *args) for g in groups]
    else:
        feedback.check(n)
        times = feedback.times
        shares = np.full((n, len(times)), np.nan)
        added, factor = np.zeros((n, len(times)), np.int64), np.ones((n, len(times)))
        for j, t in enumerate(times):
            for g in groups:
                _, _, done, court_start = _run(g, *args, **_feedback_args(g, added, factor, times), until=t)
                disposed = np.where(g["court"], court_start, done) if feedback.when_accepted else done
                shares[g["rows"], j] = disposed_share(np.where(g["valid"], disposed, np.nan), g["count"], t)
            added, factor = feedback.responses(np.arange(n), shares)
        runs = [_run(g, *args, **_feedback_args(g, added, factor, times)) for g in groups]
    out = [np.full((n, k), np.nan) for _ in range(4)]
    for g, run in zip(groups, runs):  # back from the order of work to the firms
        rows, valid, kg = g["rows"], g["valid"], g["valid"].shape[1]
        for o, t in zip(out, run):
            by_firm = np.full(valid.shape, np.nan)
            np.put_along_axis(by_firm, g["order"], np.where(valid, t, np.nan), axis=1)
            o[rows, :kg] = by_firm
    return ZombieTimes(*out)
