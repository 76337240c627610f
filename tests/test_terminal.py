"""The terminal a planner reads: compact run view within 80 display columns in Chinese and
English, numbers that read right (<0.1%, no -0, months, percentages), rounded CSV files, the
drivers of a saved run, and a rerun that keeps the previous run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from model.cli import main
from model.cli.common import default_lang
from model.plans import HEADLINE_2020
from model.readable import (
    csv_rounded,
    display_width,
    lever_text,
    month_text,
    number_text,
    percent_text,
)
from model.runs import load_run
from model.targets import load_registry
from tests.paths import ROOT

PLAN = ROOT / "scenarios" / "plan.toml"
N = 300
NAMES = {t.id: (t.name_zh, t.name_en) for t in load_registry()}


@pytest.fixture(autouse=True)
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("term") / "plan"
    assert main(["run", str(PLAN), "-n", str(N), "--out", str(out), "--lang", "en"]) == 0
    return out


def _printed(capsys, *argv) -> str:
    assert main(list(map(str, argv))) == 0
    return capsys.readouterr().out


def _widest(text: str, tmp_path) -> int:
    """The widest line in display columns, leaving out lines with a test folder's path (a path
    cannot be broken, and pytest's are long)."""
    return max(display_width(line) for line in text.splitlines() if str(tmp_path.parent) not in line)


def test_numbers_read_right():
    assert [percent_text(p) for p in (4e-4, 0.9996, 0.0, 1.0, 0.348)] == ["<0.1%", ">99.9%", "0%", "100%", "34.8%"]
    assert [number_text(x, 1) for x in (-0.04, -0.0, 2.50, 17.02, np.nan)] == ["0", "0", "2.5", "17", ""]
    assert month_text(2017.53) == "2017-07" and month_text(2018.0) == "2017-12"
    assert lever_text(2017.53, "decimal year") == "2017-07"
    assert lever_text("0.3", "share", "zh") == "30%" and lever_text(0.125, "share") == "12.5%"
    assert lever_text(True, "bool", "zh") == "是" and lever_text(500, "万元", "zh") == "500 万元"


def test_csv_rounding_per_column():
    frame = pd.DataFrame({"probability": [0.123456, -1e-9], "mean": [50.150351, -0.00001], "name": ["a", "b"]})
    out = csv_rounded(frame)
    assert out["probability"].tolist() == [0.1235, 0.0] and out["mean"].tolist() == [50.1504, 0.0]
    assert not np.signbit(out[["probability", "mean"]].to_numpy()).any()  # no -0.0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_compact_run_view_fits_80_columns(tmp_path, capsys, lang):
    out = _printed(capsys, "run", PLAN, "-n", N, "--out", tmp_path / "plan", "--lang", lang)
    lines = out.splitlines()
    assert _widest(out, tmp_path) <= 80
    assert len(lines) < 60  # compact: 3 goals, counts, 10 riskiest (names folded), not 139 rows
    k = 0 if lang == "zh" else 1
    assert all(NAMES[i][k][:8] in out for i in HEADLINE_2020)  # names, folded when long
    assert not re.search(r"^\S+\.\S+\.\d{4}", out, re.M)  # no target id as a row label
    if lang == "zh":
        assert "红灯" in out and "≥" in out and " count" not in out and "red" not in out
    else:
        assert "red" in out and " count" not in out and "likelihood" in out
    assert not re.search(r"(?<![\d.])0\.0%", out)


def test_all_prints_every_target_and_the_details(tmp_path, capsys):
    out = _printed(capsys, "run", PLAN, "-n", N, "--out", tmp_path / "plan", "--lang", "en", "--all")
    assert _widest(out, tmp_path) <= 80
    assert "outside view of green.energy_intensity_cut.2020" in out and "every target of a plan met" in out
    assert "Coal capacity cut in 2017" in out and "not modelled" in out or "-- " in out


def test_locale_decides_the_default_language(monkeypatch, capsys):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert default_lang() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert default_lang() == "zh"
    assert "编号" in _printed(capsys, "targets", "--plan", "green")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")  # LC_ALL comes first
    assert default_lang() == "en"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_targets_fit_80_columns(capsys, lang):
    out = _printed(capsys, "targets", "--lang", lang)
    assert max(display_width(line) for line in out.splitlines()) <= 80
    assert ("≥ 2 个" in out) if lang == "zh" else (" count" not in out)


def test_every_csv_of_a_run_is_rounded(run_dir):
    for path in run_dir.glob("*.csv"):
        text = path.read_text("utf-8-sig")
        assert not re.search(r"(?<![\w.])\d+\.\d{5,}(?![\w.])", text), path.name  # at most 4 decimals
        assert not re.search(r"(?<![\w.])-0\.0(?![\d])", text), path.name
    summary = pd.read_csv(run_dir / "summary.csv", encoding="utf-8-sig")
    assert set(summary["probability_scale"]) == {"fraction"}  # the likelihoods are fractions
    assert summary["probability"].dropna().between(0, 1).all()


def test_drivers_of_a_saved_run_are_the_runs_own(tmp_path, capsys):
    out = tmp_path / "plan"
    ran = _printed(capsys, "run", PLAN, "-n", "2000", "--out", out, "--lang", "en", "--drivers")
    read = _printed(capsys, "drivers", out, "--lang", "en")
    section = ran[ran.index("What drives the likelihood"):ran.index("saved to")].rstrip()
    assert read.startswith(section) and "drivers.csv" in read
    saved = load_run(out).drivers
    first = saved[saved["target_id"] == HEADLINE_2020[0]].sort_values("rank").iloc[0]
    assert first["name_en"][:20] in read.replace("\n ", " ")
    table = [line for line in read.splitlines() if str(out) not in line]  # a long path cannot be broken
    assert max(display_width(line) for line in table) <= 80, max(table, key=display_width)


def test_a_rerun_keeps_the_previous_run(tmp_path, capsys):
    out = tmp_path / "plan"
    _printed(capsys, "run", PLAN, "-n", 50, "--out", out)
    (out / "brief.zh.html").write_text("<p>edited</p>", "utf-8")  # what a rerun used to delete
    before = (out / "manifest.json").read_text("utf-8")
    printed = _printed(capsys, "run", PLAN, "-n", 60, "--out", out, "--lang", "en")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("plan.")]
    assert len(kept) == 1 and re.fullmatch(r"plan\.\d{4}-\d\d-\d\dT\d{4}", kept[0].name)
    assert str(kept[0]) in printed.replace("\n", "").replace("     ", "")
    assert (kept[0] / "manifest.json").read_text("utf-8") == before
    assert (kept[0] / "brief.zh.html").read_text("utf-8") == "<p>edited</p>"
    assert load_run(kept[0]).replications == 50 and load_run(out).replications == 60
    _printed(capsys, "run", PLAN, "-n", 50, "--out", out)  # same minute: a distinct name
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("plan.")]) == 2


def test_compare_fits_80_columns_in_both_languages(run_dir, tmp_path, capsys):
    other = tmp_path / "plan2"
    _printed(capsys, "run", ROOT / "scenarios" / "baseline.toml", "-n", N, "--out", other)
    for lang in ("zh", "en"):
        out = _printed(capsys, "compare", other, run_dir, "--out", tmp_path / f"cmp-{lang}", "--lang", lang)
        assert _widest(out, tmp_path) <= 80, lang
        assert not re.search(r"(?<![\d.])0\.0%", out) and ("目标" in out if lang == "zh" else "target" in out)
