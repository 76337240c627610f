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


def _range(low: Any, high: Any, loc: dict) -> str:
    """``low–high``, or ``low to high`` when a bound is negative (a dash would read as a minus)."""
    key = "range_negative" if min(float(low), float(high)) < 0 else "range"
    return loc[key].format(low=_num(low), high=_num(high))


def describe_distribution(dist: Any, lang: str) -> str:
    """A distribution (:class:`model.distributions.Distribution`) in words of ``lang``.

    For example ``uniform(low=0.1, high=0.45)`` reads ``均匀分布 0.1–0.45`` in Chinese and
    ``uniform 0.1–0.45`` in English; the phrases are the locale's ``[dist]`` table.
    """
    loc = load_locale(lang)["dist"]
    p = dict(dist.params)
    kind = dist.kind
    if kind == "choice":
        items = loc["choice_sep"].join(loc["choice_item"].format(value=_num(v), weight=_num(w))
                                       for v, w in zip(p["values"], p["weights"]))
        return loc["choice"].format(items=items)
    if kind == "beta" and ("low" in p or "high" in p):
        kind = "beta_range"
        p = {"low": 0.0, "high": 1.0, **p}
    span = _range(p["low"], p["high"], loc) if "low" in p and "high" in p else ""
    text = loc[kind].format(range=span, **{k: _num(v) for k, v in p.items()})
    if dist.kind in ("normal", "lognormal", "poisson"):  # optional truncation
        if span:
            text += loc["truncated"].format(range=span)
        elif "low" in p:
            text += loc["truncated_low"].format(low=_num(p["low"]))
        elif "high" in p:
            text += loc["truncated_high"].format(high=_num(p["high"]))
    return text
