"""Command line: ``python -m model {run,compare,brief,validate,targets,params}``.

Exit status: 0 success, 2 bad input (one clear line on stderr, nothing written), 1 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .params import all_params
from .reference import toml_value
from .scenario import Scenario, ScenarioError, load_scenario
from .targets import load_registry
from .timeline import YEARS
from .views import PLANS

HEADLINE = (
    "green.energy_intensity_cut.2017",
    "green.energy_intensity_cut.2018",
    "green.energy_intensity_cut.2020",
    "techreform.investment_share.2017",
    "techreform.investment_share.2018",
    "techreform.investment_share.2020",
    "overcapacity.zombie_disposed.2018",
    "overcapacity.zombie_disposed.2019",
)


class UsageError(Exception):
    """A bad command-line value (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the option, with exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _positive(kind: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be a whole number, found {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{kind} must be at least 1, found {value}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be >= 0, found {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m model", description="Likelihood of meeting the targets of Jiyuan's 2017 industrial action plans.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate scenario files and save their results")
    run.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO.toml")
    run.add_argument("--replications", "-n", type=_positive("replications"), default=DEFAULT_REPLICATIONS,
                     help=f"replications per scenario (default {DEFAULT_REPLICATIONS}: about +/-1 point of Monte Carlo error)")
    run.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    run.add_argument("--out", type=Path, default=None,
                     help="output directory (default runs/<name>); with several scenarios, the parent of one directory per scenario")
    run.add_argument("--workers", "-j", type=_positive("workers"), default=1, help="processes to run in (default 1)")
    run.add_argument("--chunk-size", type=_positive("chunk size"), default=None, help="replications per task (results do not depend on it)")
    run.add_argument("--xlsx", action="store_true", help="also write results.xlsx (Excel, Chinese headers) into each run directory")
    run.add_argument("--all", action="store_true", help="print every target, not only the modelled ones")
    run.add_argument("--by-department", action="store_true",
                     help="also print each responsible unit's targets, lowest likelihood first (always saved in departments.csv)")

    compare = sub.add_parser("compare", help="compare scenario files (run with common random numbers) or saved runs, target by target")
    compare.add_argument("items", nargs="+", type=Path, metavar="SCENARIO.toml|RUN_DIR", help="the first is the reference")
    compare.add_argument("--replications", "-n", type=_positive("replications"), default=None,
                         help=f"replications for scenario files (default: the saved runs', else {DEFAULT_REPLICATIONS})")
    compare.add_argument("--seed", type=_seed, default=None, help=f"random seed for scenario files (default: the saved runs', else {DEFAULT_SEED})")
    compare.add_argument("--out", type=Path, default=None, help="output directory (default runs/compare-<name1>-<name2>...)")
    compare.add_argument("--workers", "-j", type=_positive("workers"), default=1, help="processes to run in (default 1)")
    compare.add_argument("--xlsx", action="store_true", help="also write comparison.xlsx (Excel, Chinese headers)")
    compare.add_argument("--all", action="store_true", help="print district targets too")

    brief = sub.add_parser("brief", help="write the policy brief (HTML, PDF) of a saved run or comparison")
    brief.add_argument("source", type=Path, metavar="RUN_OR_COMPARISON_DIR")
    brief.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the brief (default zh)")
    brief.add_argument("--format", default="html,pdf", help="comma-separated: html, pdf (default html,pdf)")
    brief.add_argument("--out", type=Path, default=None,
                       help="output file; its suffix is set per format (default: brief.<lang>.<format> inside the directory)")

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO.toml")

    targets = sub.add_parser("targets", help="print the target registry")
    targets.add_argument("--plan", choices=sorted({t.plan for t in load_registry()}))
    targets.add_argument("--lang", choices=("zh", "en"), default="en")

    params = sub.add_parser("params", help="print the levers and uncertainties a scenario can set")
    params.add_argument("module", nargs="?", choices=sorted(all_params()))
    params.add_argument("--markdown", action="store_true", help="print the full scenario-file reference as Markdown (docs/scenario-reference.md)")
    return parser


def _load_all(paths: list[Path]) -> list[Scenario]:
    scenarios = [load_scenario(p) for p in paths]
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"several scenario files are named {dupes[0]!r} in [scenario] name; give each a distinct name")
    return scenarios


def _out_dirs(scenarios: list[Scenario], out: Path | None) -> list[Path]:
    if out is None:
        dirs = [Path("runs") / s.name for s in scenarios]
    elif len(scenarios) == 1:
        dirs = [out]
    else:
        dirs = [out / s.name for s in scenarios]
    for d in dirs:
        for parent in [d, *d.parents]:
            if parent.exists() and not parent.is_dir():
                raise UsageError(f"--out: {parent} exists and is not a directory; choose another path")
        if d.exists() and any(d.iterdir()) and not (d / "manifest.json").exists():
            raise UsageError(f"--out: {d} is a non-empty directory that is not a run; choose another path so nothing is overwritten")
        existing = next(p for p in [d, *d.parents] if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise UsageError(f"--out: cannot write in {existing}; choose a directory you can write to")
    return dirs


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(columns: dict[str, list[str]], right: tuple[str, ...] = ()) -> str:
    """Plain-text table; text columns left-aligned, ``right`` columns right-aligned."""
    widths = {name: max([_width(name)] + [_width(v) for v in values]) for name, values in columns.items()}

    def cell(name: str, value: str) -> str:
        pad = " " * (widths[name] - _width(value))
        return pad + value if name in right else value + pad

    names = list(columns)
    lines = ["  ".join(cell(n, n) for n in names).rstrip()]
    for i in range(len(columns[names[0]]) if names else 0):
        lines.append("  ".join(cell(n, columns[n][i]) for n in names).rstrip())
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{100 * x:.1f}%"


def _interval(low: float, high: float) -> str:
    if pd.isna(low):
        return ""
    fmt = (lambda v: f"{100 * v:.2f}") if high < 0.01 or low > 0.99 else (lambda v: f"{100 * v:.1f}")
    return f"{fmt(low)}-{fmt(high)}"


def _value(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _table(summary: pd.DataFrame, show_all: bool) -> str:
    rows = summary if show_all else summary[
        (summary["status"] != "not modelled") & ~summary["target_id"].str.contains(".district.", regex=False)
    ]
    lines = format_table({
        "target": list(rows["target_id"]),
        "deadline": list(rows["deadline"]),
        "test": list(rows["test"]),
        "likelihood": [_pct(p) for p in rows["probability"]],
        "95% interval": [_interval(lo, hi) for lo, hi in zip(rows["probability_low"], rows["probability_high"])],
        "median": [_value(v) for v in rows["median"]],
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


def _outlay(results) -> str:
    """What the tech-renovation post-subsidy costs: median and 10-90 % per year [亿元]."""
    outlay = results.indicators["techreform.subsidy_outlay"] / 1e4  # 万元 -> 亿元
    parts = []
    for j, year in enumerate(YEARS[1:], start=1):
        p10, p50, p90 = np.nanquantile(outlay[:, j], [0.1, 0.5, 0.9])
        parts.append(f"{year} {p50:.2f} ({p10:.2f}-{p90:.2f})")
    return "tech-renovation post-subsidy outlay, 亿元 median (10-90 %): " + ", ".join(parts)


def _decomposition(results) -> str:
    """Energy-intensity cut by 2020 split into structure and efficiency effects (medians)."""
    last = len(YEARS) - 1
    total, structure, efficiency = (
        float(np.nanmedian(results.indicators[f"green.{k}"][:, last]))
        for k in ("energy_intensity_cut", "structure_effect", "efficiency_effect")
    )
    return (f"energy-intensity cut by {YEARS[last]}, medians: {total:.1f} % in all; structural shift "
            f"{structure:.1f} %, efficiency within sectors {efficiency:.1f} % (they combine multiplicatively)")


def _joint(results) -> list[str]:
    """The plans as a whole: joint likelihoods and how many plan-level targets are met."""
    j = results.joint().set_index("view")
    count = j.loc["met_count"]
    plans = [f"{view.split('.', 1)[1]} {_pct(row.probability)}" + ("" if row.modelled == row.targets else f" ({int(row.modelled)}/{int(row.targets)} modelled)")
             for view, row in j.iterrows() if view.startswith("plan.") and row.modelled]
    head = j.loc["headline_2020"]
    return [
        f"plan-level targets met: mean {count['mean']:.1f} of {int(count['modelled'])} modelled (10-90 %: {count['p10']:.0f}-{count['p90']:.0f})",
        "every target of a plan met: " + ", ".join(plans),
        f"the three headline goals of 2020 together: {_pct(head['probability'])} ({_interval(head['probability_low'], head['probability_high'])})",
    ]


def _by_department(results) -> str:
    """Each responsible unit's plan-level targets, lowest likelihood first; district rows summed up."""
    out = []
    for unit, rows in results.departments().groupby("unit", sort=False):
        plan_level = rows[~rows["target_id"].str.contains(".district.", regex=False)]
        district = rows[rows["target_id"].str.contains(".district.", regex=False)]
        modelled = rows["probability"].notna()
        red = int((rows["status"] == "red").sum())
        out.append(f"\n-- {unit} {rows['unit_en'].iloc[0]}: {len(rows)} targets, {int(modelled.sum())} modelled, {red} red")
        if len(plan_level):
            out.append(format_table({
                "target": list(plan_level["target_id"]),
                "role": list(plan_level["role"]),
                "deadline": list(plan_level["deadline"]),
                "test": list(plan_level["test"]),
                "likelihood": [_pct(p) for p in plan_level["probability"]],
                "95% interval": [_interval(lo, hi) for lo, hi in zip(plan_level["probability_low"], plan_level["probability_high"])],
                "status": list(plan_level["status"]),
            }, right=("likelihood", "95% interval")))
        if len(district):
            low = district.iloc[0]
            out.append(f"   + {len(district)} district targets: mean likelihood {_pct(district['probability'].mean())}, lowest {low['target_id']} {_pct(low['probability'])}")
    return "\n".join(out)


def cmd_run(args) -> int:
    scenarios = _load_all(args.scenarios)
    dirs = _out_dirs(scenarios, args.out)
    headline = {}
    for scenario, out in zip(scenarios, dirs):
        print(f"\n== {scenario.name}: {scenario.title_zh} / {scenario.title_en}")
        print(f"   {args.replications} replications, seed {args.seed}, {args.workers} worker(s)")
        results = simulate(scenario, args.replications, args.seed, workers=args.workers,
                           chunk_size=args.chunk_size, progress=True)
        summary = results.summary()
        try:
            saved = results.save(out)
        except OSError as exc:
            raise UsageError(f"--out: cannot write the run to {out} ({exc.strerror or exc}); nothing was saved") from exc
        if args.xlsx:
            from .report.excel import write_workbook

            write_workbook(saved / "results.xlsx", [results])
        districts = summary[summary["target_id"].str.contains(".district.", regex=False) & (summary["status"] != "not modelled")]
        not_modelled = int((summary["status"] == "not modelled").sum())
        print(_table(summary, args.all))
        if len(districts) and not args.all:
            print(f"   + {len(districts)} district targets: mean likelihood {100 * districts['probability'].mean():.1f}% (all in summary.csv)")
        print("   " + _outlay(results))
        print("   " + _decomposition(results))
        for line in _joint(results):
            print("   " + line)
        if not_modelled:
            print(f"   {not_modelled} targets are not modelled yet (listed in summary.csv without a likelihood)")
        if args.by_department:
            print(f"\n== {scenario.name}: targets by responsible unit (责任单位), lowest likelihood first")
            print(_by_department(results))
        print(f"   saved to {saved}/  ({results.meta['seconds']:.1f} s)")
        joint = results.joint().set_index("view")
        headline[scenario.name] = [
            _pct(p) + ("*" if target in scenario.thresholds else "")
            for target, p in summary.set_index("target_id").loc[list(HEADLINE), "probability"].items()
        ] + [_pct(joint.loc["headline_2020", "probability"]),
             f"{joint.loc['met_count', 'mean']:.1f} of {int(joint.loc['met_count', 'modelled'])}"]
    if len(scenarios) > 1:
        print("\n== Headline goals: likelihood of meeting each target by its deadline")
        columns = {"target": list(HEADLINE) + ["three goals together (2020; zombies 2019)", "plan-level targets met (mean)"]}
        columns.update(headline)
        print(format_table(columns, right=tuple(headline)))
        if any(s.thresholds.keys() & set(HEADLINE) for s in scenarios):
            print("   * this scenario changed the target's threshold (a reading); see its summary table")
    return 0


def cmd_validate(args) -> int:
    """Check every file (not only up to the first bad one); exit 2 if any is bad."""
    bad = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
            continue
        chain = " <- ".join(Path(f).name for f in reversed(scenario.files))
        print(f"ok  {path}  ({scenario.name}: {chain}; {len(scenario.overridden)} values set, hash {scenario.hash()[:12]})")
    return 2 if bad else 0


def cmd_targets(args) -> int:
    chosen = [t for t in load_registry() if not args.plan or t.plan == args.plan]
    print(format_table({
        "id": [t.id for t in chosen],
        "name": [t.name_zh if args.lang == "zh" else t.name_en for t in chosen],
        "deadline": [t.deadline.isoformat() for t in chosen],
        "test": [t.test() + (" (reading)" if t.reading else "") for t in chosen],
        "modelled by": [t.indicator if t.modelled else "not modelled yet" for t in chosen],
        "responsible": ["、".join(t.responsible) for t in chosen],
    }))
    modelled = sum(1 for t in load_registry() if t.modelled)
    print(f"\n{len(load_registry())} targets, {modelled} modelled")
    return 0


def cmd_params(args) -> int:
    if args.markdown:
        from .reference import markdown

        print(markdown(), end="")
        return 0
    for name, declared in all_params().items():
        if args.module and name != args.module:
            continue
        print(f"\n[levers.{name}]")
        for spec in declared.levers.values():
            origin = "source" if spec.about.source else "assumption"
            extra = " (yearly schedule allowed)" if spec.schedule else ""
            print(f"  {spec.name} = {toml_value(spec.default)}  [{spec.about.unit}]{extra}  {spec.about.en} / {spec.about.zh}  ({origin})")
        print(f"\n[uncertainties.{name}]")
        for spec in declared.uncertainties.values():
            origin = "source" if spec.about.source else "assumption"
            print(f"  {spec.name} = {spec.default.describe()}  [{spec.about.unit}]  {spec.about.en} / {spec.about.zh}  ({origin})")
    return 0


def cmd_compare(args) -> int:
    # model.compare is the function (model/__init__.py): import the module's names directly
    from .compare import (
        CompareError,
        build_comparison,
        check_out_dir,
        default_out,
        display_columns,
        load_items,
        save_comparison,
    )
    from .runs import RunError

    out = args.out
    try:
        items = load_items(args.items)
        out = check_out_dir(args.out or default_out(items))
        comparison = build_comparison(items, args.replications, args.seed, workers=args.workers)
        saved = save_comparison(comparison, out, xlsx=args.xlsx)
    except (CompareError, RunError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the comparison to {out} ({exc.strerror or exc}); nothing was saved") from exc
    names = comparison.names
    print(f"\n== Comparison: {', '.join(names[1:])} against {names[0]} (reference)")
    print(f"   {comparison.replications} replications, seed {comparison.seed}: common random numbers, so changes are paired")
    columns, right, hidden = display_columns(comparison.table, show_all=args.all)
    print(format_table(columns, right=right))
    print("   * the 10 targets whose likelihood changes most (largest |change| first); change in percentage points,")
    print("     95 % paired interval (Newcombe's hybrid score interval for paired proportions)")
    if hidden:
        print(f"   + {hidden} district targets (all in comparison.csv; --all prints them)")
    print(f"   saved to {saved}/  (comparison.csv, runs/<name>/{', comparison.xlsx' if args.xlsx else ''}, manifest.json)")
    return 0


def cmd_brief(args) -> int:
    from .report.brief import FORMATS, make_brief
    from .runs import RunError

    formats = tuple(dict.fromkeys(f.strip().lower() for f in args.format.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"--format: expected some of {', '.join(FORMATS)} separated by commas, found {args.format!r}")
    try:
        paths = make_brief(args.source, lang=args.lang, formats=formats, out=args.out)
    except RunError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot write the brief ({exc.strerror or exc}); choose another --out") from exc
    for path in paths:
        print(f"written {path}")
    return 0


COMMANDS = {"brief": cmd_brief, "compare": cmd_compare, "run": cmd_run, "validate": cmd_validate, "targets": cmd_targets, "params": cmd_params}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the run in progress was not saved (finished ones were)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:  # our bug, not the user's: say so and show where
        traceback.print_exc()
        print("internal error: this is a bug in the model, please report it with the command above", file=sys.stderr)
        return 1
