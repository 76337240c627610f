"""``python -m model discover``: in which circumstances a target mostly fails (PRIM)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis import analysis_manifest, save_analysis
from ..atomic import OutDirError, WriteError
from ..console import format_table, wrap
from ..discover import THRESHOLD, box_display, box_sentence, discover
from ..engine import simulate
from ..readable import cut as _cut
from ..report.discover_chart import discovery_chart
from ..scenario import load_scenario
from ..targets import load_registry
from .common import (
    UsageError,
    add_common_options,
    add_lang_option,
    add_observed_option,
    add_sampling_options,
    analysis_kept,
    analysis_out,
    check_target_ids,
    default_lang,
    observed_line,
    print_kept,
    progress_bar,
    with_observed,
)

NAME_WIDTH = 34  # display columns of an uncertainty's name in the terminal table (80 in all)


def density(text: str) -> float:
    """``--threshold``: a density strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"threshold must be a number, found {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"threshold must lie strictly between 0 and 1, found {text}")
    return value


def add_discover_parser(sub) -> None:
    """The ``discover`` command."""
    cmd = sub.add_parser("discover", help="why a target fails: the box of uncertainties in which it mostly fails "
                                          "(PRIM scenario discovery; discover.csv, chart)")
    cmd.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    cmd.add_argument("--target", required=True, metavar="ID", help="a modelled target id")
    cmd.add_argument("--threshold", type=density, default=THRESHOLD, metavar="DENSITY",
                     help=f"share of a box's replications that must fail (default {THRESHOLD})")
    cmd.add_argument("--out", type=Path, default=None, help="output directory (default runs/<name>-discover-<target>)")
    add_sampling_options(cmd, "replications of the scenario's run")
    add_common_options(cmd)
    add_observed_option(cmd)
    add_lang_option(cmd)


def discover_text(found, lang: str) -> str:
    """The sentence, wrapped, and the box as a table fitting 80 columns."""
    lines = wrap(found.sentence(lang))
    table = box_display(found, lang)
    if len(table):
        name = table.columns[0]
        table[name] = [_cut(v, NAME_WIDTH) for v in table[name]]
        columns = {c: list(table[c]) for c in table.columns}
        lines += ["", format_table(columns, right=tuple(table.columns[1:]))]
    return "\n".join(lines)


def cmd_discover(args) -> int:
    check_target_ids([args.target], "--target")
    scenario = with_observed([load_scenario(args.scenario, tuple(args.scenario_path))], args)[0]
    out = args.out or Path("runs") / f"{scenario.name}-discover-{args.target}"
    lang = args.lang or default_lang()
    out = analysis_out(out)
    with progress_bar(2, "simulating, then PRIM", " steps") as bar:
        base = simulate(scenario, args.replications, args.seed, workers=args.workers, stream=False)
        bar.update()
        found = discover(base, args.target, threshold=args.threshold)
        bar.update()
    manifest = analysis_manifest("discover", base, {"target": args.target, "threshold": args.threshold,
                                                    "density_threshold": found.density_threshold,
                                                    "replications_in_prim": found.replications,
                                                    "resampled": found.resampled, "dropped": found.dropped,
                                                    "sentences": {c: box_sentence(found, c) for c in ("zh", "en")}})
    figures = {f"discover.{code}": discovery_chart(found, lang=code) for code in ("zh", "en")}
    try:
        kept = analysis_kept(out)
        saved = save_analysis(out, manifest, {"discover.csv": found.csv()}, figures, keep_previous=kept)
    except (WriteError, OutDirError) as exc:
        raise UsageError(str(exc)) from exc
    zh = lang == "zh"
    target = next(t for t in load_registry() if t.id == args.target)
    name = f"{target.name_zh}（{target.deadline.year}年）" if zh else f"{target.name_en} ({target.deadline.year})"
    title = (f"为何落空：{name}，{scenario.name}，{args.replications:,} 次模拟，种子 {args.seed}" if zh else
             f"Why it fails: {name}, {scenario.name}, {args.replications:,} replications, seed {args.seed}")
    print("\n" + "\n".join(wrap(title, indent="== ", hang="")))
    conditioned = observed_line(base)
    if conditioned:
        print(conditioned)
    print(discover_text(found, lang) + "\n")
    notes = [f"PRIM（ema_workbench）；框：密度不低于 {found.density_threshold:.0%} 的框中覆盖率最高者；只保留"
             "准 p 值低于 0.05 的限制" if zh else
             f"PRIM (ema_workbench); box: the largest coverage among boxes at least {found.density_threshold:.0%} "
             "dense; only limits with a quasi-p-value below 0.05 kept"]
    if found.resampled:
        notes.append(f"已按权重重抽 {found.replications:,} 次模拟（有效模拟次数）" if zh else
                     f"replications resampled by weight: {found.replications:,} (the effective count)")
    if not found.reached:
        notes.append(f"没有框达到 {found.density_threshold:.0%} 的密度，报告的是最密的框" if zh else
                     f"no box reaches a density of {found.density_threshold:.0%}: the densest is reported")
    for note in notes:
        print("\n".join(wrap(note)))
    print("\n".join(wrap(f"{'已保存至' if zh else 'saved to'} {saved}/ (discover.csv, discover.zh/en.png/svg, "
                         "manifest.json)")))
    print_kept(lang, "analysis", kept)
    return 0
