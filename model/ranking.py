"""Which measures matter most: every lever at both ends of its planning range, on the same draws.

``python -m model levers SCENARIO`` (issue 13, item 1). Each lever a city sets is declared with a
planning range (``planning = { low, high, why }`` in ``model/data/params/<module>.toml``: what a
city could realistically set, with the reasoning; levers that are readings of a target or
yardsticks say why they are not ranked). The scenario is simulated once; each ranked lever is
then set to its low and to its high end on that run's draws (:meth:`model.results.Results.with_levers`,
common random numbers: the same replications, so the difference is the lever's effect and not
Monte Carlo noise), every other setting as the scenario has it.

For each chosen target (default: the three headline goals of 2020) and lever, ``levers.csv`` holds:

* ``probability`` -- the likelihood with the scenario as written; ``probability_at_low``,
  ``probability_at_high`` -- with the lever at the low and the high end;
* ``effect`` = ``probability_at_high - probability_at_low``, with the paired 95 % interval
  ``effect_low, effect_high`` (Newcombe's, or the weighted delta method for a conditioned run:
  :func:`model.paired.paired_change`);
* ``cost_at_low``, ``cost_at_high``, ``cost_unit`` -- where the lever has a cost: its own value
  (``cost = "value"``: teams, a fund in 万元; a yearly schedule summed over 2017-2020) or the
  median over replications of an outlay indicator summed over 2017-2020 (``cost =
  "techreform.subsidy_outlay"``);
* ``rank`` -- 1 for the lever with the largest ``|effect|`` on that target.

Values are fractions (0.25 is 25 %); ``low`` and ``high`` are written as a scenario file writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .paired import paired_change
from .params import LeverSpec, indicator_spec, lever_specs
from .plans import HEADLINE_2020
from .report.i18n import value_label
from .results import Results
from .scenario import Scenario, ScenarioError, schedule_array
from .tables import quantiles
from .targets import load_registry
from .tomlfile import suggest
from .variants import value_text

__all__ = ["Ranking", "end_text", "planned_levers", "rank_levers"]

PLAN_YEARS = slice(1, None)  # 2017-2020: the columns of a yearly array after the base year 2016


def planned_levers(keys: Sequence[str] | None = None) -> list[LeverSpec]:
    """The levers with a planning range, in module order (``keys``: only these, each checked)."""
    by_key = lever_specs()
    ranked = [spec for spec in by_key.values() if spec.planning is not None and spec.planning.ranked]
    if keys is None:
        return ranked
    out = []
    for key in keys:
        if key not in by_key:
            raise ScenarioError("levers", f"levers.{key}",
                                f"no such lever{suggest(key, by_key)}; `python -m model params` lists them")
        spec = by_key[key]
        if spec.planning is None or not spec.planning.ranked:
            why = spec.planning.why if spec.planning is not None else "it declares no planning range"
            raise ScenarioError("levers", f"levers.{key}", f"has no planning range to rank: {why}")
        out.append(spec)
    return out


def lever_cost(results: Results, spec: LeverSpec, value: Any) -> tuple[float, str]:
    """The cost of ``spec`` at ``value`` in ``results`` and its unit; NaN and "" if it has none."""
    cost = spec.planning.cost if spec.planning is not None else None
    if cost is None:
        return float("nan"), ""
    if cost == "value":
        if spec.schedule:
            return float(schedule_array(value)[PLAN_YEARS].sum()), spec.about.unit.replace("/yr", "")
        return float(value), spec.about.unit
    total = np.asarray(results.indicators[cost], float)[:, PLAN_YEARS].sum(axis=1)
    return float(quantiles(total, [0.5], results.condition_weights)[0]), indicator_spec(cost).unit


def end_text(spec: LeverSpec, value: Any, lang: str) -> str:
    """An end of a planning range as a planner reads it: 实施/不实施 as 是/否, a choice in words,
    a decimal year as its month (2017-07), a yearly schedule by its value from its last year."""
    if isinstance(value, dict):
        value = float(schedule_array(value)[-1])
    if isinstance(value, (bool, str)):
        return value_label(value, lang)
    if spec.about.unit == "decimal year":
        year = int(value)
        return f"{year}-{min(12, int((value - year) * 12) + 1):02d}"
    return f"{value:g}"


@dataclass
class Ranking:
    """The scenario's run, the chosen targets and the table of :mod:`model.ranking`."""

    base: Results
    targets: tuple[str, ...]
    table: pd.DataFrame

    def top(self, target_id: str, count: int = 5) -> pd.DataFrame:
        """The ``count`` levers with the largest effect on ``target_id``."""
        rows = self.table[self.table["target_id"] == target_id]
        return rows.sort_values("rank").head(count)


def rank_levers(scenario: Scenario, replications: int = DEFAULT_REPLICATIONS, seed: int = DEFAULT_SEED,
                targets: Sequence[str] = HEADLINE_2020, levers: Sequence[str] | None = None, workers: int = 1,
                progress: Callable[[int], None] | None = None, base: Results | None = None) -> Ranking:
    """Set each lever with a planning range to its low and high end on one run's draws.

    Parameters
    ----------
    scenario : Scenario
        The scenario as written (its ``observed`` figures condition every run).
    replications, seed, workers
        Of the scenario's run (:func:`model.simulate`); ignored when ``base`` is given.
    targets : sequence of str
        Modelled target ids (default: the three headline goals of 2020).
    levers : sequence of str, optional
        ``"module.lever"`` keys (default: every lever with a planning range).
    progress : callable, optional
        Called with 1 after each lever.
    base : Results, optional
        A run of ``scenario`` in memory to move the levers on.

    Returns
    -------
    Ranking
    """
    specs = planned_levers(levers)
    known = {t.id for t in load_registry() if t.modelled}
    for target_id in targets:
        if target_id not in known:
            raise ScenarioError("levers", "targets", f"{target_id!r} is not a modelled target id")
    if base is None:
        base = simulate(scenario, replications, seed, workers=workers, stream=False)
    ids = list(targets)
    p_base = [base.probability(i) for i in ids]
    rows = []
    for spec in specs:
        low, high = spec.planning.low, spec.planning.high
        at_low, at_high = base.with_levers({spec.key: low}), base.with_levers({spec.key: high})
        flags = [np.column_stack([run.met[i] for i in ids]) for run in (at_low, at_high)]
        weighted = base.condition_weights is not None
        effect, e_low, e_high = paired_change(*flags, *((at_low.weights, at_high.weights) if weighted else ()))
        (cost_low, unit), (cost_high, _) = lever_cost(at_low, spec, low), lever_cost(at_high, spec, high)
        p_low, p_high = [at_low.probability(i) for i in ids], [at_high.probability(i) for i in ids]
        for j, target_id in enumerate(ids):
            rows.append({
                "target_id": target_id, "lever": spec.key, "lever_zh": spec.about.zh, "lever_en": spec.about.en,
                "unit": spec.about.unit, "low": value_text(low), "high": value_text(high),
                "probability": p_base[j], "probability_at_low": p_low[j], "probability_at_high": p_high[j],
                "effect": effect[j], "effect_low": e_low[j], "effect_high": e_high[j],
                "cost_at_low": cost_low, "cost_at_high": cost_high, "cost_unit": unit,
            })
        if progress is not None:
            progress(1)
    table = pd.DataFrame(rows)
    names = {t.id: t for t in load_registry()}
    table.insert(1, "target_zh", [names[i].name_zh for i in table["target_id"]])
    table.insert(2, "target_en", [names[i].name_en for i in table["target_id"]])
    size = table["effect"].abs()
    table["rank"] = size.groupby(table["target_id"]).rank(method="first", ascending=False).astype(int)
    table = table.sort_values(["target_id", "rank"], key=lambda c: c.map(ids.index) if c.name == "target_id" else c)
    return Ranking(base, tuple(ids), table.reset_index(drop=True))
