"""Scenario files: TOML loading, ``extends`` chains, validation and the resolved Scenario.

A scenario file has the tables ``[scenario]``, ``[levers.<module>]``,
``[uncertainties.<module>]``, ``[[correlations]]`` and ``[targets]``. Everything is checked
against the modules' parameter declarations (``model/data/params``) before any simulation;
every problem raises :class:`ScenarioError` naming the file, the key path and, where it can be
found, the line. Nothing in a file is evaluated as code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import numpy as np

from .distributions import Distribution, SpecError, is_positive_definite
from .modules import MODULE_NAMES
from .params import LeverSpec, all_params
from .targets import load_registry
from .timeline import YEARS

TOP_KEYS = ("scenario", "levers", "uncertainties", "correlations", "targets")
META_KEYS = ("name", "title_zh", "title_en", "description", "extends")
REQUIRED_META = ("name", "title_zh", "title_en")
CORRELATION_KEYS = ("between", "rank")


class ScenarioError(ValueError):
    """A user's scenario file is wrong. ``str()`` is the one line to show them."""

    def __init__(self, file: str | Path, key: str | None, message: str, line: int | None = None):
        self.file, self.key, self.message, self.line = str(file), key, message, line
        where = self.file + (f":{line}" if line else "")
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


def _suggest(word: str, options) -> str:
    near = get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{near[0]}'?" if near else ""


# -- line numbers -----------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def find_line(text: str, keypath: str) -> int | None:
    """Best-effort line of ``keypath`` in TOML ``text``: the line defining the longest prefix."""
    target = _split_key(keypath)
    best, best_len = None, 0
    table: list[str] = []
    arrays: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            if line.lstrip().startswith("[["):  # array of tables: the i-th one is name[i]
                name = ".".join(table)
                arrays[name] = arrays.get(name, -1) + 1
                table = table[:-1] + [f"{table[-1]}[{arrays[name]}]"]
            path = table
        else:
            key = _KEYLINE.match(line)
            if not key:
                continue
            path = table + _split_key(key.group(1))
        common = 0
        for a, b in zip(path, target):
            if a != b:
                break
            common += 1
        # a line defines the key if its path is a prefix of the key, or the key a prefix of it
        if (common == len(path) or common == len(target)) and common > best_len:
            best, best_len = number, common
    return best


# -- loading and extends ----------------------------------------------------------------------
def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        if not path.exists():
            raise ScenarioError(path, None, "file not found; check the path (relative paths start from the current directory)")
        if path.is_dir():
            raise ScenarioError(path, None, "is a directory; give a scenario .toml file")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, f"is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except OSError as exc:
        raise ScenarioError(path, None, f"cannot be read ({exc.strerror or exc}); check the path and its permissions") from exc
    try:
        return tomllib.loads(text), text
    except RecursionError as exc:
        raise ScenarioError(path, None, "invalid TOML: arrays or tables nested too deeply") from exc
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(
            path, None, f"invalid TOML: {exc}", int(match.group(1)) if match else None
        ) from exc


_YEAR = re.compile(r"[0-9]{4}")


def _is_year(key: Any) -> bool:
    return isinstance(key, str) and _YEAR.fullmatch(key) is not None


def _is_replacing_table(value: Any) -> bool:
    """Distribution specs and yearly schedules replace a parent's value wholesale."""
    return isinstance(value, dict) and ("dist" in value or any(_is_year(k) for k in value))


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Key-by-key merge: child wins; tables merge recursively; arrays and specs replace."""
    out = copy.deepcopy(parent)
    for key, value in child.items():
        if (
            isinstance(value, dict)
            and isinstance(out.get(key), dict)
            and not _is_replacing_table(value)
            and not _is_replacing_table(out[key])
        ):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class _Layer:
    path: Path
    doc: dict[str, Any]
    text: str


def _load_chain(path: Path, stack: tuple[Path, ...] = ()) -> list[_Layer]:
    """The file and its ``extends`` ancestors, root first."""
    try:
        path = path.resolve()
    except OSError as exc:
        raise ScenarioError(path, None, f"cannot be read ({exc}); check the path") from exc
    doc, text = _read_toml(path)
    meta = doc.get("scenario", {})
    parent = meta.get("extends") if isinstance(meta, dict) else None
    layers: list[_Layer] = []
    if parent is not None:
        if not isinstance(parent, str) or not parent:
            raise ScenarioError(path, "scenario.extends", f"expected a file name like \"plan.toml\", found {parent!r}", find_line(text, "scenario.extends"))
        line = find_line(text, "scenario.extends")
        parent_path = path.parent / parent
        try:
            found = parent_path.is_file()
            parent_path = parent_path.resolve()
        except (OSError, ValueError):  # e.g. a name too long or holding a NUL character
            found = False
        if not found:
            raise ScenarioError(path, "scenario.extends", f"extends {parent!r}, which is not a file next to this one; check the name", line)
        if parent_path in stack + (path,):
            cycle = " -> ".join(p.name for p in stack + (path, parent_path))
            raise ScenarioError(path, "scenario.extends", f"extends cycle: {cycle}; remove one of these links", line)
        layers = _load_chain(parent_path, stack + (path,))
    return layers + [_Layer(path, doc, text)]


# -- the resolved scenario ----------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A fully resolved scenario: every lever and uncertainty of every module has a value.

    Attributes
    ----------
    levers : dict
        ``"module.name"`` -> value; schedule levers hold ``{year: value}`` as given.
    uncertainties : dict
        ``"module.name"`` -> :class:`~model.distributions.Distribution`.
    correlations : tuple
        ``(key_a, key_b, rank_correlation)``.
    thresholds : dict
        Target id -> threshold overriding a *reading* of the registry.
    """

    name: str
    title_zh: str
    title_en: str
    description: str
    levers: dict[str, Any]
    uncertainties: dict[str, Distribution]
    correlations: tuple[tuple[str, str, float], ...] = ()
    thresholds: dict[str, float] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    overridden: frozenset[str] = frozenset()

    def lever_values(self, module: str) -> dict[str, Any]:
        """Levers of ``module`` as the module receives them (schedules as yearly arrays)."""
        specs = all_params()[module].levers
        out: dict[str, Any] = {}
        for name, spec in specs.items():
            value = self.levers[f"{module}.{name}"]
            if spec.schedule:
                out[name] = schedule_array(value)
            elif spec.integer:
                out[name] = int(value)
            else:
                out[name] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready resolved form (saved in the manifest and hashed)."""
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "description": self.description,
            "levers": {k: (dict(sorted(v.items())) if isinstance(v, dict) else v) for k, v in sorted(self.levers.items())},
            "uncertainties": {k: {"dist": d.kind, **dict(d.params)} for k, d in sorted(self.uncertainties.items())},
            "correlations": [list(c) for c in self.correlations],
            "thresholds": dict(sorted(self.thresholds.items())),
        }

    def hash(self) -> str:
        """SHA-256 of the resolved content (levers, uncertainties, correlations, thresholds)."""
        content = {k: v for k, v in self.to_dict().items() if k not in ("title_zh", "title_en", "description", "name")}
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def schedule_array(value: Any) -> np.ndarray:
    """A lever value (number or ``{year: number}``) as a float array over :data:`YEARS`.

    Between given years the value is interpolated linearly; before the first and after the
    last given year it stays flat.
    """
    if isinstance(value, dict):
        points = sorted((int(year), float(v)) for year, v in value.items())
        return np.interp(np.array(YEARS, float), [p[0] for p in points], [p[1] for p in points])
    return np.full(len(YEARS), float(value))


def _check_number(value: Any, spec: LeverSpec) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"expected a number ({spec.about.unit}), found {value!r}"
    if spec.range and not spec.range[0] <= value <= spec.range[1]:
        return f"{value!r} is outside the allowed range [{spec.range[0]:g}, {spec.range[1]:g}] ({spec.about.unit})"
    if spec.integer and not float(value).is_integer():
        return f"expected a whole number, found {value!r}"
    return None


def _check_lever(spec: LeverSpec, value: Any) -> tuple[str | None, str | None]:
    """(sub-key, message) of the first problem with a lever value, or (None, None)."""
    default = spec.default
    if spec.choices is not None:
        if value not in spec.choices:
            return None, f"expected one of {', '.join(repr(c) for c in spec.choices)}, found {value!r}"
        return None, None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            return None, f"expected true or false, found {value!r}"
        return None, None
    if isinstance(value, dict):
        if not spec.schedule:
            return None, "this lever takes one number, not a yearly schedule"
        if not value:
            return None, "a yearly schedule needs at least one year, e.g. { 2017 = 1, 2020 = 2 }"
        for year, v in value.items():
            if not _is_year(year) or int(year) not in YEARS:
                return year, f"schedule years must lie in {YEARS[0]}-{YEARS[-1]}, found {year!r}"
            problem = _check_number(v, spec)
            if problem:
                return year, problem
        return None, None
    return None, _check_number(value, spec)


class _Validator:
    """Checks one merged document; errors point at the file of the layer that set a key."""

    def __init__(self, layers: list[_Layer]):
        self.layers = layers
        self.params = all_params()

    def fail(self, keypath: str, message: str, owner: str | None = None) -> None:
        """Raise for the last file that sets the longest part of ``keypath``.

        ``owner`` is the lever or uncertainty the key belongs to: a file that sets the owner
        replaced it whole (distributions and schedules are not merged), so it is to blame.
        """
        parts = re.sub(r"\[\d+\]", "", keypath).split(".")
        enough = len(owner.split(".")) if owner else len(parts) + 1
        best, depth = self.layers[-1], -1
        for layer in reversed(self.layers):
            d = _defined_depth(layer.doc, parts)
            if d >= enough:
                best = layer
                break
            if d > depth:
                best, depth = layer, d
        raise ScenarioError(best.path, keypath, message, find_line(best.text, keypath))

    def table(self, value: Any, keypath: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(keypath, f"expected a table, found {value!r}")
        return value

    def modules_table(self, doc: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
        tables = self.table(doc.get(section, {}), section)
        for module in tables:
            if module not in MODULE_NAMES:
                self.fail(f"{section}.{module}", f"unknown module (modules: {', '.join(MODULE_NAMES)}){_suggest(module, MODULE_NAMES)}")
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
                    self.fail(keypath, f"is a group ({', '.join(members[:3])}, ...); expected a table of them, found {value!r}")
                kind = {"levers": "lever", "uncertainties": "uncertainty"}[section]
                self.fail(keypath, f"unknown {kind} of '{module}'{_suggest(name, declared)}"
                          f" (see `python -m model params {module}` for the list)")

    def levers(self, doc: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
        resolved = {spec.key: spec.default for p in self.params.values() for spec in p.levers.values()}
        given: set[str] = set()
        for module, table in self.modules_table(doc, "levers").items():
            declared = self.params[module].levers
            for name, value in self.walk("levers", module, table, declared, lambda v: all(_is_year(k) for k in v)):
                spec = declared[name]
                sub, problem = _check_lever(spec, value)
                if problem:
                    self.fail(f"levers.{module}.{name}" + (f".{sub}" if sub else ""), problem, owner=f"levers.{module}.{name}")
                resolved[spec.key] = value
                given.add(spec.key)
        return resolved, given

    def uncertainties(self, doc: dict[str, Any]) -> tuple[dict[str, Distribution], set[str]]:
        resolved = {spec.key: spec.default for p in self.params.values() for spec in p.uncertainties.values()}
        given: set[str] = set()
        for module, table in self.modules_table(doc, "uncertainties").items():
            declared = self.params[module].uncertainties
            for name, value in self.walk("uncertainties", module, table, declared, lambda v: "dist" in v):
                keypath = f"uncertainties.{module}.{name}"
                spec = declared[name]
                try:
                    dist = Distribution.from_spec(value)
                except SpecError as exc:
                    message = str(exc)
                    if exc.key == "dist" and isinstance(value, dict) and len(self.layers) > 1:
                        message += " (a distribution replaces the inherited one whole: give dist and all its parameters)"
                    self.fail(keypath + (f".{exc.key}" if exc.key else ""), message, owner=keypath)
                if spec.range is not None:
                    low, high = dist.support()
                    if low < spec.range[0] or high > spec.range[1]:
                        self.fail(keypath, f"{dist.describe()} can give values in [{low:g}, {high:g}], outside the allowed range "
                                  f"[{spec.range[0]:g}, {spec.range[1]:g}] ({spec.about.unit}); narrow it or add low/high truncation")
                resolved[spec.key] = dist
                given.add(spec.key)
        return resolved, given

    def correlations(self, doc: dict[str, Any], uncertainties: dict[str, Distribution]) -> tuple[tuple[str, str, float], ...]:
        items = doc.get("correlations", [])
        if not isinstance(items, list):
            self.fail("correlations", "expected an array of tables: [[correlations]] between = [\"a\", \"b\"], rank = 0.5")
        out: list[tuple[str, str, float]] = []
        for i, item in enumerate(items):
            keypath = f"correlations[{i}]"
            if not isinstance(item, dict):
                self.fail(keypath, "expected a table with 'between' and 'rank'")
            for key in item:
                if key not in CORRELATION_KEYS:
                    self.fail(f"{keypath}.{key}", f"unknown key; a correlation has 'between' and 'rank'{_suggest(key, CORRELATION_KEYS)}")
            between, rank = item.get("between"), item.get("rank")
            if not (isinstance(between, list) and len(between) == 2 and all(isinstance(b, str) for b in between)):
                self.fail(f"{keypath}.between", f"expected two uncertainty names like [\"green.growth.steel\", \"green.growth.nonferrous\"], found {between!r}")
            for name in between:
                if name not in uncertainties:
                    self.fail(f"{keypath}.between", f"unknown uncertainty {name!r}{_suggest(name, uncertainties)}")
            if between[0] == between[1]:
                self.fail(f"{keypath}.between", "an uncertainty cannot be correlated with itself")
            if isinstance(rank, bool) or not isinstance(rank, (int, float)) or not -1 <= rank <= 1:
                self.fail(f"{keypath}.rank", f"expected a rank correlation in [-1, 1], found {rank!r}")
            out.append((between[0], between[1], float(rank)))
        pairs = [tuple(sorted(c[:2])) for c in out]
        if len(set(pairs)) != len(pairs):
            self.fail("correlations", "the same pair appears twice; keep one")
        if out and not is_positive_definite(correlation_matrix(out)[1]):
            self.fail("correlations", "these correlations are not jointly possible (the matrix is not positive definite); weaken some of them")
        return tuple(out)

    def thresholds(self, doc: dict[str, Any]) -> dict[str, float]:
        registry = {t.id: t for t in load_registry()}
        out: dict[str, float] = {}
        for target_id, value in self.table(doc.get("targets", {}), "targets").items():
            keypath = f"targets.{target_id}"
            if target_id not in registry:
                hint = _suggest(target_id, registry)
                if not hint and isinstance(value, dict) and "threshold" not in value:
                    hint = '; target ids contain dots, so quote them: "green.energy_intensity_cut.2020" = { threshold = 15 }'
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
                self.fail(f"{keypath}.threshold", f"expected a number in {target.unit}, found {threshold!r}")
            if target.unit == "%" and not 0 <= threshold <= 100:
                self.fail(f"{keypath}.threshold", f"a percentage must lie in [0, 100], found {threshold!r}")
            out[target_id] = float(threshold)
        return out


def _defined_depth(node: Any, parts: list[str]) -> int:
    """How many leading parts of a key path a parsed TOML document sets (dotted names nested or flat)."""
    if not parts or not isinstance(node, dict):
        return 0
    best = 0
    for k in range(1, len(parts) + 1):
        key = ".".join(parts[:k])
        if key in node:
            best = max(best, k + _defined_depth(node[key], parts[k:]))
    return best


def correlation_matrix(correlations) -> tuple[list[str], np.ndarray]:
    """Names involved in ``correlations`` and their rank-correlation matrix."""
    names = sorted({n for a, b, _ in correlations for n in (a, b)})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for a, b, rho in correlations:
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
    return names, matrix


def _check_meta(layer: _Layer) -> dict[str, Any]:
    meta = layer.doc.get("scenario")
    if not isinstance(meta, dict):
        raise ScenarioError(layer.path, "scenario", "missing [scenario] table with name, title_zh and title_en", find_line(layer.text, "scenario"))
    for key, value in meta.items():
        if key not in META_KEYS:
            raise ScenarioError(layer.path, f"scenario.{key}", f"unknown key (allowed: {', '.join(META_KEYS)}){_suggest(key, META_KEYS)}", find_line(layer.text, f"scenario.{key}"))
        if not isinstance(value, str):
            raise ScenarioError(layer.path, f"scenario.{key}", f"expected text in quotes, found {value!r}", find_line(layer.text, f"scenario.{key}"))
    for key in REQUIRED_META:
        if not meta.get(key, "").strip():
            raise ScenarioError(layer.path, f"scenario.{key}", "is required (name, title_zh and title_en identify the scenario in tables and briefs)", find_line(layer.text, "scenario"))
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", meta["name"]):
        raise ScenarioError(layer.path, "scenario.name", f"use letters, digits, '-' or '_' only (it names output folders), found {meta['name']!r}", find_line(layer.text, "scenario.name"))
    return meta


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Raises
    ------
    ScenarioError
        For any problem in the file or its ``extends`` chain.
    """
    layers = _load_chain(Path(path))
    merged: dict[str, Any] = {}
    for layer in layers:
        for key in layer.doc:
            if key not in TOP_KEYS:
                raise ScenarioError(layer.path, key, f"unknown top-level key (allowed: {', '.join(TOP_KEYS)}){_suggest(key, TOP_KEYS)}", find_line(layer.text, key))
        body = {k: v for k, v in layer.doc.items() if k != "scenario"}
        merged = merge(merged, body)
    meta = _check_meta(layers[-1])
    for layer in layers[:-1]:
        _check_meta(layer)
    check = _Validator(layers)
    levers, given_levers = check.levers(merged)
    uncertainties, given_unc = check.uncertainties(merged)
    correlations = check.correlations(merged, uncertainties)
    thresholds = check.thresholds(merged)
    return Scenario(
        name=meta["name"],
        title_zh=meta["title_zh"],
        title_en=meta["title_en"],
        description=meta.get("description", ""),
        levers=levers,
        uncertainties=uncertainties,
        correlations=correlations,
        thresholds=thresholds,
        files=tuple(str(layer.path) for layer in layers),
        overridden=frozenset(given_levers | given_unc),
    )


def default_scenario() -> Scenario:
    """Every lever and uncertainty at its declared default (the plan as written)."""
    params = all_params()
    return Scenario(
        name="defaults",
        title_zh="默认参数",
        title_en="Declared defaults",
        description="Every parameter at the default declared with its source.",
        levers={s.key: s.default for p in params.values() for s in p.levers.values()},
        uncertainties={s.key: s.default for p in params.values() for s in p.uncertainties.values()},
    )

