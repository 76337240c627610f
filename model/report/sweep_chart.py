"""The chart of a lever sweep (:mod:`model.sweep`): a sensitivity analysis, one lever at a time.

One panel per target: the likelihood of meeting it at each value of the lever (line and
markers) with its Wilson 95 % interval (band), the dashed 80 % line, the scenario's own value
marked, and under the panel's title the first value that reaches 80 % or "none up to <the
largest value tried>". Shares are drawn as percentages, decimal years as dates; true/false and
choices as categories. Built like :mod:`model.report.charts` (a :class:`Chart`, fonts through
``rc_context``); :func:`sweep_charts` gives both languages' charts, which ``compare`` saves as
``sweep.zh.png/.svg`` and ``sweep.en.png/.svg``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..params import lever_specs
from ..plans import HEADLINE_2020
from ..readable import lever_text
from ..sweep import parse_value, reach_text
from ..timeline import to_date
from ..variants import plain_name
from .chart_figure import Chart
from .charts import FAN, _styled, _wrap, target_label
from .i18n import load_locale, unit_label

__all__ = ["chart_targets", "sweep_chart", "sweep_charts"]

LEVEL = 0.80
COLUMNS = 3


def _t(key: str, lang: str, **fmt) -> str:
    return str(load_locale(lang)["sweep_chart"][key]).format(**fmt)


def chart_targets(tidy: pd.DataFrame, targets=None) -> list[str]:
    """The targets a sweep chart shows: those given, else the three headline goals of 2020."""
    ids = list(dict.fromkeys(tidy["target_id"]))
    chosen = list(targets) if targets else [t for t in HEADLINE_2020 if t in ids]
    return [t for t in chosen if t in ids] or ids[:3]


def _positions(values: list, unit: str) -> tuple[np.ndarray, list[str] | None]:
    """x positions of the values (percent for shares, decimal years as they are), and labels for
    values that are not numbers (drawn as categories in the order given)."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numbers:
        return np.arange(len(values), dtype=float), None
    x = np.array(values, dtype=float)
    return (100 * x if unit == "share" else x), []


@_styled
def sweep_chart(tidy: pd.DataFrame, *, lang: str = "zh", targets=None, reference=None, scenario: str = "",
                replications: int | None = None, own_summary: pd.DataFrame | None = None) -> Figure:
    """Likelihood against the lever's value, one panel per target.

    Parameters
    ----------
    tidy : DataFrame
        :func:`model.sweep.sweep_table` (or ``sweep.csv`` read back).
    lang : {"zh", "en"}
    targets : iterable of str, optional
        Target ids to draw (default: the headline goals of 2020).
    reference : optional
        The scenario's own value of the lever, marked with a dotted line.
    own_summary : DataFrame, optional
        The summary of the scenario as written (``target_id``, ``probability``): its likelihood
        is drawn at its own value (a diamond).
    scenario : str
        The scenario's name, for the subtitle.
    replications : int, optional
        Replications per value, for the subtitle.

    Returns
    -------
    Figure
    """
    key = str(tidy["lever"].iloc[0])
    spec = lever_specs()[key]
    unit = spec.about.unit
    ids = chart_targets(tidy, targets)
    texts = list(dict.fromkeys(tidy["value"]))
    values = [parse_value(v) if isinstance(v, str) else v for v in texts]
    order = sorted(range(len(values)), key=lambda i: values[i]) if all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) else list(range(len(values)))
    values, texts = [values[i] for i in order], [texts[i] for i in order]
    x, categories = _positions(values, unit)
    reach = reach_text(tidy, unit, LEVEL, lang)
    name = plain_name(spec.about.zh if lang == "zh" else spec.about.en)
    unit_text = unit_label("%" if unit == "share" else unit, lang)
    axis_label = _wrap(name, lang, 40, 18) + (f"（{unit_text}）" if lang == "zh" else f" ({unit_text})")
    if unit in ("bool", "-", "decimal year"):
        axis_label = _wrap(name, lang, 40, 18)
    cols = min(COLUMNS, len(ids))
    rows = math.ceil(len(ids) / cols)
    fig = Chart(figsize=(2.9 * cols + 0.6, 2.6 * rows + 1.2), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    own_by_id = None if own_summary is None else own_summary.set_index("target_id")
    for k, target_id in enumerate(ids):
        ax = axes[k // cols, k % cols]
        part = tidy[tidy["target_id"] == target_id].set_index("value").reindex(texts)
        columns = ("probability", "probability_low", "probability_high")
        xs, (p, low, high) = x, (100 * part[c].to_numpy(dtype=float) for c in columns)
        own_row = None if own_by_id is None else own_by_id.reindex([target_id]).iloc[0]
        if own_row is not None and categories is not None and isinstance(reference, (int, float)) \
                and not isinstance(reference, bool) and reference not in values:  # the scenario's own point on the line
            at = 100 * float(reference) if unit == "share" else float(reference)
            order_own = np.argsort(np.append(x, at), kind="stable")
            xs = np.append(x, at)[order_own]
            p, low, high = (np.append(a, 100 * float(own_row[c]))[order_own] for a, c in zip((p, low, high), columns))
        ax.fill_between(xs, low, high, color=FAN, alpha=0.18, linewidth=0, label=_t("band", lang))
        ax.plot(xs, p, color=FAN, marker="o", markersize=4, linewidth=1.8)
        ax.axhline(100 * LEVEL, color="#c62828", linestyle="--", linewidth=1.1, label=_t("line", lang))
        if reference is not None and categories is not None and not isinstance(reference, (bool, str, dict)):
            own = 100 * float(reference) if unit == "share" else float(reference)
            ax.axvline(own, color="#555555", linestyle=":", linewidth=1)
            if own_by_id is not None and target_id in own_by_id.index:
                p_own = own_by_id.at[target_id, "probability"]
                ax.plot([own], [100 * p_own], marker="D", markersize=5, color="#222222", linestyle="none",
                        label=_t("own", lang, value=lever_text(reference, unit, lang)), zorder=5)
        ax.set_ylim(0, 100)
        ax.set_yticks(range(0, 101, 20))
        ax.grid(color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
        if categories is None:
            ax.set_xticks(x, [lever_text(v, unit, lang) for v in values], fontsize=8)
        elif unit == "decimal year":
            ax.set_xticks(x, [to_date(v).strftime("%Y-%m") for v in values], fontsize=7, rotation=30)
        else:
            ax.set_xticks(x, [lever_text(v, unit, lang).replace(" ", "\n", 1) if len(x) > 4 else
                              lever_text(v, unit, lang) for v in values], fontsize=7.5)
        row = tidy[tidy["target_id"] == target_id].iloc[0]
        title = target_label(row, lang, wrap=True)
        ax.set_title(f"{title}\n{_t('first', lang, value=reach.get(target_id, ''))}", fontsize=8.5)
        if k % cols == 0:
            ax.set_ylabel(_t("ylabel", lang), fontsize=8.5)
        if k + cols >= len(ids):  # the lowest panel of its column
            ax.set_xlabel(axis_label, fontsize=8.5)
    for k in range(len(ids), rows * cols):
        axes[k // cols, k % cols].set_visible(False)
    heading = _t("title", lang, lever=_wrap(name, lang, 60, 30))
    if scenario:
        heading += "\n" + _t("subtitle", lang, scenario=scenario, n=replications or "?")
    fig.suptitle(heading, fontsize=10.5)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    return fig


def sweep_charts(tidy: pd.DataFrame, **options) -> dict[str, Figure]:
    """The chart in Chinese and English by file stem (``sweep.zh``, ``sweep.en``); ``options``
    as for :func:`sweep_chart`."""
    return {f"sweep.{lang}": sweep_chart(tidy, lang=lang, **options) for lang in ("zh", "en")}
