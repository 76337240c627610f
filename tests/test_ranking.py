"""Lever ranking (issue 13, item 1): planning ranges declared for every lever, effects on common draws."""

from __future__ import annotations

import numpy as np
import pytest

from model import load_scenario, simulate
from model.params import all_params, indicator_spec
from model.ranking import planned_levers, rank_levers
from model.scenario import ScenarioError
from model.variants import lever_variant
from tests.paths import PLAN

N, SEED = 1_500, 3
ZOMBIES, ENERGY = "overcapacity.zombie_disposed.2019", "green.energy_intensity_cut.2020"


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


def every_lever():
    return [spec for p in all_params().values() for spec in p.levers.values()]


def test_every_lever_says_how_far_a_city_could_set_it_or_why_not(plan):
    for spec in every_lever():
        assert spec.planning is not None and spec.planning.why.strip(), spec.key
        if spec.planning.ranked:  # both ends are values a scenario file could hold
            lever_variant(plan, spec.key, spec.planning.low)
            lever_variant(plan, spec.key, spec.planning.high)
        cost = spec.planning.cost
        if cost not in (None, "value"):
            assert indicator_spec(cost).kind == "yearly", spec.key
    assert len(planned_levers()) >= 40


def test_effects_are_the_lever_moved_on_the_same_draws(plan):
    levers = ["overcapacity.teams", "overcapacity.closures_ordered", "green.p_multiplier"]
    ranking = rank_levers(plan, N, SEED, targets=[ZOMBIES, ENERGY], levers=levers)
    table = ranking.table.set_index(["target_id", "lever"])
    spec = {s.key: s for s in planned_levers(levers)}
    for key in levers:  # against fresh runs of the scenario with the lever at each end
        low = simulate(lever_variant(plan, key, spec[key].planning.low), N, SEED)
        high = simulate(lever_variant(plan, key, spec[key].planning.high), N, SEED)
        for target_id in (ZOMBIES, ENERGY):
            row = table.loc[(target_id, key)]
            assert row["probability_at_low"] == low.probability(target_id)
            assert row["probability_at_high"] == high.probability(target_id)
            assert row["effect"] == pytest.approx(high.probability(target_id) - low.probability(target_id))
            assert row["effect_low"] <= row["effect"] <= row["effect_high"]
    # the closures do not reach the zombie queue: not one replication changes
    assert table.loc[(ZOMBIES, "overcapacity.closures_ordered"), "effect"] == 0
    # more zombie teams dispose of more firms by 2019: a clearly positive paired effect
    assert table.loc[(ZOMBIES, "overcapacity.teams"), "effect_low"] > 0
    # ranks order the levers by the size of their effect, per target
    for target_id, rows in ranking.table.groupby("target_id"):
        ordered = rows.sort_values("rank")["effect"].abs().to_numpy()
        assert np.all(np.diff(ordered) <= 0) and sorted(rows["rank"]) == [1, 2, 3]
    # a lever whose value is its cost reports it; a lever without cost reports none
    teams = table.loc[(ZOMBIES, "overcapacity.teams")]
    assert (teams["cost_at_low"], teams["cost_at_high"], teams["cost_unit"]) == (5.0, 20.0, "teams")
    assert np.isnan(table.loc[(ZOMBIES, "green.p_multiplier"), "cost_at_low"])


def test_an_outlay_cost_is_the_median_of_the_summed_outlay(plan):
    ranking = rank_levers(plan, 600, SEED, targets=[ENERGY], levers=["techreform.subsidy_rate"])
    row = ranking.table.iloc[0]
    high = simulate(lever_variant(plan, "techreform.subsidy_rate", 0.5), 600, SEED)
    total = high.indicators["techreform.subsidy_outlay"][:, 1:].sum(axis=1)
    assert row["cost_at_high"] == np.quantile(total, 0.5, method="inverted_cdf")
    assert row["cost_at_low"] < row["cost_at_high"] and row["cost_unit"] == "万元"


def test_a_lever_without_a_planning_range_or_unknown_is_refused_by_name(plan):
    with pytest.raises(ScenarioError, match=r"techreform\.response\.path.*yardstick"):
        planned_levers(["techreform.response.path"])
    with pytest.raises(ScenarioError, match=r"levers\.techreform\.subsidy_rat\b"):
        planned_levers(["techreform.subsidy_rat"])
