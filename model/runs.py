"""Loading saved runs (directories written by :meth:`model.results.Results.save`).

A complete run directory holds ``summary.csv``, ``trajectories.csv``, ``replications.npz`` and
``manifest.json``; the manifest is written last, so a directory without it is an interrupted
save. :func:`load_run` reads everything back into a :class:`SavedRun`::

    from model.runs import load_run
    run = load_run("runs/plan")
    run.summary            # DataFrame, the same columns as Results.summary()
    run.met["techreform.investment_share.2020"]   # bool array (replications,)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RUN_FILES", "RunError", "SavedRun", "load_run"]

#: Files every complete run directory holds (manifest.json last written).
RUN_FILES = ("summary.csv", "trajectories.csv", "replications.npz", "manifest.json")


class RunError(ValueError):
    """A directory that is not a complete saved run (the message says how to fix it)."""

    def __init__(self, path: str | Path, message: str, hint: str = ""):
        self.path = Path(path)
        self.message = message
        self.hint = hint
        text = f"{path}: {message}"
        super().__init__(text + (f"; {hint}" if hint else ""))


@dataclass(frozen=True)
class SavedRun:
    """A run read back from its directory.

    Attributes
    ----------
    path : Path or None
        The run directory (None for a run held in memory, not saved).
    name : str
        Scenario name (``manifest["scenario"]["name"]``), a unique identifier.
    manifest : dict
        Provenance from ``manifest.json`` (resolved scenario, hash, seed, replications, years,
        targets, versions, times).
    summary : DataFrame
        One row per registry target (``summary.csv``).
    trajectories : DataFrame
        Quantiles of yearly indicators (``trajectories.csv``).
    values : dict
        Target id -> value at the deadline per replication, shape (replications,).
    met : dict
        Target id -> bool array of shape (replications,): was the target met?
    drivers : DataFrame or None
        The strongest drivers of each target (``drivers.csv``; None for runs saved before it
        existed).
    """

    path: Path | None
    name: str
    manifest: dict[str, Any]
    summary: pd.DataFrame
    trajectories: pd.DataFrame
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    drivers: pd.DataFrame | None = None

    @property
    def seed(self) -> int:
        """Root seed of the run."""
        return int(self.manifest["seed"])

    @property
    def replications(self) -> int:
        """Number of replications [-]."""
        return int(self.manifest["replications"])

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario as saved (``manifest["scenario"]``)."""
        return self.manifest["scenario"]


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        with open(path / "manifest.json", encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(path, f"manifest.json cannot be read ({exc})", "run the scenario again to rewrite it") from exc
    if not isinstance(manifest, dict):
        raise RunError(path, "manifest.json is not a JSON object", "run the scenario again to rewrite it")
    if manifest.get("kind") == "comparison":
        names = ", ".join(manifest.get("scenarios", []))
        raise RunError(path, f"is a comparison of several runs ({names}), not one run",
                       f"pass its runs instead, e.g. {path / 'runs' / (manifest.get('scenarios') or ['NAME'])[0]}")
    missing = [k for k in ("scenario", "seed", "replications", "years", "targets") if k not in manifest]
    if missing or not isinstance(manifest.get("scenario"), dict) or "name" not in manifest["scenario"]:
        raise RunError(path, f"manifest.json lacks {', '.join(missing) or 'scenario.name'}",
                       "it was not written by `python -m model run`; run the scenario again")
    return manifest


def load_run(path: str | Path) -> SavedRun:
    """Read a run directory written by :meth:`Results.save`.

    Parameters
    ----------
    path : str or Path
        The run directory (e.g. ``runs/plan``).

    Returns
    -------
    SavedRun

    Raises
    ------
    RunError
        The path is missing, is not a directory, is an interrupted save (a ``.partial-``
        temporary directory or no ``manifest.json``), lacks a file or holds unreadable data.
    """
    path = Path(path)
    if not path.exists():
        raise RunError(path, "no such directory", "check the path, or run the scenario first with `python -m model run`")
    if not path.is_dir():
        raise RunError(path, "is not a directory", "pass a run directory such as runs/plan (scenario files end in .toml)")
    if ".partial-" in path.name or ".old-" in path.name:
        raise RunError(path, "is a temporary directory of an interrupted save", "delete it and run the scenario again")
    if not (path / "manifest.json").exists():
        raise RunError(path, "has no manifest.json, so it is not a complete run (perhaps an interrupted save)",
                       "run the scenario again with `python -m model run`")
    manifest = _read_manifest(path)
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise RunError(path, f"is incomplete: {', '.join(missing)} missing", "run the scenario again to rewrite it")
    try:
        summary = pd.read_csv(path / "summary.csv", encoding="utf-8-sig")
        trajectories = pd.read_csv(path / "trajectories.csv", encoding="utf-8-sig")
        drivers = pd.read_csv(path / "drivers.csv", encoding="utf-8-sig") if (path / "drivers.csv").is_file() else None
        values: dict[str, np.ndarray] = {}
        met: dict[str, np.ndarray] = {}
        with np.load(path / "replications.npz", allow_pickle=False) as npz:
            for key in npz.files:
                kind, _, target = key.partition("/")
                if kind == "value":
                    values[target] = npz[key]
                elif kind == "met":
                    met[target] = npz[key].astype(bool)
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        raise RunError(path, f"holds unreadable data ({exc})", "run the scenario again to rewrite it") from exc
    if "target_id" not in summary.columns:
        raise RunError(path, "summary.csv has no target_id column", "run the scenario again to rewrite it")
    expected = set(manifest["targets"])
    if set(met) != expected or set(values) != expected:
        raise RunError(path, "replications.npz does not hold the targets listed in manifest.json",
                       "run the scenario again to rewrite it")
    n = int(manifest["replications"])
    bad = sorted(k for k, v in met.items() if v.shape != (n,))
    if bad:
        raise RunError(path, f"replications.npz: {bad[0]} does not hold {n} replications", "run the scenario again to rewrite it")
    return SavedRun(path, str(manifest["scenario"]["name"]), manifest, summary, trajectories, values, met, drivers)
