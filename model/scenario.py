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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .distributions import Distribution
from .links import LINKS
from .observed import Observed, load_observed
from .params import all_params
from .timeline import YEARS
from .tomlfile import Layer, ScenarioError, find_line, is_year, read_toml, suggest, toml_text
from .tomlfile import found as describe_found
from .validation import TOP_KEYS, Validator, check_meta

__all__ = ["Scenario", "ScenarioError", "default_scenario", "find_line", "load_scenario", "merge", "schedule_array"]


def _is_replacing_table(value: Any) -> bool:
    """Distribution specs and yearly schedules replace a parent's value wholesale."""
    return isinstance(value, dict) and ("dist" in value or any(is_year(k) for k in value))


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


#: Longest ``extends`` chain: a file, its parent, its grandparent ... (the shipped ones use 2).
MAX_EXTENDS = 16


def _resolve(path: Path, origin: Path | None = None, line: int | None = None) -> Path:
    """``path`` with every symbolic link followed; a loop or an unreadable path is an error."""
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop (Python < 3.13)
        where, key = (origin, "scenario.extends") if origin else (path, None)
        raise ScenarioError(where, key, f"{path.name} is a loop of symbolic links or cannot be resolved; "
                            "point it at a real file", line) from None


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file (anything but a folder); False where it cannot even be looked up."""
    try:
        return path.exists() and not path.is_dir()
    except (OSError, ValueError):  # a name too long, a NUL character
        return False


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _parent_path(layer: Layer, parent: object, roots: tuple[Path, ...]) -> Path:
    """The file a layer extends, checked: a .toml file inside an allowed folder tree."""
    line = find_line(layer.text, "scenario.extends")
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(layer.path, "scenario.extends", f"expected a file name like \"plan.toml\", "
                            f"{describe_found(parent)}", line)
    if "\x00" in parent or not parent.lower().endswith(".toml"):
        raise ScenarioError(layer.path, "scenario.extends", f"extends {toml_text(parent)}, which is not "
                            "a scenario file; name a .toml file such as \"plan.toml\"", line)
    resolved = _resolve(layer.path.parent / parent, layer.path, line)
    if not _inside(resolved, roots):
        allowed = " or ".join(str(r) for r in roots)
        raise ScenarioError(layer.path, "scenario.extends", f"extends {parent!r}, which is outside {allowed}; "
                            "copy it next to this file, or allow its folder with --scenario-path", line)
    if not _is_file(resolved):
        raise ScenarioError(layer.path, "scenario.extends", f"extends {parent!r}, which is not a file next to "
                            "this one; check the name", line)
    return resolved


def _load_chain(path: Path, search_path: tuple[str | Path, ...] = ()) -> list[Layer]:
    """The file and its ``extends`` ancestors, root first (at most MAX_EXTENDS files).

    ``extends`` may name only ``.toml`` files inside the first file's own folder tree or a
    folder of ``search_path``; symbolic links are followed and loops reported.
    """
    if not path.name.lower().endswith(".toml") and _is_file(path):
        raise ScenarioError(path, None, "is not a scenario file; scenario files end in .toml")
    first = _resolve(path)
    if path.is_symlink() and _is_file(first) and not first.name.lower().endswith(".toml"):
        # a link named like a scenario that points at /etc/passwd or /proc/self/environ: never quote it
        raise ScenarioError(path, None, f"is a symbolic link to {first.name}, which is not a scenario file; "
                            "scenario files end in .toml")
    roots = (first.parent, *(_resolve(Path(p)) for p in search_path))
    layers: list[Layer] = []
    current = first
    while True:
        doc, text = read_toml(current)
        layer = Layer(current, doc, text)
        layers.append(layer)
        meta = doc.get("scenario", {})
        parent = meta.get("extends") if isinstance(meta, dict) else None
        if parent is None:
            return layers[::-1]
        parent_path = _parent_path(layer, parent, roots)
        seen = [lay.path for lay in layers]
        if parent_path in seen:
            cycle = " -> ".join(p.name for p in [*seen, parent_path])
            raise ScenarioError(current, "scenario.extends", f"extends cycle: {cycle}; remove one of these links",
                                find_line(text, "scenario.extends"))
        if len(layers) >= MAX_EXTENDS:
            raise ScenarioError(current, "scenario.extends", f"the extends chain is longer than {MAX_EXTENDS} files; "
                                "extend a file nearer the root", find_line(text, "scenario.extends"))
        current = parent_path


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
    links : dict
        Link name (see :mod:`model.links`) -> on/off; links not listed are on.
    observed : Observed or None
        The observed figures a run of the scenario is conditioned on (``observed`` of
        ``[scenario]``, a path relative to the file that sets it; :mod:`model.conditioning`).
        Not part of :meth:`hash`: the manifest records the file and its own hash.
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
    links: dict[str, bool] = field(default_factory=lambda: {name: True for name in LINKS})
    description_zh: str = ""
    observed: Observed | None = None

    @property
    def enabled_links(self) -> frozenset[str]:
        """Names of the links that are on."""
        return frozenset(name for name, on in self.links.items() if on)

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
            "description_zh": self.description_zh,
            "levers": {k: (dict(sorted(v.items())) if isinstance(v, dict) else v)
                       for k, v in sorted(self.levers.items())},
            "uncertainties": {k: {"dist": d.kind, **dict(d.params)} for k, d in sorted(self.uncertainties.items())},
            "correlations": [list(c) for c in self.correlations],
            "thresholds": dict(sorted(self.thresholds.items())),
            "links": dict(sorted(self.links.items())),
        }

    def hash(self) -> str:
        """SHA-256 of the resolved content (levers, uncertainties, correlations, thresholds)."""
        content = {k: v for k, v in self.to_dict().items()
                   if k not in ("title_zh", "title_en", "description", "description_zh", "name")}
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


def load_scenario(path: str | Path, search_path: tuple[str | Path, ...] = ()) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The scenario file (``.toml``).
    search_path : tuple of str or Path
        Folders besides the file's own folder tree whose ``.toml`` files ``extends`` may name.

    Raises
    ------
    ScenarioError
        For any problem in the file or its ``extends`` chain.
    """
    layers = _load_chain(Path(path), tuple(search_path))
    merged: dict[str, Any] = {}
    for layer in layers:
        for key in layer.doc:
            if key not in TOP_KEYS:
                raise ScenarioError(layer.path, key,
                                    f"unknown top-level key (allowed: {', '.join(TOP_KEYS)}){suggest(key, TOP_KEYS)}",
                                    find_line(layer.text, key))
        body = {k: v for k, v in layer.doc.items() if k != "scenario"}
        merged = merge(merged, body)
    meta = check_meta(layers[-1])
    for layer in layers[:-1]:
        check_meta(layer)
    check = Validator(layers)
    levers, given_levers = check.levers(merged)
    uncertainties, given_unc = check.uncertainties(merged)
    correlations = check.correlations(merged, uncertainties)
    thresholds = check.thresholds(merged)
    links = check.links(merged)
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
        links=links,
        description_zh=meta.get("description_zh", ""),
        observed=_observed(layers),
    )


def _observed(layers: list[Layer]) -> Observed | None:
    """The figures named by ``observed`` in the nearest file of the chain that sets it, loaded
    and checked (its errors name the observed file)."""
    for layer in reversed(layers):
        name = layer.doc["scenario"].get("observed")
        if name is None:
            continue
        if not name.lower().endswith(".toml") or "\x00" in name:
            raise ScenarioError(layer.path, "scenario.observed", f"{toml_text(name)} is not an observed-figures "
                                "file; name a .toml file such as \"observed/2018-h1.toml\"",
                                find_line(layer.text, "scenario.observed"))
        path = layer.path.parent / name
        if not _is_file(path):
            raise ScenarioError(layer.path, "scenario.observed", f"{toml_text(name)} is not a file (the path is "
                                f"relative to this scenario file: {path})", find_line(layer.text, "scenario.observed"))
        return load_observed(path)
    return None


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
