"""Comparing scenarios target by target, with paired Monte Carlo intervals for the change.

``compare`` takes scenario files or :class:`~model.scenario.Scenario` objects (run here with
one seed and one number of replications: common random numbers, DESIGN.md section 5) and saved
runs (directories, :class:`~model.runs.SavedRun` or :class:`~model.results.Results`, compared
without rerunning). The first item is the reference.

Output table (:func:`compare`), one row per registry target, in registry order:

* ``target_id, name_zh, name_en, deadline, test, unit`` -- from the registry; ``test`` is the
  registry's test, followed by ``(NAME: test)`` for any scenario that changed the threshold;
* per scenario NAME: ``NAME: probability``, ``NAME: probability_low``,
  ``NAME: probability_high`` (likelihood of meeting the target and its Wilson 95 % interval),
  ``NAME: median`` (median value at the deadline; an ISO date for milestones);
* per scenario after the first: ``NAME: change``, ``NAME: change_low``, ``NAME: change_high``
  -- likelihood of NAME minus likelihood of the reference, with a 95 % interval for the paired
  difference (:func:`paired_interval`).

Not-modelled targets have empty (NaN) likelihoods. Likelihoods are shares in [0, 1].

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
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import OutDirError, atomic_directory, check_replaceable
from .paired import paired_interval, wilson_bounds
from .results import MODEL_VERSION, Results
from .runs import RunError, SavedRun, load_run
from .scenario import Scenario, load_scenario
from .targets import load_registry
from .timeline import YEARS

__all__ = ["Comparison", "CompareError", "build_comparison", "compare", "load_items", "paired_interval", "save_comparison"]


class CompareError(ValueError):
    """Runs that cannot be compared (different seeds, horizons, targets, duplicate names)."""


# -- inputs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One compared scenario: its saved form, and the Results when it was run here."""

    run: SavedRun
    results: Results | None = None

    @property
    def name(self) -> str:
        return self.run.name


def _from_results(results: Results) -> Entry:
    run = SavedRun(None, results.scenario.name, results.manifest(), results.summary(), results.trajectories(),
                   dict(results.values), dict(results.met), results.drivers() if results.inputs else None)
    return Entry(run, results)


def as_entry(item: Any) -> Entry:
    """A SavedRun / Results / run directory as an :class:`Entry` (scenarios are run elsewhere)."""
    if isinstance(item, Entry):
        return item
    if isinstance(item, SavedRun):
        return Entry(item)
    if isinstance(item, Results):
        return _from_results(item)
    return Entry(load_run(item))


@dataclass(frozen=True)
class Comparison:
    """Compared runs (reference first) and their table (see the module docstring)."""

    entries: tuple[Entry, ...]
    table: pd.DataFrame
    seed: int
    replications: int

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]


def load_items(items) -> list[Any]:
    """Read every path: scenario files -> Scenario, run directories -> SavedRun (no simulation)."""
    out = []
    for item in items:
        if isinstance(item, (Scenario, SavedRun, Results, Entry)):
            out.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            out.append(load_run(path))
        elif path.suffix == ".toml" or path.is_file():
            out.append(load_scenario(path))
        else:
            raise RunError(path, "no such scenario file or run directory",
                           "give scenario .toml files or run directories made by `python -m model run`")
    return out


def _check(entries: list[Entry]) -> None:
    """Refuse runs that cannot be paired: names, seeds, replications, horizon, targets."""
    names = [e.name for e in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CompareError(f"two scenarios are named {dupes[0]!r}; scenario names identify the columns, give each a distinct [scenario] name")
    ref = entries[0].run
    registry = {t.id for t in load_registry()}
    for e in entries:
        m = e.run.manifest
        where = f"run {e.name!r}" + (f" ({e.run.path})" if e.run.path else "")
        if list(m["years"]) != list(ref.manifest["years"]):
            raise CompareError(f"{where} covers years {m['years'][0]}-{m['years'][-1]}, {ref.name!r} covers "
                               f"{ref.manifest['years'][0]}-{ref.manifest['years'][-1]}; compare runs with the same horizon (rerun them with this model)")
        if sorted(m["targets"]) != sorted(ref.manifest["targets"]):
            extra = sorted(set(m["targets"]) ^ set(ref.manifest["targets"]))
            raise CompareError(f"{where} and {ref.name!r} model different targets (e.g. {extra[0]}); they come from "
                               "different model versions: rerun both with this model")
        unknown = sorted(set(m["targets"]) - registry)
        if unknown:
            raise CompareError(f"{where} holds target {unknown[0]} that the registry does not know; rerun it with this model")
        for key in ("seed", "replications"):
            if m[key] != ref.manifest[key]:
                raise CompareError(f"{where} has {key} {m[key]}, {ref.name!r} has {ref.manifest[key]}; paired intervals need the same "
                                   f"seed and the same number of replications in every run: rerun with `python -m model run --seed ... --replications ...` or compare the scenario files")


def build_comparison(items, replications: int | None = None, seed: int | None = None, workers: int = 1) -> Comparison:
    """Run what needs running, check the runs can be paired, and build the table.

    Parameters
    ----------
    items : sequence
        Scenario file paths or :class:`Scenario` objects (simulated here), run directories,
        :class:`SavedRun` or :class:`Results` (used as they are). The first is the reference.
    replications, seed : int, optional
        For the scenarios simulated here. Default: those of the saved runs given, otherwise
        :data:`model.engine.DEFAULT_REPLICATIONS` / :data:`~model.engine.DEFAULT_SEED`. A value
        that contradicts a saved run raises :class:`CompareError`.
    workers : int
        Processes for each simulation.

    Raises
    ------
    CompareError, RunError, ScenarioError
        Bad or incompatible input, before anything is simulated where possible.
    """
    from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate

    loaded = load_items(items)
    if len(loaded) < 2:
        raise CompareError("give at least two scenarios or runs to compare")
    names = [x.name if not isinstance(x, Results) else x.scenario.name for x in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:  # before simulating anything
        raise CompareError(f"two scenarios are named {dupes[0]!r}; scenario names identify the columns, give each a distinct [scenario] name")
    saved = [as_entry(x) for x in loaded if not isinstance(x, Scenario)]
    for key, given in (("seed", seed), ("replications", replications)):
        for e in saved:
            if given is not None and e.run.manifest[key] != given:
                raise CompareError(f"run {e.name!r} has {key} {e.run.manifest[key]}, but {key} {given} was asked for; "
                                   f"paired intervals need the same {'number of replications' if key == 'replications' else key} "
                                   f"in every run: drop --{key} or rerun the run")
    if saved:
        seed, replications = saved[0].run.seed, saved[0].run.replications
    seed = DEFAULT_SEED if seed is None else seed
    replications = DEFAULT_REPLICATIONS if replications is None else replications
    if len(saved) > 1:
        _check(saved)
    fresh = len(saved) < len(loaded)
    if fresh and saved and list(saved[0].run.manifest["years"]) != list(YEARS):
        years = saved[0].run.manifest["years"]
        raise CompareError(f"run {saved[0].name!r} covers years {years[0]}-{years[-1]}, this model {YEARS[0]}-{YEARS[-1]}; "
                           "rerun it with this model before comparing it with scenario files")
    entries = []
    for x in loaded:
        if isinstance(x, Scenario):
            entries.append(_from_results(simulate(x, replications, seed, workers=workers)))
        else:
            entries.append(as_entry(x))
    _check(entries)
    return Comparison(tuple(entries), comparison_table(entries), seed, replications)


def compare(items, replications: int | None = None, seed: int | None = None, workers: int = 1) -> pd.DataFrame:
    """Side-by-side likelihoods and paired changes; see the module docstring for the columns.

    Parameters are those of :func:`build_comparison`. Returns the table only; use
    :func:`build_comparison` and :func:`save_comparison` to keep the runs too.
    """
    return build_comparison(items, replications, seed, workers).table


# -- the table ----------------------------------------------------------------------------------
def _median(value: Any) -> Any:
    """Summary medians as numbers (CSV gives text) or ISO dates; empty -> NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return float(value)


def comparison_table(entries: list[Entry]) -> pd.DataFrame:
    """The comparison table of checked entries (reference first)."""
    ref = entries[0]
    summaries = {e.name: e.run.summary.set_index("target_id") for e in entries}
    identical = {e.name: e.run.manifest.get("scenario_hash") == ref.run.manifest.get("scenario_hash") for e in entries}
    rows = []
    for t in load_registry():
        base_test = t.test()
        others = [f"{e.name}: {summaries[e.name].at[t.id, 'test']}" for e in entries
                  if t.id in summaries[e.name].index and summaries[e.name].at[t.id, "test"] != base_test]
        row: dict[str, Any] = {
            "target_id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "deadline": t.deadline.isoformat(),
            "test": base_test + (f" ({'; '.join(others)})" if others else ""), "unit": t.unit,
        }
        modelled = t.id in ref.run.met
        for e in entries:
            met = e.run.met.get(t.id)
            if modelled:
                k, n = int(met.sum()), met.size
                low, high = wilson_bounds(k, n)
                median = _median(summaries[e.name].at[t.id, "median"]) if t.id in summaries[e.name].index else np.nan
                row.update({f"{e.name}: probability": k / n, f"{e.name}: probability_low": float(low),
                            f"{e.name}: probability_high": float(high), f"{e.name}: median": median})
            else:
                row.update({f"{e.name}: probability": np.nan, f"{e.name}: probability_low": np.nan,
                            f"{e.name}: probability_high": np.nan, f"{e.name}: median": np.nan})
        for e in entries[1:]:
            change = low = high = np.nan
            if modelled:
                a_met, b_met = ref.run.met[t.id], e.run.met[t.id]
                counts = [int(np.sum(a_met & b_met)), int(np.sum(a_met & ~b_met)), int(np.sum(~a_met & b_met)), int(np.sum(~a_met & ~b_met))]
                change = (counts[2] - counts[1]) / a_met.size
                if identical[e.name] and counts[1] == counts[2] == 0:
                    low = high = 0.0  # identical content and draws: identical replications
                else:
                    lo, hi = paired_interval(*counts)
                    low, high = float(lo), float(hi)
            row.update({f"{e.name}: change": change, f"{e.name}: change_low": low, f"{e.name}: change_high": high})
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update({"scenarios": [e.name for e in entries], "reference": ref.name})
    return table


# -- saving -------------------------------------------------------------------------------------
def comparison_manifest(comparison: Comparison) -> dict[str, Any]:
    """Provenance of a comparison directory (``"kind": "comparison"``)."""
    ref = comparison.entries[0].run.manifest
    return {
        "kind": "comparison",
        "scenarios": comparison.names,
        "reference": comparison.names[0],
        "seed": comparison.seed,
        "replications": comparison.replications,
        "years": list(ref["years"]),
        "targets": sorted(ref["targets"]),
        "hashes": {e.name: e.run.manifest.get("scenario_hash") for e in comparison.entries},
        "runs": {e.name: f"runs/{e.name}" for e in comparison.entries},
        "files": ["comparison.csv", "runs/"],
        "change_interval": "Newcombe (1998) hybrid score interval for paired proportions (method 10), 95 %",
        "model_version": MODEL_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def check_out_dir(out: str | Path) -> Path:
    """Refuse an output path that exists and is not a comparison directory (nothing is written)."""
    try:
        out = check_replaceable(out, "comparison")
    except OutDirError as exc:
        raise CompareError(str(exc)) from None
    existing = next(p for p in [out, *out.parents] if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CompareError(f"--out: cannot write in {existing}; choose a directory you can write to")
    return out


def default_out(items) -> Path:
    """``runs/compare-<name1>-<name2>...`` for loaded items."""
    names = [x.scenario.name if isinstance(x, Results) else x.name for x in items]
    return Path("runs") / ("compare-" + "-".join(names))


def save_comparison(comparison: Comparison, out_dir: str | Path, xlsx: bool = False, lang: str = "zh",
                    extra: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write ``comparison.csv`` (utf-8-sig), ``runs/<name>/`` per scenario, optionally
    ``comparison.xlsx`` and ``extra`` tables (file name -> table, e.g. ``sweep.csv``), and
    ``manifest.json`` last, atomically (temporary directory + rename).
    """
    out = check_out_dir(out_dir)
    with atomic_directory(out, "comparison") as tmp:
        comparison.table.to_csv(tmp / "comparison.csv", index=False, encoding="utf-8-sig")
        for file_name, frame in (extra or {}).items():
            frame.to_csv(tmp / file_name, index=False, encoding="utf-8-sig")
        (tmp / "runs").mkdir()
        for e in comparison.entries:
            if e.results is not None:
                e.results.save(tmp / "runs" / e.name)
            else:
                shutil.copytree(e.run.path, tmp / "runs" / e.name)
        manifest = comparison_manifest(comparison)
        manifest["files"] += list(extra or {})
        if "sweep" in comparison.table.attrs:
            manifest["sweep"] = comparison.table.attrs["sweep"]
        if xlsx:
            from .report.excel import write_workbook

            write_workbook(tmp / "comparison.xlsx", [e.run for e in comparison.entries], comparison.table, lang=lang)
            manifest["files"].append("comparison.xlsx")
        with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=2, default=str)
    return out


# -- printing -------------------------------------------------------------------------------------
def _points(change: float, low: float, high: float) -> str:
    if pd.isna(change):
        return ""
    return f"{100 * change:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"


def display_columns(table: pd.DataFrame, top: int = 10, show_all: bool = False) -> tuple[dict[str, list[str]], tuple[str, ...], int]:
    """Columns for a plain-text table: modelled targets, largest |change| first.

    The ``top`` targets whose likelihood changes most (largest |change| over the scenarios)
    are marked ``*``; district targets are left out unless ``show_all``. Returns the columns,
    the right-aligned column names and the number of district rows left out.
    """
    names = table.attrs.get("scenarios") or [c.rpartition(": ")[0] for c in table.columns if c.endswith(": probability")]
    rows = table[table[f"{names[0]}: probability"].notna()]
    districts = rows["target_id"].str.contains(".district.", regex=False)
    hidden = 0 if show_all else int(districts.sum())
    if not show_all:
        rows = rows[~districts]
    changes = [f"{n}: change" for n in names[1:]]
    score = rows[changes].abs().max(axis=1) if changes else pd.Series(0.0, index=rows.index)
    rows = rows.assign(_score=score).sort_values("_score", ascending=False, kind="mergesort")
    marks = ["*" if i < top and s > 0 else "" for i, s in enumerate(rows["_score"])]
    columns: dict[str, list[str]] = {" ": marks, "target": list(rows["target_id"]), "deadline": list(rows["deadline"])}
    for n in names:
        columns[n] = [f"{100 * p:.1f}%" for p in rows[f"{n}: probability"]]
    for n in names[1:]:
        columns[f"{n} - {names[0]} (points, 95%)"] = [
            _points(c, lo, hi) for c, lo, hi in zip(rows[f"{n}: change"], rows[f"{n}: change_low"], rows[f"{n}: change_high"])
        ]
    right = tuple(c for c in columns if c not in (" ", "target", "deadline"))
    return columns, right, hidden
