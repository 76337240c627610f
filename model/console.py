"""Plain-text tables and lines the command line prints for a run (CJK-aware alignment)."""

from __future__ import annotations

import re

import pandas as pd

from .drivers import MIN_REPLICATIONS
from .outside import ASSESSED, GOAL, outside_view, sentence
from .plans import PLANS
from .readable import cut, display_width, lever_text, percent_text, test_label
from .report.i18n import load_locale
from .results import Results
from .runs import Run
from .stats import round_outward
from .sweep import reach_text
from .tables import milestone_text
from .targets import load_registry
from .timeline import YEARS


def format_table(columns: dict[str, list[str]], right: tuple[str, ...] = (), width: int | None = None,
                 shrink: str | None = None, fold: bool = False) -> str:
    """Plain-text table; text columns left-aligned, ``right`` columns right-aligned.

    With ``width`` and ``shrink`` (a column of names), that column's cells are cut (``...``), or
    with ``fold`` continued on the next lines, so that every line fits in ``width`` display
    columns (CJK characters count two); the column keeps at least 8 columns.
    """
    widths = {name: max([display_width(name)] + [display_width(v) for v in values]) for name, values in columns.items()}
    if width is not None and shrink in columns:
        over = sum(widths.values()) + 2 * (len(columns) - 1) - width
        if over > 0:
            fit = max(8, widths[shrink] - over)
            if fold:
                return _folded(columns, right, width, shrink, fit)
            columns = {**columns, shrink: [cut(v, fit) for v in columns[shrink]]}
            widths[shrink] = max([display_width(shrink)] + [display_width(v) for v in columns[shrink]])

    def cell(name: str, value: str) -> str:
        pad = " " * (widths[name] - display_width(value))
        return pad + value if name in right else value + pad

    names = list(columns)
    lines = ["  ".join(cell(n, n) for n in names).rstrip()]
    for i in range(len(columns[names[0]]) if names else 0):
        lines.append("  ".join(cell(n, columns[n][i]) for n in names).rstrip())
    return "\n".join(lines)


def _broken(line: str, fit: int) -> list[str]:
    """``line`` as it is when it fits in ``fit`` display columns, else broken at ``fit`` (a word
    longer than the column: ``water/energy-efficiency``), later parts indented by one."""
    parts, part = [], ""
    for ch in line:
        if display_width(part + ch) > fit:
            parts.append(part)
            part = " "
        part += ch
    return parts + [part]


def _folded(columns: dict[str, list[str]], right: tuple[str, ...], width: int, shrink: str, fit: int) -> str:
    """:func:`format_table` with the cells of ``shrink`` folded onto lines of ``fit`` columns."""
    pieces = [[part for line in wrap(v, indent="", width=fit, hang=" ") for part in _broken(line, fit)]
              for v in columns[shrink]]
    rows: dict[str, list[str]] = {name: [] for name in columns}
    for i, folded in enumerate(pieces):
        for k, piece in enumerate(folded):
            for name in columns:
                rows[name].append(piece if name == shrink else columns[name][i] if k == 0 else "")
    return format_table(rows, right)


def pct(x: float) -> str:
    """A likelihood as people read it (:func:`model.readable.percent_text`: never 0.0% for a
    non-zero value)."""
    return percent_text(x)


def interval(low: float, high: float) -> str:
    """An interval in percent, rounded outwards to 4 decimals first (as the CSV files hold it)."""
    if pd.isna(low):
        return ""
    low, high = (float(x) for x in round_outward(low, high))
    fmt = (lambda v: f"{100 * v:.2f}") if high < 0.01 or low > 0.99 else (lambda v: f"{100 * v:.1f}")
    return f"{fmt(low)}-{fmt(high)}"


def value_text(v: float, unit: str = "", never: bool = False) -> str:
    """A quantile of the summary: milestones (``unit == "date"``) as ISO dates or ``never``."""
    if unit == "date":
        return milestone_text(v, never)
    return "" if pd.isna(v) else f"{v:.4g}"


def summary_table(summary: pd.DataFrame, show_all: bool) -> str:
    rows = summary if show_all else summary[
        (summary["status"] != "not modelled") & ~summary["target_id"].str.contains(".district.", regex=False)
    ]
    lines = format_table({
        "target": list(rows["target_id"]),
        "deadline": list(rows["deadline"]),
        "test": list(rows["test"]),
        "likelihood": [pct(p) for p in rows["probability"]],
        "95% interval": [interval(lo, hi) for lo, hi in zip(rows["probability_low"], rows["probability_high"])],
        "median": [value_text(v, u, nv) for v, u, nv in zip(rows["median"], rows["unit"], rows["median_never"])],
        "status": list(rows["status"]),
    }, right=("likelihood", "95% interval", "median")).split("\n")
    out, previous = [lines[0]], None
    for line, plan in zip(lines[1:], rows["plan"]):
        if plan != previous:  # a heading per plan keeps 82 rows readable
            zh, en = PLANS.get(plan, (plan, plan))
            out.append(f"-- {zh} {en}")
            previous = plan
        out.append(line)
    return "\n".join(out)


def _trajectory(results: Results, key: str) -> pd.DataFrame:
    """The trajectory rows of ``key`` by year (the run's quantiles: in memory or streamed alike)."""
    table = results.trajectories
    return table[table["indicator"] == key].set_index("year")


def outlay(results: Results, lang: str = "en") -> str:
    """What the tech-renovation post-subsidy costs: median and 10-90 % per year [亿元]."""
    rows = _trajectory(results, "techreform.subsidy_outlay")
    parts = []
    for year in YEARS[1:]:
        p10, p50, p90 = (float(rows.loc[year, c]) / 1e4 for c in ("p10", "p50", "p90"))  # 万元 -> 亿元
        parts.append(f"{year} {p50:.2f} ({p10:.2f}-{p90:.2f})")
    if lang == "zh":
        return "技术改造事后奖补支出（亿元，中位数及10%–90%）：" + "，".join(parts)
    return "tech-renovation post-subsidy outlay, 亿元 median (10-90 %): " + ", ".join(parts)


def decomposition(results: Results, lang: str = "en") -> str:
    """Energy-intensity cut by 2020 split into structure and efficiency effects (medians)."""
    last = YEARS[-1]
    total, structure, efficiency = (
        float(_trajectory(results, f"green.{k}").loc[last, "p50"])
        for k in ("energy_intensity_cut", "structure_effect", "efficiency_effect")
    )
    if lang == "zh":
        return (f"到{last}年单位工业增加值能耗下降（中位数）：合计 {total:.1f}%，其中结构调整 {structure:.1f}%，"
                f"行业内能效提升 {efficiency:.1f}%（两者相乘组合）")
    return (f"energy-intensity cut by {last}, medians: {total:.1f} % in all; structural shift "
            f"{structure:.1f} %, efficiency within sectors {efficiency:.1f} % (they combine multiplicatively)")


WIDTH = 80  # of the console lines that are ours to wrap


#: Pieces of text a line never breaks inside: a run of ASCII with its trailing spaces or one
#: other character, with any opening punctuation before it (which never ends a line) and any
#: closing punctuation after it (which never starts one).
_PIECE = re.compile(r"[（“‘]*(?:[!-~]+ *|[^ ])[，。；：、）”’]*| +")


def wrap(text: str, indent: str = "   ", width: int = WIDTH, hang: str = "  ") -> list[str]:
    """``text`` in lines of at most ``width`` display columns (CJK characters take two), broken
    between words and Chinese characters, never inside a number; later lines indented by ``hang``."""
    lines, line, prefix = [], "", indent
    for piece in _PIECE.findall(text):
        if line and display_width(prefix + line + piece.rstrip()) > width:
            lines.append(prefix + line.rstrip())
            line, prefix = "", indent + hang
        line += piece
    return lines + [prefix + line.rstrip()]


def _share(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{100 * x:.1f}%"


def outside_lines(run: Run, lang: str | None = None) -> list[str]:
    """The 2020 energy goal beside the base rate of the record, and why they differ
    (:mod:`model.outside`), in lines of at most :data:`WIDTH` columns: the figures and both
    sentences, or with ``lang`` the sentence of that language (and in English the figures)."""
    v = outside_view(run)
    b, (lo, hi), (blo, bhi) = v.base, v.likelihood_interval, v.base.interval
    facts = [f"outside view of {GOAL}: model {_share(v.likelihood)} (95% {interval(lo, hi)}); base rate "
             f"{_share(b.share)} (95% {interval(blo, bhi)}): {b.met} of {b.of} provinces met their 11th "
             f"five-year target ({b.cite_en}, {b.published})"]
    if v.recorded:
        behind = ", ".join(f"{y} {_share(v.behind[y])}" for y in ASSESSED)
        limited = ", ".join(f"{y} {_share(p)}" for y, p in v.limited_by_year.items())
        facts.append(f"behind the path at year end: {behind}; of those behind in {ASSESSED[0]}, "
                     f"{_share(v.met_if_behind[ASSESSED[0]])} meet the goal; production limited in "
                     f"{_share(v.limited)} of futures ({limited}); of the goal's successes "
                     f"{_share(v.met_with_limits)} needed limits; loss where limited: mean "
                     f"{v.loss_mean:.1f}%, median {v.loss_median:.1f}% of a year's above-scale "
                     f"industrial value added" + ("" if pd.isna(v.lost_yi_mean) else f" ({v.lost_yi_mean:.1f} 亿元)"))
    texts = facts + [sentence(v, "zh"), sentence(v, "en")]
    if lang is not None:
        texts = [sentence(v, "zh")] if lang == "zh" else facts + [sentence(v, "en")]
    out = []
    for text in texts:
        out += wrap(text)
    return out


def joint_lines(results: Run, lang: str = "en") -> list[str]:
    """The plans as a whole: joint likelihoods and how many plan-level targets are met."""
    j = results.joint.set_index("view")
    count = j.loc["met_count"]
    zh = lang == "zh"
    plans = [
        f"{PLANS.get(view.split('.', 1)[1], (view,))[0] if zh else view.split('.', 1)[1]} {pct(row.probability)}"
        + ("" if row.modelled == row.targets else
           f"（已建模{int(row.modelled)}/{int(row.targets)}）" if zh else
           f" ({int(row.modelled)}/{int(row.targets)} modelled)")
        for view, row in j.iterrows()
        if view.startswith("plan.") and row.modelled
    ]
    head = j.loc["headline_2020"]
    if lang == "zh":
        return [f"规划层面目标达成数：平均 {count['mean']:.1f}/{int(count['modelled'])}（10%–90%："
                f"{count['p10']:.0f}–{count['p90']:.0f}）",
                "各规划全部目标达成：" + "，".join(plans),
                f"三项主要目标（2020年）同时达成：{pct(head['probability'])}"
                f"（{interval(head['probability_low'], head['probability_high'])}）"]
    return [
        f"plan-level targets met: mean {count['mean']:.1f} of {int(count['modelled'])} modelled (10-90 %: "
        f"{count['p10']:.0f}-{count['p90']:.0f})",
        "every target of a plan met: " + ", ".join(plans),
        f"the three headline goals of 2020 together: {pct(head['probability'])} "
        f"({interval(head['probability_low'], head['probability_high'])})",
    ]


def _drivers_of(run: Run, target_id: str) -> pd.DataFrame:
    drivers = run.drivers if run.drivers is not None else pd.DataFrame(columns=["target_id", "rank"])
    return drivers[drivers["target_id"] == target_id].sort_values("rank")


def drivers_text(results: Run, target_ids) -> str:
    """The strongest drivers of each target in ``target_ids`` (see :mod:`model.drivers`)."""
    out = []
    for target_id in target_ids:
        table = _drivers_of(results, target_id)
        p = results.probability(target_id)
        out.append(f"\n-- {target_id}: likelihood {pct(p)}")
        if table.empty:
            n = results.replications
            if n < MIN_REPLICATIONS:
                out.append(f"   too few replications for drivers ({n}; at least {MIN_REPLICATIONS} are needed)")
            elif n < 5_000:
                out.append(
                    f"   no sampled input moves it beyond the Monte Carlo error at {n:,} replications;"
                    " more replications may show some"
                )
            else:
                out.append(
                    f"   no sampled input moves it beyond the Monte Carlo error at {n:,} replications: what"
                    " remains is chance inside the model (which firms act, project sizes, delays)"
                )
            continue
        out.append(
            format_table(
                {
                    "#": [str(r) for r in table["rank"]],
                    "uncertainty": list(table["uncertainty"]),
                    "if low (lowest third)": [pct(x) for x in table["probability_low"]],
                    "if high (highest third)": [pct(x) for x in table["probability_high"]],
                    "swing (points)": [f"{100 * x:+.1f}" for x in table["swing"]],
                    "name": [f"{zh} / {en}" for zh, en in zip(table["name_zh"], table["name_en"])],
                },
                right=("#", "if low (lowest third)", "if high (highest third)", "swing (points)"),
            )
        )
    return "\n".join(out)


def sweep_text(
    tidy: pd.DataFrame, reference: pd.DataFrame, reference_text: str, targets=None, top: int = 12, level: float = 0.80,
    lang: str = "en", unit: str = "", width: int | None = None,
) -> str:
    """A sweep as a table: likelihood of each target at each value (``*`` the scenario's own value).

    ``tidy`` is :func:`model.sweep.sweep_table` (values as text), ``reference`` holds
    ``target_id, probability`` of the scenario as written and ``reference_text`` its value of the
    lever. Without ``targets`` the ``top`` plan-level targets whose likelihood varies most are
    shown, by name in ``lang``, values with the lever's ``unit`` (shares as percentages), the
    table fitted to ``width`` columns.
    """
    t = load_locale(lang)["terminal"]
    values = list(dict.fromkeys(tidy["value"]))
    by_value = {v: part.set_index("target_id")["probability"] for v, part in tidy.groupby("value", sort=False)}
    ids = list(dict.fromkeys(tidy["target_id"]))
    base = reference.set_index("target_id")["probability"].reindex(ids)
    if targets:
        shown = list(targets)
    else:
        plan_level = [t for t in ids if ".district." not in t]
        grid = pd.concat([by_value[v].reindex(plan_level) for v in values] + [base.reindex(plan_level)], axis=1)
        spread = grid.max(axis=1) - grid.min(axis=1)
        spread = spread[spread > 0]  # under common random numbers an unmoved target is exactly equal
        shown = list(spread.sort_values(ascending=False, kind="stable").head(top).index)
        if not shown:
            return "   " + t["sweep_unmoved"]
    rows = tidy.drop_duplicates("target_id").set_index("target_id")
    names = rows["name_zh"] if lang == "zh" else rows["name_en"]
    registry = {x.id: x for x in load_registry()}
    units = {k: x.unit for k, x in registry.items()}
    years = {k: x.deadline.year for k, x in registry.items()}  # several targets differ only by year
    columns: dict[str, list[str]] = {
        t["col_target"]: [f"{names.get(x, x)}（{years[x]}年）" if lang == "zh" and x in years else
                          f"{names.get(x, x)} ({years[x]})" if x in years else str(names.get(x, x)) for x in shown],
        t["col_test"]: [test_label(str(rows.at[x, "test"]), units.get(x, ""), lang) for x in shown]}
    own = tidy.loc[tidy["is_reference"], "value"]
    if own.empty:
        columns[t["as_written"].format(value=reference_text)] = [pct(base[x]) for x in shown]
    for v in values:
        columns[f"{lever_text(v, unit, lang)}{'*' if v in set(own) else ''}"] = [pct(by_value[v][x]) for x in shown]
    said = reach_text(tidy, unit, level, lang)  # "none up to <the largest value>" where none reached
    columns[t["first_80"].format(level=f"{level:.0%}")] = [str(said[x]) for x in shown]
    return format_table(columns, right=tuple(c for c in columns if c not in (t["col_target"], t["col_test"])),
                        width=width, shrink=t["col_target"], fold=True)
