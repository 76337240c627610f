"""``python -m model run``: simulate scenario files, save and print their results."""

from __future__ import annotations

import sys
from pathlib import Path

from ..atomic import OutDirError, WriteError, check_replaceable, output_kind, previous_place
from ..console import (
    WIDTH,
    decomposition,
    format_table,
    joint_lines,
    outlay,
    outside_lines,
    wrap,
)
from ..engine import simulate
from ..plans import HEADLINE, HEADLINE_2020
from ..printable import printable
from ..readable import percent_text
from ..results import Results
from ..runs import RunError, load_run
from ..scenario import Scenario, load_scenario
from ..targets import load_registry
from ..terminal import department_lines, drivers_lines, phrase, run_lines, terminal_width
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
    executor_text,
    observed_line,
    positive,
    print_kept,
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
    run.add_argument("--all", action="store_true",
                     help="print every target (district and unmodelled ones too) and the details, not only the "
                          "headline goals, the counts by traffic light and the ten riskiest targets")
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
        "(default: the three goals of 2020; always saved in drivers.csv; "
        "`python -m model drivers RUN_DIR` reads them from a saved run)",
    )
    add_lang_option(run)


def add_drivers_parser(sub) -> None:
    """The ``drivers`` command: a saved run's drivers, read from its directory."""
    drivers = sub.add_parser("drivers", help="print what drives the likelihood of targets in a saved run "
                                             "(read from its drivers.csv; nothing is simulated)")
    drivers.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    drivers.add_argument("targets", nargs="*", metavar="TARGET_ID",
                         help="targets (default: the three goals of 2020)")
    add_lang_option(drivers)


def cmd_drivers(args) -> int:
    check_target_ids(args.targets, "TARGET_ID")
    try:
        run = load_run(args.run_dir)
    except RunError as exc:
        raise UsageError(str(exc)) from exc
    lang = chosen_lang(args)
    print("\n".join(drivers_lines(run, args.targets or HEADLINE_2020, lang)))
    print("\n".join(wrap(phrase(lang, "drivers_saved", path=args.run_dir))))
    return 0


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


def _notify(bar):
    """News of a long conditioning (sequential Monte Carlo's stages), printed above the bar on stderr."""
    return lambda line: bar.write("\n".join(wrap(printable(line))), file=sys.stderr)


def _save(results: Results, out: Path, xlsx: bool) -> tuple[Path, Path | None]:
    """Save a run (with its workbook, inside the same atomic save), a run already there moved
    aside (:func:`model.atomic.kept_name`, with its briefs and workbook) rather than deleted; a directory that
    cannot be written is the user's to fix, and the previous run there is left as it was.

    Returns the run's directory and where the previous run went (None if there was none).
    """
    kept = previous_place(out, "run")
    try:
        return results.save(out, xlsx=xlsx, keep_previous=kept), kept
    except OutDirError as exc:  # it changed while we simulated
        raise UsageError(f"{exc}; nothing was saved") from exc
    except WriteError as exc:  # names the file
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the run to {out} ({exc.strerror or exc}); nothing was saved") from exc


def _print_run(results: Results, args, lang: str, path: Path) -> None:
    """A run's compact view (or with ``--all`` every target and the details), and what
    ``--by-department`` and ``--drivers`` ask for."""
    width = terminal_width(None if args.all else WIDTH)
    print("\n".join(run_lines(results, lang, args.all, str(path), width)))
    if args.all:
        for line in [outlay(results, lang), decomposition(results, lang)]:
            print("\n".join(wrap(line, width=width)))
        print("\n".join(outside_lines(results, lang)))
        for line in joint_lines(results, lang):
            print("\n".join(wrap(line, width=width)))
    if args.by_department:
        print("\n".join(department_lines(results, lang, width)))
    if args.drivers is not None:
        print()
        print("\n".join(drivers_lines(results, args.drivers or HEADLINE_2020, lang)))


def _headline_cells(results: Results, lang: str) -> list[str]:
    """One scenario's column of the headline table (``*``: a threshold the scenario changed)."""
    joint = results.joint.set_index("view")
    probability = results.summary.set_index("target_id").loc[list(HEADLINE), "probability"]
    met = phrase(lang, "met_of", mean=f"{joint.loc['met_count', 'mean']:.1f}",
                 modelled=int(joint.loc["met_count", "modelled"]))
    return [percent_text(p) + ("*" if target in results.scenario.thresholds else "")
            for target, p in probability.items()] + [percent_text(joint.loc["headline_2020", "probability"]), met]


def _print_headline(headline: dict[str, list[str]], scenarios: list[Scenario], lang: str) -> None:
    """The headline goals of every scenario run, a column each, within the terminal's width."""
    width = terminal_width()
    print("\n" + phrase(lang, "h_headline_all"))
    registry = {t.id: t for t in load_registry()}
    names = [f"{registry[i].name_zh}（{registry[i].deadline.year}年）" if lang == "zh" else
             f"{registry[i].name_en} ({registry[i].deadline.year})" for i in HEADLINE]
    target = phrase(lang, "col_target")
    columns = {target: names + [phrase(lang, "row_together"), phrase(lang, "row_met")]}
    columns.update(headline)
    print(format_table(columns, right=tuple(headline), width=width, shrink=target, fold=True))
    if any(s.thresholds.keys() & set(HEADLINE) for s in scenarios):
        print("\n".join(wrap(phrase(lang, "threshold_changed"), width=width)))


def cmd_run(args) -> int:
    check_target_ids(args.drivers or [], "--drivers")
    lang = chosen_lang(args)
    scenarios = with_observed(_load_all(args.scenarios, args.scenario_path), args)
    dirs = _out_dirs(scenarios, args.out)
    where = executor_options(args)
    headline = {}
    for scenario, out in zip(scenarios, dirs):
        title = f"{scenario.name}：{scenario.title_zh}" if lang == "zh" else f"{scenario.name}: {scenario.title_en}"
        print("\n" + "\n".join(wrap(printable("== " + title), indent="", hang="   ", width=terminal_width())))
        where_text = executor_text(args, lang)
        print("   " + phrase(lang, "run_line", n=f"{args.replications:,}", seed=args.seed, where=where_text))
        with progress_bar(args.replications) as bar:
            results = simulate(scenario, args.replications, args.seed, workers=args.workers,
                               chunk_size=args.chunk_size, progress=bar.update, notify=_notify(bar), **where)
        saved, kept = _save(results, out, args.xlsx)
        if observed_line(results):
            print(observed_line(results))
        _print_run(results, args, lang, saved)
        print("\n".join(wrap(phrase(lang, "saved", path=saved, seconds=f"{results.meta['seconds']:.1f}"))))
        print_kept(lang, "run", kept)
        headline[scenario.name] = _headline_cells(results, lang)
        del results  # one scenario's results in memory at a time (the budget of _check_replications)
    if len(scenarios) > 1:
        _print_headline(headline, scenarios, lang)
    return 0
