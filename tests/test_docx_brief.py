"""The editable Word brief (``brief --format docx``), the front sheet and the focus scenario of a
comparison brief (issue 14 items 3 and 4)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from markupsafe import escape

import model
from model.cli import main
from model.plans import HEADLINE_2020
from model.report.brief import make_brief, render_html
from model.report.brief_data import HEADLINE_GOALS, pct
from model.report.docx_style import MARGINS_MM
from model.report.focus import by_construction
from model.report.front_sheet import front_sheet
from model.report.i18n import load_locale
from model.runs import RunError, load_run
from model.targets import load_registry
from tests.paths import ROOT

HEADLINE_IDS = [i for _, ids in HEADLINE_GOALS for i in ids]
REGISTRY = {t.id: t for t in load_registry()}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    results = model.simulate(model.load_scenario(ROOT / "scenarios" / "plan.toml"), replications=300, seed=5)
    return results.save(tmp_path_factory.mktemp("docx") / "plan")


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    files = [ROOT / "scenarios" / f"{n}.toml" for n in ("baseline", "plan")]
    assert main(["compare", *map(str, files), "--replications", "300", "--seed", "5", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def zh_docx(run_dir):
    (path,) = make_brief(run_dir, formats=("docx",))
    return path


def _texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def _weakest(summary, lang="zh") -> str:
    """The name of the 2020 goal with the lowest likelihood."""
    s = summary.set_index("target_id")
    weakest = min(HEADLINE_2020, key=lambda i: s.at[i, "probability"])
    return REGISTRY[weakest].name_zh if lang == "zh" else REGISTRY[weakest].name_en


def test_docx_holds_the_headline_targets_and_the_front_sheet(run_dir, zh_docx):
    assert zh_docx.name == "brief.zh.docx" and zh_docx.parent == run_dir
    doc = Document(str(zh_docx))
    run = load_run(run_dir)
    s = run.summary.set_index("target_id")
    rows = {(row.cells[0].text, row.cells[1].text[:4]): [c.text for c in row.cells]
            for row in doc.tables[0].rows}  # the first table: the headline goals and their milestones
    for target_id in HEADLINE_IDS:  # each headline target has a row with its likelihood
        key = (REGISTRY[target_id].name_zh, str(REGISTRY[target_id].deadline.year))
        assert key in rows, key
        assert pct(s.at[target_id, 'probability']) == rows[key][2]
    texts = _texts(doc)
    loc = load_locale("zh")["front"]
    heads = [t for t in texts if t.endswith((loc["h_judgement"], loc["h_risks"], loc["h_advice"]))]
    assert heads[:3] == ["一、总体判断", "二、主要风险", "三、建议"]
    first = [texts[texts.index(h) + 1] for h in heads[:3]]
    weakest = _weakest(run.summary)
    assert weakest in first[0] and weakest in first[1]  # the judgement and the risks name the weakest goal
    assert all(len(p) > 20 for p in first)
    assert any("依据2017年7月已知信息" in t for t in texts)
    # the detailed part is numbered 一、二、... after the front sheet, with （一） not needed
    later = [t for t in texts[texts.index(heads[2]) + 2:] if re.match("^[一二三四五六七八九十]、", t)]
    assert later[0] == "一、摘要" and len(later) >= 5


def test_docx_page_and_fonts_are_those_of_an_official_document(zh_docx):
    doc = Document(str(zh_docx))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    for side, mm in MARGINS_MM.items():
        assert abs(getattr(section, f"{side}_margin") - Mm(mm)) < Mm(0.1)
    east = doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia"))
    assert east == "仿宋"
    title = next(p for p in doc.paragraphs if p.runs and p.runs[0].font.size and p.runs[0].font.size.pt == 22)
    assert title.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    heading = next(p for p in doc.paragraphs if p.text == "一、总体判断")
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    fallbacks = doc.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable").blob.decode("utf-8")
    assert 'w:name="仿宋"><w:altName w:val="仿宋_GB2312"' in fallbacks
    assert any("仿宋_GB2312" in t and "SimSun" in t for t in _texts(doc))  # the fallback named in the text


def test_english_docx(run_dir, tmp_path):
    (path,) = make_brief(run_dir, lang="en", formats=("docx",), out=tmp_path / "b.docx")
    texts = _texts(Document(str(path)))
    assert texts.count("1. Overall assessment") == 1 and "2. Main risks" in texts and "3. Recommendations" in texts
    assert any("Based on information known in July 2017." in t for t in texts)
    assert _weakest(load_run(run_dir).summary, "en") in texts[texts.index("1. Overall assessment") + 1]


def test_html_gets_the_same_front_sheet(run_dir):
    run = load_run(run_dir)
    title = str(run.settings.get("title_zh"))
    front = front_sheet(run, title, "zh")
    html = render_html(run_dir, with_charts=False)
    assert "<h3>总体判断</h3>" in html and "<h3>主要风险</h3>" in html and "<h3>建议</h3>" in html
    for text in front["paragraphs"]:  # the same three paragraphs (escaped as the template escapes text)
        assert str(escape(text)) in html
    docx = _texts(Document(str(make_brief(run_dir, formats=("docx",), out=f"{run_dir}/same.docx")[0])))
    assert all(text in docx for text in front["paragraphs"])


def test_comparison_focus_defaults_to_plan_and_leaves_settled_targets_out(comparison_dir, tmp_path):
    baseline = load_run(comparison_dir / "runs" / "baseline")
    settled = by_construction(baseline)
    # the closure targets of a scenario without closures: the same indicator value in every replication
    assert "overcapacity.coal_capacity_cut.2017" in settled
    assert all(baseline.summary.set_index("target_id").at[i, "probability"] in (0.0, 1.0) for i in settled)
    assert not by_construction(load_run(comparison_dir / "runs" / "plan"))
    html = render_html(comparison_dir, lang="en", with_charts=False)
    assert html.count("(focus of this brief)") == 1
    risk = re.search(r'<table class="risk">.*?</table>', html, re.S).group(0)
    assert 'focus scenario "' in html
    on_baseline = render_html(comparison_dir, lang="en", with_charts=False, focus="baseline")
    risk_b = re.search(r'<table class="risk">.*?</table>', on_baseline, re.S).group(0)
    name = REGISTRY["overcapacity.coal_capacity_cut.2017"].name_en
    assert name not in risk_b and "settled by the settings" in on_baseline  # said once, left out
    assert on_baseline.count("settled by the settings") == 1 and risk != risk_b
    # one row per target, a cell per scenario in the change table
    changes = re.search(r'<table class="changes">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", changes, re.S)
    assert rows and all(r.count("<td") == 1 + 2 for r in rows)
    assert len({re.search(r"<td>(.*?)</td>", r).group(1) for r in rows}) == len(rows)
    with pytest.raises(RunError, match="no scenario 'nope'"):
        render_html(comparison_dir, focus="nope")
    (docx,) = make_brief(comparison_dir, formats=("docx",), out=tmp_path / "c.docx")
    doc = Document(str(docx))
    assert "一、总体判断" in _texts(doc) and len(doc.tables) >= 5


def test_headline_footnote_says_what_the_comparison_table_holds(comparison_dir):
    html = render_html(comparison_dir, lang="en", with_charts=False)
    table = re.search(r'<table class="headline.*?</table></div>\s*<p class="note">(.*?)</p>', html, re.S)
    note = table.group(1)
    assert "Wilson" in note and "10–90" not in note and "Median projection" not in note


def test_libreoffice_converts_the_docx(zh_docx, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: setup.sh installs libreoffice-writer-nogui")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(zh_docx)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "brief.zh.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 1
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "总体判断" in re.sub(r"\s+", "", text)
