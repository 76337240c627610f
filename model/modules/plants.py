"""Plant-level volatility of the energy model (issue 10, item 3): a sector is a few large plants.

A sector ``s`` of the energy model is ``N[s]`` plants of equal 2016 output (``N`` the effective
number, the inverse Herfindahl index of plant value added, see ``green.toml``). Plant ``i``

* has a relative 2016 energy intensity ``h[i] = exp(spread * x[i])``, ``x`` standard normal,
  normalised so that the sector's 2016 intensity is the sector's ``e0`` (mean ``h`` over the
  sector's plants is 1): plants of one sector differ (an old sinter line next to a new
  oxygen-bottom-blown smelter);
* has an output index ``O[i, t] = prod_j max(1 + sd * z[i, j], MIN_FACTOR)`` relative to 2016,
  ``z`` standard normal and independent across plants and years: the plant's own yearly shocks
  (relinings, maintenance stops, outages, lost orders) on top of the sector's trend and shock;
* saves ``delta[s]`` of its energy once it has retrofitted (``adopted[i, t]``, see
  :func:`model.modules.bass.lumpy_adoption`).

The sector's output then moves with ``mean_i O[i, t]`` and its intensity with the mix of its
plants, ``sum_i O h (1 - delta adopted) / sum_i O``. With ``sd = 0`` and ``spread = 0`` this is
exactly the equal-plant model (output index 1, intensity ``1 - delta * adopted share``).
"""

from __future__ import annotations

import numpy as np

#: Floor on a plant's yearly output factor (a plant never loses more than 90 % in a year).
MIN_FACTOR = 0.1


def active(plants: np.ndarray, slots: int) -> np.ndarray:
    """Mask of the plant slots in use, ``(n, S, slots)`` [bool], from whole plant counts ``(n, S)``."""
    return np.arange(slots) < plants[..., None]


def plant_output(z: np.ndarray, mask: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Output index of every plant relative to 2016, ``(n, S, P, T)`` float32; unused slots are 0.

    Parameters
    ----------
    z : numpy.ndarray
        Standard normal yearly shocks, ``(n, S, P, T - 1)``.
    mask : numpy.ndarray
        Plant slots in use, ``(n, S, P)`` (:func:`active`).
    sd : numpy.ndarray
        Plant-specific yearly output spread [share/yr], ``(n,)``.

    Single precision (a relative error of 1e-7 on an index that moves by percents) halves the
    memory traffic of the largest array of the energy model.
    """
    factor = np.asarray(z, np.float32) * np.asarray(sd, np.float32)[:, None, None, None]
    factor += np.float32(1.0)
    np.maximum(factor, np.float32(MIN_FACTOR), out=factor)
    index = np.empty(z.shape[:-1] + (z.shape[-1] + 1,), np.float32)
    index[..., 0] = 1.0
    running_product(factor, out=index[..., 1:])
    index *= mask[..., None]
    return index


def running_product(factor: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``numpy.cumprod(factor, axis=-1, out=out)`` with the same values (a running product is
    taken in order), one multiplication per year over all other axes: numpy's ``cumprod`` along
    a short last axis makes one inner loop per row and is ~15x slower here."""
    out[..., 0] = factor[..., 0]
    for j in range(1, factor.shape[-1]):
        np.multiply(out[..., j - 1], factor[..., j], out=out[..., j])
    return out


def plant_intensity(x: np.ndarray, mask: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Relative 2016 intensity of every plant, mean 1 over a sector's plants, ``(n, S, P)``.

    Parameters
    ----------
    x : numpy.ndarray
        Standard normals, ``(n, S, P)``.
    mask : numpy.ndarray
        Plant slots in use, ``(n, S, P)``.
    spread : numpy.ndarray
        Standard deviation of the log intensity across a sector's plants [-], ``(n,)``.
    """
    h = np.exp(spread[:, None, None] * x) * mask
    return h * (mask.sum(axis=-1, keepdims=True) / h.sum(axis=-1, keepdims=True))


def sector_output(output: np.ndarray, plants: np.ndarray) -> np.ndarray:
    """The sectors' output index relative to 2016, ``(n, S, T)``: the mean over their plants."""
    return output.sum(axis=2) / plants[..., None]


def sector_mix(output_t: np.ndarray, intensity: np.ndarray, savings: np.ndarray,
               adopted_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One year's intensity factor of each sector from its plants, and its retrofitted energy share.

    Parameters
    ----------
    output_t : numpy.ndarray
        Plant output index in the year, ``(n, S, P)`` (0 for unused slots).
    intensity : numpy.ndarray
        Relative 2016 plant intensity, ``(n, S, P)`` (:func:`plant_intensity`).
    savings : numpy.ndarray
        Share of its energy a retrofitted plant saves, ``(n, S)``.
    adopted_t : numpy.ndarray
        Whether each plant has retrofitted by the year end, ``(n, S, P)`` [bool].

    Returns
    -------
    tuple of numpy.ndarray
        ``factor``: the sector's intensity relative to its 2016 intensity before the autonomous
        decline, ``sum O h (1 - delta a) / sum O``, ``(n, S)``; ``retrofitted``: the share of the
        sector's energy (before savings) used in retrofitted plants, ``(n, S)`` [share].
    """
    energy = output_t * intensity
    total = energy.sum(axis=-1)
    in_retrofitted = (energy * adopted_t).sum(axis=-1)
    factor = (total - savings * in_retrofitted) / output_t.sum(axis=-1)
    return factor, in_retrofitted / total
