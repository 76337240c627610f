"""Scenario files: loading, extends, and every kind of bad input (DESIGN.md section 6)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import ScenarioError, load_scenario
from model.scenario import default_scenario, find_line, schedule_array
from tests.paths import ROOT, SHIPPED

HEAD = '[scenario]\nname = "t"\ntitle_zh = "测试"\ntitle_en = "Test"\n'


def write(tmp_path: Path, name: str, body: str, head: str = HEAD) -> Path:
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


# -- good files ----------------------------------------------------------------------------------
def test_shipped_scenarios_load(shipped_path):
    scenario = load_scenario(shipped_path)
    assert scenario.title_zh and scenario.title_en
    assert len(scenario.hash()) == 64


def test_defaults_fill_everything_not_set(tmp_path):
    path = write(tmp_path, "a.toml", "[levers.techreform]\nsubsidy_rate = 0.2\n")
    scenario = load_scenario(path)
    defaults = default_scenario()
    assert scenario.levers["techreform.subsidy_rate"] == 0.2
    assert set(scenario.levers) == set(defaults.levers)
    assert {k for k in scenario.levers if scenario.levers[k] != defaults.levers[k]} == {"techreform.subsidy_rate"}
    assert scenario.overridden == {"techreform.subsidy_rate"}


def test_extends_merges_key_by_key_and_specs_replace_wholesale(tmp_path):
    write(tmp_path, "base.toml", """
[levers.techreform]
subsidy_rate = 0.2
subsidy_cap = 800
[levers.overcapacity]
teams = 3
[uncertainties.overcapacity]
count = { dist = "triangular", low = 5, mode = 20, high = 60 }
""")
    child = write(tmp_path, "child.toml", """
[levers.techreform]
subsidy_rate = 0.3
[uncertainties.overcapacity]
count = { dist = "uniform", low = 10, high = 50 }
""", head=HEAD.replace('name = "t"', 'name = "child"\nextends = "base.toml"'))
    s = load_scenario(child)
    assert s.name == "child"
    assert s.levers["techreform.subsidy_rate"] == 0.3  # child wins
    assert s.levers["techreform.subsidy_cap"] == 800  # inherited
    assert s.levers["overcapacity.teams"] == 3
    assert s.uncertainties["overcapacity.count"].kind == "uniform"  # replaced, not mixed
    assert [Path(f).name for f in s.files] == ["base.toml", "child.toml"]


def test_schedule_interpolates_between_given_years_and_is_flat_outside():
    arr = schedule_array({"2017": 100.0, "2019": 300.0})
    np.testing.assert_allclose(arr, [100, 100, 200, 300, 300])
    np.testing.assert_allclose(schedule_array(5), [5] * 5)


def test_find_line_locates_nested_and_dotted_keys():
    text = "[scenario]\nname='x'\n\n[levers.techreform]\n# c\nsubsidy_rate = 0.2\n"
    assert find_line(text, "levers.techreform.subsidy_rate") == 6
    assert find_line(text, "levers.techreform.nope") == 4


# -- bad files -----------------------------------------------------------------------------------
BAD = {
    "misspelt_lever": ("[levers.techreform]\nsubsidy_rat = 0.3\n", "levers.techreform.subsidy_rat",
                       "did you mean 'subsidy_rate'", 6),
    "misspelt_top": ("[lever.techreform]\nsubsidy_rate = 0.3\n", "lever", "did you mean 'levers'", 5),
    "unknown_module": ("[levers.gren]\nx = 1\n", "levers.gren", "did you mean 'green'", 5),
    "wrong_type": ('[levers.techreform]\nsubsidy_rate = "high"\n', "levers.techreform.subsidy_rate",
                   "expected a number", 6),
    "probability_above_one": ("[levers.techreform]\nsubsidy_rate = 1.3\n", "levers.techreform.subsidy_rate",
                              "outside the allowed range", 6),
    "negative_count": ("[levers.overcapacity]\nteams = -1\n", "levers.overcapacity.teams",
                       "outside the allowed range", 6),
    "fractional_count": ("[levers.overcapacity]\nteams = 2.5\n", "levers.overcapacity.teams", "whole number", 6),
    "bad_choice": ('[levers.overcapacity]\nwork_order = "random"\n', "levers.overcapacity.work_order",
                   "expected one of", 6),
    "year_outside_horizon": ("[levers.overcapacity]\nfund_topup = { 2017 = 100, 2021 = 200 }\n",
                             "levers.overcapacity.fund_topup.2021", "2016-2020", 6),
    "schedule_on_scalar_lever": ("[levers.overcapacity]\nteams = { 2017 = 2 }\n", "levers.overcapacity.teams",
                                 "not a yearly schedule", 6),
    "truncation_low_above_high": (
        '[uncertainties.overcapacity]\ncount = { dist = "lognormal", median = 20, sigma = 0.5, low = 50, high = 10 }\n',
        "uncertainties.overcapacity.count.low", "low < high", 6),
    "unknown_distribution": ('[uncertainties.overcapacity]\ncount = { dist = "poison", mean = 20 }\n',
                             "uncertainties.overcapacity.count.dist", "did you mean 'poisson'", 6),
    "negative_count_distribution": ('[uncertainties.overcapacity]\ncount = { dist = "normal", mean = 20, sd = 10 }\n',
                                    "uncertainties.overcapacity.count", "outside the allowed range", 6),
    "unknown_uncertainty": ('[uncertainties.overcapacity]\ncounts = 3\n', "uncertainties.overcapacity.counts",
                            "did you mean 'count'", 6),
    "correlation_of_a_fixed_value": (
        '[uncertainties.green]\nbass_q = 0.3\n'
        '[[correlations]]\nbetween = ["green.bass_p", "green.bass_q"]\nrank = 0.5\n',
        "correlations[0].between", "fixed value", 8),
    "correlation_unknown_name": ('[[correlations]]\nbetween = ["green.bass_p", "green.nope"]\nrank = 0.5\n',
                                 "correlations[0].between", "unknown uncertainty", 6),
    "correlation_out_of_range": (
        '[[correlations]]\nbetween = ["techreform.investment.trend", "green.bass_p"]\nrank = 0.2\n'
        '[[correlations]]\nbetween = ["green.bass_q", "green.bass_p"]\nrank = 1.5\n',
        "correlations[1].rank", "[-1, 1]", 10),
    "schedule_year_not_four_digits": ('[levers.techreform]\nsubsidy_rate = { "02017" = 0.3 }\n',
                                      "levers.techreform.subsidy_rate.02017", "2016-2020", 6),
    "dist_not_a_name": ('[uncertainties.green]\nbass_p = { dist = ["uniform"], low = 0, high = 1 }\n',
                        "uncertainties.green.bass_p.dist", "name of a distribution", 6),
    "bare_nan": ('[uncertainties.green]\nbass_p = nan\n', "uncertainties.green.bass_p", "finite number", 6),
    "huge_count": ('[levers.overcapacity]\nteams = 9223372036854775807\n', "levers.overcapacity.teams",
                   "outside the allowed range", 6),
    "group_given_a_number": ('[uncertainties.green]\ngrowth = 3\n', "uncertainties.green.growth", "is a group", 6),
    "unquoted_target_id": ('[targets.green.energy_intensity_cut.2020]\nthreshold = 15\n', "targets.green",
                           "quote them", 5),
    "uniform_too_wide": ('[uncertainties.green]\nbass_p = { dist = "uniform", low = -1e308, high = 1e308 }\n',
                         "uncertainties.green.bass_p.high", "too far apart", 6),
    "poisson_count_needs_truncation": ('[uncertainties.overcapacity]\ncount = { dist = "poisson", mean = 30 }\n',
                                       "uncertainties.overcapacity.count", "add low/high truncation", 6),
    "target_not_a_reading": ('[targets]\n"overcapacity.zombie_disposed.2018" = { threshold = 50 }\n',
                             "targets.overcapacity.zombie_disposed.2018", "not a reading", 6),
    "target_unknown": ('[targets]\n"overcapacity.zombie_disposd.2019" = { threshold = 90 }\n',
                       "targets.overcapacity.zombie_disposd.2019", "did you mean", 6),
    "meta_unknown_key": ('', "scenario.titel_en", "did you mean 'title_en'", None),
    "code_is_not_evaluated": ('[levers.techreform]\nsubsidy_rate = "__import__(\'os\').system(\'touch PWNED\')"\n',
                              "levers.techreform.subsidy_rate", "expected a number", 6),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_file_key_and_line(tmp_path, case):
    body, key, fragment, line = BAD[case]
    head = HEAD + ('titel_en = "x"\n' if case == "meta_unknown_key" else "")
    path = write(tmp_path, "bad.toml", body, head=head)
    err = error_of(path)
    assert err.file == str(path.resolve())
    assert err.key == key
    assert fragment in err.message
    if line is not None:
        assert err.line == line
    assert not (tmp_path / "PWNED").exists()


def test_truncated_poisson_is_accepted_for_counts(tmp_path):
    path = write(tmp_path, "p.toml",
                 '[uncertainties.overcapacity]\ncount = { dist = "poisson", mean = 30, low = 1, high = 200 }\n')
    assert load_scenario(path).uncertainties["overcapacity.count"].support() == (1.0, 200.0)


def test_partial_override_of_an_inherited_distribution_blames_the_child(tmp_path):
    write(tmp_path, "base.toml", '[uncertainties.green]\nbass_p = { dist = "uniform", low = 0.01, high = 0.02 }\n')
    child = write(tmp_path, "child.toml", "[uncertainties.green.bass_p]\nhigh = 0.03\n",
                  head=HEAD.replace('name = "t"', 'name = "c"\nextends = "base.toml"'))
    err = error_of(child)
    assert err.file == str(child.resolve()) and err.key == "uncertainties.green.bass_p.dist"
    assert "replaces the inherited one whole" in err.message


def test_correlations_that_cannot_hold_together(tmp_path):
    names = ["techreform.investment.trend", "green.growth.other", "green.bass_p"]
    body = "".join(
        f'[[correlations]]\nbetween = ["{a}", "{b}"]\nrank = {r}\n'
        for (a, b), r in zip([(names[0], names[1]), (names[1], names[2]), (names[0], names[2])], [0.9, 0.9, -0.9])
    )
    err = error_of(write(tmp_path, "c.toml", body))
    assert err.key == "correlations" and "positive definite" in err.message


def test_invalid_toml_reports_line(tmp_path):
    err = error_of(write(tmp_path, "t.toml", "[levers.techreform]\nsubsidy_rate = = 3\n"))
    assert "invalid TOML" in err.message and err.line == 6


def test_missing_file_and_missing_extends(tmp_path):
    err = error_of(tmp_path / "nope.toml")
    assert "file not found" in err.message
    path = write(tmp_path, "c.toml", "", head=HEAD.replace('name = "t"', 'name = "t"\nextends = "gone.toml"'))
    err = error_of(path)
    assert err.key == "scenario.extends" and "not a file" in err.message and err.line == 3
    for odd in ("a\\u0000b.toml", "x" * 5000 + ".toml", "."):
        path = write(tmp_path, "odd.toml", "", head=HEAD.replace('name = "t"', f'name = "t"\nextends = "{odd}"'))
        assert error_of(path).key == "scenario.extends"


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.toml", "", head=HEAD.replace('name = "t"', 'name = "a"\nextends = "b.toml"'))
    b = write(tmp_path, "b.toml", "", head=HEAD.replace('name = "t"', 'name = "b"\nextends = "a.toml"'))
    err = error_of(b)
    assert "cycle" in err.message and "b.toml -> a.toml -> b.toml" in err.message and err.line == 3
    selfish = write(tmp_path, "s.toml", "", head=HEAD.replace('name = "t"', 'name = "s"\nextends = "s.toml"'))
    assert "cycle" in error_of(selfish).message


def test_error_points_at_the_parent_file_that_holds_the_mistake(tmp_path):
    base = write(tmp_path, "base.toml", "[levers.techreform]\nsubsidy_rate = 2\n")
    child = write(tmp_path, "child.toml", "", head=HEAD.replace('name = "t"', 'name = "c"\nextends = "base.toml"'))
    err = error_of(child)
    assert err.file == str(base.resolve()) and err.line == 6


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes((HEAD + 'description = "技改"\n').encode("gbk"))
    assert "UTF-8" in error_of(path).message


# -- the command line ----------------------------------------------------------------------------
class Ran:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args, cwd, capsys, monkeypatch):
    """Run the command line in this process (importing scipy takes seconds per subprocess)."""
    from model.cli import main

    monkeypatch.chdir(cwd)
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse rejects bad options with status 2
        code = exc.code
    out, err = capsys.readouterr()
    return Ran(code, out, err)


@pytest.mark.parametrize("case", ["misspelt_lever", "truncation_low_above_high", "code_is_not_evaluated"])
def test_cli_bad_input_exit_2_one_line_nothing_written(tmp_path, case, capsys, monkeypatch):
    body, key, fragment, _ = BAD[case]
    path = write(tmp_path, "bad.toml", body)
    good = write(tmp_path, "good.toml", "")
    out = tmp_path / "out"
    for command in (["run", str(good), str(path), "--out", str(out), "-n", "10"], ["validate", str(path)]):
        result = cli(*command, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert str(path.resolve()) in lines[0] and key in lines[0] and fragment in lines[0]
    assert not out.exists() and not (tmp_path / "runs").exists()
    assert not (tmp_path / "PWNED").exists()


def test_cli_missing_file_and_bad_options(tmp_path, capsys, monkeypatch):
    result = cli("run", "missing.toml", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 2 and "file not found" in result.stderr and "Traceback" not in result.stderr
    good = write(tmp_path, "good.toml", "")
    (tmp_path / "afile").write_text("x")
    for bad in (["--replications", "0"], ["--workers", "zero"], ["--seed", "-3"], ["--out", "afile/run"]):
        result = cli("run", str(good), *bad, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "runs").exists()


def test_validate_reports_every_bad_file_not_only_the_first(tmp_path, capsys, monkeypatch):
    bad1 = write(tmp_path, "bad1.toml", BAD["misspelt_lever"][0])
    bad2 = write(tmp_path, "bad2.toml", BAD["truncation_low_above_high"][0])
    good = write(tmp_path, "good.toml", "")
    result = cli("validate", str(bad1), str(good), str(bad2), cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "bad1.toml" in lines[0] and "bad2.toml" in lines[1]
    assert result.stdout.count("ok ") == 1 and "good.toml" in result.stdout


def test_cli_as_a_program_validates_and_exits_with_status(tmp_path):
    """One real subprocess: `python -m model` exit statuses as a shell sees them."""
    bad = write(tmp_path, "bad.toml", BAD["misspelt_lever"][0])
    # PYTHONPATH: this checkout's model, not whichever one the interpreter has installed
    result = subprocess.run([sys.executable, "-m", "model", "validate", *map(str, SHIPPED), str(bad)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stdout.count("ok ") == len(SHIPPED)
    assert "did you mean 'subsidy_rate'" in result.stderr


def test_the_readme_example_scenario_is_valid(tmp_path):
    """The example in the README must stay true: it validates against the shipped plan."""
    import re
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(\[scenario\]\nname = \"plan-cheaper\".*?)```", readme, re.S).group(1)
    shutil.copy(ROOT / "scenarios" / "plan.toml", tmp_path / "plan.toml")
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.levers["techreform.subsidy_cap"] == 500
    assert scenario.thresholds == {"overcapacity.zombie_disposed.2019": 90.0}
    expected = [0.3, 0.3, 0.2 + 0.1 * 2 / 3, 0.2 + 0.1 / 3, 0.2]  # 2017 = 0.30, 2020 = 0.20, interpolated
    np.testing.assert_allclose(scenario.lever_values("techreform")["subsidy_rate"], expected)


@pytest.mark.parametrize("body, line, hint", [
    ("[levers.techreform]\nsubsidy_cap = １０００\n", 6, "half-width digits"),
    ("[levers.techreform]\nsubsidy_rate = 0,30\n", 6, "decimal comma"),
    ("[levers.techreform]\nsubsidy_cap = 1000\nsubsidy_cap = 900\n", 7, "set twice"),
    ("[levers.overcapacity]\nteams　= 10\n", 6, "half-width '='"),
])
def test_common_keyboard_mistakes_get_a_hint(tmp_path, body, line, hint):
    err = error_of(write(tmp_path, "k.toml", body))
    assert err.line == line and "invalid TOML in `" in err.message and hint in err.message


def test_a_percentage_written_for_a_share_suggests_the_fraction(tmp_path):
    err = error_of(write(tmp_path, "p.toml", "[levers.techreform]\nsubsidy_rate = 30\n"))
    assert "write 0.3 for 30 %" in err.message


# -- one key spelt two ways in one file: TOML accepts it, we refuse it ---------------------------
TWICE = {  # body, key path, line of the second spelling (HEAD takes lines 1-4)
    "quoted_and_dotted": (
        '[uncertainties.techreform]\n"propensity.base" = 0.2\npropensity.base = 0.3\n',
        "uncertainties.techreform.propensity.base", 7, ('"propensity.base"', "propensity.base on line 7")),
    "quoted_and_table": (
        '[uncertainties.techreform]\n"propensity.base" = 0.2\n[uncertainties.techreform.propensity]\nbase = 0.3\n',
        "uncertainties.techreform.propensity.base", 8, ('"propensity.base" on line 6', "propensity.base on line 8")),
    "lever_at_section_level": (
        '[levers]\ntechreform.subsidy_rate = 0.2\n"techreform.subsidy_rate" = 0.3\n',
        "levers.techreform.subsidy_rate", 7,
        ("techreform.subsidy_rate on line 6", '"techreform.subsidy_rate" on line 7')),
    "key_inside_a_distribution": (
        '[uncertainties.techreform]\n"propensity.base" = { dist = "uniform", low = 0.1, high = 0.2 }\n'
        'propensity.base.high = 0.3\n',
        "uncertainties.techreform.propensity.base.high", 7, ("propensity.base.high on line 7",)),
    "target_threshold": (
        '[targets]\n"green.energy_intensity_cut.2020" = { threshold = 15 }\n'
        '"green.energy_intensity_cut.2020.threshold" = 16\n',
        "targets.green.energy_intensity_cut.2020.threshold", 7,
        ('"green.energy_intensity_cut.2020".threshold on line 6',)),
}


@pytest.mark.parametrize("case", sorted(TWICE))
def test_a_key_set_twice_in_two_spellings_is_an_error(tmp_path, case):
    body, key, line, shown = TWICE[case]
    err = error_of(write(tmp_path, "twice.toml", body))
    assert err.key == key and err.line == line
    assert err.message.startswith("set twice (") and err.message.endswith("); keep one")
    for fragment in shown:
        assert fragment in err.message


@pytest.mark.parametrize("parent, child", [('"propensity.base" = 0.2', "propensity.base = 0.3"),
                                           ("propensity.base = 0.2", '"propensity.base" = 0.3')])
def test_a_child_overrides_its_parent_whatever_the_spelling(tmp_path, parent, child):
    write(tmp_path, "parent.toml", f"[uncertainties.techreform]\n{parent}\n")
    path = write(tmp_path, "child.toml", f"[uncertainties.techreform]\n{child}\n",
                 head=HEAD + 'extends = "parent.toml"\n')
    assert load_scenario(path).uncertainties["techreform.propensity.base"].p == {"value": 0.3}


def test_a_child_setting_part_of_a_differently_spelt_parent_value_is_an_error(tmp_path):
    write(tmp_path, "parent.toml",
          '[uncertainties.techreform]\n"propensity.base" = { dist = "uniform", low = 0.1, high = 0.2 }\n')
    path = write(tmp_path, "child.toml", "[uncertainties.techreform]\npropensity.base.high = 0.3\n",
                 head=HEAD + 'extends = "parent.toml"\n')
    err = error_of(path)
    assert Path(err.file).name == "child.toml" and err.key == "uncertainties.techreform.propensity.base.high"
    assert "write the whole value here" in err.message


# -- wording: TOML terms, never Python's ----------------------------------------------------------
@pytest.mark.parametrize("body, key, message", [
    ("[levers.overcapacity]\npolluter_start = 2017-03-01\n", "levers.overcapacity.polluter_start",
     "expected a number (decimal year), found a date (2017-03-01); write a decimal year such as 2017.16"),
    ("[levers.overcapacity]\npolluter_start = 2017-07-01T08:00:00\n", "levers.overcapacity.polluter_start",
     "found a date and time (2017-07-01T08:00:00); write a decimal year such as 2017.50"),
    ('[levers.overcapacity]\nteams = "5"\n', "levers.overcapacity.teams",
     'found the text "5"; write the number without quotes'),
    ('[levers.green]\ninspection = "true"\n', "levers.green.inspection",
     'found the text "true"; write true without quotes'),
    ("[levers.overcapacity]\nteams = [1, 2]\n", "levers.overcapacity.teams", "found an array [1, 2]"),
    ('[levers.overcapacity]\nwork_order = 1\n', "levers.overcapacity.work_order",
     'expected one of "fifo", "simplest_first", found 1'),
    ('[uncertainties.green]\nbass_p = { dist = "uniform", low = 08:00:00, high = 1 }\n',
     "uncertainties.green.bass_p.low", "expected a number, found a time of day (08:00:00)"),
    ('[[correlations]]\nbetween = ["green.bass_p", "green.bass_q"]\n', "correlations[0].rank", "rank is missing"),
    ('[[correlations]]\nbetween = ["green.bass_p", "green.bass_q"]\nrank = false\n', "correlations[0].rank",
     "found false"),
])
def test_found_values_are_described_in_toml_terms(tmp_path, body, key, message):
    err = error_of(write(tmp_path, "bad.toml", body))
    assert err.key == key and message in err.message
    assert not any(python in err.message for python in ("datetime", "None", "'5'", "True", "False", "{'"))


def test_value_descriptions():
    import datetime as dt

    from model.timeline import decimal_year
    from model.tomlfile import describe

    assert describe({"a": 1, "b c": [True, "x"]}) == 'a table { a = 1, "b c" = [true, "x"] }'
    assert describe(float("-inf")) == "-inf" and describe(None) == "nothing"
    assert describe("中文") == 'the text "中文"'
    assert describe("x" * 100).endswith("…") and len(describe("x" * 100)) < 80
    # the hint in messages uses the model's one conversion: a date is the end of that day
    assert decimal_year(dt.date(2017, 1, 1)) == 2017 + 1 / 365 and decimal_year(dt.date(2016, 12, 31)) == 2017.0
