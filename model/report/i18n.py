"""The locale tables of charts and briefs (``model/report/locale/<lang>.toml``).

Every phrase a planner reads comes from these tables; code holds none. Phrases may hold
``{name}`` placeholders filled with :meth:`str.format` (or ``Markup.format`` in templates,
which escapes what is filled in).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from ..timeline import to_date

LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("zh", "en")


@cache
def load_locale(lang: str = "zh") -> dict[str, Any]:
    """The phrase table of ``lang`` (``"zh"`` or ``"en"``) as nested dicts.

    Raises
    ------
    ValueError
        For a language without a table.
    """
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, found {lang!r}")
    with open(LOCALE_DIR / f"{lang}.toml", "rb") as fh:
        return tomllib.load(fh)


def target_name(row: Any, lang: str) -> str:
    """A target's (or indicator's) name in ``lang`` from a row holding name_zh / name_en."""
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


def unit_label(unit: str, lang: str, after_number: bool = False) -> str:
    """A unit of the registry or the parameter files as a reader sees it (``count`` -> ``个``).

    The table is ``[units]`` of the locale (``[units_after_number]`` first when the unit
    follows a number: ``54.6 × 100 million yuan``); a unit it does not hold is shown as written.
    """
    loc = load_locale(lang)
    if after_number and str(unit) in loc.get("units_after_number", {}):
        return str(loc["units_after_number"][str(unit)])
    return str(loc.get("units", {}).get(str(unit), unit))


def value_label(value: Any, lang: str) -> str:
    """A coded value (a lever's choice, ``never``, a boolean) in words; other values as text."""
    values = load_locale(lang).get("values", {})
    if isinstance(value, bool):
        return str(values.get(str(value).lower(), value))
    return str(values.get(value, value)) if isinstance(value, str) else str(value)


def test_text(test: str, unit: str = "", lang: str = "en") -> str:
    """A registry test (``>= 3 count``) with ≥ / ≤ and its unit in ``lang`` (``≥ 3 个``)."""
    text = str(test).replace(">=", "≥").replace("<=", "≤")
    if unit and text.endswith(f" {unit}"):
        label = unit_label(unit, lang, after_number=True)
        text = text[: -len(unit) - 1] + ("" if label in ("%", "") else " ") + label
    return text


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def _range(low: Any, high: Any, loc: dict, shown=_num, words: bool = False) -> str:
    """``low–high``, or ``low to high`` when a bound is negative (a dash would read as a minus)
    or with ``words`` (dates, which hold dashes); the bounds written by ``shown``."""
    key = "range_negative" if words or min(float(low), float(high)) < 0 else "range"
    return loc[key].format(low=shown(low), high=shown(high))


#: Units of parameters that are fractions a reader reads as percentages (a share, a yearly
#: growth rate, a probability).
PERCENT_UNITS = frozenset({"share", "share/yr", "share of 2017", "probability", "1/yr (probability)"})

#: Parameters of a distribution that are values of the quantity (in its unit); the others
#: (shape, weights, log sd) are pure numbers, and a spread (sd) is a difference of values.
_LOCATION = ("low", "high", "mode", "mean", "median", "value")


def _in_unit(x: Any, unit: str) -> str:
    """A value of a quantity of ``unit`` as a reader writes it: a share as a percentage
    (``0.3`` -> ``30%``), a decimal year as year and month (``2017.53`` -> ``2017-07``)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return _num(x)
    if unit in PERCENT_UNITS:
        return f"{round(100 * x, 4):g}%"
    if unit == "decimal year":
        return to_date(float(x)).strftime("%Y-%m")
    return _num(x)


def _spread(x: Any, unit: str, loc: dict) -> str:
    """A spread (standard deviation) of a share in percentage points, of a date in years."""
    if unit in PERCENT_UNITS and isinstance(x, (int, float)):
        return loc["points"].format(value=f"{round(100 * x, 4):g}")
    if unit == "decimal year" and isinstance(x, (int, float)):
        return loc["years"].format(value=_num(x))
    return _num(x)


def describe_distribution(dist: Any, lang: str, unit: str = "") -> str:
    """A distribution (:class:`model.distributions.Distribution`) in words of ``lang``.

    For example ``uniform(low=0.1, high=0.45)`` reads ``均匀分布 0.1–0.45`` in Chinese and
    ``uniform 0.1–0.45`` in English; the phrases are the locale's ``[dist]`` table. With the
    parameter's ``unit`` one of :data:`PERCENT_UNITS` (``"share"``) its values read as
    percentages (``uniform 10%–45%``) and its standard deviation in percentage points, with
    ``"decimal year"`` as year and month; a beta distribution of a share also says its mean.
    """
    loc = load_locale(lang)["dist"]
    p = dict(dist.params)
    kind = dist.kind

    def value(x: Any) -> str:
        return _in_unit(x, unit)

    if kind == "choice":
        items = loc["choice_sep"].join(loc["choice_item"].format(value=value(v), weight=_num(w))
                                       for v, w in zip(p["values"], p["weights"]))
        return loc["choice"].format(items=items)
    if kind == "beta" and ("low" in p or "high" in p):
        kind = "beta_range"
        p = {"low": 0.0, "high": 1.0, **p}
    span = _range(p["low"], p["high"], loc, value, unit == "decimal year") if "low" in p and "high" in p else ""
    shown = {k: value(v) if k in _LOCATION else _spread(v, unit, loc) if k == "sd" else _num(v) for k, v in p.items()}
    text = loc[kind].format(range=span, **shown)
    if dist.kind == "beta" and (unit in PERCENT_UNITS or unit == "decimal year"):
        low, high = float(p.get("low", 0.0)), float(p.get("high", 1.0))
        text += loc["beta_mean"].format(mean=value(low + (high - low) * p["alpha"] / (p["alpha"] + p["beta"])))
    if dist.kind in ("normal", "lognormal", "poisson"):  # optional truncation
        if span:
            text += loc["truncated"].format(range=span)
        elif "low" in p:
            text += loc["truncated_low"].format(low=value(p["low"]))
        elif "high" in p:
            text += loc["truncated_high"].format(high=value(p["high"]))
    return text
