"""Rates of the innovation plan: R&D intensity and high-tech value-added growth.

Pure functions used by :mod:`model.modules.innovation` (parameters in
``model/data/params/innovation.toml``).
"""

from __future__ import annotations

import numpy as np

from model.links import hightech_value_added
from model.modules.counting import N_YEARS, yearly_amount

#: Floor on a year's R&D growth factor ``1 + g + sd * z`` (spending never falls > 95 % a year).
MIN_GROWTH_FACTOR = 0.05
#: Years over which the guided fund is spread (2017-2020) [yr].
GUIDED_FUND_YEARS = 4
#: 万元 per 亿元.
WAN_PER_YI = 1.0e4


def gdp_path(gdp_2016: np.ndarray, growth: np.ndarray) -> np.ndarray:
    """Nominal GDP at each year [亿元], ``(n, len(YEARS))``: ``gdp_2016 * (1 + growth)**k``."""
    k = np.arange(N_YEARS)
    return np.asarray(gdp_2016, float)[:, None] * (1.0 + np.asarray(growth, float)[:, None]) ** k


def fund_spending(annual: object, guided: float, weights: np.ndarray) -> np.ndarray:
    """The plan's funds put into R&D in each year [亿元], ``(n, len(YEARS))``.

    Parameters
    ----------
    annual : float or ndarray (len(YEARS),)
        Innovation fund [万元/yr] (lever, a schedule); nothing in 2016.
    guided : float
        Guided special fund, total [万元], spread evenly over 2017-2020 (*assumption*).
    weights : ndarray (n, len(YEARS))
        Share of each year under the plan (``first_year`` in 2017) [0-1].
    """
    per_year = yearly_amount(annual) + float(guided) / GUIDED_FUND_YEARS
    return weights * per_year[None, :] / WAN_PER_YI


def rd_spending(base: np.ndarray, growth: np.ndarray, growth_sd: np.ndarray, z: np.ndarray,
                extra: np.ndarray) -> np.ndarray:
    """R&D spending at each year [亿元], ``(n, len(YEARS))``.

    Parameters
    ----------
    base : ndarray (n,)
        2016 R&D spending [亿元], > 0.
    growth, growth_sd : ndarray (n,)
        Trend growth and its yearly spread [share/yr].
    z : ndarray (n, len(YEARS))
        Standard normal shocks (column 0 unused).
    extra : ndarray (n, len(YEARS))
        Spending added by the plan's funds in each year [亿元], >= 0 (it does not compound).

    Returns
    -------
    ndarray
        ``base * prod_{j<=k} max(1 + g + sd z_j, 0.05) + extra_k``: positive.
    """
    factor = np.maximum(1.0 + np.asarray(growth, float)[:, None] + np.asarray(growth_sd, float)[:, None] * z,
                        MIN_GROWTH_FACTOR)
    factor[:, 0] = 1.0
    return np.asarray(base, float)[:, None] * np.cumprod(factor, axis=1) + extra


def hightech_va_growth(firms: np.ndarray, base_growth: np.ndarray, elasticity: np.ndarray,
                       linked_on: bool) -> np.ndarray:
    """Growth of high-tech value added in each year [%], ``(n, len(YEARS))``.

    With the link ``hightech_value_added`` off: the base growth in every year. With it on:
    :func:`model.links.hightech_value_added` (base growth plus elasticity x the growth of the
    number of valid high-tech enterprises).
    """
    base = np.asarray(base_growth, float)
    if linked_on:
        return hightech_value_added({"innovation.hightech_firms": firms},
                                    {"innovation.hightech_va.base_growth": base,
                                     "innovation.hightech_va.elasticity": elasticity})["hightech_va_growth"]
    return np.repeat(base[:, None], N_YEARS, axis=1)
