"""The statistics every table shares: the normal quantile, the Wilson interval, outward rounding.

One home for each (issue 9): :func:`z_quantile` is :func:`scipy.stats.norm.ppf`;
:func:`wilson` is the Wilson score interval for a binomial proportion, in closed form so that it
takes arrays (``scipy.stats.binomtest(...).proportion_ci(method="wilson")`` gives the same
bounds for one count at a time, and the tests hold the two together); :func:`round_outward`
widens an interval to a number of decimals so that a rounded interval still covers the exact one.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["CONFIDENCE", "Z95", "round_outward", "wilson", "z_quantile", "z_upper"]

CONFIDENCE = 0.95  # of every Monte Carlo interval the model reports


def z_quantile(confidence: float = CONFIDENCE) -> float:
    """Standard normal quantile for a two-sided interval of ``confidence`` (1.95996... at 95 %)."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


def z_upper(tail: float) -> float:
    """Standard normal quantile with probability ``tail`` above it (``ppf(1 - tail)``)."""
    return float(stats.norm.ppf(1 - tail))


Z95 = z_quantile(CONFIDENCE)


def wilson(k, n, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes in ``n`` trials [share].

    Parameters
    ----------
    k, n : int or array of int
        Successes and trials (broadcast together).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (low, high) : float or arrays, within [0, 1]
    """
    z = z_quantile(confidence)
    k, n = np.asarray(k, float), np.asarray(n, float)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exactly 0 with no success and 1 with no failure (as scipy gives; the closed form leaves ~1e-19)
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def round_outward(low, high, decimals: int = 4):
    """``(low, high)`` rounded to ``decimals`` away from the interval's inside (NaN stays NaN)."""
    scale = 10.0**decimals
    return np.floor(np.asarray(low, float) * scale) / scale, np.ceil(np.asarray(high, float) * scale) / scale


def equal_weights(replications: int) -> np.ndarray:
    """Weights of a run without observations: 1 / replications each, float64 (replications,).

    A read-only view of one number (no memory per replication: a streamed run of millions keeps
    none)."""
    return np.broadcast_to(np.float64(1.0 / replications), (replications,))


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 of ``weights`` (0 when all are 0;
    :mod:`model.conditioning`)."""
    total = float(np.sum(weights))
    return 0.0 if total <= 0 else total * total / float(np.sum(np.square(weights)))


def share_interval(mask, weights=None) -> tuple[float, float, float]:
    """Share of replications where ``mask`` holds, with its Wilson interval.

    With ``weights`` (a conditioned run's, summing to 1) the weighted share, its interval on the
    :func:`effective_size`.
    """
    mask = np.asarray(mask, bool)
    if weights is None:
        k, n = int(mask.sum()), mask.size
    else:
        n = effective_size(weights)
        k = float(np.sum(weights * mask)) * n
    low, high = wilson(k, n)
    return k / n, float(low), float(high)
