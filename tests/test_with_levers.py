"""Results.with_levers (issue 12, item 2): a lever moved on the draws of a finished run."""

from __future__ import annotations

import numpy as np
import pytest

import model.blocks
from model import load_scenario, simulate
from model.drivers import downstream
from model.links import LINKS
from model.scenario import ScenarioError
from model.variants import levers_variant
from tests.paths import PLAN

N, SEED = 1_200, 5  # three blocks, the last one partial


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.fixture(scope="module")
def base(plan):
    return simulate(plan, N, SEED)


def assert_same_run(a, b):
    assert list(a.indicators) == list(b.indicators)
    for key in a.indicators:
        np.testing.assert_array_equal(a.indicators[key], b.indicators[key], err_msg=key)
    for key in a.met:
        np.testing.assert_array_equal(a.met[key], b.met[key], err_msg=key)
        np.testing.assert_array_equal(a.values[key], b.values[key], err_msg=key)
    for key in a.inputs:
        np.testing.assert_array_equal(a.inputs[key], b.inputs[key], err_msg=key)


@pytest.mark.parametrize("changes", [
    {"techreform.subsidy_rate": 0.5},
    {"overcapacity.teams": 20},
    {"green.p_multiplier": 2.0},
    {"overcapacity.work_order": "simplest_first", "innovation.fund.guided": 20000.0},
    {"overcapacity.polluter_teams": 40},  # the closures move, the zombie queue is reused
    {"overcapacity.closures_ordered": False},
    {"overcapacity.teams": 20, "overcapacity.closures_ordered": False},  # both parts move
], ids=lambda c: "+".join(c))
def test_identical_to_a_fresh_run_of_the_changed_scenario(plan, base, changes):
    moved = base.with_levers(changes)
    fresh = simulate(levers_variant(plan, changes), N, SEED)
    assert_same_run(moved, fresh)
    assert moved.scenario.levers == fresh.scenario.levers
    assert any(not np.array_equal(moved.met[k], base.met[k]) for k in base.met)  # the lever acted
    assert moved.summary.equals(fresh.summary)


def test_moves_in_a_row_replay_the_streams_and_stay_identical(plan, base):
    """A move of a moved run: the module streams recorded by the first move are replayed."""
    first = base.with_levers({"techreform.subsidy_cap": 900.0})
    assert base._streams and first._streams is base._streams
    second = first.with_levers({"green.p_multiplier": 2.0})
    changes = {"techreform.subsidy_cap": 900.0, "green.p_multiplier": 2.0}
    assert_same_run(second, simulate(levers_variant(plan, changes), N, SEED))


def test_only_the_reached_modules_run_again(base, monkeypatch):
    ran = []
    real = model.blocks.plan_modules.load

    def recording(name):
        ran.append(name)
        return real(name)

    monkeypatch.setattr(model.blocks.plan_modules, "load", recording)
    base.with_levers({"innovation.fund.guided": 20000.0})
    assert set(ran) == {"innovation"}
    ran.clear()
    base.with_levers({"techreform.subsidy_rate": 0.5})
    # renovation_retrofit carries tech renovation to green, production_limits_gdp green to innovation
    assert set(ran) == {"techreform", "green", "innovation"}
    ran.clear()
    # the zombie teams change no indicator a link carries (exit shares, closures): only overcapacity
    # reruns; what the links would bring the others is compared, not assumed
    base.with_levers({"overcapacity.teams": 20})
    assert set(ran) == {"overcapacity"}
    ran.clear()
    base.with_levers({"overcapacity.closures_ordered": False})  # closures move the exits: all downstream
    assert {"overcapacity", "techreform", "green"} <= set(ran)


def test_downstream_follows_the_enabled_links():
    every = frozenset(LINKS)
    assert downstream(frozenset({"macro"}), every) == {"macro", "overcapacity", "techreform", "green", "innovation"}
    assert downstream(frozenset({"smart"}), every) == {"smart"}
    assert downstream(frozenset({"techreform"}), every - {"renovation_retrofit"}) == {"techreform"}
    assert downstream(frozenset({"overcapacity"}), frozenset()) == {"overcapacity"}


def test_a_bad_lever_is_refused_by_name(base):
    with pytest.raises(ScenarioError, match=r"levers\.techreform\.subsidy_rat.*subsidy_rate"):
        base.with_levers({"techreform.subsidy_rat": 0.5})
    with pytest.raises(ScenarioError, match=r"levers\.techreform\.subsidy_rate"):
        base.with_levers({"techreform.subsidy_rate": 1.5})
