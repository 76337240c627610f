"""Bass diffusion: the share of adopters over time, and its plant-by-plant (lumpy) version.

``F`` follows the Bass equation ``dF/dt = (p + qF)(1 - F)`` with innovation ``p`` and imitation
``q`` [1/yr]. Used by the energy-intensity model (retrofits, :mod:`model.modules.green`) and the
industrial-internet platform share (:mod:`model.modules.smart`).
"""

from __future__ import annotations

import numpy as np


def bass_cdf(t: np.ndarray | float, p: np.ndarray | float, q: np.ndarray | float) -> np.ndarray:
    """Bass diffusion closed form: share of adopters after time ``t`` from zero adoption.

    Parameters
    ----------
    t : array_like
        Time since diffusion started [yr], ``t >= 0``.
    p, q : array_like
        Innovation and imitation coefficients [1/yr], ``p >= 0``, ``q >= 0``.

    Returns
    -------
    numpy.ndarray
        ``F(t) = (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))`` [share], broadcast shape;
        0 where ``p = 0`` (nobody starts).
    """
    t, p, q = np.asarray(t, float), np.asarray(p, float), np.asarray(q, float)
    decay = np.exp(-(p + q) * t)
    denom = p + q * decay
    return np.where(denom > 0, p * (1.0 - decay) / np.where(denom > 0, denom, 1.0), 0.0)


def bass_advance(
    f0: np.ndarray | float, dt: np.ndarray | float, p: np.ndarray | float, q: np.ndarray | float
) -> np.ndarray:
    """Solve the Bass equation forward from share ``f0`` over ``dt`` (for piecewise ``p``).

    Parameters
    ----------
    f0 : array_like
        Adopter share at the start [share], in [0, 1].
    dt : array_like
        Elapsed time [yr], ``dt >= 0``.
    p, q : array_like
        Innovation and imitation coefficients [1/yr] during ``dt``, ``p >= 0``, ``q >= 0``.

    Returns
    -------
    numpy.ndarray
        Adopter share after ``dt`` [share]; equals :func:`bass_cdf` when ``f0 = 0`` and stays
        ``f0`` where ``p = q = 0``.
    """
    f0, dt = np.asarray(f0, float), np.asarray(dt, float)
    p, q = np.asarray(p, float), np.asarray(q, float)
    decay = np.exp(-(p + q) * dt)
    # (p + qF) / (1 - F) grows as exp((p + q) t): solved for 1 - F without overflow.
    denom = p + q * f0 + q * (1.0 - f0) * decay
    rest = (p + q) * (1.0 - f0) * decay / np.where(denom > 0, denom, 1.0)
    return np.where(denom > 0, 1.0 - rest, f0)


def bass_path(
    t: np.ndarray, switch: float, p_before: np.ndarray, p_after: np.ndarray, q: np.ndarray
) -> np.ndarray:
    """Bass adoption share when ``p`` changes once, at time ``switch``.

    Parameters
    ----------
    t : numpy.ndarray
        Times since diffusion started [yr], ``t >= 0``.
    switch : float
        Time at which ``p_before`` becomes ``p_after`` [yr]; ``<= 0`` means from the start.
    p_before, p_after, q : numpy.ndarray
        Innovation before and after the switch, and imitation [1/yr]; broadcast with ``t``.

    Returns
    -------
    numpy.ndarray
        Adopter share ``F(t)`` [share].
    """
    t_before = np.minimum(t, max(switch, 0.0))
    return bass_advance(bass_cdf(t_before, p_before, q), t - t_before, p_after, q)


def bass_path_yearly(
    switch: float, p_before: np.ndarray, p_after: np.ndarray, q: np.ndarray
) -> np.ndarray:
    """Bass adoption share at whole years ``0..T-1`` when ``p`` after the switch changes yearly.

    Parameters
    ----------
    switch : float
        Time at which ``p_before`` gives way to ``p_after`` [yr since diffusion began].
    p_before : numpy.ndarray
        Innovation before the switch [1/yr], shape ``(...)``.
    p_after : numpy.ndarray
        Innovation after the switch during year ``k`` (the interval ``(k-1, k]``) in
        ``p_after[..., k]`` [1/yr], shape ``(..., T)``; ``p_after[..., 0]`` is unused.
    q : numpy.ndarray
        Imitation [1/yr], broadcast with ``p_before``.

    Returns
    -------
    numpy.ndarray
        ``F(k)`` for ``k = 0..T-1`` [share], shape ``(..., T)``. With a constant ``p_after``
        it equals :func:`bass_path` at whole years.
    """
    n_years = p_after.shape[-1]
    f = np.zeros(np.broadcast_shapes(p_before.shape, p_after.shape[:-1], np.shape(q)) + (n_years,))
    for k in range(1, n_years):
        before = min(max(switch - (k - 1), 0.0), 1.0)  # part of year k before the switch
        mid = bass_advance(f[..., k - 1], before, p_before, q)
        f[..., k] = bass_advance(mid, 1.0 - before, p_after[..., k], q)
    return f


def lumpy_adoption(share: np.ndarray, plants: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Share of a sector's plants that have retrofitted, plant by plant.

    Parameters
    ----------
    share : numpy.ndarray
        Bass adopter share ``F``, shape ``(n, S, T)`` [share].
    plants : numpy.ndarray
        Effective number of equal plants, integers in ``[1, u.shape[-1]]``, shape ``(n, S)``.
    u : numpy.ndarray
        Uniforms on [0, 1), one per plant slot, shape ``(n, S, P)``; plant ``i`` has adopted when
        ``u[i] < F`` (strict, so nobody adopts while ``F = 0``). Slots ``i >= plants`` are ignored.

    Returns
    -------
    numpy.ndarray
        Adopted share of plants, shape ``(n, S, T)`` [share]; its mean over ``u`` equals ``share``.
    """
    slots = np.arange(u.shape[-1])
    u = np.where(slots < plants[..., None], u, np.float32(2.0))  # unused slots never adopt
    f = share.astype(np.float32)
    counts = [np.count_nonzero(u < f[..., k, None], axis=-1) for k in range(f.shape[-1])]
    return np.stack(counts, axis=-1) / plants[..., None]
