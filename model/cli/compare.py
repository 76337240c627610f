"""``python -m model compare`` and ``sweep``: scenarios side by side, a lever at several values."""

from __future__ import annotations

from pathlib import Path

from ..atomic import WriteError
from ..compare import (
    CompareError,
    build_comparison,
    check_out_dir,
    default_out,
    display_columns,
    load_items,
    save_comparison,
)
from ..console import format_table, sweep_text
from ..reference import toml_value
from ..report.sweep_chart import sweep_charts
from ..runs import RunError
from ..scenario import load_scenario
from ..sweep import parse_lever_value, sweep, sweep_table
from .common import (
    UsageError,
    add_common_options,
    add_executor_options,
    add_observed_option,
    add_sampling_options,
    check_target_ids,
    executor_options,
    with_observed,
)


def add_compare_parser(sub) -> None:
    """The ``compare`` command and its options."""
    compare = sub.add_parser(
        "compare", help="compare scenario files (run with common random numbers) or saved runs, target by target"
    )
    compare.add_argument(
        "items", nargs="+", type=Path, metavar="SCENARIO.toml|RUN_DIR", help="the first is the reference"
    )
    add_sampling_options(compare, "replications for scenario files", saved=True)
    compare.add_argument(
        "--out", type=Path, default=None, help="output directory (default runs/compare-<name1>-<name2>...)"
    )
    add_common_options(compare)
    add_executor_options(compare)
    add_observed_option(compare)
    compare.add_argument("--xlsx", action="store_true", help="also write comparison.xlsx (Excel, Chinese headers)")
    compare.add_argument("--all", action="store_true", help="print district targets too")


def add_sweep_parser(sub) -> None:
    """The ``sweep`` command and its options."""
    sweep = sub.add_parser("sweep", help="run a scenario at several values of one lever (common random numbers)")
    sweep.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    sweep.add_argument(
        "lever", metavar="LEVER", help="module.name of a lever, e.g. techreform.subsidy_rate (see `params`)"
    )
    sweep.add_argument(
        "values",
        nargs="+",
        metavar="VALUE",
        help="values to try: numbers, true/false or a choice (put -- before a negative first value)",
    )
    sweep.add_argument(
        "--targets",
        nargs="+",
        metavar="TARGET_ID",
        default=None,
        help="targets to print (default: the 12 whose likelihood varies most; all are saved in sweep.csv)",
    )
    add_sampling_options(sweep, "replications per value")
    sweep.add_argument(
        "--out", type=Path, default=None, help="output directory (default runs/sweep-<scenario>-<lever>)"
    )
    add_common_options(sweep)
    add_executor_options(sweep)
    add_observed_option(sweep)


def cmd_compare(args) -> int:
    out = args.out
    try:
        items = with_observed(load_items(args.items, tuple(args.scenario_path)), args)
        out = check_out_dir(args.out or default_out(items))
        comparison = build_comparison(items, args.replications, args.seed, workers=args.workers,
                                      **executor_options(args))
        saved = save_comparison(comparison, out, xlsx=args.xlsx)
    except (CompareError, RunError, WriteError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(
            f"--out: cannot write the comparison to {out} ({exc.strerror or exc}); nothing was saved"
        ) from exc
    names = comparison.names
    print(f"\n== Comparison: {', '.join(names[1:])} against {names[0]} (reference)")
    print(
        f"   {comparison.replications} replications, seed {comparison.seed}: common random numbers, so changes are "
        "paired"
    )
    columns, right, hidden = display_columns(comparison.table, show_all=args.all)
    print(format_table(columns, right=right))
    print("   * the 10 targets whose likelihood changes most (largest |change| first); change in percentage points,")
    print("     95 % paired interval (Newcombe's hybrid score interval for paired proportions)")
    if hidden:
        print(f"   + {hidden} district targets (all in comparison.csv; --all prints them)")
    print(
        f"   saved to {saved}/  (comparison.csv, runs/<name>/{', comparison.xlsx' if args.xlsx else ''}, manifest.json)"
    )
    return 0


def cmd_sweep(args) -> int:
    check_target_ids(args.targets or [], "--targets")
    scenario = with_observed([load_scenario(args.scenario, tuple(args.scenario_path))], args)[0]
    where = executor_options(args)
    out = args.out or Path("runs") / f"sweep-{scenario.name}-{args.lever.rpartition('.')[2]}"
    try:
        out = check_out_dir(out)
        comparison = sweep(
            scenario,
            args.lever,
            [parse_lever_value(args.lever, v) for v in args.values],
            args.replications,
            args.seed,
            workers=args.workers,
            **where,
        )
        tidy = sweep_table(comparison)
        figures = sweep_charts(  # the sensitivity chart of the headline goals (or --targets), zh and en
            tidy, targets=args.targets, reference=scenario.levers[args.lever], scenario=scenario.name,
            replications=comparison.replications, own_summary=comparison.runs[0].summary,
        )
        saved = save_comparison(comparison, out, extra={"sweep.csv": tidy}, figures=figures)
    except (CompareError, WriteError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the sweep to {out} ({exc.strerror or exc}); nothing was saved") from exc
    reference = comparison.runs[0].summary
    as_written = toml_value(scenario.levers[args.lever])
    print(
        f"\n== Sweep of {args.lever} in {scenario.name} (as written: {as_written}), "
        f"{comparison.replications} replications per value, seed {comparison.seed}, common random numbers"
    )
    print(sweep_text(tidy, reference, as_written, args.targets))
    print("   likelihood of meeting each target at each value (* the scenario's own value); changes with paired")
    print("   95 % intervals are in sweep.csv")
    print(f"   saved to {saved}/  (sweep.csv, sweep.zh.png/.svg and sweep.en.png/.svg: the sensitivity chart, "
          "comparison.csv, runs/<name>/, manifest.json)")
    return 0
