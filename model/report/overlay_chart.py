"""Fan chart of a comparison's focus scenario with the other scenarios overlaid.

The focus scenario is drawn as in :func:`model.report.charts.fan_chart` (10-90 % and 25-75 %
bands, median); each other scenario adds its median as a line and its 10-90 % range as two
thin dotted lines in its own colour, so one chart shows every scenario of the comparison and
which of them the brief is about. The targets on the indicator are marked as diamonds.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.figure import Figure

from . import charts
from .chart_figure import Chart
from .i18n import load_locale, target_name, unit_label

__all__ = ["overlay_fan"]


@charts._styled
def overlay_fan(
    trajectories: Mapping[str, pd.DataFrame],
    indicator: str,
    focus: str,
    *,
    lang: str = "zh",
    thresholds: Mapping[str, float] | None = None,
    size: tuple[float, float] = (4.8, 3.2),
) -> Figure:
    """The fan of ``focus`` with the medians and 10-90 % ranges of the other scenarios.

    Parameters
    ----------
    trajectories : mapping
        Scenario label -> ``trajectories.csv`` of its run, in the comparison's order.
    indicator : str
        ``module.name`` of a yearly indicator; :data:`charts.ZOMBIE` draws the zombie chart.
    focus : str
        The label (a key of ``trajectories``) of the focus scenario.
    lang : {"zh", "en"}
    thresholds : mapping, optional
        Target id -> threshold the focus scenario set for a reading.
    size : (float, float)
        Figure size [inch].
    """
    loc = load_locale(lang)["chart"]
    rows = charts._indicator_rows(trajectories[focus], indicator)
    fig = Chart(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    years = rows["year"].to_numpy()
    colour = charts.SCENARIO_STYLES[0][0]
    ax.fill_between(years, rows["p10"], rows["p90"], color=colour, alpha=0.16, linewidth=0)
    ax.fill_between(years, rows["p25"], rows["p75"], color=colour, alpha=0.34, linewidth=0)
    ax.plot(years, rows["p50"], color=colour, linewidth=2.2, label=focus)
    others = [label for label in trajectories if label != focus]
    for (style, marker), label in zip(charts.SCENARIO_STYLES[1:] * 3, others):
        other = charts._indicator_rows(trajectories[label], indicator)
        x = other["year"].to_numpy()
        ax.plot(x, other["p50"], color=style, linewidth=1.3, marker=marker, markersize=3, label=label)
        for q in ("p10", "p90"):
            ax.plot(x, other[q], color=style, linewidth=0.7, linestyle=":")
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_xlim(years.min() - 0.2, years.max() + 0.3)
    ax.set_xlabel(loc["year_end"])
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    targets = charts._targets_on(indicator, thresholds, lang)
    charts._mark_targets(ax, targets, loc)
    if indicator == charts.ZOMBIE:
        ax.set_ylim(0, 105)
        ax.set_title(loc["zombie_title"], fontsize=10)
        ax.set_ylabel(loc["zombie_ylabel"])
    else:
        charts._headroom(ax, [value for _, value, _ in targets])
        ax.set_title(charts._wrap(target_name(rows.iloc[0], lang), lang, 60, 30), fontsize=10)
        ax.set_ylabel(loc["unit"].format(unit=unit_label(rows.iloc[0]["unit"], lang)))
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    return fig
