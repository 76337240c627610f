"""Monte Carlo intervals for likelihoods and for paired differences of likelihoods.

Used by :mod:`model.compare`; see its docstring for why Newcombe's interval is used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Z95", "paired_interval", "wilson_bounds"]

Z95 = 1.959963984540054  # standard normal 0.975 quantile


def wilson_bounds(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes in ``n`` trials (vectorised, closed form)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def paired_interval(both, only_ref, only_new, neither, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10) for p_new - p_ref from paired outcomes.

    Parameters
    ----------
    both, only_ref, only_new, neither : int or array of int
        Counts of replications [-] where both scenarios met the target, only the reference,
        only the new scenario, neither.
    z : float
        Normal quantile (1.96 for 95 %).

    Returns
    -------
    (low, high) : arrays
        Bounds for the difference in likelihood p_new - p_ref [share], within [-1, 1].
    """
    a, b, c, d = (np.asarray(x, float) for x in (both, only_new, only_ref, neither))
    # rows: new scenario met / not; columns: reference met / not  ->  [[a, b], [c, d]]
    n = a + b + c + d
    p_new, p_ref = (a + b) / n, (a + c) / n
    l_new, u_new = wilson_bounds(a + b, n, z)
    l_ref, u_ref = wilson_bounds(a + c, n, z)
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
