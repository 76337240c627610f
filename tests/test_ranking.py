"""Lever ranking (issue 13, item 1): planning ranges declared for every lever, effects on common draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import load_scenario, simulate
from model.analysis import read_analysis
from model.cli import main
from model.params import all_params, indicator_spec
from model.ranking import planned_levers, rank_levers
from model.scenario import ScenarioError
from model.tables import display_width
from model.variants import lever_variant
from model.verify import RunError
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


# -- the command ------------------------------------------------------------------------------------
def test_cli_levers_writes_the_table_the_charts_and_a_verified_manifest(tmp_path, capsys):
    out = tmp_path / "levers"
    args = ["levers", str(PLAN), "-n", "500", "--levers", "overcapacity.teams", "green.p_multiplier",
            "--targets", ZOMBIES, "--out", str(out), "--lang", "en"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Which measures matter most" in printed and "5 -> 20" in printed
    assert max(display_width(line) for line in printed.splitlines() if str(out) not in line) <= 80
    raw = (out / "levers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for spreadsheet programs
    table = pd.read_csv(out / "levers.csv", encoding="utf-8-sig")
    assert list(table["lever"]) == ["overcapacity.teams", "green.p_multiplier"]  # by the size of the effect
    manifest = read_analysis(out)
    assert manifest["analysis"] == "levers" and manifest["replications"] == 500
    assert {"tornado.zh.png", "tornado.en.svg", "levers.csv"} <= set(manifest["files"])
    assert main(args) == 0  # a rerun replaces its own analysis
    capsys.readouterr()
    (out / "levers.csv").write_text("edited", encoding="utf-8")
    with pytest.raises(RunError, match="levers.csv does not match its checksum"):
        read_analysis(out)


@pytest.mark.parametrize("extra, message", [
    (["--levers", "techreform.subsidy_rat"], "no such lever"),
    (["--levers", "green.response.path"], "not a measure"),
    (["--targets", "green.energy_intensity_cut.2021"], "not a modelled target id"),
    (["--top", "0"], "--top"),
])
def test_cli_levers_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "levers"
    assert main(["levers", str(PLAN), "-n", "300", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_cli_levers_never_replaces_a_folder_that_is_not_an_analysis(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["levers", str(PLAN), "-n", "300", "--levers", "overcapacity.teams", "--out", str(out)]) == 2
    assert "not an analysis" in capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_the_brief_of_the_same_run_shows_which_measures_matter_most(tmp_path, capsys):
    run, levers, other = tmp_path / "run", tmp_path / "levers", tmp_path / "other"
    common = ["-n", "400", "--seed", "11"]
    assert main(["run", str(PLAN), *common, "--out", str(run)]) == 0
    assert main(["levers", str(PLAN), *common, "--levers", "overcapacity.teams", "green.p_multiplier",
                 "--out", str(levers)]) == 0
    assert main(["brief", str(run), "--analysis", str(levers), "--format", "html", "--lang", "en"]) == 0
    page = (run / "brief.en.html").read_text(encoding="utf-8")
    assert "Which measures matter most" in page and "Working teams preparing disposals" in page
    assert "data:image/png;base64," in page.split("Which measures matter most", 1)[1]  # the tornado chart
    assert main(["levers", str(PLAN), "-n", "400", "--seed", "12", "--levers", "overcapacity.teams",
                 "--out", str(other)]) == 0
    capsys.readouterr()
    assert main(["brief", str(run), "--analysis", str(other), "--format", "html"]) == 2
    assert "is an analysis of another run (seed 12" in capsys.readouterr().err
