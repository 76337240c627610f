"""The outside view of the 2020 energy goal: exact counts, the generated sentence, console and brief."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from markupsafe import escape
from scipy import stats

from model import load_run, simulate
from model.cli import main
from model.console import WIDTH, outside_lines, wrap
from model.outside import GOAL, INDICATORS, base_rate, escalation, load_outside, outside_view, sentence
from model.report.brief import render_html
from model.tables import display_width
from tests.paths import PLAN

N, SEED = 300, 5


def _yearly(rows: list[tuple[float, float, float]]) -> dict[str, np.ndarray]:
    """Replications of (shortfall at the end of 2018, limit in 2020 [%], loss in 2020 [%]); GDP
    1000 亿元 and an industry share of 50 % in every year."""
    n = len(rows)
    out = {k: np.zeros((n, 5)) for k in INDICATORS[:3]}
    for i, (lag, limit, loss) in enumerate(rows):
        out["green.path_shortfall"][i, 2] = lag
        out["green.production_limit"][i, 4] = limit
        out["green.limit_output_loss"][i, 4] = loss
    out["innovation.gdp"] = np.full((n, 5), 1000.0)
    out["macro.industry_share"] = np.full((n, 5), 50.0)
    return out


#: Ten futures: 6 behind at the end of 2018, of which 2 meet the goal (1 with limits);
#: of the 4 on the path 3 meet it (1 with limits); 4 limit production, losing 2, 4, 1 and 3 %.
ROWS = [(1.0, 5.0, 2.0), (2.0, 0.0, 0.0), (0.5, 8.0, 4.0), (3.0, 0.0, 0.0), (1.5, 0.0, 0.0), (4.0, 0.0, 0.0),
        (0.0, 2.0, 1.0), (0.0, 6.0, 3.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)]
MET = np.array([True, True, False, False, False, False, True, False, True, True])


def test_counts_of_a_constructed_run_are_exact():
    view = escalation(MET, _yearly(ROWS), feedback=True, gdp_link=False)
    assert view.likelihood == 0.5 and view.replications == 10
    assert view.behind[2018] == 0.6 and view.behind[2019] == 0.0  # 2019 left at zero shortfall
    assert view.met_if_behind[2018] == pytest.approx(2 / 6) and math.isnan(view.met_if_behind[2019])
    assert view.limited_if_behind_met == 0.5  # rows 0 (limits) and 1 (none)
    assert view.limited == 0.4 and view.limited_by_year == {2018: 0.0, 2019: 0.0, 2020: 0.4}
    assert view.met_with_limits == pytest.approx(2 / 5)  # rows 0 and 6 of the five meeting it
    assert view.loss_mean == 2.5 and view.loss_median == 2.5
    assert view.lost_yi_mean == pytest.approx(1000 * 0.5 * 0.025)  # loss x share x GDP
    # with production_limits_gdp on, the GDP held is after the loss: scaled back by 1 / (1 - L s)
    after = escalation(MET, _yearly(ROWS), feedback=True, gdp_link=True)
    expected = np.mean([1000 * 0.5 * x / (1 - 0.5 * x) for x in (0.02, 0.04, 0.01, 0.03)])
    assert after.lost_yi_mean == pytest.approx(expected)


def test_the_sentence_holds_the_runs_numbers():
    view = escalation(MET, _yearly(ROWS), feedback=True, gdp_link=False)
    zh, en = sentence(view, "zh"), sentence(view, "en")
    assert zh.startswith("历史上30/31（97%）的省份完成了“十一五”五年节能目标") and zh.endswith("。")
    for text, money in ((zh, "约12亿元"), (en, "about 1.25 billion yuan")):
        for number in ("50%", "60%", "33%", "40%", "2.5%", money):
            assert number in text, (number, text)
    assert "低于历史水平" in zh and "below that record" in en  # 50 % < the base rate's low bound 83.8 %
    assert re.search(r"[A-Za-z]{3,}", zh) is None  # the Chinese sentence holds no English word


def test_edge_cases_nobody_behind_everyone_meets_and_feedback_off():
    on_path = escalation(np.ones(4, bool), _yearly([(0.0, 0.0, 0.0)] * 4), feedback=True)
    assert on_path.likelihood == 1.0 and on_path.behind[2018] == 0.0 and on_path.limited == 0.0
    assert math.isnan(on_path.met_if_behind[2018]) and math.isnan(on_path.loss_mean)
    zh = sentence(on_path, "zh")
    assert "所有情景在2018年底均达到规划进度" in zh and "没有情景需要限产" in zh
    assert "every future is on the plan's path" in sentence(on_path, "en") and "nan" not in sentence(on_path, "en")
    assert "in line with that record" in sentence(on_path, "en")  # 4 replications: the intervals overlap
    off = escalation(MET, _yearly(ROWS), feedback=False)
    assert "关闭了能耗目标责任考核反馈" in sentence(off, "zh") and "feedback is off" in sentence(off, "en")
    assert "60%" in sentence(off, "en")  # the shortfall is still assessed
    unknown = escalation(MET, {}, feedback=True)
    assert not unknown.recorded and "no yearly record" in sentence(unknown, "en")
    with pytest.raises(ValueError, match="lang"):
        sentence(off, "fr")


def test_base_rate_is_the_five_year_count_with_its_wilson_interval():
    base = base_rate()
    assert (base.id, base.met, base.of, base.published) == ("fyp11_provinces", 30, 31, "2011-06-07")
    ci = stats.binomtest(30, 31).proportion_ci(method="wilson")
    assert base.interval == pytest.approx((ci.low, ci.high))
    for record in load_outside()["records"].values():  # each record: what it counts, source, date
        assert all(record.get(k) for k in ("zh", "en", "counts_zh", "counts_en", "source_zh", "source_en",
                                           "published")), record["id"]


@pytest.fixture(scope="module")
def runs(plan, tmp_path_factory):
    results = simulate(plan, N, SEED)
    saved = load_run(results.save(tmp_path_factory.mktemp("outside") / "plan"))
    links = {**plan.links, "responsibility_energy": False}
    off = simulate(dataclasses.replace(plan, name="no_feedback", links=links), N, SEED)
    return results, saved, off


def test_a_saved_run_gives_the_same_view(runs):
    results, saved, _ = runs
    assert outside_view(results) == outside_view(saved)
    view = outside_view(results)
    assert view.likelihood == results.probability(GOAL) and view.feedback and view.recorded
    table = (saved.path / "outside_view.csv").read_text("utf-8-sig")
    assert sentence(view, "zh") in table and sentence(view, "en") in table


def test_with_the_link_off_nothing_is_limited_and_the_sentence_says_so(runs):
    view = outside_view(runs[2])
    assert not view.feedback and view.limited == 0.0 and view.behind[2018] > 0
    assert "feedback is off" in sentence(view, "en")


def test_console_shows_base_rate_and_sentences_within_80_columns(runs, tmp_path, capsys):
    lines = outside_lines(runs[1])
    assert all(display_width(line) <= WIDTH for line in lines), max(lines, key=display_width)
    text = "\n".join(lines)
    assert "base rate 96.8% (95% 83.8-99.4)" in text and "2011-06-07" in text
    flat = re.sub(r"\n +", "", text)  # the wrapped Chinese sentence joined again
    assert sentence(outside_view(runs[1]), "zh") in flat
    assert wrap("一二三四五六七八九十", width=13) == ["   一二三四五", "     六七八九", "     十"]
    assert wrap("一二三2020年", width=11) == ["   一二三", "     2020年"]  # never a number broken
    assert main(["run", str(PLAN), "-n", "200", "--out", str(tmp_path / "plan"), "--all", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "outside view of green.energy_intensity_cut.2020" in out and "provinces met their 11th" in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_brief_shows_base_rate_and_sentence(runs, lang):
    saved = runs[1]
    html = render_html(saved.path, lang, with_charts=False)
    view = outside_view(saved)
    block = html[html.index('<div class="outside">'):]
    block = block[:block.index("</p>\n</div>")]  # to the block's own end (its table has a scroll wrapper)
    # the model's likelihood and the base rate side by side, then the run's sentence and the context
    assert f"{100 * view.likelihood:.1f}%" in block and "96.8%" in block and "83.8–99.4%" in block
    assert str(escape(sentence(view, lang))) in block and "19.71" in block
    assert ("外部视角" if lang == "zh" else "The outside view") in block


def test_comparison_brief_has_the_outside_row_under_the_energy_goal(runs, tmp_path):
    runs[2].save(tmp_path / "no_feedback")
    out = tmp_path / "cmp"
    assert main(["compare", str(runs[1].path), str(tmp_path / "no_feedback"), "--out", str(out)]) == 0
    for lang in ("zh", "en"):
        html = render_html(out, lang, with_charts=False)
        row = re.search(r'<tr class="outside">(.*?)</tr>', html, re.S).group(1)
        assert "96.8%" in row and str(escape(sentence(outside_view(runs[1]), lang))) in row  # the reference's
