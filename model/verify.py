"""Checking a saved run or comparison before it is used: manifest schema, files, checksums.

Saved runs travel by e-mail and shared drives, so a run directory is data from a user like a
scenario file: its ``manifest.json`` is checked against the schema a run's manifest has (known
keys, their types), the files the manifest lists carry SHA-256 checksums that are compared,
every file a run holds must be a regular file (never a symbolic link), and names taken from a
manifest are labels that must follow the rule of scenario names before they are ever used as
a folder name. Anything that fails raises :class:`RunError` naming the directory, the file or
key and what to do. Runs saved before checksums existed (no ``checksums`` key) are accepted;
what can be checked without them is checked by :func:`model.runs.load_run`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import ADDED_LATER, KINDS
from .printable import printable
from .validation import MAX_NAME, NAME_PATTERN

__all__ = ["RunError", "check_checksums", "check_comparison_manifest", "check_files", "check_run_manifest",
           "check_weights", "file_checksums", "read_run_manifest", "sha256", "valid_name"]

RERUN = "rerun the scenario"


class RunError(ValueError):
    """A directory that is not a complete saved run (the message says how to fix it)."""

    def __init__(self, path: str | Path, message: str, hint: str = ""):
        self.path = Path(path)
        self.message = message
        self.hint = hint
        text = f"{printable(str(path))}: {message}"
        super().__init__(text + (f"; {hint}" if hint else ""))


#: A run's name: a scenario name (letters, digits, ``-``, ``_``), or a lever sweep's
#: ``lever=value`` (:mod:`model.sweep`; the value may hold ``.`` as well); each part at most
#: MAX_NAME characters. Such a name is one folder name: never ``..``, a ``/`` or a leading ``.``/``=``.
RUN_NAME = re.compile(rf"{NAME_PATTERN[:-1]}{{1,{MAX_NAME}}}(=[A-Za-z0-9_.\-]{{1,{MAX_NAME}}})?")
NAME_RULE = f"letters, digits, '-' or '_', at most {MAX_NAME} characters"


def valid_name(name: Any) -> bool:
    """Whether ``name`` may name a saved run (and so a folder): see :data:`RUN_NAME`."""
    return isinstance(name, str) and RUN_NAME.fullmatch(name) is not None


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(directory: Path) -> dict[str, str]:
    """File name -> SHA-256 of every file in ``directory`` but the manifest (written after)."""
    return {p.name: sha256(p) for p in sorted(directory.iterdir()) if p.is_file() and p.name != "manifest.json"}


def check_files(path: Path, kind: str) -> None:
    """Refuse a directory where a file of ``kind`` (e.g. ``summary.csv``) is not a regular file.

    A symbolic link could make a reader (and a comparison that saves the run again) take a file
    from outside the directory.
    """
    for name in sorted(KINDS[kind]):
        entry = path / name
        try:
            mode = entry.lstat().st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise RunError(path, f"{name} cannot be read ({exc.strerror or exc})", RERUN) from None
        if stat.S_ISLNK(mode):
            raise RunError(path, f"{name} is a symbolic link, not a file a saved run holds",
                           "a run directory holds its own files only: rerun the scenario")
        if not stat.S_ISREG(mode):
            raise RunError(path, f"{name} is not a regular file", RERUN)


def check_checksums(path: Path, manifest: dict[str, Any], kind: str, hint: str = RERUN) -> bool:
    """Compare the files of ``path`` with the checksums its manifest lists.

    Returns False for a directory saved before checksums existed (no ``checksums`` key).
    """
    if "checksums" not in manifest:
        return False
    checksums = manifest["checksums"]
    if not isinstance(checksums, dict) or not checksums:
        raise RunError(path, "manifest.json: checksums is not a table of file names and SHA-256 sums", hint)
    for name, digest in checksums.items():
        if name not in KINDS[kind] or name == "manifest.json":
            raise RunError(path, f"manifest.json: checksums lists {printable(name)!r}, which is not a file of a "
                           f"saved {kind}", hint)
        if not isinstance(digest, str) or not re.fullmatch("[0-9a-f]{64}", digest):
            raise RunError(path, f"manifest.json: the checksum of {name} is not a SHA-256 sum", hint)
        if not (path / name).is_file():
            raise RunError(path, f"is incomplete: {name} missing", hint)
        if sha256(path / name) != digest:
            raise RunError(path, f"{name} does not match its checksum", hint)
    unlisted = sorted(n for n in KINDS[kind] - set(checksums) - {"manifest.json"}
                      if n not in ADDED_LATER and (path / n).exists())  # briefs, score.csv: added later
    if unlisted:
        raise RunError(path, f"{unlisted[0]} has no checksum in manifest.json (it was added or the list edited)", hint)
    return True


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


#: Top-level keys of a run's manifest -> (test, what it must be). The first five are required.
RUN_SCHEMA = {
    "scenario": (lambda v: isinstance(v, dict), "a table (the resolved scenario)"),
    "seed": (lambda v: _is_int(v, 0), "a whole number >= 0"),
    "replications": (lambda v: _is_int(v, 1), "a whole number >= 1"),
    "years": (lambda v: isinstance(v, list) and bool(v) and all(_is_int(y, 0) for y in v), "a list of years"),
    "targets": (lambda v: _is_text_list(v) and len(set(v)) == len(v), "a list of distinct target ids"),
    "kind": (lambda v: v == "run", '"run"'),
    "scenario_hash": (lambda v: isinstance(v, str), "text"),
    "scenario_files": (_is_text_list, "a list of file names"),
    "model_version": (lambda v: isinstance(v, str), "text"),
    "git_commit": (lambda v: v is None or isinstance(v, str), "text or null"),
    "python": (lambda v: isinstance(v, str), "text"),
    "packages": (lambda v: isinstance(v, dict) and all(x is None or isinstance(x, str) for x in v.values()),
                 "a table of package versions"),
    "workers": (lambda v: _is_int(v, 1), "a whole number >= 1"),
    "executor": (lambda v: v in ("local", "dask"), '"local" or "dask"'),
    "scheduler": (lambda v: isinstance(v, str), "text (a dask scheduler address)"),
    "started": (lambda v: isinstance(v, str), "text (a time)"),
    "finished": (lambda v: isinstance(v, str), "text (a time)"),
    "seconds": (_is_number, "a number"),
    "streamed": (lambda v: isinstance(v, bool), "true or false (a run summarised block by block)"),
    "checksums": (lambda v: isinstance(v, dict), "a table of file names and SHA-256 sums"),
    "observed_file": (lambda v: isinstance(v, str), "text (the observed-figures file the run is conditioned on)"),
    "observed_sha256": (lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{64}", v) is not None,
                        "a SHA-256 sum (64 hex digits)"),
    "observed_figures": (lambda v: _is_int(v, 1), "a whole number >= 1"),
    "effective_replications": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "conditioning": (lambda v: isinstance(v, str), "text (how the run was conditioned: model.posterior)"),
    "smc_stages": (lambda v: _is_int(v, 1), "a whole number >= 1"),
    "smc_proposals": (lambda v: _is_int(v, 0), "a whole number >= 0"),
    "smc_acceptance": (lambda v: v is None or (_is_number(v) and 0 <= v <= 1), "a share or null"),
    "prior_figures": (lambda v: isinstance(v, dict) and all(isinstance(x, dict) for x in v.values()),
                      "a table of the forecast before each figure"),
}
REQUIRED = ("scenario", "seed", "replications", "years", "targets")

#: Keys of the resolved scenario (``manifest["scenario"]``) -> (test, what it must be).
SCENARIO_SCHEMA = {
    "name": (valid_name, f"a scenario name ({NAME_RULE})"),
    "title_zh": (lambda v: isinstance(v, str), "text"),
    "title_en": (lambda v: isinstance(v, str), "text"),
    "description": (lambda v: v is None or isinstance(v, str), "text"),
    "description_zh": (lambda v: v is None or isinstance(v, str), "text"),
    "levers": (lambda v: isinstance(v, dict), "a table"),
    "uncertainties": (lambda v: isinstance(v, dict) and all(isinstance(x, dict) for x in v.values()),
                      "a table of distributions"),
    "correlations": (lambda v: isinstance(v, list), "a list"),
    "thresholds": (lambda v: isinstance(v, dict) and all(_is_number(x) for x in v.values()),
                   "a table of numbers"),
    "links": (lambda v: isinstance(v, dict), "a table"),
}


def _found(value: Any) -> str:
    text = repr(value)
    return printable(text if len(text) <= 40 else text[:37] + "...")


def check_run_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Refuse a run manifest with a missing or unknown key or a value of the wrong type."""
    missing = [k for k in REQUIRED if k not in manifest]
    if missing:
        raise RunError(path, f"manifest.json lacks {', '.join(missing)}",
                       "it was not written by `python -m model run`; run the scenario again")
    for key, value in manifest.items():
        if key not in RUN_SCHEMA:
            raise RunError(path, f"manifest.json has an unknown key {printable(key)!r}",
                           "it was edited or not written by this model: rerun the scenario")
        test, expected = RUN_SCHEMA[key]
        if not test(value):
            raise RunError(path, f"manifest.json: {key} must be {expected}, found {_found(value)}", RERUN)
    scenario = manifest["scenario"]
    if "name" not in scenario:
        raise RunError(path, "manifest.json lacks scenario.name",
                       "it was not written by `python -m model run`; run the scenario again")
    for key, (test, expected) in SCENARIO_SCHEMA.items():
        if key in scenario and not test(scenario[key]):
            raise RunError(path, f"manifest.json: scenario.{key} must be {expected}, found {_found(scenario[key])}",
                           RERUN)


def check_comparison_manifest(path: Path, manifest: dict[str, Any]) -> list[str]:
    """The scenario names of a comparison manifest, each checked to be a valid name."""
    hint = "run the comparison again"
    names = manifest.get("scenarios")
    if not isinstance(names, list) or len(names) < 2:
        raise RunError(path, "manifest.json: scenarios must be a list of at least two scenario names", hint)
    for name in names:
        if not valid_name(name):
            raise RunError(path, f"manifest.json: scenarios holds {_found(name)}, which is not a scenario name "
                           f"({NAME_RULE})", hint)
    if len(set(names)) != len(names):
        raise RunError(path, "manifest.json: scenarios names one scenario twice", hint)
    return names


def read_run_manifest(path: Path) -> dict[str, Any]:
    """``path/manifest.json``: a regular file holding a run's manifest (:func:`check_run_manifest`)."""
    manifest_file = path / "manifest.json"
    try:
        if manifest_file.is_symlink() or not manifest_file.is_file():
            raise RunError(path, "manifest.json is not a regular file", RERUN)
        if manifest_file.stat().st_size > 50_000_000:  # ours are a few hundred kB at most
            raise RunError(path, "manifest.json is far larger than a run's manifest", RERUN)
        with open(manifest_file, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, RunError):
            raise
        raise RunError(path, f"manifest.json cannot be read ({exc})", "run the scenario again to rewrite it") from exc
    if not isinstance(manifest, dict):
        raise RunError(path, "manifest.json is not a JSON object", "run the scenario again to rewrite it")
    if manifest.get("kind") == "comparison":
        raise RunError(path, "is a comparison of several runs, not one run",
                       f"pass its runs instead, e.g. {path / 'runs' / 'NAME'}")
    check_run_manifest(path, manifest)
    return manifest


def check_weights(path: Path, manifest: dict[str, Any], weights: np.ndarray | None) -> np.ndarray | None:
    """A conditioned run's weights: (replications,) non-negative numbers summing to 1."""
    if weights is None:
        return None
    weights = weights.astype(float) if weights.dtype.kind in "fiu" else weights
    if (weights.shape != (int(manifest["replications"]),) or weights.dtype.kind != "f"
            or not np.all(np.isfinite(weights) & (weights >= 0)) or abs(weights.sum() - 1) > 1e-9):
        raise RunError(path, "replications.npz: weight is not one weight >= 0 per replication summing to 1", RERUN)
    return weights
