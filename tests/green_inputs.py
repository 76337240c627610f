"""Inputs for the green module's tests (test_green, test_green_counts): levers at their defaults,
draws at central values or spread over the default ranges."""

from __future__ import annotations

import numpy as np

from model.scenario import schedule_array
from tests.declarations import declarations

DECLARED = declarations("green")
LEVERS, UNCERTAINTIES, INDICATORS = (DECLARED[s] for s in ("levers", "uncertainties", "indicators"))


def _central(spec) -> float:
    """Fixed value or midpoint of a default distribution spec (uniform or choice)."""
    if not isinstance(spec, dict):
        return float(spec)
    if spec["dist"] == "fixed":
        return float(spec["value"])
    if spec["dist"] == "uniform":
        return 0.5 * (spec["low"] + spec["high"])
    if spec["dist"] == "choice":
        return float(np.median(spec["values"]))
    raise NotImplementedError(spec["dist"])


def default_levers(**changes) -> dict:
    """Levers at their defaults, schedules as the engine hands them over (yearly arrays)."""
    levers = {name: schedule_array(entry["default"]) if entry.get("schedule") else entry["default"]
              for name, entry in LEVERS.items()}
    levers.update(changes)
    return levers


def central_draws(n: int, **changes: float) -> dict[str, np.ndarray]:
    """Draws at the central value of every default; ``changes`` set names (or ``group.*``)."""
    draws = {name: np.full(n, _central(entry["default"])) for name, entry in UNCERTAINTIES.items()}
    for name, value in changes.items():
        name = name.replace("__", ".")
        targets = [k for k in draws if k.startswith(name[:-1])] if name.endswith("*") else [name]
        for target in targets:
            assert target in draws, target
            draws[target] = np.full(n, float(value))
    return draws


def spread_draws(n: int, seed: int) -> dict[str, np.ndarray]:
    """Simple independent draws: uniform over each default's range, choices with equal weight."""
    rng = np.random.default_rng(seed)
    draws = {}
    for name, entry in UNCERTAINTIES.items():
        spec = entry["default"]
        if isinstance(spec, dict) and spec["dist"] == "uniform":
            draws[name] = rng.uniform(spec["low"], spec["high"], n)
        elif isinstance(spec, dict) and spec["dist"] == "choice":
            draws[name] = rng.choice(np.asarray(spec["values"], float), n)
        else:
            draws[name] = np.full(n, _central(spec))
    return draws
