"""Closed-form moment checks shared by the count tests."""

from __future__ import annotations

import numpy as np


def binomial_moments_ok(x: np.ndarray, trials: int, p: float) -> None:
    """Sample mean and variance of ``x`` against Binomial(trials, p).

    Monte Carlo error: the mean has sd sqrt(var / m); the sample variance has sd
    sqrt((mu4 - var^2 (m - 3) / (m - 1)) / m) with the binomial's fourth central moment
    mu4 = n p q (1 + 3 (n - 2) p q). 4.5 sd: a false alarm about once in 150,000 per check;
    the seed is fixed, so the test is deterministic.
    """
    m, q = x.size, 1.0 - p
    mean, var = trials * p, trials * p * q
    mu4 = trials * p * q * (1 + 3 * (trials - 2) * p * q)
    assert abs(x.mean() - mean) < 4.5 * np.sqrt(var / m), (x.mean(), mean)
    sd_var = np.sqrt((mu4 - var**2 * (m - 3) / (m - 1)) / m)
    assert abs(x.var(ddof=1) - var) < 4.5 * sd_var, (x.var(ddof=1), var)
