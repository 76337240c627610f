"""Drivers: tercile swings against closed forms, the link-reach filter, and a run's drivers."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import load_scenario, simulate
from model.drivers import screen, top_drivers, upstream
from model.links import LINKS
from model.modules import MODULE_NAMES
from model.runs import load_run

ROOT = Path(__file__).resolve().parents[1]
N = 30_000


def _se(p1: float, p2: float, n: int) -> float:
    return float(np.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n))


def test_swing_matches_closed_form():
    # met = x + y > 1 with x, y ~ U(0, 1) independent: P(met | x) = x, so the lowest third of x
    # gives E[x | x < 1/3] = 1/6 and the highest third 5/6; the swing is 2/3.
    rng = np.random.default_rng(11)
    x, y, noise = rng.random(N), rng.random(N), rng.random(N)
    met = {"t": x + y > 1}
    table = screen({"m.x": x, "m.y": y, "m.noise": noise}, met).set_index("uncertainty")
    tol = 4 * _se(1 / 6, 5 / 6, N // 3)  # 4 standard errors of the difference
    assert table.loc["m.x", "probability_low"] == pytest.approx(1 / 6, abs=tol)
    assert table.loc["m.x", "probability_high"] == pytest.approx(5 / 6, abs=tol)
    assert table.loc["m.x", "swing"] == pytest.approx(2 / 3, abs=tol)
    assert table.loc["m.y", "swing"] == pytest.approx(2 / 3, abs=tol)
    # an input the outcome does not depend on: swing within noise and not flagged
    assert abs(table.loc["m.noise", "swing"]) < 4 * _se(0.5, 0.5, N // 3)
    assert not table.loc["m.noise", "significant"]
    assert table.loc["m.x", "significant"] and table.loc["m.y", "significant"]


def test_negative_driver_and_interval_cover_truth():
    # met = x < 0.25: lowest third of x gives 0.75, highest third 0 -> swing -0.75.
    rng = np.random.default_rng(12)
    x = rng.random(N)
    row = screen({"m.x": x}, {"t": x < 0.25}).iloc[0]
    assert row["probability_low"] == pytest.approx(0.75, abs=4 * _se(0.75, 0.0, N // 3))
    assert row["probability_high"] == 0.0
    assert row["swing_low"] <= -0.75 <= row["swing_high"] + 4 * _se(0.75, 0, N // 3)


def test_constant_inputs_are_skipped_and_two_valued_inputs_split_cleanly():
    rng = np.random.default_rng(13)
    choice = rng.integers(0, 2, N).astype(float)  # a 50/50 discrete choice
    met = {"t": choice == 1}
    table = screen({"m.fixed": np.full(N, 3.0), "m.choice": choice}, met)
    assert list(table["uncertainty"]) == ["m.choice"]
    # the lowest third holds only 0s and the highest third only 1s
    assert table.iloc[0]["probability_low"] == 0.0 and table.iloc[0]["probability_high"] == 1.0


def test_discrete_inputs_are_cut_between_values():
    # an 80/20 choice: the low group is every replication at the common value, the high group
    # every one at the rare value, never a mix; with met = (choice == rare) the swing is exactly 1
    rng = np.random.default_rng(16)
    choice = (rng.random(N) < 0.2).astype(float)
    row = screen({"m.choice": choice}, {"t": choice == 1}).iloc[0]
    assert row["probability_low"] == 0.0 and row["probability_high"] == 1.0 and row["significant"]
    # an input almost always at one value (99/1) tells nothing about the rest: skipped
    rare = (rng.random(N) < 0.01).astype(float)
    assert screen({"m.rare": rare}, {"t": rare == 1}).empty


def test_too_few_replications_give_no_drivers():
    x = np.arange(20.0)
    assert screen({"m.x": x}, {"t": x > 10}).empty


def test_unreachable_inputs_are_not_screened():
    rng = np.random.default_rng(14)
    x = rng.random(N)
    met = {"a": x > 0.5}
    table = screen({"innovation.x": x, "overcapacity.x": x}, met, reach={"a": frozenset({"overcapacity"})})
    assert list(table["uncertainty"]) == ["overcapacity.x"]


def test_upstream_follows_enabled_links_only():
    everything = upstream(frozenset(LINKS))
    assert everything["green"] == {"green", "overcapacity", "techreform", "macro"}
    # capacity_exits_investment weights closures by the energy model's sampled sector shares
    assert everything["techreform"] == {"techreform", "overcapacity", "green", "macro"}
    assert everything["overcapacity"] == {"overcapacity", "macro"}
    assert everything["macro"] == {"macro"}
    # production_limits_gdp: the energy target's lost output lowers the GDP under R&D intensity
    assert everything["innovation"] == {"innovation", "macro", "green", "overcapacity", "techreform"}
    nothing = upstream(frozenset())
    assert all(nothing[m] == {m} for m in MODULE_NAMES)
    # green reaches overcapacity only through techreform when the direct link is off
    indirect = upstream(frozenset({"capacity_exits_investment", "renovation_retrofit"}))
    assert indirect["green"] == {"green", "techreform", "overcapacity"}
    assert upstream(frozenset({"renovation_retrofit"}))["techreform"] == {"techreform"}


def test_top_drivers_order_and_names():
    rng = np.random.default_rng(15)
    x, y = rng.random(N), rng.random(N)
    met = {"t": 2 * x + y > 1.5}
    top = top_drivers(screen({"green.bass_p": x, "green.bass_q": y}, met), top=1)
    assert list(top["uncertainty"]) == ["green.bass_p"]  # x carries twice the weight of y
    assert top.iloc[0]["rank"] == 1
    assert top.iloc[0]["name_en"] != "green.bass_p"  # names come from the parameter declarations


@pytest.fixture(scope="module")
def plan_run():
    return simulate(load_scenario(ROOT / "scenarios" / "plan.toml"), replications=3_000, seed=8)


def test_run_drivers_make_sense(plan_run):
    zombies = plan_run.drivers[plan_run.drivers["target_id"] == "overcapacity.zombie_disposed.2019"]
    assert not zombies.empty
    assert set(zombies["uncertainty"].str.split(".").str[0]) == {"overcapacity"}
    count = zombies.set_index("uncertainty").loc["overcapacity.count"]
    assert count["swing"] < 0  # more zombie enterprises found: disposal less likely
    table = plan_run.drivers
    assert table.groupby("target_id").size().max() <= 5


def test_saved_run_has_drivers_csv(plan_run, tmp_path):
    out = plan_run.save(tmp_path / "plan")
    saved = pd.read_csv(out / "drivers.csv", encoding="utf-8-sig")
    assert list(saved.columns[:4]) == ["target_id", "rank", "uncertainty", "name_zh"]
    assert len(saved) == len(plan_run.drivers)


def test_a_tiny_run_saves_an_empty_drivers_table(tmp_path):
    results = simulate(load_scenario(ROOT / "scenarios" / "plan.toml"), replications=10, seed=1)
    saved = pd.read_csv(results.save(tmp_path / "tiny") / "drivers.csv", encoding="utf-8-sig")
    assert saved.empty and "swing" in saved.columns


def test_cli_prints_drivers_and_refuses_an_unknown_target(tmp_path, capsys):
    from model.cli import main

    plan = str(ROOT / "scenarios" / "plan.toml")
    assert main(["run", plan, "--replications", "600", "--out", str(tmp_path / "a"), "--lang", "en",
                 "--drivers", "overcapacity.zombie_disposed.2019"]) == 0
    out = capsys.readouterr().out
    assert "-- Share of identified zombie firms disposed (2019): likelihood" in out
    first = load_run(tmp_path / "a").drivers.query("target_id == 'overcapacity.zombie_disposed.2019'").iloc[0]
    assert first["name_en"][:12] in out  # the uncertainty by its name, not its id
    assert main(["run", plan, "--out", str(tmp_path / "b"), "--drivers", "overcapacity.zombie_disposed.2091"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'overcapacity.zombie_disposed.2019'" in err[0]
    assert not (tmp_path / "b").exists()
