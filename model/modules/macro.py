"""The macro layer (issue 10, item 1): one growth path of the city's economy per replication.

First in engine order; the plan modules read it through links (:mod:`model.links`:
``macro_sector_growth`` into ``green``, ``macro_investment`` into ``techreform``, ``macro_gdp``
into ``innovation``). Model, parameters and the evidence behind them:
``model/data/params/macro.toml``. For each simulated year ``t`` (2017..2020):

* a common shock ``c_t = sd * z_t - B_t * depth`` with ``z_t`` standard normal (clipped to
  ``[-Z_CLIP, Z_CLIP]``) and ``B_t`` a bad year (Bernoulli ``bad_prob``): a two-component normal
  mixture, so bad years form a tail that a single normal of the same spread would not have;
* above-scale industrial value added grows ``industry.trend + c_t`` (real);
* the rest of the economy grows ``rest.trend + rest.beta * c_t`` (real);
* GDP is industry plus the rest (real growth is their growth weighted by last year's shares),
  nominal GDP adds the deflator; industry's share of GDP follows from the two levels;
* industrial investment grows ``investment.trend + investment.beta * c_t + investment.sd * e_t``
  (nominal, ``e_t`` standard normal clipped to ``[-Z_CLIP, Z_CLIP]``).

Randomness: ``z``, the bad-year uniforms and ``e``, each ``(n, 4)``, drawn from ``rng`` in that
order; no lever exists, so draws never depend on one.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import erf, sqrt

import numpy as np

from model.links import NO_LINKS, Linked
from model.modules import FloatDraws
from model.timeline import YEARS

#: Standard normal shocks are clipped to +/- this many standard deviations (a 3e-5 tail each
#: side), so every growth rate has a hard floor and industry's share of GDP a hard bound.
Z_CLIP = 4.0
#: Floor on any yearly growth factor ``1 + g`` (nothing loses more than 60 % in a year; reached
#: only far outside the declared ranges).
MIN_GROWTH_FACTOR = 0.4


def common_shock(z: np.ndarray, bad: np.ndarray, sd: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Common yearly shock [share/yr], ``(n, years)``: ``sd * clip(z) - bad * depth``."""
    return sd[:, None] * np.clip(z, -Z_CLIP, Z_CLIP) - bad * depth[:, None]


def bad_year_share_below(x: float, trend: float, sd: float, bad_prob: float, depth: float) -> float:
    """Analytic probability that industrial growth is below ``x`` [share/yr] in a year.

    ``(1 - p) Phi((x - trend) / sd) + p Phi((x - trend + depth) / sd)`` (the clipping at
    ``Z_CLIP`` changes nothing for ``|x - trend| < Z_CLIP * sd``, nor beyond on the side it
    clips towards).
    """
    def phi(v: float) -> float:
        return 0.5 * (1.0 + erf(v / sqrt(2.0)))

    return (1 - bad_prob) * phi((x - trend) / sd) + bad_prob * phi((x - trend + depth) / sd)


def simulate(levers: Mapping[str, object], draws: Mapping[str, np.ndarray], rng: np.random.Generator,
             linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """The city's yearly growth path, 2016-2020 (2016, the base year, holds zero growth).

    Parameters
    ----------
    levers : mapping
        None (the macro layer has no lever).
    draws : mapping
        Uncertainties of ``macro.toml``, each ``(n,)``.
    rng : numpy.random.Generator
        The module's own stream: normal shocks, bad-year uniforms, investment shocks.
    linked : Linked
        Unused: no link leads into the macro layer.

    Returns
    -------
    dict
        Yearly ``(n, len(YEARS))`` arrays: ``gdp_growth``, ``industrial_va_growth``,
        ``nominal_gdp_growth``, ``industrial_investment_growth``, ``common_shock`` [%/yr],
        ``industry_share`` [%], ``bad_year`` [0/1].
    """
    d = FloatDraws(draws)
    n, sim = len(d["industry.trend"]), len(YEARS) - 1
    z = rng.standard_normal((n, sim))
    bad = (rng.random((n, sim)) < d["shock.bad_prob"][:, None]).astype(float)
    e = np.clip(rng.standard_normal((n, sim)), -Z_CLIP, Z_CLIP)

    shock = common_shock(z, bad, d["shock.sd"], d["shock.bad_depth"])
    g_ind = np.maximum(1.0 + d["industry.trend"][:, None] + shock, MIN_GROWTH_FACTOR) - 1.0
    g_rest = np.maximum(1.0 + d["rest.trend"][:, None] + d["rest.beta"][:, None] * shock, MIN_GROWTH_FACTOR) - 1.0
    g_inv = np.maximum(1.0 + d["investment.trend"][:, None] + d["investment.beta"][:, None] * shock
                       + d["investment.sd"][:, None] * e, MIN_GROWTH_FACTOR) - 1.0

    share0 = d["industry.share_2016"]
    ones = np.ones((n, 1))
    industry = share0[:, None] * np.concatenate([ones, np.cumprod(1.0 + g_ind, axis=1)], axis=1)
    rest = (1.0 - share0)[:, None] * np.concatenate([ones, np.cumprod(1.0 + g_rest, axis=1)], axis=1)
    gdp = industry + rest  # real, relative to 2016 GDP
    g_gdp = gdp[:, 1:] / gdp[:, :-1] - 1.0
    g_nominal = (1.0 + g_gdp) * (1.0 + d["gdp.deflator"][:, None]) - 1.0

    def yearly(x: np.ndarray) -> np.ndarray:  # (n, sim) -> (n, years) with 2016 = 0
        return np.concatenate([np.zeros((n, 1)), x], axis=1)

    return {
        "gdp_growth": 100.0 * yearly(g_gdp),
        "industrial_va_growth": 100.0 * yearly(g_ind),
        "industrial_investment_growth": 100.0 * yearly(g_inv),
        "nominal_gdp_growth": 100.0 * yearly(g_nominal),
        "industry_share": 100.0 * industry / gdp,
        "bad_year": yearly(bad),
        "common_shock": 100.0 * yearly(shock),
    }
