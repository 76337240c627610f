"""Countable targets of the tech-renovation plan (helper of :mod:`model.modules.techreform`).

Parameters, sources and assumptions are in ``model/data/params/techreform.toml``.

* demonstration projects (in that year): the city lists some of the year's renovation projects
  as demonstration projects, so they are drawn from the firms the firm-level model has carrying
  out a project that year: ``Binomial(firms_t, demo.share)``. ``techreform.firms`` bounds them,
  and every lever that raises adoption (the 30 % post-subsidy) raises them;
* new products (in that year): each renovating firm develops a new product and applies for
  recognition as a provincial new product with a probability whose odds the post-subsidy of
  30 % of R&D (cap 100万) raises; approved ones are the products supported: ``Binomial(firms_t,
  apply * approve)`` (技改方案 一: new-product development is the focus of the renovation);
* quality boutiques (in that year): an open pool (:func:`open_pipeline`) of firms' products put
  forward for 工业精品, the rate raised by the 50万/30万 rewards of 二(五);
* provincial manufacturing innovation centres (total): a closed pool of candidate consortia
  (:func:`candidate_pipeline`) whose yearly odds of reaching the provincial list are raised by
  the city's support (50 % of equipment, cap 500万 a year for three years, plus 500万 once).

Rewards act from the notice (July 2017): in 2017 only with the share ``response.first_year`` of
their full effect, the same share the renovation subsidy reaches in the firm-level model.

Common random numbers: :func:`simulate_counts` runs after the firm-level model has drawn all
its numbers and draws from ``rng`` in a fixed order and in shapes that depend only on ``n``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.modules import FloatDraws
from model.processes.pipeline import binomial_inverse, candidate_pipeline, open_pipeline, raise_odds
from model.timeline import YEARS

#: Post-subsidy at which ``new_product.reward_effect`` is the rise of the odds [万元] (the cap).
NEW_PRODUCT_REF = 100.0
#: Reward at which ``boutique.reward_effect`` is the rise of the rate [万元] (provincial level).
BOUTIQUE_REF = 30.0
#: Support at which ``centre.reward_effect`` is the rise of the odds [万元]: the plan's most,
#: 3 years x 500万 + 500万.
CENTRE_REF = 2000.0

#: Indicators added to the techreform module's output.
INDICATORS: tuple[str, ...] = ("demo_projects", "new_products", "quality_boutiques", "innovation_centre")


def new_product_subsidy(rate: float, rd_spend: np.ndarray, cap: float) -> np.ndarray:
    """Post-subsidy of a provincial new product, ``min(rate * rd_spend, cap)`` [万元] (二(三))."""
    return np.minimum(rate * np.asarray(rd_spend, float), cap)


def centre_support(rate: float, equipment: np.ndarray, annual_cap: float, years: float,
                   grant: float) -> np.ndarray:
    """City support of an innovation centre over its cultivation [万元] (二(二)).

    ``min(rate * equipment, annual_cap) * years + grant``: a share of the yearly equipment spend
    [万元/yr], capped per year, for ``years`` years, plus the one-off grant for the provincial
    list.
    """
    return np.minimum(rate * np.asarray(equipment, float), annual_cap) * years + grant


def ramp(first_year: np.ndarray) -> np.ndarray:
    """Share of a reward's full effect per replication and year, ``(n, Y)``: 0 in 2016,
    ``first_year`` in 2017, 1 after [share]."""
    first_year = np.asarray(first_year, float)
    out = np.ones((len(first_year), len(YEARS)))
    out[:, 0] = 0.0
    out[:, 1] = first_year
    return out


def simulate_counts(levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
                    rng: np.random.Generator, firms: np.ndarray) -> dict[str, np.ndarray]:
    """Counts of the tech-renovation plan's other targets, 2016-2020.

    Parameters
    ----------
    levers : mapping
        Levers ``new_product.*``, ``boutique.reward`` and ``centre.*`` declared in ``techreform.toml``
        (rates [share], amounts [万元], years [yr]).
    draws : mapping
        Uncertainties ``demo.*``, ``new_product.*``, ``boutique.*``, ``centre.*`` and
        ``response.first_year`` declared in ``techreform.toml``, each ``(n,)``.
    rng : numpy.random.Generator
        Draws, in this order: uniforms ``(n, Y)`` for demonstration projects, then for new
        products, one uniform array for boutiques and two for innovation centres.
    firms : numpy.ndarray
        Firms carrying out a renovation project in each year, ``(n, Y)`` [count] (2016: NaN).

    Returns
    -------
    dict of str to numpy.ndarray
        The indicators of :data:`INDICATORS`, each ``(n, len(YEARS))``; the yearly flows
        (``demo_projects``, ``new_products``, ``quality_boutiques``) are NaN in 2016.
    """
    d = FloatDraws(draws)
    n = len(d["demo.share"])
    push = ramp(d["response.first_year"])
    u_demo = rng.random((n, len(YEARS)))
    u_product = rng.random((n, len(YEARS)))
    sim = slice(1, None)  # simulated years 2017..

    demo = np.full((n, len(YEARS)), np.nan)
    demo[:, sim] = binomial_inverse(u_demo[:, sim], firms[:, sim], d["demo.share"][:, None])

    subsidy = new_product_subsidy(float(levers["new_product.rate"]), d["new_product.rd_spend"],
                                  float(levers["new_product.cap"]))
    factor = 1.0 + (d["new_product.reward_effect"] * subsidy / NEW_PRODUCT_REF)[:, None] * push
    p_product = raise_odds(d["new_product.apply"][:, None], factor) * d["new_product.approve"][:, None]
    products = np.full((n, len(YEARS)), np.nan)
    products[:, sim] = binomial_inverse(u_product[:, sim], firms[:, sim], p_product[:, sim])

    reward = float(levers["boutique.reward"]) / BOUTIQUE_REF
    boutiques = open_pipeline(
        rng, rate=d["boutique.rate"][:, None] * (1.0 + d["boutique.reward_effect"][:, None] * reward * push),
        approve_prob=d["boutique.approve"]).new.copy()
    boutiques[:, 0] = np.nan

    support = centre_support(float(levers["centre.equipment_rate"]), d["centre.equipment"],
                             float(levers["centre.annual_cap"]), float(levers["centre.support_years"]),
                             float(levers["centre.provincial_grant"]))
    factor = 1.0 + (d["centre.reward_effect"] * support / CENTRE_REF)[:, None] * push
    centres = candidate_pipeline(
        rng, pool=np.rint(d["centre.candidates"]), apply_prob=raise_odds(d["centre.apply"][:, None], factor),
        approve_prob=d["centre.approve"], lag=np.rint(d["centre.lag"]).astype(int))
    return {
        "demo_projects": demo,
        "new_products": products,
        "quality_boutiques": boutiques,
        "innovation_centre": centres.cumulative,
    }
