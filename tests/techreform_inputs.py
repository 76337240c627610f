"""Inputs for the tech-renovation module's tests (test_techreform, test_techreform_counts): the
params file's declarations, levers at the plan's defaults, draws at midpoints or spread over the
default ranges."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from model.scenario import schedule_array
from model.timeline import YEARS

PARAMS = Path(__file__).resolve().parents[1] / "model" / "data" / "params" / "techreform.toml"
SPEC = tomllib.loads(PARAMS.read_text(encoding="utf-8"))
NY = len(YEARS)


def midpoint(spec) -> float:
    """A central value of a distribution spec from the params file."""
    if not isinstance(spec, dict):
        return float(spec)
    dist = spec["dist"]
    if dist == "fixed":
        return float(spec["value"])
    if dist == "uniform":
        return 0.5 * (spec["low"] + spec["high"])
    if dist in ("triangular", "pert"):
        return float(spec["mode"])
    if dist == "normal":
        return float(spec["mean"])
    if dist == "lognormal":
        return float(spec["median"])
    raise ValueError(f"no midpoint for {dist}")


def mid_draws(n: int, **override: float) -> dict[str, np.ndarray]:
    """Every uncertainty at its midpoint, as (n,) arrays; ``override`` uses ``__`` for dots."""
    draws = {k: np.full(n, midpoint(v["default"])) for k, v in SPEC["uncertainties"].items()}
    for key, value in override.items():
        name = key.replace("__", ".")
        assert name in draws, name
        draws[name] = np.full(n, float(value))
    return draws


def spread_draws(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Uncertainties drawn uniformly over their default ranges (low..high): varied inputs."""
    rng = np.random.default_rng(seed)
    draws = {}
    for k, v in SPEC["uncertainties"].items():
        s = v["default"]
        draws[k] = rng.uniform(s["low"], s["high"], n)
    return draws


def plan_levers(**override) -> dict[str, object]:
    """The plan's levers (params defaults), a schedule lever as a (len(YEARS),) array (a
    ``{year: value}`` schedule interpolated as the scenario loader does)."""
    levers = {}
    for k, v in SPEC["levers"].items():
        value = override.get(k, v["default"])
        if v.get("schedule") and isinstance(value, dict):
            value = schedule_array(value)
        elif v.get("schedule"):
            value = np.broadcast_to(np.asarray(value, float), (NY,))
        levers[k] = value
    return levers
