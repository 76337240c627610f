"""Validation of a merged scenario document against the modules' declarations.

Named checks with messages that say what was expected, what was found and how to fix it
(DESIGN.md section 6). Every problem raises :class:`~model.tomlfile.ScenarioError` for the file
that holds the mistake.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .distributions import Distribution, SpecError, correlation_matrix, is_positive_definite
from .links import LINKS
from .modules import MODULE_NAMES
from .params import LeverSpec, all_params
from .targets import load_registry
from .timeline import YEARS
from .tomlfile import (
    Layer,
    ScenarioError,
    defined_depth,
    find_line,
    find_spelling,
    found,
    is_year,
    spelling,
    suggest,
    toml_text,
)

TOP_KEYS = ("scenario", "levers", "uncertainties", "correlations", "targets", "links")
META_KEYS = ("name", "title_zh", "title_en", "description", "description_zh", "extends", "observed")
REQUIRED_META = ("name", "title_zh", "title_en")
CORRELATION_KEYS = ("between", "rank")
#: Sections whose keys may be spelt several ways (quoted "a.b", dotted a.b, nested [x.a] b).
SPELT_SECTIONS = ("levers", "uncertainties", "targets", "links")


def _whole(section: str, value: Any) -> bool:
    """Whether ``value`` is set as one piece (a value, a distribution table, a yearly schedule)."""
    if not isinstance(value, dict) or not value:
        return True
    return section in ("levers", "uncertainties") and ("dist" in value or any(is_year(k) for k in value))


def spellings(section: str, table: Any, raw: tuple[str, ...] = ()):
    """(key parts as written, value) of every piece set in a section of one file."""
    if not isinstance(table, dict):
        return
    for key, value in table.items():
        if _whole(section, value):
            yield raw + (key,), value
        else:
            yield from spellings(section, value, raw + (key,))


def check_spellings(layer: Layer) -> None:
    """Refuse a key that one file sets twice by spelling it two ways (TOML allows that).

    ``"propensity.base" = 0.2`` and ``propensity.base = 0.3`` (or ``[x.propensity]`` with
    ``base``) are different TOML keys that name the same parameter.
    """
    for section in SPELT_SECTIONS:
        seen: dict[str, tuple[str, ...]] = {}  # flattened name -> parts as written
        inside: dict[str, tuple[str, ...]] = {}  # every dotted prefix of a name -> parts
        for raw, _ in spellings(section, layer.doc.get(section)):
            name = ".".join(raw)
            prefixes = [name[:i] for i, c in enumerate(name) if c == "."]
            other = seen.get(name) or next((seen[p] for p in prefixes if p in seen), None) or inside.get(name)
            if other is not None:
                common = 0
                while common < min(len(raw), len(other)) - 1 and raw[common] == other[common]:
                    common += 1
                lines = [find_spelling(layer.text, (section,) + parts) for parts in (other, raw)]
                where = [f"{spelling(parts[common:])}" + (f" on line {line}" if line else "")
                         for parts, line in zip((other, raw), lines)]
                longest = max(name, ".".join(other), key=len)
                raise ScenarioError(layer.path, f"{section}.{longest}", f"set twice ({where[0]}, {where[1]}); keep one",
                                    max((x for x in lines if x), default=None))
            seen[name] = raw
            for p in prefixes:
                inside.setdefault(p, raw)


def _check_number(value: Any, spec: LeverSpec) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"expected a number ({spec.about.unit}), {found(value, 'number')}"
    if spec.range and not spec.range[0] <= value <= spec.range[1]:
        hint = ""
        if spec.about.unit.startswith("share") and 1 < value <= 100:
            hint = f"; shares are fractions: write {value / 100:g} for {value:g} %"
        return (f"{toml_text(value)} is outside the allowed range "
                f"[{spec.range[0]:g}, {spec.range[1]:g}] ({spec.about.unit}){hint}")
    if spec.integer and not float(value).is_integer():
        return f"expected a whole number, {found(value, 'number')}"
    return None


def check_lever(spec: LeverSpec, value: Any) -> tuple[str | None, str | None]:
    """(sub-key, message) of the first problem with a lever value, or (None, None)."""
    default = spec.default
    if spec.choices is not None:
        if value not in spec.choices:
            return None, f"expected one of {', '.join(toml_text(c) for c in spec.choices)}, {found(value)}"
        return None, None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            return None, f"expected true or false, {found(value, 'bool')}"
        return None, None
    if isinstance(value, dict):
        if not spec.schedule:
            return None, "this lever takes one number, not a yearly schedule"
        if not value:
            return None, "a yearly schedule needs at least one year, e.g. { 2017 = 1, 2020 = 2 }"
        for year, v in value.items():
            if not is_year(year) or int(year) not in YEARS:
                return year, f"schedule years must lie in {YEARS[0]}-{YEARS[-1]}, found {year}"
            problem = _check_number(v, spec)
            if problem:
                return year, problem
        return None, None
    return None, _check_number(value, spec)


class Validator:
    """Checks one merged document; errors point at the file of the layer that set a key."""

    def __init__(self, layers: list[Layer]):
        self.layers = layers
        self.params = all_params()
        for layer in layers:
            check_spellings(layer)

    def once(self, section: str, module: str, pairs) -> list[tuple[str, Any]]:
        """Each name once; a name that two files spell differently takes the last file's value."""
        out: dict[str, Any] = {}
        twice = set()
        for name, value in pairs:
            if name in out:
                twice.add(name)
            out[name] = value
        for name in twice:
            full = f"{module}.{name}"
            for layer in reversed(self.layers):
                pieces = [(".".join(raw), value) for raw, value in spellings(section, layer.doc.get(section))
                          if ".".join(raw) == full or ".".join(raw).startswith(full + ".")]
                if not pieces:
                    continue
                whole = [value for joined, value in pieces if joined == full]
                if not whole:  # only part of it, while an extended file spells the whole differently
                    raise ScenarioError(layer.path, f"{section}.{pieces[0][0]}",
                                        "sets part of a value that an extended file writes in another spelling; "
                                        "write the whole value here (distributions and schedules are replaced "
                                        "whole, not merged)", find_line(layer.text, f"{section}.{pieces[0][0]}"))
                out[name] = whole[0]
                break
        return list(out.items())

    def fail(self, keypath: str, message: str, owner: str | None = None) -> None:
        """Raise for the last file that sets the longest part of ``keypath``.

        ``owner`` is the lever or uncertainty the key belongs to: a file that sets the owner
        replaced it whole (distributions and schedules are not merged), so it is to blame.
        """
        parts = re.sub(r"\[\d+\]", "", keypath).split(".")
        enough = len(owner.split(".")) if owner else len(parts) + 1
        best, depth = self.layers[-1], -1
        for layer in reversed(self.layers):
            d = defined_depth(layer.doc, parts)
            if d >= enough:
                best = layer
                break
            if d > depth:
                best, depth = layer, d
        raise ScenarioError(best.path, keypath, message, find_line(best.text, keypath))

    def table(self, value: Any, keypath: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(keypath, f"expected a table, {found(value)}")
        return value

    def modules_table(self, doc: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
        tables = self.table(doc.get(section, {}), section)
        for module in tables:
            if module not in MODULE_NAMES:
                self.fail(f"{section}.{module}",
                          f"unknown module (modules: {', '.join(MODULE_NAMES)}){suggest(module, MODULE_NAMES)}")
            self.table(tables[module], f"{section}.{module}")
        return tables

    def walk(self, section: str, module: str, table: dict[str, Any], declared, leaf, prefix: str = ""):
        """Yield (name, value) for declared names, descending into groups."""
        for key, value in table.items():
            name = prefix + key
            keypath = f"{section}.{module}.{name}"
            if name in declared:
                yield name, value
            elif isinstance(value, dict) and not leaf(value) and any(d.startswith(name + ".") for d in declared):
                yield from self.walk(section, module, value, declared, leaf, name + ".")
            else:
                members = [d for d in declared if d.startswith(name + ".")]
                if members:
                    self.fail(keypath,
                              f"is a group ({', '.join(members[:3])}, ...); expected a table of them, {found(value)}")
                kind = {"levers": "lever", "uncertainties": "uncertainty"}[section]
                self.fail(keypath, f"unknown {kind} of '{module}'{suggest(name, declared)}"
                          f" (see `python -m model params {module}` for the list)")

    def levers(self, doc: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
        resolved = {spec.key: spec.default for p in self.params.values() for spec in p.levers.values()}
        given: set[str] = set()
        for module, table in self.modules_table(doc, "levers").items():
            declared = self.params[module].levers
            pairs = self.walk("levers", module, table, declared, lambda v: all(is_year(k) for k in v))
            for name, value in self.once("levers", module, pairs):
                spec = declared[name]
                sub, problem = check_lever(spec, value)
                if problem:
                    self.fail(f"levers.{module}.{name}" + (f".{sub}" if sub else ""), problem,
                              owner=f"levers.{module}.{name}")
                resolved[spec.key] = value
                given.add(spec.key)
        return resolved, given

    def uncertainties(self, doc: dict[str, Any]) -> tuple[dict[str, Distribution], set[str]]:
        resolved = {spec.key: spec.default for p in self.params.values() for spec in p.uncertainties.values()}
        given: set[str] = set()
        for module, table in self.modules_table(doc, "uncertainties").items():
            declared = self.params[module].uncertainties
            for name, value in self.once("uncertainties", module,
                                         self.walk("uncertainties", module, table, declared, lambda v: "dist" in v)):
                keypath = f"uncertainties.{module}.{name}"
                spec = declared[name]
                try:
                    dist = Distribution.from_spec(value)
                except SpecError as exc:
                    message = str(exc)
                    if exc.key == "dist" and isinstance(value, dict) and len(self.layers) > 1:
                        message += (" (a distribution replaces the inherited one whole: "
                                    "give dist and all its parameters)")
                    self.fail(keypath + (f".{exc.key}" if exc.key else ""), message, owner=keypath)
                if spec.range is not None:
                    low, high = dist.support()
                    if low < spec.range[0] or high > spec.range[1]:
                        self.fail(keypath, f"{dist.describe()} can give values in [{low:g}, {high:g}], "
                                  "outside the allowed range "
                                  f"[{spec.range[0]:g}, {spec.range[1]:g}] ({spec.about.unit}); "
                                  "narrow it or add low/high truncation")
                resolved[spec.key] = dist
                given.add(spec.key)
        return resolved, given

    def correlations(self, doc: dict[str, Any],
                     uncertainties: dict[str, Distribution]) -> tuple[tuple[str, str, float], ...]:
        items = doc.get("correlations", [])
        if not isinstance(items, list):
            self.fail("correlations",
                      "expected an array of tables: [[correlations]] between = [\"a\", \"b\"], rank = 0.5")
        out: list[tuple[str, str, float]] = []
        for i, item in enumerate(items):
            keypath = f"correlations[{i}]"
            if not isinstance(item, dict):
                self.fail(keypath, "expected a table with 'between' and 'rank'")
            for key in item:
                if key not in CORRELATION_KEYS:
                    self.fail(f"{keypath}.{key}",
                              f"unknown key; a correlation has 'between' and 'rank'{suggest(key, CORRELATION_KEYS)}")
            between, rank = item.get("between"), item.get("rank")
            if not (isinstance(between, list) and len(between) == 2 and all(isinstance(b, str) for b in between)):
                self.fail(f"{keypath}.between",
                          "expected two uncertainty names like "
                          f"[\"green.growth.steel\", \"green.growth.nonferrous\"], {found(between)}")
            for name in between:
                if name not in uncertainties:
                    self.fail(f"{keypath}.between",
                              f"unknown uncertainty {toml_text(name)}{suggest(name, uncertainties)}")
            if between[0] == between[1]:
                self.fail(f"{keypath}.between", "an uncertainty cannot be correlated with itself")
            for name in between:
                if uncertainties[name].kind == "fixed" and rank != 0:
                    self.fail(f"{keypath}.between",
                              f"{name} is a fixed value in this scenario, so it cannot be correlated with anything; "
                              "give it a distribution or remove the correlation")
            if rank is None:
                self.fail(f"{keypath}.rank", "rank is missing; add e.g. rank = 0.5 (a rank correlation in [-1, 1])")
            if isinstance(rank, bool) or not isinstance(rank, (int, float)) or not -1 <= rank <= 1:
                self.fail(f"{keypath}.rank", f"expected a rank correlation in [-1, 1], {found(rank, 'number')}")
            out.append((between[0], between[1], float(rank)))
        pairs = [tuple(sorted(c[:2])) for c in out]
        if len(set(pairs)) != len(pairs):
            self.fail("correlations", "the same pair appears twice; keep one")
        if out and not is_positive_definite(correlation_matrix(out)[1]):
            self.fail("correlations",
                      "these correlations are not jointly possible (the matrix is not positive definite); "
                      "weaken some of them")
        return tuple(out)

    def links(self, doc: dict[str, Any]) -> dict[str, bool]:
        """``[links]``: link name -> on/off; every link not named stays on."""
        out = {name: True for name in LINKS}
        for name, value in self.table(doc.get("links", {}), "links").items():
            if name not in LINKS:
                self.fail(f"links.{name}", f"unknown link (known: {', '.join(LINKS)}){suggest(name, LINKS)}")
            if not isinstance(value, bool):
                self.fail(f"links.{name}", f"expected true or false, {found(value, 'bool')}")
            out[name] = value
        return out

    def thresholds(self, doc: dict[str, Any]) -> dict[str, float]:
        registry = {t.id: t for t in load_registry()}
        out: dict[str, float] = {}
        for target_id, value in self.table(doc.get("targets", {}), "targets").items():
            keypath = f"targets.{target_id}"
            if target_id not in registry:
                hint = suggest(target_id, registry)
                if not hint and isinstance(value, dict) and "threshold" not in value:
                    hint = ('; target ids contain dots, so quote them: '
                            '"green.energy_intensity_cut.2020" = { threshold = 15 }')
                self.fail(keypath, f"unknown target id{hint}")
            target = registry[target_id]
            value = self.table(value, keypath)
            for key in value:
                if key != "threshold":
                    self.fail(f"{keypath}.{key}", "only 'threshold' can be set for a target")
            threshold = value.get("threshold")
            if not target.reading:
                self.fail(keypath, "this threshold is written in the plan, not a reading; it cannot be changed")
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
                self.fail(f"{keypath}.threshold", f"expected a number in {target.unit}, {found(threshold, 'number')}")
            if target.unit == "%" and not 0 <= threshold <= 100:
                self.fail(f"{keypath}.threshold", f"a percentage must lie in [0, 100], found {toml_text(threshold)}")
            out[target_id] = float(threshold)
        return out


#: Longest scenario name [characters]: four names joined into a comparison folder's name stay
#: well within the 255 bytes a file name may have.
MAX_NAME = 48
#: What a scenario name may hold (it names output folders).
NAME_PATTERN = r"[A-Za-z0-9_\-]+"


def check_meta(layer: Layer) -> dict[str, Any]:
    meta = layer.doc.get("scenario")
    if not isinstance(meta, dict):
        raise ScenarioError(layer.path, "scenario", "missing [scenario] table with name, title_zh and title_en",
                            find_line(layer.text, "scenario"))
    for key, value in meta.items():
        if key not in META_KEYS:
            raise ScenarioError(layer.path, f"scenario.{key}",
                                f"unknown key (allowed: {', '.join(META_KEYS)}){suggest(key, META_KEYS)}",
                                find_line(layer.text, f"scenario.{key}"))
        if not isinstance(value, str):
            raise ScenarioError(layer.path, f"scenario.{key}", f"expected text in quotes, {found(value)}",
                                find_line(layer.text, f"scenario.{key}"))
    for key in REQUIRED_META:
        if not meta.get(key, "").strip():
            raise ScenarioError(layer.path, f"scenario.{key}",
                                "is required (name, title_zh and title_en identify the scenario in tables and briefs)",
                                find_line(layer.text, "scenario"))
    if len(meta["name"]) > MAX_NAME:
        raise ScenarioError(layer.path, "scenario.name",
                            f"is {len(meta['name'])} characters long; use at most {MAX_NAME} "
                            "(it names output folders, and a comparison joins several names)",
                            find_line(layer.text, "scenario.name"))
    if not re.fullmatch(NAME_PATTERN, meta["name"]):
        raise ScenarioError(layer.path, "scenario.name",
                            "use letters, digits, '-' or '_' only (it names output folders), "
                            f"found {toml_text(meta['name'])}",
                            find_line(layer.text, "scenario.name"))
    return meta
