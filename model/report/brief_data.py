"""The numbers of a policy brief: loading a run or a comparison and shaping its tables.

Pure functions from saved runs to plain dicts and lists the templates render; no phrase is
written here (they live in ``locale/<lang>.toml``), only numbers, names from the registry and
the parameter declarations, and keys into the locale table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..calibration_text import summary
from ..compare import comparison_table
from ..plans import HEADLINE_2020, HEADLINE_GOALS
from ..readable import change_text, percent_text
from ..runs import Run, RunError, load_run
from ..stats import round_outward
from ..tables import milestone_text, traffic_light
from ..verify import check_checksums, check_comparison_manifest, check_files
from ..views import units
from .i18n import (
    load_locale,
    target_name,
    test_text,
    unit_label,
    value_label,
)

HEADLINE_FINAL = HEADLINE_2020  # the final goal of each headline indicator
AT_RISK = 8  # rows of the at-risk table, the same in every language (the briefs are one brief)
CHANGES = 8
DRIVERS_PER_GOAL = {"run": 3, "comparison": 2}  # per 2020 goal: a comparison brief has less room
CHART_TARGETS = {"run": 32, "comparison": 24}  # at most this many targets in a brief's chart (one page)


@dataclass(frozen=True)
class Source:
    """What a brief is made from: one run, or the runs of a comparison (reference first)."""

    path: Path
    kind: str  # "run" or "comparison"
    runs: tuple[Run, ...]
    table: pd.DataFrame | None = None  # the long comparison table (model.compare.comparison_table)
    manifest: dict[str, Any] | None = None  # the comparison's manifest


def load_source(path: str | Path) -> Source:
    """A run directory or a comparison directory (``manifest["kind"] == "comparison"``).

    Raises
    ------
    RunError
        The directory is neither (the message says what was expected).
    """
    path = Path(path)
    manifest_file = path / "manifest.json"
    if path.is_dir() and manifest_file.is_file() and not manifest_file.is_symlink():
        try:
            if manifest_file.stat().st_size > 50_000_000:  # ours are a few hundred kB at most
                raise ValueError("far larger than a manifest")
            manifest = json.loads(manifest_file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise RunError(path, f"manifest.json cannot be read ({exc})", "run or compare the scenarios again") from exc
        if isinstance(manifest, dict) and manifest.get("kind") == "comparison":
            return _load_comparison(path, manifest)
    if path.is_dir() and not manifest_file.exists():
        raise RunError(path, "is neither a run nor a comparison directory (no manifest.json)",
                       "pass a directory written by `python -m model run` or `python -m model compare`")
    return Source(path, "run", (load_run(path),))


def _load_comparison(path: Path, manifest: dict[str, Any]) -> Source:
    """A comparison directory, verified: its files, their checksums, and each of its runs
    (``runs/<name>/``, a name that is a scenario name and a real folder, never a link)."""
    hint = "run the comparison again"
    check_files(path, "comparison")
    if not (path / "comparison.csv").is_file():
        raise RunError(path, "is a comparison directory without comparison.csv", hint)
    check_checksums(path, manifest, "comparison", hint)
    names = check_comparison_manifest(path, manifest)
    for name in names:
        folder = path / "runs" / name
        if (path / "runs").is_symlink() or folder.is_symlink():
            raise RunError(path, f"runs/{name} is a symbolic link, not a run the comparison holds", hint)
    runs = tuple(load_run(path / "runs" / name) for name in names)
    try:
        table = comparison_table(list(runs))
    except (KeyError, ValueError) as exc:
        raise RunError(path, f"its runs cannot be compared ({exc})", hint) from exc
    return Source(path, "comparison", runs, table, manifest)


# -- formatting ---------------------------------------------------------------------------------
def pct(p: float | None) -> str:
    """A likelihood as a percentage with one decimal (:func:`model.readable.percent_text`):
    ``<0.1%`` for a non-zero value that one decimal would show as 0.0, ``>99.9%`` just short of
    certainty, ``0%`` and ``100%`` only for exactly none and all; '' when missing."""
    return percent_text(p)


def interval(low: float, high: float) -> str:
    """An interval in percent, rounded outwards to 4 decimals first (as the CSV files hold it);
    each end as :func:`pct` writes it (``<0.1–0.5%``, never 0.0 for a non-zero end)."""
    if pd.isna(low) or pd.isna(high):
        return ""
    low, high = (float(x) for x in round_outward(low, high))
    return f"{percent_text(low).removesuffix('%')}–{percent_text(high)}"


def number(value: float, unit: str = "", lang: str = "en") -> str:
    """A projected value with its unit, at most one decimal; '' when missing."""
    if value is None or pd.isna(value):
        return ""
    x = float(value)
    text = f"{x:,.0f}" if abs(x) >= 100 or x.is_integer() else f"{x:,.1f}"
    if unit in ("", "date"):
        return text
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def _deadline_year(row) -> int:
    return dt.date.fromisoformat(str(row["deadline"])).year


# -- tables of a run ----------------------------------------------------------------------------
def _plan_level(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[~summary["target_id"].str.contains(".district.", regex=False)]


def responsible(text: str, lang: str) -> str:
    """Responsible units as the registry abridges them, in English for ``lang="en"``."""
    if lang == "zh" or not text:
        return text
    known, aliases = units()
    names = [known.get(aliases.get(u, u), {}).get("en", u) for u in text.split("、")]
    if len(names) > 2:  # English names are long: the lead units and how many more
        return load_locale(lang)["brief"]["responsible_more"].format(units="; ".join(names[:2]), n=len(names) - 2)
    return "; ".join(names)


def target_row(row, lang: str) -> dict[str, Any]:
    """One target as the templates show it."""
    p = row["probability"]
    modelled = not pd.isna(p)
    if row["unit"] == "date":  # a decimal year as its ISO date, or "never" in words of lang
        text = milestone_text(row["median"], bool(row["median_never"]))
        median = value_label(text, lang) if text else ""
    else:
        median = number(row["median"], unit_label(row["unit"], lang, after_number=True), lang)
    spread = ""
    if modelled and row["unit"] != "date" and not pd.isna(row.get("p10")):
        spread = f"{number(row['p10'])}–{number(row['p90'])}"
    return {
        "id": row["target_id"], "name": target_name(row, lang), "year": _deadline_year(row),
        "deadline": str(row["deadline"]), "test": test_text(row["test"], row["unit"], lang), "modelled": modelled,
        "p": pct(p), "interval": interval(row["probability_low"], row["probability_high"]),
        "median": median, "spread": spread, "light": traffic_light(float(p)) if modelled else "not_modelled",
        "responsible": "" if pd.isna(row.get("responsible")) else responsible(str(row["responsible"]), lang),
    }


def headline(summary: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """The headline goals with their milestones (rows of ids present in the summary)."""
    s = summary.set_index("target_id", drop=False)
    return [target_row(s.loc[i], lang) for _, ids in HEADLINE_GOALS for i in ids if i in s.index]


def counts(summary: pd.DataFrame) -> dict[str, Any]:
    """How many plan-level targets are likely / uncertain / unlikely / not modelled; districts."""
    plan = _plan_level(summary)
    status = plan["status"].value_counts()
    districts = summary[summary["target_id"].str.contains(".district.", regex=False) & summary["probability"].notna()]
    return {
        "modelled": int(plan["probability"].notna().sum()),
        "green": int(status.get("green", 0)), "amber": int(status.get("amber", 0)), "red": int(status.get("red", 0)),
        "not_modelled": int(summary["probability"].isna().sum()), "total": len(summary),
        "districts": len(districts), "district_mean": pct(districts["probability"].mean()) if len(districts) else "",
    }


def weakest_headline(summary: pd.DataFrame, lang: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The weakest and the strongest of the modelled 2020 headline goals."""
    s = summary.set_index("target_id", drop=False)
    rows = [s.loc[i] for i in HEADLINE_FINAL if i in s.index and not pd.isna(s.at[i, "probability"])]
    if not rows:
        return None, None
    rows.sort(key=lambda r: float(r["probability"]))
    return target_row(rows[0], lang), target_row(rows[-1], lang)


def at_risk(summary: pd.DataFrame, lang: str, n: int | None = None, exclude=()) -> list[dict[str, Any]]:
    """The ``n`` (default :data:`AT_RISK`) plan-level modelled targets with the lowest likelihood,
    leaving out the ids in ``exclude`` (targets settled by construction: :func:`.focus.by_construction`)."""
    plan = _plan_level(summary)
    rows = plan[plan["probability"].notna() & ~plan["target_id"].isin(list(exclude))]
    rows = rows.sort_values("probability", kind="stable").head(n or AT_RISK)
    return [target_row(r, lang) for _, r in rows.iterrows()]


def drivers(run: Run, lang: str, n: int = DRIVERS_PER_GOAL["run"]) -> list[dict[str, Any]]:
    """The ``n`` strongest drivers of each modelled 2020 headline goal (empty for old runs).

    Each goal lists the uncertainty, the likelihood when it falls in the lowest and in the
    highest third of its draws, and the swing between them (see :mod:`model.drivers`).
    """
    if run.drivers is None:
        return []
    s = run.summary.set_index("target_id", drop=False)
    goals = []
    for target_id in HEADLINE_FINAL:
        if target_id not in s.index or pd.isna(s.at[target_id, "probability"]):
            continue
        rows = run.drivers[run.drivers["target_id"] == target_id].sort_values("rank").head(n)
        goals.append({
            **target_row(s.loc[target_id], lang),
            "drivers": [{
                "name": r["name_zh"] if lang == "zh" else r["name_en"], "key": r["uncertainty"],
                "p_low": pct(r["probability_low"]), "p_high": pct(r["probability_high"]),
                "swing": f"{100 * r['swing']:+.0f}",
            } for _, r in rows.iterrows()],
        })
    return goals


def chart_targets(summary: pd.DataFrame, table: pd.DataFrame | None = None, names: list[str] | None = None,
                  n: int | None = None) -> tuple[list[str], int]:
    """Targets for a one-page chart, and how many plan-level modelled targets there are.

    All of them when they fit; otherwise the headline targets, then the lowest likelihoods
    (a run) or the biggest changes against the reference (a comparison ``table``).
    """
    n = n or CHART_TARGETS["comparison" if table is not None else "run"]
    plan = _plan_level(summary)
    plan = plan[plan["probability"].notna()]
    ids = list(plan["target_id"])
    if len(ids) <= n:
        return ids, len(ids)
    chosen = [i for _, group in HEADLINE_GOALS for i in group if i in set(ids)]
    if table is not None and names:
        size = _largest_change(table).reindex(ids).fillna(0.0)
        order = list(size.sort_values(ascending=False, kind="stable").index)
    else:
        order = list(plan.sort_values("probability", kind="stable")["target_id"])
    for i in order:
        if len(chosen) >= n:
            break
        if i not in chosen:
            chosen.append(i)
    return chosen, len(ids)


# -- comparison ---------------------------------------------------------------------------------
def _largest_change(table: pd.DataFrame) -> pd.Series:
    """Per target, the largest |change| against the reference over the scenarios."""
    return table.assign(size=table["change"].abs()).groupby("target_id", sort=False)["size"].max()


def changes(table: pd.DataFrame, names: list[str], lang: str, n: int = CHANGES) -> list[dict[str, Any]]:
    """The biggest changes in likelihood against the reference (long ``table``), with their
    paired intervals."""
    ref = table[table["scenario"] == names[0]].set_index("target_id")["probability"]
    plan = table[~table["target_id"].str.contains(".district.", regex=False) & table["change"].notna()]
    rows = []
    for _, r in plan.iterrows():
        rows.append(
            {
                "scenario": r["scenario"],
                "name": target_name(r, lang),
                "year": _deadline_year(r),
                "test": test_text(r["test"], r["unit"], lang),
                "ref_p": pct(ref[r["target_id"]]),
                "p": pct(r["probability"]),
                "change": float(r["change"]),
                "change_text": change_text(r["change"]),
                "change_interval": f"{change_text(r['change_low'])} – {change_text(r['change_high'])}",
                "clear": bool(r["change_low"] > 0 or r["change_high"] < 0),
            }
        )
    rows.sort(key=lambda x: -abs(x["change"]))
    return rows[:n]


def provenance(run: Run) -> dict[str, Any]:
    """A run's provenance for the brief; the commit is shortened to 12 hex digits (as git does)."""
    m = run.manifest
    commit = str(m.get("git_commit") or "")
    return {
        "name": run.name,
        "hash": str(m.get("scenario_hash", ""))[:12],
        "seed": m.get("seed"),
        "replications": m.get("replications"),
        "git": commit[:12] if commit else "—",
        "dirty": commit.endswith("+dirty"),
        "version": m.get("model_version", ""),
        "finished": m.get("finished", ""),
        "files": ", ".join(Path(f).name for f in m.get("scenario_files", [])),
    }


def calibration(run: Run, lang: str) -> dict[str, Any] | None:
    """The numbers of the method section's two calibration sentences (:func:`calibration_text.summary`),
    with each excluded series' name and reason in ``lang``; None for a run saved before calibration.csv."""
    if run.calibration is None or not len(run.calibration):
        return None
    numbers = summary(run.calibration)
    loc = load_locale(lang)["brief"]
    items = [loc["calibration_item"].format(name=x[lang], reason=x[f"reason_{lang}"] or loc["calibration_no_reason"])
             for x in numbers["excluded"]]
    return {**numbers, "items": loc["list_sep"].join(items)}
