"""``python -m model levers`` and ``goal`` (and the other analyses): what it takes and why it fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..analysis import analysis_manifest, save_analysis
from ..atomic import OutDirError, WriteError
from ..console import format_table, pct, wrap
from ..engine import simulate
from ..goal import lever_spec, search_range, seek_goal
from ..params import indicator_spec, lever_specs
from ..ranking import end_text, planned_levers, rank_levers
from ..readable import cut
from ..report.analysis_charts import tornado
from ..report.i18n import unit_label
from ..scenario import load_scenario
from ..targets import load_registry
from ..variants import plain_name
from .common import (
    UsageError,
    add_common_options,
    add_lang_option,
    add_observed_option,
    add_sampling_options,
    analysis_kept,
    analysis_out,
    check_target_ids,
    chosen_targets,
    default_lang,
    print_kept,
    progress_bar,
    with_observed,
)

NAME_WIDTH = 24  # display columns of a lever's name in the terminal table (80 columns in all)


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
            columns[keys[1]].append(cut(plain_name(spec.about.zh if zh else spec.about.en), NAME_WIDTH))
            columns[keys[2]].append(cut(f"{end_text(spec, spec.planning.low, lang)} -> "
                                         f"{end_text(spec, spec.planning.high, lang)}", 16))
            columns[keys[3]].append(f"{pct(row['probability_at_low'])} -> {pct(row['probability_at_high'])}")
            columns[keys[4]].append(f"{100 * row['effect']:+.1f} [{100 * row['effect_low']:+.1f}, "
                                    f"{100 * row['effect_high']:+.1f}]")
        blocks.append("\n".join(wrap(head, indent="", hang="  ")) + "\n"
                      + format_table(columns, right=(keys[0], keys[3], keys[4])))
    return "\n\n".join(blocks)


def cmd_levers(args) -> int:
    targets = chosen_targets(args)
    specs = planned_levers(args.levers)  # an unknown or unranked lever: one line, exit 2
    scenario = with_observed([load_scenario(args.scenario, tuple(args.scenario_path))], args)[0]
    out = args.out or Path("runs") / f"{scenario.name}-levers"
    lang = args.lang or default_lang()
    out = analysis_out(out)
    with progress_bar(len(specs), "moving levers", " levers") as bar:
        ranking = rank_levers(scenario, args.replications, args.seed, targets, [s.key for s in specs],
                              workers=args.workers, progress=bar.update)
    manifest = analysis_manifest("levers", ranking.base, {"targets": targets, "levers": [s.key for s in specs]})
    figures = {f"tornado.{code}": tornado(ranking.table, targets, lang=code) for code in ("zh", "en")}
    try:
        kept = analysis_kept(out)
        saved = save_analysis(out, manifest, {"levers.csv": ranking.table}, figures, keep_previous=kept)
    except (WriteError, OutDirError) as exc:
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
    print_kept(lang, "analysis", kept)
    return 0


def add_goal_parser(sub) -> None:
    """The ``goal`` command."""
    goal = sub.add_parser("goal", help="how far a lever must go for a target's likelihood to reach a level "
                                       "(common random numbers, bisection, a confirming interval; goal.json)")
    goal.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    goal.add_argument("lever", metavar="MODULE.LEVER")
    goal.add_argument("--target", required=True, metavar="ID", help="a modelled target id")
    goal.add_argument("--probability", type=float, default=0.8, help="the likelihood to reach (default 0.8)")
    goal.add_argument("--within", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                      help="search range (default: the lever's planning range; inside the range the lever allows)")
    goal.add_argument("--out", type=Path, default=None, help="output directory for goal.json "
                                                             "(default runs/<name>-goal-<lever>)")
    add_sampling_options(goal, "replications of the scenario's run, on which the lever is moved")
    add_common_options(goal)
    add_observed_option(goal)
    add_lang_option(goal)


def goal_lines(goal, lang: str) -> list[str]:
    """What ``goal`` found, in plain sentences of ``lang``."""
    spec = lever_specs()[goal.lever]
    target = next(t for t in load_registry() if t.id == goal.target)
    zh = lang == "zh"
    name = plain_name(spec.about.zh if zh else spec.about.en)
    unit = unit_label(spec.about.unit, lang, after_number=True)
    level, p = pct(goal.target_probability), pct(goal.probability)
    band = f"{pct(goal.probability_low)}–{pct(goal.probability_high)}"
    lines = [f"目标：{target.name_zh}（{target.deadline.year}年）达标可能性达到 {level}" if zh else
             f"goal: {target.name_en} ({target.deadline.year}) met with a likelihood of {level}",
             f"措施：{name}，搜索范围 {goal.low:g}–{goal.high:g} {unit}" if zh else
             f"measure: {name}, searched over {goal.low:g}-{goal.high:g} {unit}"]
    if not goal.reachable:
        end = goal.high if goal.direction == "increase" else goal.low
        lines.append(f"结果：在此范围内无法达到；{end:g} 时仅 {p}（95% 区间 {band}）" if zh else
                     f"result: not reachable within the range; at {end:g} only {p} (95 % interval {band})")
        return lines
    other = goal.value - goal.resolution if goal.direction == "increase" else goal.value + goal.resolution
    lines.append(f"结果：{goal.value:g} {unit}时达到 {p}（95% 区间 {band}），{other:g} 时未达到" if zh else
                 f"result: {goal.value:g} {unit} reaches {p} (95 % interval {band}); {other:g} does not")
    if not goal.confident:
        lines.append("注意：区间下限低于目标可能性，增加模拟次数可使结论更可靠" if zh else
                     "note: the interval reaches below the level; more replications would settle it")
    if goal.cost is not None:
        amount = f"{goal.cost:,.0f} {unit_label(goal.cost_unit, lang, after_number=True)}"
        if spec.planning.cost == "value":
            lines.append(f"成本：{amount}" if zh else f"cost: {amount}")
        else:  # an outlay indicator, summed over the plan's years, median over replications
            what = indicator_spec(spec.planning.cost)
            lines.append(f"成本：{what.zh}2017–2020年合计 {amount}（中位数）" if zh else
                         f"cost: {what.en}, 2017-2020 in all, {amount} (median)")
    return lines


def cmd_goal(args) -> int:
    check_target_ids([args.target], "--target")
    scenario = with_observed([load_scenario(args.scenario, tuple(args.scenario_path))], args)[0]
    spec_check = {"probability": args.probability}
    if not 0.0 < args.probability < 1.0:
        raise UsageError(f"--probability: must lie strictly between 0 and 1, found {args.probability:g}")
    search_range(lever_spec(args.lever), args.within)  # a bad lever or range: one line, exit 2, before running
    out = args.out or Path("runs") / f"{scenario.name}-goal-{args.lever.rpartition('.')[2]}"
    out = analysis_out(out)
    with progress_bar(0, "seeking", " runs") as bar:
        base = simulate(scenario, args.replications, args.seed, workers=args.workers, stream=False)
        goal = seek_goal(scenario, args.lever, args.target, args.probability, within=args.within, base=base,
                         progress=bar.update)
    manifest = analysis_manifest("goal", base, {"lever": args.lever, "target": args.target, **spec_check,
                                                "within": args.within})
    try:
        kept = analysis_kept(out)
        saved = save_analysis(out, manifest, documents={"goal.json": goal.as_dict()}, keep_previous=kept)
    except (WriteError, OutDirError) as exc:
        raise UsageError(str(exc)) from exc
    lang = args.lang or default_lang()
    zh = lang == "zh"
    title = (f"目标倒推：{scenario.name}，{args.replications:,} 次模拟，种子 {args.seed}，共同随机数" if zh else
             f"What it takes: {scenario.name}, {args.replications:,} replications, seed {args.seed}, common random "
             "numbers")
    print("\n" + "\n".join(wrap(title, indent="== ", hang="")))
    for line in goal_lines(goal, lang):
        print("\n".join(wrap(line)))
    print("\n".join(wrap(f"{'已保存至' if zh else 'saved to'} {saved}/ (goal.json, manifest.json)")))
    print_kept(lang, "analysis", kept)
    return 0
