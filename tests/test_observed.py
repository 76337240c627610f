"""Observed-figures files and the likelihood weights they give a run (issue 11 items 1-2)."""

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import ConditioningError, ObservedError, load_observed, load_run, load_scenario, simulate
from model.conditioning import MIN_EFFECTIVE, condition, effective_size
from model.observed import PERIOD_MONTHS, partial_sd
from model.plans import HEADLINE_2020
from model.series import series_spec
from model.smc import MIN_PARTICLES
from tests.paths import PLAN, ROOT

SOURCE = 'source = "济源日报 2018-09-06", published = 2018-09-06'
#: A scenario whose 2017 GDP growth is exactly 50 * industry.trend + 4 [%]: the industry and the
#: rest of GDP each half of 2016 GDP, the rest growing 8 %, no common shock, no bad years.
TOY = """[scenario]
name = "toy"
title_zh = "玩具"
title_en = "Toy"
{observed}
[uncertainties.macro]
"industry.trend" = {{ dist = "normal", mean = 0.07, sd = 0.01, low = -0.2, high = 0.3 }}
"rest.trend" = 0.08
"industry.share_2016" = 0.5
"shock.sd" = 0.0
"shock.bad_prob" = 0.0
"""


def write(tmp_path: Path, body: str, name: str = "obs.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def cli(*args, cwd, capsys, monkeypatch):
    """Run the command line in this process: (exit status, stdout, stderr)."""
    from model.cli import main

    monkeypatch.chdir(cwd)
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# -- good files ----------------------------------------------------------------------------------
def test_shipped_example_loads_with_its_sources_and_half_year_sd():
    observed = load_observed(ROOT / "observed" / "2018-h1.toml")
    figures = {f.key: f for f in observed.figures}
    assert set(figures) == {"gdp_growth.2018", "industrial_va_growth.2018"}
    gdp = figures["gdp_growth.2018"]
    assert (gdp.value, gdp.period, gdp.year, gdp.published) == (8.9, "H1", 2018, dt.date(2018, 9, 6))
    assert "济源日报" in gdp.source and figures["industrial_va_growth.2018"].value == 8.1
    assert gdp.sd == pytest.approx(series_spec("gdp_growth").sd / math.sqrt(0.5))
    digest = hashlib.sha256((ROOT / "observed" / "2018-h1.toml").read_bytes()).hexdigest()
    assert observed.sha256 == digest


def test_values_defaults_periods_and_targets(tmp_path):
    path = write(tmp_path, f"""
[gdp_growth]
2017 = 8.0
2018 = {{ value = 8.9, period = "Jan-May", sd = 0.9, {SOURCE} }}
[industrial_va_growth]
2018 = {{ value = 8.1, period = "Q1" }}
[targets]
"overcapacity.zombie_survey.2017" = {{ done = 2017-06-28, published = 2017-07-03 }}
"overcapacity.zombie_plan.2017" = {{ met = true, published = 2018-01-10 }}
overcapacity.zombie_disposed.2018 = {{ value = 72, published = 2019-02-01 }}
"green.green_factories.2018" = {{ value = 2 }}
"smart.iim_pilots.2017" = {{ met = false }}
"overcapacity.coal_power_plan.2017" = {{ done = false, on = 2017-05-31, published = 2017-06-02 }}
""")
    figures = {f.key: f for f in load_observed(path).figures}
    full = figures["gdp_growth.2017"]
    assert (full.value, full.period, full.fraction, full.sd) == (8.0, "year", 1.0, series_spec("gdp_growth").sd)
    may = figures["gdp_growth.2018"]
    assert (may.sd, may.fraction, may.source, may.line) == (0.9, 5 / 12, "济源日报 2018-09-06", 4)
    assert figures["industrial_va_growth.2018"].sd == pytest.approx(0.5 / math.sqrt(0.25))
    survey = figures["targets.overcapacity.zombie_survey.2017"]
    assert survey.kind == "done" and survey.sd == pytest.approx(5 / 365) and survey.value == pytest.approx(2017.4904,
                                                                                                          abs=1e-4)
    assert figures["targets.overcapacity.zombie_plan.2017"].kind == "met"
    # the target's own series gives the sd (zombie_disposed_share: 2 pp); a count its unit's (0.5)
    assert figures["targets.overcapacity.zombie_disposed.2018"].sd == 2.0  # written dotted, read the same
    assert figures["targets.green.green_factories.2018"].sd == 0.5
    assert figures["targets.smart.iim_pilots.2017"].value == 0.0
    assert figures["targets.overcapacity.coal_power_plan.2017"].kind == "not_done"
    assert PERIOD_MONTHS["H1"] == 6 and PERIOD_MONTHS["Q1-Q3"] == PERIOD_MONTHS["Jan-Sep"] == 9
    assert partial_sd(1.0, 3) == pytest.approx(2.0)


# -- broken files --------------------------------------------------------------------------------
#: case -> (body, key in the message, fragment of the message, line)
BAD = {
    "unknown_series": ("[gdp_grwth]\n2018 = 8.9\n", "gdp_grwth", "did you mean 'gdp_growth'", 1),
    "year_before": ("[gdp_growth]\n2015 = 8.9\n", "gdp_growth.2015", "outside the model's years 2016-2020", 2),
    "year_after": ("[techreform_investment_share]\n2021 = 30\n", "techreform_investment_share.2021",
                   "outside the model's years", 2),
    "year_without_value": ("[industrial_va_growth]\n2016 = 8\n", "industrial_va_growth.2016", "from 2017 on", 2),
    "out_of_range": ("[techreform_investment_share]\n2018 = 130\n", "techreform_investment_share.2018.value",
                     "outside the physical range", 2),
    "negative_sd": ("[gdp_growth]\n\n2018 = { value = 8.9, sd = -0.5 }\n", "gdp_growth.2018.sd",
                    "must be positive", 3),
    "published_early": ("[gdp_growth]\n2018 = { value = 8.9, period = \"H1\", published = 2018-06-30 }\n",
                        "gdp_growth.2018.published", "is not after the end of gdp_growth 2018 H1", 2),
    "future": ("[gdp_growth]\n2018 = { value = 8.9, published = 2099-01-01 }\n", "gdp_growth.2018.published",
               "is in the future", 2),
    "single_quarter": ("[gdp_growth]\n2018 = { value = 8.9, period = \"Q2\" }\n", "gdp_growth.2018.period",
                       "give H1", 2),
    "unknown_key": ("[gdp_growth]\n2018 = { vaule = 8.9 }\n", "gdp_growth.2018.vaule", "did you mean 'value'", 2),
    "unknown_target": ("[targets]\n\"overcapacity.zombie_survy.2017\" = { met = true }\n",
                       "targets.overcapacity.zombie_survy.2017", "did you mean 'overcapacity.zombie_survey.2017'", 2),
    "value_of_milestone": ("[targets]\n\"overcapacity.zombie_survey.2017\" = { value = 3 }\n",
                           "targets.overcapacity.zombie_survey.2017.value", "is a milestone", 2),
    "missed_before_deadline": ("[targets]\n\"green.green_factories.2018\" = { met = false, published = 2018-05-01 }\n",
                               "targets.green.green_factories.2018.published", "is not after the end of the deadline",
                               2),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_broken_file_gives_one_line_naming_file_key_line_and_fix(tmp_path, case):
    body, key, fragment, line = BAD[case]
    path = write(tmp_path, body)
    with pytest.raises(ObservedError) as info:
        load_observed(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert fragment in message and "\n" not in message


def test_a_period_not_ended_by_today_is_refused(tmp_path):
    path = write(tmp_path, "[gdp_growth]\n2018 = { value = 8.9, period = \"H1\" }\n")
    assert load_observed(path, today=dt.date(2018, 7, 15)).figures[0].value == 8.9
    with pytest.raises(ObservedError, match=r"obs.toml:2: gdp_growth.2018: .* 2018-06-30, which has not passed"):
        load_observed(path, today=dt.date(2018, 6, 30))


@pytest.mark.parametrize("case", ["unknown_series", "negative_sd", "future"])
def test_cli_refuses_a_broken_file_exit_2_nothing_written(tmp_path, case, capsys, monkeypatch):
    body, key, fragment, _ = BAD[case]
    bad = write(tmp_path, body)
    scenario = write(tmp_path, TOY.format(observed=""), "toy.toml")
    named = write(tmp_path, TOY.format(observed='observed = "obs.toml"').replace('"toy"', '"named"'), "named.toml")
    out = tmp_path / "out"
    for command in (["validate", str(bad)], ["validate", str(named)],
                    ["run", str(scenario), "--observed", str(bad), "-n", "300", "--out", str(out)],
                    ["run", str(named), "-n", "300", "--out", str(out)],
                    ["compare", str(scenario), str(named), "-n", "300", "--out", str(out)],
                    ["sweep", str(scenario), "techreform.subsidy_rate", "0.2", "--observed", str(bad), "-n", "300",
                     "--out", str(out)]):
        code, _, err = cli(*command, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, (command, err)
        assert str(bad) in lines[0] and key in lines[0] and fragment in lines[0]
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_validate_checks_good_observed_files_and_a_scenarios_own(tmp_path, capsys, monkeypatch):
    write(tmp_path, "[gdp_growth]\n2017 = 8.0\n")
    named = write(tmp_path, TOY.format(observed='observed = "obs.toml"'), "toy.toml")
    code, out, err = cli("validate", "obs.toml", str(named), cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and not err
    assert "ok  obs.toml  (observed figures: 1" in out and "observed " in out.splitlines()[1]


# -- weights ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("toy")
    (folder / "obs.toml").write_text("[gdp_growth]\n2017 = { value = 8.0, sd = 0.5 }\n", encoding="utf-8")
    (folder / "toy.toml").write_text(TOY.format(observed='observed = "obs.toml"'), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def toy_run(toy_dir):
    return simulate(load_scenario(toy_dir / "toy.toml"), 2000, 11)


def test_weights_match_the_normal_normal_posterior(toy_run):
    """u ~ N(0.07, 0.01^2) and the model's 2017 GDP growth is 50 u + 4 [%]; observing 8.0 with
    sd 0.5 is observing (8 - 4) / 50 = 0.08 with sd 0.01, so u | y ~ N(0.075, 0.01^2 / 2).

    Monte Carlo error: a self-normalised weighted mean has standard error about
    sd_posterior / sqrt(ESS) (Owen 2013, ch. 9.3), a weighted sd about sd / sqrt(2 ESS); both
    are asserted within 4 such errors (fixed seed)."""
    u = toy_run.inputs["macro.industry.trend"]
    assert np.allclose(toy_run.series("gdp_growth")[:, 1], 50 * u + 4)  # the closed form holds
    w, ess = toy_run.weights, toy_run.effective_replications
    assert w.dtype == np.float64 and w.shape == (2000,) and w.sum() == pytest.approx(1.0)
    assert ess == pytest.approx(effective_size(w)) and 1000 < ess < 2000
    mean = float(np.sum(w * u))
    sd = math.sqrt(float(np.sum(w * (u - mean) ** 2)))
    posterior_sd = 0.01 / math.sqrt(2)
    assert abs(mean - 0.075) < 4 * posterior_sd / math.sqrt(ess)
    assert abs(sd - posterior_sd) < 4 * posterior_sd / math.sqrt(2 * ess)
    assert abs(float(u.mean()) - 0.07) < 4 * 0.01 / math.sqrt(2000)  # and unweighted, the prior's


def test_weights_are_equal_without_observations(plan):
    run = simulate(plan, 300, 5)
    assert np.array_equal(run.weights, np.full(300, 1 / 300)) and run.effective_replications == pytest.approx(300)
    assert "observed_file" not in run.manifest


def test_too_few_effective_replications_is_refused_with_advice(toy_dir, capsys, monkeypatch):
    tight = toy_dir / "tight.toml"
    tight.write_text("[gdp_growth]\n2017 = { value = 8.0, sd = 0.005 }\n", encoding="utf-8")
    with pytest.raises(ConditioningError) as info:
        simulate(load_scenario(toy_dir / "toy.toml"), 400, 11, observed=tight)  # too few for particles too
    message = str(info.value)
    assert message.startswith(f"{tight}:2: gdp_growth.2017: ") and f"below the minimum {MIN_EFFECTIVE}" in message
    assert "--replications" in message and "looser sd (sd = 0.01)" in message
    assert f"with at least {MIN_PARTICLES} replications the run is conditioned by sequential Monte Carlo" in message
    out = toy_dir / "refused"
    code, _, err = cli("run", "toy.toml", "--observed", "tight.toml", "-n", "400", "--out", str(out), cwd=toy_dir,
                       capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "below the minimum" in err and not out.exists()


def test_an_outcome_keeps_only_the_replications_that_agree(plan, tmp_path):
    run = simulate(plan, 1000, 5)
    met = run.met["green.energy_intensity_cut.2017"]
    assert 0.2 < met.mean() < 0.8  # both outcomes occur: the test below can fail
    path = write(tmp_path, "[targets]\n\"green.energy_intensity_cut.2017\" = { met = true }\n")
    done = condition(load_observed(path), run.indicators, run.values, run.met, 1000)
    assert np.all(done.weights[~met] == 0) and np.allclose(done.weights[met], 1 / met.sum())
    assert done.effective == pytest.approx(met.sum())


def test_a_saved_run_keeps_its_weights_and_the_files_hash(toy_run, toy_dir, tmp_path, plan):
    saved = load_run(toy_run.save(tmp_path / "toy"))
    assert np.array_equal(saved.weights, toy_run.weights)
    assert saved.effective_replications == pytest.approx(toy_run.effective_replications)
    manifest = json.loads((tmp_path / "toy" / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((toy_dir / "obs.toml").read_bytes()).hexdigest()
    assert manifest["observed_file"] == str(toy_dir / "obs.toml") and manifest["observed_sha256"] == digest
    assert manifest["observed_figures"] == 1 and manifest["effective_replications"] > 1000
    plain = load_run(simulate(plan, 200, 5).save(tmp_path / "plain"))
    assert np.array_equal(plain.weights, np.full(200, 1 / 200))


def test_the_cli_option_conditions_and_says_so(toy_dir, tmp_path, capsys, monkeypatch):
    plain = write(tmp_path, TOY.format(observed=""), "plain.toml")
    out = tmp_path / "run"
    code, printed, err = cli("run", str(plain), "--observed", str(toy_dir / "obs.toml"), "-n", "1000", "--out",
                             str(out), cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0, err
    flat = " ".join(printed.split())  # the line is wrapped at 80 columns
    assert "conditioned on 1 published figure(s)" in flat and "effective replications of 1,000" in flat
    assert "项公布数据修正预测" in "".join(printed.split())  # Chinese first (then English), wrapped too
    assert printed.index("已按") < printed.index("conditioned on")
    assert load_run(out).effective_replications < 1000


def test_with_levers_keeps_the_figures_and_weighs_again(toy_run):
    changed = toy_run.with_levers({"techreform.subsidy_rate": 0.2})
    assert changed.observed is toy_run.observed
    assert np.array_equal(changed.weights, toy_run.weights)  # the lever does not move 2017 GDP growth
    assert changed.manifest["observed_sha256"] == toy_run.manifest["observed_sha256"]


def test_compare_refuses_a_saved_run_not_conditioned_on_the_file(toy_dir, tmp_path, capsys, monkeypatch):
    plain = write(tmp_path, TOY.format(observed=""), "plain.toml")
    simulate(load_scenario(plain), 300, 1).save(tmp_path / "saved")
    code, _, err = cli("compare", str(tmp_path / "saved"), str(plain), "--observed", str(toy_dir / "obs.toml"),
                       "-n", "300", "--out", str(tmp_path / "cmp"), cwd=tmp_path, capsys=capsys,
                       monkeypatch=monkeypatch)
    assert code == 2 and "is not conditioned on" in err and not (tmp_path / "cmp").exists()


def test_streamed_runs_refuse_observed_figures(toy_dir):
    with pytest.raises(ObservedError, match="streamed run .* cannot be conditioned"):
        simulate(load_scenario(toy_dir / "toy.toml"), 300, 1, stream=True)


def test_the_shipped_example_conditions_the_plan():
    run = simulate(load_scenario(PLAN), 2000, 1, observed=ROOT / "observed" / "2018-h1.toml")
    assert MIN_EFFECTIVE <= run.effective_replications < 2000
    gdp = run.series("gdp_growth")[:, 2]
    # the half-year figure (8.9) is above the forecast's mean: conditioning moves the mean up
    assert float(np.sum(run.weights * gdp)) > float(gdp.mean()) + 0.5


# -- the tables of a conditioned run ----------------------------------------------------------------
def test_weighted_quantiles_are_the_plain_ones_under_equal_weights_and_follow_the_weights():
    from model.tables import quantiles

    rng = np.random.default_rng(5)
    values = rng.normal(size=(1001, 3))
    values[rng.random((1001, 3)) < 0.05] = np.nan
    values[:7, 0] = np.inf
    qs = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    equal = np.full(1001, 1 / 1001)
    assert np.array_equal(quantiles(values, qs), quantiles(values, qs, equal), equal_nan=True)
    # closed form: weights 1..10 on the values 0..9, cumulative weight (k+1)(k+2)/110
    w = np.arange(1, 11) / 55.0
    got = quantiles(np.arange(10.0), (0.05, 0.5, 0.9), w)
    assert list(got) == [1.0, 6.0, 9.0]  # 6/110 >= 0.05 at 1; 56/110 >= 0.5 at 6; 90/110 < 0.9 <= 110/110 at 9


def test_a_conditioned_summary_is_the_weighted_share_with_an_effective_sample_interval(plan):
    from model.stats import wilson

    base = simulate(plan, 3000, seed=3)
    conditioned = simulate(plan, 3000, seed=3, observed=ROOT / "observed" / "2018-h1.toml")
    goal = "green.energy_intensity_cut.2020"
    row = conditioned.summary.set_index("target_id").loc[goal]
    w, ess = conditioned.weights, conditioned.effective_replications
    assert row["probability"] == pytest.approx(float(np.sum(w * conditioned.met[goal])), rel=1e-12)
    low, high = wilson(row["probability"] * ess, ess)
    assert (row["probability_low"], row["probability_high"]) == pytest.approx((low, high), rel=1e-12)
    # fewer effective replications: a wider interval than the same run unconditioned
    plain = base.summary.set_index("target_id").loc[goal]
    assert row["probability_high"] - row["probability_low"] > plain["probability_high"] - plain["probability_low"]
    pd.testing.assert_frame_equal(base.summary, simulate(plan, 3000, seed=3).summary)


def test_the_joint_and_district_views_of_a_conditioned_run_are_weighted(plan):
    run = simulate(plan, 3000, seed=3, observed=ROOT / "observed" / "2018-h1.toml")
    w = run.weights
    joint = run.joint.set_index("view")
    together = np.logical_and.reduce([run.met[g] for g in HEADLINE_2020])
    assert joint.loc["headline_2020", "probability"] == pytest.approx(float(np.sum(w * together)), abs=1e-12)
    count = sum(run.met[t].astype(float) for t in run.met if not t.startswith("techreform.district."))
    assert joint.loc["met_count", "mean"] == pytest.approx(float(np.sum(w * count)), rel=1e-9)
    district = run.districts.iloc[0]
    first = next(t for t in run.met if t.startswith("techreform.district.") and "industrial_investment" in t)
    assert district["industrial_investment.probability"] == pytest.approx(float(np.sum(w * run.met[first])), abs=1e-12)


def test_the_outside_view_and_calibration_of_a_conditioned_run_are_weighted(plan):
    from model.outside import GOAL, outside_view

    run = simulate(plan, 3000, seed=3, observed=ROOT / "observed" / "2018-h1.toml")
    view = outside_view(run)
    assert view.likelihood == pytest.approx(float(np.sum(run.weights * run.met[GOAL])), abs=1e-12)
    limited = (run.kept_yearly()["green.production_limit"] > 0).any(axis=1)
    assert view.limited == pytest.approx(float(np.sum(run.weights * limited)), abs=1e-12)
    # the published 2018 GDP growth was observed (+8.9 % in H1): its conditioned median moves towards it
    plain = simulate(plan, 3000, seed=3).calibration
    cond = run.calibration
    pick = (plain["series_id"] == "gdp_growth") & (plain["year"] == 2018)
    assert float(cond.loc[pick, "p50"].iloc[0]) > float(plain.loc[pick, "p50"].iloc[0])


def test_drivers_of_a_conditioned_run_use_weighted_thirds(plan):
    from model.drivers import _terciles, screen

    run = simulate(plan, 3000, seed=3, observed=ROOT / "observed" / "2018-h1.toml")
    goal, key = "green.energy_intensity_cut.2020", "green.growth.other"
    met, inputs = {goal: run.met[goal]}, {key: run.inputs[key]}
    equal = screen(inputs, met, weights=np.full(3000, 1 / 3000))
    pd.testing.assert_frame_equal(equal, screen(inputs, met), rtol=1e-9)
    weighted = screen(inputs, met, weights=run.weights).iloc[0]
    low, high = _terciles(run.inputs[key])
    w = run.weights
    assert weighted["probability_low"] == pytest.approx(np.sum(w * low * run.met[goal]) / np.sum(w * low), rel=1e-9)
    assert weighted["probability_high"] == pytest.approx(np.sum(w * high * run.met[goal]) / np.sum(w * high), rel=1e-9)


def test_the_change_between_conditioned_runs_is_weighted_with_a_delta_method_interval(plan):
    from model.compare import compare
    from model.paired import weighted_paired_change
    from model.stats import z_quantile

    # closed form: two replications of weight 1/2; the reference meets in one, the new one in both
    change, low, high = weighted_paired_change(np.array([[True], [False]]), np.array([[True], [True]]),
                                               np.array([0.5, 0.5]), np.array([0.5, 0.5]))
    half = z_quantile() * np.sqrt(2 * 0.25 ** 2)  # w(b - p_b) - w(a - p_a) = -1/4, +1/4
    assert (change[0], low[0], high[0]) == pytest.approx((0.5, 0.5 - half, min(1.0, 0.5 + half)))
    observed = load_observed(ROOT / "observed" / "2018-h1.toml")
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    runs = [simulate(s, 2000, seed=3, observed=observed) for s in (baseline, plan)]
    table = compare(runs)
    goal = "green.energy_intensity_cut.2020"
    row = table[(table["scenario"] == "plan") & (table["target_id"] == goal)].iloc[0]
    expected = np.sum(runs[1].weights * runs[1].met[goal]) - np.sum(runs[0].weights * runs[0].met[goal])
    assert row["change"] == pytest.approx(expected, abs=1e-12)
    assert row["change_low"] < row["change"] < row["change_high"]
