"""Small polluters (“小散乱污”): closure by inspection teams, then revival (死灰复燃).

Closure campaign (化解过剩产能方案 二(五)). All ``K`` listed firms (453) are known when the
campaign starts; joint enforcement teams (a ``simpy.Resource`` with ``teams`` slots) take them in
the order of the list, and each case (断水断电、清除设备、清除原料、吊销执照, the 四个到位) holds a
team for an uncertain time. Work competes for teams, so SimPy is the readable reference
(:func:`close_simpy`); :func:`close_vectorised` is its twin (a loop over firms, arrays over
replications) and gives identical times from the same pre-drawn service times.

Revival. A closed firm revives after an exponential time with yearly hazard
``h = hazard / (1 + deterrence * f)``, where ``f`` is the number of routine patrols a year
(强化常态化巡查监管: patrols deter restarts). Patrols sweep every closed firm at
``origin + j / f`` (``j = 0, 1, ...``) and find a revived firm with probability ``detect`` each;
a firm found is shut again for good (assumption, see ``overcapacity.toml``). No team limit acts
here, so the revival part is vectorised numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from model.processes.closures import amount_at


# ------------------------------------------------------------------ SimPy reference model
def _case(env: simpy.Environment, j: int, start: float, service: float, teams: simpy.Resource,
          out: list[float]):
    """One firm: waits for the campaign, then for a team, which closes it in ``service``."""
    yield env.timeout(start - env.now)
    with teams.request() as req:
        yield req
        yield env.timeout(service)
    out[j] = env.now


def close_simpy(service: np.ndarray, start: float, teams: int) -> np.ndarray:
    """Closure times of the listed firms, SimPy reference (one environment per replication).

    Parameters
    ----------
    service : numpy.ndarray
        ``(n, K)`` team time per case [yr], >= 0, in the order of the list.
    start : float
        Campaign start, when every case is ready [decimal yr], >= 0.
    teams : int
        Joint enforcement teams working at the same time [-], >= 1.

    Returns
    -------
    numpy.ndarray
        ``(n, K)`` closure times [decimal yr].
    """
    _check(service, start, teams)
    n, k = service.shape
    out = np.empty((n, k))
    for r in range(n):
        env = simpy.Environment()
        team = simpy.Resource(env, capacity=int(teams))
        done = [0.0] * k
        for j, s in enumerate(service[r].tolist()):
            env.process(_case(env, j, float(start), s, team, done))
        env.run()
        out[r] = done
    return out


# ---------------------------------------------------------------------- vectorised twin
def close_vectorised(service: np.ndarray, start: float, teams: int) -> np.ndarray:
    """Numpy twin of :func:`close_simpy`: same arguments, identical times.

    Case ``j`` (in list order) takes the team that frees first: it starts at
    ``max(start, earliest free time)`` and ends ``service`` later. The first ``teams`` cases
    start at ``start`` together. The teams' free times are kept sorted per replication, so the
    earliest is row 0 and a case's end replaces it by a sorted insertion (two elementwise
    passes, no ``argmin``); which of several equally early teams takes a case changes no time.
    """
    _check(service, start, teams)
    n, k = service.shape
    c = min(int(teams), k)
    cols = np.ascontiguousarray(service.T)  # (K, n): case j is row j
    out = np.empty((k, n))
    out[:c] = float(start) + cols[:c]
    if c < k:
        a = np.sort(out[:c], axis=0)  # (c, n) free times, sorted per replication
        b, tmp = np.empty_like(a), np.empty((c - 1, n))
    for j in range(c, k):  # every team is busy from ``start`` on, so no max() with it
        end = out[j]
        np.add(a[0], cols[j], out=end)
        if c == 1:
            a[0] = end
            continue
        # drop row 0 and insert ``end``: row i becomes min(a[i + 1], max(a[i], end))
        np.maximum(a[:-1], end, out=tmp)
        np.minimum(a[1:], tmp, out=b[:-1])
        np.maximum(a[-1], end, out=b[-1])
        a, b = b, a
    return np.ascontiguousarray(out.T)


def _check(service: np.ndarray, start: float, teams: int) -> None:
    if int(teams) < 1:
        raise ValueError(f"teams must be a whole number >= 1, found {teams}")
    if not np.isfinite(start) or start < 0:
        raise ValueError(f"start must be a finite time >= 0, found {start}")
    if np.any(~np.isfinite(service) | (service < 0)):
        raise ValueError("service times must be finite and >= 0")


# ---------------------------------------------------------------------------- revival
def _at(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``a[rows, cols]`` for a 2-D array, read through its memory layout (a flat ``take`` is
    several times faster than fancy indexing; the per-item draws are transposed views)."""
    if a.flags.c_contiguous:
        return a.reshape(-1).take(rows * a.shape[1] + cols)
    if a.flags.f_contiguous:
        return a.T.reshape(-1).take(cols * a.shape[0] + rows)
    return a[rows, cols]


@dataclass(frozen=True)
class Revival:
    """Firms that revive by the horizon, one entry each: replication ``rows``, firm index
    ``firm``, ``revived`` and ``reshut`` [decimal yr] (``reshut`` is ``inf`` when no patrol
    finds it, and equals ``revived`` when a patrol happens at that very instant); ``n``
    replications in all. Firms that revive later (or never) are not listed."""

    rows: np.ndarray
    firm: np.ndarray
    revived: np.ndarray
    reshut: np.ndarray
    n: int

    def counts(self, instants) -> tuple[np.ndarray, np.ndarray]:
        """Firms ever revived, and revived and not shut again, at each instant: ``(n, T)``
        each. Instants must not pass the horizon the revivals were worked out for."""
        ever = amount_at(self.rows, self.revived, instants, self.n)
        return ever, ever - amount_at(self.rows, self.reshut, instants, self.n)


def revival(closed: np.ndarray, e_revive: np.ndarray, u_detect: np.ndarray, hazard: np.ndarray,
            deterrence: np.ndarray, detect: np.ndarray, per_year: float, origin: float,
            until: float) -> Revival:
    """When closed firms revive (up to ``until``) and when patrols shut them again.

    Parameters
    ----------
    closed : numpy.ndarray
        ``(n, K)`` closure times [decimal yr].
    e_revive : numpy.ndarray
        ``(n, K)`` standard exponential draws (one per firm).
    u_detect : numpy.ndarray
        ``(n, K)`` uniform draws in [0, 1) (one per firm): which patrol finds it.
    hazard : numpy.ndarray
        ``(n,)`` yearly revival hazard without patrols [1/yr].
    deterrence : numpy.ndarray
        ``(n,)`` cut in the hazard per patrol a year [yr]: ``h = hazard / (1 + deterrence f)``.
    detect : numpy.ndarray
        ``(n,)`` probability that a patrol finds a revived firm [0-1].
    per_year : float
        Lever: patrols a year ``f`` [1/yr]; 0 means none (revived firms stay open).
    origin : float
        Time of the first patrol [decimal yr]; patrols follow every ``1 / f`` years.
    until : float
        Horizon [decimal yr]; only firms revived by then are worked out (most firms are not,
        so this saves nearly all the work).

    Returns
    -------
    Revival
    """
    f = float(per_year)
    if f < 0 or not np.isfinite(f):
        raise ValueError(f"patrols a year must be finite and >= 0, found {per_year}")
    n = closed.shape[0]
    h = np.asarray(hazard, float) / (1.0 + np.asarray(deterrence, float) * f)
    # revived = closed + e / h <= until needs e <= h * (until - closed) <= h * (until - min closed)
    bound = np.where(h > 0, h * (until - closed.min(axis=1, initial=np.inf)), -1.0)
    bound = np.nextafter(bound.astype(e_revive.dtype), np.inf)  # no upcast; rounded up: a superset
    flat = np.flatnonzero(np.ascontiguousarray(e_revive <= bound[:, None]))  # row-major order
    rows = flat // closed.shape[1]
    firm = flat - rows * closed.shape[1]
    revived = _at(closed, rows, firm) + _at(e_revive, rows, firm).astype(float) / h[rows]
    keep = revived <= until
    rows, firm, revived = rows[keep], firm[keep], revived[keep]
    if f == 0:
        return Revival(rows, firm, revived, np.full(revived.shape, np.inf), n)
    p = np.clip(np.asarray(detect, float), 0.0, 1.0)[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        # patrols missed before the one that finds it: geometric on {0, 1, ...} by inversion
        missed = np.where(p >= 1, 0.0, np.where(
            p > 0, np.floor(np.log1p(-_at(u_detect, rows, firm).astype(float)) / np.log1p(-p)), np.inf))
    first = origin + np.maximum(np.ceil((revived - origin) * f), 0.0) / f
    return Revival(rows, firm, revived, first + missed / f, n)
