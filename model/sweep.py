"""Sweeping one lever: the likelihood of every target at each value, with common random numbers.

"What would it take to reach 80 %?" A sweep runs a scenario once per value of one lever (every
other setting as the scenario has it) with one seed, so each replication shares its draws across
the values and a difference is the lever's effect, not Monte Carlo noise. It is a comparison
(:mod:`model.compare`) whose reference is the scenario as written, so its directory holds
``comparison.csv`` and the runs, and a brief can be made from it; it adds ``sweep.csv``:

* ``target_id, name_zh, name_en, deadline, test, lever, value, is_reference`` -- one row per
  target and value, in the order the values were given; ``value`` as a scenario file writes it
  (``0.5``, ``1000``, ``true``, ``"fifo"``);
* ``probability, probability_low, probability_high`` -- the likelihood and its Wilson 95 %
  interval at that value;
* ``change, change_low, change_high`` -- against the scenario as written, with the paired 95 %
  interval (Newcombe), exactly 0 where the value is the scenario's own.

:func:`first_reaching` reads off, per target, the first value (in the order given) at which the
likelihood reaches a level (80 % by default); :func:`reach_text` says it as a planner reads
it, or "none up to <the largest value tried>" (至…仍未达到). On the command line a share lever's
values may be written as percentages (``10%`` is 0.1, :func:`parse_lever_value`).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from typing import Any

import pandas as pd

from .compare import Comparison, build_comparison
from .params import lever_specs
from .readable import lever_text
from .report.i18n import load_locale
from .scenario import Scenario, ScenarioError
from .variants import ORIGIN, lever_variant, value_text

__all__ = [
    "first_reaching",
    "lever_variant",
    "parse_lever_value",
    "parse_value",
    "reach_text",
    "sweep",
    "sweep_table",
    "value_text",
]


def parse_value(text: str) -> Any:
    """A command-line value as TOML reads it (``0.5``, ``12``, ``true``); bare words stay text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_lever_value(key: str, text: str) -> Any:
    """A value of lever ``key`` as written on the command line: as :func:`parse_value`, or a
    percentage (``10%``), which is 0.1 for a lever whose unit is ``share`` and 10 for one in
    ``%``.

    Raises
    ------
    ScenarioError
        A percentage for a lever in any other unit, or a ``%`` after something not a number.
    """
    written = text.strip()
    if not written.endswith("%"):
        return parse_value(text)
    spec = lever_specs().get(key)
    if spec is None:
        return text  # lever_variant names the nearest lever
    try:
        number = float(written[:-1])
    except ValueError:
        raise ScenarioError(ORIGIN, f"levers.{key}", f"{text!r} is not a percentage; write e.g. 10% or 0.1") from None
    unit = spec.about.unit
    if unit == "share":
        return number / 100
    if unit == "%":
        return number
    raise ScenarioError(
        ORIGIN, f"levers.{key}",
        f"{text} is a percentage, but this lever is in {unit!r}, not a share; write a plain number "
        f"(its default is {value_text(spec.default)})",
    )


def reach_text(tidy: pd.DataFrame, unit: str, level: float = 0.80, lang: str = "en") -> pd.Series:
    """Per target, the first value reaching ``level`` as a planner reads it, or, where none
    did, "none up to <the largest value tried>" ("至<…>仍未达到"; for true/false or choices,
    "none of the values tried"; the locale's ``sweep_none_*`` phrases)."""
    reach = first_reaching(tidy, level)
    given = [parse_value(v) if isinstance(v, str) else v for v in dict.fromkeys(tidy["value"])]
    numbers = [v for v in given if isinstance(v, (int, float)) and not isinstance(v, bool)]
    phrases = load_locale(lang)["terminal"]
    none = (phrases["sweep_none_up_to"].format(max=lever_text(max(numbers), unit, lang)) if numbers
            else phrases["sweep_none_tried"])
    return reach.map(lambda v: none if pd.isna(v) else lever_text(v, unit, lang))


def sweep(
    scenario: Scenario, key: str, values, replications: int | None = None, seed: int | None = None, workers: int = 1,
    executor: str = "local", scheduler: str | None = None, progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Run ``scenario`` at each value of lever ``key`` (common random numbers).

    Parameters
    ----------
    scenario : Scenario
        The reference, run as written.
    key : str
        ``"module.name"`` of a lever.
    values : sequence
        Values to try (each validated against the lever's declaration before anything runs).
    replications, seed, workers, executor, scheduler, progress
        As for :func:`model.compare.build_comparison`.

    Returns
    -------
    Comparison
        Reference first, then one run per value; :func:`sweep_table` gives the tidy table.
    """
    values = list(values)
    if not values:
        raise ScenarioError(ORIGIN, f"levers.{key}", "give at least one value to sweep")
    variants = [lever_variant(scenario, key, v) for v in values]
    for i, v in enumerate(values):
        for w in values[:i]:
            if _same(v, w):  # 1000 and 1000.0, -0.0 and 0.0
                raise ScenarioError(
                    ORIGIN, f"levers.{key}", f"value {value_text(v)} is given twice; give each value once"
                )
    names = [v.name for v in variants]
    if scenario.name in names:
        raise ScenarioError(
            ORIGIN, f"levers.{key}", f"the scenario is named {scenario.name!r} like a sweep value; rename it"
        )
    comparison = build_comparison([scenario, *variants], replications, seed, workers, executor, scheduler, progress)
    return dataclasses.replace(comparison, sweep={"lever": key, "values": values, "reference": scenario.levers[key]})


def _same(value: Any, other: Any) -> bool:
    """One lever value (1000 and 1000.0 are one value, true and 1 are not)."""
    return bool(value == other and isinstance(value, bool) == isinstance(other, bool))


def sweep_table(comparison: Comparison) -> pd.DataFrame:
    """The tidy ``sweep.csv`` table of a :func:`sweep`, from its long comparison table."""
    info = comparison.sweep
    if info is None:
        raise ValueError("this comparison is not a sweep (made by model.sweep.sweep)")
    table = comparison.table
    modelled = set(table.loc[(table["scenario"] == comparison.reference) & table["probability"].notna(), "target_id"])
    values = dict(zip(comparison.names[1:], info["values"]))
    rows = table[table["scenario"].isin(values) & table["target_id"].isin(modelled)].copy()
    given = [values[name] for name in rows["scenario"]]  # Python values, not a pandas dtype
    rows.insert(5, "lever", info["lever"])
    rows.insert(6, "value", [value_text(v) for v in given])  # as written in a scenario file: 500, 0.5, true, "fifo"
    rows.insert(7, "is_reference", [_same(v, info["reference"]) for v in given])
    columns = [
        "target_id",
        "name_zh",
        "name_en",
        "deadline",
        "test",
        "lever",
        "value",
        "is_reference",
        "probability",
        "probability_low",
        "probability_high",
        "change",
        "change_low",
        "change_high",
    ]
    return rows[columns].reset_index(drop=True)


def first_reaching(tidy: pd.DataFrame, level: float = 0.80) -> pd.Series:
    """Per target, the first value (in sweep order) whose likelihood reaches ``level``; NaN if none."""
    reached = tidy[tidy["probability"] >= level]
    return reached.groupby("target_id", sort=False)["value"].first().reindex(tidy["target_id"].unique())
