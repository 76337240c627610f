"""Planned closures of the overcapacity plan: coal mines, 地条钢 furnaces, cement capacity.

No closure here competes for a shared resource in the model: each mine, furnace or cement unit
is closed by its own owner under its own order, and the acceptance inspections (四(二) 检查验收)
of a handful of mines or units are days of work against deadlines months away. So plain
vectorised numpy (items along columns, replications along rows) is the whole model; SimPy is
used only where work queues for teams (:mod:`model.processes.polluters`).

Per-item random numbers are drawn from child generators in shape ``(K, n)`` and transposed, so
item ``k``'s numbers depend neither on ``K`` (the largest count of a block) nor on any lever.
Times are decimal years (``model.timeline``); ``inf`` means never (padding).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.modules.sectors import SECTORS
from model.timeline import decimal_year


def per_item(rng: np.random.Generator, k: int, n: int, kinds: str,
             dtype: type = np.float64) -> list[np.ndarray]:
    """One ``(n, k)`` array per letter of ``kinds``: ``u`` uniform [0, 1), ``z`` standard
    normal, ``e`` standard exponential, in ``dtype`` (float32 halves the cost of large draws).

    Each array comes from its own child generator, drawn as ``(k, n)`` and transposed.
    """
    draw = {"u": lambda g: g.random((k, n), dtype=dtype),
            "z": lambda g: g.standard_normal((k, n), dtype=dtype),
            "e": lambda g: g.standard_exponential((k, n), dtype=dtype)}
    return [draw[c](g).T for g, c in zip(rng.spawn(len(kinds)), kinds)]


def amount_by(t: np.ndarray, instants: Sequence[float], weights: np.ndarray | None = None) -> np.ndarray:
    """Items (or their ``weights``) whose time ``t`` is at or before each instant.

    Parameters
    ----------
    t : numpy.ndarray
        ``(n, K)`` event times [decimal yr]; ``inf`` never happens.
    instants : sequence of float
        Instants [decimal yr], length ``T``, in any order.
    weights : numpy.ndarray, optional
        ``(n, K)`` amounts to add up instead of counting.

    Returns
    -------
    numpy.ndarray
        ``(n, T)`` cumulative counts (or sums), one column per instant.
    """
    if weights is None:  # a few passes of compare-and-count beat sorting into buckets
        return np.stack([np.count_nonzero(t <= x, axis=1) for x in np.asarray(instants, float)],
                        axis=1).astype(float)
    n, k = t.shape
    rows = np.broadcast_to(np.arange(n)[:, None], (n, k))
    return amount_at(rows, t, instants, n, weights)


def amount_at(rows: np.ndarray, t: np.ndarray, instants: Sequence[float], n: int,
              weights: np.ndarray | None = None) -> np.ndarray:
    """As :func:`amount_by` for events listed by replication: event ``i`` of replication
    ``rows[i]`` at time ``t[i]`` (arrays of one shape); returns ``(n, T)``."""
    at = np.asarray(instants, float)
    m, order = len(at), np.argsort(at, kind="stable")
    bucket = np.searchsorted(at[order], t, side="left")  # first sorted instant >= t; m: none
    cell = (rows * (m + 1) + bucket).ravel()
    per = np.bincount(cell, None if weights is None else np.ravel(weights), minlength=n * (m + 1))
    out = np.empty((n, m))
    out[:, order] = np.cumsum(per.reshape(n, m + 1)[:, :m], axis=1, dtype=float)
    return out


def planned_times(planned: np.ndarray, start: np.ndarray, u_slip: np.ndarray, u_time: np.ndarray,
                  z_delay: np.ndarray, slip_prob: np.ndarray, slip_median: np.ndarray,
                  spread: np.ndarray) -> np.ndarray:
    """Closure time of items with a planned date: on time, or late by an uncertain delay.

    An item slips when ``u_slip < slip_prob``; it then closes ``slip_median * exp(spread * z)``
    [yr] after its planned date. Otherwise it closes on time, at a uniform time ``u_time`` of its
    window ``[start, planned]``. All arrays broadcast to ``(n, K)``; per-replication parameters
    come as ``(n, 1)``. Never before ``start``; with ``slip_prob = 0`` never after ``planned``.
    """
    on_time = start + u_time * (planned - start)
    late = planned + slip_median * np.exp(spread * z_delay)
    return np.where(u_slip < slip_prob, late, on_time)


@dataclass(frozen=True)
class Mines:
    """Coal mines to close, ``(n, K)`` each: ``tranche`` 0 long-idle 2017 (due 2017-06-30),
    1 other 2017 (due 2017-10-31), 2 of 2018 (due 2018-12-31), -1 padding; ``planned`` and
    ``closed`` [decimal yr] (``inf`` for padding); ``count`` ``(n, 3)`` mines per tranche."""

    tranche: np.ndarray
    planned: np.ndarray
    closed: np.ndarray
    count: np.ndarray


#: Planned dates of the tranches [decimal yr]: end of 2017-06-30, 2017-10-31, 2018-12-31
#: (化解过剩产能方案 二(一) 时间节点), and the start of their windows (the year of their task).
TRANCHE_DUE = tuple(decimal_year(dt.date(*day)) for day in ((2017, 6, 30), (2017, 10, 31), (2018, 12, 31)))
TRANCHE_START = (2017.0, 2017.0, 2018.0)
#: Capacity to cut in 2017 and in 2018 [万吨] (二(一): 2017年压减120万吨, 2018年81万吨以上; 201 in all).
COAL_2017, COAL_2018 = 120.0, 81.0


def coal_mines(rng: np.random.Generator, mines_2017: np.ndarray, mines_2018: np.ndarray,
               idle_share: np.ndarray, slip_prob: np.ndarray, slip_median: np.ndarray,
               spread: np.ndarray) -> Mines:
    """Draw every mine's closure time.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the per-mine numbers.
    mines_2017, mines_2018 : numpy.ndarray
        ``(n,)`` mines closing in 2017 and in 2018 (whole numbers >= 1).
    idle_share : numpy.ndarray
        ``(n,)`` share of the 2017 mines that are long idle (due by end of June) [0-1].
    slip_prob : numpy.ndarray
        ``(n,)`` probability that a mine misses its planned date [0-1].
    slip_median, spread : numpy.ndarray
        ``(n,)`` median delay of a late mine [yr] and the sd of its log.
    """
    m17 = np.rint(np.asarray(mines_2017, float)).astype(np.int64)
    m18 = np.rint(np.asarray(mines_2018, float)).astype(np.int64)
    if m17.min(initial=1) < 1 or m18.min(initial=1) < 1:
        raise ValueError("coal mines per year must be at least 1")
    idle = np.rint(np.clip(idle_share, 0, 1) * m17).astype(np.int64)
    n, k = len(m17), max(1, int((m17 + m18).max(initial=1)))
    u_slip, u_time, z = per_item(rng, k, n, "uuz")
    idx = np.arange(k)[None, :]
    tranche = np.where(idx < idle[:, None], 0, np.where(idx < m17[:, None], 1, np.where(
        idx < (m17 + m18)[:, None], 2, -1)))
    due, start = np.array(TRANCHE_DUE + (np.inf,)), np.array(TRANCHE_START + (np.inf,))
    col = lambda a: np.asarray(a, float)[:, None]  # noqa: E731
    valid = tranche >= 0
    closed = planned_times(np.where(valid, due[tranche], 2019.0), np.where(valid, start[tranche], 2018.0),
                           u_slip, u_time, z, col(slip_prob), col(slip_median), col(spread))
    closed = np.where(valid, closed, np.inf)
    count = np.stack([idle, m17 - idle, m18], axis=1)
    return Mines(tranche, due[tranche], closed, count)


def coal_cut(mines: Mines, instants: Sequence[float]) -> np.ndarray:
    """Capacity closed at or before each instant [万吨], ``(n, len(instants))``.

    Every 2017 mine holds ``120 / mines_2017``, every 2018 mine ``81 / mines_2018`` (equal
    shares: the seed gives no mine list). Counting closed mines per year keeps the totals exact
    (all mines closed is exactly 120 and 201).
    """
    m17 = mines.count[:, :2].sum(axis=1).astype(float)
    m18 = mines.count[:, 2].astype(float)
    closed17 = amount_by(np.where(mines.tranche <= 1, mines.closed, np.inf), instants)
    closed18 = amount_by(np.where(mines.tranche == 2, mines.closed, np.inf), instants)
    return COAL_2017 * closed17 / m17[:, None] + COAL_2018 * closed18 / m18[:, None]


@dataclass(frozen=True)
class SurveyClosures:
    """Items found by a survey and closed afterwards, ``(n, K)``: ``found``, ``closed``
    [decimal yr] (``inf`` for padding), ``weight`` (capacity, 0 for padding); ``count`` ``(n,)``."""

    count: np.ndarray
    found: np.ndarray
    closed: np.ndarray
    weight: np.ndarray


def survey_closures(rng: np.random.Generator, count: np.ndarray, survey_start: float,
                    survey_done: np.ndarray, found_during_survey: bool, close_median: np.ndarray,
                    spread: np.ndarray, size_spread: np.ndarray | float = 0.0) -> SurveyClosures:
    """Items found by a survey, each closed an uncertain time after it is found.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the per-item numbers.
    count : numpy.ndarray
        ``(n,)`` items found (whole numbers >= 0).
    survey_start : float
        Start of the survey [decimal yr].
    survey_done : numpy.ndarray
        ``(n,)`` end of the survey [decimal yr].
    found_during_survey : bool
        True: each item is found at a uniform time of ``[survey_start, survey_done]`` and
        closed from then on (一经发现立即取缔); False: all are listed at ``survey_done``.
    close_median, spread : numpy.ndarray
        ``(n,)`` median time from finding to closure [yr] and the sd of its log.
    size_spread : numpy.ndarray or float
        sd of the log of an item's capacity (median 1); 0 gives equal items.
    """
    count = np.maximum(np.rint(np.asarray(count, float)), 0).astype(np.int64)
    n, k = len(count), max(1, int(count.max(initial=1)))
    u_found, z_close, z_size = per_item(rng, k, n, "uzz")
    valid = np.arange(k)[None, :] < count[:, None]
    done = np.asarray(survey_done, float)[:, None]
    found = survey_start + u_found * (done - survey_start) if found_during_survey else np.broadcast_to(done, (n, k))
    col = lambda a: np.asarray(a, float)[:, None] if np.ndim(a) else float(a)  # noqa: E731
    closed = found + col(close_median) * np.exp(col(spread) * z_close)
    weight = np.where(valid, np.exp(col(size_spread) * z_size), 0.0)
    return SurveyClosures(count, np.where(valid, found, np.inf), np.where(valid, closed, np.inf), weight)


def percent_closed(items: SurveyClosures, instants: Sequence[float], by_weight: bool) -> np.ndarray:
    """Share of the items (or of their capacity) closed at or before each instant [%].

    Computed as 100 minus the share still open, so "all closed" is exactly 100; with nothing
    found the share is 100 (nothing is left to close).
    """
    w = items.weight if by_weight else (items.weight > 0).astype(float)
    total = w.sum(axis=1)[:, None]
    open_ = total - amount_by(items.closed, instants, w)
    open_ = np.where(open_ < 1e-12 * np.maximum(total, 1e-300), 0.0, open_)
    return 100.0 * (1.0 - np.divide(open_, total, out=np.zeros_like(open_), where=total > 0))


def exit_shares(named: Mapping[str, Sequence[np.ndarray]], residual: Mapping[str, np.ndarray],
                multiplier: float, years: int, surge: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Share of each sector's 2016 value added closed by each year end, ``(n, years)`` [0-1].

    Parameters
    ----------
    named : mapping
        Sector -> list of ``(n, years)`` shares of the sector's 2016 value added closed by the
        named closures (coal mines, cement, coal power, 地条钢, small polluters).
    residual : mapping
        Sector -> ``(n,)`` residual yearly exit share from 2017 [1/yr].
    multiplier : float
        Lever ``residual_exit_multiplier``: scales the residual exits only (0 = none).
    years : int
        Year ends in the horizon; the first is the base year 2016.
    surge : numpy.ndarray, optional
        ``(n, years)`` factor on each year's residual exit (link ``macro_exits``: more plants
        give up in the economy's bad years); None keeps the same rate every year.

    Returns
    -------
    dict
        ``exit_share.<sector>``: ``1 - prod_j (1 - min(c_j, 1)) * (1 - min(m x, 0.95)) ** k``
        (``k`` years after 2016), which lies in [0, 1] and never falls when no ``c_j`` falls.
    """
    m = float(multiplier)
    k = np.arange(years, dtype=float)
    out = {}
    for sector in SECTORS:
        if surge is None:
            x = np.clip(np.asarray(residual[sector], float) * m, 0.0, 0.95)
            kept = (1.0 - x[:, None]) ** k
        else:  # yearly rates; column 0 (2016) closes nothing
            x = np.clip(np.asarray(residual[sector], float)[:, None] * m * surge, 0.0, 0.95)
            x[:, 0] = 0.0
            kept = np.cumprod(1.0 - x, axis=1)
        for c in named.get(sector, ()):
            kept = kept * (1.0 - np.clip(np.asarray(c, float), 0.0, 1.0))
        out[f"exit_share.{sector}"] = 1.0 - kept
    return out
