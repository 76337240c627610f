"""Saving an analysis of a scenario (``levers``, ``goal``, ``sensitivity``, ``discover``).

An analysis directory holds its tables (UTF-8 with BOM, rounded like a run's CSV files), its
charts (PNG and SVG), any JSON result, and ``manifest.json`` last, written atomically like a run
(:func:`model.atomic.atomic_directory`): ``kind = "analysis"``, ``analysis`` (which one), the
scenario (resolved, with its hash), seed, replications, the observed figures it was conditioned
on, what it was asked (``settings``), versions, ``files`` and their ``checksums``. A brief reads
an analysis of the same run (``python -m model brief RUN_DIR --analysis DIR``) when its scenario
hash, seed and replications are the run's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .atomic import atomic_directory, writing
from .report import charts
from .results import Results
from .tables import rounded_csv, write_csv
from .verify import RunError, check_checksums, check_files, file_checksums

__all__ = ["analysis_manifest", "read_analysis", "save_analysis"]

AGAIN = "run the analysis again"

#: Run manifest keys an analysis repeats, so a brief can tell it belongs to a run.
RUN_KEYS = ("scenario", "scenario_hash", "scenario_files", "seed", "replications", "observed_file",
            "observed_sha256", "model_version", "git_commit", "python", "packages")


def analysis_manifest(name: str, base: Results, settings: dict[str, Any]) -> dict[str, Any]:
    """The manifest of analysis ``name`` of the run ``base`` with the command's ``settings``."""
    run = base.manifest
    return {"kind": "analysis", "analysis": name, "scenarios": [base.scenario.name],
            **{k: run[k] for k in RUN_KEYS if k in run}, "settings": settings}


def save_analysis(out: Path, manifest: dict[str, Any], tables: dict[str, pd.DataFrame] | None = None,
                  figures: dict[str, Figure] | None = None, documents: dict[str, Any] | None = None,
                  keep_previous: Path | None = None) -> Path:
    """Write ``tables`` (file name -> table), ``figures`` (stem -> figure: PNG and SVG),
    ``documents`` (file name -> JSON-ready value) and ``manifest.json`` last into ``out``; with
    ``keep_previous`` (:func:`model.atomic.kept_name`) an analysis already there is moved
    there instead of deleted."""
    files: list[str] = []
    with atomic_directory(out, "analysis", keep_previous) as tmp:
        for file_name, table in (tables or {}).items():
            with writing(file_name, out):
                numbers = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
                write_csv(rounded_csv(table, numbers), tmp / file_name)
            files.append(file_name)
        for stem, figure in (figures or {}).items():
            with writing(f"{stem}.png", out):
                files += [p.name for p in charts.save(figure, tmp / stem)]
        for file_name, value in (documents or {}).items():
            with writing(file_name, out), open(tmp / file_name, "w", encoding="utf-8") as fh:
                json.dump(value, fh, ensure_ascii=False, indent=2)
            files.append(file_name)
        with writing("manifest.json", out), open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
            json.dump({**manifest, "files": files, "checksums": file_checksums(tmp)}, fh,
                      ensure_ascii=False, indent=2, default=str)
    return out


def read_analysis(path: str | Path) -> dict[str, Any]:
    """The manifest of the analysis directory ``path``, checked (kind, files, checksums).

    Raises
    ------
    RunError
        Not an analysis directory, or a file of it missing, replaced or changed.
    """
    path = Path(path)
    manifest_file = path / "manifest.json"
    try:
        if manifest_file.is_symlink() or not manifest_file.is_file() or manifest_file.stat().st_size > 10_000_000:
            raise ValueError("manifest.json is missing or not a regular file")
        manifest = json.loads(manifest_file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunError(path, f"is not an analysis directory ({exc})", AGAIN) from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "analysis" or \
            not isinstance(manifest.get("analysis"), str):
        raise RunError(path, "is not an analysis directory (python -m model levers, goal, sensitivity or discover "
                       "writes one)", AGAIN)
    check_files(path, "analysis")
    if not check_checksums(path, manifest, "analysis", AGAIN):
        raise RunError(path, "manifest.json lists no checksums", AGAIN)
    return manifest
