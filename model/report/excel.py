"""Excel workbooks of runs and comparisons for planners (Chinese Windows Excel and WPS).

:func:`write_workbook` writes the sheets

* summary -- one row per scenario and target (a scenario column first);
* trajectories -- quantiles of every yearly indicator per scenario and year;
* comparison -- the wide view of the table of :func:`model.compare.compare`, when given;
* drivers -- the uncertainties that move each target's likelihood most (``drivers.csv``);
* assumptions -- every lever and uncertainty of each scenario: key, names, unit, value or
  distribution, the declared default, whether the scenario changed it, and its source or
  assumption text.

Headers are Chinese by default (``lang="zh"``) or English; every header and label comes from
:data:`TEXT`. Values only, no formulas; likelihoods are formatted as percentages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..distributions import Distribution, SpecError
from ..params import all_params
from ..printable import printable
from ..runs import Run
from ..tables import display_width, rounded_csv, summary_csv, wide_table
from .i18n import describe_distribution, unit_label, value_label

__all__ = ["TEXT", "write_workbook"]

#: Every header and label of the workbook: key -> (Chinese, English).
TEXT: dict[str, tuple[str, str]] = {
    # sheet names
    "sheet.summary": ("结果概要", "Summary"),
    "sheet.trajectories": ("指标轨迹", "Trajectories"),
    "sheet.comparison": ("情景比较", "Comparison"),
    "sheet.assumptions": ("参数与假设", "Assumptions"),
    "sheet.drivers": ("影响因素", "Drivers"),
    # columns
    "scenario": ("情景", "Scenario"),
    "target_id": ("目标编号", "Target id"),
    "plan": ("方案", "Plan"),
    "name_zh": ("名称（中文）", "Name (Chinese)"),
    "name_en": ("名称（英文）", "Name (English)"),
    "deadline": ("截止日期", "Deadline"),
    "test": ("目标要求", "Test"),
    "unit": ("单位", "Unit"),
    "probability": ("达标可能性", "Likelihood"),
    "probability_low": ("可能性95%区间下限", "Likelihood 95% low"),
    "probability_high": ("可能性95%区间上限", "Likelihood 95% high"),
    "median": ("截止时中位值", "Median at deadline"),
    "p10": ("10%分位值", "10th percentile"),
    "p90": ("90%分位值", "90th percentile"),
    "status": ("研判", "Status"),
    "responsible": ("责任单位", "Responsible"),
    "indicator": ("指标", "Indicator"),
    "year": ("年份", "Year"),
    "mean": ("均值", "Mean"),
    "p25": ("25%分位值", "25th percentile"),
    "p50": ("中位值", "Median"),
    "p75": ("75%分位值", "75th percentile"),
    "change": ("可能性变化（对比{ref}）", "Change in likelihood vs {ref}"),
    "change_low": ("变化95%区间下限", "Change 95% low"),
    "change_high": ("变化95%区间上限", "Change 95% high"),
    "kind": ("类别", "Kind"),
    "key": ("参数键", "Key"),
    "value": ("取值或分布", "Value or distribution"),
    "default": ("默认值", "Default"),
    "changed": ("是否改动默认值", "Changed from default"),
    "origin": ("依据类型", "Basis"),
    "basis": ("来源或假设说明", "Source or assumption"),
    "rank": ("排序", "Rank"),
    "if_low": ("该因素偏低（最低三分之一）时的达标可能性", "Likelihood if the input is low (lowest third)"),
    "if_high": ("该因素偏高（最高三分之一）时的达标可能性", "Likelihood if the input is high (highest third)"),
    "swing": ("可能性之差", "Swing"),
    "swing_low": ("差值95%区间下限", "Swing 95% low"),
    "swing_high": ("差值95%区间上限", "Swing 95% high"),
    # values
    "lever": ("政策杠杆", "Lever"),
    "uncertainty": ("不确定因素", "Uncertainty"),
    "source": ("文件/数据来源", "Source"),
    "assumption": ("假设", "Assumption"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "green": ("绿灯（较可能达成）", "green (likely)"),
    "amber": ("黄灯（不确定）", "amber (uncertain)"),
    "red": ("红灯（不太可能）", "red (unlikely)"),
    "not modelled": ("未建模", "not modelled"),
}

PERCENT_COLUMNS = {
    "probability",
    "probability_low",
    "probability_high",
    "change",
    "change_low",
    "change_high",
    "if_low",
    "if_high",
    "swing",
    "swing_low",
    "swing_high",
}
HEADER_FONT = Font(bold=True)


def _t(key: str, lang: str, **fmt: str) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**fmt)


def _cell(value: Any) -> Any:
    """A value openpyxl writes as a plain cell (NaN -> empty, numpy -> Python)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, str):
        return printable(value)  # control characters are not allowed in a workbook cell either
    return value


def _write_sheet(wb: Workbook, title: str, frame: pd.DataFrame, headers: list[str], percent: list[bool]) -> None:
    """One sheet: bold frozen header row, percentages, column widths fitted to the text."""
    ws = wb.create_sheet(title)
    ws.append(headers)
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text from a file is never a formula (openpyxl reads "=..." as one)
    ws.freeze_panes = "A2"
    for j, (header, is_pct) in enumerate(zip(headers, percent), start=1):
        letter = get_column_letter(j)
        if is_pct:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = "0.0%"
        texts = [
            str(v) for v in frame.iloc[:200, j - 1] if v is not None and not (isinstance(v, float) and np.isnan(v))
        ]
        width = max([display_width(header) * 0.6] + [display_width(s) for s in texts] + [6])
        ws.column_dimensions[letter].width = min(width + 2, 60)


def _header(column: str | tuple[str, str], lang: str, ref: str = "") -> tuple[str, bool]:
    """Header text for a data column (a name, or (scenario, field) of the wide comparison view),
    and whether it holds shares shown as percentages."""
    scenario, name = column if isinstance(column, tuple) else ("", column)
    text = _t(name, lang, ref=ref)
    return (f"{scenario}: {text}" if scenario else text), name in PERCENT_COLUMNS


def _summary_frame(runs: Sequence[Run], lang: str) -> pd.DataFrame:
    parts = []
    for run in runs:
        frame = summary_csv(run.summary)  # dates and "never" as text, intervals rounded outwards
        frame.insert(0, "scenario", run.name)
        frame["status"] = [_t(s, lang) if s in TEXT else s for s in frame["status"]]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _trajectory_frame(runs: Sequence[Run]) -> pd.DataFrame:
    parts = []
    for run in runs:
        frame = rounded_csv(run.trajectories, ["mean", "p10", "p25", "p50", "p75", "p90"])
        frame.insert(0, "scenario", run.name)
        first = ["scenario", "indicator", "name_zh", "name_en", "unit", "year"]
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


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list))


def _lever_text(value: Any, lang: str) -> str:
    """A lever value as the workbook shows it: schedules as ``year: value``, choices and
    true/false in the words of ``lang`` (the brief's locale table)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:g}" if isinstance(v, (int, float)) else f"{k}: {v}" for k, v in value.items())
    if isinstance(value, bool):
        return _t("yes" if value else "no", lang)
    if isinstance(value, str):
        return value_label(value, lang)
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


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
            if kind == "lever":
                value = levers.get(spec.key, spec.default)
                text, default = _lever_text(value, lang), _lever_text(spec.default, lang)
                changed = _plain(value) != _plain(spec.default)
            else:
                given = uncertainties.get(spec.key)
                dist = _dist(given) if given is not None else spec.default
                text = describe_distribution(dist, lang) if dist is not None else json.dumps(given, ensure_ascii=False)
                default = describe_distribution(spec.default, lang)
                changed = dist != spec.default
            about = spec.about
            rows.append(
                {
                    "scenario": run.name,
                    "kind": _t(kind, lang),
                    "key": spec.key,
                    "name_zh": about.zh,
                    "name_en": about.en,
                    "unit": unit_label(about.unit, lang),
                    "value": text,
                    "default": default,
                    "changed": _t("yes" if changed else "no", lang),
                    "origin": _t("source" if about.source else "assumption", lang),
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
    heads = [_header(c, lang) for c in summary.columns]
    _write_sheet(wb, _t("sheet.summary", lang), summary, [h for h, _ in heads], [p for _, p in heads])

    trajectories = _trajectory_frame(loaded)
    heads = [_header(c, lang) for c in trajectories.columns]
    _write_sheet(wb, _t("sheet.trajectories", lang), trajectories, [h for h, _ in heads], [p for _, p in heads])

    if comparison is not None:
        wide = wide_table(comparison)
        heads = [_header(c, lang, str(comparison["reference"].iloc[0])) for c in wide.columns]
        _write_sheet(wb, _t("sheet.comparison", lang), wide, [h for h, _ in heads], [p for _, p in heads])

    drivers = _drivers_frame(loaded)
    if not drivers.empty:
        heads = [_header(c, lang) for c in drivers.columns]
        _write_sheet(wb, _t("sheet.drivers", lang), drivers, [h for h, _ in heads], [p for _, p in heads])

    assumptions = pd.DataFrame([row for run in loaded for row in _assumption_rows(run, lang)])
    heads = [_header(c, lang) for c in assumptions.columns]
    _write_sheet(wb, _t("sheet.assumptions", lang), assumptions, [h for h, _ in heads], [p for _, p in heads])

    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")  # renamed into place: never half a workbook
    try:
        wb.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
