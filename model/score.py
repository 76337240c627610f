"""Scoring rules for a forecast against outcomes (issue 11 item 4): pure functions, no I/O.

Every score is negatively oriented (lower is better) and proper (Gneiting & Raftery 2007,
"Strictly proper scoring rules, prediction, and estimation", J. Amer. Statist. Assoc. 102:
359-378): a forecaster minimises the expected score by stating what they believe.

* **Brier score** of a likelihood p against an outcome o in {0, 1}: (p - o)^2; 0.25 is the score
  of always saying 50 % (:data:`BRIER_REFERENCE`).
* **Log score**: -ln p if met, -ln(1 - p) if missed. A likelihood estimated from N replications
  can be exactly 0 or 1, whose log score is infinite; p is clipped to [1/(2N), 1 - 1/(2N)]
  (:func:`clip_probability`, N the effective replications): a share of 0 of N is read as
  "below one in N", half a replication.
* **PIT** (probability integral transform): the forecast's cumulative probability at the outcome;
  over many figures, a calibrated forecast gives PITs spread uniformly on [0, 1].
* **CRPS** (continuous ranked probability score, in the figure's unit): for a forecast
  distribution F and outcome y, CRPS = E|X - y| - E|X - X'| / 2 with X, X' independent draws
  from F (G&R 2007 eq. 21, the "energy form"). For weighted replications x_i, w_i
  (:func:`sample_crps`) both expectations are exact sums, the second in O(N log N) by sorting:
  sum_ij w_i w_j |x_i - x_j| = 2 sum_k w_k x_k (C_{k-1} - (1 - C_k)), x sorted, C the
  cumulative weights. For a normal forecast (:func:`normal_crps`) the closed form
  sigma [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)], z = (y - mu) / sigma (G&R 2007 eq. 22).

A published figure is the model's value plus a normal measurement error of sd s (as
:mod:`model.conditioning` reads it), so the forecast of the *figure* is the mixture
sum_i w_i N(x_i, s^2): :func:`mixture_pit` and :func:`mixture_crps` score that forecast.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["BRIER_REFERENCE", "brier", "clip_probability", "log_score", "mixture_crps", "mixture_pit",
           "normal_crps", "sample_crps", "sample_pit"]

#: The Brier score of a likelihood of 50 % whatever happens: a forecast without skill or bias.
BRIER_REFERENCE = 0.25
#: Grid points per sd of the noise difference in :func:`mixture_crps` (with :data:`CELLS` its
#: binning error is about 1e-6 of the CRPS: tests/test_score.py holds it to the exact O(N^2) sum).
BINS = 32
#: At least this many grid points over the replications' range in :func:`mixture_crps` (when
#: the model's spread is far below the measurement sd, the kink of g at 0 needs a finer grid).
CELLS = 2048
#: Beyond this many sd the noise term of a pair of replications is below 1e-10 of the sd.
REACH = 7.0
_SQRT_PI = math.sqrt(math.pi)


def _weights(x: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Finite values and their weights renormalised to sum to 1 (NaN values dropped)."""
    x = np.asarray(x, float)
    w = np.full(x.shape, 1.0) if w is None else np.asarray(w, float)
    keep = np.isfinite(x) & (w > 0)
    x, w = x[keep], w[keep]
    total = w.sum()
    if total <= 0:
        raise ValueError("no replication with a finite value and a positive weight")
    return x, w / total


def brier(p, outcome):
    """Brier score (p - o)^2 of likelihood ``p`` [0-1] against ``outcome`` (1 met, 0 missed)."""
    return (np.asarray(p, float) - np.asarray(outcome, float)) ** 2


def clip_probability(p, n):
    """``p`` clipped to [1/(2n), 1 - 1/(2n)], ``n`` the (effective) replications behind it."""
    eps = 0.5 / np.asarray(n, float)
    return np.clip(np.asarray(p, float), eps, 1 - eps)


def log_score(p, outcome, n):
    """Log score -ln(p) if met, -ln(1 - p) if missed, of ``p`` clipped by :func:`clip_probability`
    [nats]."""
    q = clip_probability(p, n)
    return -np.log(np.where(np.asarray(outcome, float) > 0.5, q, 1 - q))


def sample_pit(x, w, y: float) -> float:
    """Weighted share of replications ``x`` below ``y``, ties counted half (the mid-PIT)."""
    x, w = _weights(x, w)
    return float(np.sum(w * (x < y)) + 0.5 * np.sum(w * (x == y)))


def mixture_pit(x, w, y: float, sd: float) -> float:
    """P(Y <= y) for Y ~ sum_i w_i N(x_i, sd^2): the PIT of a figure measured with error ``sd``."""
    x, w = _weights(x, w)
    return float(np.sum(w * stats.norm.cdf((y - x) / sd)))


def _pair_sum(x: np.ndarray, w: np.ndarray) -> float:
    """sum_ij w_i w_j |x_i - x_j| in O(N log N) (the module docstring)."""
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    below, above = cum - w, cum[-1] - cum
    return float(2.0 * np.sum(w * x * (below - above)))


def sample_crps(x, w, y: float) -> float:
    """CRPS of the weighted sample ``x`` (weights ``w``, None: equal) against ``y`` [unit of x].

    The energy form E|X - y| - E|X - X'| / 2 of the weighted empirical distribution (exactly
    its integral of (F(z) - 1{z >= y})^2 dz).
    """
    x, w = _weights(x, w)
    return float(np.sum(w * np.abs(x - y)) - 0.5 * _pair_sum(x, w))


def normal_crps(mu, sigma, y):
    """Closed-form CRPS of the normal N(``mu``, ``sigma``^2) against ``y`` [unit of y]."""
    z = (np.asarray(y, float) - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / _SQRT_PI)


def _abs_normal(mean, sd):
    """E|N(mean, sd^2)|."""
    u = mean / sd
    return mean * (2 * stats.norm.cdf(u) - 1) + 2 * sd * stats.norm.pdf(u)


def _smooth_pairs(x: np.ndarray, w: np.ndarray, tau: float) -> float:
    """sum_ij w_i w_j g(|x_i - x_j| / tau), g(u) = 2 phi(u) - 2 u Phi(-u) (so that
    E|d + tau Z| = |d| + tau g(|d| / tau)).

    g is smooth but for its kink at 0 and negligible beyond :data:`REACH`: the weights are
    binned linearly onto a grid of spacing h = min(tau / :data:`BINS`, range / :data:`CELLS`)
    and the sum taken over the grid's lags (autocorrelation by FFT): O(N + G log G) for G grid
    points. The error is of order (h / tau)^2 from the smooth part and h / tau times the weight
    of pairs closer than h from the kink.
    """
    span = float(x.max() - x.min())
    h = min(tau / BINS, span / CELLS) if span > 0 else tau / BINS
    pos = (x - x.min()) / h
    left = np.minimum(np.floor(pos).astype(np.int64), int(round(span / h)))
    frac = pos - left
    grid = np.zeros(int(left.max()) + 2)
    np.add.at(grid, left, w * (1 - frac))
    np.add.at(grid, left + 1, w * frac)
    lags = min(int(math.ceil(REACH * tau / h)), grid.size - 1)
    spectrum = np.fft.rfft(grid, 2 * grid.size)
    auto = np.fft.irfft(spectrum * np.conj(spectrum), 2 * grid.size)[: lags + 1]
    u = np.arange(lags + 1) * h / tau
    g = 2 * stats.norm.pdf(u) - 2 * u * stats.norm.cdf(-u)
    return float(g[0] * auto[0] + 2.0 * np.dot(g[1:], auto[1:]))


def mixture_crps(x, w, y: float, sd: float) -> float:
    """CRPS of Y ~ sum_i w_i N(x_i, sd^2) against ``y``: the forecast of a figure measured with
    normal error ``sd`` [unit of x].

    E|Y - y| = sum_i w_i E|N(x_i - y, sd^2)| in closed form; E|Y - Y'| = sum_ij w_i w_j
    E|x_i - x_j + sqrt(2) sd Z| = sum_ij w_i w_j |x_i - x_j| (sorting, :func:`sample_crps`) plus
    sqrt(2) sd sum_ij w_i w_j g(|x_i - x_j| / (sqrt(2) sd)) (binned: :func:`_smooth_pairs`,
    relative error about 1e-6). ``sd`` = 0 gives :func:`sample_crps`.
    """
    if sd <= 0:
        return sample_crps(x, w, y)
    x, w = _weights(x, w)
    tau = math.sqrt(2.0) * sd
    first = float(np.sum(w * _abs_normal(x - y, sd)))
    return first - 0.5 * (_pair_sum(x, w) + tau * _smooth_pairs(x, w, tau))
