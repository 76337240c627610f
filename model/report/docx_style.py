"""Page, fonts and building blocks of the Word brief in the style of a Chinese official document.

The layout follows GB/T 9704-2012《党政机关公文格式》: A4 paper, margins top 37 mm, bottom
35 mm, left 28 mm, right 26 mm; title in 方正小标宋简体 (2号, 22 pt), body in 仿宋 (3号, 16 pt),
first-level headings ``一、`` in 黑体, second-level ``（一）`` in 楷体. Each Chinese font is set
as the run's East Asian font (``w:rFonts w:eastAsia``) and listed in the document's font table
with an alternative name (``w:altName``) and the GB2312 character set, so that Word or WPS
without the font substitutes a Chinese face of the same kind (仿宋_GB2312, 宋体, SimHei, KaiTi)
instead of a Latin one. The English brief uses Times New Roman and Arial at the same sizes less
one step. Tables are real Word tables (style "Table Grid", header row repeated on each page).
"""

from __future__ import annotations

from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

__all__ = ["FONTS", "MARGINS_MM", "TEXT_WIDTH_MM", "heading", "page_setup", "paragraph", "set_font", "table"]

#: [mm] 公文 margins of GB/T 9704-2012 (版心 156 mm x 225 mm on A4).
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
#: Role -> (East Asian font, its fallback, Latin font, size [pt]) per language.
FONTS = {
    "zh": {
        "title": ("方正小标宋简体", "宋体", "Times New Roman", 22),  # 2号
        "body": ("仿宋", "仿宋_GB2312", "Times New Roman", 16),  # 3号
        "h1": ("黑体", "SimHei", "Times New Roman", 16),
        "h2": ("楷体", "KaiTi", "Times New Roman", 16),
        "table": ("仿宋", "仿宋_GB2312", "Times New Roman", 10.5),  # 5号
        "note": ("仿宋", "仿宋_GB2312", "Times New Roman", 12),  # 小4号
    },
    "en": {
        "title": ("宋体", "SimSun", "Arial", 18),
        "body": ("仿宋", "FangSong", "Times New Roman", 12),
        "h1": ("黑体", "SimHei", "Arial", 13),
        "h2": ("楷体", "KaiTi", "Arial", 12),
        "table": ("仿宋", "FangSong", "Times New Roman", 9),
        "note": ("仿宋", "FangSong", "Times New Roman", 10),
    },
}
NUMERALS = "一二三四五六七八九十"
TEXT_WIDTH_MM = 210 - MARGINS_MM["left"] - MARGINS_MM["right"]  # [mm] 版心 width, 156


def set_font(run, role: tuple[str, str, str, float], bold: bool | None = None) -> None:
    """Latin and East Asian font (``w:eastAsia``) and size of a run."""
    east, _, latin, size = role
    run.font.name = latin
    run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east)
    fonts.set(qn("w:hAnsi"), latin)


def _font_table(document, lang: str) -> None:
    """List each Chinese face with its fallback (``w:altName``) and the GB2312 charset (86)."""
    part = document.part.part_related_by(RT.FONT_TABLE)
    root = part.element if hasattr(part, "element") else parse_xml(part.blob)
    for east, alt, _, _ in {v[:2] + ("", 0) for v in FONTS[lang].values()}:
        font = parse_xml(f'<w:font {nsdecls("w")} w:name="{east}"><w:altName w:val="{alt}"/>'
                         '<w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>')
        root.append(font)
    if not hasattr(part, "element"):
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)  # saved as is


def page_setup(document, lang: str) -> None:
    """A4 portrait with the 公文 margins (GB/T 9704-2012, 5.2.1 and 5.2.2), the default font."""
    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _page_number(footer, FONTS[lang]["note"])
    normal = document.styles["Normal"]
    east, _, latin, size = FONTS[lang]["body"]
    normal.font.name, normal.font.size = latin, Pt(size)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east)
    normal.paragraph_format.space_after = Pt(0)
    _font_table(document, lang)


def _page_number(paragraph_, role) -> None:
    """``— 1 —`` in the footer, as 公文 number their pages."""
    set_font(paragraph_.add_run("— "), role)
    run = paragraph_.add_run()
    set_font(run, role)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)
    set_font(paragraph_.add_run(" —"), role)


def paragraph(document, text: str, lang: str, role: str = "body", *, bold: bool = False, indent: bool = True,
              align=None, colour: str | None = None):
    """A paragraph in the font of ``role``; Chinese body text has the 2-character first-line indent."""
    p = document.add_paragraph()
    font = FONTS[lang][role]
    if indent and lang == "zh" and role in ("body", "note"):
        p.paragraph_format.first_line_indent = Pt(2 * font[3])
    if align is not None:
        p.alignment = align
    p.paragraph_format.line_spacing = 1.25 if role in ("body", "note") else 1.0
    run = p.add_run(text)
    set_font(run, font, bold)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)
    return p


def heading(document, text: str, lang: str, level: int, number: int):
    """``一、摘要`` (黑体) or ``（一）图表`` (楷体); ``1. Summary`` / ``(1) Charts`` in English."""
    if lang == "zh":
        label = NUMERALS[number - 1] if number <= 10 else str(number)
        text = f"{label}、{text}" if level == 1 else f"（{label}）{text}"
    else:
        text = f"{number}. {text}" if level == 1 else f"({number}) {text}"
    p = paragraph(document, text, lang, "h1" if level == 1 else "h2", bold=lang == "en", indent=False)
    if lang == "zh":
        p.paragraph_format.first_line_indent = Pt(32)
    p.paragraph_format.space_before = Pt(6)
    p.paragraph_format.keep_with_next = True
    return p


def table(document, header: list[str], rows: list[list[str]], lang: str, widths_mm: list[float] | None = None,
          bold_cells: set[tuple[int, int]] = frozenset()):
    """A real Word table: a bold, shaded header row repeated on each page, then ``rows``;
    ``widths_mm`` [mm] per column (default: the first a third of the text width, the rest equal)."""
    font = FONTS[lang]["table"]
    t = document.add_table(rows=1, cols=len(header))
    t.style = document.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(t.rows[0].cells, header):
        cell.text = ""
        set_font(cell.paragraphs[0].add_run(text), font, True)
        cell._element.get_or_add_tcPr().append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:fill="E8EEF7"/>'))
    t.rows[0]._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
    for i, row in enumerate(rows):
        cells = t.add_row().cells
        for j, (cell, text) in enumerate(zip(cells, row)):
            lines = str(text).split("\n")
            p = cell.paragraphs[0]
            for k, line in enumerate(lines):
                run = p.add_run(line)
                set_font(run, font, (i, j) in bold_cells)
                if k < len(lines) - 1:
                    run.add_break()
    widths = widths_mm or _widths(len(header))
    t.autofit = False
    for col, width in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in t.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Mm(width)
    return t


def _widths(n: int, first: float = 0.34) -> list[float]:
    """[mm] Column widths over the 版心 (156 mm): the first column ``first`` of it, the rest equal."""
    if n == 1:
        return [TEXT_WIDTH_MM]
    return [TEXT_WIDTH_MM * first] + [TEXT_WIDTH_MM * (1 - first) / (n - 1)] * (n - 1)
