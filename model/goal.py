"""How far must a lever go: the lever value at which a target's likelihood reaches a level.

``python -m model goal SCENARIO LEVER --target ID --probability 0.8`` (issue 13, item 2). The
scenario is simulated once; the lever is then moved on that run's draws
(:meth:`model.results.Results.with_levers`, common random numbers), so the likelihood is a
deterministic function of the lever value for the run's replications and the search does not
chase Monte Carlo noise:

1. **Bracket.** The likelihood at both ends of the search range (the lever's planning range, or
   ``within``, which must lie inside the range the lever allows) tells the direction (the end
   with the higher likelihood is the "good" end). If even the good end falls short, the target
   is **not reachable within the range**; if the bad end already reaches it, every value does.
2. **Bisect** on a grid of the range (whole numbers for an integer lever, else ``steps``
   equal steps): the good-end side of the bracket always reaches the level and the other never
   does, until they are neighbours on the grid. The answer is the grid value nearest the bad end
   that reaches the level, and its neighbour towards the bad end does not (for a likelihood that
   is not monotone in the lever, a value where it crosses the level).
3. **Confirm.** The likelihood at the answer with its Wilson 95 % interval (weighted for a
   conditioned run), from the moved run at that value, which is identical to a fresh run of the
   changed scenario with the same seed and replications. ``confident`` says whether the whole
   interval clears the level; if not, more replications narrow it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .params import LeverSpec, lever_specs
from .ranking import lever_cost
from .results import Results
from .scenario import Scenario, ScenarioError
from .stats import share_interval
from .targets import load_registry
from .tomlfile import suggest

WHERE = "goal"  # what errors name as the source of a bad value (the command line of goal)

__all__ = ["Goal", "grid_search", "lever_spec", "search_range", "seek_goal"]

STEPS = 1000  # grid steps over the range of a lever that is not a whole number


@dataclass(frozen=True)
class Goal:
    """What ``goal`` found (``goal.json`` holds these fields)."""

    lever: str
    target: str
    target_probability: float
    reachable: bool
    value: float | None  # None when not reachable within the range
    probability: float  # at ``value`` (at the good end when not reachable)
    probability_low: float
    probability_high: float
    confident: bool  # the whole interval clears the level
    direction: str  # "increase" (a higher value helps) or "decrease"
    low: float
    high: float
    resolution: float  # grid step: the value minus (or plus) one step does not reach the level
    cost: float | None
    cost_unit: str
    evaluations: int
    replications: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def grid_search(likelihood: Callable[[float], float], low: float, high: float, level: float,
                steps: int) -> tuple[float | None, str, int]:
    """The grid value nearest the "bad" end whose likelihood reaches ``level``.

    ``likelihood`` is evaluated at ``low + k (high - low) / steps`` for whole ``k``; the end with
    the higher likelihood is the good end. Returns (value or None if not even the good end
    reaches ``level``, ``"increase"`` or ``"decrease"``, evaluations).
    """
    grid = (lambda k: low + (high - low) * k / steps) if steps else (lambda k: low)
    cache: dict[int, float] = {}

    def p(k: int) -> float:
        if k not in cache:
            cache[k] = likelihood(grid(k))
        return cache[k]

    increase = p(steps) >= p(0)
    good, bad = (steps, 0) if increase else (0, steps)
    direction = "increase" if increase else "decrease"
    if p(good) < level:
        return None, direction, len(cache)
    if p(bad) >= level:
        return grid(bad), direction, len(cache)
    while abs(good - bad) > 1:  # invariant: p(good) >= level > p(bad)
        middle = (good + bad) // 2
        if p(middle) >= level:
            good = middle
        else:
            bad = middle
    return grid(good), direction, len(cache)


def lever_spec(key: str) -> LeverSpec:
    """The declaration of a numeric lever ``key`` (ScenarioError naming it otherwise)."""
    specs = lever_specs()
    if key not in specs:
        raise ScenarioError(WHERE, f"levers.{key}",
                                f"no such lever{suggest(key, specs)}; `python -m model params` lists them")
    spec = specs[key]
    if spec.choices is not None or isinstance(spec.default, bool):
        raise ScenarioError(WHERE, f"levers.{key}", "takes a choice, not a number; goal seeks a number "
                            "(compare the choices with `python -m model levers` or `sweep`)")
    return spec


def search_range(spec: LeverSpec, within: Sequence[float] | None) -> tuple[float, float]:
    """``within``, checked against the range the lever allows, or the lever's planning range."""
    if within is None:
        if spec.planning is None or not spec.planning.ranked:
            raise ScenarioError(WHERE, f"levers.{spec.key}", "has no planning range; give one with --within LOW HIGH")
        ends = [spec.planning.low, spec.planning.high]
        if any(isinstance(e, dict) for e in ends):  # a yearly schedule: search its constant level
            ends = [max(e.values()) if isinstance(e, dict) else e for e in ends]
        low, high = (float(e) for e in ends)
    else:
        low, high = (float(e) for e in within)
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise ScenarioError(WHERE, f"levers.{spec.key}", f"--within needs LOW < HIGH, found {low:g} {high:g}")
        allowed = spec.range or (-math.inf, math.inf)
        if low < allowed[0] or high > allowed[1]:
            raise ScenarioError(WHERE, f"levers.{spec.key}", f"--within {low:g} {high:g} leaves the range the lever "
                                f"allows, [{allowed[0]:g}, {allowed[1]:g}]")
    if spec.integer and not (low.is_integer() and high.is_integer()):
        raise ScenarioError(WHERE, f"levers.{spec.key}", "takes whole numbers; give a whole-number range")
    return low, high


def seek_goal(scenario: Scenario, lever: str, target: str, probability: float = 0.8,
              replications: int = DEFAULT_REPLICATIONS, seed: int = DEFAULT_SEED,
              within: Sequence[float] | None = None, workers: int = 1, base: Results | None = None,
              progress: Callable[[int], None] | None = None) -> Goal:
    """The lever value at which ``target`` reaches ``probability`` (see the module docstring).

    Raises
    ------
    ScenarioError
        Unknown lever or target, a lever that takes a choice, a probability outside (0, 1), a
        range the lever does not allow.
    """
    if not 0.0 < float(probability) < 1.0:
        raise ScenarioError(WHERE, "probability", f"must lie strictly between 0 and 1, found {probability:g}")
    spec = lever_spec(lever)
    if target not in {t.id for t in load_registry() if t.modelled}:
        raise ScenarioError(WHERE, "target", f"{target!r} is not a modelled target id; "
                            "`python -m model targets` lists them")
    low, high = search_range(spec, within)
    steps = int(high - low) if spec.integer else STEPS
    if base is None:
        base = simulate(scenario, replications, seed, workers=workers, stream=False)

    def value_of(x: float) -> Any:
        return int(round(x)) if spec.integer else float(f"{x:.10g}")  # 0.3, not 0.30000000000000004

    def likelihood(x: float) -> float:
        if progress is not None:
            progress(1)
        return base.with_levers({lever: value_of(x)}).probability(target)

    found, direction, evaluations = grid_search(likelihood, low, high, float(probability), steps)
    at = base.with_levers({lever: value_of(high if direction == "increase" else low) if found is None
                           else value_of(found)})
    p, p_low, p_high = share_interval(at.met[target], at.condition_weights)
    cost, unit = lever_cost(at, spec, value_of(found)) if found is not None else (float("nan"), "")
    return Goal(
        lever=lever, target=target, target_probability=float(probability), reachable=found is not None,
        value=None if found is None else value_of(found), probability=float(p), probability_low=float(p_low),
        probability_high=float(p_high), confident=found is not None and float(p_low) >= float(probability),
        direction=direction, low=low, high=high, resolution=1.0 if spec.integer else (high - low) / STEPS,
        cost=None if math.isnan(cost) else cost, cost_unit=unit, evaluations=evaluations,
        replications=base.replications, seed=base.seed,
    )
