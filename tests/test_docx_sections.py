"""Every section of the PDF brief in the Word brief (issue 14 item 4): the forecast vs published
figures of a conditioned run, why the goals may fail (discover), the outside view; the
sensitivity analysis of a sweep folder's brief in HTML and Word (item 9); likelihoods that
never read 0.0 % for a non-zero value (item 5)."""

from __future__ import annotations

import html
import re
import shutil

import pytest
from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

import model
from model.analysis import read_analysis
from model.cli import main
from model.observed import load_observed
from model.outside import pct as outside_pct
from model.report.brief import _png, make_brief, render_html
from model.report.brief_data import interval, pct
from model.report.i18n import load_locale
from model.report.sweep_brief import sweep_block
from model.runs import load_run
from tests.paths import ROOT

PLAN = ROOT / "scenarios" / "plan.toml"
OBSERVED = ROOT / "observed" / "2018-h1.toml"
GOAL = "green.energy_intensity_cut.2020"


def _texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def _table_after(doc, heading: str):
    """The first table after the paragraph ``heading``, in the body's order."""
    items = list(doc.iter_inner_content())
    start = next(i for i, x in enumerate(items) if isinstance(x, Paragraph) and x.text == heading)
    return next(x for x in items[start:] if isinstance(x, Table))


@pytest.fixture(scope="module")
def conditioned_dir(tmp_path_factory):
    run = model.simulate(model.load_scenario(PLAN), replications=500, seed=7, observed=OBSERVED)
    return run.save(tmp_path_factory.mktemp("obs") / "obs")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A run and a discover analysis of the same scenario, seed and replications."""
    base = tmp_path_factory.mktemp("disc")
    run, found = base / "run", base / "discover"
    common = ["-n", "400", "--seed", "11"]
    assert main(["run", str(PLAN), *common, "--out", str(run)]) == 0
    assert main(["discover", str(PLAN), "--target", GOAL, *common, "--out", str(found)]) == 0
    return run, found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_conditioned_docx_has_the_forecast_vs_published_table(conditioned_dir, tmp_path, lang):
    (path,) = make_brief(conditioned_dir, lang=lang, formats=("docx",), out=tmp_path / f"b.{lang}.docx")
    doc = Document(str(path))
    loc = load_locale(lang)["brief"]
    heading = next(t for t in _texts(doc) if t.endswith(loc["h_observed"]))
    assert re.match(r"^[一二三四五六七八九十]、|^\d+\. ", heading)  # numbered as the other sections
    table = _table_after(doc, heading)
    assert [c.text for c in table.rows[0].cells][:3] == [loc["col_figure"], loc["col_period"], loc["col_published"]]
    published = [row.cells[2].text for row in table.rows[1:]]
    figures = load_observed(OBSERVED).figures
    assert len(published) == len(figures) == 2
    for figure in figures:  # each published value (8.9 and 8.1 % in the first half of 2018) is in its row
        assert any(text.startswith(f"{figure.value:g}") for text in published), (figure.value, published)
    percentiles = [int(row.cells[5].text) for row in table.rows[1:]]
    assert all(0 <= p <= 100 for p in percentiles)
    intro = _texts(doc)[_texts(doc).index(heading) + 1]
    assert "2018-h1.toml" in intro and f"{load_run(conditioned_dir).replications:,}" in intro


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_docx_of_a_run_with_an_analysis_says_why_the_goals_may_fail(analysed, tmp_path, lang):
    run, found = analysed
    (path,) = make_brief(run, lang=lang, formats=("docx",), analyses=[found], out=tmp_path / f"d.{lang}.docx")
    texts = _texts(Document(str(path)))
    h = load_locale(lang)["analysis"]["h_discover"]
    heads = [t for t in texts if t.endswith(h)]
    assert len(heads) == 1 and heads[0] != h  # numbered: 四、目标为何可能落空 / 4. Why the goals may fail
    sentence = read_analysis(found)["settings"]["sentences"][lang]
    item = texts[texts.index(heads[0]) + 1]
    assert sentence and item.endswith(sentence)
    assert ("2020" in item) and item != sentence  # the goal is named before its sentence
    # the same sections, in the same order, as the HTML brief
    page = html.unescape(render_html(run, lang=lang, with_charts=False, analyses=[found]))
    h2 = [re.sub(r"<[^>]+>", "", x) for x in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.S)]
    start = texts.index("一、摘要" if lang == "zh" else "1. Summary")
    numbered = [re.sub(r"^([一二三四五六七八九十]+、|\d+\. )", "", t) for t in texts[start:]
                if re.match(r"^([一二三四五六七八九十]+、|\d+\. )", t)]
    assert numbered == h2[1:]  # the HTML's first h2 is the front sheet's (要点), the docx's page 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_docx_has_the_outside_view(analysed, tmp_path, lang):
    run, _ = analysed
    (path,) = make_brief(run, lang=lang, formats=("docx",), out=tmp_path / f"o.{lang}.docx")
    doc = Document(str(path))
    lo = load_locale(lang)["outside"]
    heading = next(t for t in _texts(doc) if t.endswith(lo["title"]))
    table = _table_after(doc, heading)
    assert table.rows[1].cells[0].text == lo["model"]
    assert table.rows[2].cells[1].text == "96.8%"  # the base rate of the record: 30 of 31 provinces
    likelihood = load_run(run).summary.set_index("target_id").at[GOAL, "probability"]
    assert table.rows[1].cells[1].text == pct(likelihood)


def test_comparison_docx_has_the_counts_and_the_outside_view(tmp_path):
    out = tmp_path / "cmp"
    files = [ROOT / "scenarios" / f"{n}.toml" for n in ("baseline", "plan")]
    assert main(["compare", *map(str, files), "-n", "200", "--seed", "5", "--out", str(out)]) == 0
    (path,) = make_brief(out, lang="en", formats=("docx",))
    doc = Document(str(path))
    lo, loc = load_locale("en")["outside"], load_locale("en")["brief"]
    assert any(t.startswith(lo["short_title"] + ": Base rate 96.8%") for t in _texts(doc))
    counts = _table_after(doc, "1. " + loc["h_summary"])
    assert [c.text for c in counts.rows[0].cells][0] == loc["col_scenario"] and len(counts.rows) == 3
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert not [c for c in cells if re.search(r"(?<![\d.])[-−]?0\.0(?![\d])|-0\b", c)]  # never 0.0 % nor -0.0


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "sw"
    assert main(["sweep", str(PLAN), "techreform.subsidy_rate", "10%", "50%", "-n", "150", "--out", str(out)]) == 0
    return out


def test_sweep_brief_shows_the_sensitivity_chart(sweep_dir, tmp_path):
    for lang, title in (("zh", "敏感性分析"), ("en", "Sensitivity analysis")):
        (page_file, docx_file) = make_brief(sweep_dir, lang=lang, formats=("html", "docx"))
        page = page_file.read_text(encoding="utf-8")
        assert re.search(rf'<h2 class="sweep-head">{title}</h2>', page)
        image = re.search(r'<img class="chart sweep" src="data:image/png;base64,([^"]+)"', page)
        assert image and len(image.group(1)) > 10_000  # the chart itself, not an empty picture
        texts = _texts(Document(str(docx_file)))
        heading = next(t for t in texts if t.endswith(title))
        assert texts[texts.index(heading) + 2] == ""  # the picture's paragraph after the intro
    copy = tmp_path / "copy"  # a folder with sweep.csv but no picture: the chart is drawn again from the table
    copy.mkdir()
    shutil.copy(sweep_dir / "sweep.csv", copy / "sweep.csv")
    block = sweep_block(copy, "en", _png)
    assert block["lever"] and block["key"] == "techreform.subsidy_rate"
    assert block["uri"].startswith("data:image/png;base64,") and len(block["uri"]) > 10_000
    assert sweep_block(tmp_path, "en", _png) is None  # no sweep.csv: not a sweep


def test_likelihoods_never_read_zero_for_a_non_zero_value():
    assert [pct(p) for p in (0.0004, 0.0, 1.0, 0.9996, 0.9995, 0.123, None)] == [
        "<0.1%", "0%", "100%", ">99.9%", ">99.9%", "12.3%", ""]
    assert interval(0.0, 0.0004) == "0–<0.1%" and interval(0.1, 0.2) == "10.0–20.0%"
    assert outside_pct(0.0004) == "<0.1%" and outside_pct(0.5) == "50%" and outside_pct(0.05) == "5.0%"
