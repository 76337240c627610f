"""The editable Word brief (``brief --format docx``) in the style of a Chinese official document.

It is made from the same context as the HTML and PDF briefs (:func:`model.report.brief.brief_context`):
a one-page front sheet (一、总体判断 二、主要风险 三、建议, :mod:`.front_sheet`, with the
information cut-off), then, after a page break, every section of the PDF in its order as real
Word tables and PNG pictures, numbered 一、二、三: summary, headline goals (and the outside view
of a comparison), targets at risk, forecast vs published figures of a conditioned run, the
analyses given (why the goals may fail, which measures matter most), what changes between
scenarios, the sensitivity analysis of a sweep, the charts, the outside view of a run, the
drivers, assumptions and method (:mod:`.docx_sections` writes the sections this module does
not). Page and fonts: :mod:`.docx_style` (GB/T 9704-2012). Every phrase comes from the locale
tables; text is written as plain runs that a planner edits freely in Word or WPS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Mm

from . import docx_sections as ds
from .docx_sections import add_chart, fmt, picture
from .docx_style import TEXT_WIDTH_MM, heading, page_setup, paragraph, table

__all__ = ["write_docx"]

SEP = {"zh": "", "en": " "}


def _summary(c: dict[str, Any]) -> str:
    """The summary paragraph of the HTML brief, as plain text."""
    loc, s, lang = c["loc"], c["focus"], c["lang"]
    parts = [fmt(loc, "summary_counts", title=s["title"], **s["counts"]) if s["counts"]["modelled"]
             else loc["summary_none"]]
    weak, best = s["weakest"], s["strongest"]
    if weak and best and weak["id"] != best["id"]:
        parts.append(fmt(loc, "summary_weakest", name=weak["name"], year=weak["year"], test=weak["test"], p=weak["p"],
                        interval=weak["interval"], median=weak["median"], best=best["name"], best_year=best["year"],
                        best_p=best["p"]))
    elif weak:
        parts.append(fmt(loc, "summary_single", name=weak["name"], year=weak["year"], test=weak["test"], p=weak["p"],
                        interval=weak["interval"]))
    if c["summary_change"]:
        x = c["summary_change"]
        parts.append(fmt(loc, "summary_change", ref=c["reference"], name=x["name"], year=x["year"],
                        scenario=x["scenario"], change=x["change"], interval=x["interval"]))
    if s["counts"]["not_modelled"]:
        parts.append(fmt(loc, "summary_not_modelled", n=s["counts"]["not_modelled"]))
    if s["counts"]["districts"]:
        parts.append(fmt(loc, "summary_districts", n=s["counts"]["districts"], p=s["counts"]["district_mean"]))
    return SEP[lang].join(parts)


def _front(doc, c: dict[str, Any]) -> None:
    lang, loc, front = c["lang"], c["loc"], c["front"]
    paragraph(doc, loc["kicker"], lang, "note", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(doc, c["title"], lang, "title", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    meta = [fmt(loc, "date_line", date=c["today"])]
    for s in c["scenarios"]:
        mark = (loc["reference_mark"] if c["kind"] == "comparison" and s is c["scenarios"][0] else "") + \
               (c["loc_front"]["focus_mark"] if s["focus"] else "")
        meta.append(fmt(loc, "scenario_line", title=s["title"], name=s["name"]) + mark)
    for line in meta:
        paragraph(doc, line, lang, "note", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    for number, (head, text) in enumerate(zip(front["headings"], front["paragraphs"]), start=1):
        heading(doc, head, lang, 1, number)
        paragraph(doc, text, lang)
    cutoff = f"{c['loc_front']['cutoff_label']}{'：' if lang == 'zh' else ': '}{front['cutoff']}"
    paragraph(doc, cutoff, lang, "note", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _headline(doc, c: dict[str, Any]) -> None:
    loc, lang = c["loc"], c["lang"]
    if c["kind"] == "comparison":
        header = [loc["col_target"], loc["col_test"], *[s["short"] for s in c["scenarios"]]]
        rows = [[r["name"], f"{r['year']}: {r['test']}",
                 *[f"{x['p']}\n{x['interval']}" if x["modelled"] else loc["light_not_modelled"] for x in r["cells"]]]
                for r in c["headline"]]
    else:
        header = [loc["col_target"], loc["col_test"], loc["col_p"], loc["col_interval"],
                  f"{loc['col_median']} ({loc['col_spread']})", loc["col_light"]]
        rows = [[r["name"], f"{r['year']}: {r['test']}", r["p"], r["interval"],
                 r["median"] + (f" ({r['spread']})" if r["spread"] else ""), loc[f"light_{r['light']}"]]
                if r["modelled"] else [r["name"], f"{r['year']}: {r['test']}", loc["light_not_modelled"], "", "", ""]
                for r in c["headline"]]
    bold = {(i, 0) for i, r in enumerate(c["headline"]) if r["id"] in c["headline_final"]}
    widths = [0.36, 0.16] if c["kind"] == "comparison" else [0.38, 0.14, 0.1, 0.13, 0.15, 0.1]
    if c["kind"] == "comparison":
        widths += [0.48 / len(c["scenarios"])] * len(c["scenarios"])
    table(doc, header, rows, lang, [w * TEXT_WIDTH_MM for w in widths], bold_cells=bold)
    f = c["loc_front"]
    paragraph(doc, f["headline_note_multi"] if c["kind"] == "comparison" else f["headline_note_run"], lang, "note")


def _risks(doc, c: dict[str, Any]) -> None:
    loc, lang, f = c["loc"], c["lang"], c["loc_front"]
    intro = fmt(loc, "at_risk_intro", n=len(c["at_risk"]))
    if c["kind"] == "comparison":
        intro += fmt(loc, "at_risk_ref", name=c["focus"]["title"])
    paragraph(doc, intro, lang)
    table(doc, [loc["col_target"], loc["col_test"], loc["col_p"], loc["col_interval"], loc["col_median"],
                loc["col_responsible"]],
          [[r["name"], f"{r['year']}: {r['test']}", r["p"], r["interval"], r["median"], r["responsible"]]
           for r in c["at_risk"]], lang, [w * TEXT_WIDTH_MM for w in (0.3, 0.15, 0.1, 0.13, 0.14, 0.18)])
    note = f["risk_note"]
    if c["settled"]:
        note += SEP[lang] + f["settled"].format(n=len(c["settled"]), title=c["focus"]["title"],
                                                values=f["settled_values"],
                                                names=loc["name_sep"].join(r["name"] for r in c["settled"]))
    paragraph(doc, note, lang, "note")


def _changes(doc, c: dict[str, Any]) -> None:
    loc, lang, f = c["loc"], c["lang"], c["loc_front"]
    order = f["changes_order_any"] if c["scenarios"][0]["focus"] else \
        f["changes_order_focus"].format(name=c["focus"]["title"])
    paragraph(doc, f["changes_intro"].format(n=len(c["changes"]), ref=c["reference"], order=order), lang)
    if not c["changes"]:
        paragraph(doc, loc["no_changes"], lang)
        return
    header = [loc["col_target"], *[s["short"] + (f" ({loc['col_ref']})" if i == 0 else "")
                                   for i, s in enumerate(c["scenarios"])]]
    rows = [[f"{r['name']} ({r['year']}: {r['test']})",
             *[x["p"] + (f"\n{x['change']} ({x['interval']})" if x["change"] else "") for x in r["cells"]]]
            for r in c["changes"]]
    table(doc, header, rows, lang)


def _charts(doc, c: dict[str, Any]) -> None:
    loc, lang = c["loc"], c["lang"]
    multi = c["kind"] == "comparison"
    fans = [x for x in c["charts"] if x["width"] == "half"]
    for chart in c["charts"]:
        if chart["width"] == "full":
            note = loc["chart_dots" if multi else "chart_bars"]
            if chart["shown"] < chart["total"]:
                note += SEP[lang] + fmt(loc, "dots_subset" if multi else "bars_subset", shown=chart["shown"],
                                       total=chart["total"])
            paragraph(doc, note, lang, "note")
            add_chart(doc, chart["uri"])
    if fans:
        note = loc["chart_fans"] + (" " + c["loc_front"]["chart_fans_focus"].format(name=c["focus"]["title"])
                                    if multi else "")
        paragraph(doc, note, lang, "note")
        grid = doc.add_table(rows=(len(fans) + 1) // 2, cols=2)
        for i, chart in enumerate(fans):
            cell = grid.cell(i // 2, i % 2)
            cell.paragraphs[0].add_run().add_picture(picture(chart["uri"]), width=Mm(TEXT_WIDTH_MM / 2 - 3))


def _drivers(doc, c: dict[str, Any]) -> None:
    loc, lang = c["loc"], c["lang"]
    intro = loc["drivers_intro"] + (fmt(loc, "at_risk_ref", name=c["focus"]["title"]) if c["kind"] == "comparison"
                                    else "")
    paragraph(doc, intro, lang)
    rows = []
    for g in c["drivers"]:
        goal = f"{g['name']} ({g['year']}: {g['test']}, {g['p']})"
        rows += [[goal, d["name"], d["p_low"], d["p_high"], d["swing"]] for d in g["drivers"]] or \
            [[goal, loc["no_drivers"], "", "", ""]]
    table(doc, [loc["col_target"], loc["col_driver"], loc["col_if_low"], loc["col_if_high"], loc["col_swing"]],
          rows, lang, [w * TEXT_WIDTH_MM for w in (0.3, 0.4, 0.1, 0.1, 0.1)])
    paragraph(doc, loc["drivers_note"], lang, "note")


def _levers_analysis(doc, c: dict[str, Any]) -> None:
    la, lang = c["loc_analysis"], c["lang"]
    block = c["analysis"]["levers"]
    paragraph(doc, la["levers_intro"], lang)
    rows = []
    for g in block["goals"]:
        rows.append([f"{g['name']} ({g['year']}): {g['p']}", "", "", "", "", ""])
        rows += [[x["name"], x["range"], x["low"], x["high"], x["change"], x["interval"]] for x in g["levers"]]
    table(doc, [la["col_measure"], la["col_range"], la["col_low"], la["col_high"], la["col_change"],
                la["col_interval"]], rows, lang)
    paragraph(doc, la["levers_note"], lang, "note")
    if block.get("chart"):
        add_chart(doc, block["chart"])


def _assumptions(doc, c: dict[str, Any]) -> None:
    loc, lang = c["loc"], c["lang"]
    a = c["assumptions"]
    paragraph(doc, loc["levers_caption"], lang, "note")
    values = [s["short"] for s in c["scenarios"]] if c["kind"] == "comparison" else [loc["col_value"]]
    rows = [[r["name"], r["unit"], *[x["text"] + (" *" if x["changed"] else "") for x in r["cells"]], r["default"],
             loc[f"origin_{r['origin']}"]] for r in a["levers"]]
    rest = 0.6 / (len(values) + 3)
    table(doc, [loc["col_name"], loc["col_unit"], *values, loc["col_default"], loc["col_origin"]], rows, lang,
          [w * TEXT_WIDTH_MM for w in (0.4, rest, *[rest] * len(values), rest, rest)])
    if a["levers_default"]:
        paragraph(doc, fmt(loc, "levers_default", n=a["levers_default"]), lang, "note")
    ds.uncertainties(doc, c)
    paragraph(doc, fmt(loc, "unchanged_uncertainties", n=a["unchanged_total"], **a["unchanged"]), lang, "note")


def _method(doc, c: dict[str, Any]) -> None:
    loc, lang = c["loc"], c["lang"]
    paragraph(doc, fmt(loc, "method_1", replications=c["provenance"][0]["replications"]), lang)
    paragraph(doc, loc["method_2"], lang)
    if c["kind"] == "comparison":
        paragraph(doc, loc["method_3"], lang)
    paragraph(doc, loc["method_4"] + (SEP[lang] + ds.calibration(c) if c["calibration"] else ""), lang)
    table(doc, [loc["col_scenario"], loc["col_files"], loc["col_hash"], loc["col_seed"], loc["col_reps"],
                loc["col_version"], loc["col_git"], loc["col_finished"]],
          [[c["shorts"][p["name"]], p["files"], p["hash"], str(p["seed"]), str(p["replications"]), p["version"],
            p["git"] + (f"\n{loc['git_dirty'].strip()}" if p["dirty"] else ""), p["finished"]]
           for p in c["provenance"]], lang,
          [w * TEXT_WIDTH_MM for w in (0.12, 0.17, 0.14, 0.08, 0.08, 0.1, 0.15, 0.16)])
    paragraph(doc, c["loc_front"]["font_note"], lang, "note")


def write_docx(c: dict[str, Any], path: str | Path) -> Path:
    """Write the Word brief of a brief context (:func:`model.report.brief.brief_context`) to ``path``."""
    lang, loc = c["lang"], c["loc"]
    doc = Document()
    page_setup(doc, lang)
    doc.core_properties.title = c["title"]
    doc.core_properties.language = "zh-CN" if lang == "zh" else "en"
    _front(doc, c)
    multi = c["kind"] == "comparison"

    def summary() -> None:
        paragraph(doc, _summary(c), lang)
        if multi:
            ds.counts(doc, c)

    def headline() -> None:
        _headline(doc, c)
        if multi:
            ds.outside_note(doc, c)

    sections = [(loc["h_summary"], summary), (loc["h_headline"], headline), (loc["h_at_risk"], lambda: _risks(doc, c))]
    if c["observed"]:
        sections.append((loc["h_observed"], lambda: ds.observed(doc, c)))
    if c["analysis"].get("discover"):
        sections.append((c["loc_analysis"]["h_discover"], lambda: ds.discover(doc, c)))
    if c["analysis"].get("levers"):
        sections.append((c["loc_analysis"]["h_levers"], lambda: _levers_analysis(doc, c)))
    if multi:
        sections.append((loc["h_changes"], lambda: _changes(doc, c)))
    if c.get("sweep"):
        sections.append((loc["h_sweep"], lambda: ds.sweep(doc, c)))
    sections.append((loc["h_charts"], lambda: _charts(doc, c)))
    if not multi:
        sections.append((c["loc_outside"]["title"], lambda: ds.outside(doc, c)))
    if c["drivers"]:
        sections.append((loc["h_drivers"], lambda: _drivers(doc, c)))
    sections += [(loc["h_assumptions"], lambda: _assumptions(doc, c)), (loc["h_method"], lambda: _method(doc, c))]
    for number, (title, body) in enumerate(sections, start=1):
        heading(doc, title, lang, 1, number)
        body()
    doc.save(str(path))
    return Path(path)

