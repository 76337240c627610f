"""The chart of a global sensitivity analysis (:mod:`model.sensitivity`), built like :mod:`model.report.charts`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..params import all_params
from ..sensitivity import NOISE
from ..targets import load_registry
from ..variants import plain_name
from .charts import _styled, _wrap, target_label
from .i18n import load_locale

__all__ = ["factor_label", "sensitivity_chart"]

FIRST, TOTAL = "#1f5fa8", "#a9c4e6"


def factor_label(factor: str, lang: str) -> str:
    """A factor of the analysis as a planner reads it: a plan module's name, the modules'
    random events, a correlated set, or an uncertainty's name."""
    loc = load_locale(lang)
    modules = {**loc["brief"]["layers"], **loc["brief"]["modules"]}
    if factor in modules:
        return modules[factor]
    if factor == NOISE:
        return loc["sensitivity"]["noise"]
    if factor.startswith("correlated: "):
        return loc["sensitivity"]["correlated"].format(names=factor.removeprefix("correlated: "))
    module, _, name = factor.partition(".")
    spec = all_params().get(module)
    if spec is None or name not in spec.uncertainties:
        return factor
    about = spec.uncertainties[name].about
    return plain_name(about.zh if lang == "zh" else about.en)


@_styled
def sensitivity_chart(table: pd.DataFrame, targets, *, method: str = "sobol", lang: str = "zh",
                      count: int = 8) -> Figure:
    """One row of panels per target, one column per output (deadline value, met 0/1): Sobol':
    the total index of each factor (light bar) and its first-order index (dark bar), each with
    its bootstrap 95 % interval, largest total on top; Morris: mu* with its interval.

    ``table``: :attr:`model.sensitivity.Sensitivity.table`.
    """
    loc = load_locale(lang)["sensitivity"]
    registry = {t.id: t for t in load_registry()}
    targets, outputs = list(targets), ("value", "met")
    key = "ST" if method == "sobol" else "mu_star"
    heights = [min(count, int(((table["target_id"] == t) & (table["output"] == "value")).sum())) for t in targets]
    fig = Figure(figsize=(8.6, 1.2 + sum(0.3 * h + 0.9 for h in heights)), layout="constrained")
    axes = fig.subplots(len(targets), 2, squeeze=False, height_ratios=[h + 2 for h in heights])
    for row, target_id in enumerate(targets):
        target = registry[target_id]
        for col, output in enumerate(outputs):
            ax = axes[row, col]
            rows = table[(table["target_id"] == target_id) & (table["output"] == output)]
            rows = rows.sort_values(key, ascending=False, na_position="last").head(count).iloc[::-1]
            pos = np.arange(len(rows))
            if method == "sobol":
                ax.barh(pos + 0.18, rows["ST"].fillna(0), 0.36, xerr=rows["ST_conf"].fillna(0), color=TOTAL,
                        error_kw={"elinewidth": 0.8, "ecolor": "#555555"}, label=loc["total"])
                ax.barh(pos - 0.18, rows["S1"].fillna(0), 0.36, xerr=rows["S1_conf"].fillna(0), color=FIRST,
                        error_kw={"elinewidth": 0.8, "ecolor": "#555555"}, label=loc["first"])
                ax.set_xlim(min(0.0, float(np.nanmin((rows["S1"] - rows["S1_conf"]).to_numpy(), initial=0.0))),
                            max(1.05, 0.05 + float(np.nanmax((rows["ST"] + rows["ST_conf"]).to_numpy(), initial=0.0))))
            else:
                ax.barh(pos, rows["mu_star"].fillna(0), 0.6, xerr=rows["mu_star_conf"].fillna(0), color=FIRST,
                        error_kw={"elinewidth": 0.8, "ecolor": "#555555"}, label=loc["mu_star"])
            ax.axvline(0, color="#999999", linewidth=0.6)
            labels = [_wrap(factor_label(f, lang), lang, 30, 14) for f in rows["factor"]]
            ax.set_yticks(pos, labels if col == 0 else [""] * len(pos), fontsize=7.5)
            ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
            ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
            ax.set_axisbelow(True)
            title = target_label({"name_zh": target.name_zh, "name_en": target.name_en,
                                  "deadline": target.deadline}, lang, wrap=True) + "\n" if col == 0 else ""
            ax.set_title(title + loc[output], fontsize=8.5, loc="left")
    for ax in axes[-1]:
        ax.set_xlabel(loc["share"] if method == "sobol" else loc["mu_star"])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    fig.suptitle(loc["title"] if method == "sobol" else loc["morris_title"], fontsize=11)
    return fig
