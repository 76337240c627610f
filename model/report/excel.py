"""Excel workbooks of runs and comparisons for planners (Chinese Windows Excel, WPS, LibreOffice).

:func:`write_workbook` writes the sheets

* summary -- one row per scenario and target (the scenario and the target's name first);
* trajectories -- quantiles of every yearly indicator per scenario and year;
* comparison -- the wide view of the table of :func:`model.compare.compare`, when given;
* drivers -- the uncertainties that move each target's likelihood most (``drivers.csv``);
* assumptions -- every lever and uncertainty of each scenario: key, names, unit, value or
  distribution, the declared default, whether the scenario changed it, and its source or
  assumption text;
* districts -- the 2017 targets of the 19 districts and the city total, per scenario;
* one sheet per responsible unit (责任单位, named by its short name, e.g. ``工信委``) with the
  targets it leads or supports and their likelihood in each scenario.

Every value is stored as what it is (:mod:`model.report.excel_sheets`): likelihoods as numbers
formatted as percentages, deadlines and milestone dates as dates, quantities as numbers; the
traffic light (红灯/黄灯/绿灯) is a filled cell. Headers are Chinese with English below
(``lang="zh"``) or English (:mod:`model.report.excel_text`). Values only, no formulas.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook

from ..distributions import Distribution, SpecError
from ..params import all_params
from ..runs import Run
from ..tables import summary_csv, traffic_light, wide_table
from ..timeline import to_date
from .excel_sheets import FORMATS, Column, Styled, quantity, write_sheet
from .excel_text import TEXT, column, label
from .i18n import describe_distribution, unit_label, value_label

__all__ = ["TEXT", "write_workbook"]

DISTRICT_KINDS = ("industrial_investment", "investment", "firms")
DISTRICT_FIELDS = ("target", "mean", "p10", "p90", "probability")
BAD_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _status(key: Any, lang: str) -> Styled:
    """A traffic light as its words, in a cell filled with its colour."""
    if not isinstance(key, str) or key not in TEXT:
        return Styled(key)
    return Styled(label(key, lang), fill=key if key in ("green", "amber", "red") else None)


def _never(value: Any, lang: str) -> Any:
    return label("never", lang) if value == "never" else value


def _summary_frame(runs: Sequence[Run], lang: str) -> pd.DataFrame:
    parts = []
    for run in runs:
        frame = summary_csv(run.summary)  # milestone dates and "never" as text, intervals rounded outwards
        for col in ("median", "p10", "p90"):
            frame[col] = [_never(v, lang) for v in frame[col]]
        frame["status"] = [_status(s, lang) for s in frame["status"]]
        frame.insert(0, "scenario", run.name)
        first = ["scenario", "name_zh", "target_id"]
        parts.append(frame[first + [c for c in frame.columns if c not in first]])
    return pd.concat(parts, ignore_index=True)


def _trajectory_frame(runs: Sequence[Run]) -> pd.DataFrame:
    parts = []
    for run in runs:
        frame = run.trajectories.copy()
        frame.insert(0, "scenario", run.name)
        first = ["scenario", "name_zh", "indicator", "name_en", "unit", "year"]
        shares = frame["unit"].isin(("share", "probability"))
        for col in ("mean", "p10", "p25", "p50", "p75", "p90"):
            frame[col] = [
                Styled(float(v), FORMATS["percent"]) if share and np.isfinite(v) else v
                for v, share in zip(frame[col].astype(float), shares)
            ]
        parts.append(frame[first + [c for c in frame.columns if c not in first]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _drivers_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Every run's drivers (runs saved before drivers.csv existed have none)."""
    parts = []
    for run in runs:
        if run.drivers is None or run.drivers.empty:
            continue
        frame = run.drivers.rename(columns={"probability_low": "if_low", "probability_high": "if_high"})
        frame.insert(0, "scenario", run.name)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _comparison_frame(comparison: pd.DataFrame, lang: str) -> pd.DataFrame:
    wide = wide_table(comparison)
    first = [("", "name_zh"), ("", "target_id")]
    wide = wide[first + [c for c in wide.columns if c not in first]].copy()
    for c in wide.columns:
        if c[1] == "median":
            wide[c] = [_never(v, lang) for v in wide[c]]
    return wide


def _district_frame(runs: Sequence[Run], lang: str) -> tuple[pd.DataFrame, list[Column]]:
    """The district sheet: per scenario and district, each 2017 target, the simulated mean and
    10-90 % range, the likelihood and its traffic light."""
    rows, columns = [], [column("scenario", lang), column("district", lang), column("name_en", lang),
                         column("district_id", lang)]
    for kind in DISTRICT_KINDS:
        for field in (*DISTRICT_FIELDS, "status"):
            name = "district.target" if field == "target" else field
            zh, en = (f"{a}：{b}" if i == 0 else f"{a}: {b}" for i, (a, b) in enumerate(zip(TEXT[kind], TEXT[name])))
            columns.append(Column(f"{zh}\n{en}" if lang == "zh" else en, column(name, lang).kind))
    for run in runs:
        table = run.districts
        if table is None or table.empty:
            continue
        for _, d in table.iterrows():
            row = [run.name, d["name_zh"], d["name_en"], d["district"]]
            for kind in DISTRICT_KINDS:
                values = [d.get(f"{kind}.{f}", np.nan) for f in DISTRICT_FIELDS]
                p = values[-1]
                status = traffic_light(float(p)) if pd.notna(p) else "not modelled"
                row += [*values, _status(status, lang)]
            rows.append(row)
    return pd.DataFrame(rows, columns=range(len(columns))), columns


def _unit_frames(runs: Sequence[Run], lang: str) -> list[tuple[str, pd.DataFrame, list[Column]]]:
    """One sheet per responsible unit (not the districts, which have their sheet): its targets,
    its role in each (牵头 lead or 配合 support), and per scenario the likelihood, its 95 %
    interval and traffic light; units in order of how many targets they carry."""
    if not runs:
        return []
    first = runs[0].departments
    first = first[first["kind"] != "district"]
    several = len(runs) > 1
    base = ["name_zh", "target_id", "role", "name_en", "deadline", "test"]
    fields = ("probability", "probability_low", "probability_high", "status")
    columns = [column(c, lang) for c in base] + [
        column((run.name if several else "", f), lang) for run in runs for f in fields
    ]
    out = []
    for unit, rows in first.groupby("unit", sort=False):
        frame = pd.DataFrame({c: list(rows[c]) for c in base})
        frame["role"] = [label(r, lang) for r in frame["role"]]
        for k, run in enumerate(runs):
            theirs = run.departments
            theirs = theirs[theirs["unit"] == unit].drop_duplicates("target_id").set_index("target_id")
            theirs = theirs.reindex(list(rows["target_id"]))
            for f in fields:
                values = list(theirs[f])
                frame[f"{k}:{f}"] = [_status(v, lang) for v in values] if f == "status" else values
        name = BAD_SHEET_NAME.sub("_", str(unit))[:31]
        out.append((name, frame, columns))
    return out


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list))


def _number_text(value: float, unit: str) -> str:
    return f"{100 * value:g}%" if unit == "share" else f"{value:g}"


def _lever_cell(value: Any, unit: str, lang: str) -> Any:
    """A lever value as the workbook stores it: a number (shares as percentages, decimal years
    as dates); schedules as ``year: value`` text, choices and true/false in words of ``lang``."""
    if isinstance(value, dict):
        return ", ".join(
            f"{k}: {_number_text(v, unit)}" if isinstance(v, (int, float)) else f"{k}: {v}" for k, v in value.items()
        )
    if isinstance(value, bool):
        return label("yes" if value else "no", lang)
    if isinstance(value, str):
        return value_label(value, lang)
    if isinstance(value, (int, float)):
        if unit == "share":
            return Styled(float(value), FORMATS["percent"])
        if unit == "decimal year":
            return Styled(to_date(float(value)), FORMATS["date"])
        return quantity(value)
    return str(value)


def _dist(spec: Any) -> Distribution | None:
    try:
        return Distribution.from_spec(spec)
    except SpecError:
        return None


def _assumption_rows(run: Run, lang: str) -> list[dict[str, Any]]:
    scenario = run.settings
    levers, uncertainties = scenario.get("levers", {}), scenario.get("uncertainties", {})
    rows = []
    for declared in all_params().values():
        specs = [("lever", s) for s in declared.levers.values()] + [
            ("uncertainty", s) for s in declared.uncertainties.values()
        ]
        for kind, spec in specs:
            about = spec.about
            if kind == "lever":
                value = levers.get(spec.key, spec.default)
                text, default = _lever_cell(value, about.unit, lang), _lever_cell(spec.default, about.unit, lang)
                changed = _plain(value) != _plain(spec.default)
            else:
                given = uncertainties.get(spec.key)
                dist = _dist(given) if given is not None else spec.default
                text = (describe_distribution(dist, lang, about.unit) if dist is not None  # shares as percentages
                        else json.dumps(given, ensure_ascii=False))
                default = describe_distribution(spec.default, lang, about.unit)
                changed = dist != spec.default
            rows.append(
                {
                    "scenario": run.name,
                    "kind": label(kind, lang),
                    "name_zh": about.zh,
                    "key": spec.key,
                    "name_en": about.en,
                    "unit": unit_label(about.unit, lang),
                    "value": text,
                    "default": default,
                    "changed": label("yes" if changed else "no", lang),
                    "origin": label("source" if about.source else "assumption", lang),
                    "basis": about.source or about.assumption,
                }
            )
    return rows


def write_workbook(
    path: str | Path, runs: Sequence[Run], comparison: pd.DataFrame | None = None, lang: str = "zh"
) -> Path:
    """Write an .xlsx workbook of runs (and a comparison).

    Parameters
    ----------
    path : str or Path
        The .xlsx file to write.
    runs : sequence of Run
        Runs just simulated or read back (:class:`~model.runs.Run`).
    comparison : DataFrame, optional
        The long table of :func:`model.compare.compare`; the sheet shows its wide view.
    lang : {"zh", "en"}
        Language of headers and labels.

    Returns
    -------
    Path
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', found {lang!r}")
    loaded = list(runs)
    wb = Workbook()
    wb.remove(wb.active)

    summary = _summary_frame(loaded, lang)
    write_sheet(wb, label("sheet.summary", lang), summary, [column(c, lang) for c in summary.columns], freeze=3)

    trajectories = _trajectory_frame(loaded)
    write_sheet(wb, label("sheet.trajectories", lang), trajectories,
                [column(c, lang) for c in trajectories.columns], freeze=2)

    if comparison is not None:
        wide = _comparison_frame(comparison, lang)
        ref = str(comparison["reference"].iloc[0])
        write_sheet(wb, label("sheet.comparison", lang), wide, [column(c, lang, ref, c[1]) for c in wide.columns])

    drivers = _drivers_frame(loaded)
    if not drivers.empty:
        write_sheet(wb, label("sheet.drivers", lang), drivers, [column(c, lang) for c in drivers.columns], freeze=2)

    assumptions = pd.DataFrame([row for run in loaded for row in _assumption_rows(run, lang)])
    write_sheet(wb, label("sheet.assumptions", lang), assumptions,
                [column(c, lang) for c in assumptions.columns], freeze=3)

    districts, columns = _district_frame(loaded, lang)
    if not districts.empty:
        write_sheet(wb, label("sheet.districts", lang), districts, columns, freeze=2)
    for name, frame, columns in _unit_frames(loaded, lang):
        write_sheet(wb, name, frame, columns)

    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")  # renamed into place: never half a workbook
    try:
        wb.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
