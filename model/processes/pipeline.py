"""The count pipeline shared by every countable target (DESIGN.md section 4).

Green factories, smart-factory demonstrations, high-tech enterprises, innovation teams and the
like are all counted the same way: candidates apply, some are approved, an award is counted
after a lag, and certificates may lapse unless renewed. Two forms:

* :func:`candidate_pipeline`: a closed pool of candidates (the firms that could qualify). Each
  year every remaining candidate applies with probability ``a_t`` and is approved with
  probability ``b_t``, independently, so the approvals of year ``t`` are
  ``Binomial(remaining, a_t * b_t)``. Awards are counted ``lag`` years after the application.
  With ``validity`` set, an award made in year ``s`` comes up for renewal in year ``s +
  validity``; it is renewed with probability ``r`` and otherwise lapses, and the firm rejoins the
  pool (it may apply again in the same year, like any candidate). With ``inflow`` set, new
  candidates join the pool at the start of each year (firms that newly meet the criteria).
* :func:`open_pipeline`: an open pool (teams brought in, platforms set up): approved applications
  arrive as a Poisson process, ``Poisson(rate_t * approve_t)`` a year (a thinned Poisson
  process is Poisson). Awards never lapse.

Years are those of :data:`model.timeline.YEARS`; column 0 (2016) is the base year: nothing is
awarded in it and the holders at its end are ``initial``.

Common random numbers: every count is drawn by inverse transform from uniforms of a shape that
depends only on ``n`` and the number of years, so a higher probability or rate (a bigger reward)
never gives a smaller count for the same generator state, and two scenarios that differ only in
levers share their random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from model.timeline import YEARS

_Y = len(YEARS)


@dataclass(frozen=True)
class PipelineCounts:
    """Counts per replication and year, each a float array ``(n, len(YEARS))`` [count]."""

    new: np.ndarray  #: first awards in each year (renewals not included)
    renewed: np.ndarray  #: certificates renewed in each year
    expired: np.ndarray  #: certificates lapsed (not renewed) in each year
    active: np.ndarray  #: holders with a valid award at each year end, initial holders included
    cumulative: np.ndarray  #: first awards since the start of 2017 (running sum of ``new``)


def raise_odds(base, factor):
    """A probability with its odds multiplied by ``factor``.

    Parameters
    ----------
    base : array_like
        Probability without the push [0-1].
    factor : array_like
        Odds multiplier [-], ``>= 0``; 1 leaves ``base`` unchanged, larger raises it.

    Returns
    -------
    numpy.ndarray
        ``base * factor / (1 - base + base * factor)``, in [0, 1] and nondecreasing in ``factor``.
    """
    base = np.asarray(base, float)
    factor = np.asarray(factor, float)
    num = base * factor
    den = 1.0 - base + num
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(den > 0, out, 1.0)  # den = 0 only when base = 1 and factor = 0: stays certain


def _yearly(x, n: int) -> np.ndarray:
    """``(n,)`` or ``(n, Y)`` or scalar -> ``(n, Y)`` float array."""
    x = np.asarray(x, float)
    if x.ndim == 2:
        if x.shape != (n, _Y):
            raise ValueError(f"expected shape ({n}, {_Y}), found {x.shape}")
        return x
    return np.broadcast_to(x.reshape(-1, 1) if x.ndim == 1 else x, (n, _Y))


def _per_rep(x, n: int, dtype=float) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype), (n,))


def binomial_inverse(u: np.ndarray, trials: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial counts by inverse transform: nondecreasing in ``p``, ``trials`` and ``u``.

    The smallest ``k`` with ``CDF(k) >= u``, found by summing the probabilities term by term
    over all replications at once (several times faster than ``scipy.stats.binom.ppf`` for the
    pools of tens of firms used here). For ``p > 1/2`` the count is taken from the failures,
    ``n - K`` with ``K ~ Binomial(n, 1 - p)``, so that ``(1 - p) ** n`` cannot underflow; pools
    above 1000 go to scipy.
    """
    u, trials, p = np.broadcast_arrays(np.asarray(u, float), np.maximum(np.asarray(trials, float), 0.0),
                                       np.clip(np.asarray(p, float), 0.0, 1.0))
    flip = p > 0.5
    q = np.where(flip, 1.0 - p, p)  # success probability of the count summed up, <= 1/2
    big = trials > 1000
    n = np.where(big, 0.0, trials)
    # count(v) = number of j >= 0 with CDF_q(j) < v  (for no flip: the inverse at v = u)
    # with flip: K = n - X; P(X <= k) >= u  <=>  CDF_q(n - k - 1) <= 1 - u, so
    #   X = n - #{j : CDF_q(j) <= 1 - u}; ties have probability zero and are ignored.
    # with flip the test is CDF <= v, i.e. CDF < nextafter(v, inf) for floats: one comparison
    v = np.where(flip, np.nextafter(1.0 - u, np.inf), u)
    ratio = np.divide(q, 1.0 - q, out=np.zeros_like(q), where=q < 1.0)
    term = (1.0 - q) ** n
    cdf = term.copy()
    below = cdf < v
    below &= n > 0
    count = below.astype(float)
    j = 0
    limit = int(n.max(initial=0.0))
    while j < limit and below.any():
        term = term * (n - j) / (j + 1) * ratio
        j += 1
        cdf += term
        below &= cdf < v
        count += below
    # a pool of n has no terms past j = n: capping the count at ceil(n) is the same as stopping
    # each element's sum there (and saves a test per term); fmin keeps the 0 of a NaN pool
    count = np.fmin(count, np.ceil(n))
    k = np.where(flip, n - count, count)
    if big.any():
        k[big] = stats.binom.ppf(u[big], trials[big], p[big])
    return np.maximum(k, 0.0)


def poisson_inverse(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson counts by inverse transform (smallest ``k`` with ``CDF(k) >= u``).

    Sums the probabilities term by term over all replications at once (much faster than
    ``scipy.stats.poisson.ppf`` for the small means used here); means above 500 go to scipy.
    """
    u = np.asarray(u, float)
    mean = np.broadcast_to(np.maximum(np.asarray(mean, float), 0.0), u.shape)
    big = mean > 500.0
    m = np.where(big, 0.0, mean)
    term = np.exp(-m)
    cdf = term.copy()
    k = np.zeros(u.shape)
    todo = (u > cdf) & ~big
    i = 0
    limit = float(m.max(initial=0.0)) + 40.0 * np.sqrt(float(m.max(initial=0.0))) + 50.0
    while todo.any() and i < limit:
        i += 1
        term = term * m / i
        cdf += term
        k += todo
        todo &= u > cdf
    if big.any():
        k[big] = stats.poisson.ppf(u[big], mean[big])
    return k


def _initial_due(initial: np.ndarray, validity: int | None) -> np.ndarray:
    """Certificates of the holders at the end of 2016 coming up for renewal in each year,
    ``(n, years + validity + 1)``: spread evenly over the next ``validity`` years (none without
    a validity)."""
    due = np.zeros((initial.shape[0], _Y + (validity or 0) + 1))
    if validity:
        base, extra = np.divmod(initial, validity)
        for j in range(1, validity + 1):
            due[:, j] += base + (extra >= j)
    return due


def candidate_pipeline(rng: np.random.Generator, *, pool, apply_prob, approve_prob, lag=0,
                       initial=0, validity: int | None = None, renewal_prob=1.0,
                       inflow=0.0) -> PipelineCounts:
    """Awards from a closed pool of candidates, 2017 to the end of the horizon.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws two uniform arrays ``(n, len(YEARS))`` (applications, then renewals), always.
    pool : array_like (n,)
        Candidates not holding the award at the start of 2017 [count]; rounded to whole firms.
    apply_prob, approve_prob : array_like (n,) or (n, len(YEARS))
        Probability that a remaining candidate applies in a year, and that an application is
        approved [0-1]; column 0 (2016) is unused.
    lag : int or array_like of int (n,)
        Years from the application to the award being counted (0 = the same year); awards that
        would land after the horizon are not counted.
    initial : array_like (n,)
        Holders at the end of 2016 [count]. With ``validity`` set their certificates come up for
        renewal evenly over the first ``validity`` years of the plan (*assumption*: awards before
        2017 were spread evenly over the years before; the remainder of an uneven split comes up
        first).
    validity : int, optional
        Years a certificate is valid (high-tech enterprise status: 3); ``None``: never lapses.
    renewal_prob : array_like (n,)
        Probability that a holder renews when the certificate runs out [0-1]; a holder that
        lapses rejoins the pool and may apply again in the same year.
    inflow : array_like (n,) or (n, len(YEARS))
        Candidates joining the pool at the start of each year, before that year's applications
        [count/yr], ``>= 0``; the running total is rounded to whole firms (1.5 a year joins 2, 1,
        2, 1 ...: no firm is lost to rounding); column 0 (2016) is unused. 0 (the default)
        leaves the pool closed and the results unchanged (no extra random numbers are drawn).

    Returns
    -------
    PipelineCounts
    """
    pool = np.rint(np.asarray(pool, float))
    n = pool.shape[0]
    rate = _yearly(apply_prob, n) * _yearly(approve_prob, n)
    lag = _per_rep(lag, n, int)
    initial = np.rint(_per_rep(initial, n))
    renewal = _per_rep(renewal_prob, n)
    flow = np.maximum(_yearly(inflow, n), 0.0).copy()
    flow[:, 0] = 0.0
    joining = np.diff(np.rint(np.cumsum(flow, axis=1)), axis=1, prepend=0.0)  # whole firms, sum kept
    u_apply = rng.random((n, _Y))
    u_renew = rng.random((n, _Y))

    due = _initial_due(initial, validity)  # certificates coming up for renewal in each year
    new = np.zeros((n, _Y))
    renewed = np.zeros((n, _Y))
    expired = np.zeros((n, _Y))
    active = np.zeros((n, _Y))
    active[:, 0] = initial
    remaining = pool.copy()
    rows = np.arange(n)
    for t in range(1, _Y):
        if validity:
            kept = binomial_inverse(u_renew[:, t], due[:, t], renewal)
            renewed[:, t] = kept
            expired[:, t] = due[:, t] - kept
            due[:, t + validity] += kept
            remaining += expired[:, t]  # a lapsed holder may re-apply at once (recertification)
        remaining += joining[:, t]  # firms that newly meet the criteria join the pool
        awarded = binomial_inverse(u_apply[:, t], remaining, rate[:, t])
        remaining -= awarded
        when = t + lag
        inside = when < _Y
        new[rows[inside], when[inside]] += awarded[inside]
        if validity:
            due[rows[inside], when[inside] + validity] += awarded[inside]
        # new[:, t] is final here: awards landing in year t came from applications in t or before
        active[:, t] = active[:, t - 1] + new[:, t] - expired[:, t]
    return PipelineCounts(new, renewed, expired, active, np.cumsum(new, axis=1))


def open_pipeline(rng: np.random.Generator, *, rate, approve_prob=1.0, lag=0, initial=0) -> PipelineCounts:
    """Awards from an open pool: approved applications arrive as a Poisson process.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws one uniform array ``(n, len(YEARS))``, always.
    rate : array_like (n,) or (n, len(YEARS))
        Expected applications a year [1/yr]; column 0 (2016) is unused.
    approve_prob : array_like (n,) or (n, len(YEARS))
        Probability an application is approved [0-1].
    lag : int or array_like of int (n,)
        Years from application to award (awards after the horizon are not counted).
    initial : array_like (n,)
        Holders at the end of 2016 [count].

    Returns
    -------
    PipelineCounts
        ``renewed`` and ``expired`` are zero: these awards do not lapse.
    """
    rate = np.asarray(rate, float)
    if rate.ndim == 0:
        raise ValueError("rate must be an array with one value (or one row) per replication")
    n = rate.shape[0]
    mean = _yearly(rate, n)
    mean = mean * _yearly(approve_prob, n)
    lag = _per_rep(lag, n, int)
    u = rng.random((n, _Y))
    arrivals = poisson_inverse(u[:, 1:], mean[:, 1:])
    new = np.zeros((n, _Y))
    rows = np.arange(n)
    for t in range(1, _Y):
        when = t + lag
        inside = when < _Y
        new[rows[inside], when[inside]] += arrivals[inside, t - 1]
    cumulative = np.cumsum(new, axis=1)
    zeros = np.zeros((n, _Y))
    active = np.rint(_per_rep(initial, n))[:, None] + cumulative
    return PipelineCounts(new, zeros, zeros.copy(), active, cumulative)
