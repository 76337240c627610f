"""The terminal and workbook items of issue 14 that remained: a rerun of ``compare``, ``sweep``
or an analysis keeps the previous output (moved aside with its date, as ``run`` does); four
scenarios compared within 80 columns in Chinese and English; every phrase of ``run`` (workers,
``--by-department``, several scenarios) and ``validate`` in the chosen language; shares in the
workbook's assumptions as percentages."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from model.analysis import save_analysis
from model.atomic import OutDirError, check_replaceable, output_kind, previous_place
from model.cli import main
from model.cli.common import executor_text
from model.distributions import Distribution
from model.params import all_params
from model.readable import change_text, display_width, percent_text
from model.report.i18n import PERCENT_UNITS, describe_distribution
from model.runs import load_run
from tests.paths import ROOT

SCENARIOS = ["baseline", "plan", "accelerated", "pessimistic"]
N = 100  # the layout and the files are checked, not the likelihoods: a small run suffices
KEPT = re.compile(r"\.\d{4}-\d\d-\d\dT\d{4}(-\d+)?")


@pytest.fixture(autouse=True)
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """The four scenarios run once (``run`` of several files, at 80 columns), and what it printed
    in Chinese."""
    out = tmp_path_factory.mktemp("four")
    argv = ["run", *[str(ROOT / "scenarios" / f"{s}.toml") for s in SCENARIOS], "-n", str(N), "--out", str(out),
            "--lang", "zh", "--xlsx"]
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("COLUMNS", "80")
        assert main(argv) == 0
    return out, printed.getvalue()


def _printed(capsys, *argv) -> str:
    assert main(list(map(str, argv))) == 0
    return capsys.readouterr().out


def _lines(text: str, root: Path) -> list[str]:
    """Printed lines without those holding a test folder's path (a path cannot be broken)."""
    return [line for line in text.splitlines() if str(root) not in line and "/tmp" not in line]


def _kept(folder: Path, name: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(name + ".") and KEPT.fullmatch(p.name[len(name):]))


def test_run_of_several_scenarios_speaks_chinese(four):
    out, printed = four
    assert "1个工作进程" in printed and "worker" not in printed
    assert "主要目标：各目标按期达成的可能性" in printed and " of " not in printed
    assert f"{load_run(out / 'plan').joint.set_index('view').loc['met_count', 'mean']:.1f}/" in printed
    assert max(display_width(line) for line in _lines(printed, out)) <= 80


def test_a_second_compare_keeps_the_first(four, tmp_path, capsys):
    out, _ = four
    runs = [out / s for s in SCENARIOS]
    target = tmp_path / "cmp"
    _printed(capsys, "compare", *runs[:2], "--out", target, "--lang", "en")
    first = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    printed = _printed(capsys, "compare", *runs[:3], "--out", target, "--lang", "en")
    kept = _kept(tmp_path, "cmp")
    assert len(kept) == 1
    assert {p.relative_to(kept[0]): p.read_bytes() for p in kept[0].rglob("*") if p.is_file()} == first
    assert output_kind(kept[0]) == "comparison" and output_kind(target) == "comparison"
    assert json.loads((target / "manifest.json").read_text("utf-8"))["scenarios"] == SCENARIOS[:3]
    flat = re.sub(r"\s+", "", printed)
    assert "thepreviouscomparisontherewaskept:movedto" + re.sub(r"\s+", "", str(kept[0])) in flat
    zh = _printed(capsys, "compare", *runs[:2], "--out", target, "--lang", "zh")
    assert len(_kept(tmp_path, "cmp")) == 2 and "原有比较结果未删除，已移至" in zh  # same minute: a distinct name
    (target / "notes.txt").write_text("mine", "utf-8")  # the guard is as strict as before
    with pytest.raises(OutDirError):
        check_replaceable(target, "comparison")
    assert main(["compare", *map(str, runs[:2]), "--out", str(target)]) == 2
    assert (target / "notes.txt").read_text("utf-8") == "mine" and len(_kept(tmp_path, "cmp")) == 2


def test_a_second_sweep_keeps_the_first(tmp_path, capsys):
    target = tmp_path / "sw"
    argv = ["sweep", ROOT / "scenarios" / "plan.toml", "techreform.subsidy_rate", "0.1", "0.5", "-n", 50,
            "--out", target, "--lang", "zh"]
    _printed(capsys, *argv)
    before = (target / "sweep.csv").read_bytes()
    printed = _printed(capsys, *argv)
    kept = _kept(tmp_path, "sw")
    assert len(kept) == 1 and (kept[0] / "sweep.csv").read_bytes() == before
    assert "原有比较结果未删除" in printed
    assert max(display_width(line) for line in _lines(printed, tmp_path)) <= 80


def test_a_second_analysis_keeps_the_first(tmp_path):
    target = tmp_path / "levers"
    manifest = {"kind": "analysis", "analysis": "levers", "scenarios": ["plan"], "settings": {}}
    assert previous_place(target, "analysis") is None
    save_analysis(target, manifest, {"levers.csv": pd.DataFrame({"x": [1.0]})})
    kept = previous_place(target, "analysis")
    assert kept is not None and KEPT.fullmatch(kept.name[len("levers"):])
    save_analysis(target, manifest, {"levers.csv": pd.DataFrame({"x": [2.0]})}, keep_previous=kept)
    assert pd.read_csv(kept / "levers.csv")["x"].tolist() == [1.0]
    assert pd.read_csv(target / "levers.csv")["x"].tolist() == [2.0]
    assert previous_place(target, "run") is None  # only an analysis is moved for an analysis


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_four_scenarios_compared_within_80_columns(four, tmp_path, capsys, lang):
    out, _ = four
    runs = [out / s for s in SCENARIOS]
    printed = _printed(capsys, "compare", *runs, "--out", tmp_path / "c4", "--lang", lang)
    lines = _lines(printed, tmp_path)
    assert max(display_width(line) for line in lines) <= 80, max(lines, key=display_width)
    head = next(line for line in lines if line.startswith("   " + ("目标" if lang == "zh" else "target")))
    assert head.split()[1:] == SCENARIOS
    plan, ref = load_run(out / "plan").summary.set_index("target_id"), load_run(out / "baseline").summary
    ref = ref.set_index("target_id")
    change = (plan["probability"] - ref["probability"]).dropna()
    change = change[~change.index.str.contains(".district.", regex=False)]
    top = change.abs().idxmax()  # a target with the largest change of plan (ties: any such one)
    cell = f"{percent_text(plan.at[top, 'probability'])} {change_text(change[top])}"
    assert any(cell in line for line in lines), cell
    said = " ".join(printed.split())  # the note as one line (it is wrapped at 80 columns)
    assert "comparison.csv" in said and ("百分点" in said if lang == "zh" else "percentage points" in said)


def test_executor_text_counts_workers_in_both_languages():
    def args(workers, executor="local", scheduler=None):
        return argparse.Namespace(workers=workers, executor=executor, scheduler=scheduler)

    assert executor_text(args(1)) == "1 worker" and executor_text(args(2)) == "2 workers"
    assert executor_text(args(1), "zh") == "1个工作进程" and executor_text(args(3), "zh") == "3个工作进程"
    assert executor_text(args(1, "dask"), "en") == "on a local dask cluster of 1 worker"
    assert "tcp://h:8786" in executor_text(args(2, "dask", "tcp://h:8786"), "zh")
    assert not re.search("[A-Za-z]{3,}", executor_text(args(2, "dask"), "zh").replace("dask", ""))


def test_by_department_in_chinese(tmp_path, capsys):
    printed = _printed(capsys, "run", ROOT / "scenarios" / "plan.toml", "-n", 60, "--out", tmp_path / "p",
                       "--by-department", "--lang", "zh")
    part = printed[printed.index("按责任单位列出目标"):]
    assert "-- 工信委（市工业和信息化委员会）：目标" in part and "（牵头）" in part and "红灯" in part
    assert not re.search(r"targets|modelled|red\b|lead|support|likelihood", part)
    assert max(display_width(line) for line in _lines(printed, tmp_path)) <= 80


def test_validate_in_both_languages(capsys):
    files = [ROOT / "scenarios" / "accelerated.toml", ROOT / "observed" / "2018-h1.toml"]
    zh = _printed(capsys, "validate", *files, "--lang", "zh")
    en = _printed(capsys, "validate", *files, "--lang", "en")
    assert zh.count("通过  ") == 2 and "values set" not in zh and "公布数据" in zh
    assert en.count("ok  ") == 2 and "values set" in en
    assert len(zh.splitlines()) == len(en.splitlines()) == 2  # a line a file, as scripts read it


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_distributions_of_shares_read_as_percentages(lang):
    def said(spec, unit):
        return describe_distribution(Distribution.from_spec(spec), lang, unit)

    assert said({"dist": "uniform", "low": 0.2, "high": 0.4}, "share") == {"zh": "均匀分布 20%–40%",
                                                                           "en": "uniform 20%–40%"}[lang]
    beta = said({"dist": "beta", "alpha": 3, "beta": 7}, "share")  # mean 3 / (3 + 7)
    assert beta.endswith({"zh": "均值 30%", "en": "mean 30%"}[lang])
    normal = said({"dist": "normal", "mean": 0.3, "sd": 0.05}, "share")
    assert "30%" in normal and {"zh": "5个百分点", "en": "5 pp"}[lang] in normal
    dates = said({"dist": "triangular", "low": 2017.4, "mode": 2017.6, "high": 2018.2}, "decimal year")
    assert "2017-05" in dates and "2018-03" in dates and "2017-08" in dates and "2017.4" not in dates
    assert said({"dist": "uniform", "low": 0.1, "high": 0.45}, "") == {"zh": "均匀分布 0.1–0.45",
                                                                       "en": "uniform 0.1–0.45"}[lang]


def test_workbook_assumptions_write_shares_as_percentages(four):
    out, _ = four
    wb = openpyxl.load_workbook(out / "accelerated" / "results.xlsx")
    ws = wb["参数与假设"]
    heads = [str(c.value).split("\n")[0] for c in ws[1]]  # the Chinese line of each header
    rows = [dict(zip(heads, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    units = {x.key: x.about.unit for d in all_params().values() for x in d.uncertainties.values()}
    shares = [r for r in rows if r["类别"] == "不确定因素" and units[r["参数键"]] in PERCENT_UNITS]
    assert len(shares) > 100 and any(units[r["参数键"]] == "share/yr" for r in shares)
    for r in shares:
        for cell in (r["取值或分布"], r["默认值"]):
            numbers = re.findall(r"(?<![\w.])\d+(?:\.\d+)?%?", cell.split("（α")[0])
            assert numbers and all(x.endswith("%") for x in numbers), (r["参数键"], cell)
    demo = next(r for r in shares if r["参数键"] == "techreform.demo.share")  # accelerated: 0.75-0.95
    assert demo["取值或分布"] == "均匀分布 75%–95%" and demo["是否改动默认值"] == "是"
