"""Parameter declarations of the plan modules (``model/data/params/<module>.toml``).

Each module declares its levers, uncertainties and indicators with units, names in Chinese and
English and a source or an assumption. These declarations are the schema scenario files are
validated against and the defaults a scenario starts from.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .distributions import Distribution, SpecError
from .modules import MODULE_NAMES

INDICATOR_KINDS = ("yearly", "event", "scalar")
PARAMS_DIR = Path(__file__).parent / "data" / "params"


@dataclass(frozen=True)
class Provenance:
    """Names and where a default comes from (exactly one of source / assumption)."""

    zh: str
    en: str
    unit: str
    source: str | None
    assumption: str | None


@dataclass(frozen=True)
class Planning:
    """A lever's planning range (``planning = { low, high, why }``): the low and high end of what
    a city could realistically set, with the reasoning; without ``low`` and ``high``, ``why``
    says why the lever is not a measure to rank (a reading of a target, a yardstick, a date
    already past). ``cost``: ``"value"`` (the lever's value is its cost, in its unit) or
    ``"module.indicator"`` (a yearly outlay, summed over the plan's years), else None."""

    why: str
    low: Any = None
    high: Any = None
    cost: str | None = None

    @property
    def ranked(self) -> bool:
        return self.low is not None


@dataclass(frozen=True)
class LeverSpec:
    module: str
    name: str
    default: Any
    about: Provenance
    range: tuple[float, float] | None = None
    integer: bool = False
    choices: tuple[str, ...] | None = None
    schedule: bool = False
    planning: Planning | None = None

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class UncertaintySpec:
    module: str
    name: str
    default: Distribution
    about: Provenance
    range: tuple[float, float] | None = None

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class IndicatorSpec:
    module: str
    name: str
    kind: str
    zh: str
    en: str
    unit: str

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class ModuleParams:
    name: str
    levers: dict[str, LeverSpec] = field(default_factory=dict)
    uncertainties: dict[str, UncertaintySpec] = field(default_factory=dict)
    indicators: dict[str, IndicatorSpec] = field(default_factory=dict)


class DeclarationError(RuntimeError):
    """A parameter file shipped with the package is malformed (a bug, not a user error)."""


def flatten_entries(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Entries are tables holding 'zh'; anything else is a group to descend into."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if not isinstance(value, dict):
            raise DeclarationError(f"{path}: expected a table, found {value!r}")
        if "zh" in value:
            out[path] = value
        else:
            out.update(flatten_entries(value, path + "."))
    return out


def _provenance(where: str, entry: dict[str, Any], need_origin: bool) -> Provenance:
    for key in ("zh", "en", "unit"):
        if not isinstance(entry.get(key), str):
            raise DeclarationError(f"{where}: '{key}' must be a string")
    source, assumption = entry.get("source"), entry.get("assumption")
    if need_origin and (source is None) == (assumption is None):
        raise DeclarationError(f"{where}: give exactly one of 'source' or 'assumption'")
    return Provenance(entry["zh"], entry["en"], entry["unit"], source, assumption)


def _range(where: str, entry: dict[str, Any]) -> tuple[float, float] | None:
    r = entry.get("range")
    if r is None:
        return None
    if not (isinstance(r, list) and len(r) == 2 and r[0] <= r[1]):
        raise DeclarationError(f"{where}: range must be [low, high]")
    return float(r[0]), float(r[1])


def _planning(where: str, entry: dict[str, Any]) -> Planning | None:
    plan, cost = entry.get("planning"), entry.get("cost")
    if plan is None:
        if cost is not None:
            raise DeclarationError(f"{where}: 'cost' needs a 'planning' range")
        return None
    if not (isinstance(plan, dict) and isinstance(plan.get("why"), str) and set(plan) <= {"low", "high", "why"}):
        raise DeclarationError(f"{where}.planning: give {{ low, high, why }} or {{ why }} (why it is not ranked)")
    if ("low" in plan) != ("high" in plan) or ("low" in plan and plan["low"] == plan["high"]):
        raise DeclarationError(f"{where}.planning: give both 'low' and 'high', and make them differ")
    if cost is not None and not (isinstance(cost, str) and (cost == "value" or "." in cost)):
        raise DeclarationError(f"{where}.cost: 'value' or 'module.indicator'")
    return Planning(plan["why"], plan.get("low"), plan.get("high"), cost)


def parse_declarations(module: str, doc: dict[str, Any]) -> ModuleParams:
    """Build :class:`ModuleParams` from a parsed parameter file."""
    unknown = set(doc) - {"levers", "uncertainties", "indicators"}
    if unknown:
        raise DeclarationError(f"{module}: unknown sections {sorted(unknown)}")
    levers: dict[str, LeverSpec] = {}
    for name, entry in flatten_entries(doc.get("levers", {})).items():
        where = f"{module}.levers.{name}"
        if "default" not in entry:
            raise DeclarationError(f"{where}: missing default")
        choices = entry.get("choices")
        levers[name] = LeverSpec(
            module,
            name,
            entry["default"],
            _provenance(where, entry, True),
            _range(where, entry),
            bool(entry.get("integer", False)),
            tuple(choices) if choices else None,
            bool(entry.get("schedule", False)),
            _planning(where, entry),
        )
    uncertainties: dict[str, UncertaintySpec] = {}
    for name, entry in flatten_entries(doc.get("uncertainties", {})).items():
        where = f"{module}.uncertainties.{name}"
        try:
            dist = Distribution.from_spec(entry.get("default"))
        except SpecError as exc:
            raise DeclarationError(f"{where}.default: {exc}") from exc
        spec = UncertaintySpec(module, name, dist, _provenance(where, entry, True), _range(where, entry))
        if spec.range is not None:
            low, high = dist.support()
            if low < spec.range[0] or high > spec.range[1]:
                raise DeclarationError(f"{where}: default support {low, high} outside {spec.range}")
        uncertainties[name] = spec
    indicators: dict[str, IndicatorSpec] = {}
    for name, entry in flatten_entries(doc.get("indicators", {})).items():
        where = f"{module}.indicators.{name}"
        about = _provenance(where, entry, False)
        kind = entry.get("kind", "yearly")
        if kind not in INDICATOR_KINDS:
            raise DeclarationError(f"{where}: kind must be one of {INDICATOR_KINDS}")
        indicators[name] = IndicatorSpec(module, name, kind, about.zh, about.en, about.unit)
    return ModuleParams(module, levers, uncertainties, indicators)


@cache
def module_params(module: str) -> ModuleParams:
    """Declarations of one module, read once from the package data."""
    text = (PARAMS_DIR / f"{module}.toml").read_text("utf-8")
    return parse_declarations(module, tomllib.loads(text))


def all_params() -> dict[str, ModuleParams]:
    """Declarations of every module, in engine order."""
    return {name: module_params(name) for name in MODULE_NAMES}


def lever_specs() -> dict[str, LeverSpec]:
    """Every module's levers by ``"module.name"``, in engine order."""
    return {spec.key: spec for params in all_params().values() for spec in params.levers.values()}


def indicator_spec(key: str) -> IndicatorSpec:
    """Look up ``module.indicator``."""
    module, _, name = key.partition(".")
    return module_params(module).indicators[name]
