"""The assumptions of a brief: each lever with each run's value, the uncertainties a scenario
changed, the links switched off and the thresholds read differently (numbers and names only;
the phrases live in ``locale/<lang>.toml``)."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import numpy as np

from ..distributions import Distribution, SpecError
from ..links import LINKS
from ..params import all_params
from ..readable import lever_text
from ..runs import Run
from ..scenario import schedule_array
from ..targets import load_registry
from .i18n import describe_distribution, unit_label, value_label

__all__ = ["assumptions"]


def _normal(value: Any) -> Any:
    """A value in the form JSON gives back (dict keys as text), for comparing with saved ones."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _lever_changed(spec, value: Any) -> bool:
    """Does a saved lever value differ from the declared default? Schedules by their years."""
    if value is None:
        return False
    if spec.schedule and not isinstance(value, (bool, str)) and not isinstance(spec.default, (bool, str)):
        with suppress(TypeError, ValueError):  # a malformed saved schedule: compare as written below
            return not np.allclose(schedule_array(value), schedule_array(spec.default))
    return _normal(value) != _normal(spec.default)


def _lever_text(value: Any, lang: str, unit: str = "") -> str:
    """A lever value as a reader sees it: choices and yes/no in words, schedules by year, shares
    as percentages and decimal years as year and month."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_lever_text(v, lang, unit)}" for k, v in sorted(value.items()))
    if isinstance(value, float) and unit in ("share", "decimal year"):
        return lever_text(value, unit, lang)
    if isinstance(value, float):
        return f"{value:g}"
    return value_label(value, lang)


def _dist_text(spec: Any, lang: str, unit: str = "") -> str:
    """A saved distribution in words, its values in ``unit`` (shares as percentages)."""
    try:
        return describe_distribution(Distribution.from_spec(spec), lang, unit)
    except (SpecError, TypeError, ValueError, KeyError):
        return json.dumps(spec, ensure_ascii=False)


def _link_name(name: str, lang: str) -> str:
    """A link between plans by its description in ``lang`` (its key when unknown)."""
    link = LINKS.get(name)
    return name if link is None else (link.zh if lang == "zh" else link.en)


def assumptions(runs: tuple[Run, ...], lang: str) -> dict[str, Any]:
    """Levers with each run's value, and the uncertainties the scenarios changed.

    A value is marked changed when it differs from the default declared in
    ``model/data/params`` (the manifest holds resolved values, not what the file set).
    Parameters no run holds (declared after the runs were made) are left out. Changed
    uncertainties come as one row per distinct value, naming the scenarios that set it.
    """
    levers, uncertainties = [], []
    unchanged = {"source": 0, "assumption": 0}
    for module, declared in all_params().items():
        levers += [row for spec in declared.levers.values() if (row := _lever_row(module, spec, runs, lang))]
        for spec in declared.uncertainties.values():
            rows = _uncertainty_rows(module, spec, runs, lang)
            if rows is None:
                continue
            if not rows:
                unchanged["source" if spec.about.source else "assumption"] += 1
            uncertainties += rows
    levers_default = 0
    if len(runs) > 1:  # a comparison shows the levers some scenario sets away from the default
        shown = [r for r in levers if any(c["changed"] for c in r["cells"]) or len({c["text"] for c in r["cells"]}) > 1]
        levers_default = len(levers) - len(shown)
        levers = shown
    links_off = [
        _link_name(name, lang)
        for name in sorted({name for run in runs for name, on in run.settings.get("links", {}).items() if not on})
    ]
    return {
        "levers": levers,
        "levers_default": levers_default,
        "uncertainties": uncertainties,
        "unchanged": unchanged,
        "unchanged_total": sum(unchanged.values()),
        "links_off": links_off,
        "readings": _readings(runs, lang),
    }


def _about(module: str, spec, lang: str) -> dict[str, Any]:
    """What a lever's and an uncertainty's row share: where it is, its name and unit, its origin."""
    return {
        "module": module,
        "key": spec.key,
        "name": spec.about.zh if lang == "zh" else spec.about.en,
        "unit": unit_label(spec.about.unit, lang),
        "origin": "source" if spec.about.source else "assumption",
    }


def _lever_row(module: str, spec, runs: tuple[Run, ...], lang: str) -> dict[str, Any] | None:
    """One lever with each run's value (None when no run holds it)."""
    values = [run.settings.get("levers", {}).get(spec.key) for run in runs]
    if all(v is None for v in values):
        return None
    unit = spec.about.unit
    cells = [{"text": "—" if v is None else _lever_text(v, lang, unit), "changed": _lever_changed(spec, v)}
             for v in values]
    return {**_about(module, spec, lang), "default": _lever_text(spec.default, lang, unit), "cells": cells}


def _uncertainty_rows(module: str, spec, runs: tuple[Run, ...], lang: str) -> list[dict[str, Any]] | None:
    """One row per distinct changed value of an uncertainty ([] if unchanged; None if no run holds it)."""
    default = _normal({"dist": spec.default.kind, **dict(spec.default.params)})
    values = [run.settings.get("uncertainties", {}).get(spec.key) for run in runs]
    if all(v is None for v in values):
        return None
    changed: dict[str, list[str]] = {}
    for run, value in zip(runs, values):
        if value is not None and _normal(value) != default:
            changed.setdefault(_dist_text(value, lang, spec.about.unit), []).append(run.name)
    return [
        {**_about(module, spec, lang), "default": describe_distribution(spec.default, lang, spec.about.unit),
         "value": text,
         "scenarios": names, "shared": len(runs) > 1 and len(names) == len(runs)}
        for text, names in changed.items()
    ]


def _readings(runs: tuple[Run, ...], lang: str) -> list[dict[str, Any]]:
    """Target thresholds a scenario changed (readings), with the target's name."""
    names = {t.id: (t.name_zh if lang == "zh" else t.name_en) for t in load_registry()}
    return [
        {"scenario": run.name, "target": f"{names.get(t, t)} ({t.rsplit('.', 1)[-1]})", "value": v}
        for run in runs
        for t, v in run.settings.get("thresholds", {}).items()
    ]
