"""One styled worksheet of a planner's workbook (:mod:`model.report.excel`).

:func:`write_sheet` writes a frame under a bold, wrapped header row and stores every value as
the type a spreadsheet computes with: likelihoods and shares as numbers formatted ``0.0%``,
changes as ``+0.0%``, quantities as numbers with two decimals (below 10) or one, dates and
decimal years (2017.53) as dates formatted ``yyyy-mm-dd``, text as text (never a formula).
Each sheet has an autofilter over its table, the header row and the first ``freeze`` columns
(the target) frozen, and a print setup: A4 landscape, fitted to one page wide, the header row
repeated on every page. A :class:`Styled` value carries its own format and fill (a traffic
light's cell).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..printable import printable
from ..tables import display_width
from ..timeline import to_date

__all__ = ["FILLS", "FORMATS", "Column", "Styled", "as_date", "quantity", "write_sheet"]

#: Number formats by column kind.
FORMATS = {
    "percent": "0.0%",
    "change": "+0.0%;-0.0%;0.0%",
    "one": "#,##0.0",
    "two": "0.00",
    "integer": "0",
    "date": "yyyy-mm-dd",
}
#: Light traffic-light fills (RGB), readable in print with black text.
FILLS = {"green": "C6E7C8", "amber": "FFE8A3", "red": "F6C4C1"}
HEADER_FILL = PatternFill(fill_type="solid", start_color="DDE6F0", end_color="DDE6F0")
MAX_WIDTH = 48  # [characters] a column is at most this wide (longer text is cut off at the next cell)


@dataclass(frozen=True)
class Styled:
    """A cell value with its own number format and, optionally, a fill colour (``FILLS`` key)."""

    value: Any
    number_format: str | None = None
    fill: str | None = None


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its header and the kind of its values.

    ``kind`` is ``text``, ``percent``, ``change`` (a difference of likelihoods), ``quantity``
    (a number, an ISO date or a word), ``date`` (ISO text or a decimal year) or ``integer``.
    """

    header: str
    kind: str = "text"


def as_date(value: Any) -> dt.date | None:
    """An ISO date text or a decimal year (2017.53) as a date; None if it is neither."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return to_date(float(value)) if math.isfinite(value) else None
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)) or value is pd.NA


def quantity(value: Any, number_format: str | None = None) -> Styled:
    """A number in ``number_format`` (default: two decimals below 10 and one from 10, whole
    numbers without), an ISO date as a date, any other text as text."""
    if isinstance(value, str):
        day = as_date(value)
        return Styled(day, FORMATS["date"]) if day else Styled(value)
    if number_format is None and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return Styled(int(value), "#,##0")
    x = float(value)
    return Styled(x, number_format or (FORMATS["two"] if abs(x) < 10 else FORMATS["one"]))


def _decimals(values: pd.Series) -> str:
    """One number format for a column of quantities (consistent decimals down the column): two
    decimals when every number is below 10, else one."""
    numbers = [float(v) for v in values if isinstance(v, (int, float, np.integer, np.floating)) and not _missing(v)]
    return FORMATS["two"] if all(abs(x) < 10 for x in numbers if math.isfinite(x)) else FORMATS["one"]


def _styled(value: Any, kind: str, number_format: str | None = None) -> Styled:
    """The stored value and format of one cell of a column of ``kind``."""
    if isinstance(value, Styled):
        return value
    if _missing(value):
        return Styled(None)
    if isinstance(value, (np.bool_, bool)):
        return Styled(bool(value))
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    if kind in ("percent", "change", "integer") and isinstance(value, (int, float)):
        return Styled(int(value) if kind == "integer" else value, FORMATS[kind])
    if kind == "date":
        day = as_date(value)
        return Styled(day, FORMATS["date"]) if day else Styled(value)
    if kind == "quantity":
        return quantity(value, number_format)
    return Styled(value)


def _put(ws: Worksheet, row: int, column: int, styled: Styled) -> str:
    """Write one cell; returns the text it shows (for the column width)."""
    value = styled.value
    if isinstance(value, str):
        value = printable(value)  # control characters are not allowed in a workbook cell
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text from a file is never a formula (openpyxl reads "=..." as one)
    if styled.number_format:
        cell.number_format = styled.number_format
    if styled.fill:
        colour = FILLS[styled.fill]
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return "2017-07-01"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def write_sheet(wb: Workbook, title: str, frame: pd.DataFrame, columns: Sequence[Column], freeze: int = 1) -> Worksheet:
    """Write ``frame`` (one column per :class:`Column`) as sheet ``title``.

    Parameters
    ----------
    wb : Workbook
    title : str
        Sheet name (at most 31 characters, none of ``[]:*?/\\``).
    frame : DataFrame
        The rows; values may be :class:`Styled`.
    columns : sequence of Column
        Header and kind of each column of ``frame``, in order.
    freeze : int
        Columns kept in view when scrolling right (the target's name), besides the header row.

    Returns
    -------
    Worksheet
    """
    if len(columns) != frame.shape[1]:
        raise ValueError(f"{title}: {len(columns)} headers for {frame.shape[1]} columns")
    ws = wb.create_sheet(title)
    texts: list[list[str]] = [[] for _ in columns]
    formats = [_decimals(frame.iloc[:, j]) if c.kind == "quantity" else None for j, c in enumerate(columns)]
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for j, (value, column) in enumerate(zip(row, columns), start=1):
            shown = _put(ws, i, j, _styled(value, column.kind, formats[j - 1]))
            if i < 300:
                texts[j - 1].append(shown)
    header_lines = 1
    for j, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j, value="\n".join(printable(s) for s in column.header.split("\n")))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        lines = column.header.split("\n")
        fitted = max([display_width(s) for s in texts[j - 1]] + [max(display_width(s) for s in lines) * 0.6, 8])
        width = min(fitted + 2, MAX_WIDTH)
        ws.column_dimensions[get_column_letter(j)].width = width
        header_lines = max(header_lines, sum(math.ceil(display_width(s) / width) or 1 for s in lines))
    ws.row_dimensions[1].height = 15 * header_lines + 3
    last = get_column_letter(max(len(columns), 1))
    ws.auto_filter.ref = f"A1:{last}{max(ws.max_row, 1)}"
    ws.freeze_panes = f"{get_column_letter(freeze + 1)}2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    return ws
