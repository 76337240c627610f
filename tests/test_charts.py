"""Charts of a run: they draw in Chinese and English without missing glyphs, and show the data."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import model
from model.report import charts, fonts
from model.runs import load_run
from model.tables import traffic_light
from model.targets import load_registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    results = model.simulate(model.load_scenario(ROOT / "scenarios" / "plan.toml"), replications=500, seed=7)
    return load_run(results.save(tmp_path_factory.mktemp("charts") / "plan"))


def _draw(fig) -> None:
    """Render to PNG, failing on any warning (a missing glyph is a UserWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", dpi=50)


def _all_charts(run, lang):
    return {
        "fan": charts.fan_chart(run.trajectories, "green.energy_intensity_cut", lang=lang),
        "bars": charts.likelihood_bars(run.summary, lang=lang),
        "dots": charts.comparison_dots({"a": run.summary, "b": run.summary}, lang=lang),
        "zombie": charts.zombie_chart(run.trajectories, lang=lang),
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_draws_without_missing_glyphs(run, lang):
    before = dict(matplotlib.rcParams)
    for fig in _all_charts(run, lang).values():
        _draw(fig)
    # no global state touched: the fonts are set per figure
    assert matplotlib.rcParams["font.family"] == before["font.family"]
    assert matplotlib.rcParams["svg.fonttype"] == before["svg.fonttype"]


def test_labels_follow_the_language(run):
    zh = charts.fan_chart(run.trajectories, "techreform.investment_share", lang="zh").axes[0]
    en = charts.fan_chart(run.trajectories, "techreform.investment_share", lang="en").axes[0]
    target = next(t for t in load_registry() if t.id == "techreform.investment_share.2020")
    rows = run.trajectories[run.trajectories["indicator"] == "techreform.investment_share"]
    assert zh.get_title() == rows["name_zh"].iloc[0] and "年" in zh.get_xlabel()
    assert en.get_title() == rows["name_en"].iloc[0] and en.get_xlabel().startswith("Year")
    bars_en = charts.likelihood_bars(run.summary, lang="en").axes[0]
    labels = [t.get_text().replace("\n", " ") for t in bars_en.get_yticklabels()]
    assert any(target.name_en in label for label in labels)


def test_fan_chart_shows_quantiles_and_targets(run):
    ax = charts.fan_chart(run.trajectories, "green.energy_intensity_cut", lang="en").axes[0]
    rows = run.trajectories[run.trajectories["indicator"] == "green.energy_intensity_cut"].sort_values("year")
    median = next(line for line in ax.get_lines() if line.get_label() == "Median")
    np.testing.assert_allclose(median.get_ydata(), rows["p50"])
    points = sorted(
        (float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in ax.get_lines() if line.get_marker() == "D"
    )
    expected = sorted(
        (t.deadline.year, float(t.threshold)) for t in load_registry() if t.indicator == "green.energy_intensity_cut"
    )
    assert points == expected  # 4.5 % in 2017, 9 % in 2018, 18 % in 2020


def test_zombie_chart_marks_both_targets(run):
    ax = charts.zombie_chart(run.trajectories, lang="zh").axes[0]
    levels = sorted(float(line.get_ydata()[0]) for line in ax.get_lines() if line.get_linestyle() == "--")
    assert levels == [70.0, 95.0]
    assert ax.get_ylim() == (0.0, 105.0)


def test_bars_sorted_coloured_and_leave_out_unmodelled(run):
    ax = charts.likelihood_bars(run.summary, lang="zh").axes[0]
    shown = run.summary[
        run.summary["probability"].notna() & ~run.summary["target_id"].str.contains(".district.", regex=False)
    ]
    bars = ax.patches
    assert len(bars) == len(shown)  # not-modelled and district targets are left out
    widths = [b.get_width() for b in bars]
    assert widths == sorted(widths)
    expected = sorted(100 * shown["probability"])
    np.testing.assert_allclose(widths, expected)
    for bar, width in zip(bars, widths):
        want = matplotlib.colors.to_rgba(charts.COLOURS[traffic_light(width / 100)])
        assert bar.get_facecolor() == pytest.approx(want)


def test_comparison_one_series_per_scenario(run):
    ax = charts.comparison_dots({"plan": run.summary, "copy": run.summary, "third": run.summary}, lang="en").axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plan", "copy", "third"]
    assert len(ax.containers) == 3


def test_save_writes_png_and_svg_with_text_as_paths(run, tmp_path):
    paths = charts.save(charts.zombie_chart(run.trajectories, lang="zh"), tmp_path / "zombie")
    assert [p.name for p in paths] == ["zombie.png", "zombie.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text("utf-8")
    assert "<text" not in svg and "<path" in svg  # glyphs drawn as paths: Chinese shows anywhere


def test_font_is_a_cjk_family():
    assert fonts.cjk_font() in fonts.CJK_FAMILIES


def test_no_font_warns_once(monkeypatch):
    monkeypatch.setattr(fonts, "_known_families", lambda: set())
    monkeypatch.setattr(fonts, "_fc_list_files", lambda: [])
    with pytest.warns(UserWarning, match="no Chinese font") as record:
        assert fonts.cjk_font.__wrapped__() is None
    assert len(record) == 1


def test_stale_cache_is_refreshed(monkeypatch):
    seen = []
    state = {"known": set()}
    monkeypatch.setattr(fonts, "_known_families", lambda: state["known"])
    monkeypatch.setattr(
        fonts,
        "_fc_list_files",
        lambda: [("WenQuanYi Micro Hei", Path("/fonts/wqy.ttc")), ("Other", Path("/fonts/x.ttf"))],
    )

    def refresh(files):
        seen.append(files)
        state["known"] = {"WenQuanYi Micro Hei"}

    monkeypatch.setattr(fonts, "_refresh_cache", refresh)
    assert fonts.cjk_font.__wrapped__() == "WenQuanYi Micro Hei"
    assert seen == [[Path("/fonts/wqy.ttc")]]


@pytest.mark.parametrize("lang, unit", [("zh", "单位：亿元"), ("en", "Unit: 100 million yuan")])
def test_fan_chart_units_follow_the_language(run, lang, unit):
    ax = charts.fan_chart(run.trajectories, "techreform.investment", lang=lang).axes[0]
    assert ax.get_ylabel() == unit


def test_target_labels_fit_inside_the_axes(run):
    """The label above the highest target point (18 % in 2020) is not cut off at the top."""
    fig = charts.fan_chart(run.trajectories, "green.energy_intensity_cut", lang="zh", size=(4.8, 3.2))
    fig.canvas.draw()
    ax = fig.axes[0]
    top = ax.get_window_extent().y1
    labels = [t for t in ax.texts if "18" in t.get_text()]
    assert labels and all(t.get_window_extent().y1 <= top for t in labels)
