"""Calibration: the model's published series for 2017 and 2018 against the outside view.

For each published series (``model/data/series.toml``) the reference class
(``model/data/reference_class.toml``: the central range of comparable places and years, and the
city's own record, each figure with its source and publication date, all known by July 2017)
is set beside the model's 5/25/50/75/95 % quantiles. A series whose 5-95 % range excludes the
reference class's central range (no overlap) is flagged; its reason is the series'
``calibration_note`` (with the defaults responsible, whose ``source``/``assumption`` holds the
evidence)::

    from model.calibration import calibration_table
    table = calibration_table("plan", results.indicators)   # also results.calibration
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .params import DeclarationError, all_params
from .series import SeriesSpec, compute, load_series
from .tables import column_quantiles
from .timeline import YEARS
from .tomlfile import suggest

__all__ = [
    "COLUMNS", "KNOWN_BY", "LEVELS", "QUANTILE_COLUMNS", "REFERENCE_FILE", "YEARS_SHOWN", "CityRecord", "Figure",
    "Reference", "calibration_table", "excludes", "load_reference", "outcome",
    "series_columns",
]

REFERENCE_FILE = Path(__file__).parent / "data" / "reference_class.toml"
#: The plans' date: no figure published later may enter a reference class.
KNOWN_BY = dt.date(2017, 7, 31)
YEARS_SHOWN = (2017, 2018)
LEVELS = (0.05, 0.25, 0.50, 0.75, 0.95)
QUANTILE_COLUMNS = tuple(f"p{round(100 * q)}" for q in LEVELS)
#: Columns of calibration.csv, in order.
COLUMNS = (
    "scenario", "series_id", "name_zh", "name_en", "unit", "year", *QUANTILE_COLUMNS,
    "reference_low", "reference_high", "reference_what", "reference_figures", "reference_published",
    "reference_missing", "city_value", "city_year", "city_what", "city_source", "city_published", "city_missing",
    "status", "excludes_reference", "reason_zh", "reason_en", "reason_defaults",
)
#: Values of the ``status`` column.
STATUSES = ("covers", "excludes", "no reference", "not modelled")
_PUBLISHED_TEXT = re.compile(r"(\d{4})(?:-(\d{2}))?\b.*")


@dataclass(frozen=True)
class Figure:
    """One published figure behind a reference range."""

    value: float
    what: str
    source: str
    published: str  # ISO date, or "YYYY" / "YYYY-MM" when only the period is known

    def text(self) -> str:
        return f"{self.value:g}: {self.what} ({self.source}, {self.published})"


@dataclass(frozen=True)
class Reference:
    """The reference class of a series: its central range and the figures behind it, or why none."""

    low: float | None = None
    high: float | None = None
    what: str = ""
    figures: tuple[Figure, ...] = ()
    missing: str | None = None

    @property
    def published(self) -> str:
        """The publication date of the latest figure (the range was known from then)."""
        return max((f.published for f in self.figures), default="")


@dataclass(frozen=True)
class CityRecord:
    """The city's own record of the statistic before the plan, or why there is none."""

    value: float | None = None
    year: int | None = None
    what: str = ""
    source: str = ""
    published: str = ""
    missing: str | None = None


def _text(where: str, value: Any) -> str:
    if not (isinstance(value, str) and value.strip()):
        raise DeclarationError(f"{where}: expected a non-empty string, found {value!r}")
    return value


def _value(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DeclarationError(f"{where}: expected a finite number, found {value!r}")
    return float(value)


def _published(where: str, value: Any) -> str:
    """A publication date (TOML date or "YYYY[-MM] ..." text) no later than :data:`KNOWN_BY`."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        if value > KNOWN_BY:
            raise DeclarationError(f"{where}: {value} is after {KNOWN_BY}: only figures known when the plans were "
                                   "written may enter the outside view")
        return value.isoformat()
    match = _PUBLISHED_TEXT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise DeclarationError(f"{where}: expected a date (2017-02-28) or text starting with the year "
                               f"(\"2016\", \"2017-03\"), found {value!r}")
    year, month = int(match[1]), int(match[2] or 1)
    if not 1 <= month <= 12 or (year, month) > (KNOWN_BY.year, KNOWN_BY.month):
        raise DeclarationError(f"{where}: {value!r} is after {KNOWN_BY:%Y-%m}: only figures known when the plans "
                               "were written may enter the outside view")
    return value


def _keys(where: str, entry: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise DeclarationError(f"{where}: expected a table, found {entry!r}")
    for key in entry:
        if key not in allowed:
            raise DeclarationError(f"{where}: unknown key '{key}'{suggest(key, allowed)}")
    if "missing" in entry:
        if len(entry) > 1:
            raise DeclarationError(f"{where}: 'missing' says there is no figure; remove the other keys "
                                   f"({', '.join(k for k in entry if k != 'missing')})")
        _text(f"{where}.missing", entry["missing"])
    return entry


def _reference(where: str, entry: Any) -> Reference:
    entry = _keys(where, entry, ("low", "high", "what", "figures", "missing"))
    if "missing" in entry:
        return Reference(missing=entry["missing"])
    for key in ("low", "high", "what", "figures"):
        if key not in entry:
            raise DeclarationError(f"{where}: missing '{key}' (or give 'missing' saying why there is no reference)")
    low, high = _value(f"{where}.low", entry["low"]), _value(f"{where}.high", entry["high"])
    if low > high:
        raise DeclarationError(f"{where}: low {low:g} must not be above high {high:g}")
    if not (isinstance(entry["figures"], list) and entry["figures"]):
        raise DeclarationError(f"{where}.figures: expected a list of {{ value, what, source, published }}")
    figures = []
    for i, fig in enumerate(entry["figures"]):
        at = f"{where}.figures[{i}]"
        if not isinstance(fig, dict) or set(fig) != {"value", "what", "source", "published"}:
            raise DeclarationError(f"{at}: expected {{ value, what, source, published }}, found {fig!r}")
        figures.append(Figure(_value(f"{at}.value", fig["value"]), _text(f"{at}.what", fig["what"]),
                              _text(f"{at}.source", fig["source"]), _published(f"{at}.published", fig["published"])))
    return Reference(low, high, _text(f"{where}.what", entry["what"]), tuple(figures))


def _city(where: str, entry: Any) -> CityRecord:
    entry = _keys(where, entry, ("value", "year", "what", "source", "published", "missing"))
    if "missing" in entry:
        return CityRecord(missing=entry["missing"])
    for key in ("year", "what", "source", "published"):
        if key not in entry:
            raise DeclarationError(f"{where}: missing '{key}' (or give 'missing' saying why there is no record)")
    year = entry["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year < YEARS[1]:
        raise DeclarationError(f"{where}.year: expected the year of a record before the plan (2000-{YEARS[0]}), "
                               f"found {year!r}")
    value = _value(f"{where}.value", entry["value"]) if "value" in entry else None
    return CityRecord(value, year, _text(f"{where}.what", entry["what"]), _text(f"{where}.source", entry["source"]),
                      _published(f"{where}.published", entry["published"]))


@cache
def load_reference(path: Path = REFERENCE_FILE) -> dict[str, tuple[Reference, CityRecord]]:
    """The reference class and city record of every published series, by series id.

    Raises
    ------
    DeclarationError
        The file is malformed, names a series that does not exist, lacks one, or holds a figure
        published after :data:`KNOWN_BY` (the message names the series and key).
    """
    try:
        doc = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DeclarationError(f"{path}: cannot be read ({exc})") from exc
    series = load_series()
    out = {}
    for series_id, entry in doc.items():
        if series_id not in series:
            raise DeclarationError(f"{path}: [{series_id}] is not a published series{suggest(series_id, series)} "
                                   "(model/data/series.toml lists them)")
        if not isinstance(entry, dict) or set(entry) != {"reference", "city"}:
            raise DeclarationError(f"{path}: [{series_id}] needs exactly a [{series_id}.reference] and a "
                                   f"[{series_id}.city] table")
        out[series_id] = (_reference(f"{series_id}.reference", entry["reference"]),
                          _city(f"{series_id}.city", entry["city"]))
    absent = [s for s in series if s not in out]
    if absent:
        raise DeclarationError(f"{path}: no [{absent[0]}.reference] and [{absent[0]}.city]: every published series "
                               "needs its outside view, or 'missing' saying why there is none")
    return {s: out[s] for s in series}  # in the order of series.toml


def excludes(p5: float, p95: float, low: float, high: float) -> bool:
    """True when the model's range [p5, p95] and the reference range [low, high] do not overlap."""
    return bool(p95 < low or p5 > high)


def outcome(spec: SeriesSpec, reference: Reference, p5: float, p95: float) -> str:
    """The row's status: ``covers``, ``excludes``, ``no reference`` or ``not modelled``."""
    if not spec.modelled or math.isnan(p5):
        return "not modelled"
    if reference.missing is not None:
        return "no reference"
    return "excludes" if excludes(p5, p95, reference.low, reference.high) else "covers"


def _reason(spec: SeriesSpec, status: str) -> dict[str, str]:
    note = spec.calibration_note if status == "excludes" else None
    if note is None:
        return {"reason_zh": "", "reason_en": "", "reason_defaults": ""}
    params = all_params()
    defaults = []
    for key in note.defaults:
        module, _, name = key.partition(".")
        declared = params[module].levers.get(name) or params[module].uncertainties[name]
        defaults.append(f"{key}: {declared.about.source or declared.about.assumption}")
    return {"reason_zh": note.zh, "reason_en": note.en, "reason_defaults": " | ".join(defaults)}


def _row(scenario: str, spec: SeriesSpec, reference: Reference, city: CityRecord, year: int,
         qs: np.ndarray) -> dict[str, Any]:
    status = outcome(spec, reference, float(qs[0]), float(qs[-1]))
    flag = {"covers": False, "excludes": True}.get(status)
    return {
        "scenario": scenario, "series_id": spec.id, "name_zh": spec.zh, "name_en": spec.en, "unit": spec.unit,
        "year": year, **{col: float(q) for col, q in zip(QUANTILE_COLUMNS, qs)},
        "reference_low": np.nan if reference.low is None else reference.low,
        "reference_high": np.nan if reference.high is None else reference.high,
        "reference_what": reference.what, "reference_figures": " | ".join(f.text() for f in reference.figures),
        "reference_published": reference.published, "reference_missing": reference.missing or "",
        "city_value": np.nan if city.value is None else city.value,
        "city_year": pd.NA if city.year is None else city.year, "city_what": city.what,
        "city_source": city.source, "city_published": city.published, "city_missing": city.missing or "",
        "status": status, "excludes_reference": pd.NA if flag is None else flag, **_reason(spec, status),
    }


def series_columns(indicators: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference-class series a run holds, for the years shown: series id -> (n, 2)."""
    columns = [YEARS.index(y) for y in YEARS_SHOWN]
    out = {}
    for series_id in load_reference():
        spec = load_series()[series_id]
        if spec.modelled and all(k in indicators for k in spec.indicators):
            out[series_id] = compute(spec, indicators)[:, columns]
    return out


def calibration_table(scenario: str, indicators: Mapping[str, np.ndarray],
                      weights: np.ndarray | None = None) -> pd.DataFrame:
    """One row per published series and year shown (:data:`YEARS_SHOWN`), columns :data:`COLUMNS`.

    Parameters
    ----------
    scenario : str
        The scenario's name (the ``scenario`` column).
    indicators : mapping
        Yearly indicator arrays, shape (replications, len(YEARS)), of a run; or a streamed run's
        summary of the series themselves (:func:`series_columns`, :mod:`model.streaming`).
    weights : ndarray, optional
        A conditioned run's replication weights: weighted quantiles (:func:`model.tables.quantiles`).

    Returns
    -------
    DataFrame
        Quantiles ``p5 .. p95`` in the series' unit (NaN for a series not modelled yet), the
        reference class and the city record, ``status`` (:data:`STATUSES`), ``excludes_reference``
        (True, False, or missing when there is nothing to compare) and, for an excluded series,
        the written reason (``calibration_note`` and the defaults it names).
    """
    rows = []
    series = series_columns(indicators) if isinstance(indicators, Mapping) else indicators
    for series_id, (reference, city) in load_reference().items():
        spec = load_series()[series_id]
        held = series_id in series
        missing = np.full((len(LEVELS), len(YEARS_SHOWN)), np.nan)
        qs = column_quantiles(series, series_id, LEVELS, weights) if held else missing
        for j, year in enumerate(YEARS_SHOWN):
            rows.append(_row(scenario, spec, reference, city, year, qs[:, j]))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["city_year"] = frame["city_year"].astype("Int64")
    frame["excludes_reference"] = frame["excludes_reference"].astype("boolean")
    return frame
