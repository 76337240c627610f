"""Numbers and text as people read them: the one formatting module of the terminal, the
notebook tables and the CSV files.

* likelihoods as percentages that never show a non-zero value as 0 (``<0.1%``) nor a value
  short of certainty as 100 (``>99.9%``), changes in percentage points with their sign;
* lever values with their unit: shares as percentages, decimal years as year and month
  (``2017.53`` -> ``2017-07``), yes/no, never ``-0``;
* display widths of CJK text (two columns a character) and text cut to a width;
* the rounding of every float a CSV file holds (:func:`csv_rounded`).

The frames of the API keep fractions and stable English column names for programs; only what
is written for people passes through here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from .report.i18n import load_locale, test_text, unit_label, value_label
from .timeline import to_date

__all__ = [
    "FRACTION_DECIMALS", "TINY", "VALUE_DECIMALS", "change_text", "csv_rounded", "cut", "display_width",
    "is_fraction_column", "lever_text", "light_text", "test_label", "month_text", "number_text", "percent_text",
]

TINY = 0.0005  # a fraction below this shows as 0.0 at one decimal of a percentage
#: Decimals of the floats a CSV file holds: fractions (likelihoods, changes, shares: 0.0001 is
#: one replication in 10,000) and every other value (亿元, counts, per cent; 4 as well, so that a
#: saved run's trajectories read back as they were, and one rule holds for every file).
FRACTION_DECIMALS, VALUE_DECIMALS = 4, 4


def percent_text(p: float | None) -> str:
    """A likelihood (fraction) as a percentage with one decimal: ``12.3%``, ``<0.1%`` for a
    non-zero value below 0.05 %, ``>99.9%`` just below certainty, ``0%`` and ``100%`` only for
    exactly none and all; '' when missing."""
    if p is None or pd.isna(p):
        return ""
    x = float(p)
    if x <= 0:
        return "0%"
    if x >= 1:
        return "100%"
    text = f"{100 * x:.1f}"
    if x < TINY or text == "0.0":
        return "<0.1%"
    if x > 1 - TINY or text == "100.0":  # 0.9995 rounds to 100.0 at one decimal
        return ">99.9%"
    return f"{text}%"


def change_text(d: float | None) -> str:
    """A change in likelihood (fraction) in percentage points with its sign: ``+12.3``,
    ``+<0.1`` for a non-zero change below 0.05 points, ``0`` for none; '' when missing."""
    if d is None or pd.isna(d):
        return ""
    x = float(d)
    if x == 0:
        return "0"
    if abs(x) < TINY:
        return "+<0.1" if x > 0 else "−<0.1"
    return f"{100 * x:+.1f}".replace("-", "−")


def number_text(x: float | None, decimals: int = 1) -> str:
    """``x`` with at most ``decimals`` decimals (trailing zeros dropped), never ``-0``; '' when missing."""
    if x is None or pd.isna(x):
        return ""
    text = f"{float(x):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def month_text(t: float) -> str:
    """A decimal year as the year and month it falls in: ``2017.53`` -> ``2017-07``."""
    return to_date(float(t)).strftime("%Y-%m")


def lever_text(value: Any, unit: str, lang: str = "en") -> str:
    """A lever's (or a swept) value as a reader writes it: shares as percentages, decimal years
    as year and month, yes/no and coded choices in words, other numbers with their unit.

    ``value`` may be the text of a number (``"0.3"``, as a sweep keeps its values).
    """
    if isinstance(value, bool) or value in ("true", "false"):
        return value_label(value if isinstance(value, bool) else value == "true", lang)
    try:
        x = float(value)
    except (TypeError, ValueError):
        text = str(value)
        return value_label(text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text, lang)
    if not math.isfinite(x):
        return str(value)
    if unit == "decimal year":
        return month_text(x)
    if unit == "share":
        return f"{number_text(100 * x, 2)}%"
    label = unit_label(unit, lang, after_number=True)
    text = number_text(x, 4)
    if not label or label == "-":
        return text
    return f"{text}{label}" if label == "%" else f"{text} {label}"


def test_label(test: str, unit: str, lang: str) -> str:
    """A target's test for the terminal: ≥ and its unit in ``lang`` (``≥ 2 个``), a bare count in
    English (``≥ 2``, not ``≥ 2 count``)."""
    text = test_text(test, unit, lang)
    return text[: -len(" count")] if lang == "en" and unit == "count" and text.endswith(" count") else text


def light_text(status: str, lang: str) -> str:
    """A traffic light (``green``, ``amber``, ``red``, ``not modelled``) in words of ``lang``:
    红灯 / 黄灯 / 绿灯 in Chinese."""
    return str(load_locale(lang)["terminal"][f"light_{status.replace(' ', '_')}"])


def display_width(text: str) -> int:
    """Display width in a terminal or a spreadsheet cell: wide and full-width (CJK) characters
    take two columns (Unicode East Asian Width W and F), every other character one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` display columns (CJK characters count two), with ... if cut
    (ASCII: an ellipsis or an arrow is one column or two depending on the terminal)."""
    if display_width(text) <= width:
        return text
    while text and display_width(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."


_FRACTION = re.compile(r"(^|[:. _])(probability|likelihood|change|effect|swing|share|weight|brier|pit|S1|ST)(_|$)")


def is_fraction_column(name: str) -> bool:
    """Whether a CSV column holds fractions (likelihoods, their changes and intervals, shares):
    ``probability``, ``plan: change_low``, ``firms.probability``, ``swing_high``."""
    return bool(_FRACTION.search(str(name)))


def csv_rounded(frame: pd.DataFrame, fractions=()) -> pd.DataFrame:
    """``frame`` with every float column rounded for a CSV file: fractions (by name,
    :func:`is_fraction_column`, or listed in ``fractions``) to :data:`FRACTION_DECIMALS`,
    other values to :data:`VALUE_DECIMALS`; ``-0.0`` written as ``0.0``.

    Columns already rounded (outwards, for intervals) keep their value: rounding again to as
    many or more decimals changes nothing.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind != "f":
            continue
        decimals = FRACTION_DECIMALS if column in fractions or is_fraction_column(column) else VALUE_DECIMALS
        out[column] = np.round(out[column].to_numpy(float), decimals) + 0.0
    return out
