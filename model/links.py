"""Links between plans: where one plan's outcome is another plan's input (DESIGN.md section 4).

Each link is one documented function here and can be switched off in a scenario file::

    [links]
    capacity_exits_energy = false    # energy intensity as if no capacity closed

A link that is off gives the receiving module nothing, so the module runs exactly as it would
without the link (tests hold this); comparing a run with a link on and off shows its effect.

The engine runs the modules in :data:`model.modules.MODULE_NAMES` order. Before it runs a module
it calls every enabled link whose ``target`` is that module with the indicators produced so far
(``"module.indicator"`` -> array) and every sampled uncertainty (``"module.name"`` -> (n,)),
and hands the module the result as :class:`Linked`. A link whose source and target are the same
module is applied by that module itself, calling the link function with its own arrays under
the same keys (it only needs to know whether the link is on). Every link function has the one
signature :data:`LinkFunction`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.modules.responsibility import responsibility_energy, responsibility_renovation, responsibility_zombies
from model.modules.sectors import SECTORS

#: The one calling convention of every link function: ``link(indicators, draws) -> changes``.
#: ``indicators`` holds the upstream modules' indicators (``"module.indicator"`` -> array),
#: ``draws`` every sampled uncertainty (``"module.name"`` -> (n,)); the result maps the names
#: the receiving module reads from :attr:`Linked.inputs` to arrays. A link never sees levers:
#: what a lever changes reaches it through the indicators.
LinkFunction = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Linked:
    """What a module receives from links: which are on, and the arrays they computed."""

    enabled: frozenset[str] = frozenset()
    inputs: Mapping[str, np.ndarray] = field(default_factory=dict)


def same_value(a: Any, b: Any) -> bool:
    """Whether two lever values (scalars, strings, bools or yearly arrays) or linked arrays are
    the same value (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Before:
    """What a module had in an earlier run of the same block and draws under other levers."""

    levers: Mapping[str, Any]
    linked: Linked
    indicators: Mapping[str, np.ndarray]

    def moved(self, levers: Mapping[str, Any]) -> frozenset[str]:
        """Names of the levers whose value differs from then."""
        return frozenset(k for k in levers if not same_value(levers[k], self.levers[k]))

    def linked_moved(self, linked: Linked) -> frozenset[str]:
        """Names of the linked inputs that differ from then (all of them if other links are on)."""
        if linked.enabled != self.linked.enabled or linked.inputs.keys() != self.linked.inputs.keys():
            return frozenset(linked.inputs) | frozenset(self.linked.inputs) | {"<links>"}
        return frozenset(k for k in linked.inputs if not same_value(linked.inputs[k], self.linked.inputs[k]))

    def same(self, levers: Mapping[str, Any], linked: Linked) -> bool:
        """Whether the module would compute exactly its earlier indicators."""
        return not self.moved(levers) and not self.linked_moved(linked)


#: No links at all (the default when a module is called directly).
NO_LINKS = Linked()


def _growth_index(growth_percent: np.ndarray) -> np.ndarray:
    """Level relative to 2016 from yearly growth [%] with 2016 (column 0) the base: ``(n, years)``."""
    factor = 1.0 + np.asarray(growth_percent, float) / 100.0
    factor[:, 0] = 1.0
    return np.cumprod(factor, axis=1)


def macro_sector_growth(indicators: Mapping[str, np.ndarray],
                        draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The macro layer's industrial growth sets the level of the sectors' value added.

    Parameters
    ----------
    indicators : mapping
        ``macro.industrial_va_growth`` [%/yr] and ``macro.common_shock`` [%/yr], ``(n, years)``
        (2016 = 0).

    Returns
    -------
    dict
        ``industry_index``: above-scale industrial value added relative to 2016, ``(n, years)``;
        ``common_shock``: the yearly shock [share/yr], ``(n, years)``. The green module adds the
        shock to each sector's growth with a heavier loading on the heavy sectors
        (``green.cycle_gap``) and then scales all sectors so that their total (before capacity
        exits) follows ``industry_index``: the macro layer sets the level, the sectors' own
        growth and the loadings set the structure.
    """
    return {"industry_index": _growth_index(indicators["macro.industrial_va_growth"]),
            "common_shock": np.asarray(indicators["macro.common_shock"], float) / 100.0}


def macro_investment(indicators: Mapping[str, np.ndarray],
                     draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The macro layer's industrial investment growth replaces techreform's own trend.

    Returns
    -------
    dict
        ``investment_growth``: nominal growth of industrial investment in each year [share/yr],
        ``(n, years)`` (2016 = 0); the techreform module grows project sizes and other
        industrial investment with it instead of ``1 + investment.trend`` a year (the other
        investment keeps its own project-level volatility).
    """
    return {"investment_growth": np.asarray(indicators["macro.industrial_investment_growth"], float) / 100.0}


def macro_gdp(indicators: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The macro layer's nominal GDP path is the GDP of the R&D intensity.

    Returns
    -------
    dict
        ``gdp_index``: nominal GDP relative to 2016, ``(n, years)``; the innovation module
        multiplies its 2016 GDP (``innovation.rd.gdp_2016``) by it instead of growing it at
        ``rd.gdp_growth`` a year.
    """
    return {"gdp_index": _growth_index(indicators["macro.nominal_gdp_growth"])}


def macro_exits(indicators: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The economy's bad years bring more residual capacity exits.

    Returns
    -------
    dict
        ``bad_year``: ``(n, years)`` 1 in a bad year of the macro layer, else 0; the overcapacity
        module multiplies that year's residual exits (``exit.<sector>``) by
        ``1 + overcapacity.exit_surge``. The named closures and the zombie queue are untouched:
        their dates are ordered by the plan and their firms found by a survey done by mid-2017.
    """
    return {"bad_year": np.asarray(indicators["macro.bad_year"], float)}


def capacity_exits_energy(indicators: Mapping[str, np.ndarray],
                          draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Capacity closed by the overcapacity plan leaves the energy-intensity model.

    Parameters
    ----------
    indicators : mapping
        ``overcapacity.exit_share.<sector>`` for each sector of :data:`model.modules.sectors.SECTORS`: the share of
        the sector's 2016 capacity (value added) closed by each year end, ``(n, years)`` [0-1].

    Returns
    -------
    dict
        ``exit_share``: ``(n, len(SECTORS), years)`` [0-1]; the green module multiplies each
        sector's value added (and with it its energy) by ``1 - exit_share``.
    """
    return {"exit_share": np.stack([indicators[f"overcapacity.exit_share.{s}"] for s in SECTORS], axis=1)}


def capacity_exits_investment(indicators: Mapping[str, np.ndarray],
                              draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Closed capacity stops investing: industrial investment other than tech renovation shrinks.

    The exited share of industry is the value-added-weighted mean of the sectors' exit shares,
    weighted by the 2016 sector shares the energy model samples (``green.share.<sector>``), so
    both plans use the same picture of industry. *Assumption*: investment in the other
    (non-renovation) projects of a closed plant stops, and nobody replaces it within the horizon.

    Returns
    -------
    dict
        ``other_investment_factor``: ``(n, years)`` in [0, 1], multiplying the techreform
        module's other industrial investment.
    """
    weights = np.stack([np.asarray(draws[f"green.share.{s}"], float) for s in SECTORS], axis=1)
    exits = np.stack([indicators[f"overcapacity.exit_share.{s}"] for s in SECTORS], axis=1)
    exited = (weights[..., None] * exits).sum(axis=1) / weights.sum(axis=1)[:, None]
    return {"other_investment_factor": 1.0 - exited}


def renovation_retrofit(indicators: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Tech renovation brings energy retrofits with it: it raises the Bass innovation rate.

    Returns
    -------
    dict
        ``renovated_share``: ``(n, years)`` share of the above-scale firms that have started a
        tech-renovation project since 2017 [0-1]; the green module multiplies each sector's
        innovation coefficient p by ``1 + link_effect * renovated_share``.
    """
    return {"renovated_share": np.asarray(indicators["techreform.completed_share"], float) / 100.0}


def hightech_value_added(indicators: Mapping[str, np.ndarray],
                         draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Growth of high-tech value added from the growth of the number of high-tech enterprises.

    A link within the innovation module, which calls it with its own arrays when the link is on.

    Parameters
    ----------
    indicators : mapping
        ``innovation.hightech_firms``: high-tech enterprises holding a valid certificate at each
        year end, ``(n, years)`` [count].
    draws : mapping
        ``innovation.hightech_va.base_growth``: growth of high-tech value added with an unchanged
        number of firms, ``(n,)`` [%/yr]; ``innovation.hightech_va.elasticity``: percent change of
        high-tech value added per percent change of the firm count, ``(n,)`` [-].

    Returns
    -------
    dict
        ``hightech_va_growth``: yearly growth of high-tech value added ``(n, years)`` [%]; the
        first year (2016) is the base growth.
    """
    firms = np.maximum(np.asarray(indicators["innovation.hightech_firms"], float), 1.0)
    base_growth = np.asarray(draws["innovation.hightech_va.base_growth"], float)
    elasticity = np.asarray(draws["innovation.hightech_va.elasticity"], float)
    count_growth = np.zeros_like(firms)
    count_growth[:, 1:] = 100.0 * (firms[:, 1:] / firms[:, :-1] - 1.0)
    return {"hightech_va_growth": base_growth[:, None] + elasticity[:, None] * count_growth}


def production_limits_gdp(indicators: Mapping[str, np.ndarray],
                          draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output lost to the energy target's production limits is GDP lost that year.

    Parameters
    ----------
    indicators : mapping
        ``green.limit_output_loss``: above-scale industrial value added lost to limits [% of the
        year's], ``macro.industry_share``: above-scale industry's share of GDP [%], ``(n, years)``.

    Returns
    -------
    dict
        ``gdp_loss``: share of the year's GDP lost, ``(n, years)`` [0-1]; the innovation module
        multiplies its GDP (the R&D intensity's denominator) by ``1 - gdp_loss``. *Assumption*:
        the rest of the economy loses nothing with it (suppliers and transport would, a little).
    """
    loss = np.asarray(indicators["green.limit_output_loss"], float) / 100.0
    return {"gdp_loss": loss * np.asarray(indicators["macro.industry_share"], float) / 100.0}


@dataclass(frozen=True)
class Link:
    """One link: its name (the scenario key), the plans it joins, and what it does."""

    name: str
    source: str
    target: str
    zh: str
    en: str
    function: LinkFunction
    reads: tuple[str, ...] = ()  # other modules whose sampled inputs the function reads

    @property
    def doc(self) -> str:
        return (self.function.__doc__ or "").strip().splitlines()[0]


LINKS: dict[str, Link] = {
    link.name: link
    for link in (
        Link("macro_sector_growth", "macro", "green", "宏观工业增速决定各行业增加值总量",
             "The economy's industrial growth sets the sectors' value added", macro_sector_growth),
        Link("macro_investment", "macro", "techreform", "宏观工业投资增速决定技改模型的投资增长",
             "The economy's industrial investment growth drives tech-renovation investment", macro_investment),
        Link("macro_gdp", "macro", "innovation", "宏观名义GDP作为研发强度的分母",
             "The economy's nominal GDP is the denominator of R&D intensity", macro_gdp),
        Link("macro_exits", "macro", "overcapacity", "经济下行年份落后产能退出增加",
             "Bad years of the economy bring more capacity exits", macro_exits),
        Link("capacity_exits_energy", "overcapacity", "green", "去产能关停降低能耗强度",
             "Capacity closures change energy intensity", capacity_exits_energy),
        Link("capacity_exits_investment", "overcapacity", "techreform", "去产能关停减少工业投资",
             "Capacity closures reduce industrial investment", capacity_exits_investment, reads=("green",)),
        Link("renovation_retrofit", "techreform", "green", "技术改造带动节能改造",
             "Tech renovation raises retrofit adoption", renovation_retrofit),
        Link("responsibility_energy", "green", "green", "能耗强度目标责任考核：落后于进度时加大力度（含限产）",
             "Energy target assessment: a city behind the plan's path does more (up to limiting production)",
             responsibility_energy),
        Link("production_limits_gdp", "green", "innovation", "限产损失的工业增加值计入地区生产总值",
             "Output lost to production limits is lost GDP", production_limits_gdp),
        Link("responsibility_renovation", "techreform", "techreform",
             "技改投资比重落后于方案进度时加压推进（目标责任制）",
             "Target responsibility: lagging the plan's tech-renovation path brings a campaign push",
             responsibility_renovation),
        Link("hightech_value_added", "innovation", "innovation", "高新技术企业增长带动高新技术产业增加值",
             "High-tech firm growth feeds high-tech value added", hightech_value_added),
        Link("responsibility_zombies", "overcapacity", "overcapacity", "僵尸企业处置进度滞后时增派专班、法院优先审理",
             "Zombie disposal behind the plan's path brings more working teams and court priority",
             responsibility_zombies),
    )
}


def linked_for(module: str, enabled: frozenset[str], indicators: Mapping[str, np.ndarray],
               draws: Mapping[str, np.ndarray]) -> Linked:
    """The :class:`Linked` input of ``module``: enabled links into it, computed from upstream."""
    inputs: dict[str, np.ndarray] = {}
    for link in LINKS.values():
        if link.target == module and link.name in enabled and link.source != module:
            inputs.update(link.function(indicators, draws))
    return Linked(frozenset(n for n in enabled if LINKS[n].target == module), inputs)
