"""Excel workbooks: sheets, Chinese and English headers, formats, assumptions."""

import dataclasses
import datetime as dt

import openpyxl
import pytest

from model import compare, load_scenario, simulate
from model.cli import main
from model.report.excel import TEXT, write_workbook
from model.runs import load_run
from tests.paths import ROOT

N, SEED = 500, 5


@pytest.fixture(scope="module")
def runs():
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    levers = dict(plan.levers, **{"techreform.subsidy_rate": 0.1})
    low = dataclasses.replace(plan, name="low_subsidy", levers=levers)
    return simulate(plan, N, SEED), simulate(low, N, SEED)


def _headers(ws):
    return [c.value for c in ws[1]]


def test_workbook_has_chinese_sheets_headers_and_formats(runs, tmp_path):
    table = compare(list(runs))
    path = write_workbook(tmp_path / "c.xlsx", runs, table)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["结果概要", "指标轨迹", "情景比较", "影响因素", "参数与假设"]
    summary = wb["结果概要"]
    assert _headers(summary)[:3] == ["情景", "目标编号", "方案"] and "达标可能性" in _headers(summary)
    assert summary.freeze_panes == "A2" and summary["A1"].font.bold
    col = _headers(summary).index("达标可能性") + 1
    assert summary.cell(row=2, column=col).number_format == "0.0%"
    assert summary.max_row == 1 + 2 * len(runs[0].summary)  # both runs, one row per target
    assert {summary.cell(row=r, column=1).value for r in range(2, summary.max_row + 1)} == {"plan", "low_subsidy"}
    comparison = wb["情景比较"]
    heads = _headers(comparison)
    assert "low_subsidy: 可能性变化（对比plan）" in heads and heads[0] == "目标编号"
    # values are written, not formulas; likelihoods as shares in [0, 1]
    values = [
        comparison.cell(row=r, column=heads.index("plan: 达标可能性") + 1).value
        for r in range(2, comparison.max_row + 1)
    ]
    numbers = [v for v in values if v is not None]
    assert len(numbers) == len(values) and all(0 <= v <= 1 for v in numbers)  # every target modelled
    # medians are numbers in their cells, milestones ISO dates or "never" (formatted when written)
    heads = _headers(summary)
    rows = list(summary.iter_rows(min_row=2, values_only=True))
    unit, median = heads.index("单位"), heads.index("截止时中位值")
    numeric = [r[median] for r in rows if r[unit] != "date" and r[median] is not None]
    assert numeric and all(isinstance(v, (int, float)) for v in numeric)
    dates = [r[median] for r in rows if r[unit] == "date" and r[median] is not None]
    assert dates and all(v == "never" or dt.date.fromisoformat(v) for v in dates)
    widths = [summary.column_dimensions[c].width for c in "ABCD"]
    assert all(6 <= w <= 62 for w in widths)


def test_assumptions_list_every_parameter_and_what_changed(runs, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "a.xlsx", runs))
    assert "情景比较" not in wb.sheetnames
    ws = wb["参数与假设"]
    heads = _headers(ws)
    rows = [dict(zip(heads, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    per_run = len(runs[0].scenario.levers) + len(runs[0].scenario.uncertainties)
    assert len(rows) == 2 * per_run
    subsidy = {r["情景"]: r for r in rows if r["参数键"] == "techreform.subsidy_rate"}
    assert subsidy["low_subsidy"]["是否改动默认值"] == "是" and subsidy["low_subsidy"]["取值或分布"] == "0.1"
    assert subsidy["plan"]["默认值"] == "0.3" and subsidy["plan"]["依据类型"] == "文件/数据来源"
    assert "30%" in subsidy["plan"]["来源或假设说明"]
    assert all(r["来源或假设说明"] for r in rows)
    assert {r["类别"] for r in rows} == {"政策杠杆", "不确定因素"}
    # values in words of the workbook's language, not code: no "uniform(low=...)", no "fifo"
    plan_rows = {r["参数键"]: r for r in rows if r["情景"] == "plan"}
    assert "均匀分布" in plan_rows["green.bass_p"]["取值或分布"] and "(" not in plan_rows["green.bass_p"]["取值或分布"]
    assert plan_rows["overcapacity.work_order"]["取值或分布"] not in ("fifo", "simplest_first")
    assert plan_rows["green.inspection"]["取值或分布"] in ("是", "否")


def test_drivers_sheet_matches_the_runs_drivers(runs, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "d.xlsx", runs[:1]))
    ws = wb["影响因素"]
    heads = _headers(ws)
    assert heads[:4] == ["情景", "目标编号", "排序", "不确定因素"]
    rows = [dict(zip(heads, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    expected = runs[0].drivers
    assert len(rows) == len(expected) > 0
    first = expected.iloc[0]
    low_col = TEXT["if_low"][0]
    assert rows[0][low_col] == pytest.approx(first["probability_low"])
    assert ws.cell(row=2, column=heads.index(low_col) + 1).number_format == "0.0%"


def test_english_headers_and_saved_runs(runs, tmp_path):
    runs[0].save(tmp_path / "plan")
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "e.xlsx", [load_run(tmp_path / "plan")], lang="en"))
    assert wb.sheetnames == ["Summary", "Trajectories", "Drivers", "Assumptions"]
    assert _headers(wb["Summary"])[:2] == ["Scenario", "Target id"]
    statuses = {r[0] for r in wb["Summary"].iter_rows(min_row=2, min_col=15, max_col=15, values_only=True)}
    assert statuses <= {TEXT[k][1] for k in ("green", "amber", "red", "not modelled")}
    with pytest.raises(ValueError, match="lang"):
        write_workbook(tmp_path / "x.xlsx", runs, lang="fr")


def test_xlsx_flags_on_the_command_line(tmp_path, capsys):
    plan = ROOT / "scenarios" / "plan.toml"
    assert main(["run", str(plan), "-n", str(N), "--out", str(tmp_path / "plan"), "--xlsx"]) == 0
    assert openpyxl.load_workbook(tmp_path / "plan" / "results.xlsx").sheetnames[0] == "结果概要"
    assert load_run(tmp_path / "plan").name == "plan"
    out = tmp_path / "cmp"
    assert (
        main(
            ["compare", str(ROOT / "scenarios" / "baseline.toml"), str(tmp_path / "plan"), "--out", str(out), "--xlsx"]
        )
        == 0
    )
    capsys.readouterr()
    assert "情景比较" in openpyxl.load_workbook(out / "comparison.xlsx").sheetnames
