"""Charts of a run or a comparison, as matplotlib Figures (usable in notebooks).

Every function returns a :class:`~model.report.chart_figure.Chart`, a
:class:`matplotlib.figure.Figure` built with the object-oriented API (no pyplot state) that
Jupyter shows as an image; the Chinese font is chosen when the chart is made
(:func:`model.report.fonts.font_rc`) through ``rc_context``, never globally. :func:`save`
writes PNG and SVG (text as paths, so Chinese shows anywhere). Labels come from the locale
tables, target names from the registry.

    from model.runs import load_run
    from model.report import charts
    run = load_run("runs/plan")
    fig = charts.fan_chart(run.trajectories, "green.energy_intensity_cut", lang="zh")
    charts.save(fig, "energy")          # energy.png, energy.svg
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from functools import wraps
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..readable import percent_text
from ..tables import traffic_light
from ..targets import load_registry
from .chart_figure import Chart
from .fonts import font_rc
from .i18n import load_locale, target_name, test_text, unit_label

__all__ = [
    "COLOURS",
    "bars_height",
    "comparison_dots",
    "dots_height",
    "fan_chart",
    "label_lines",
    "likelihood_bars",
    "save",
    "target_label",
    "zombie_chart",
]

#: Traffic-light colours (status from :func:`model.results.traffic_light`).
COLOURS = {"green": "#2e7d32", "amber": "#f2a900", "red": "#c62828"}
FAN = "#1f5fa8"
SCENARIO_STYLES = (
    ("#1f5fa8", "o"),
    ("#d95f02", "s"),
    ("#7570b3", "D"),
    ("#1b9e77", "^"),
    ("#e7298a", "v"),
    ("#666666", "P"),
)
ZOMBIE = "overcapacity.zombie_disposed"
LABEL_WIDTH = {"zh": 22, "en": 50}  # characters per line of a target label in the bar and dot charts
LINE = 0.13  # [inch] height of one line of an 8 pt label


def bars_height(n: int, lines: int) -> float:
    """[inch] Height of :func:`likelihood_bars` for ``n`` targets whose labels take ``lines`` lines."""
    return 1.4 + (0.14 + LINE * lines) * max(n, 1)


def dots_height(n: int, lines: int, scenarios: int) -> float:
    """[inch] Height of :func:`comparison_dots`: room for the labels and one marker per scenario."""
    return 1.6 + max(0.24 + 0.02 * scenarios, 0.1 + LINE * lines) * max(n, 1)


def label_lines(rows: pd.DataFrame, lang: str) -> int:
    """Lines the longest wrapped target label of ``rows`` (registry rows) takes."""
    return max((target_label(r, lang, wrap=True).count("\n") + 1 for _, r in rows.iterrows()), default=1)


def _styled(func):
    """Build the figure inside an rc_context holding the chart fonts."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(font_rc()):
            return func(*args, **kwargs)

    return wrapper


def _wrap(text: str, lang: str, width_en: int = 44, width_zh: int = 22) -> str:
    width = width_zh if lang == "zh" else width_en
    return "\n".join(textwrap.wrap(text, width, break_long_words=True)) or text


def target_label(row: Mapping, lang: str, wrap: bool = False) -> str:
    """A target's name with its deadline year, e.g. ``当年完成技术改造投资（2020年）``.

    With ``wrap`` the name is broken into lines and the year kept whole on the last one.
    """
    loc = load_locale(lang)["chart"]
    year = dt.date.fromisoformat(str(row["deadline"])).year
    name = target_name(row, lang)
    if not wrap:
        return loc["target_with_deadline"].format(name=name, year=year)
    suffix = loc["target_with_deadline"].format(name="", year=year)
    width = LABEL_WIDTH[lang]
    lines = _wrap(name, lang, width, width).split("\n")
    if len(lines[-1]) + len(suffix) <= width:
        lines[-1] += suffix
    else:
        lines.append(suffix.strip())
    return "\n".join(lines)


def _indicator_rows(trajectories: pd.DataFrame, indicator: str) -> pd.DataFrame:
    rows = trajectories[trajectories["indicator"] == indicator].sort_values("year")
    if rows.empty:
        raise ValueError(
            f"no yearly indicator {indicator!r} in the trajectories (known: "
            f"{', '.join(sorted(set(trajectories['indicator'])))[:200]} ...)"
        )
    return rows


def _targets_on(indicator: str, thresholds: Mapping[str, float] | None, lang: str) -> list[tuple[object, float, str]]:
    """(target, threshold, test text in ``lang``) of the registry's targets on ``indicator``."""
    out = []
    for t in load_registry():
        if t.indicator == indicator and not t.is_milestone:
            value = float((thresholds or {}).get(t.id, t.threshold))
            out.append((t, value, test_text(t.test(value), t.unit, lang)))
    return out


def _fan(ax, rows: pd.DataFrame, loc: dict) -> None:
    years = rows["year"].to_numpy()
    ax.fill_between(years, rows["p10"], rows["p90"], color=FAN, alpha=0.18, linewidth=0, label=loc["band_10_90"])
    ax.fill_between(years, rows["p25"], rows["p75"], color=FAN, alpha=0.38, linewidth=0, label=loc["band_25_75"])
    ax.plot(years, rows["p50"], color=FAN, linewidth=2, label=loc["median"])
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_xlim(years.min() - 0.2, years.max() + 0.3)
    ax.set_xlabel(loc["year_end"])
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _mark_targets(ax, targets, loc: dict) -> None:
    for i, (t, value, test) in enumerate(targets):
        year = t.deadline.year
        ax.axvline(year, color="#888888", linestyle=":", linewidth=1)
        ax.plot(
            [year],
            [value],
            marker="D",
            markersize=7,
            color="#222222",
            linestyle="none",
            label=loc["target"] if i == 0 else None,
            zorder=5,
        )
        ax.annotate(
            loc["target_point"].format(test=test, year=year),
            (year, value),
            xytext=(-6, 7),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="#222222",
        )


def _headroom(ax, values: list[float]) -> None:
    """Raise the top of the y axis so that the label above the highest target point fits."""
    if not values:
        return
    low, high = ax.get_ylim()
    needed = max(values) + 0.12 * (high - low)  # the label stands about 12 % of the axis above its point
    if needed > high:
        ax.set_ylim(low, needed)


@_styled
def fan_chart(
    trajectories: pd.DataFrame,
    indicator: str,
    *,
    lang: str = "zh",
    thresholds: Mapping[str, float] | None = None,
    size: tuple[float, float] = (6.4, 3.6),
) -> Figure:
    """Fan chart of one yearly indicator: 10-90 % and 25-75 % bands, median, target points.

    Parameters
    ----------
    trajectories : DataFrame
        ``trajectories.csv`` of a run (``Run.trajectories``).
    indicator : str
        ``module.name`` of a yearly indicator, e.g. ``"green.energy_intensity_cut"``.
    lang : {"zh", "en"}
    thresholds : mapping, optional
        Target id -> threshold a scenario set for a reading (``manifest["scenario"]["thresholds"]``).
    size : (float, float)
        Figure size [inch].

    Returns
    -------
    Figure
    """
    loc = load_locale(lang)["chart"]
    rows = _indicator_rows(trajectories, indicator)
    fig = Chart(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    _fan(ax, rows, loc)
    targets = _targets_on(indicator, thresholds, lang)
    _mark_targets(ax, targets, loc)
    _headroom(ax, [value for _, value, _ in targets])
    ax.set_title(_wrap(target_name(rows.iloc[0], lang), lang, 60, 30), fontsize=11)
    ax.set_ylabel(loc["unit"].format(unit=unit_label(rows.iloc[0]["unit"], lang)))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


@_styled
def zombie_chart(
    trajectories: pd.DataFrame,
    *,
    lang: str = "zh",
    thresholds: Mapping[str, float] | None = None,
    size: tuple[float, float] = (6.4, 3.6),
) -> Figure:
    """Share of the zombie firms found that are disposed, by year end, with the targets.

    The 70 %-by-2018 and 95 %-by-2019 targets (or the scenario's readings of them) are drawn
    as reference lines and points at their deadlines. Parameters as :func:`fan_chart`.
    """
    loc = load_locale(lang)["chart"]
    rows = _indicator_rows(trajectories, ZOMBIE)
    fig = Chart(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    _fan(ax, rows, loc)
    targets = _targets_on(ZOMBIE, thresholds, lang)
    for t, value, _ in targets:
        ax.axhline(value, color=COLOURS["red"], linestyle="--", linewidth=0.9, alpha=0.7)
    _mark_targets(ax, targets, loc)
    ax.set_ylim(0, 105)
    ax.set_title(loc["zombie_title"], fontsize=11)
    ax.set_ylabel(loc["zombie_ylabel"])
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def _modelled(summary: pd.DataFrame, include_districts: bool, targets=None) -> pd.DataFrame:
    rows = summary[summary["probability"].notna()]
    if targets is not None:
        rows = rows[rows["target_id"].isin(list(targets))]
    elif not include_districts:
        rows = rows[~rows["target_id"].str.contains(".district.", regex=False)]
    return rows


def _percent_axis(ax, loc: dict) -> None:
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 20))
    for x in (50, 80):
        ax.axvline(x, color="#999999", linestyle=":", linewidth=0.8)
    ax.set_xlabel(loc["likelihood"])
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)


@_styled
def likelihood_bars(
    summary: pd.DataFrame,
    *,
    lang: str = "zh",
    include_districts: bool = False,
    targets=None,
    size: tuple[float, float] | None = None,
) -> Figure:
    """Targets sorted by likelihood, Wilson-interval whiskers, traffic-light colours.

    Parameters
    ----------
    summary : DataFrame
        ``summary.csv`` of a run. Targets not modelled (no probability) are left out.
    lang : {"zh", "en"}
    include_districts : bool
        Also draw the per-district targets (many); ignored when ``targets`` is given.
    targets : iterable of str, optional
        Draw only these target ids.
    size : (float, float), optional
        Figure size [inch]; default 7.2 wide and tall enough for the targets.
    """
    loc = load_locale(lang)["chart"]
    rows = _modelled(summary, include_districts, targets).sort_values("probability", ascending=True, kind="stable")
    labels = [target_label(r, lang, wrap=True) for _, r in rows.iterrows()]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    # rows as tall as the longest wrapped label, so labels never run into each other
    fig = Chart(figsize=size or (7.2, bars_height(len(rows), lines)), layout="constrained")
    ax = fig.add_subplot()
    _percent_axis(ax, loc)
    if rows.empty:
        ax.text(50, 0.5, loc["none_modelled"], ha="center", va="center")
        ax.set_yticks([])
        return fig
    p = 100 * rows["probability"].to_numpy()
    err = np.vstack([p - 100 * rows["probability_low"].to_numpy(), 100 * rows["probability_high"].to_numpy() - p])
    pos = np.arange(len(rows))
    colours = [COLOURS[traffic_light(x / 100)] for x in p]
    ax.barh(pos, p, color=colours, height=0.65)
    ax.errorbar(p, pos, xerr=np.clip(err, 0, None), fmt="none", ecolor="#222222", elinewidth=1, capsize=2.5)
    for y, x, end in zip(pos, p, p + err[1]):
        ax.text(min(end + 1.2, 91), y, percent_text(x / 100), va="center", fontsize=7.5)
    ax.set_yticks(pos, labels, fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    handles = [Patch(color=COLOURS[k], label=loc[f"light_{k}"]) for k in ("green", "amber", "red")]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=8, frameon=False)
    fig.suptitle(loc["bars_title"], fontsize=11)  # over the figure: long labels push the axes right
    return fig


@_styled
def comparison_dots(
    summaries: Mapping[str, pd.DataFrame],
    *,
    lang: str = "zh",
    targets=None,
    include_districts: bool = False,
    size: tuple[float, float] | None = None,
) -> Figure:
    """Likelihood per target across scenarios: one marker and colour per scenario, intervals.

    Parameters
    ----------
    summaries : mapping
        Scenario label -> its ``summary.csv`` (in the order to draw them; the targets are
        sorted by the first scenario's likelihood).
    lang : {"zh", "en"}
    targets : iterable of str, optional
        Draw only these target ids (default: every modelled target except district ones).
    include_districts : bool
        Also draw the per-district targets when ``targets`` is not given.
    size : (float, float), optional
        Figure size [inch]; default 7.2 wide and tall enough for the targets.
    """
    loc = load_locale(lang)["chart"]
    labels = list(summaries)
    first = _modelled(summaries[labels[0]], include_districts, targets).sort_values("probability", kind="stable")
    ids = list(first["target_id"])
    fig = Chart(
        figsize=size or (7.2, dots_height(len(ids), label_lines(first, lang), len(labels))), layout="constrained"
    )
    ax = fig.add_subplot()
    _percent_axis(ax, loc)
    pos = np.arange(len(ids))
    step = 0.7 / max(len(labels), 1)
    for k, label in enumerate(labels):
        s = summaries[label].set_index("target_id").reindex(ids)
        p = 100 * s["probability"].to_numpy(dtype=float)
        low, high = 100 * s["probability_low"].to_numpy(dtype=float), 100 * s["probability_high"].to_numpy(dtype=float)
        colour, marker = SCENARIO_STYLES[k % len(SCENARIO_STYLES)]
        y = pos - (k - (len(labels) - 1) / 2) * step  # the first scenario on top
        ax.errorbar(
            p,
            y,
            xerr=np.clip(np.vstack([p - low, high - p]), 0, None),
            fmt=marker,
            color=colour,
            markersize=5,
            elinewidth=1,
            capsize=2,
            label=label,
        )
    ax.set_yticks(pos, [target_label(r, lang, wrap=True) for _, r in first.iterrows()], fontsize=8)
    ax.set_ylim(-0.6, len(ids) - 0.4)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(labels), 4), fontsize=8, frameon=False)
    fig.suptitle(loc["compare_title"], fontsize=11)
    return fig


def save(fig: Figure, path_stem: str | Path, *, dpi: int = 150) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg`` (text drawn as paths) and return their paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]
    with matplotlib.rc_context(font_rc()):
        fig.savefig(paths[0], format="png", dpi=dpi, metadata={"Software": None})
        fig.savefig(paths[1], format="svg", metadata={"Date": None})
    return paths
