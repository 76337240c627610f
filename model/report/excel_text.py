"""Every header and label of the workbooks (:mod:`model.report.excel`), Chinese and English,
and the kind of value each column holds (:class:`model.report.excel_sheets.Column`).

A Chinese workbook's headers are Chinese first, then English on a second line of the wrapped
header cell; an English workbook's are English only.
"""

from __future__ import annotations

from .excel_sheets import Column

__all__ = ["KINDS", "TEXT", "column", "header", "label"]

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
    "never": ("模拟期内未完成", "never"),
    "lead": ("牵头", "lead"),
    "support": ("配合", "support"),
    # the district sheet and the responsible units' sheets
    "sheet.districts": ("区县目标", "Districts"),
    "role": ("牵头/配合", "Role"),
    "district": ("区县", "District"),
    "district_id": ("区县编号", "District id"),
    "industrial_investment": ("工业投资（亿元）", "Industrial investment (亿元)"),
    "investment": ("工业技改投资（亿元）", "Tech-renovation investment (亿元)"),
    "firms": ("实施技改规上企业（家）", "Above-scale firms renovating (firms)"),
    "district.target": ("2017年目标", "2017 target"),
}


#: The kind of value of each column name (default text).
KINDS = {
    **dict.fromkeys(("probability", "probability_low", "probability_high", "if_low", "if_high"), "percent"),
    **dict.fromkeys(("change", "change_low", "change_high", "swing", "swing_low", "swing_high"), "change"),
    **dict.fromkeys(("median", "p10", "p25", "p50", "p75", "p90", "mean", "district.target"), "quantity"),
    "deadline": "date",
    "year": "integer",
    "rank": "integer",
}


def label(key: str, lang: str, **fmt: str) -> str:
    """A label in the workbook's language."""
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**fmt)


def header(key: str, lang: str, prefix: str = "", **fmt: str) -> str:
    """A column header: Chinese, then English on a second line (``lang="zh"``), or English;
    ``prefix`` (a scenario's name) before each."""
    zh, en = (text.format(**fmt) for text in TEXT[key])
    lead = f"{prefix}: " if prefix else ""
    return f"{lead}{zh}\n{en}" if lang == "zh" and zh != en else f"{lead}{en if lang == 'en' else zh}"


def column(name: str | tuple[str, str], lang: str, ref: str = "", kind_of: str | None = None) -> Column:
    """The :class:`Column` of a data column: a name, or (scenario, field) of a wide view;
    ``kind_of`` names the field whose kind it has (``investment.p10`` is a ``p10``)."""
    scenario, name = name if isinstance(name, tuple) else ("", name)
    return Column(header(name, lang, scenario, ref=ref), KINDS.get(kind_of or name, "text"))
