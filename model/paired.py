"""Monte Carlo intervals for likelihoods and for paired differences of likelihoods.

Used by :mod:`model.compare`; see its docstring for why Newcombe's interval is used.
"""

from __future__ import annotations

import numpy as np

from .stats import CONFIDENCE, wilson, z_quantile

__all__ = ["paired_change", "paired_interval", "weighted_paired_change"]


def paired_interval(both, only_ref, only_new, neither, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10) for p_new - p_ref from paired outcomes.

    Parameters
    ----------
    both, only_ref, only_new, neither : int or array of int
        Counts of replications [-] where both scenarios met the target, only the reference,
        only the new scenario, neither.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (low, high) : arrays
        Bounds for the difference in likelihood p_new - p_ref [share], within [-1, 1].
    """
    a, b, c, d = (np.asarray(x, float) for x in (both, only_new, only_ref, neither))
    # rows: new scenario met / not; columns: reference met / not  ->  [[a, b], [c, d]]
    n = a + b + c + d
    p_new, p_ref = (a + b) / n, (a + c) / n
    l_new, u_new = wilson(a + b, n, confidence)
    l_ref, u_ref = wilson(a + c, n, confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    with np.errstate(divide="ignore", invalid="ignore"):
        shrunk = np.where(cross > n / 2, cross - n / 2, np.where(cross >= 0, 0.0, cross))
        phi = np.where(margins > 0, shrunk / np.sqrt(np.where(margins > 0, margins, 1.0)), 0.0)
    dn, un = p_new - l_new, u_new - p_new
    dr, ur = p_ref - l_ref, u_ref - p_ref
    diff = p_new - p_ref
    low = diff - np.sqrt(np.maximum(dn**2 + ur**2 - 2 * phi * dn * ur, 0.0))
    high = diff + np.sqrt(np.maximum(dr**2 + un**2 - 2 * phi * dr * un, 0.0))
    return np.maximum(low, -1.0), np.minimum(high, 1.0)


def weighted_paired_change(ref: np.ndarray, new: np.ndarray, w_ref: np.ndarray, w_new: np.ndarray,
                           confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change in likelihood ``p_new - p_ref`` of conditioned runs, with a normal interval.

    Each likelihood is a self-normalised importance-sampling estimate ``p = sum(w * met)`` over
    the same replications (weights summing to 1; each scenario has its own weights, since each
    gives the observed figures its own likelihood). The delta-method variance of such an estimate
    is ``sum(w**2 * (met - p)**2)`` (Owen, *Monte Carlo theory, methods and examples*, 2013,
    section 9.2); for the paired difference the two terms are subtracted replication by
    replication, so what the scenarios share cancels as common random numbers should.

    Parameters
    ----------
    ref, new : ndarray of bool, shape (n, targets)
        Met flags of the two runs, the same replications in the same order.
    w_ref, w_new : ndarray, shape (n,)
        Their weights.

    Returns
    -------
    (change, low, high) : arrays of shape (targets,)
    """
    a, b = ref.astype(float), new.astype(float)
    w_a, w_b = np.asarray(w_ref, float)[:, None], np.asarray(w_new, float)[:, None]
    p_a, p_b = (w_a * a).sum(axis=0), (w_b * b).sum(axis=0)
    variance = np.sum(np.square(w_b * (b - p_b) - w_a * (a - p_a)), axis=0)
    half = z_quantile(confidence) * np.sqrt(variance)
    change = p_b - p_a
    return change, np.clip(change - half, -1.0, 1.0), np.clip(change + half, -1.0, 1.0)


def paired_change(ref: np.ndarray, new: np.ndarray, w_ref: np.ndarray | None = None, w_new: np.ndarray | None = None,
                  confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change in likelihood ``p_new - p_ref`` of paired met flags, with its interval.

    ``ref``, ``new``: bool ``(n, targets)``, the same replications in the same order. Without
    weights, Newcombe's interval from the four counts (:func:`paired_interval`); with the runs'
    weights (conditioned runs), :func:`weighted_paired_change`.
    """
    ref, new = np.asarray(ref, bool), np.asarray(new, bool)
    if w_ref is not None or w_new is not None:
        equal = np.full(ref.shape[0], 1.0 / ref.shape[0])
        change, low, high = weighted_paired_change(ref, new, equal if w_ref is None else w_ref,
                                                   equal if w_new is None else w_new, confidence)
    else:
        counts = [np.sum(ref & new, axis=0), np.sum(ref & ~new, axis=0), np.sum(~ref & new, axis=0),
                  np.sum(~ref & ~new, axis=0)]
        change = (counts[2] - counts[1]) / ref.shape[0]
        low, high = paired_interval(*counts, confidence=confidence)
    return change, low, high
