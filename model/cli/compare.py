"""``python -m model compare`` and ``sweep``: scenarios side by side, a lever at several values."""

from __future__ import annotations

from pathlib import Path

from ..atomic import OutDirError, WriteError, previous_place
from ..compare import (
    CompareError,
    build_comparison,
    check_out_dir,
    default_out,
    load_items,
    save_comparison,
)
from ..console import sweep_text, wrap
from ..engine import DEFAULT_REPLICATIONS
from ..params import lever_specs
from ..readable import lever_text
from ..report.sweep_chart import sweep_charts
from ..runs import RunError
from ..scenario import Scenario, load_scenario
from ..sweep import parse_lever_value, sweep, sweep_table
from ..terminal import compare_table, phrase, terminal_width
from .common import (
    UsageError,
    add_common_options,
    add_executor_options,
    add_lang_option,
    add_observed_option,
    add_sampling_options,
    check_target_ids,
    chosen_lang,
    executor_options,
    print_kept,
    progress_bar,
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
    add_lang_option(compare)


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
    add_lang_option(sweep)


def _simulated(items) -> int:
    """How many of the loaded ``items`` are scenarios (simulated here, not saved runs)."""
    return sum(isinstance(x, Scenario) for x in items)


def cmd_compare(args) -> int:
    out = args.out
    lang = chosen_lang(args)
    try:
        items = with_observed(load_items(args.items, tuple(args.scenario_path)), args)
        out = check_out_dir(args.out or default_out(items))
        saved_n = next((x.replications for x in items if not isinstance(x, Scenario)), None)
        total = _simulated(items) * (args.replications or saved_n or DEFAULT_REPLICATIONS)
        with progress_bar(total) as bar:
            comparison = build_comparison(items, args.replications, args.seed, workers=args.workers,
                                          progress=bar.update, **executor_options(args))
        kept = previous_place(out, "comparison")  # a comparison there is moved aside, not deleted
        saved = save_comparison(comparison, out, xlsx=args.xlsx, keep_previous=kept)  # the workbook: Chinese headers
    except (CompareError, RunError, WriteError, OutDirError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(
            f"--out: cannot write the comparison to {out} ({exc.strerror or exc}); nothing was saved"
        ) from exc
    names = comparison.names
    width = terminal_width()
    print()
    print("\n".join(wrap("== " + phrase(lang, "h_compare", others=("、" if lang == "zh" else ", ").join(names[1:]),
                                         reference=names[0]),
                         indent="", hang="   ", width=width)))
    print("   " + phrase(lang, "compare_line", n=f"{comparison.replications:,}", seed=comparison.seed))
    text, hidden, note = compare_table(comparison.table, lang, show_all=args.all, width=width)
    print(text)
    print("\n".join(wrap(phrase(lang, note, reference=names[0]), width=width)))
    if hidden:
        print("\n".join(wrap(phrase(lang, "compare_hidden", n=hidden), width=width)))
    files = f"comparison.csv, runs/<name>/{', comparison.xlsx' if args.xlsx else ''}, manifest.json"
    print("\n".join(wrap(phrase(lang, "saved_dir", path=saved, files=files), width=width)))
    print_kept(lang, "comparison", kept, width)
    return 0


def cmd_sweep(args) -> int:
    check_target_ids(args.targets or [], "--targets")
    lang = chosen_lang(args)
    scenario = with_observed([load_scenario(args.scenario, tuple(args.scenario_path))], args)[0]
    where = executor_options(args)
    out = args.out or Path("runs") / f"sweep-{scenario.name}-{args.lever.rpartition('.')[2]}"
    try:
        out = check_out_dir(out)
        values = [parse_lever_value(args.lever, v) for v in args.values]
        with progress_bar(args.replications * (len(values) + 1)) as bar:
            comparison = sweep(scenario, args.lever, values, args.replications, args.seed, workers=args.workers,
                               progress=bar.update, **where)
        tidy = sweep_table(comparison)
        figures = sweep_charts(  # the sensitivity chart of the headline goals (or --targets), zh and en
            tidy, targets=args.targets, reference=scenario.levers[args.lever], scenario=scenario.name,
            replications=comparison.replications, own_summary=comparison.runs[0].summary,
        )
        kept = previous_place(out, "comparison")
        saved = save_comparison(comparison, out, extra={"sweep.csv": tidy}, figures=figures, keep_previous=kept)
    except (CompareError, WriteError, OutDirError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the sweep to {out} ({exc.strerror or exc}); nothing was saved") from exc
    reference = comparison.runs[0].summary
    spec = lever_specs()[args.lever]
    as_written = lever_text(scenario.levers[args.lever], spec.about.unit, lang)
    width = terminal_width()
    print()
    name = spec.about.zh if lang == "zh" else spec.about.en
    print("\n".join(wrap("== " + phrase(lang, "h_sweep", lever=args.lever, name=name, scenario=scenario.name,
                                         written=as_written, n=f"{comparison.replications:,}", seed=comparison.seed),
                         indent="", hang="   ", width=width)))
    print(sweep_text(tidy, reference, as_written, args.targets, lang=lang, unit=spec.about.unit, width=width))
    print("\n".join(wrap(phrase(lang, "sweep_note"), width=width)))
    files = "sweep.csv, sweep.zh.png/.svg, sweep.en.png/.svg, comparison.csv, runs/<name>/, manifest.json"
    print("\n".join(wrap(phrase(lang, "saved_dir", path=saved, files=files), width=width)))
    print_kept(lang, "comparison", kept, width)
    return 0
