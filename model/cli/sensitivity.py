"""``python -m model sensitivity``: which uncertainties drive each target (Sobol' or Morris, by SALib)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from ..analysis import analysis_manifest, save_analysis
from ..atomic import OutDirError, WriteError
from ..console import format_table, wrap
from ..engine import DEFAULT_SEED
from ..readable import cut as _cut
from ..report.sensitivity_charts import factor_label, sensitivity_chart
from ..results import Results, _meta
from ..scenario import load_scenario
from ..sensitivity import DEFAULT_N, GROUPINGS, METHODS, NOISE, check_n, factors, runs_needed, sensitivity
from ..targets import load_registry
from .common import (
    UsageError,
    add_lang_option,
    add_scenario_path,
    analysis_kept,
    analysis_out,
    chosen_targets,
    default_lang,
    positive,
    print_kept,
    progress_bar,
    seed_value,
)

FACTOR_WIDTH = 28  # display columns of a factor's name in the terminal table (80 columns in all)


def add_sensitivity_parser(sub) -> None:
    """The ``sensitivity`` command."""
    p = sub.add_parser("sensitivity", help="global sensitivity: Sobol' indices (or Morris screening) of each target "
                                           "to the scenario's uncertainties, by module (sensitivity.csv, chart)")
    p.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    p.add_argument("--method", choices=METHODS, default="sobol", help="sobol (default) or morris")
    p.add_argument("--targets", nargs="+", default=None, metavar="ID",
                   help="target ids (default: the three headline goals of 2020)")
    p.add_argument("--n", type=positive("n"), default=None,
                   help=f"Sobol': base sample, a power of two (default {DEFAULT_N['sobol']}; n (groups + 3) runs); "
                        f"Morris: trajectories (default {DEFAULT_N['morris']}; n (groups + 1) runs)")
    p.add_argument("--groups", choices=GROUPINGS, default="module",
                   help="module (default): one factor per plan module; none: every uncertainty (few only)")
    p.add_argument("--top", type=int, default=5, help="factors printed per target (default 5; all are saved)")
    p.add_argument("--out", type=Path, default=None, help="output directory (default runs/<name>-sensitivity)")
    p.add_argument("--seed", type=seed_value, default=DEFAULT_SEED,
                   help=f"seed of the sample, the module streams and the bootstrap (default {DEFAULT_SEED})")
    add_scenario_path(p)
    add_lang_option(p)


def _index(value: float, conf: float) -> str:
    return "" if pd.isna(value) else f"{value:.2f}+-{conf:.2f}"


def sensitivity_text(result, targets, lang: str, top: int) -> str:
    """Per target, the ``top`` factors by their effect on the deadline value, with the indices of
    the value and of the met indicator (Sobol': S1 and ST; Morris: mu* of the value, of met)."""
    registry = {t.id: t for t in load_registry()}
    zh, table = lang == "zh", result.table
    sobol = result.method == "sobol"
    blocks = []
    for target_id in targets:
        target = registry[target_id]
        head = f"{target.name_zh}（{target.deadline.year}年）" if zh else f"{target.name_en} ({target.deadline.year})"
        value = table[(table["target_id"] == target_id) & (table["output"] == "value")].set_index("factor")
        met = table[(table["target_id"] == target_id) & (table["output"] == "met")].set_index("factor")
        order = value.sort_values("ST" if sobol else "mu_star", ascending=False, na_position="last").index[:top]
        if sobol:
            names = ["#", "因素" if zh else "factor", "数值 S1" if zh else "value S1", "数值 ST" if zh else "value ST",
                     "达标 S1" if zh else "met S1", "达标 ST" if zh else "met ST"]
        else:
            names = ["#", "因素" if zh else "factor", "数值 mu*" if zh else "value mu*",
                     "达标 mu*" if zh else "met mu*"]
        columns: dict[str, list[str]] = {k: [] for k in names}
        for rank, factor in enumerate(order, 1):
            cells = [str(rank), _cut(factor_label(factor, lang), FACTOR_WIDTH)]
            if sobol:
                cells += [_index(value.at[factor, "S1"], value.at[factor, "S1_conf"]),
                          _index(value.at[factor, "ST"], value.at[factor, "ST_conf"]),
                          _index(met.at[factor, "S1"], met.at[factor, "S1_conf"]),
                          _index(met.at[factor, "ST"], met.at[factor, "ST_conf"])]
            else:
                cells += [_index(value.at[factor, "mu_star"], value.at[factor, "mu_star_conf"]),
                          _index(met.at[factor, "mu_star"], met.at[factor, "mu_star_conf"])]
            for k, cell in zip(names, cells):
                columns[k].append(cell)
        text = "\n".join(wrap(head, indent="", hang="  ")) + "\n" + format_table(columns, right=(names[0], *names[2:]))
        if sobol and len(result.unexplained):
            rest = result.unexplained[result.unexplained["target_id"] == target_id].set_index("output")["unexplained"]
            text += "\n" + "\n".join(wrap(
                f"各组单独未能解释的方差（1 − ΣS1）：数值 {rest['value']:.2f}，达标 {rest['met']:.2f}" if zh else
                f"variance no group explains alone (1 - sum S1): value {rest['value']:.2f}, met {rest['met']:.2f}",
                indent="  "))
        blocks.append(text)
    return "\n\n".join(blocks)


def cmd_sensitivity(args) -> int:
    targets = chosen_targets(args)
    n = DEFAULT_N[args.method] if args.n is None else args.n
    try:
        check_n(args.method, n)
    except ValueError as exc:
        raise UsageError(f"--n: {exc}") from None
    scenario = load_scenario(args.scenario, tuple(args.scenario_path))
    try:
        space = factors(scenario, args.groups)
    except ValueError as exc:
        raise UsageError(f"--groups: {exc}") from None
    out = args.out or Path("runs") / f"{scenario.name}-sensitivity"
    lang = args.lang or default_lang()
    out = analysis_out(out)
    started = time.time()
    with progress_bar(runs_needed(args.method, n, len(space.group_names)), args.method, " runs") as bar:
        result = sensitivity(scenario, args.method, targets, n, args.seed, args.groups, progress=bar.update)
    base = Results(scenario, args.seed, result.runs, {}, {}, {}, meta=_meta(1, started, time.time()))
    manifest = analysis_manifest("sensitivity", base, {
        "method": args.method, "targets": targets, "n": n, "groups": args.groups, "runs": result.runs,
        "factors": dict(zip(space.names, space.groups)), "noise_factor": NOISE if args.method == "sobol" else None,
        "unexplained": result.unexplained.to_dict("records")})
    figures = {f"sensitivity.{code}": sensitivity_chart(result.table, targets, method=args.method, lang=code)
               for code in ("zh", "en")}
    try:
        kept = analysis_kept(out)
        saved = save_analysis(out, manifest, {"sensitivity.csv": result.table}, figures, keep_previous=kept)
    except (WriteError, OutDirError) as exc:
        raise UsageError(str(exc)) from exc
    zh = lang == "zh"
    what = "Sobol 指数" if args.method == "sobol" and zh else "Morris 筛选" if zh else \
        "Sobol' indices" if args.method == "sobol" else "Morris screening"
    title = (f"全局敏感性（{what}）：{scenario.name}，n = {n}，{result.runs:,} 次模型运行，种子 {args.seed}" if zh else
             f"Global sensitivity ({what}): {scenario.name}, n = {n}, {result.runs:,} model runs, seed {args.seed}")
    print("\n" + "\n".join(wrap(title, indent="== ", hang="")))
    print(sensitivity_text(result, targets, lang, args.top) + "\n")
    if args.method == "sobol":
        note = ("S1：该组单独解释的方差占比；ST：含交互作用的总占比（+-：自助法 95% 区间半宽）。"
                "“模块内随机事件”不归于任何输入，其占比也包含在每组的 ST 中。" if zh else
                "S1: the share of variance a group explains alone; ST: with its interactions (+-: half-width of the "
                "bootstrap 95 % interval). The modules' random events belong to no input; their share is also in "
                "every group's ST.")
    else:
        note = ("mu*：输入在其分布内移动一格时结果的平均绝对变化（+-：自助法 95% 区间半宽）。" if zh else
                "mu*: the mean absolute change of the output for one step of an input through its distribution "
                "(+-: half-width of the bootstrap 95 % interval).")
    print("\n".join(wrap(note)))
    print("\n".join(wrap(f"{'已保存至' if zh else 'saved to'} {saved}/ (sensitivity.csv, "
                         "sensitivity.zh/en.png/svg, manifest.json)")))
    print_kept(lang, "analysis", kept)
    return 0
