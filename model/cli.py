"""Command line: ``python -m model {run,compare,sweep,brief,validate,targets,params}``.

Exit status: 0 success, 2 bad input (one clear line on stderr, nothing written), 1 internal error.
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from .atomic import OutDirError, check_replaceable
from .compare import (  # model.compare is also the function (model/__init__.py): import names
    CompareError,
    build_comparison,
    check_out_dir,
    default_out,
    display_columns,
    load_items,
    save_comparison,
)
from .console import (
    by_department,
    decomposition,
    drivers_text,
    format_table,
    joint_lines,
    outlay,
    pct,
    summary_table,
    sweep_text,
)
from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, check_budget, simulate
from .params import all_params
from .plans import HEADLINE, HEADLINE_2020
from .reference import markdown, toml_value
from .report.brief import FORMATS, make_brief
from .report.excel import write_workbook
from .report.i18n import test_text
from .runs import RunError
from .scenario import Scenario, ScenarioError, load_scenario
from .sweep import parse_value, sweep, sweep_table
from .targets import load_registry


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
    run.add_argument("--drivers", nargs="*", metavar="TARGET_ID", default=None,
                     help="also print the uncertainties that move these targets' likelihood most "
                          "(default: the three goals of 2020; always saved in drivers.csv)")

    compare = sub.add_parser("compare", help="compare scenario files (run with common random numbers) or saved runs, target by target")
    compare.add_argument("items", nargs="+", type=Path, metavar="SCENARIO.toml|RUN_DIR", help="the first is the reference")
    compare.add_argument("--replications", "-n", type=_positive("replications"), default=None,
                         help=f"replications for scenario files (default: the saved runs', else {DEFAULT_REPLICATIONS})")
    compare.add_argument("--seed", type=_seed, default=None, help=f"random seed for scenario files (default: the saved runs', else {DEFAULT_SEED})")
    compare.add_argument("--out", type=Path, default=None, help="output directory (default runs/compare-<name1>-<name2>...)")
    compare.add_argument("--workers", "-j", type=_positive("workers"), default=1, help="processes to run in (default 1)")
    compare.add_argument("--xlsx", action="store_true", help="also write comparison.xlsx (Excel, Chinese headers)")
    compare.add_argument("--all", action="store_true", help="print district targets too")

    sweep = sub.add_parser("sweep", help="run a scenario at several values of one lever (common random numbers)")
    sweep.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    sweep.add_argument("lever", metavar="LEVER", help="module.name of a lever, e.g. techreform.subsidy_rate (see `params`)")
    sweep.add_argument("values", nargs="+", metavar="VALUE",
                       help="values to try: numbers, true/false or a choice (put -- before a negative first value)")
    sweep.add_argument("--targets", nargs="+", metavar="TARGET_ID", default=None,
                       help="targets to print (default: the 12 whose likelihood varies most; all are saved in sweep.csv)")
    sweep.add_argument("--replications", "-n", type=_positive("replications"), default=DEFAULT_REPLICATIONS,
                       help=f"replications per value (default {DEFAULT_REPLICATIONS})")
    sweep.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    sweep.add_argument("--out", type=Path, default=None, help="output directory (default runs/sweep-<scenario>-<lever>)")
    sweep.add_argument("--workers", "-j", type=_positive("workers"), default=1, help="processes to run in (default 1)")

    brief = sub.add_parser("brief", help="write the policy brief (HTML, PDF) of a saved run or comparison")
    brief.add_argument("source", type=Path, metavar="RUN_OR_COMPARISON_DIR")
    brief.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the brief (default zh)")
    brief.add_argument("--format", default="html,pdf", help="comma-separated: html, pdf (default html,pdf)")
    brief.add_argument("--out", default=None,  # text, not Path: a trailing "/" means a directory
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
        try:
            check_replaceable(d, "run")
        except OutDirError as exc:
            raise UsageError(str(exc)) from None
        existing = next(p for p in [d, *d.parents] if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise UsageError(f"--out: cannot write in {existing}; choose a directory you can write to")
    return dirs


def _check_target_ids(ids: list[str], option: str) -> None:
    """Every id must be a modelled target of the registry (checked before anything runs)."""
    known = [t.id for t in load_registry() if t.modelled]
    for target_id in ids:
        if target_id not in known:
            near = difflib.get_close_matches(target_id, known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else "`python -m model targets` lists the ids"
            raise UsageError(f"{option}: {target_id!r} is not a modelled target id; {hint}")


def cmd_run(args) -> int:
    _check_target_ids(args.drivers or [], "--drivers")
    scenarios = _load_all(args.scenarios)
    dirs = _out_dirs(scenarios, args.out)
    headline = {}
    for scenario, out in zip(scenarios, dirs):
        print(f"\n== {scenario.name}: {scenario.title_zh} / {scenario.title_en}")
        print(f"   {args.replications} replications, seed {args.seed}, {args.workers} worker(s)")
        results = simulate(scenario, args.replications, args.seed, workers=args.workers,
                           chunk_size=args.chunk_size, progress=True)
        summary = results.summary
        try:
            saved = results.save(out)
        except OutDirError as exc:  # it changed while we simulated
            raise UsageError(f"{exc}; nothing was saved") from exc
        except OSError as exc:
            raise UsageError(f"--out: cannot write the run to {out} ({exc.strerror or exc}); nothing was saved") from exc
        if args.xlsx:
            write_workbook(saved / "results.xlsx", [results])
        districts = summary[summary["target_id"].str.contains(".district.", regex=False) & (summary["status"] != "not modelled")]
        not_modelled = int((summary["status"] == "not modelled").sum())
        print(summary_table(summary, args.all))
        if len(districts) and not args.all:
            print(f"   + {len(districts)} district targets: mean likelihood {100 * districts['probability'].mean():.1f}% (all in summary.csv)")
        print("   " + outlay(results))
        print("   " + decomposition(results))
        for line in joint_lines(results):
            print("   " + line)
        if not_modelled:
            print(f"   {not_modelled} targets are not modelled yet (listed in summary.csv without a likelihood)")
        if args.by_department:
            print(f"\n== {scenario.name}: targets by responsible unit (责任单位), lowest likelihood first")
            print(by_department(results))
        if args.drivers is not None:
            print(f"\n== {scenario.name}: what drives the likelihood (likelihood when an input falls in the lowest"
                  " or the highest third of its draws; only effects beyond the Monte Carlo error)")
            print(drivers_text(results, args.drivers or HEADLINE_2020))
        print(f"   saved to {saved}/  ({results.meta['seconds']:.1f} s)")
        joint = results.joint.set_index("view")
        headline[scenario.name] = [
            pct(p) + ("*" if target in scenario.thresholds else "")
            for target, p in summary.set_index("target_id").loc[list(HEADLINE), "probability"].items()
        ] + [pct(joint.loc["headline_2020", "probability"]),
             f"{joint.loc['met_count', 'mean']:.1f} of {int(joint.loc['met_count', 'modelled'])}"]
        del results  # one scenario's results in memory at a time (the budget of _check_replications)
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
        "test": [test_text(t.test(), t.unit, args.lang) + (" (reading)" if t.reading else "") for t in chosen],
        "modelled by": [t.indicator if t.modelled else "not modelled yet" for t in chosen],
        "responsible": ["、".join(t.responsible) for t in chosen],
    }))
    modelled = sum(1 for t in load_registry() if t.modelled)
    print(f"\n{len(load_registry())} targets, {modelled} modelled")
    return 0


def cmd_params(args) -> int:
    if args.markdown:
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


def cmd_sweep(args) -> int:
    _check_target_ids(args.targets or [], "--targets")
    scenario = load_scenario(args.scenario)
    out = args.out or Path("runs") / f"sweep-{scenario.name}-{args.lever.rpartition('.')[2]}"
    try:
        out = check_out_dir(out)
        comparison = sweep(scenario, args.lever, [parse_value(v) for v in args.values], args.replications,
                           args.seed, workers=args.workers)
        tidy = sweep_table(comparison)
        saved = save_comparison(comparison, out, extra={"sweep.csv": tidy})
    except CompareError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the sweep to {out} ({exc.strerror or exc}); nothing was saved") from exc
    reference = comparison.runs[0].summary
    as_written = toml_value(scenario.levers[args.lever])
    print(f"\n== Sweep of {args.lever} in {scenario.name} (as written: {as_written}), "
          f"{comparison.replications} replications per value, seed {comparison.seed}, common random numbers")
    print(sweep_text(tidy, reference, as_written, args.targets))
    print("   likelihood of meeting each target at each value (* the scenario's own value); changes with paired")
    print("   95 % intervals are in sweep.csv")
    print(f"   saved to {saved}/  (sweep.csv, comparison.csv, runs/<name>/, manifest.json)")
    return 0


def cmd_brief(args) -> int:
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


COMMANDS = {"brief": cmd_brief, "compare": cmd_compare, "sweep": cmd_sweep, "run": cmd_run, "validate": cmd_validate, "targets": cmd_targets, "params": cmd_params}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (exit status 143 = 128 + SIGTERM)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _check_replications(args) -> None:
    """Refuse ``--replications`` whose results would not fit in memory, before anything runs.

    ``run`` keeps one scenario's results at a time, ``compare`` all its items and ``sweep`` the
    scenario at each value plus the scenario as written.
    """
    replications = getattr(args, "replications", None)
    kept = {"run": 1, "compare": len(getattr(args, "items", ())), "sweep": len(getattr(args, "values", ())) + 1}.get(args.command)
    if kept is None:
        return
    if replications is None:  # compare: saved runs keep theirs; scenario files run the default
        if not any(str(item).endswith(".toml") for item in getattr(args, "items", ())):
            return
        replications = DEFAULT_REPLICATIONS
    try:
        check_budget(replications, kept, args.workers, option="--replications")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()  # signals work only there
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        _check_replications(args)
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM
        print("interrupted; the run in progress was not saved (finished ones were)", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:  # our bug, not the user's: say so and show where
        traceback.print_exc()
        print("internal error: this is a bug in the model, please report it with the command above", file=sys.stderr)
        return 1
    finally:
        if main_thread and previous is not None:  # None: the old handler was not set from Python
            signal.signal(signal.SIGTERM, previous)
