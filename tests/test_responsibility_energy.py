"""The energy target's responsibility feedback (issue 10, items 2 and 8): link responsibility_energy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model import load_scenario, simulate
from model.links import LINKS, Linked
from model.modules import green, responsibility
from model.targets import load_registry
from tests.green_inputs import default_levers, spread_draws
from tests.paths import ROOT
from tests.scenario_files import assert_refused, validate_extension

N = 2_000
ON = Linked(frozenset({green.FEEDBACK_LINK}))
RESPONSE = ("response.retrofit_push", "response.max_push", "response.limit_threshold", "response.limit_max")
PATH = np.array([0.0, 4.5, 9.0, 13.5, 18.0])


def run(draws, linked, seed=21, **levers):
    return green.simulate(default_levers(**levers), draws, np.random.default_rng(seed), linked)


@pytest.fixture(scope="module")
def draws():
    return spread_draws(N, 17)


@pytest.fixture(scope="module")
def both(draws):
    return run(draws, Linked()), run(draws, ON)


def test_the_path_is_the_targets_of_the_registry():
    """The plan's path the assessment uses is the registry's energy targets (2019 interpolated)."""
    thresholds = {t.deadline.year: t.threshold for t in load_registry()
                  if t.indicator == "green.energy_intensity_cut"}
    path = default_levers()["response.path"]
    assert thresholds == {2017: 4.5, 2018: 9.0, 2020: 18.0}
    assert [path[y - 2016] for y in thresholds] == list(thresholds.values())
    assert path[3] == (thresholds[2018] + thresholds[2020]) / 2


def test_off_the_response_draws_change_nothing(draws, both):
    other = dict(draws)
    rng = np.random.default_rng(2)
    for name in RESPONSE:
        other[name] = draws[name][rng.permutation(N)] * 1.5
    off = run(other, Linked())
    for key, value in both[0].items():
        np.testing.assert_array_equal(off[key], value, err_msg=key)
    assert np.all(both[0]["retrofit_effort"] == 1.0) and np.all(both[0]["production_limit"] == 0.0)


def test_on_with_no_strength_is_off(draws, both):
    inert = {**draws, "response.retrofit_push": np.zeros(N), "response.limit_max": np.zeros(N)}
    on = run(inert, ON)
    for key, value in both[0].items():
        np.testing.assert_array_equal(on[key], value, err_msg=key)


def test_effort_never_falls_never_below_one_never_above_its_bound(draws, both):
    effort = both[1]["retrofit_effort"]
    bound = np.maximum(draws["response.max_push"], 1.0)[:, None]
    assert np.all(effort >= 1.0) and np.all(effort <= bound + 1e-12)
    assert np.all(np.diff(effort, axis=1) >= 0.0)
    assert np.all(effort[:, :2] == 1.0)  # nothing assessed before the end of 2017
    assert (effort[:, -1] > 1.0).mean() > 0.1  # and it does rise in the lagging futures


def test_limits_stay_within_bounds_and_come_only_after_a_lag(draws, both):
    out = both[1]
    limit = out["production_limit"] / 100.0
    assert np.all(limit >= 0.0) and np.all(limit <= draws["response.limit_max"][:, None] + 1e-12)
    assert np.all(limit[:, :2] == 0.0)  # no limits in 2017: no assessment yet
    # interim years: only after a shortfall beyond the threshold at the previous assessment
    for k in (2, 3):
        lagging = out["path_shortfall"][:, k - 1] > draws["response.limit_threshold"]
        assert np.all(limit[~lagging, k] == 0.0)
    assert np.all(out["limit_output_loss"] <= out["production_limit"] + 1e-12)
    assert (limit[:, -1] > 0).mean() > 0.1


def test_an_unbounded_limit_brings_the_year_back_to_the_path(draws, both):
    """Where the limit is below its bound, it is exactly what closes the gap (the closed form of
    responsibility.production_limit): the year's cut equals the path."""
    out = both[1]
    limit = out["production_limit"] / 100.0
    inside = (limit > 0) & (limit < draws["response.limit_max"][:, None] - 1e-9)
    assert inside.sum() > 50
    cut = out["energy_intensity_cut"]
    np.testing.assert_allclose(cut[inside], np.broadcast_to(PATH, cut.shape)[inside], rtol=0, atol=1e-9)
    assert np.all(out["path_shortfall"][inside] <= 1e-9)


def test_the_feedback_never_lowers_the_cut(both):
    """More effort means more plants retrofitted under the same uniforms, and a limit only takes
    out output more intensive than the goal: in every replication and year the cut is at least
    what it is without the feedback."""
    off, on = both
    assert np.all(on["energy_intensity_cut"] >= off["energy_intensity_cut"] - 1e-9)
    assert np.all(on["retrofit_adoption"] >= off["retrofit_adoption"] - 1e-9)
    assert np.any(on["energy_intensity_cut"][:, -1] > off["energy_intensity_cut"][:, -1] + 0.1)


def test_production_limit_closed_form():
    e_l, v_l, e_o, v_o = np.array([8.0]), np.array([4.0]), np.array([1.0]), np.array([4.0])
    goal = np.array([1.0])  # intensity 9/8 -> 1: hold back L with (1 + 8(1-L)) / (4 + 4(1-L)) = 1
    limit = responsibility.production_limit((e_l, v_l), (e_o, v_o), goal, np.array([1.0]))
    np.testing.assert_allclose((e_o + (1 - limit) * e_l) / (v_o + (1 - limit) * v_l), goal)
    assert responsibility.production_limit((e_l, v_l), (e_o, v_o), goal, np.array([0.05]))[0] == 0.05
    assert responsibility.production_limit((e_l, v_l), (e_o, v_o), np.array([2.0]), np.array([1.0]))[0] == 0.0
    # limited sectors no more intensive than the goal: limiting them cannot help
    assert responsibility.production_limit((v_l, v_l), (e_o * 9, v_o), goal, np.array([1.0]))[0] == 0.0


def test_the_link_reaches_only_energy_and_the_gdp_of_innovation():
    """Switching the feedback off changes the energy-intensity targets and, through the lost
    output (link production_limits_gdp), the R&D intensity; every other target is identical."""
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    off = dataclasses.replace(plan, links={**plan.links, green.FEEDBACK_LINK: False})
    a, b = simulate(plan, 1_000, 5), simulate(off, 1_000, 5)
    reached = {t for t in a.met if t.startswith(("green.energy_intensity_cut", "innovation.rd_intensity"))}
    for target in a.met:
        if target not in reached:
            np.testing.assert_array_equal(a.values[target], b.values[target], err_msg=target)
    assert any(not np.array_equal(a.values[t], b.values[t]) for t in reached)
    assert LINKS["production_limits_gdp"].source == "green" and LINKS["production_limits_gdp"].target == "innovation"


@pytest.mark.parametrize(("body", "key"), [
    ('"response.limit_max" = { dist = "uniform", low = 0.0, high = 1.5 }', "uncertainties.green.response.limit_max"),
    ('"response.max_pushes" = 2.0', "uncertainties.green.response.max_pushes"),
])
def test_bad_response_input_exits_2_naming_the_key(tmp_path, body, key):
    result = validate_extension(tmp_path, "uncertainties.green", body)
    assert_refused(result, key)
