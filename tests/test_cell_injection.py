"""Text that goes into a CSV or a workbook is never evaluated as a formula (issue 15, item 4).

OWASP's guidance on CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by Excel, WPS and LibreOffice. Every CSV goes through
``model.tables.write_csv`` and every workbook cell through ``model.report.excel``; both are
checked directly with hostile text, and every file of a run, a comparison and a sweep made
from a scenario with hostile titles is scanned.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from model.cli import main
from model.printable import cell_text
from model.report.excel_sheets import Column, write_sheet
from model.tables import write_csv
from tests.paths import ROOT

HOSTILE = ['=HYPERLINK("http://x","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1", "\r=1"]
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def dangerous(text: str) -> bool:
    return text.startswith(("=", "+", "-", "@", "\t", "\r")) and not PLAIN_NUMBER.fullmatch(text)


def test_cell_text_neutralises_formulas_and_keeps_numbers():
    assert [cell_text(t) for t in HOSTILE] == ["'" + HOSTILE[0], "'" + HOSTILE[1], "'-2+3", "'@SUM(1+1)",
                                               "'\\x09=1", "'\\x0d=1"]
    assert [cell_text(v) for v in ("-0.05", "+1e3", "2017-10-31", "方案", 1.5, None)] == [
        "-0.05", "+1e3", "2017-10-31", "方案", 1.5, None]


def test_write_csv_writes_hostile_text_as_text(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE, "value": range(len(HOSTILE))})
    write_csv(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8-sig", newline="") as fh:
        cells = [row["name"] for row in csv.DictReader(fh)]
    assert len(cells) == len(HOSTILE) and not any(dangerous(c) for c in cells)


def test_workbook_cells_from_text_are_never_formulas(tmp_path):
    wb = Workbook()
    write_sheet(wb, "t", pd.DataFrame({"name": HOSTILE, "q": HOSTILE}), [Column("name"), Column("q", "quantity")])
    wb.save(tmp_path / "t.xlsx")
    ws = load_workbook(tmp_path / "t.xlsx")["t"]
    cells = [ws.cell(row=i + 2, column=j) for i in range(len(HOSTILE)) for j in (1, 2)]
    assert all(c.data_type == "s" for c in cells)  # stored as text, whatever it starts with
    assert cells[0].value == HOSTILE[0]  # shown as written, not as an apostrophe-prefixed copy


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """A run, a comparison and a sweep of a scenario whose titles and descriptions are formulas."""
    out = tmp_path_factory.mktemp("injection")
    (out / "plan.toml").write_text((ROOT / "scenarios" / "plan.toml").read_text("utf-8"), "utf-8")
    (out / "evil.toml").write_text(
        '[scenario]\nname = "evil"\nextends = "plan.toml"\n'
        + "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n"  # a JSON string is a TOML basic string
                  for key, value in zip(("title_zh", "title_en", "description", "description_zh"), HOSTILE)),
        "utf-8")
    n = ["--replications", "50"]
    assert main(["run", str(out / "evil.toml"), *n, "--xlsx", "--out", str(out / "run")]) == 0
    assert main(["compare", str(out / "plan.toml"), str(out / "evil.toml"), *n, "--xlsx",
                 "--out", str(out / "cmp")]) == 0
    assert main(["sweep", str(out / "evil.toml"), "techreform.subsidy_rate", "0.1", "0.5", *n,
                 "--out", str(out / "sweep")]) == 0
    return out


FILES = ["run/summary.csv", "run/trajectories.csv", "run/joint.csv", "run/departments.csv", "run/districts.csv",
         "run/drivers.csv", "run/results.xlsx", "cmp/comparison.csv", "cmp/comparison.xlsx", "sweep/sweep.csv",
         "sweep/comparison.csv"]


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_no_cell_of_an_output_is_a_formula(outputs, name):
    path = outputs / name
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
        assert cells and not [c for c in cells if dangerous(c)]
    else:
        wb = load_workbook(path)
        cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
        assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
