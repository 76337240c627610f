"""Policy brief of a saved run or comparison: self-contained HTML and a PDF (WeasyPrint).

    from model.report.brief import make_brief
    make_brief("runs/plan")                           # runs/plan/brief.zh.html, brief.zh.pdf
    make_brief("runs/cmp", lang="en", formats=("html",))

The numbers come from :mod:`model.report.brief_data`, the phrases from ``locale/<lang>.toml``,
the layout from ``templates/brief.html.j2`` (Jinja2 with autoescape: text from scenario files
is escaped). Charts are embedded as base64 PNG, CSS is inline, nothing is fetched.
"""

from __future__ import annotations

import base64
import datetime as dt
import errno
import io
import os
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..runs import Run
from . import brief_data as bd
from . import charts
from .analysis_brief import analysis_blocks
from .assumptions import assumptions
from .docx_brief import write_docx
from .focus import by_construction, change_rows, focus_index
from .fonts import LATIN_FAMILY, SCREEN_FAMILIES, cjk_font
from .front_sheet import front_sheet
from .i18n import LANGS, load_locale
from .observed_brief import observed_block
from .outside_brief import outside_block
from .overlay_chart import overlay_fan
from .sweep_brief import sweep_block

__all__ = ["FORMATS", "brief_context", "make_brief", "render_html"]

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")  # docx on request: it is the one a planner edits
TEMPLATES = Path(__file__).parent / "templates"
HEADLINE_INDICATORS = tuple(indicator for indicator, _ in bd.HEADLINE_GOALS)
PRINT_LIMIT = 24  # changed uncertainties listed in the PDF (the HTML lists all)
PAGE_HEIGHT = 9.2  # [inch] tallest full-width chart that fits an A4 page with its caption


def _png(fig, dpi: int = 160) -> str:
    """A figure as a data URI (PNG, base64)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _chart_ids(source: bd.Source) -> tuple[list[str], int, float]:
    """Targets of the full-width chart, how many there are, and the chart's height [inch].

    As many as fit one page with the labels of every language wrapped, so that the Chinese
    and the English brief show the same targets.
    """
    run = source.runs[0]
    names = [r.name for r in source.runs]
    s = run.summary.set_index("target_id", drop=False)
    n = bd.CHART_TARGETS[source.kind]
    while True:
        ids, total = bd.chart_targets(run.summary, source.table, names, n=n)
        lines = max(charts.label_lines(s.loc[ids], lang) for lang in LANGS) if ids else 1
        if source.kind == "comparison":
            height = charts.dots_height(len(ids), lines, len(names))
        else:
            height = charts.bars_height(len(ids), lines)
        if height <= PAGE_HEIGHT or n <= 8:
            return ids, total, min(height, PAGE_HEIGHT)
        n -= 1


def _charts(source: bd.Source, lang: str, titles: dict[str, str], focus: int = 0) -> list[dict[str, Any]]:
    """The brief's charts as data URIs: the full-width likelihood chart, then the fan charts
    (two per row), so that the text after them fills the page the fan charts leave free.
    ``titles`` names the scenarios in the legend of a comparison; its fan charts show the
    ``focus`` scenario's fan with every other scenario overlaid."""
    run = source.runs[focus]
    thresholds = run.settings.get("thresholds", {})
    out = []
    indicators = set(run.trajectories["indicator"])
    ids, total, height = _chart_ids(source)
    if source.kind == "comparison":
        fig = charts.comparison_dots({titles[r.name]: r.summary for r in source.runs}, lang=lang, targets=ids,
                                     size=(7.2, height))
    else:
        fig = charts.likelihood_bars(run.summary, lang=lang, targets=ids, size=(7.2, height))
    out.append({"uri": _png(fig), "width": "full", "shown": len(ids), "total": total})
    for indicator in HEADLINE_INDICATORS:
        if indicator not in indicators:
            continue
        if source.kind == "comparison":
            fig = overlay_fan({titles[r.name]: r.trajectories for r in source.runs}, indicator, titles[run.name],
                              lang=lang, thresholds=thresholds, size=(4.8, 3.2))
        elif indicator == charts.ZOMBIE:
            fig = charts.zombie_chart(run.trajectories, lang=lang, thresholds=thresholds, size=(4.8, 3.2))
        else:
            fig = charts.fan_chart(run.trajectories, indicator, lang=lang, thresholds=thresholds, size=(4.8, 3.2))
        out.append({"uri": _png(fig), "width": "half"})
    return out


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def _context(source: bd.Source, lang: str, with_charts: bool = True, focus: str | None = None,
             analysis: dict[str, Any] | None = None) -> dict[str, Any]:
    loc = load_locale(lang)["brief"]
    runs = source.runs
    ref = runs[0]
    names = [r.name for r in runs]
    f = focus_index(names, focus, source.path) if source.kind == "comparison" else 0
    main = runs[f]

    def t(key: str, **values: Any) -> Markup:
        """A phrase of the locale table with its placeholders filled in (and escaped)."""
        return Markup(loc[key]).format(**values)

    scenarios = [{
        "name": r.name, "title": _title(r, lang),
        "description": (r.settings.get("description_zh") if lang == "zh" else "") or r.settings.get("description", ""),
        "counts": bd.counts(r.summary),
        "weakest": bd.weakest_headline(r.summary, lang)[0], "strongest": bd.weakest_headline(r.summary, lang)[1],
        "focus": source.kind == "comparison" and r is main,
    } for r in runs]
    short = _short_titles(scenarios)
    for s, label in zip(scenarios, short):
        s["short"] = label
    titles = {s["name"]: s["title"] for s in scenarios}
    headline_rows = [bd.headline(r.summary, lang) for r in runs]
    rows = []
    for i, row in enumerate(headline_rows[0]):
        rows.append({**row, "cells": [h[i] for h in headline_rows]})
    shorts = {s["name"]: s["short"] for s in scenarios}
    assumed = assumptions(runs, lang)
    for row in assumed["uncertainties"]:  # the scenarios that set a value, by their titles
        row["scenarios"] = loc["name_sep"].join(shorts[name] for name in row["scenarios"])
    settled = by_construction(main)
    summary_names = main.summary.set_index("target_id", drop=False)
    changes = change_rows(source.table, names, f, lang, bd.CHANGES) if source.table is not None else []
    table = source.table
    focus_changes = (table[table["scenario"] == main.name].set_index("target_id")
                     if table is not None and f else None)
    return {
        "lang": lang,
        "t": t,
        "focus": scenarios[f],
        "front": front_sheet(main, titles[main.name], lang, exclude=settled, levers=(analysis or {}).get("levers"),
                             change_row=focus_changes, reference=titles[ref.name]),
        "loc_front": load_locale(lang)["front"],
        "settled": [bd.target_row(summary_names.loc[i], lang) for i in settled],
        "summary_change": _summary_change(changes, f, scenarios),
        "loc": loc,
        "kind": source.kind,
        "scenarios": scenarios,
        "title": scenarios[0]["title"] if source.kind == "run" else t("comparison_title", n=len(runs)),
        "today": dt.date.today().isoformat(),
        "font_family": _font_stack(lang),
        "screen_font_family": _font_stack(lang, screen=True),
        "headline": rows,
        "headline_final": bd.HEADLINE_FINAL,
        "at_risk": bd.at_risk(main.summary, lang, exclude=settled),
        "reference": titles[ref.name],
        "titles": titles,
        "drivers": bd.drivers(main, lang, bd.DRIVERS_PER_GOAL[source.kind]),
        "changes": changes,
        "assumptions": assumed,
        "shorts": shorts,
        "highlight": _highlight,
        "provenance": [bd.provenance(r) for r in runs],
        "calibration": bd.calibration(ref, lang) if source.kind == "run" else None,  # a comparison has no room
        "print_limit": PRINT_LIMIT,
        "charts": _charts(source, lang, shorts, f) if with_charts else [],
        "analysis": analysis or {},
        "outside": outside_block(runs, lang),
        "observed": observed_block(ref, lang) if source.kind == "run" else None,  # a comparison has no room
        "sweep": sweep_block(source.path, lang, _png) if source.kind == "comparison" else None,
        "loc_outside": load_locale(lang)["outside"],
        "loc_analysis": load_locale(lang)["analysis"],
    }


def _summary_change(changes: list[dict[str, Any]], focus: int, scenarios: list[dict[str, Any]]) -> dict | None:
    """The summary's change sentence: the focus scenario's biggest change against the reference
    (the biggest of any scenario when the focus is the reference)."""
    if not changes:
        return None
    row = changes[0]
    cells = row["cells"]
    i = focus or max(range(1, len(cells)), key=lambda k: cells[k]["size"])
    return {"name": row["name"], "year": row["year"], "scenario": scenarios[i]["title"],
            "change": cells[i]["change"], "interval": cells[i]["interval"]}


def _highlight(text: str) -> Markup:
    """``text`` (escaped) marked as a scenario's own value."""
    return Markup('<span class="changed">%s</span>') % text


def _title(run: Run, lang: str) -> str:
    """A scenario's title in ``lang`` as its file writes it (its name when it has none)."""
    return str(run.settings.get(f"title_{lang}") or run.settings.get("title_zh") or run.name)


def _short_titles(scenarios: list[dict[str, Any]]) -> list[str]:
    """Titles for narrow table columns and legends: each title up to its first bracket
    (``加速情景（积极采纳、有力落实）`` -> ``加速情景``) when that leaves them distinct, else whole."""
    short = [re.split(r"\s*[（(]", s["title"], maxsplit=1)[0].strip() or s["title"] for s in scenarios]
    return short if len(set(short)) == len(short) else [s["title"] for s in scenarios]


def _font_stack(lang: str, screen: bool = False) -> Markup:
    """CSS font-family: the Chinese font first (its Latin letters are narrower than DejaVu's);
    on ``screen`` Windows' Chinese fonts (Microsoft YaHei, SimHei) before the one found here."""
    family = cjk_font()
    names = [*(SCREEN_FAMILIES if screen else ()), *([family] if family else []), LATIN_FAMILY]
    names = list(dict.fromkeys(names))  # a found font that is one of Windows' appears once
    return Markup(", ".join(f'"{n}"' for n in names) + ", sans-serif")


def brief_context(path: str | Path, lang: str = "zh", with_charts: bool = True, analyses=(),
                  focus: str | None = None) -> dict[str, Any]:
    """Everything a brief shows (numbers, phrases, charts as data URIs), for the HTML template and
    the Word brief (:mod:`.docx_brief`): a run or a comparison directory, the sections of
    ``analyses`` (analysis directories of the same run, :mod:`.analysis_brief`), and for a
    comparison the ``focus`` scenario (default ``plan`` when present, else the first)."""
    load_locale(lang)  # a clear error for an unknown language before anything else
    source = bd.load_source(path)
    names = [r.name for r in source.runs]
    main = source.runs[focus_index(names, focus, source.path) if source.kind == "comparison" else 0]
    analysis = analysis_blocks(main, tuple(analyses), lang) if analyses else {}
    return _context(source, lang, with_charts, focus, analysis)


def render_html(path: str | Path, lang: str = "zh", with_charts: bool = True, analyses=(),
                focus: str | None = None, context: dict[str, Any] | None = None) -> str:
    """The brief of a run or comparison directory as one self-contained HTML document (see
    :func:`brief_context`; ``context`` when it is already built)."""
    context = context or brief_context(path, lang, with_charts, analyses, focus)
    return _environment().get_template("brief.html.j2").render(**context)


def _out_paths(source_dir: Path, lang: str, formats: tuple[str, ...], out: str | Path | None) -> dict[str, Path]:
    """Where each format goes; an ``out`` ending in a slash or naming a directory means inside it.

    Raises
    ------
    OSError
        The directory to write into does not exist (it is never created).
    """
    if out is None:
        return {f: source_dir / f"brief.{lang}.{f}" for f in formats}
    text, out = str(out), Path(out)
    if text.endswith(("/", os.sep)) or out.is_dir():
        paths = {f: out / f"brief.{lang}.{f}" for f in formats}
    elif len(formats) == 1 and out.suffix.lower() == f".{formats[0]}":
        paths = {formats[0]: out}
    else:
        stem = out.with_suffix("") if out.suffix.lower() in tuple(f".{f}" for f in FORMATS) else out
        paths = {f: stem.with_name(f"{stem.name}.{f}") for f in formats}
    for path in paths.values():
        if not path.parent.is_dir():
            raise OSError(errno.ENOENT, f"the directory {path.parent} does not exist")
    return paths


def make_brief(
    run_or_comparison_dir: str | Path, lang: str = "zh", formats=DEFAULT_FORMATS, out: str | Path | None = None,
    analyses=(), focus: str | None = None,
) -> list[Path]:
    """Write the brief of a run or a comparison as HTML, PDF and/or an editable Word file.

    Parameters
    ----------
    run_or_comparison_dir : str or Path
        A directory written by ``python -m model run`` or ``python -m model compare``.
    lang : {"zh", "en"}
        Language of the brief (Chinese by default).
    formats : sequence of {"html", "pdf", "docx"}
        ``docx``: an editable Word brief in the style of an official document (:mod:`.docx_brief`).
    out : str or Path, optional
        Output file; its suffix is replaced per format. A directory (existing, or written
        with a trailing slash) means ``brief.<lang>.<format>`` inside it. Default: inside
        ``run_or_comparison_dir``. The directory must exist: it is not created.
    analyses : sequence of str or Path
        Analysis directories of the same run (``python -m model levers``): their sections.
    focus : str, optional
        The scenario a comparison brief is about (default ``plan`` when present, else the first).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Raises
    ------
    model.runs.RunError
        The directory is not a run or a comparison, or ``focus`` is not one of its scenarios.
    OSError
        The output directory does not exist, or a file cannot be written.
    ValueError
        An unknown language or format.
    """
    formats = tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"formats must be some of {', '.join(FORMATS)}, found {', '.join(bad) or 'none'}")
    paths = _out_paths(Path(run_or_comparison_dir), lang, formats, out)
    context = brief_context(run_or_comparison_dir, lang, analyses=analyses, focus=focus)
    html = render_html(run_or_comparison_dir, context=context) if {"html", "pdf"} & set(formats) else ""
    written = []
    for fmt, path in paths.items():
        tmp = path.with_name(f".{path.name}.partial")
        if fmt == "html":
            tmp.write_text(html, encoding="utf-8")
        elif fmt == "docx":
            write_docx(context, tmp)
        else:
            from weasyprint import HTML

            HTML(string=html, base_url=str(TEMPLATES)).write_pdf(tmp)
        tmp.replace(path)
        written.append(path)
    return written
