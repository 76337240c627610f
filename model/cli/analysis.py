"""``python -m model levers`` (and the other analyses): what it takes and why it fails."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..analysis import analysis_manifest, save_analysis
from ..atomic import OutDirError, WriteError, check_replaceable
from ..console import format_table, pct, wrap
from ..plans import HEADLINE_2020
from ..ranking import end_text, planned_levers, rank_levers
from ..report.analysis_charts import tornado
from ..scenario import load_scenario
from ..tables import display_width
from ..targets import load_registry
from ..variants import plain_name
from .common import (
    UsageError,
    add_common_options,
    add_observed_option,
    add_sampling_options,
    check_target_ids,
    progress_bar,
    with_observed,
)

NAME_WIDTH = 24  # display columns of a lever's name in the terminal table (80 columns in all)


def default_lang() -> str:
    """``zh`` when the environment's locale is Chinese (LC_ALL, LC_MESSAGES or LANG), else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def add_lang_option(parser) -> None:
    parser.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="language of the printed tables (default zh when the locale is Chinese, else en)")


def add_analysis_parsers(sub) -> None:
    """The ``levers`` command."""
    levers = sub.add_parser("levers", help="which measures matter most: each lever at both ends of its planning "
                                           "range, on the same draws (levers.csv, tornado chart)")
    levers.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    levers.add_argument("--targets", nargs="+", default=None, metavar="ID",
                        help="target ids to rank the levers for (default: the three headline goals of 2020)")
    levers.add_argument("--levers", nargs="+", default=None, metavar="MODULE.LEVER",
                        help="only these levers (default: every lever with a planning range)")
    levers.add_argument("--top", type=int, default=5, help="levers printed per target (default 5; all are saved)")
    levers.add_argument("--out", type=Path, default=None, help="output directory (default runs/<name>-levers)")
    add_sampling_options(levers, "replications of the scenario's run, on which every lever is moved")
    add_common_options(levers)
    add_observed_option(levers)
    add_lang_option(levers)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` display columns (CJK characters count two), with ... if cut
    (ASCII: an ellipsis or an arrow is one column or two depending on the terminal)."""
    if display_width(text) <= width:
        return text
    while display_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


def levers_text(table: pd.DataFrame, targets, lang: str, top: int) -> str:
    """Per target, the ``top`` levers by effect: range, likelihood at both ends, paired change."""
    specs = {spec.key: spec for spec in planned_levers()}
    registry = {t.id: t for t in load_registry()}
    zh = lang == "zh"
    blocks = []
    for target_id in targets:
        rows = table[table["target_id"] == target_id].sort_values("rank").head(top)
        target = registry[target_id]
        name = target.name_zh if zh else target.name_en
        base = pct(rows["probability"].iloc[0]) if len(rows) else ""
        head = f"{name}（{target.deadline.year}年）：按方案 {base}" if zh else \
            f"{name} ({target.deadline.year}): as written {base}"
        columns: dict[str, list[str]] = {"#": [], "措施" if zh else "measure": [], "范围" if zh else "range": [],
                                         "下端 -> 上端" if zh else "low -> high": [],
                                         "变化（百分点）" if zh else "change (points)": []}
        keys = list(columns)
        for _, row in rows.iterrows():
            spec = specs[row["lever"]]
            columns[keys[0]].append(str(int(row["rank"])))
            columns[keys[1]].append(_cut(plain_name(spec.about.zh if zh else spec.about.en), NAME_WIDTH))
            columns[keys[2]].append(_cut(f"{end_text(spec, spec.planning.low, lang)} -> "
                                         f"{end_text(spec, spec.planning.high, lang)}", 16))
            columns[keys[3]].append(f"{pct(row['probability_at_low'])} -> {pct(row['probability_at_high'])}")
            columns[keys[4]].append(f"{100 * row['effect']:+.1f} [{100 * row['effect_low']:+.1f}, "
                                    f"{100 * row['effect_high']:+.1f}]")
        blocks.append("\n".join(wrap(head, indent="", hang="  ")) + "\n"
                      + format_table(columns, right=(keys[0], keys[3], keys[4])))
    return "\n\n".join(blocks)


def cmd_levers(args) -> int:
    targets = args.targets or list(HEADLINE_2020)
    check_target_ids(targets, "--targets")
    if args.top < 1:
        raise UsageError(f"--top: give at least 1, found {args.top}")
    specs = planned_levers(args.levers)  # an unknown or unranked lever: one line, exit 2
    scenario = with_observed([load_scenario(args.scenario, tuple(args.scenario_path))], args)[0]
    out = args.out or Path("runs") / f"{scenario.name}-levers"
    lang = args.lang or default_lang()
    try:
        out = check_replaceable(out, "analysis")
    except OutDirError as exc:
        raise UsageError(str(exc)) from None
    with progress_bar(len(specs)) as bar:
        bar.set_description("moving levers")
        bar.unit = " levers"
        ranking = rank_levers(scenario, args.replications, args.seed, targets, [s.key for s in specs],
                              workers=args.workers, progress=bar.update)
    manifest = analysis_manifest("levers", ranking.base, {"targets": targets, "levers": [s.key for s in specs]})
    figures = {f"tornado.{code}": tornado(ranking.table, targets, lang=code) for code in ("zh", "en")}
    try:
        saved = save_analysis(out, manifest, {"levers.csv": ranking.table}, figures)
    except WriteError as exc:
        raise UsageError(str(exc)) from exc
    zh = lang == "zh"
    title = (f"哪些措施最管用：{scenario.name}，{args.replications:,} 次模拟，种子 {args.seed}，共同随机数" if zh else
             f"Which measures matter most: {scenario.name}, {args.replications:,} replications, seed {args.seed}, "
             "common random numbers")
    print("\n" + "\n".join(wrap(title, indent="== ", hang="")))
    print(levers_text(ranking.table, targets, lang, args.top) + "\n")
    note = ("变化：措施取规划范围上端与下端时达标可能性之差，方括号内为配对 95% 区间；规划范围及理由见 "
            "python -m model params，成本见 levers.csv。" if zh else
            "change: the likelihood at the high end minus the low end of the planning range, with the paired 95 % "
            "interval in brackets; ranges and their reasons: python -m model params; costs: levers.csv.")
    print("\n".join(wrap(note)))
    print("\n".join(wrap(f"{'已保存至' if zh else 'saved to'} {saved}/ (levers.csv, tornado.zh/en.png/svg, "
                         "manifest.json)")))
    return 0
