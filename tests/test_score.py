"""Scoring a forecast against outcomes (issue 11 item 4): the scoring rules against closed forms,
and ``python -m model score`` end to end on a small run."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model import load_run, load_scenario, score, simulate
from model.cli import main
from model.observed import load_observed
from model.report.brief import render_html
from model.score import (
    BRIER_REFERENCE,
    brier,
    clip_probability,
    log_score,
    mixture_crps,
    mixture_pit,
    normal_crps,
    sample_crps,
    sample_pit,
)
from model.scorecard import COLUMNS, naive_basis, summary_lines
from tests.paths import PLAN, ROOT

SEED = 11
REPLICATIONS = 2000
OUTCOMES = """[gdp_growth]
2017 = { value = 7.6, published = 2018-03-20 }
2018 = { value = 8.9, period = "H1", published = 2018-09-06 }
[techreform_investment_share]
2017 = 17.5
[hightech_firms]
2017 = 14
[targets]
"techreform.investment_share.2017" = { met = true, published = 2018-03-01 }
"overcapacity.zombie_survey.2017" = { done = 2017-06-28 }
"innovation.hightech_firms.2017" = { value = 14 }
"""


def _exact_mixture_crps(x, w, y, sd):
    """The O(N^2) definition: E|Y - y| - E|Y - Y'| / 2 for Y ~ sum w_i N(x_i, sd^2)."""
    def abs_normal(m, s):
        return m * (2 * stats.norm.cdf(m / s) - 1) + 2 * s * stats.norm.pdf(m / s)

    w = w / w.sum()
    pairs = abs_normal(x[:, None] - x[None, :], math.sqrt(2) * sd)
    return float(np.sum(w * abs_normal(x - y, sd)) - 0.5 * np.sum(w[:, None] * w[None, :] * pairs))


# -- the scoring rules ---------------------------------------------------------------------------
def test_brier_and_log_score_on_known_values():
    assert brier(0.8, 1) == pytest.approx(0.04)
    assert brier(0.8, 0) == pytest.approx(0.64)
    assert brier(0.5, 1) == BRIER_REFERENCE == brier(0.5, 0)
    assert log_score(0.8, 1, 1000) == pytest.approx(-math.log(0.8))
    assert log_score(0.8, 0, 1000) == pytest.approx(-math.log(0.2))
    # a likelihood of 0 from 500 effective replications is read as 1 / 1000: finite
    assert clip_probability(0.0, 500) == pytest.approx(0.001)
    assert clip_probability(1.0, 500) == pytest.approx(0.999)
    assert log_score(0.0, 1, 500) == pytest.approx(math.log(1000))
    assert log_score(1.0, 1, 500) == pytest.approx(-math.log(0.999))


def test_sample_crps_is_the_pairwise_definition_with_weights():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=300), rng.random(300)
    w /= w.sum()
    direct = np.sum(w * np.abs(x - 0.4)) - 0.5 * np.sum(w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :]))
    assert sample_crps(x, w, 0.4) == pytest.approx(direct, rel=1e-12)
    # equal weights, and a point forecast's CRPS is its absolute error
    assert sample_crps(x, None, 0.4) == pytest.approx(sample_crps(x, np.ones(300), 0.4), rel=1e-12)
    assert sample_crps(np.full(10, 2.0), None, 5.0) == pytest.approx(3.0)
    # NaN replications and zero weights are left out
    assert sample_crps(np.r_[x, np.nan], np.r_[w, 1.0], 0.4) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize("n", [1_000, 10_000, 100_000])
@pytest.mark.parametrize("y", [0.0, 1.5, -3.0])
def test_sample_crps_of_a_normal_sample_converges_to_the_closed_form(n, y):
    x = np.random.default_rng(n).normal(size=n)
    exact = float(normal_crps(0.0, 1.0, y))
    # Monte Carlo error: the estimate is a V-statistic; its sd is that of the mean of
    # h(X) = |X - y| - E'|X - X'| over n draws, at most (sd|X - y| + sd E'|X - X'|) / sqrt(n)
    # <= (sqrt(1 + y^2) + 1) / sqrt(n), and its bias is -E|X - X'| / (2n) = -1 / (sqrt(pi) n).
    # Five standard errors plus the bias.
    tolerance = 5 * (math.sqrt(1 + y * y) + 1) / math.sqrt(n) + 1 / (math.sqrt(math.pi) * n)
    assert abs(sample_crps(x, None, y) - exact) < tolerance


def test_mixture_crps_matches_the_exact_pair_sum_and_the_normal_closed_form():
    rng = np.random.default_rng(2)
    for spread in (5.0, 1.0, 0.3, 0.01):  # model spread far above to far below the measurement sd
        x, w = rng.normal(0, spread, 800), rng.random(800)
        for y in (0.0, 1.3):
            # the binned smooth term: relative error ~1e-6 (module docstring); 1e-4 leaves room
            assert mixture_crps(x, w, y, 0.7) == pytest.approx(_exact_mixture_crps(x, w, y, 0.7), rel=1e-4)
    # replications at normal quantiles are a sample of N(0, 1) with no Monte Carlo error to speak
    # of; plus N(0, 0.7^2) noise the figure is N(0, 1.49)
    x = stats.norm.ppf((np.arange(50_000) + 0.5) / 50_000)
    assert mixture_crps(x, None, 0.5, 0.7) == pytest.approx(float(normal_crps(0, math.sqrt(1.49), 0.5)), rel=1e-3)
    assert mixture_crps(np.zeros(5), None, 0.5, 0.7) == pytest.approx(float(normal_crps(0, 0.7, 0.5)), rel=1e-5)
    assert mixture_crps(x, None, 0.5, 0.0) == sample_crps(x, None, 0.5)


def test_pit_of_a_uniform_sample_is_the_outcome():
    x = np.random.default_rng(3).random(40_000)
    for y in (0.1, 0.5, 0.93):
        # a binomial share: sd sqrt(y (1 - y) / n) <= 0.0025; five of them
        assert sample_pit(x, None, y) == pytest.approx(y, abs=0.0125)
    assert sample_pit([1.0, 2.0, 3.0], None, 2.0) == pytest.approx(0.5)  # ties count half
    assert sample_pit([1.0, 2.0], [0.9, 0.1], 1.5) == pytest.approx(0.9)  # weighted
    assert mixture_pit([0.0], None, 0.7, 0.7) == pytest.approx(stats.norm.cdf(1.0))


def test_pit_of_outcomes_drawn_from_the_forecast_is_uniform():
    rng = np.random.default_rng(4)
    x = rng.normal(size=20_000)
    pits = [mixture_pit(x, None, y, 0.5) for y in rng.normal(0, math.sqrt(1.25), 400)]
    assert stats.kstest(pits, "uniform").pvalue > 0.001


# -- the table -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("score")
    results = simulate(load_scenario(PLAN), REPLICATIONS, SEED)
    results.save(folder / "plan")
    outcomes = folder / "outcomes.toml"
    outcomes.write_text(OUTCOMES, encoding="utf-8")
    return results, folder / "plan", outcomes


def test_score_rows_follow_the_run_and_the_scoring_rules(saved):
    results, run_dir, outcomes = saved
    table = score(results, outcomes)
    assert list(table.columns) == list(COLUMNS)
    assert pd.testing.assert_frame_equal(table, score(run_dir, outcomes)) is None  # a saved run scores the same
    rows = table.set_index("key")
    met = rows.loc["targets.techreform.investment_share.2017"]
    p = results.probability("techreform.investment_share.2017")
    assert (met["likelihood"], met["outcome"]) == (p, 1.0)
    assert met["brier"] == pytest.approx((1 - p) ** 2)
    assert met["log_score"] == pytest.approx(-math.log(p))
    assert rows.loc["targets.overcapacity.zombie_survey.2017", "outcome"] == 1.0  # done before 2017-06-30
    assert rows.loc["targets.innovation.hightech_firms.2017", "outcome"] == 1.0  # 14 >= 13
    gdp = rows.loc["gdp_growth.2017"]
    x = results.series("gdp_growth")[:, 1]
    assert gdp["pit"] == pytest.approx(mixture_pit(x, None, 7.6, 0.5))
    assert gdp["crps"] == pytest.approx(mixture_crps(x, None, 7.6, 0.5))
    assert math.isnan(gdp["naive_crps"]) and "no published value before 2017" in gdp["note"]
    h1 = rows.loc["gdp_growth.2018"]
    assert h1["sd"] == pytest.approx(0.5 / math.sqrt(0.5))  # a half-year reading, as conditioning reads it
    share = rows.loc["techreform_investment_share.2017"]  # the city record: 16 % in 2016
    assert share["naive_value"] == 16.0 and share["naive_from"].startswith("2016: ")
    assert share["naive_crps"] == pytest.approx(float(normal_crps(16.0, 1.0, 17.5)))
    assert not table["in_conditioning"].any()
    zh, en = summary_lines(table)
    assert "Brier" in zh and "mean PIT" in en and "naive" in en


def test_a_conditioned_run_is_scored_with_its_weights_and_says_in_sample(saved):
    results, _, outcomes = saved
    shipped = ROOT / "observed" / "2018-h1.toml"
    conditioned = simulate(load_scenario(PLAN), REPLICATIONS, SEED, observed=shipped)
    table = score(conditioned, shipped).set_index("key")
    x = conditioned.series("gdp_growth")[:, 2]
    sd = 0.5 / math.sqrt(0.5)
    assert table.loc["gdp_growth.2018", "pit"] == pytest.approx(mixture_pit(x, conditioned.weights, 8.9, sd))
    assert table["in_conditioning"].all()
    assert table.loc["gdp_growth.2018", "effective_replications"] == pytest.approx(conditioned.effective_replications)
    # the naive forecast of full-year 2018 knows what the run knew: the half-year reading
    figure = next(f for f in load_observed(outcomes).figures if f.key == "gdp_growth.2018")
    full_year = figure.__class__(**{**figure.__dict__, "period": "year"})
    value, basis = naive_basis(full_year, load_observed(shipped).figures)
    assert value == 8.9 and basis.startswith("2018 H1: ")
    assert "in-sample" in summary_lines(score(conditioned, shipped))[1]


# -- the command ---------------------------------------------------------------------------------
def _cli(*args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_score_command_writes_score_csv_and_the_run_still_verifies(saved, capsys, tmp_path):
    _, run_dir, outcomes = saved
    code, out, err = _cli("score", run_dir, outcomes, capsys=capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("评分 plan：") and any(line.startswith("score of plan:") for line in lines)
    assert all(len(line) <= 80 for line in lines if line.isascii())
    data = (run_dir / "score.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfkind,key,")
    assert len(pd.read_csv(run_dir / "score.csv", encoding="utf-8-sig")) == 7
    load_run(run_dir)  # checksums still hold
    assert _cli("score", run_dir, outcomes, capsys=capsys)[0] == 0  # scoring again replaces it
    code, out, _ = _cli("score", run_dir, outcomes, "--out", tmp_path, capsys=capsys)
    assert code == 0 and (tmp_path / "score.csv").is_file()


@pytest.mark.parametrize("case", ["no run", "scenario", "not toml", "nothing to score", "foreign out"])
def test_bad_arguments_give_one_line_and_write_nothing(saved, case, capsys, tmp_path):
    _, run_dir, outcomes = saved
    args = {"no run": (tmp_path / "nope", outcomes), "scenario": (run_dir, PLAN),
            "not toml": (run_dir, ROOT / "README.md")}.get(case)
    if case == "nothing to score":
        early = tmp_path / "early.toml"
        early.write_text('[targets]\n"overcapacity.zombie_survey.2017" = { done = false, on = 2017-05-01 }\n',
                         encoding="utf-8")
        args = (run_dir, early)
    if case == "foreign out":
        (tmp_path / "mine.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        args = (run_dir, outcomes, "--out", tmp_path / "mine.csv")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _cli("score", *args, capsys=capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    expected = {"no run": "no such directory", "scenario": "is a scenario file", "not toml": "not an observed",
                "nothing to score": "none of its 1 figure", "foreign out": "not a score.csv"}[case]
    assert expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if case == "foreign out":
        assert (tmp_path / "mine.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_score_csv_path_is_documented():
    text = (ROOT / "docs" / "progress-tracking.md").read_text(encoding="utf-8")
    assert "python -m model score" in text and "naive" in text and "1/(2N)" in text
    assert Path(ROOT / "README.md").read_text(encoding="utf-8").count("python -m model score") >= 1


def test_the_brief_of_a_conditioned_run_sets_forecast_beside_published(tmp_path):
    shipped = ROOT / "observed" / "2018-h1.toml"
    conditioned = simulate(load_scenario(PLAN), REPLICATIONS, SEED, observed=shipped)
    conditioned.save(tmp_path / "cond")
    x, sd = conditioned.series("gdp_growth")[:, 2], 0.5 / math.sqrt(0.5)
    percentile = f"{100 * mixture_pit(x, None, 8.9, sd):.0f}"
    for lang, heading, period in (("zh", "预测与公布数据对比", "2018 上半年"), ("en", "Forecast vs published figures",
                                                                         "2018 H1")):
        html = render_html(tmp_path / "cond", lang, with_charts=False)
        assert heading in html and period in html
        row = html[html.index('<table class="observed">'):]
        row = row[:row.index("</tr>", row.index("<tbody>"))]
        assert "8.9" in row and f'<td class="num">{percentile}</td>' in row
    saved_plan = tmp_path / "plan"
    simulate(load_scenario(PLAN), 500, SEED).save(saved_plan)
    assert "Forecast vs published" not in render_html(saved_plan, "en", with_charts=False)
