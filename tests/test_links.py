"""Links between plans: each one switched off reproduces the unlinked module, on it matters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model import load_scenario
from model.blocks import _MODULE, run_modules, sample_inputs, stream
from model.links import LINKS, NO_LINKS, linked_for
from model.modules import MODULE_NAMES, load
from model.tomlfile import ScenarioError
from tests.paths import ROOT

SEED, BLOCK_NO, N = 11, 0, 400


@pytest.fixture(scope="module")
def plan():
    return load_scenario(ROOT / "scenarios" / "plan.toml")


def with_links(scenario, **links):
    return dataclasses.replace(scenario, links={**scenario.links, **links})


def module_alone(scenario, name, draws):
    """The module run on its own, with no links at all, on the engine's draws and stream."""
    own = {k.split(".", 1)[1]: v for k, v in draws.items() if k.startswith(name + ".")}
    return load(name).simulate(scenario.lever_values(name), own, stream(SEED, _MODULE, BLOCK_NO, name), NO_LINKS)


@pytest.mark.parametrize("target", sorted({link.target for link in LINKS.values()}))
def test_links_off_reproduce_the_unlinked_module(plan, target):
    off = with_links(plan, **{name: False for name in LINKS})
    draws = sample_inputs(off, SEED, BLOCK_NO, N)
    assert target in MODULE_NAMES
    indicators = run_modules(off, draws, SEED, BLOCK_NO)
    alone = module_alone(off, target, draws)
    for key, value in alone.items():
        np.testing.assert_array_equal(indicators[f"{target}.{key}"], value, err_msg=key)


@pytest.mark.parametrize(("link", "indicator"), [
    ("capacity_exits_energy", "green.energy_intensity_cut"),
    ("capacity_exits_investment", "techreform.industrial_investment"),
    ("renovation_retrofit", "green.retrofit_adoption"),
])
def test_each_link_changes_what_it_feeds_and_only_downstream(plan, link, indicator):
    on = plan
    off = with_links(plan, **{link: False})
    draws = sample_inputs(on, SEED, BLOCK_NO, N)
    a = run_modules(on, draws, SEED, BLOCK_NO)
    b = run_modules(off, draws, SEED, BLOCK_NO)
    assert not np.array_equal(a[indicator], b[indicator])
    source = LINKS[link].source
    for key in a:  # the source module itself is untouched
        if key.startswith(source + "."):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_capacity_exits_link_with_no_exits_equals_link_off(plan):
    no_exits = dataclasses.replace(plan, levers={**plan.levers, "overcapacity.closures_ordered": False,
                                                 "overcapacity.residual_exit_multiplier": 0.0})
    draws = sample_inputs(no_exits, SEED, BLOCK_NO, N)
    on = run_modules(no_exits, draws, SEED, BLOCK_NO)
    both_off = with_links(no_exits, capacity_exits_energy=False, capacity_exits_investment=False)
    off = run_modules(both_off, draws, SEED, BLOCK_NO)
    for key in on:
        if key.startswith(("green.", "techreform.")):
            np.testing.assert_allclose(on[key], off[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_exits_lower_investment_and_raise_the_cut_on_average(plan):
    # Without the target-responsibility feedback: with it, a higher share (less other investment)
    # means less campaign effort the next year, so the share need not be higher in every replication.
    plan = with_links(plan, responsibility_renovation=False)
    draws = sample_inputs(plan, SEED, BLOCK_NO, N)
    on = run_modules(plan, draws, SEED, BLOCK_NO)
    off = run_modules(with_links(plan, capacity_exits_investment=False), draws, SEED, BLOCK_NO)
    assert np.all(on["techreform.industrial_investment"] <= off["techreform.industrial_investment"] + 1e-9)
    assert np.all(on["techreform.investment_share"] >= off["techreform.investment_share"] - 1e-9)


def test_linked_for_only_feeds_enabled_links_into_their_target(plan):
    draws = sample_inputs(plan, SEED, BLOCK_NO, N)
    indicators = run_modules(plan, draws, SEED, BLOCK_NO)
    green = linked_for("green", frozenset({"capacity_exits_energy"}), indicators, draws)
    assert set(green.inputs) == {"exit_share"} and green.enabled == {"capacity_exits_energy"}
    assert linked_for("green", frozenset(), indicators, draws).inputs == {}
    assert set(linked_for("overcapacity", frozenset(LINKS), indicators, draws).inputs) == {"bad_year"}
    assert linked_for("overcapacity", frozenset(LINKS) - {"macro_exits"}, indicators, draws).inputs == {}
    assert linked_for("macro", frozenset(LINKS), indicators, draws).inputs == {}


def test_scenario_links_table(tmp_path):
    (tmp_path / "plan.toml").write_text((ROOT / "scenarios" / "plan.toml").read_text("utf-8"), encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "s"\ntitle_zh = "情景"\ntitle_en = "S"\nextends = "plan.toml"\n\n'
                    '[links]\ncapacity_exits_energy = false\n', encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.links["capacity_exits_energy"] is False
    assert scenario.enabled_links == frozenset(LINKS) - {"capacity_exits_energy"}
    assert scenario.hash() != load_scenario(tmp_path / "plan.toml").hash()
    text = path.read_text("utf-8")
    path.write_text(text.replace("capacity_exits_energy = false", "capacity_exit_energy = false"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="links.capacity_exit_energy.*capacity_exits_energy"):
        load_scenario(path)
    text = path.read_text("utf-8")
    path.write_text(text.replace("capacity_exit_energy = false", 'capacity_exits_energy = "no"'), encoding="utf-8")
    with pytest.raises(ScenarioError, match="true or false"):
        load_scenario(path)


def test_every_link_has_the_one_calling_convention(plan):
    """link(indicators, draws) -> dict of arrays, callable on what the engine holds after a run
    (a same-module link too: its module calls it with its own arrays under the same keys)."""
    import inspect

    draws = sample_inputs(plan, SEED, BLOCK_NO, N)
    indicators = run_modules(plan, draws, SEED, BLOCK_NO)
    for link in LINKS.values():
        assert list(inspect.signature(link.function).parameters) == ["indicators", "draws"], link.name
        out = link.function(indicators, draws)
        assert out and all(isinstance(v, np.ndarray) and v.shape[0] == N for v in out.values()), link.name
    same = LINKS["hightech_value_added"].function(indicators, draws)["hightech_va_growth"]
    np.testing.assert_array_equal(same, indicators["innovation.hightech_va_growth"])
