"""Lever sweeps: validation of the values, common random numbers, the tidy table, the CLI."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import ScenarioError, load_scenario
from model.cli import main
from model.plans import HEADLINE_2020
from model.report.sweep_chart import sweep_chart
from model.sweep import first_reaching, lever_variant, parse_lever_value, parse_value, reach_text, sweep, sweep_table
from model.targets import load_registry

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "scenarios" / "plan.toml"


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.mark.parametrize(
    "text, value", [("0.5", 0.5), ("12", 12), ("true", True), ("fifo", "fifo"), ('"fifo"', "fifo")]
)
def test_values_are_read_as_toml(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_variant_sets_one_lever_and_renames(plan):
    variant = lever_variant(plan, "techreform.subsidy_rate", 0.5)
    assert variant.levers["techreform.subsidy_rate"] == 0.5
    changed = {k for k in plan.levers if plan.levers[k] != variant.levers[k]}
    assert changed == {"techreform.subsidy_rate"}
    assert variant.name == "subsidy_rate=0.5" and variant.hash() != plan.hash()
    assert lever_variant(plan, "techreform.subsidy_rate", plan.levers["techreform.subsidy_rate"]).hash() == plan.hash()


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("techreform.subsidy_rat", 0.5, "did you mean 'techreform.subsidy_rate'"),
        ("techreform.subsidy_rate", 1.5, "1.5"),
        ("green.inspection", 2, "true or false"),
        ("overcapacity.work_order", "fastest", '"fifo"'),
        ("overcapacity.teams", 2.5, "whole number"),
        ("techreform.subsidy_cap", {"2017": 300.0}, "one value per run"),  # a table for a lever that is not a schedule
        ("techreform.subsidy_rate", {"2017": 1.5}, "subsidy_rate.2017: 1.5 is outside"),
    ],
)
def test_bad_values_are_refused_before_running(plan, key, value, message):
    with pytest.raises(ScenarioError) as err:
        lever_variant(plan, key, value)
    assert message in str(err.value) and str(err.value).startswith("sweep: levers.")


@pytest.fixture(scope="module")
def subsidy_sweep(plan):
    return sweep(plan, "techreform.subsidy_rate", [0.1, 0.3, 0.5], replications=1500, seed=4)


def test_own_value_changes_nothing_and_more_subsidy_never_hurts(subsidy_sweep):
    tidy = sweep_table(subsidy_sweep)
    own = tidy[tidy["value"] == "0.3"]
    assert own["is_reference"].all() and not tidy[tidy["value"] != "0.3"]["is_reference"].any()
    # the scenario's own value resolves to the same content: identical replications, change exactly 0
    assert (own["change"] == 0).all() and (own["change_low"] == 0).all() and (own["change_high"] == 0).all()
    wide = tidy.pivot(index="target_id", columns="value", values="probability")
    # common random numbers and a subsidy that only raises firms' propensity: never fewer firms
    for target in ("techreform.firms.2018", "techreform.investment_share.2020"):
        assert wide.at[target, "0.1"] <= wide.at[target, "0.3"] <= wide.at[target, "0.5"]
    # targets the subsidy cannot reach do not move at all
    assert wide.loc["overcapacity.zombie_disposed.2019"].nunique() == 1


def test_tidy_table_has_one_row_per_target_and_value(subsidy_sweep):
    tidy = sweep_table(subsidy_sweep)
    table = subsidy_sweep.table
    modelled = table[(table["scenario"] == "plan") & table["probability"].notna()]
    assert len(tidy) == 3 * len(modelled)
    # sweep.csv is made from the long table: each row is that value's (scenario, target) row
    rows = table[table["scenario"] == "subsidy_rate=0.3"].set_index("target_id")
    at = tidy[tidy["value"] == "0.3"].set_index("target_id")
    np.testing.assert_array_equal(at["change_low"].to_numpy(), rows.loc[at.index, "change_low"].to_numpy())
    assert list(dict.fromkeys(tidy["value"])) == ["0.1", "0.3", "0.5"]
    assert ((tidy["probability_low"] <= tidy["probability"]) & (tidy["probability"] <= tidy["probability_high"])).all()


def test_first_value_reaching_a_level():
    tidy = pd.DataFrame(
        {
            "target_id": ["a", "a", "a", "b", "b", "b"],
            "value": [1, 2, 3, 1, 2, 3],
            "probability": [0.5, 0.85, 0.9, 0.1, 0.2, 0.3],
        }
    )
    first = first_reaching(tidy, 0.8)
    assert first["a"] == 2 and np.isnan(first["b"])


def test_values_print_as_a_scenario_file_writes_them():
    from model.sweep import value_text

    assert [value_text(v) for v in (0.5, 1000.0, 1000, True, "fifo", 0.1000001)] == [
        "0.5",
        "1000",
        "1000",
        "true",
        '"fifo"',
        "0.1000001",
    ]


def test_cli_sweep_of_a_yes_no_lever_and_its_brief(tmp_path, capsys):
    """A bool lever (True/False are not a row mask) and the brief of a sweep (short, distinct
    scenario titles: no clipped legend, no layout warning, which the test run turns into errors)."""
    from model.report.brief import make_brief

    out = tmp_path / "swb"
    assert main(["sweep", str(PLAN), "green.inspection", "false", "-n", "300", "--out", str(out), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "as written (yes)" in printed and "Cut in energy" in printed
    (html,) = make_brief(out, lang="en", formats=("html",), out=tmp_path / "b")
    assert "What changes between scenarios" in html.read_text("utf-8")


def test_cli_sweep_writes_a_comparison_with_sweep_csv(tmp_path, capsys):
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                str(PLAN),
                "techreform.subsidy_rate",
                "0.1",
                "0.5",
                "-n",
                "400",
                "--out",
                str(out),
                "--targets",
                "techreform.firms.2018",
                "--lang",
                "en",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Above-scale" in printed and "as written (30%)" in printed
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["kind"] == "comparison" and manifest["sweep"]["lever"] == "techreform.subsidy_rate"
    assert "sweep.csv" in manifest["files"] and (out / "sweep.csv").is_file()
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["plan", "subsidy_rate=0.1", "subsidy_rate=0.5"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["techreform.subsidy_rat", "0.5"], "did you mean"),
        (["techreform.subsidy_rate", "abc"], "expected a number"),
        (["techreform.subsidy_rate", "0.5", "0.5"], "given twice"),
        (["techreform.subsidy_cap", "1000", "1000.0"], "given twice"),
        (["techreform.subsidy_rate", "-0.0", "0"], "given twice"),
        (["techreform.subsidy_rate", "0.5", "--targets", "no.such"], "not a modelled target id"),
        (["techreform.subsidy_cap", "10%"], "is a percentage, but this lever is in '万元', not a share"),
        (["techreform.subsidy_rate", "150%"], "1.5 is outside"),
    ],
)
def test_cli_sweep_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "sw"
    assert main(["sweep", str(PLAN), *args, "-n", "50", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "key, text, value",
    [
        ("techreform.subsidy_rate", "10%", 0.1),  # a share: 10 % is 0.1
        ("techreform.subsidy_rate", "35%", 0.35),  # exactly the float 0.35, so runs are named as for "0.35"
        ("techreform.subsidy_rate", " 0.2 ", 0.2),
        ("green.response.path", "10%", 10.0),  # a lever in %: 10 % is 10
        ("overcapacity.teams", "12", 12),
    ],
)
def test_values_may_be_written_as_percentages(key, text, value):
    parsed = parse_lever_value(key, text)
    assert parsed == value and type(parsed) is type(value)


def test_a_percentage_for_a_lever_that_is_not_a_share_is_refused():
    with pytest.raises(ScenarioError, match=r"10% is a percentage, but this lever is in '万元', not a share"):
        parse_lever_value("techreform.subsidy_cap", "10%")
    with pytest.raises(ScenarioError, match="not a percentage"):
        parse_lever_value("techreform.subsidy_rate", "ten%")


def _tidy(values, probabilities, lever="techreform.subsidy_rate"):
    """A sweep table of the three headline goals with the given likelihoods (per value)."""
    registry = {t.id: t for t in load_registry()}
    rows = []
    for k, target_id in enumerate(HEADLINE_2020):
        t = registry[target_id]
        for v, p in zip(values, probabilities[k]):
            rows.append({"target_id": target_id, "name_zh": t.name_zh, "name_en": t.name_en,
                         "deadline": t.deadline.isoformat(), "test": t.test(), "lever": lever, "value": v,
                         "is_reference": v == "0.3", "probability": p, "probability_low": max(p - 0.05, 0),
                         "probability_high": min(p + 0.05, 1)})
    return pd.DataFrame(rows)


def test_none_reaching_80_says_up_to_the_largest_value():
    tidy = _tidy(["0.5", "0.1", "0.3"], [[0.5, 0.85, 0.9], [0.1, 0.2, 0.3], [0.8, 0.1, 0.1]])
    en = reach_text(tidy, "share", 0.8, "en")
    assert list(en) == ["10%", "none up to 50%", "50%"]  # the first in the order given, the largest tried
    zh = reach_text(tidy, "share", 0.8, "zh")
    assert zh[HEADLINE_2020[1]] == "至50%仍未达到"
    cap = _tidy(["500", "2000"], [[0.1, 0.2]] * 3, lever="techreform.subsidy_cap")
    assert set(reach_text(cap, "万元", 0.8, "zh")) == {"至2000 万元仍未达到"}
    yes_no = _tidy(["true", "false"], [[0.1, 0.2]] * 3, lever="green.inspection")
    assert set(reach_text(yes_no, "bool", 0.8, "en")) == {"none of the values tried"}


@pytest.mark.parametrize("lang, title", [("zh", "敏感性分析"), ("en", "Sensitivity analysis")])
def test_sweep_chart_draws_likelihood_against_the_lever_with_the_80_line(lang, title):
    probabilities = [[0.2, 0.5, 0.85], [0.1, 0.2, 0.3], [0.4, 0.6, 0.7]]
    tidy = _tidy(["0.5", "0.1", "0.3"], [[p[2], p[0], p[1]] for p in probabilities])  # given out of order
    fig = sweep_chart(tidy, lang=lang)
    assert title in fig.get_suptitle() and ("一个" in fig.get_suptitle() or "one lever at a time" in fig.get_suptitle())
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    for ax, expected in zip(panels, probabilities):
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert len(dashed) == 1 and list(dashed[0].get_ydata()) == [80, 80]  # the 80 % line
        (curve,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
        assert list(curve.get_xdata()) == [10, 30, 50]  # sorted by value, shares in percent
        assert list(curve.get_ydata()) == pytest.approx([100 * p for p in expected])
    none = "至50%仍未达到" if lang == "zh" else "none up to 50%"
    assert none in panels[1].get_title() and none not in panels[0].get_title()


def test_cli_sweep_with_percentages_saves_the_charts(tmp_path, capsys):
    out = tmp_path / "swp"
    assert main(["sweep", str(PLAN), "techreform.subsidy_rate", "10%", "50%", "-n", "200", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "none up to 50%" in printed  # no target reaches 80 % at these values with 200 replications
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["plan", "subsidy_rate=0.1", "subsidy_rate=0.5"]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    charts = [f"sweep.{lang}.{fmt}" for lang in ("zh", "en") for fmt in ("png", "svg")]
    assert set(charts) <= set(manifest["files"]) and set(charts) <= set(manifest["checksums"])
    assert (out / "sweep.zh.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "sweep.en.svg").read_text("utf-8")[:2000]
    # the folder can be swept into again (its charts are files a comparison folder may hold)
    assert main(["sweep", str(PLAN), "techreform.subsidy_rate", "20%", "-n", "50", "--out", str(out)]) == 0
