"""Results of a run: likelihoods with Monte Carlo intervals, quantiles, trajectories, saving.

Traffic light (``status`` column), on the estimated likelihood p of meeting a target:

* ``green``  p >= 0.80  (likely)
* ``amber``  0.50 <= p < 0.80  (uncertain)
* ``red``    p < 0.50  (unlikely)
* ``not modelled`` the registry holds the target but no module produces its indicator yet.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import subprocess
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import drivers as drivers_mod
from . import views
from .atomic import atomic_directory
from .params import indicator_spec
from .scenario import Scenario
from .targets import load_registry
from .timeline import YEARS, to_date

GREEN, AMBER = 0.80, 0.50
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
MODEL_VERSION = "0.1.0"
PACKAGES = ("numpy", "scipy", "pandas", "simpy")


def traffic_light(p: float) -> str:
    """Status for a likelihood ``p`` (see the module docstring for the thresholds)."""
    if np.isnan(p):
        return "not modelled"
    return "green" if p >= GREEN else "amber" if p >= AMBER else "red"


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` replications."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def _quantiles(values: np.ndarray, qs) -> np.ndarray:
    """Quantiles over replications (axis 0), ignoring NaN; no interpolation, so +inf is kept."""
    if np.isnan(values).all():
        return np.full((len(qs),) + values.shape[1:], np.nan)
    with warnings.catch_warnings():  # a year with no defined value (all NaN) gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, qs, axis=0, method="inverted_cdf")


def _as_date(t: float) -> str:
    if not np.isfinite(t):
        return "never" if t > 0 else ""
    return to_date(float(t)).isoformat()


@dataclass
class Results:
    """Everything a run produced, per replication, with summaries on demand."""

    scenario: Scenario
    seed: int
    replications: int
    indicators: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # sampled uncertainties, (n,) each

    @classmethod
    def from_blocks(cls, scenario, blocks, *, seed, replications, workers, started, finished) -> Results:
        def cat(attr: str) -> dict[str, np.ndarray]:
            keys = getattr(blocks[0], attr).keys()
            return {k: np.concatenate([getattr(b, attr)[k] for b in blocks]) for k in keys}

        meta = {
            "workers": workers,
            "started": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
            "finished": dt.datetime.fromtimestamp(finished, dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(finished - started, 3),
        }
        return cls(scenario, seed, replications, cat("indicators"), cat("values"), cat("met"), meta,
                   cat("inputs"))

    # -- tables ---------------------------------------------------------------------------------
    def probability(self, target_id: str) -> float:
        """Share of replications meeting ``target_id``."""
        return float(self.met[target_id].mean())

    def summary(self) -> pd.DataFrame:
        """One row per registry target, likelihood with its Wilson interval and quantiles."""
        return self._summary.copy()

    @cached_property
    def _summary(self) -> pd.DataFrame:
        # computed once: printing a run and saving it both need it
        rows = []
        n = self.replications
        for t in load_registry():
            row: dict[str, Any] = {
                "target_id": t.id,
                "plan": t.plan,
                "name_zh": t.name_zh,
                "name_en": t.name_en,
                "deadline": t.deadline.isoformat(),
                "test": t.test(self.scenario.thresholds.get(t.id)),
                "unit": t.unit,
                "probability": np.nan,
                "probability_low": np.nan,
                "probability_high": np.nan,
                "median": None,
                "p10": None,
                "p90": None,
                "status": "not modelled",
                "responsible": "、".join(t.responsible),
            }
            if t.modelled:
                k = int(self.met[t.id].sum())
                low, high = wilson(k, n)
                value = self.values[t.id]
                q10, q50, q90 = _quantiles(value, (0.1, 0.5, 0.9))
                fmt = _as_date if t.is_milestone else (lambda x: round(float(x), 4))
                row.update(
                    probability=k / n, probability_low=math.floor(low * 1e4) / 1e4, probability_high=math.ceil(high * 1e4) / 1e4,
                    median=fmt(q50), p10=fmt(q10), p90=fmt(q90), status=traffic_light(k / n),
                )
            rows.append(row)
        return pd.DataFrame(rows)

    def trajectories(self) -> pd.DataFrame:
        """Quantiles of every yearly indicator per year (tidy: one row per indicator and year)."""
        rows = []
        for key, arr in self.indicators.items():
            spec = indicator_spec(key)
            if spec.kind != "yearly":
                continue
            qs = _quantiles(arr, QUANTILES)
            finite = np.where(np.isfinite(arr), arr, 0.0)
            count = np.isfinite(arr).sum(axis=0)
            means = np.divide(finite.sum(axis=0), count, out=np.full(arr.shape[1], np.nan), where=count > 0)
            for j, year in enumerate(YEARS):
                rows.append({
                    "indicator": key, "year": year, "unit": spec.unit,
                    "mean": round(float(means[j]), 4),
                    **{f"p{int(q * 100)}": round(float(qs[i, j]), 4) for i, q in enumerate(QUANTILES)},
                    "name_zh": spec.zh, "name_en": spec.en,
                })
        return pd.DataFrame(rows)

    def joint(self) -> pd.DataFrame:
        """Joint likelihoods: every target of each plan, the three headline goals of 2020
        together, every plan-level target, and how many are met (see :func:`model.views.joint`)."""
        return views.joint(self.met)

    def departments(self) -> pd.DataFrame:
        """Each responsible unit's targets, lowest likelihood first (:func:`model.views.departments`)."""
        return views.departments(self._summary)

    def districts(self) -> pd.DataFrame:
        """The 2017 district targets with the city total (:func:`model.views.districts`)."""
        return views.districts(self.values, self.met)

    def drivers(self, target_id: str | None = None, top: int = drivers_mod.TOP) -> pd.DataFrame:
        """The uncertainties that move each target's likelihood most (:mod:`model.drivers`).

        One row per target and driver, strongest first: the likelihood when the input falls in
        the lowest and in the highest third of its draws, and the swing between them with its
        95 % interval. Only swings that stand out from the Monte Carlo noise are listed.
        """
        table = self._drivers if top == drivers_mod.TOP else drivers_mod.top_drivers(self._screened, top)
        if target_id is not None:
            if target_id not in self.met:
                raise KeyError(f"{target_id!r} is not a modelled target of this run")
            table = table[table["target_id"] == target_id].reset_index(drop=True)
        return table.copy()

    @cached_property
    def _screened(self) -> pd.DataFrame:
        if not self.inputs:
            raise ValueError("this Results holds no sampled inputs (drivers need a fresh simulate())")
        reach = drivers_mod.target_reach(self.scenario.enabled_links, self.met)
        return drivers_mod.screen(self.inputs, self.met, reach)

    @cached_property
    def _drivers(self) -> pd.DataFrame:
        return drivers_mod.top_drivers(self._screened)

    # -- saving ------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """Provenance: resolved scenario, hash, seed, replications, versions, times."""
        versions = {}
        for name in PACKAGES:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = None
        return {
            "kind": "run",
            "scenario": self.scenario.to_dict(),
            "scenario_hash": self.scenario.hash(),
            "scenario_files": list(self.scenario.files),
            "seed": self.seed,
            "replications": self.replications,
            "years": list(YEARS),
            "targets": sorted(self.met),
            "model_version": MODEL_VERSION,
            "git_commit": _git_commit(),
            "python": platform.python_version(),
            "packages": versions,
            **self.meta,
        }

    def save(self, out_dir: str | Path) -> Path:
        """Write summary.csv, trajectories.csv, joint.csv, departments.csv, districts.csv,
        drivers.csv, replications.npz and manifest.json to ``out_dir``.

        Files go to a temporary sibling directory that is renamed into place at the end, with
        the manifest written last: an interrupted save never leaves a complete-looking run.
        """
        with atomic_directory(out_dir, "run") as tmp:
            self.summary().to_csv(tmp / "summary.csv", index=False, encoding="utf-8-sig")
            self.trajectories().to_csv(tmp / "trajectories.csv", index=False, encoding="utf-8-sig")
            self.joint().to_csv(tmp / "joint.csv", index=False, encoding="utf-8-sig")
            self.departments().to_csv(tmp / "departments.csv", index=False, encoding="utf-8-sig")
            self.districts().to_csv(tmp / "districts.csv", index=False, encoding="utf-8-sig")
            if self.inputs:
                self.drivers().to_csv(tmp / "drivers.csv", index=False, encoding="utf-8-sig")
            np.savez_compressed(
                tmp / "replications.npz",
                **{f"value/{k}": v for k, v in self.values.items()},
                **{f"met/{k}": v for k, v in self.met.items()},
            )
            with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
                json.dump(self.manifest(), fh, ensure_ascii=False, indent=2, default=str)
        return Path(out_dir)



def _git_commit() -> str | None:
    try:
        here = Path(__file__).parent
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
