"""Charts of the analyses (:mod:`model.ranking` and the others), built like :mod:`model.report.charts`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..ranking import end_text, planned_levers
from ..targets import load_registry
from ..variants import plain_name
from .chart_figure import Chart
from .charts import FAN, _styled, _wrap, target_label
from .i18n import load_locale

__all__ = ["tornado"]

LOW, HIGH = "#d95f02", "#1f5fa8"


def _lever_label(spec, lang: str) -> str:
    name = plain_name(spec.about.zh if lang == "zh" else spec.about.en)
    low, high = (end_text(spec, v, lang) for v in (spec.planning.low, spec.planning.high))
    return _wrap(f"{name}（{low}→{high}）" if lang == "zh" else f"{name} ({low} → {high})", lang, 46, 24)


@_styled
def tornado(table: pd.DataFrame, targets, *, lang: str = "zh", count: int = 8) -> Figure:
    """One panel per target: the ``count`` levers with the largest effect, each a segment from
    the likelihood at the low end of its planning range (open dot) to the high end (filled dot),
    largest on top, and the likelihood as written (a vertical line).

    ``table``: ``levers.csv`` of :func:`model.ranking.rank_levers`.
    """
    loc, chart = load_locale(lang)["analysis"], load_locale(lang)["chart"]
    registry = {t.id: t for t in load_registry()}
    specs = {spec.key: spec for spec in planned_levers()}
    targets = list(targets)
    heights = [min(count, int((table["target_id"] == t).sum())) for t in targets]
    fig = Chart(figsize=(7.2, 1.2 + sum(0.34 * h + 0.8 for h in heights)), layout="constrained")
    axes = fig.subplots(len(targets), 1, squeeze=False, height_ratios=[h + 2 for h in heights])[:, 0]
    for ax, target_id in zip(axes, targets):
        rows = table[table["target_id"] == target_id].sort_values("rank").head(count).iloc[::-1]
        target = registry[target_id]
        ax.set_title(target_label({"name_zh": target.name_zh, "name_en": target.name_en,
                                   "deadline": target.deadline}, lang), fontsize=9, loc="left")
        pos = np.arange(len(rows))
        low, high = 100 * rows["probability_at_low"].to_numpy(), 100 * rows["probability_at_high"].to_numpy()
        ax.hlines(pos, np.minimum(low, high), np.maximum(low, high), color="#888888", linewidth=2.2)
        ax.scatter(low, pos, s=28, facecolors="white", edgecolors=LOW, linewidths=1.4, zorder=3,
                   label=loc["tornado_low"])
        ax.scatter(high, pos, s=28, color=HIGH, zorder=3, label=loc["tornado_high"])
        if len(rows):
            ax.axvline(100 * rows["probability"].iloc[0], color=FAN, linewidth=1, label=loc["tornado_base"])
        ax.set_yticks(pos, [_lever_label(specs[key], lang) for key in rows["lever"]], fontsize=7.5)
        ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        ax.set_xlim(0, 100)
        ax.axvline(80, color="#999999", linestyle=":", linewidth=0.8)
        ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
    axes[-1].set_xlabel(chart["likelihood"])
    axes[0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.12), ncols=3, fontsize=8, frameon=False)
    fig.suptitle(loc["tornado_title"], fontsize=11)
    return fig
