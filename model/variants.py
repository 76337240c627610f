"""A scenario with some levers changed, validated as a scenario file would be.

Used by :mod:`model.sweep` (one run per value of a lever) and
:meth:`model.results.Results.with_levers` (a lever moved on the draws of a finished run).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from .params import lever_specs
from .reference import toml_value
from .scenario import Scenario, ScenarioError
from .tomlfile import found, suggest
from .validation import check_lever

__all__ = ["ORIGIN", "lever_variant", "levers_variant", "value_text"]

ORIGIN = "sweep"  # the "file" named in errors about a value given on the command line


def value_text(value: Any) -> str:
    """A sweep value as a scenario file writes it: ``0.5``, ``1000``, ``true``, ``"fifo"``
    (floats in full precision, so distinct values never print alike)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return toml_value(value)


def plain_name(name: str) -> str:
    """A lever's name without its bracketed gloss: short enough for a chart legend."""
    plain, previous = name, None
    while plain != previous:  # innermost brackets first, so nested ones go too
        plain, previous = re.sub(r"\s*[（(][^（()）]*[）)]", "", plain), plain
    return plain.strip() or name


def _slug(value: Any) -> str:
    if isinstance(value, dict):  # a yearly schedule: 2017-0_2018-6000
        return "_".join(f"{year}-{_slug(v)}" for year, v in value.items())
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text)


def lever_variant(scenario: Scenario, key: str, value: Any) -> Scenario:
    """``scenario`` with lever ``key`` ("module.name") set to ``value``, validated like a file.

    Raises
    ------
    ScenarioError
        Unknown lever (with the nearest name), a table given for a lever that is not a yearly
        schedule, or a value of the wrong type or out of the declared range.
    """
    specs = lever_specs()
    if key not in specs:
        raise ScenarioError(
            ORIGIN, f"levers.{key}", f"unknown lever{suggest(key, specs)}; `python -m model params` lists them"
        )
    if isinstance(value, list) or (isinstance(value, dict) and not specs[key].schedule):
        raise ScenarioError(
            ORIGIN,
            f"levers.{key}",
            f"a sweep takes one value per run, {found(value)}; write schedules in a scenario file",
        )
    sub, problem = check_lever(specs[key], value)
    if problem:
        raise ScenarioError(ORIGIN, f"levers.{key}" + (f".{sub}" if sub else ""), problem)
    if isinstance(value, float) and value == 0:
        value = 0.0  # -0.0 and 0.0 are one value
    leaf = key.split(".", 1)[1]
    text = value_text(value)
    return dataclasses.replace(
        scenario,
        name=f"{leaf}={_slug(value)}",
        title_zh=f"{plain_name(specs[key].about.zh)} = {text}",
        title_en=f"{plain_name(specs[key].about.en)} = {text}",
        description=f"As {scenario.name!r}, with {key} = {text}.",
        description_zh=f"同“{scenario.name}”，仅{specs[key].about.zh}（{key}）= {text}。",
        levers={**scenario.levers, key: value},
        overridden=scenario.overridden | {key},
    )


def levers_variant(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """``scenario`` with every lever of ``changes`` ("module.name" -> value) set, each validated
    by :func:`lever_variant`; named after the change when there is one, else after the count."""
    variant = scenario
    for key, value in changes.items():
        variant = lever_variant(variant, key, value)
    if len(changes) > 1:
        keys = ", ".join(changes)
        variant = dataclasses.replace(
            variant, name=f"{scenario.name}+{len(changes)}levers"[:48],
            title_zh=f"{scenario.title_zh}（调整{len(changes)}项政策杠杆）",
            title_en=f"{scenario.title_en} ({len(changes)} levers changed)",
            description=f"As {scenario.name!r}, with {keys} changed.",
            description_zh=f"同“{scenario.name}”，调整：{keys}。")
    return variant
