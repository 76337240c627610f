"""Sectors of above-scale industry in the energy-intensity model, in array order.

Shared by the green module (sector value added and intensity), the overcapacity module (capacity
exits per sector) and the links between them (:mod:`model.links`). Their parameters, with the
reasoning behind each number, are in ``model/data/params/green.toml`` (``share.<sector>`` etc.).
"""

from __future__ import annotations

#: nonferrous (lead/zinc smelting, 有色), steel (钢铁), chemicals (coking & chemicals, 焦化化工),
#: power (power & heat, 电力热力), building (building materials, mainly cement, 建材), other
#: (equipment and all other industry, incl. coal mining, 装备及其他).
SECTORS: tuple[str, ...] = ("nonferrous", "steel", "chemicals", "power", "building", "other")
