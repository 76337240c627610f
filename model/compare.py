"""Comparing scenarios target by target, with paired Monte Carlo intervals for the change.

``compare`` takes scenario files or :class:`~model.scenario.Scenario` objects (run here with
one seed and one number of replications: common random numbers, DESIGN.md section 5) and runs
(:class:`~model.runs.Run`: a run directory, a saved run or a run just simulated, compared
without rerunning). The first item is the reference.

The comparison is one tidy table (:func:`comparison_table`, DESIGN.md section 8.5), one row per
scenario and registry target (scenarios in the order given, targets in registry order):

* ``scenario, target_id, name_zh, name_en, deadline, test, unit`` -- ``test`` as that scenario
  reads the target (a scenario may change a threshold);
* ``probability, probability_low, probability_high`` -- likelihood of meeting the target and
  its Wilson 95 % interval [share]; ``median`` (decimal years for milestones) and
  ``median_never`` as in the run's summary;
* ``change, change_low, change_high`` -- likelihood minus that of the reference, with a 95 %
  interval for the paired difference (:func:`paired_interval`); NaN on the reference's rows;
* ``reference`` -- the reference scenario's name.

Not-modelled targets have empty (NaN) likelihoods. The wide table planners read
(``comparison.csv``, the terminal, the workbook, the brief) is a view of it
(:func:`wide_table`), made where it is written or shown.

The change interval. Under common random numbers replication i of both scenarios shares its
draws, so the met indicators are paired: a 2x2 table of (both met, only the reference met, only
NAME met, neither). The interval is Newcombe's hybrid score interval for paired proportions
(Newcombe 1998, Stat Med 17:2635, method 10): Wilson intervals for the two likelihoods combined
with the phi correlation of the pairs (with Newcombe's correction of phi towards 0). It stays
within [-1, 1], behaves well when few replications differ (unlike a normal interval on the mean
of the differences, which collapses to zero width when no pair differs), and is recommended by
Fagerland, Lydersen & Laake (2014, Stat Med 33:2850) among intervals for paired proportions.
When two scenarios resolve to identical content (same hash) with the same seed and
replications, their replications are identical by construction and the change is exactly 0
with interval [0, 0].

Paired intervals need the same seed and replications: runs that differ in seed, replications,
horizon (``years``) or modelled targets are refused (:class:`CompareError`), not compared
unpaired.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import OutDirError, atomic_directory, check_replaceable, writing
from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .paired import paired_change, paired_interval
from .printable import printable
from .report import charts
from .report.excel import write_workbook
from .results import MODEL_VERSION, save_run
from .runs import Run, RunError, load_run
from .scenario import Scenario, load_scenario
from .stats import wilson
from .tables import CHANGE_FIELDS, flat_columns, wide_table, write_csv
from .targets import load_registry
from .timeline import YEARS
from .verify import NAME_RULE, file_checksums, valid_name

__all__ = ["Comparison", "CompareError", "build_comparison", "compare", "comparison_table", "load_items",
           "paired_interval", "save_comparison", "wide_table"]

#: Columns of the long comparison table.
COLUMNS = ["scenario", "target_id", "name_zh", "name_en", "deadline", "test", "unit", "probability",
           "probability_low", "probability_high", "median", "median_never", "change", "change_low",
           "change_high", "reference"]


class CompareError(ValueError):
    """Runs that cannot be compared (different seeds, horizons, targets, duplicate names)."""


@dataclass(frozen=True)
class Comparison:
    """Compared runs (reference first) and their long table (see the module docstring).

    ``sweep`` holds, for a lever sweep (:mod:`model.sweep`), the lever, the values in the
    order of ``runs[1:]`` and the scenario's own value; it is saved in the manifest.
    """

    runs: tuple[Run, ...]
    table: pd.DataFrame
    seed: int
    replications: int
    sweep: dict[str, Any] | None = field(default=None)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.runs]

    @property
    def reference(self) -> str:
        return self.names[0]


def load_items(items, search_path: tuple[str | Path, ...] = ()) -> list[Scenario | Run]:
    """Read every path: scenario files -> Scenario, run directories -> SavedRun (no simulation).

    ``search_path``: folders whose ``.toml`` files ``extends`` may name (:func:`load_scenario`).
    """
    out: list[Scenario | Run] = []
    for item in items:
        if isinstance(item, (Scenario, Run)):
            out.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            out.append(load_run(path))
        elif path.suffix == ".toml" or path.is_file():
            out.append(load_scenario(path, tuple(search_path)))
        else:
            raise RunError(path, "no such scenario file or run directory",
                           "give scenario .toml files or run directories made by `python -m model run`")
    return out


def _check_names(names: list[str]) -> None:
    for name in names:  # names become folder names (runs/<name>/): labels only, never paths
        if not valid_name(name):
            raise CompareError(f"scenario name {printable(repr(name))} is not a name ({NAME_RULE}); rename the "
                               "scenario and rerun it")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CompareError(f"two scenarios are named {dupes[0]!r}; scenario names identify the columns, give each a "
                           "distinct [scenario] name")


def _where(run: Run) -> str:
    return f"run {run.name!r}" + (f" ({run.path})" if getattr(run, "path", None) else "")


def _check_version(run: Run) -> None:
    """Refuse a run of another model version: a change against it would not be the settings' effect."""
    version = run.manifest.get("model_version")
    if version != MODEL_VERSION:
        saved = f"model version {printable(str(version))}" if isinstance(version, str) else "no model version"
        raise CompareError(f"{_where(run)} was saved by {saved}, this is model version {MODEL_VERSION}; rerun it "
                           "with this model (`python -m model run`) or compare the scenario files")


def _check(runs: list[Run]) -> None:
    """Refuse runs that cannot be paired: names, model version, seeds, replications, horizon, targets."""
    _check_names([e.name for e in runs])
    ref = runs[0]
    registry = {t.id for t in load_registry()}
    for e in runs:
        _check_version(e)
        m = e.manifest
        where = _where(e)
        if list(m["years"]) != list(ref.manifest["years"]):
            raise CompareError(
                f"{where} covers years {m['years'][0]}-{m['years'][-1]}, {ref.name!r} covers "
                f"{ref.manifest['years'][0]}-{ref.manifest['years'][-1]}; compare runs with the same horizon (rerun "
                "them with this model)"
            )
        if sorted(m["targets"]) != sorted(ref.manifest["targets"]):
            extra = sorted(set(m["targets"]) ^ set(ref.manifest["targets"]))
            raise CompareError(f"{where} and {ref.name!r} model different targets (e.g. {extra[0]}); they come from "
                               "different model versions: rerun both with this model")
        unknown = sorted(set(m["targets"]) - registry)
        if unknown:
            raise CompareError(f"{where} holds target {unknown[0]} that the registry does not know; rerun it with "
                               "this model")
        for key in ("seed", "replications"):
            if m[key] != ref.manifest[key]:
                raise CompareError(
                    f"{where} has {key} {m[key]}, {ref.name!r} has {ref.manifest[key]}; paired intervals need the same "
                    "seed and the same number of replications in every run: rerun with `python -m model run --seed "
                    "... --replications ...` or compare the scenario files"
                )


def _settings(loaded: list[Scenario | Run], replications: int | None, seed: int | None) -> tuple[int, int]:
    """Seed and replications for the scenarios to simulate: those of the runs given, checked."""
    saved = [x for x in loaded if isinstance(x, Run)]
    for run in saved:
        _check_version(run)
    for key, given in (("seed", seed), ("replications", replications)):
        for run in saved:
            if given is not None and run.manifest[key] != given:
                raise CompareError(
                    f"run {run.name!r} has {key} {run.manifest[key]}, but {key} {given} was asked for; "
                    f"paired intervals need the same {'number of replications' if key == 'replications' else key} "
                    f"in every run: drop --{key} or rerun the run"
                )
    if saved:
        seed, replications = saved[0].seed, saved[0].replications
    if len(saved) > 1:
        _check(saved)
    if len(saved) < len(loaded) and saved and list(saved[0].manifest["years"]) != list(YEARS):
        years = saved[0].manifest["years"]
        raise CompareError(
            f"run {saved[0].name!r} covers years {years[0]}-{years[-1]}, this model {YEARS[0]}-{YEARS[-1]}; "
            "rerun it with this model before comparing it with scenario files"
        )
    return (DEFAULT_SEED if seed is None else seed, DEFAULT_REPLICATIONS if replications is None else replications)


def build_comparison(items, replications: int | None = None, seed: int | None = None, workers: int = 1,
                     executor: str = "local", scheduler: str | None = None,
                     progress: Callable[[int], None] | None = None) -> Comparison:
    """Run what needs running, check the runs can be paired, and build the table.

    Parameters
    ----------
    items : sequence
        Scenario file paths or :class:`Scenario` objects (simulated here), run directories or
        :class:`~model.runs.Run` objects (used as they are). The first is the reference.
    replications, seed : int, optional
        For the scenarios simulated here. Default: those of the saved runs given, otherwise
        :data:`model.engine.DEFAULT_REPLICATIONS` / :data:`~model.engine.DEFAULT_SEED`. A value
        that contradicts a saved run raises :class:`CompareError`.
    workers : int
        Processes for each simulation.
    executor, scheduler : str, optional
        Where to simulate, as for :func:`model.simulate` (the same numbers either way).
    progress : callable, optional
        Called with the number of replications just finished, as :func:`model.simulate` calls it.

    Raises
    ------
    CompareError, RunError, ScenarioError
        Bad or incompatible input, before anything is simulated where possible.
    """
    loaded = load_items(items)
    if len(loaded) < 2:
        raise CompareError("give at least two scenarios or runs to compare")
    _check_names([x.name for x in loaded])  # before simulating anything
    seed, replications = _settings(loaded, replications, seed)
    runs = [simulate(x, replications, seed, workers=workers, executor=executor, scheduler=scheduler,
                     progress=progress) if isinstance(x, Scenario) else x for x in loaded]
    _check(runs)
    return Comparison(tuple(runs), comparison_table(runs), seed, replications)


def compare(items, replications: int | None = None, seed: int | None = None, workers: int = 1) -> pd.DataFrame:
    """The long comparison table (see the module docstring) of scenarios and runs.

    Parameters are those of :func:`build_comparison`. Returns the table only; use
    :func:`build_comparison` and :func:`save_comparison` to keep the runs too, and
    :func:`wide_table` for one row per target.
    """
    return build_comparison(items, replications, seed, workers).table


# -- the table ----------------------------------------------------------------------------------
def _changes(ref: Run, run: Run, ids: list[str]) -> dict[str, np.ndarray]:
    """Paired change against the reference for the modelled targets ``ids`` (weighted when conditioned)."""
    a = np.column_stack([ref.met[i] for i in ids])
    b = np.column_stack([run.met[i] for i in ids])
    if ref.condition_weights is not None or run.condition_weights is not None:  # conditioned runs
        return dict(zip(CHANGE_FIELDS, paired_change(a, b, ref.weights, run.weights)))
    change, low, high = paired_change(a, b)
    if run.manifest.get("scenario_hash") == ref.manifest.get("scenario_hash"):
        same = ~np.any(a != b, axis=0)  # identical content and draws: identical replications
        low, high = np.where(same, 0.0, low), np.where(same, 0.0, high)
    return {"change": change, "change_low": low, "change_high": high}


def comparison_table(runs: list[Run]) -> pd.DataFrame:
    """The long comparison table of checked runs (reference first); see the module docstring."""
    ref = runs[0]
    ids = [t.id for t in load_registry() if t.id in ref.met]
    parts = []
    for run in runs:
        part = run.summary[
            ["target_id", "name_zh", "name_en", "deadline", "test", "unit", "median", "median_never"]
        ].copy()
        part.insert(0, "scenario", run.name)
        k = np.array([run.met[t].sum() if t in ref.met else np.nan for t in part["target_id"]], float)
        low, high = wilson(k, run.replications)
        part["probability"], part["probability_low"], part["probability_high"] = k / run.replications, low, high
        part[list(CHANGE_FIELDS)] = np.nan
        if run is not ref and ids:
            rows = part["target_id"].isin(ids).to_numpy()
            order = {t: i for i, t in enumerate(ids)}
            pick = [order[t] for t in part.loc[rows, "target_id"]]
            for col, values in _changes(ref, run, ids).items():
                part.loc[rows, col] = np.asarray(values, float)[pick]
        part.loc[part["probability"].isna(), "median"] = np.nan
        part["reference"] = ref.name
        parts.append(part[COLUMNS])
    return pd.concat(parts, ignore_index=True)


# -- saving -------------------------------------------------------------------------------------
def comparison_manifest(comparison: Comparison) -> dict[str, Any]:
    """Provenance of a comparison directory (``"kind": "comparison"``)."""
    ref = comparison.runs[0].manifest
    manifest = {
        "kind": "comparison", "scenarios": comparison.names, "reference": comparison.reference,
        "seed": comparison.seed,
        "replications": comparison.replications,
        "years": list(ref["years"]),
        "targets": sorted(ref["targets"]),
        "hashes": {r.name: r.manifest.get("scenario_hash") for r in comparison.runs},
        "runs": {r.name: f"runs/{r.name}" for r in comparison.runs},
        "files": ["comparison.csv", "runs/"],
        "change_interval": "Newcombe (1998) hybrid score interval for paired proportions (method 10), 95 %",
        "model_version": MODEL_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if comparison.sweep is not None:
        manifest["sweep"] = comparison.sweep
    return manifest


def check_out_dir(out: str | Path) -> Path:
    """Refuse an output path that exists and is not a comparison directory (nothing is written)."""
    try:
        out = check_replaceable(out, "comparison")
    except OutDirError as exc:
        raise CompareError(str(exc)) from None
    return out


def default_out(items: list[Scenario | Run]) -> Path:
    """``runs/compare-<name1>-<name2>...`` for loaded items."""
    return Path("runs") / ("compare-" + "-".join(x.name for x in items))


def save_comparison(
    comparison: Comparison, out_dir: str | Path, xlsx: bool = False, lang: str = "zh",
    extra: dict[str, pd.DataFrame] | None = None, figures: dict[str, Any] | None = None,
    keep_previous: Path | None = None,
) -> Path:
    """Write ``comparison.csv`` (wide view), ``runs/<name>/``, optionally ``comparison.xlsx``,
    ``extra`` tables (file name -> table: ``sweep.csv``), ``figures`` (stem -> figure: PNG and
    SVG), and ``manifest.json`` last, atomically (temporary directory + rename). With
    ``keep_previous`` (a path that does not exist, :func:`model.atomic.kept_name`) a comparison
    already at ``out_dir`` is moved there instead of deleted."""
    out = check_out_dir(out_dir)
    _check_names(comparison.names)  # before any name is used as a folder name
    with atomic_directory(out, "comparison", keep_previous) as tmp:
        with writing("comparison.csv", out):
            write_csv(flat_columns(wide_table(comparison.table)), tmp / "comparison.csv")
        for file_name, frame in (extra or {}).items():
            with writing(file_name, out):
                write_csv(frame, tmp / file_name)
        (tmp / "runs").mkdir()
        for run in comparison.runs:
            save_run(run, tmp / "runs" / run.name, shown=out / "runs" / run.name)
        manifest = comparison_manifest(comparison)
        manifest["files"] += list(extra or {})
        for stem, figure in (figures or {}).items():
            with writing(f"{stem}.png", out):  # the sweep's charts
                manifest["files"] += [p.name for p in charts.save(figure, tmp / stem)]
        if xlsx:
            with writing("comparison.xlsx", out):
                write_workbook(tmp / "comparison.xlsx", comparison.runs, comparison.table, lang=lang)
            manifest["files"].append("comparison.xlsx")
        with writing("manifest.json", out), open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
            json.dump({**manifest, "checksums": file_checksums(tmp)}, fh, ensure_ascii=False, indent=2, default=str)
    return out
