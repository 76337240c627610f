"""Excel workbooks: sheets, Chinese-first headers, cells stored as numbers and dates with formats,
autofilter, frozen panes, print setup, a sheet per responsible unit and the district sheet,
traffic-light fills; and the workbook as LibreOffice reads it."""

import csv
import dataclasses
import datetime as dt
import shutil
import subprocess

import openpyxl
import pytest

from model import compare, load_scenario, simulate
from model.cli import main
from model.plans import HEADLINE_2020
from model.report.excel import TEXT, write_workbook
from model.report.excel_sheets import FILLS
from model.runs import load_run
from model.timeline import to_date
from tests.paths import ROOT

N, SEED = 500, 5
MAIN_SHEETS = ["结果概要", "指标轨迹", "情景比较", "影响因素", "参数与假设", "区县目标"]


@pytest.fixture(scope="module")
def runs():
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    levers = dict(plan.levers, **{"techreform.subsidy_rate": 0.1})
    low = dataclasses.replace(plan, name="low_subsidy", levers=levers)
    return simulate(plan, N, SEED), simulate(low, N, SEED)


@pytest.fixture(scope="module")
def book(runs, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "c.xlsx"
    return openpyxl.load_workbook(write_workbook(path, runs, compare(list(runs))))


def _headers(ws):
    """The first line of each header (Chinese in a Chinese workbook)."""
    return [c.value.split("\n")[0] for c in ws[1]]


def _rows(ws):
    heads = _headers(ws)
    return [dict(zip(heads, r)) for r in ws.iter_rows(min_row=2)]


def test_workbook_has_chinese_first_sheets_headers_and_formats(runs, book):
    assert book.sheetnames[: len(MAIN_SHEETS)] == MAIN_SHEETS
    summary = book["结果概要"]
    assert _headers(summary)[:3] == ["情景", "名称（中文）", "目标编号"] and "达标可能性" in _headers(summary)
    assert summary["A1"].value == "情景\nScenario"  # Chinese first, English below, in a wrapped bold cell
    assert summary["A1"].font.bold and summary["A1"].alignment.wrap_text
    assert summary.freeze_panes == "D2"  # scenario and target columns and the header row stay in view
    assert summary.max_row == 1 + 2 * len(runs[0].summary)
    col = _headers(summary).index("达标可能性") + 1
    assert summary.cell(row=2, column=col).number_format == "0.0%"
    comparison = book["情景比较"]
    heads = _headers(comparison)
    assert "low_subsidy: 可能性变化（对比plan）" in heads and heads[:2] == ["名称（中文）", "目标编号"]
    assert comparison.freeze_panes == "B2"
    widths = [summary.column_dimensions[c].width for c in "ABCD"]
    assert all(8 <= w <= 50 for w in widths)


def test_numbers_and_dates_are_stored_as_numbers_and_dates(runs, book):
    """No likelihood, median or quantile is text (the issue found 556 of 556 medians and quantiles
    stored as text); deadlines and milestone dates are dates with a date format."""
    for title in ("结果概要", "情景比较"):
        ws = book[title]
        heads = [c.value for c in ws[1]]
        words = ("达标可能性", "区间", "中位值", "分位值", "变化")
        numeric = [j for j, h in enumerate(heads) if any(k in h for k in words)]
        quantiles = {j for j, h in enumerate(heads) if "中位值" in h or "分位值" in h}
        unit = _headers(ws).index("单位")
        cells = [(row[unit].value, j in quantiles, row[j]) for row in ws.iter_rows(min_row=2) for j in numeric]
        assert len(cells) > 500
        for unit_text, quantile, cell in cells:
            if cell.value is None:
                continue
            if unit_text == "date" and quantile:  # a milestone: a date, or the words for never reached
                assert cell.is_date or cell.value == "模拟期内未完成", cell.coordinate
            else:
                assert cell.data_type == "n" and not cell.is_date, (title, cell.coordinate, cell.value)
                assert cell.number_format in ("0.0%", "+0.0%;-0.0%;0.0%", "0.00", "#,##0.0"), cell.number_format
        milestones = [c for u, q, c in cells if u == "date" and q and c.is_date]
        assert milestones and all(c.number_format == "yyyy-mm-dd" for c in milestones)
        deadline = _headers(ws).index("截止日期")
        for row in ws.iter_rows(min_row=2):
            assert row[deadline].is_date and row[deadline].number_format == "yyyy-mm-dd"
    # the value of a cell is the run's number (a likelihood as a share in [0, 1])
    rows = {(r["情景"].value, r["目标编号"].value): r for r in _rows(book["结果概要"])}
    for t in HEADLINE_2020:
        expected = runs[1].summary.set_index("target_id").at[t, "probability"]
        assert rows[("low_subsidy", t)]["达标可能性"].value == pytest.approx(expected)
    # consistent decimals down a column of quantities
    ws = book["区县目标"]
    for j in range(5, ws.max_column + 1):
        formats = {c.number_format for (c,) in ws.iter_rows(min_row=2, min_col=j, max_col=j) if c.value is not None}
        assert len(formats) == 1, (ws.cell(row=1, column=j).value, formats)


def test_every_sheet_has_autofilter_frozen_header_and_print_setup(book):
    for ws in book:
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{ws.max_row}", ws.title
        assert ws.freeze_panes and ws.freeze_panes.endswith("2") and ws.freeze_panes != "A2", ws.title
        assert ws.print_title_rows == "$1:$1"  # the header row on every printed page
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert all(c.font.bold and c.alignment.wrap_text for c in ws[1])


def test_a_sheet_per_responsible_unit_with_role_likelihoods_and_fills(runs, book):
    departments = runs[0].departments
    units = list(dict.fromkeys(departments.loc[departments["kind"] != "district", "unit"]))
    assert book.sheetnames[len(MAIN_SHEETS):] == units  # most targets first: 工信委
    assert units[0] == "工信委"
    ws = book["工信委"]
    mine = departments[departments["unit"] == "工信委"]
    rows = _rows(ws)
    assert len(rows) == len(mine) and ws.freeze_panes == "B2"
    heads = _headers(ws)
    assert heads[:3] == ["名称（中文）", "目标编号", "牵头/配合"]
    assert "plan: 达标可能性" in heads and "low_subsidy: 研判" in heads
    by_id = runs[1].summary.set_index("target_id")
    colours = {TEXT[k][0]: FILLS[k] for k in ("green", "amber", "red")}
    for row, (_, expected) in zip(rows, mine.iterrows()):
        assert row["目标编号"].value == expected["target_id"]
        assert row["牵头/配合"].value == {"lead": "牵头", "support": "配合"}[expected["role"]]
        status = row["low_subsidy: 研判"]
        if status.value in colours:  # the traffic light is a filled cell
            assert status.fill.fill_type == "solid" and status.fill.start_color.rgb[-6:] == colours[status.value]
        p = by_id.at[expected["target_id"], "probability"]
        assert row["low_subsidy: 达标可能性"].value == pytest.approx(p, nan_ok=True) or p != p
    lit = {row["plan: 研判"].value for row in rows}
    assert {TEXT["red"][0], TEXT["amber"][0]} <= lit


def test_district_sheet_holds_each_districts_targets(runs, book):
    ws = book["区县目标"]
    rows = _rows(ws)
    districts = runs[0].districts
    assert len(rows) == 2 * len(districts) == 2 * 20  # 19 districts and the total, per scenario
    plan = [r for r in rows if r["情景"].value == "plan"]
    for row, (_, d) in zip(plan, districts.iterrows()):
        assert row["区县"].value == d["name_zh"]
        assert row["工业投资（亿元）：达标可能性"].value == pytest.approx(d["industrial_investment.probability"])
        assert row["工业投资（亿元）：达标可能性"].number_format == "0.0%"
        assert row["工业投资（亿元）：2017年目标"].value == pytest.approx(d["industrial_investment.target"])
    fills = {r["实施技改规上企业（家）：研判"].fill.start_color.rgb[-6:] for r in rows}
    assert fills & set(FILLS.values())


def test_assumptions_list_every_parameter_and_what_changed(runs, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "a.xlsx", runs))
    assert "情景比较" not in wb.sheetnames
    rows = [{k: c.value for k, c in r.items()} | {"_cells": r} for r in _rows(wb["参数与假设"])]
    per_run = len(runs[0].scenario.levers) + len(runs[0].scenario.uncertainties)
    assert len(rows) == 2 * per_run
    subsidy = {r["情景"]: r for r in rows if r["参数键"] == "techreform.subsidy_rate"}
    low = subsidy["low_subsidy"]
    assert low["是否改动默认值"] == "是" and low["取值或分布"] == pytest.approx(0.1)
    assert low["_cells"]["取值或分布"].number_format == "0.0%"  # a share shown as 10.0%
    assert subsidy["plan"]["默认值"] == pytest.approx(0.3) and subsidy["plan"]["依据类型"] == "文件/数据来源"
    assert "30%" in subsidy["plan"]["来源或假设说明"]
    assert all(r["来源或假设说明"] for r in rows)
    assert {r["类别"] for r in rows} == {"政策杠杆", "不确定因素"}
    plan_rows = {r["参数键"]: r for r in rows if r["情景"] == "plan"}
    start = plan_rows["green.measures_start"]  # a decimal year (2017.526) is a date
    assert start["_cells"]["取值或分布"].is_date and start["_cells"]["取值或分布"].number_format == "yyyy-mm-dd"
    assert start["取值或分布"].date() == to_date(runs[0].scenario.levers["green.measures_start"])
    assert "均匀分布" in plan_rows["green.bass_p"]["取值或分布"] and "(" not in plan_rows["green.bass_p"]["取值或分布"]
    assert plan_rows["overcapacity.work_order"]["取值或分布"] not in ("fifo", "simplest_first")
    assert plan_rows["green.inspection"]["取值或分布"] in ("是", "否")
    assert isinstance(plan_rows["overcapacity.teams"]["取值或分布"], int)


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
    assert wb.sheetnames[:5] == ["Summary", "Trajectories", "Drivers", "Assumptions", "Districts"]
    assert [c.value for c in wb["Summary"][1]][:3] == ["Scenario", "Name (Chinese)", "Target id"]
    heads = [c.value for c in wb["Summary"][1]]
    statuses = {r[0] for r in wb["Summary"].iter_rows(min_row=2, min_col=heads.index("Status") + 1,
                                                      max_col=heads.index("Status") + 1, values_only=True)}
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
    wb = openpyxl.load_workbook(out / "comparison.xlsx")
    assert "情景比较" in wb.sheetnames and "工信委" in wb.sheetnames
    ws = wb["情景比较"]
    assert all(c.data_type == "n" for c in ws[2][6:9])  # baseline's likelihood and its interval


def test_libreoffice_reads_the_workbook(runs, tmp_path):
    """LibreOffice Calc (headless) opens the workbook and shows a headline target's likelihood as
    the percentage the number format gives (the CSV export writes the cells as shown)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; ./setup.sh installs libreoffice-calc-nogui")
    path = write_workbook(tmp_path / "lo.xlsx", runs[:1])
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "out"), str(path)],
        check=True, capture_output=True, timeout=240,
    )
    with open(tmp_path / "out" / "lo.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    heads = [h.split("\n")[0] for h in rows[0]]
    assert heads[:3] == ["情景", "名称（中文）", "目标编号"]
    by_id = {r[2]: dict(zip(heads, r)) for r in rows[1:]}
    target = HEADLINE_2020[0]
    p = runs[0].summary.set_index("target_id").at[target, "probability"]
    assert by_id[target]["达标可能性"] == f"{100 * p:.1f}%"
    assert dt.date.fromisoformat(by_id[target]["截止日期"]) == dt.date(2020, 12, 31)
