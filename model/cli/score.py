"""``python -m model score RUN_DIR OBSERVED_FILE``: a saved forecast against published outcomes.

Writes ``score.csv`` (:data:`model.scorecard.COLUMNS`) into the run directory, or where
``--out`` says, and prints the calibration summary in Chinese, then English. ``score.csv`` is
added beside the run's files like a brief: the run's checksummed files are not touched, so the
run still verifies (:data:`model.atomic.ADDED_LATER`), and scoring again replaces it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import output_kind
from ..console import wrap
from ..observed import load_observed
from ..runs import RunError, load_run
from ..scenario import ScenarioError
from ..scorecard import COLUMNS, score_run, summary_lines
from ..tables import rounded_csv, write_csv
from ..tomlfile import read_toml
from ..validation import TOP_KEYS
from .common import UsageError

SCORE_FILE = "score.csv"
#: Columns written to 4 decimals, as the run's own CSV files are (:func:`model.tables.rounded_csv`).
ROUNDED = ("sd", "likelihood", "brier", "log_score", "pit", "crps", "naive_crps", "forecast_p10", "forecast_p50",
           "forecast_p90", "effective_replications")


def add_score_parser(sub) -> None:
    """The ``score`` command and its options."""
    score = sub.add_parser("score", help="score a saved run's forecast against published outcomes (score.csv)")
    score.add_argument("run", type=Path, metavar="RUN_DIR", help="a directory written by `python -m model run`")
    score.add_argument("observed", type=Path, metavar="OBSERVED_FILE",
                       help="the outcomes: an observed-figures file (docs/progress-tracking.md)")
    score.add_argument("--out", default=None, metavar="PATH",
                       help=f"where to write: a directory (then {SCORE_FILE} inside it) or a .csv file "
                            f"(default: {SCORE_FILE} inside RUN_DIR)")


def _check_observed_file(path: Path) -> None:
    """Refuse a scenario file given as the outcomes, with what to do instead."""
    try:
        doc, _ = read_toml(path)
    except ScenarioError:
        return  # load_observed says what is wrong with it
    if any(key in doc for key in TOP_KEYS if key != "targets"):
        raise UsageError(f"{path}: is a scenario file, not an observed-figures file; give the published outcomes "
                         "(a file like observed/2018-h1.toml), and score a run of the scenario (python -m model run "
                         f"{path} --out runs/NAME, then python -m model score runs/NAME FILE)")


def _destination(run_dir: Path, out: str | None) -> Path:
    """Where score.csv goes; an existing file there must be a score.csv of ours."""
    if out is None:
        path = run_dir / SCORE_FILE
    else:
        text, path = out, Path(out)
        if text.endswith(("/", os.sep)) or path.is_dir():
            path = path / SCORE_FILE
        elif path.suffix.lower() != ".csv":
            raise UsageError(f"--out: {out} is neither a directory nor a .csv file; give a folder or a name "
                             "ending in .csv")
        if not path.parent.is_dir():
            raise UsageError(f"--out: the directory {path.parent} does not exist; create it or choose another")
        if output_kind(path.parent) not in (None, "run"):
            raise UsageError(f"--out: {path.parent} is a comparison or calibration directory; choose another path")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"{path} exists and is not a regular file; choose another --out")
    if path.is_file():
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline().strip()
        if header != ",".join(COLUMNS):
            raise UsageError(f"{path} exists and is not a score.csv written by this model; choose another --out "
                             "so nothing is overwritten")
    return path


def cmd_score(args) -> int:
    try:
        run = load_run(args.run)
    except RunError as exc:
        raise UsageError(str(exc)) from None
    _check_observed_file(args.observed)
    observed = load_observed(args.observed)
    scored = score_run(run, observed)
    if scored.table.empty:
        reason = scored.skipped[0][1] if scored.skipped else "no figure"
        raise UsageError(f"{args.observed}: none of its {len(observed)} figure(s) can be scored on the run "
                         f"{args.run} (first: {scored.skipped[0][0]}: {reason}); give outcomes of targets the run "
                         "holds or of the series it computes (python -m model series)")
    path = _destination(args.run, args.out)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        write_csv(rounded_csv(scored.table, ROUNDED), tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path} ({exc.strerror or exc}); nothing was written: choose another "
                         "--out") from None
    zh, en = summary_lines(scored.table)
    print("\n".join(wrap(f"评分 {run.name}：{zh}", indent="") + wrap(f"score of {run.name}: {en}", indent="")))
    for key, reason in scored.skipped:
        print("\n".join(wrap(f"not scored: {key}: {reason}", indent="")))
    print(f"written {path}")
    return 0
