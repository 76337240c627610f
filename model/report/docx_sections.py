"""Sections of the Word brief that the PDF has beyond the front sheet's core tables.

Each function writes one section's body (its heading is numbered by :func:`.docx_brief.write_docx`)
from the brief context (:func:`model.report.brief.brief_context`), as the HTML template
``templates/brief.html.j2`` shows it: the scenario counts of a comparison, the forecast vs
published figures of a conditioned run (:mod:`.observed_brief`), "why the goals may fail"
(:mod:`.analysis_brief`, ``discover``), the sensitivity analysis of a sweep (:mod:`.sweep_brief`),
the outside view (:mod:`.outside_brief`: its own section in a run's brief, a note under the
headline table in a comparison's), the uncertainties a scenario changed and the calibration
sentence of the method. Phrases come from the locale tables, as in the PDF.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.shared import Mm

from .docx_style import FONTS, TEXT_WIDTH_MM, paragraph, set_font, table

__all__ = ["add_chart", "calibration", "counts", "discover", "fmt", "observed", "outside", "outside_note",
           "picture", "sweep", "uncertainties"]

MAX_CHART_MM = 190  # [mm] tallest full-width chart: the 225 mm 版心 less a heading and a caption


def fmt(loc: dict[str, Any], key: str, **values: Any) -> str:
    """A phrase of a locale table with its placeholders filled in."""
    return str(loc[key]).format(**values)


def picture(uri: str) -> io.BytesIO:
    """The PNG of a data URI."""
    return io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))


def add_chart(doc, uri: str) -> None:
    """A chart at the text width, or smaller so that it fits the page with its caption."""
    data = picture(uri)
    image = Image.from_blob(data.getvalue())
    width = min(TEXT_WIDTH_MM, MAX_CHART_MM * image.px_width / image.px_height)
    doc.add_picture(data, width=Mm(width))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _widths(*shares: float) -> list[float]:
    return [w * TEXT_WIDTH_MM for w in shares]


def counts(doc, c: dict[str, Any]) -> None:
    """A comparison's targets by traffic light, a row per scenario."""
    loc, lang = c["loc"], c["lang"]
    table(doc, [loc["col_scenario"], loc["light_green"], loc["light_amber"], loc["light_red"], loc["col_modelled"]],
          [[s["title"], *(str(s["counts"][k]) for k in ("green", "amber", "red", "modelled"))] for s in c["scenarios"]],
          lang, _widths(0.4, 0.15, 0.15, 0.15, 0.15))


def outside_note(doc, c: dict[str, Any]) -> None:
    """The outside view under a comparison's headline table: the base rate and the reference's sentence."""
    lo, o, lang = c["loc_outside"], c["outside"], c["lang"]
    row = o["rows"][0]
    text = (f"{lo['short_title']}{'：' if lang == 'zh' else ': '}{fmt(lo, 'base_short', **o['base'])}"
            f"{fmt(lo, 'scenario_lead', scenario=c['shorts'][row['name']])}{row['sentence']}")
    paragraph(doc, text, lang, "note")


def outside(doc, c: dict[str, Any]) -> None:
    """A run's outside view: the model's likelihood of the 2020 energy goal beside the base rate."""
    loc, lo, o, lang = c["loc"], c["loc_outside"], c["outside"], c["lang"]
    rows = [[lo["model"], r["p"], r["interval"], r["behind"], r["limited"]] for r in o["rows"]]
    rows.append([f"{fmt(lo, 'base_row', **o['base'])}\n{fmt(lo, 'source_row', **o['base'])}", o["base"]["p"],
                 o["base"]["interval"], "", ""])
    table(doc, [lo["col_what"], loc["col_p"], loc["col_interval"], lo["col_behind"], lo["col_limited"]], rows,
          lang, _widths(0.46, 0.12, 0.16, 0.13, 0.13), bold_cells={(i, 1) for i in range(len(rows))})
    paragraph(doc, o["rows"][0]["sentence"], lang)
    paragraph(doc, fmt(lo, "context", **o["context"]), lang, "note")


def observed(doc, c: dict[str, Any]) -> None:
    """Forecast vs published: each figure a conditioned run is conditioned on, before and after."""
    loc, lang, o = c["loc"], c["lang"], c["observed"]
    common = {"path": o["path"], "effective": o["effective"], "replications": o["replications"]}
    if o["missing"]:
        paragraph(doc, fmt(loc, "observed_missing", **common), lang)
        return
    paragraph(doc, fmt(loc, o["intro"], n=len(o["rows"]), **common), lang)

    def spread(x: dict[str, str]) -> str:
        return x["median"] + (f"\n({x['range']})" if x["range"] else "")

    rows = [[r["name"], r["when"], r["published"], spread(r["before"]), spread(r["after"]), r["percentile"]]
            for r in o["rows"]]
    table(doc, [loc["col_figure"], loc["col_period"], loc["col_published"], loc["col_before"], loc["col_after"],
                loc["col_percentile"]], rows, lang, _widths(0.27, 0.12, 0.13, 0.17, 0.17, 0.14),
          bold_cells={(i, 2) for i in range(len(rows))})
    paragraph(doc, loc["observed_note"], lang, "note")


def discover(doc, c: dict[str, Any]) -> None:
    """Why the goals may fail: each goal (bold) and its circumstances of failure in one sentence."""
    la, lang = c["loc_analysis"], c["lang"]
    for item in c["analysis"]["discover"]:
        p = paragraph(doc, item["name"] + ("：" if lang == "zh" else ": "), lang, bold=True)
        set_font(p.add_run(item["sentence"]), FONTS[lang]["body"], False)
    paragraph(doc, la["discover_note"], lang, "note")


def sweep(doc, c: dict[str, Any]) -> None:
    """The sensitivity analysis of a sweep folder: its chart at the text width."""
    paragraph(doc, fmt(c["loc"], "sweep_intro", lever=c["sweep"]["lever"]), c["lang"])
    add_chart(doc, c["sweep"]["uri"])


def uncertainties(doc, c: dict[str, Any]) -> None:
    """The uncertainties the scenarios changed (the PDF's list, all of them), links and readings."""
    loc, lang, a = c["loc"], c["lang"], c["assumptions"]
    own = [r for r in a["uncertainties"] if not r["shared"]]
    shared = [r for r in a["uncertainties"] if r["shared"]]
    if not a["uncertainties"]:
        paragraph(doc, loc["no_uncertainty_changed"], lang, "note")
    if own:
        paragraph(doc, loc["uncertainties_caption"], lang, "note")
        multi = c["kind"] == "comparison"
        for r in own:
            text = r["name"] + (fmt(loc, "unc_unit", unit=r["unit"]) if r["unit"] else "")
            text += fmt(loc, "unc_value_multi", scenarios=r["scenarios"], value=r["value"]) if multi else \
                fmt(loc, "unc_value", value=r["value"])
            paragraph(doc, text + fmt(loc, "unc_default", default=r["default"]), lang, "note")
    if shared:
        paragraph(doc, f"{fmt(loc, 'uncertainties_shared', n=len(shared))} "
                       f"{loc['list_sep'].join(r['name'] for r in shared)}{loc['full_stop']}", lang, "note")
    if a["links_off"]:
        paragraph(doc, fmt(loc, "links_off", links=loc["name_sep"].join(a["links_off"])), lang, "note")
    if a["readings"]:
        items = loc["name_sep"].join(dict.fromkeys(r["target"] for r in a["readings"]))
        paragraph(doc, fmt(loc, "readings", items=items), lang, "note")


def calibration(c: dict[str, Any]) -> str:
    """The method's calibration sentence of a run's brief ('' for a comparison)."""
    cal, loc = c["calibration"], c["loc"]
    if not cal:
        return ""
    text = fmt(loc, "calibration_1", covered=cal["covered"], compared=cal["compared"],
               no_reference=cal["no_reference"])
    return text + (fmt(loc, "calibration_2", items=cal["items"]) if cal["excluded"] else loc["calibration_2_none"])
