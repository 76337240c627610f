"""Zombie-enterprise disposal (僵尸企业处置) as a queue: SimPy reference and vectorised twin.

Every identified firm passes three stages (DESIGN.md section 4):

1. a working team (专班) prepares its disposal: a ``simpy.Resource`` with ``teams`` slots, held
   for ``prep`` [yr]; firms are served in the order of work;
2. if the firm's workers need resettlement money (``cost > 0`` [万元]) it draws it from the fund,
   a ``simpy.Container`` holding an initial amount plus top-ups on given dates; requests are
   served strictly first come, first served (head of line: a large request blocks later ones);
3. a bankruptcy (route 3) needs a court slot (``simpy.Resource``, ``court_capacity``) held for
   ``court_time`` [yr]; the other routes take ``route_time`` [yr]. Then the firm is disposed.

All random inputs are drawn before any event loop (:func:`draw_inputs`, here), so the readable
reference :func:`model.processes.zombie_simpy.simulate_simpy_detail` (one ``simpy.Environment``
per replication) and the twin :func:`model.processes.zombie_twin.simulate_vectorised_detail` (a
loop over firms with arrays over replications) consume the same numbers and return the same
times. This module holds what both share: the inputs, their draws and checks, the result type.
Times are decimal years (``model.timeline``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from model.timeline import YEARS

#: Disposal routes, in the code used by ``ZombieInputs.route``; also the order of simplicity.
SHELL, DEBT, MERGER, COURT = 0, 1, 2, 3
ROUTES: tuple[str, ...] = ("shell", "debt", "merger", "court")
WORK_ORDERS: tuple[str, ...] = ("fifo", "simplest_first")
#: Fund top-ups arrive on 1 January of each model year unless told otherwise.
TOPUP_TIMES: tuple[float, ...] = tuple(float(y) for y in YEARS)


@dataclass(frozen=True)
class ZombieInputs:
    """Per-firm random inputs of ``n`` replications with room for ``K`` firms each.

    Firms ``0 .. count-1`` of a replication are real; the rest are padding and are ignored.
    ``count`` ``(n,)`` int: firms identified. The other fields are ``(n, K)``: ``arrival``, when
    the firm enters the work queue [decimal yr] (``inf`` for padding); ``route``, 0 shell closure
    空壳注销, 1 debt restructuring 债务重组, 2 merger or restructuring 兼并重组, 3 bankruptcy through
    the court 破产清算; ``prep``, working-team time [yr]; ``route_time``, time from funding to
    disposal for routes 0-2 [yr]; ``court_time``, court case duration for route 3 [yr];
    ``cost``, draw on the resettlement fund [万元] (0: no money needed); ``order``, a permutation
    of firm indices giving the order of work, padding last, with nondecreasing arrivals.
    """

    count: np.ndarray
    arrival: np.ndarray
    route: np.ndarray
    prep: np.ndarray
    route_time: np.ndarray
    court_time: np.ndarray
    cost: np.ndarray
    order: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """``(n, K)`` bool: the firm is real (not padding)."""
        return np.arange(self.arrival.shape[1])[None, :] < self.count[:, None]


@dataclass(frozen=True)
class FirmParams:
    """Per-replication parameters of the per-firm draws, each an array of shape ``(n,)``.

    Shares are in [0, 1]; durations are medians [yr] of per-firm lognormal times whose log has
    standard deviation ``spread``; ``cost_median`` [万元] and ``cost_spread`` likewise for costs.
    Routes: a shell with probability ``share_shell``; otherwise court with ``share_court``;
    otherwise merger with ``share_merger``, else debt restructuring. A non-shell firm needs
    money from the fund with probability ``share_fund``.
    """

    share_shell: np.ndarray
    share_court: np.ndarray
    share_merger: np.ndarray
    share_fund: np.ndarray
    prep_median: np.ndarray
    prep_median_shell: np.ndarray
    shell_median: np.ndarray
    debt_median: np.ndarray
    merger_median: np.ndarray
    court_median: np.ndarray
    spread: np.ndarray
    cost_median: np.ndarray
    cost_spread: np.ndarray


@dataclass(frozen=True)
class ZombieTimes:
    """Stage times ``(n, K)`` [decimal yr]: NaN for padding, ``inf`` for never reached."""

    team_done: np.ndarray  # working team finished; resettlement money requested
    funded: np.ndarray  # money granted (= team_done when no money is needed)
    done: np.ndarray  # firm disposed
    court_start: np.ndarray  # court took the case up (route 3; inf for the other routes)


@dataclass(frozen=True)
class Feedback:
    """Target-responsibility feedback on the queue: assessments that add teams and court priority.

    At each instant of ``times`` (increasing [decimal yr]) the share of firms disposed by then is
    measured (:func:`disposed_share`; a court case counts when it is accepted if
    ``when_accepted``, else when it ends) and ``respond(rows, shares)`` gives the response:
    ``rows`` (m,) replication indices, ``shares`` (m, J) [%] with NaN for assessments not made
    yet; it returns ``teams`` (m, J), whole numbers, the teams added in all by assessment ``j``
    (nondecreasing in ``j``, at most ``reserve``), and ``factor`` (m, J) in (0, 1], the factor on
    the court time of cases accepted after assessment ``j`` (and before the next). Its response
    to assessment ``j`` may depend on the shares of assessments ``0 .. j`` only. Added teams are
    free from their assessment on; nothing before the first assessment changes.
    """

    times: tuple[float, ...]
    reserve: np.ndarray  # (n,) int: most teams that can be added (the bound)
    respond: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    when_accepted: bool = False

    def check(self, n: int) -> None:
        """Raise ``ValueError`` when the assessment times or the reserve are unusable."""
        t = np.asarray(self.times, float)
        if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
            raise ValueError("feedback times must be finite, >= 0 and increasing")
        if np.shape(self.reserve) != (n,) or np.any(np.asarray(self.reserve) < 0):
            raise ValueError("feedback reserve must hold one whole number >= 0 per replication")

    def responses(self, rows: np.ndarray, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``respond`` with its promises checked: (teams (m, J) int, factor (m, J))."""
        teams, factor = self.respond(rows, shares)
        teams, factor = np.asarray(teams), np.asarray(factor, float)
        j = len(self.times)
        if teams.shape != (len(rows), j) or factor.shape != (len(rows), j):
            raise ValueError("feedback respond must return two arrays of shape (rows, assessments)")
        if np.any(teams != np.rint(teams)) or np.any(np.diff(teams, axis=1, prepend=0) < 0) \
                or np.any(teams > np.asarray(self.reserve)[rows][:, None]):
            raise ValueError("feedback teams must be whole, nondecreasing and at most the reserve")
        if np.any(~(factor > 0) | (factor > 1)):
            raise ValueError("feedback court factors must lie in (0, 1]")
        return teams.astype(np.int64), factor


def disposal(route: np.ndarray, done: np.ndarray, court_start: np.ndarray,
             when_accepted: bool) -> np.ndarray:
    """When each firm counts as disposed [decimal yr]: when its route ends, or a bankruptcy
    already when the court takes the case up (``when_accepted``)."""
    return np.where(route == COURT, court_start, done) if when_accepted else done


def disposed_share(disposed: np.ndarray, count: np.ndarray, t: float) -> np.ndarray:
    """Share of the ``count`` firms of each row disposed at or before ``t`` [%] (0 with none).

    ``disposed`` (m, K) [decimal yr], NaN for padding and ``inf`` for not yet disposed.
    """
    firms = (disposed <= t).sum(axis=1)
    count = np.asarray(count)
    return np.where(count > 0, 100.0 * firms / np.maximum(count, 1), 0.0)


def court_factor_at(start: np.ndarray, times: Sequence[float], factor: np.ndarray) -> np.ndarray:
    """Factor on the court time of cases accepted at ``start`` (m,): that of the last
    assessment strictly before ``start``, 1 before the first. ``factor`` (m, J)."""
    out = np.ones(np.shape(start))
    for j, t in enumerate(times):
        out = np.where(start > t, factor[:, j], out)
    return out


def work_order_index(
    arrival: np.ndarray, route: np.ndarray, cost: np.ndarray, count: np.ndarray, work_order: str
) -> np.ndarray:
    """Order of work: by arrival, then the lever's rule, then firm index; padding last.

    Parameters
    ----------
    arrival, route, cost : numpy.ndarray
        ``(n, K)`` as in :class:`ZombieInputs` ([decimal yr], code, [万元]).
    count : numpy.ndarray
        ``(n,)`` real firms per replication.
    work_order : str
        ``"fifo"``: firms that arrive together are taken in the order of the plan's list (their
        index); ``"simplest_first"``: by route (shell, debt, merger, court), then smallest cost.

    Returns
    -------
    numpy.ndarray
        ``(n, K)`` int permutation of firm indices.
    """
    n, k = arrival.shape
    index = np.broadcast_to(np.arange(k), (n, k))
    padded = index >= np.asarray(count)[:, None]
    if work_order == "fifo":
        keys: tuple[np.ndarray, ...] = (index, arrival, padded)
    elif work_order == "simplest_first":
        keys = (index, cost, route, arrival, padded)
    else:
        raise ValueError(f"work_order must be one of {WORK_ORDERS}, found {work_order!r}")
    return np.lexsort(keys, axis=-1)


#: Child generators :func:`draw_inputs` spawns from its ``rng`` (one per random array).
CHILDREN = 6


def draw_inputs(
    rng: np.random.Generator,
    count: np.ndarray,
    start: np.ndarray,
    params: FirmParams,
    work_order: str = "fifo",
    capacity: int | None = None,
) -> ZombieInputs:
    """Draw every firm's route, times and cost before any event loop.

    Each random array is drawn from its own child generator in shape ``(K, n)`` and transposed,
    so firm ``k``'s numbers depend neither on ``K`` nor on any lever (common random numbers).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the per-firm randomness.
    count : numpy.ndarray
        ``(n,)`` firms identified (whole numbers >= 0).
    start : numpy.ndarray
        ``(n,)`` time every firm enters the work queue (the disposal plan) [decimal yr].
    params : FirmParams
        Per-replication distribution parameters.
    work_order : str
        ``"fifo"`` or ``"simplest_first"`` (see :func:`work_order_index`).
    capacity : int, optional
        Firms per replication ``K``; default ``max(count)`` (at least 1).

    Returns
    -------
    ZombieInputs
    """
    count = np.asarray(count).astype(np.int64)
    n = count.shape[0]
    k = max(1, int(count.max(initial=0)) if capacity is None else int(capacity))
    if count.max(initial=0) > k or count.min(initial=0) < 0:
        raise ValueError(f"count must lie in [0, {k}]")
    u_route, u_fund, z_prep, z_route, z_court, z_cost = (
        g.random((k, n)).T if i < 2 else g.standard_normal((k, n)).T
        for i, g in enumerate(rng.spawn(CHILDREN))
    )
    p = {f.name: np.asarray(getattr(params, f.name), float)[:, None] for f in fields(params)}
    to_court = p["share_shell"] + (1 - p["share_shell"]) * p["share_court"]
    to_merger = to_court + (1 - to_court) * p["share_merger"]
    route = np.where(u_route < p["share_shell"], SHELL, np.where(
        u_route < to_court, COURT, np.where(u_route < to_merger, MERGER, DEBT)))
    shell = route == SHELL
    spread = p["spread"]
    prep = np.where(shell, p["prep_median_shell"], p["prep_median"]) * np.exp(spread * z_prep)
    medians = np.concatenate([p["shell_median"], p["debt_median"], p["merger_median"],
                              np.zeros_like(p["shell_median"])], axis=1)
    route_time = np.take_along_axis(medians, route, axis=1) * np.exp(spread * z_route)
    court_time = p["court_median"] * np.exp(spread * z_court)
    needs = ~shell & (u_fund < p["share_fund"])
    cost = np.where(needs, p["cost_median"] * np.exp(p["cost_spread"] * z_cost), 0.0)
    valid = np.arange(k)[None, :] < count[:, None]
    arrival = np.where(valid, np.asarray(start, float)[:, None], np.inf)
    order = work_order_index(arrival, route, cost, count, work_order)
    return ZombieInputs(count, arrival, route, prep, route_time, court_time, cost, order)


def check_inputs(inputs: ZombieInputs, teams: int, court_capacity: int, fund_initial: float,
           fund_topups: Sequence[float], topup_times: Sequence[float]) -> None:
    """Raise ``ValueError`` when the inputs break the assumptions both models rely on."""
    if int(teams) < 1 or int(court_capacity) < 1:
        raise ValueError("teams and court_capacity must be whole numbers >= 1")
    if len(fund_topups) != len(topup_times):
        raise ValueError("fund_topups and topup_times must have the same length")
    if fund_initial < 0 or np.any(np.asarray(fund_topups, float) < 0):
        raise ValueError("fund amounts must be >= 0")
    times = np.asarray(topup_times, float)
    if np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError("topup_times must be >= 0 and nondecreasing")
    valid, o = inputs.valid, inputs.order
    n, k = valid.shape
    flat = o + (np.arange(n) * k)[:, None]
    seen = np.zeros(n * k, bool)
    if o.shape != (n, k) or o.min(initial=0) < 0 or o.max(initial=0) >= k:
        raise ValueError("order must hold firm indices 0 .. K-1")
    seen[flat] = True
    if not seen.all():
        raise ValueError("order must be a permutation of firm indices in every replication")
    if np.any((o < inputs.count[:, None]) != valid):
        raise ValueError("order must put the real firms first and the padding last")
    arrival_w = np.where(valid, np.ascontiguousarray(inputs.arrival).reshape(-1)[flat], np.inf)
    if np.any(arrival_w[valid] < 0) or np.any(arrival_w[:, 1:] < arrival_w[:, :-1]):
        raise ValueError("arrivals must be >= 0 and nondecreasing in the order of work")
    for name in ("prep", "route_time", "court_time", "cost"):
        a = getattr(inputs, name)
        if np.any(valid & ~(np.isfinite(a) & (a >= 0))):
            raise ValueError(f"{name} must be finite and >= 0 for every real firm")


def topup_instants(topup_times: Sequence[float]) -> list[float]:
    """Times SimPy reaches after successive timeouts ``t - now`` from 0 (exact float twins)."""
    now, out = 0.0, []
    for t in topup_times:
        now = now + (float(t) - now)
        out.append(now)
    return out
