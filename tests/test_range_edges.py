"""Every declared range is one the model can compute at both ends (issue 15, item 6).

Each lever and uncertainty with a declared range is set, one at a time, to each end of it (an
uncertainty as a fixed value), everything else at its default; a run must then give no numpy
warning (warnings are errors in the tests) and a median for every modelled target. A failure
names the key and the end: open that end of the range, or guard the arithmetic.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from model import simulate
from model.distributions import Distribution
from model.modules import MODULE_NAMES
from model.params import all_params
from model.scenario import default_scenario

N = 50  # one block: the checks are about arithmetic at an edge, not about likelihoods


def edge_scenarios(module: str):
    base = default_scenario()
    params = all_params()[module]
    for spec in [*params.levers.values(), *params.uncertainties.values()]:
        if spec.range is None or getattr(spec, "choices", None):
            continue
        if spec.key in base.levers and isinstance(base.levers[spec.key], bool):
            continue
        for end in spec.range:
            if end is None or not math.isfinite(end):
                continue
            if spec.key in base.levers:
                value = int(end) if spec.integer else float(end)
                yield spec.key, end, dataclasses.replace(base, levers={**base.levers, spec.key: value})
            else:
                fixed = Distribution.from_spec(float(end))
                yield spec.key, end, dataclasses.replace(base, uncertainties={**base.uncertainties, spec.key: fixed})


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULE_NAMES)
def test_every_range_end_runs_without_warnings_or_missing_medians(module):
    problems = []
    for key, end, scenario in edge_scenarios(module):
        try:
            summary = simulate(scenario, N, seed=1).summary
        except (ArithmeticError, ValueError, RuntimeWarning) as exc:  # warnings are errors here
            problems.append(f"{key} = {end}: {type(exc).__name__}: {exc}")
            continue
        modelled = summary[summary["status"] != "not modelled"]
        # a milestone never reached has no median by construction (flagged); anything else must have one
        missing = modelled.loc[modelled["median"].isna() & ~modelled["median_never"], "target_id"].tolist()
        if missing:
            problems.append(f"{key} = {end}: no median for {', '.join(missing[:3])}")
    assert not problems, "ranges the model cannot compute at their ends:\n" + "\n".join(problems)
