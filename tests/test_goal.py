"""Goal seeking (issue 13, item 2): a closed-form likelihood, fresh runs at and below the answer, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model import load_scenario, simulate
from model.cli import main
from model.goal import grid_search, seek_goal
from model.scenario import ScenarioError
from model.variants import lever_variant
from tests.paths import PLAN

N, SEED = 1_200, 5


@pytest.mark.parametrize("level", [0.05, 0.37, 0.8, 0.999])
def test_the_search_finds_the_closed_form_answer(level):
    # p(x) = share of fixed uniforms below x / 10: the smallest grid value with p(x) >= level is
    # the first grid point at or above 10 times the ceil(level n)-th smallest uniform (exact, no
    # Monte Carlo error: the same uniforms at every x, as common random numbers give)
    u = np.random.default_rng(1).random(997)
    steps, calls = 1000, []

    def p(x):
        calls.append(x)
        return float(np.mean(u < x / 10))
    found, direction, evaluations = grid_search(p, 0.0, 10.0, level, steps)
    k = int(np.ceil(level * len(u)))
    order_statistic = np.sort(u)[k - 1]
    grid = np.arange(steps + 1) * 10.0 / steps
    expected = grid[np.argmax(np.array([np.mean(u < g / 10) for g in grid]) >= level)]
    assert direction == "increase" and found == pytest.approx(expected)
    assert expected / 10 > order_statistic >= (expected - 0.01) / 10  # it is the grid step above
    assert evaluations == len(set(calls)) <= 2 + int(np.ceil(np.log2(steps)))


def test_a_lever_that_works_the_other_way_gives_the_largest_value_and_unreachable_says_so():
    u = np.random.default_rng(2).random(500)
    found, direction, _ = grid_search(lambda x: float(np.mean(u > x)), 0.0, 1.0, 0.6, 100)
    assert direction == "decrease" and found == pytest.approx(np.floor(np.quantile(u, 0.4) * 100) / 100, abs=0.011)
    assert np.mean(u > found) >= 0.6 > np.mean(u > found + 0.01)
    assert grid_search(lambda x: 0.3 * x, 0.0, 1.0, 0.8, 10)[0] is None  # 0.3 at best


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


def test_fresh_runs_confirm_the_answer_at_and_just_below_it(plan):
    target = "overcapacity.zombie_disposed.2019"
    base = simulate(plan, N, SEED)
    level = base.probability(target) + 0.02  # reachable with more teams, not with the scenario's own
    goal = seek_goal(plan, "overcapacity.teams", target, level, within=(1, 60), base=base)
    assert goal.reachable and goal.direction == "increase" and isinstance(goal.value, int)
    at = simulate(lever_variant(plan, "overcapacity.teams", goal.value), N, SEED).probability(target)
    below = simulate(lever_variant(plan, "overcapacity.teams", goal.value - 1), N, SEED).probability(target)
    assert at == goal.probability and at >= level > below
    assert goal.probability_low <= goal.probability <= goal.probability_high
    assert goal.cost == goal.value and goal.cost_unit == "teams"


@pytest.mark.parametrize("args, message", [
    (dict(lever="overcapacity.teamz"), "no such lever"),
    (dict(lever="green.inspection"), "takes a choice"),
    (dict(probability=1.0), "strictly between 0 and 1"),
    (dict(within=(0, 10)), "leaves the range the lever allows"),
    (dict(within=(5, 2)), "LOW < HIGH"),
    (dict(target="overcapacity.zombie_disposed.2030"), "not a modelled target"),
])
def test_bad_arguments_are_refused_by_name_before_anything_runs(plan, args, message):
    kwargs = dict(lever="overcapacity.teams", target="overcapacity.zombie_disposed.2019", probability=0.8,
                  replications=10**9, within=None) | args  # 10**9 replications: it must fail before running
    with pytest.raises(ScenarioError, match=message):
        seek_goal(plan, kwargs.pop("lever"), kwargs.pop("target"), **kwargs)


def test_cli_goal_writes_goal_json(tmp_path, capsys):
    out = tmp_path / "goal"
    code = main(["goal", str(PLAN), "overcapacity.teams", "--target", "overcapacity.zombie_disposed.2019",
                 "--probability", "0.9", "-n", "600", "--out", str(out), "--lang", "en"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "not reachable within the range" in printed  # 90 % of zombies by 2019 with 5-20 teams: no
    goal = json.loads((out / "goal.json").read_text(encoding="utf-8"))
    assert {"lever", "value", "probability", "probability_low", "probability_high", "reachable", "replications",
            "seed"} <= set(goal)
    assert goal["reachable"] is False and goal["value"] is None and goal["replications"] == 600
    assert main(["goal", str(PLAN), "overcapacity.teams", "--target", "overcapacity.zombie_disposed.2019",
                 "--probability", "-0.1", "-n", "600", "--out", str(tmp_path / "bad")]) == 2
    assert "--probability" in capsys.readouterr().err and not (tmp_path / "bad").exists()
