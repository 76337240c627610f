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

import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import views
from .outside import INDICATORS as KEPT_YEARLY
from .printable import printable
from .series import series_indicators, series_values
from .sketch import StoredQuantiles
from .stats import effective_size, equal_weights, share_interval
from .tables import SCALE_COLUMN, summary_table
from .targets import load_registry
from .timeline import YEARS
from .verify import RERUN, RunError, check_checksums, check_files, check_weights, read_run_manifest

__all__ = ["KEPT_YEARLY", "RUN_FILES", "Run", "RunError", "SavedRun", "load_run"]

#: Files every complete run directory holds (manifest.json last written).
RUN_FILES = ("summary.csv", "trajectories.csv", "replications.npz", "manifest.json")


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
    calibration : DataFrame or None
        The published series for 2017 and 2018 against the outside view
        (:func:`model.calibration.calibration_table`); None for a run saved before it existed.
    joint, departments, districts : DataFrame
        The views of :mod:`model.views`.
    weights : ndarray
        float64 (replications,), summing to 1: the replications' weights given the observed
        figures of a conditioned run (:mod:`model.conditioning`), 1 / replications each otherwise;
        weight any custom statistic with them.
    effective_replications : float
        Kish's effective sample size (sum w)^2 / sum w^2 [-]; the replications when unweighted.

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
    calibration: pd.DataFrame | None

    @property
    def settings(self) -> dict[str, Any]:
        """The resolved scenario as saved (``manifest["scenario"]``: levers, uncertainties, ...)."""
        return self.manifest["scenario"]

    @property
    def weights(self) -> np.ndarray:
        return equal_weights(self.replications)

    @property
    def condition_weights(self) -> np.ndarray | None:
        """The weights the tables use: :attr:`weights` if conditioned on observed figures, else None."""
        return None if "observed_file" not in self.manifest else self.weights

    @property
    def effective_replications(self) -> float:
        return effective_size(self.weights)

    def probability(self, target_id: str) -> float:
        """Share of replications meeting ``target_id`` (weighted, when conditioned)."""
        return share_interval(self.met[target_id], self.condition_weights)[0]

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

    def kept_yearly(self) -> dict[str, np.ndarray]:
        """Those of :data:`KEPT_YEARLY` (what :mod:`model.outside` reads) and the series' indicators
        (:func:`~model.series.series_indicators`) the run holds, ``(replications, years)``."""
        indicators = self._yearly_indicators() or {}
        return {k: indicators[k] for k in (*KEPT_YEARLY, *series_indicators()) if k in indicators}

    def _label(self) -> str:
        return f"run '{self.name}'"

    def stored_quantiles(self) -> dict[str, np.ndarray]:
        """What a streamed run saves in place of its values: target id -> 10/50/90 % quantiles."""
        return {}

    @cached_property
    def joint(self) -> pd.DataFrame:
        """Every target of each plan, the three headline goals together, count met (:func:`views.joint`)."""
        return views.joint(self.met, weights=self.condition_weights)

    @cached_property
    def departments(self) -> pd.DataFrame:
        """Each responsible unit's targets, lowest likelihood first (:func:`views.departments`)."""
        return views.departments(self.summary)

    @cached_property
    def districts(self) -> pd.DataFrame:
        """The 2017 district targets with the city total (:func:`views.districts`)."""
        return views.districts(self.values, self.met, weights=self.condition_weights)


@dataclass(frozen=True, eq=False)
class SavedRun(Run):
    """A run read back from its directory (:func:`load_run`); see :class:`Run`.

    The summary is computed from the saved replications (exactly as the run computed it);
    trajectories and drivers are read from their CSV files (rounded to 4 decimals there). The
    yearly indicators of :data:`KEPT_YEARLY` and of the published series are kept per replication
    in ``replications.npz`` (``yearly/<indicator>``; absent in runs saved before they were kept).
    """

    path: Path | None
    manifest: dict[str, Any]
    trajectories: pd.DataFrame
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    drivers: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    kept: dict[str, np.ndarray] = field(default_factory=dict)
    stored: dict[str, np.ndarray] = field(default_factory=dict)  # a streamed run's quantiles
    saved_weights: np.ndarray | None = None  # ``weight`` of replications.npz (a conditioned run)

    @property
    def weights(self) -> np.ndarray:
        return super().weights if self.saved_weights is None else self.saved_weights

    def stored_quantiles(self) -> dict[str, np.ndarray]:
        return dict(self.stored)

    def _yearly_indicators(self) -> dict[str, np.ndarray] | None:
        return dict(self.kept) or None

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
        values = StoredQuantiles(self.stored) if self.manifest.get("streamed") else self.values
        return summary_table(values, self.met, self.settings.get("thresholds", {}), self.condition_weights)

    @cached_property
    def districts(self) -> pd.DataFrame:
        """As the run computed it; a streamed run keeps no values per replication, so its table is
        read back from ``districts.csv``."""
        if self.manifest.get("streamed") and self.path is not None:
            return _read_csv(self.path, "districts.csv")
        return views.districts(self.values, self.met, weights=self.condition_weights)

    def _label(self) -> str:
        return f"the saved run {self.path}" if self.path is not None else f"the saved run '{self.name}'"


#: Numeric columns of the CSV files a saved run reads back.
_NUMERIC = {
    "trajectories.csv": ("mean", "p10", "p25", "p50", "p75", "p90"),
    "drivers.csv": ("rank", "probability_low", "probability_high", "swing", "swing_low", "swing_high"),
    "calibration.csv": ("year", "p5", "p25", "p50", "p75", "p95", "reference_low", "reference_high"),
}
#: Text columns a saved calibration.csv must hold (the brief reads them).
_CALIBRATION_TEXT = ("series_id", "name_zh", "name_en", "status", "reason_zh", "reason_en")


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(path / name, encoding="utf-8-sig").drop(columns=[SCALE_COLUMN], errors="ignore")
    for col in _NUMERIC.get(name, ()) + (_CALIBRATION_TEXT if name == "calibration.csv" else ()):
        if col not in frame.columns:
            raise RunError(path, f"{name} has no {col} column", RERUN)
        if col in _CALIBRATION_TEXT:
            frame[col] = frame[col].fillna("").astype(str)
            continue
        if frame[col].dtype.kind not in "fiu":
            raise RunError(path, f"{name}: column {col} holds text where numbers belong", RERUN)
    return frame


def _read_replications(path: Path) -> tuple[dict[str, np.ndarray], ...]:
    values: dict[str, np.ndarray] = {}
    met: dict[str, np.ndarray] = {}
    kept: dict[str, np.ndarray] = {}
    stored: dict[str, np.ndarray] = {}
    weights = None
    with open(path / "replications.npz", "rb") as fh:  # closed however np.load fails
        npz = np.load(fh, allow_pickle=False)  # pickles are never loaded
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with npz:
            for key in npz.files:
                kind, _, target = key.partition("/")
                if kind == "value":
                    values[target] = npz[key]
                elif kind == "met":
                    met[target] = npz[key]
                elif kind == "yearly" and target in (*KEPT_YEARLY, *series_indicators()):
                    kept[target] = npz[key]
                elif kind == "quantile":
                    stored[target] = npz[key]
                elif key == "weight":
                    weights = npz[key]
    return values, met, kept, stored, weights


def _check_arrays(path: Path, manifest: dict[str, Any], values, met, stored) -> dict[str, np.ndarray]:
    expected = set(manifest["targets"])
    streamed = manifest.get("streamed") is True
    if streamed:
        for key, array in sorted(stored.items()):
            if array.shape != (3,) or array.dtype.kind not in "fiu":
                raise RunError(path, f"replications.npz: quantile/{key} is not three numbers", RERUN)
    if set(met) != expected or set(stored if streamed else values) != expected:
        raise RunError(
            path,
            "replications.npz does not hold the targets listed in manifest.json",
            "run the scenario again to rewrite it",
        )
    n = int(manifest["replications"])
    for kind, arrays, kinds in (("met", met, "b"), ("value", values, "fiub")):
        for key, array in sorted(arrays.items()):
            if array.shape != (n,):
                raise RunError(path, f"replications.npz: {key} does not hold {n} replications",
                               "run the scenario again to rewrite it")
            if array.dtype.kind not in kinds:
                raise RunError(path, f"replications.npz: {kind}/{key} holds {array.dtype} data, not "
                               f"{'met/not met flags' if kind == 'met' else 'numbers'}", RERUN)
    return {k: v.astype(bool) for k, v in met.items()}


def _check_kept(path: Path, manifest: dict[str, Any], kept: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The kept yearly indicators: numbers, one row per replication, one column per model year
    (a manifest's own years are compared where runs meet, :mod:`model.compare`)."""
    shape = (int(manifest["replications"]), len(YEARS))
    for key, array in sorted(kept.items()):
        if array.shape != shape or array.dtype.kind not in "fiu":
            raise RunError(path, f"replications.npz: yearly/{key} is not a numeric array of shape {shape}", RERUN)
    return {k: v.astype(float) for k, v in kept.items()}


def _check_summary(path: Path, run: SavedRun, summary_file: pd.DataFrame) -> None:
    """summary.csv holds every registry target once, and the likelihoods the replications give."""
    if "target_id" not in summary_file.columns:
        raise RunError(path, "summary.csv has no target_id column", "run the scenario again to rewrite it")
    ids = [str(t) for t in summary_file["target_id"]]
    registry = [t.id for t in load_registry()]
    if len(set(ids)) != len(ids) or set(ids) != set(registry):
        gone = sorted(set(registry) - set(ids))
        what = f"lacks the row of {gone[0]}" if gone else "does not hold one row per registry target"
        raise RunError(path, f"summary.csv {what}", RERUN)
    if "probability" not in summary_file.columns or summary_file["probability"].dtype.kind not in "fi":
        raise RunError(path, "summary.csv: column probability holds text where numbers belong", RERUN)
    written = summary_file.set_index("target_id")["probability"].astype(float)
    computed = run.summary.set_index("target_id")["probability"]
    both = written.notna() & computed.reindex(written.index).notna()
    off = (written[both] - computed.reindex(written.index)[both]).abs() > 1e-4 + 1e-9
    if off.any():
        raise RunError(path, f"summary.csv: the likelihood of {off[off].index[0]} is not the one its replications give",
                       RERUN)


def load_run(path: str | Path) -> SavedRun:
    """Read a run directory written by :meth:`Results.save`, verified before use.

    The manifest is checked against the schema of a run's manifest (:mod:`model.verify`), the
    files it lists against their SHA-256 checksums, and every file must be a regular file. A
    run saved before checksums existed is checked as far as it can be: the replications
    against the manifest's targets and replications, ``summary.csv`` against them.

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
        temporary directory or no ``manifest.json``), lacks a file, holds a symbolic link,
        unreadable or altered data, or a manifest that is not a run's.
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
    if not (path / "manifest.json").exists() and not (path / "manifest.json").is_symlink():
        raise RunError(
            path,
            "has no manifest.json, so it is not a complete run (perhaps an interrupted save)",
            "run the scenario again with `python -m model run`",
        )
    check_files(path, "run")
    manifest = read_run_manifest(path)
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise RunError(path, f"is incomplete: {', '.join(missing)} missing", "run the scenario again to rewrite it")
    check_checksums(path, manifest, "run")
    frames: dict[str, pd.DataFrame | None] = {"drivers.csv": None, "calibration.csv": None}
    for name in ("summary.csv", "trajectories.csv", "drivers.csv", "calibration.csv", "replications.npz"):
        if not (path / name).is_file():
            continue  # drivers.csv, calibration.csv: runs saved before they existed
        try:
            if name == "replications.npz":
                values, met, kept, stored, weights = _read_replications(path)
            else:
                frames[name] = _read_csv(path, name)
        except RunError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, pd.errors.ParserError,
                UnicodeDecodeError) as exc:
            if name.endswith(".npz"):  # numpy's own text can advise loading pickles: never relay it
                raise RunError(path, f"{name} is not a readable NumPy .npz archive of a run",
                               "run the scenario again to rewrite it") from exc
            raise RunError(path, f"{name} cannot be read ({type(exc).__name__}: {printable(str(exc))[:200]})",
                           "run the scenario again to rewrite it") from exc
    summary_file, trajectories, drivers = frames["summary.csv"], frames["trajectories.csv"], frames["drivers.csv"]
    run = SavedRun(path, manifest, trajectories, values, _check_arrays(path, manifest, values, met, stored), drivers,
                   frames["calibration.csv"], _check_kept(path, manifest, kept), stored,
                   check_weights(path, manifest, weights))
    _check_summary(path, run, summary_file)
    return run
