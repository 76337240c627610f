"""Loading saved runs (directories written by :meth:`model.results.Results.save`).

A complete run directory holds ``summary.csv``, ``trajectories.csv``, ``replications.npz`` and
``manifest.json``; the manifest is written last, so a directory without it is an interrupted
save. :func:`load_run` reads everything back into a :class:`SavedRun`, which offers the same
interface (:class:`Run`) as a run just simulated::

    from model.runs import load_run
    run = load_run("runs/plan")
    run.summary            # DataFrame, the same table as Results.summary
    run.met["techreform.investment_share.2020"]   # bool array (replications,)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import views
from .series import series_values
from .tables import summary_table

__all__ = ["RUN_FILES", "Run", "RunError", "SavedRun", "load_run"]

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


class Run:
    """The one run type: what a finished run offers, in memory or read back from disk.

    :class:`model.results.Results` (a run just simulated) and :class:`SavedRun` (a run read
    from its directory) are both a ``Run``; every consumer (comparisons, sweeps, workbooks,
    briefs, the command line) takes a ``Run``. Every member is an attribute; the tables are
    numeric (:mod:`model.tables`) and computed once: treat them as read-only.

    Attributes
    ----------
    name : str
        Scenario name, a unique identifier.
    seed, replications : int
        Root seed and number of replications [-].
    manifest : dict
        Provenance (resolved scenario, hash, seed, replications, years, targets, versions, times).
    summary : DataFrame
        One row per registry target (:func:`model.tables.summary_table`).
    trajectories : DataFrame
        Quantiles of every yearly indicator per year (:func:`model.tables.trajectory_table`).
    values, met : dict
        Target id -> value at the deadline / met (bool), shape (replications,).
    drivers : DataFrame or None
        The strongest drivers of each target (:func:`model.drivers.top_drivers`); None for a
        run without sampled inputs (saved before drivers existed).
    joint, departments, districts : DataFrame
        The views of :mod:`model.views`.

    ``series(id)`` gives a published series (:mod:`model.series`) per replication and year.
    """

    name: str
    seed: int
    replications: int
    manifest: dict[str, Any]
    summary: pd.DataFrame
    trajectories: pd.DataFrame
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    drivers: pd.DataFrame | None

    @property
    def settings(self) -> dict[str, Any]:
        """The resolved scenario as saved (``manifest["scenario"]``: levers, uncertainties,
        thresholds, links, titles)."""
        return self.manifest["scenario"]

    def probability(self, target_id: str) -> float:
        """Share of replications meeting ``target_id``."""
        return float(self.met[target_id].mean())

    def series(self, series_id: str) -> np.ndarray:
        """A published series (``python -m model series`` lists them), per replication and year.

        Returns
        -------
        ndarray of float, shape (replications, 5)
            Years 2016-2020, in the series' unit; NaN where a year has no value (growth in 2016,
            years before the series' first year).

        Raises
        ------
        SeriesError
            Unknown id (with a did-you-mean), a series not modelled yet, or a run that does not
            hold the yearly indicators (a saved run).
        """
        return series_values(series_id, self._yearly_indicators(), run=self._label())

    def _yearly_indicators(self) -> dict[str, np.ndarray] | None:
        """The yearly indicators per replication, or None when the run does not hold them."""
        return None

    def _label(self) -> str:
        return f"run '{self.name}'"

    @cached_property
    def joint(self) -> pd.DataFrame:
        """Every target of each plan, the three headline goals together, count met (:func:`views.joint`)."""
        return views.joint(self.met)

    @cached_property
    def departments(self) -> pd.DataFrame:
        """Each responsible unit's targets, lowest likelihood first (:func:`views.departments`)."""
        return views.departments(self.summary)

    @cached_property
    def districts(self) -> pd.DataFrame:
        """The 2017 district targets with the city total (:func:`views.districts`)."""
        return views.districts(self.values, self.met)


@dataclass(frozen=True, eq=False)
class SavedRun(Run):
    """A run read back from its directory (:func:`load_run`); see :class:`Run`.

    The summary is computed from the saved replications (exactly as the run computed it);
    trajectories and drivers are read from their CSV files (rounded to 4 decimals there).
    """

    path: Path | None
    manifest: dict[str, Any]
    trajectories: pd.DataFrame
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    drivers: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        return str(self.manifest["scenario"]["name"])

    @property
    def seed(self) -> int:
        return int(self.manifest["seed"])

    @property
    def replications(self) -> int:
        return int(self.manifest["replications"])

    @cached_property
    def summary(self) -> pd.DataFrame:
        return summary_table(self.values, self.met, self.settings.get("thresholds", {}))

    def _label(self) -> str:
        return f"the saved run {self.path}" if self.path is not None else f"the saved run '{self.name}'"


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
        raise RunError(path, "no such directory",
                       "check the path, or run the scenario first with `python -m model run`")
    if not path.is_dir():
        raise RunError(
            path, "is not a directory", "pass a run directory such as runs/plan (scenario files end in .toml)"
        )
    if ".partial-" in path.name or ".old-" in path.name:
        raise RunError(path, "is a temporary directory of an interrupted save", "delete it and run the scenario again")
    if not (path / "manifest.json").exists():
        raise RunError(
            path,
            "has no manifest.json, so it is not a complete run (perhaps an interrupted save)",
            "run the scenario again with `python -m model run`",
        )
    manifest = _read_manifest(path)
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise RunError(path, f"is incomplete: {', '.join(missing)} missing", "run the scenario again to rewrite it")
    try:
        columns = pd.read_csv(path / "summary.csv", encoding="utf-8-sig", nrows=0).columns
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
    if "target_id" not in columns:
        raise RunError(path, "summary.csv has no target_id column", "run the scenario again to rewrite it")
    expected = set(manifest["targets"])
    if set(met) != expected or set(values) != expected:
        raise RunError(
            path,
            "replications.npz does not hold the targets listed in manifest.json",
            "run the scenario again to rewrite it",
        )
    n = int(manifest["replications"])
    bad = sorted(k for k, v in met.items() if v.shape != (n,))
    if bad:
        raise RunError(
            path, f"replications.npz: {bad[0]} does not hold {n} replications", "run the scenario again to rewrite it"
        )
    return SavedRun(path, manifest, trajectories, values, met, drivers)
