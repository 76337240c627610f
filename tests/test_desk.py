"""The planner's desk: charts that show as pictures in Jupyter, notebook tables in Chinese and
percentages, the HTML brief on screens and phones."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

import model
from model.report import charts
from model.report import display as show
from model.report.brief import render_html
from model.report.i18n import load_locale
from model.runs import load_run

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    results = model.simulate(model.load_scenario(ROOT / "scenarios" / "plan.toml"), replications=300, seed=11)
    return load_run(results.save(tmp_path_factory.mktemp("desk") / "plan"))


@pytest.fixture(scope="module")
def html(run) -> str:
    return render_html(run.path, lang="zh")


def test_every_chart_has_a_png_display_path(run):
    figures = [
        charts.fan_chart(run.trajectories, "green.energy_intensity_cut"),
        charts.zombie_chart(run.trajectories),
        charts.likelihood_bars(run.summary),
        charts.comparison_dots({"a": run.summary, "b": run.summary}),
    ]
    for fig in figures:
        data, _ = DisplayFormatter().format(fig)  # what a Jupyter kernel sends for `display(fig)`
        assert data["image/png"].startswith(PNG), type(fig)


def test_percent_text_never_shows_a_non_zero_likelihood_as_zero():
    assert [show.percent_text(p) for p in (0.0, -0.0, 1e-6, 0.0004999, 0.0005, 0.123, 0.9996, 1.0, np.nan)] == [
        "0%", "0%", "<0.1%", "<0.1%", "0.1%", "12.3%", ">99.9%", "100%", ""]
    assert [show.change_text(d) for d in (0.0, -0.0, 2e-4, -2e-4, -0.123, 0.05, None)] == [
        "0", "0", "+<0.1", "−<0.1", "−12.3", "+5.0", ""]


def test_summary_view_reads_in_chinese_with_percentages(run):
    view = show.summary_view(run.summary, lang="zh")
    frame, loc = view.data, load_locale("zh")["brief"]
    plan_level = run.summary[~run.summary["target_id"].str.contains(".district.", regex=False)]
    assert len(frame) == len(plan_level)
    assert list(frame.columns[:4]) == [loc["col_target"], loc["col_deadline"], loc["col_test"], loc["col_p"]]
    assert set(frame[loc["col_target"]]) == set(plan_level["name_zh"])
    likelihood = frame[loc["col_p"]]
    assert likelihood.str.fullmatch(r"(<0\.1|>99\.9|0|100|\d{1,2}\.\d)%").all()
    assert set(frame[loc["col_light"]]) <= {loc[f"light_{k}"] for k in ("green", "amber", "red", "not_modelled")}
    assert not frame.map(lambda v: bool(re.search(r"\b(red|amber|green)\b|_", str(v)))).any().any()
    html = view.to_html()
    assert "background-color" in html and "≥" in html


def test_a_tiny_likelihood_shows_as_below_a_tenth_of_a_percent(run):
    summary = run.summary.copy()
    summary.loc[summary.index[0], "probability"] = 0.0004  # 4 of 10,000 replications
    frame = show.summary_view(summary, lang="en", sort=False).data
    assert frame[load_locale("en")["brief"]["col_p"]].iloc[0] == "<0.1%"


def test_sweep_view_names_the_lever_and_says_none_reached():
    rows = []
    for value, p in (("0.1", 0.2), ("0.5", 0.5)):
        rows.append({"target_id": "green.energy_intensity_cut.2020", "lever": "techreform.subsidy_rate",
                     "value": value, "probability": p})
    view = show.sweep_view(pd.DataFrame(rows), lang="zh")
    assert list(view.data.columns[1:3]) == ["10%", "50%"]  # a share as a percentage, not 0.1
    assert view.data.iloc[0, -1] == "至50%仍未达到"  # none reached: up to the largest value tried
    assert "技改项目后补助比例" in view.caption


def test_framed_brief_keeps_its_stylesheet_out_of_the_notebook(html):
    shown = show.Framed(html)._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "<style>" not in shown and "&lt;style&gt;" in shown


def test_html_brief_has_a_viewport_and_scrolling_tables(html):
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    tables = html.count("<table")
    assert tables >= 5
    assert html.count('<div class="table-wrap"><table') == tables  # every table in its own scroller
    screen = html[html.index("@media screen {"):]
    assert re.search(r"\.table-wrap\s*\{[^}]*overflow-x:\s*auto", screen)
    assert re.search(r"img\s*\{[^}]*max-width:\s*100%", screen)
    assert re.search(r"body\s*\{[^}]*font-size:\s*16px", screen)


def test_html_brief_screen_fonts_put_windows_chinese_fonts_first(html):
    stacks = re.findall(r"@media screen \{ body \{ font-family: ([^;]+); \} \}", html)
    assert len(stacks) == 1
    names = [n.strip().strip('"') for n in stacks[0].split(",")]
    assert names[:2] == ["Microsoft YaHei", "微软雅黑"] and "SimHei" in names and names[-1] == "sans-serif"
    # print (the PDF) keeps the font found on this machine first, outside any @media block
    print_stack = re.search(r"(?<!screen \{ )body \{ font-family: ([^;]+); \}", html).group(1)
    assert "Microsoft YaHei" not in print_stack
