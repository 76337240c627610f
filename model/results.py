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
import platform
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import drivers as drivers_mod
from .atomic import atomic_directory, writing
from .blocks import BLOCK, BlockResult, Earlier, evaluate, plan_blocks, run_modules, stream
from .calibration import QUANTILE_COLUMNS, calibration_table
from .conditioning import condition_run, moved_weights
from .latent import LatentStream
from .observed import Observed
from .outside import outside_table, outside_view
from .replay import REPLAY_BYTES, Recording
from .report.excel import write_workbook
from .runs import Run
from .scenario import Scenario
from .stats import equal_weights
from .tables import (
    interval_csv,
    rounded_csv,
    summary_csv,
    summary_table,
    trajectory_table,
    write_csv,
)
from .targets import load_registry
from .timeline import YEARS
from .variants import levers_variant
from .verify import file_checksums

MODEL_VERSION = "0.1.0"
TOPUP_DOMAIN = 5  # the stream domain of the fresh top-ups a particle's replayed events may need
PACKAGES = ("numpy", "scipy", "pandas", "simpy")


def _meta(workers: int, started: float, finished: float) -> dict[str, Any]:
    """How a run ran: workers, start and end (UTC), seconds."""
    return {
        "workers": workers,
        "started": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
        "finished": dt.datetime.fromtimestamp(finished, dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(finished - started, 3),
    }


@dataclass(eq=False)
class Results(Run):
    """Everything a run produced, per replication, with its tables (the :class:`~model.runs.Run`
    interface) computed on first use."""

    scenario: Scenario
    seed: int
    replications: int
    indicators: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # sampled uncertainties, (n,) each
    #: per replication, summing to 1 (:mod:`model.conditioning`); None given: equal
    weights: np.ndarray | None = field(default=None, kw_only=True)
    observed: Observed | None = field(default=None, kw_only=True)  # the figures the weights condition on
    #: block -> module -> its recorded stream (:mod:`model.replay`), kept by :meth:`with_levers` for
    #: the next lever move on this run and on the runs it returns; None: too large to keep
    _streams: dict[int, dict[str, Recording]] | None = field(default_factory=dict, init=False, repr=False)
    #: a particle run's blocks (:mod:`model.posterior`): (particles, module -> their events) each
    _particles: list[tuple[int, dict[str, Recording]]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.weights is None:
            self.weights = equal_weights(self.replications)

    @classmethod
    def from_blocks(cls, scenario, blocks, *, seed, replications, workers, started, finished) -> Results:
        def cat(attr: str) -> dict[str, np.ndarray]:
            keys = getattr(blocks[0], attr).keys()
            return {k: np.concatenate([getattr(b, attr)[k] for b in blocks]) for k in keys}

        return cls(scenario, seed, replications, cat("indicators"), cat("values"), cat("met"),
                   _meta(workers, started, finished), cat("inputs"))

    def with_levers(self, changes: Mapping[str, Any]) -> Results:
        """The Results of this run's scenario with the levers ``changes`` set, on the same draws.

        Draws never depend on levers, so every sampled input and every module stream is reused:
        only the modules whose levers change, and the modules downstream whose linked inputs
        changed with them, are run again (block by block, as :func:`model.simulate` runs them,
        :func:`model.blocks.run_modules`), and a module that can reuses the parts of its earlier
        indicators the change cannot reach (``simulate_again``); the others keep their indicators. The result is
        identical to a fresh :func:`model.simulate` of the changed scenario with the same seed
        and replications (``tests/test_with_levers.py``). A conditioned run is weighted again by
        the same observed figures.

        Parameters
        ----------
        changes : mapping
            ``"module.lever"`` -> value, validated like a scenario file
            (:func:`model.variants.levers_variant`; a bad name or value raises ``ScenarioError``).
        """
        if not self.inputs:
            raise ValueError("this run holds no sampled inputs to re-evaluate; simulate it again")
        scenario = levers_variant(self.scenario, changes)
        started = time.time()
        registry, parts, kept = load_registry(), [], set(self.indicators)
        for b, rows, streams in self._move_blocks():
            draws = {k: v[rows] for k, v in self.inputs.items()}
            earlier = Earlier(self.scenario, {k: v[rows] for k, v in self.indicators.items()})
            indicators = run_modules(scenario, draws, self.seed, b, earlier, streams)
            held = 0 if self._particles is not None or streams is None else sum(r.nbytes for r in streams.values())
            if held * self.replications > REPLAY_BYTES * (rows.stop - rows.start):
                self._streams = None  # the recordings of every block would not fit: draw afresh
            kept &= {k for k, v in indicators.items() if v is earlier.indicators[k]}  # taken as they were
            values, met = evaluate(registry, indicators, scenario.thresholds)
            parts.append(BlockResult(indicators, values, met, draws))

        def cat(attr: str, k: str) -> np.ndarray:
            return np.concatenate([getattr(part, attr)[k] for part in parts])
        results = Results(  # indicators no block changed, and the inputs, are this run's own arrays
            scenario, self.seed, self.replications,
            {k: self.indicators[k] if k in kept else cat("indicators", k) for k in parts[0].indicators},
            {k: cat("values", k) for k in parts[0].values}, {k: cat("met", k) for k in parts[0].met},
            _meta(1, started, time.time()), self.inputs)
        results._streams, results._particles = self._streams, self._particles
        if self._particles is not None:  # the same particles, weighted for the changed levers
            moved = moved_weights(self.weights, self.observed, self, results)
            results.weights, results.observed = moved.weights, self.observed
            results.meta.update({k: v for k, v in self.meta.items() if k.startswith(("observed", "smc", "condition"))},
                                effective_replications=round(moved.effective, 2))
        elif self.observed is not None:  # the same figures, on the changed forecast
            condition_run(results, self.observed)
        return results

    def _move_blocks(self):
        """(block index, rows, module streams) of each block a lever move reruns: the run's
        blocks with their recordings (:mod:`model.replay`), or a particle run's blocks with
        their particles' events (replayed, :mod:`model.latent`)."""
        if self._particles is None:
            for b, n in plan_blocks(self.replications):
                streams = None if self._streams is None else self._streams.setdefault(b, {})
                yield b, slice(b * BLOCK, b * BLOCK + n), streams
            return
        start = 0
        for b, (n, events) in enumerate(self._particles):
            yield b, slice(start, start + n), {
                name: LatentStream(recording, 1.0, stream(self.seed, TOPUP_DOMAIN, b, name))
                for name, recording in events.items()}
            start += n

    # -- the Run interface ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Scenario name."""
        return self.scenario.name

    @property
    def condition_weights(self) -> np.ndarray | None:
        """None unless the run is conditioned on observed figures; then :attr:`weights`."""
        return None if self.observed is None else self.weights

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per registry target, likelihood with its Wilson interval and quantiles."""
        return summary_table(self.values, self.met, self.scenario.thresholds, self.condition_weights)

    @cached_property
    def trajectories(self) -> pd.DataFrame:
        """Quantiles of every yearly indicator per year (tidy: one row per indicator and year)."""
        return trajectory_table(self.indicators, self.condition_weights)

    @cached_property
    def drivers(self) -> pd.DataFrame | None:
        """The uncertainties that move each target's likelihood most (:mod:`model.drivers`).

        One row per target and driver, strongest first: the likelihood when the input falls in
        the lowest and in the highest third of its draws, and the swing between them with its
        95 % interval. Only swings that stand out from the Monte Carlo noise are listed. None
        when the run holds no sampled inputs.
        """
        if not self.inputs:
            return None
        reach = drivers_mod.target_reach(self.scenario.enabled_links, self.met)
        return drivers_mod.top_drivers(drivers_mod.screen(self.inputs, self.met, reach, self.condition_weights))

    @cached_property
    def calibration(self) -> pd.DataFrame:
        """The published series for 2017 and 2018 against the outside view (:mod:`model.calibration`)."""
        return calibration_table(self.name, self.indicators, self.condition_weights)

    @cached_property
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

    def _yearly_indicators(self) -> dict[str, np.ndarray]:
        return self.indicators

    # -- saving ------------------------------------------------------------------------------------
    def save(self, out_dir: str | Path, xlsx: bool = False, keep_previous: Path | None = None) -> Path:
        """Write the run directory (:func:`save_run`)."""
        return save_run(self, out_dir, xlsx=xlsx, keep_previous=keep_previous)


def save_run(run: Run, out_dir: str | Path, xlsx: bool = False, shown: str | Path | None = None,
             keep_previous: Path | None = None) -> Path:
    """Write summary.csv, trajectories.csv, joint.csv, departments.csv, districts.csv,
    outside_view.csv (:mod:`model.outside`), drivers.csv, calibration.csv, replications.npz, with
    ``xlsx`` results.xlsx, and manifest.json of ``run`` to ``out_dir``.

    Files go to a temporary sibling directory that is renamed into place at the end, with
    the manifest written last: an interrupted save never leaves a complete-looking run. The
    manifest lists the SHA-256 of every other file (``checksums``), which
    :func:`model.runs.load_run` compares. A file that cannot be written raises
    :class:`~model.atomic.WriteError` naming it and ``shown`` (default ``out_dir``: the
    directory as the user knows it); the previous run at ``out_dir`` is then left in place.
    With ``keep_previous`` a previous run at ``out_dir`` is moved there instead of deleted
    (:func:`model.atomic.atomic_directory`).
    """
    shown = out_dir if shown is None else shown
    with atomic_directory(out_dir, "run", keep_previous) as tmp:
        write_run_tables(run, tmp, shown)
        with writing("replications.npz", shown):
            np.savez_compressed(
                tmp / "replications.npz",
                **{f"value/{k}": v for k, v in run.values.items()},
                **{f"met/{k}": v for k, v in run.met.items()},
                **{f"yearly/{k}": v for k, v in run.kept_yearly().items()},
                **{f"quantile/{k}": v for k, v in run.stored_quantiles().items()},
                **({"weight": run.weights} if "observed_file" in run.manifest else {}),
            )
        if xlsx:
            with writing("results.xlsx", shown):
                write_workbook(tmp / "results.xlsx", [run])
        with writing("manifest.json", shown):
            manifest = {k: v for k, v in run.manifest.items() if k != "checksums"}
            manifest["checksums"] = file_checksums(tmp)
            with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, ensure_ascii=False, indent=2, default=str)
    return Path(out_dir)


def write_run_tables(run: Run, out: Path, shown: str | Path | None = None) -> None:
    """The CSV files of a run directory, formatted for reading (:mod:`model.tables`)."""
    shown = out if shown is None else shown
    tables = {
        "summary.csv": lambda: summary_csv(run.summary),
        "trajectories.csv": lambda: rounded_csv(run.trajectories, ["mean", "p10", "p25", "p50", "p75", "p90"]),
        "joint.csv": lambda: interval_csv(run.joint),
        "departments.csv": lambda: interval_csv(run.departments),
        "districts.csv": lambda: run.districts,
        "outside_view.csv": lambda: rounded_csv(outside_table(outside_view(run)), ["value"]),
    }
    if run.drivers is not None:
        columns = ["probability_low", "probability_high", "swing", "swing_low", "swing_high"]
        tables["drivers.csv"] = lambda: rounded_csv(run.drivers, columns)
    if run.calibration is not None:
        numbers = [*QUANTILE_COLUMNS, "reference_low", "reference_high", "city_value"]
        tables["calibration.csv"] = lambda: rounded_csv(run.calibration, numbers)
    for name, table in tables.items():
        frame = table()
        with writing(name, shown):
            write_csv(frame, out / name, fractions=("value",) if name == "outside_view.csv" else ())


def _git_commit() -> str | None:
    try:
        here = Path(__file__).parent
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        status = ["git", "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(status, cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
