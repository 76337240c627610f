"""``python -m model calibration``: the published series against the outside view (calibration.csv)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..atomic import OutDirError, WriteError, atomic_directory, check_replaceable, writing
from ..calibration import QUANTILE_COLUMNS
from ..calibration_text import console_text, markdown
from ..engine import simulate
from ..results import MODEL_VERSION, _git_commit
from ..tables import rounded_csv, write_csv
from ..verify import file_checksums
from .common import UsageError, add_common_options, add_sampling_options, progress_bar
from .run import _load_all

#: The scenario calibrated when none is named: the shipped plan.
PLAN = Path(__file__).resolve().parents[2] / "scenarios" / "plan.toml"


def add_calibration_parser(sub) -> None:
    """The ``calibration`` command and its options."""
    cal = sub.add_parser("calibration", help="the published series for 2017 and 2018 against the reference class "
                                             "known by July 2017 (calibration.csv)")
    cal.add_argument("scenarios", nargs="*", type=Path, metavar="SCENARIO.toml",
                     help="scenario files (default: the shipped scenarios/plan.toml)")
    add_sampling_options(cal, "replications per scenario")
    cal.add_argument("--out", type=Path, default=None,
                     help="output directory for calibration.csv (default runs/calibration-<name1>-<name2>...)")
    cal.add_argument("--markdown", type=Path, default=None, metavar="PATH",
                     help="also write the report as Markdown (docs/calibration.md is "
                          "`python -m model calibration --markdown docs/calibration.md`)")
    add_common_options(cal)


def _check_markdown(path: Path | None) -> None:
    """Refuse a Markdown path that cannot be written, before anything runs."""
    if path is None:
        return
    if path.is_dir() or path.is_symlink():
        raise UsageError(f"--markdown: {path} is a {'directory' if path.is_dir() else 'symbolic link'}; "
                         "give a file name such as docs/calibration.md")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"--markdown: the folder {parent} does not exist; create it or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--markdown: cannot write {path}; choose a file you can write")


def _write_markdown(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a temporary sibling renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"--markdown: cannot write {path} ({exc.strerror or exc}); the CSV was saved") from exc


def save_calibration(table: pd.DataFrame, out: Path, replications: int, seed: int) -> Path:
    """``calibration.csv`` (utf-8-sig, 4 decimals) and ``manifest.json`` last, atomically."""
    with atomic_directory(out, "calibration") as tmp:
        with writing("calibration.csv", out):
            write_csv(rounded_csv(table, [*QUANTILE_COLUMNS, "reference_low", "reference_high", "city_value"]),
                      tmp / "calibration.csv")
        with writing("manifest.json", out):
            manifest = {
                "kind": "calibration", "scenarios": list(dict.fromkeys(table["scenario"])), "seed": seed,
                "replications": replications, "model_version": MODEL_VERSION, "git_commit": _git_commit(),
                "checksums": file_checksums(tmp),
            }
            with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, ensure_ascii=False, indent=2)
    return out


def cmd_calibration(args) -> int:
    scenarios = _load_all(args.scenarios or [PLAN], args.scenario_path)
    out = args.out or Path("runs") / ("calibration-" + "-".join(s.name for s in scenarios))
    try:
        check_replaceable(out, "calibration")
    except OutDirError as exc:
        raise UsageError(str(exc)) from None
    _check_markdown(args.markdown)
    tables = []
    for scenario in scenarios:
        with progress_bar(args.replications) as bar:
            results = simulate(scenario, args.replications, args.seed, workers=args.workers, progress=bar.update)
        tables.append(results.calibration)
        del results  # one scenario's results in memory at a time (the budget of _check_replications)
    table = pd.concat(tables, ignore_index=True)
    try:
        saved = save_calibration(table, out, args.replications, args.seed)
    except (OutDirError, WriteError) as exc:
        raise UsageError(f"{exc}" if isinstance(exc, WriteError) else f"{exc}; nothing was saved") from exc
    except OSError as exc:
        raise UsageError(f"--out: cannot write the report to {out} ({exc.strerror or exc}); nothing was saved") \
            from exc
    print(console_text(table, args.replications, args.seed))
    print(f"\n   saved to {saved}/  (calibration.csv, manifest.json)")
    if args.markdown is not None:
        _write_markdown(args.markdown, markdown(table, args.replications, args.seed))
        print(f"   written {args.markdown}")
    return 0
