"""The chart of :mod:`model.discover`, built like :mod:`model.report.charts`."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..discover import Discovery
from ..targets import load_registry
from .charts import FAN, _styled, _wrap, target_label
from .i18n import load_locale

__all__ = ["discovery_chart"]

FAIL = "#c62828"


@_styled
def discovery_chart(found: Discovery, *, lang: str = "zh") -> Figure:
    """Two panels: PRIM's trajectory (coverage against density, each box a dot, the box
    reported ringed, the density threshold dotted), and the box's limits drawn inside each
    restricted uncertainty's range, normalised to 0-1 (grey: the range, red: the box)."""
    loc = load_locale(lang)["discover"]
    target = next(t for t in load_registry() if t.id == found.target)
    label = target_label({"name_zh": target.name_zh, "name_en": target.name_en, "deadline": target.deadline}, lang)
    rows = max(1, len(found.box))
    fig = Figure(figsize=(7.2, 3.2 + 0.3 * rows), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.15])
    trajectory = found.trajectory
    left.plot(100 * trajectory["coverage"], 100 * trajectory["density"], "-o", color=FAN, markersize=2.5,
              linewidth=0.8)
    chosen = trajectory.loc[found.chosen]
    left.scatter([100 * chosen["coverage"]], [100 * chosen["density"]], s=90, facecolors="none", edgecolors=FAIL,
                 linewidths=1.6, zorder=3, label=loc["chosen"])
    left.axhline(100 * found.density_threshold, color="#999999", linestyle=":", linewidth=0.9, label=loc["threshold"])
    left.set_xlabel(_wrap(loc["coverage"], lang, 38, 18), fontsize=8)
    left.set_ylabel(_wrap(loc["density"], lang, 38, 18), fontsize=8)
    left.set_title(loc["trajectory"], fontsize=9, loc="left")
    left.set_xlim(0, 102)
    left.legend(fontsize=7.5, frameon=False, loc="lower left")
    left.grid(color="#eeeeee", linewidth=0.6)
    right.set_title(loc["limits"], fontsize=9, loc="left")
    if found.box.empty:
        right.text(0.5, 0.5, loc["no_box"], ha="center", va="center", fontsize=9, transform=right.transAxes)
        right.set_axis_off()
    else:
        box = found.box.iloc[::-1]
        pos = np.arange(len(box))
        span = (box["range_high"] - box["range_low"]).to_numpy()
        low = ((box["low"].fillna(box["range_low"]) - box["range_low"]).to_numpy() / span).clip(0, 1)
        high = ((box["high"].fillna(box["range_high"]) - box["range_low"]).to_numpy() / span).clip(0, 1)
        right.barh(pos, 1.0, color="#e0e0e0", height=0.4, label=loc["range"])
        right.barh(pos, high - low, left=low, color=FAIL, height=0.4, label=loc["box"])
        names = box["name_zh"] if lang == "zh" else box["name_en"]
        right.set_yticks(pos, [_wrap(n, lang, 30, 14) for n in names], fontsize=7.5)
        right.set_xlim(0, 1)
        right.set_ylim(-0.7, len(box) - 0.3)
        right.set_xticks([0, 1], ["min", "max"] if lang == "en" else ["最小", "最大"], fontsize=7.5)
        right.legend(fontsize=7.5, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.06), ncols=2)
    fig.suptitle(_wrap(loc["title"].format(name=label), lang, 80, 40), fontsize=10)
    return fig
