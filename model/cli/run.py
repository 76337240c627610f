"""``python -m model run``: simulate scenario files, save and print their results."""

from __future__ import annotations

from pathlib import Path

from ..atomic import OutDirError, WriteError, check_replaceable, output_kind
from ..console import (
    by_department,
    decomposition,
    drivers_text,
    format_table,
    joint_lines,
    outlay,
    outside_lines,
    pct,
    summary_table,
)
from ..engine import simulate
from ..plans import HEADLINE, HEADLINE_2020
from ..printable import printable
from ..results import Results
from ..scenario import Scenario, load_scenario
from .common import (
    UsageError,
    add_common_options,
    add_executor_options,
    add_observed_option,
    add_sampling_options,
    check_target_ids,
    executor_options,
    executor_text,
    observed_line,
    positive,
    progress_bar,
    with_observed,
)


def add_run_parser(sub) -> None:
    """The ``run`` command and its options."""
    run = sub.add_parser("run", help="simulate scenario files and save their results")
    run.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO.toml")
    add_sampling_options(run, "replications per scenario (about +/-1 point of Monte Carlo error at the default)")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default runs/<name>); with several scenarios, the parent of one directory per scenario",
    )
    add_common_options(run)
    add_executor_options(run)
    add_observed_option(run)
    run.add_argument(
        "--chunk-size",
        type=positive("chunk size"),
        default=None,
        help="replications per task (results do not depend on it)",
    )
    run.add_argument(
        "--xlsx", action="store_true", help="also write results.xlsx (Excel, Chinese headers) into each run directory"
    )
    run.add_argument("--all", action="store_true", help="print every target, not only the modelled ones")
    run.add_argument(
        "--by-department",
        action="store_true",
        help="also print each responsible unit's targets, lowest likelihood first (always saved in departments.csv)",
    )
    run.add_argument(
        "--drivers",
        nargs="*",
        metavar="TARGET_ID",
        default=None,
        help="also print the uncertainties that move these targets' likelihood most "
        "(default: the three goals of 2020; always saved in drivers.csv)",
    )


def _load_all(paths: list[Path], search_path: list[Path]) -> list[Scenario]:
    scenarios = [load_scenario(p, tuple(search_path)) for p in paths]
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
        kind = output_kind(out)
        if kind is not None:
            raise UsageError(f"--out: {out} is {'a run' if kind == 'run' else 'a comparison'}; with several scenarios "
                             "--out is the folder that holds one run per scenario, so choose another path")
        dirs = [out / s.name for s in scenarios]
    for d in dirs:
        try:
            check_replaceable(d, "run")
        except OutDirError as exc:
            raise UsageError(str(exc)) from None
    return dirs


def _save(results: Results, out: Path, xlsx: bool) -> Path:
    """Save a run (with its workbook, inside the same atomic save); a directory that cannot be
    written is the user's to fix, and the previous run there is left as it was."""
    try:
        return results.save(out, xlsx=xlsx)
    except OutDirError as exc:  # it changed while we simulated
        raise UsageError(f"{exc}; nothing was saved") from exc
    except WriteError as exc:  # names the file
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the run to {out} ({exc.strerror or exc}); nothing was saved") from exc


def _print_run(results: Results, args) -> None:
    """A run's likelihood table, the plans as a whole, and what ``--by-department`` and
    ``--drivers`` ask for."""
    summary, name = results.summary, results.name
    districts = summary[
        summary["target_id"].str.contains(".district.", regex=False) & (summary["status"] != "not modelled")
    ]
    not_modelled = int((summary["status"] == "not modelled").sum())
    print(summary_table(summary, args.all))
    if len(districts) and not args.all:
        print(
            f"   + {len(districts)} district targets: mean likelihood {100 * districts['probability'].mean():.1f}% "
            "(all in summary.csv)"
        )
    print("   " + outlay(results))
    print("   " + decomposition(results))
    print("\n".join(outside_lines(results)))
    for line in joint_lines(results):
        print("   " + line)
    if not_modelled:
        print(f"   {not_modelled} targets are not modelled yet (listed in summary.csv without a likelihood)")
    if args.by_department:
        print(f"\n== {name}: targets by responsible unit (责任单位), lowest likelihood first")
        print(by_department(results))
    if args.drivers is not None:
        print(
            f"\n== {name}: what drives the likelihood (likelihood when an input falls in the lowest"
            " or the highest third of its draws; only effects beyond the Monte Carlo error)"
        )
        print(drivers_text(results, args.drivers or HEADLINE_2020))


def _headline_cells(results: Results) -> list[str]:
    """One scenario's column of the headline table (``*``: a threshold the scenario changed)."""
    joint = results.joint.set_index("view")
    probability = results.summary.set_index("target_id").loc[list(HEADLINE), "probability"]
    return [pct(p) + ("*" if target in results.scenario.thresholds else "") for target, p in probability.items()] + [
        pct(joint.loc["headline_2020", "probability"]),
        f"{joint.loc['met_count', 'mean']:.1f} of {int(joint.loc['met_count', 'modelled'])}",
    ]


def _print_headline(headline: dict[str, list[str]], scenarios: list[Scenario]) -> None:
    print("\n== Headline goals: likelihood of meeting each target by its deadline")
    columns = {
        "target": list(HEADLINE) + ["three goals together (2020; zombies 2019)", "plan-level targets met (mean)"]
    }
    columns.update(headline)
    print(format_table(columns, right=tuple(headline)))
    if any(s.thresholds.keys() & set(HEADLINE) for s in scenarios):
        print("   * this scenario changed the target's threshold (a reading); see its summary table")


def cmd_run(args) -> int:
    check_target_ids(args.drivers or [], "--drivers")
    scenarios = with_observed(_load_all(args.scenarios, args.scenario_path), args)
    dirs = _out_dirs(scenarios, args.out)
    where = executor_options(args)
    headline = {}
    for scenario, out in zip(scenarios, dirs):
        print("\n" + printable(f"== {scenario.name}: {scenario.title_zh} / {scenario.title_en}"))
        print(f"   {args.replications} replications, seed {args.seed}, {executor_text(args)}")
        with progress_bar(args.replications) as bar:
            results = simulate(scenario, args.replications, args.seed, workers=args.workers,
                               chunk_size=args.chunk_size, progress=bar.update, **where)
        saved = _save(results, out, args.xlsx)
        if observed_line(results):
            print(observed_line(results))
        _print_run(results, args)
        print(f"   saved to {saved}/  ({results.meta['seconds']:.1f} s)")
        headline[scenario.name] = _headline_cells(results)
        del results  # one scenario's results in memory at a time (the budget of _check_replications)
    if len(scenarios) > 1:
        _print_headline(headline, scenarios)
    return 0
