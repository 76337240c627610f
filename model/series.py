"""Published series (``model/data/series.toml``): what the city publishes every year, from the indicators.

Each series is data: names, unit, where it is published (统计公报 or a 考核 figure), its
definition, the physical range of a published value, a default measurement sd, and how it is
computed from one of the model's yearly indicators, in a declared vocabulary
(:data:`COMPUTATIONS`; never an expression). :meth:`model.runs.Run.series` gives the yearly
values per replication::

    results.series("gdp_growth")     # float array (replications, 5): 2016..2020, NaN where undefined
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .params import DeclarationError, IndicatorSpec, all_params, indicator_spec
from .timeline import YEARS
from .tomlfile import suggest

__all__ = [
    "COMPUTATIONS", "PUBLISHED", "SERIES_FILE", "CalibrationNote", "Computation", "SeriesError", "SeriesSpec",
    "compute", "load_series", "series_indicators", "series_spec", "series_values",
]

SERIES_FILE = Path(__file__).parent / "data" / "series.toml"
#: Where a figure is published (see the header of series.toml).
PUBLISHED = ("统计公报", "考核", "科技经费统计公报")
REQUIRED = ("zh", "en", "unit", "published", "definition", "range", "sd", "sd_assumption", "compute")
OPTIONAL = ("indicator", "of", "first_year", "missing", "caveat", "calibration_note")
#: Keys of a ``calibration_note`` table.
NOTE_KEYS = ("zh", "en", "defaults")
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


class SeriesError(ValueError):
    """A series that does not exist, or that this run cannot give (the message says why)."""


def _finite(values: np.ndarray) -> np.ndarray:
    values[~np.isfinite(values)] = np.nan
    return values


def _level(x: np.ndarray) -> np.ndarray:
    return x.astype(float, copy=True)


def _growth(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 1:] = 100.0 * (x[:, 1:] / x[:, :-1] - 1.0)
    return _finite(out)


def _share(x: np.ndarray, of: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite(100.0 * x / of)


def _growth_from_average(x: np.ndarray) -> np.ndarray:
    years = np.arange(x.shape[1], dtype=float)  # years since 2016
    with np.errstate(invalid="ignore"):
        index = (1.0 + x / 100.0) ** years
    return _growth(index)


def _change_from_cut(x: np.ndarray) -> np.ndarray:
    return _growth(100.0 - x)


@dataclass(frozen=True)
class Computation:
    """One word of the vocabulary: its function, whether it takes ``of``, the unit it gives."""

    function: Callable[..., np.ndarray]
    about: str
    takes_of: bool = False
    unit: str | None = "%"  # None: the indicator's own unit


COMPUTATIONS: dict[str, Computation] = {
    "level": Computation(_level, "the indicator's value", unit=None),
    "growth": Computation(_growth, "yearly % change"),
    "share": Computation(_share, "share of another indicator in %", takes_of=True),
    "growth_from_average": Computation(_growth_from_average, "yearly % growth from the average growth since 2016"),
    "change_from_cut": Computation(_change_from_cut, "yearly % change from the cumulative % cut since 2016"),
}


@dataclass(frozen=True)
class CalibrationNote:
    """Why the model's 2017 range of a series may lie outside its reference class
    (``calibration_note`` in series.toml; see ``python -m model calibration``)."""

    zh: str
    en: str
    defaults: tuple[str, ...] = ()  # "<module>.<name>" of the levers or uncertainties responsible


@dataclass(frozen=True)
class SeriesSpec:
    """One published series (the keys of ``series.toml``)."""

    id: str
    zh: str
    en: str
    unit: str
    published: str
    definition: str
    range: tuple[float, float]
    sd: float
    sd_assumption: str
    compute: str
    indicator: str | None = None
    of: str | None = None
    first_year: int = YEARS[0]
    missing: str | None = None
    caveat: str | None = None
    calibration_note: CalibrationNote | None = None

    @property
    def modelled(self) -> bool:
        """True when the series has an indicator to be computed from."""
        return self.indicator is not None

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicators the series is computed from (none when not modelled)."""
        return tuple(k for k in (self.indicator, self.of) if k is not None)

    def computed_from(self) -> str:
        """E.g. ``growth(innovation.gdp)``, or ``not modelled yet (growth)``."""
        if not self.modelled:
            return f"not modelled yet ({self.compute})"
        return f"{self.compute}({', '.join(self.indicators)})"


def _yearly_indicator(where: str, key: Any) -> IndicatorSpec:
    if not isinstance(key, str):
        raise DeclarationError(f"{where}: expected an indicator id '<module>.<name>', found {key!r}")
    module, _, name = key.partition(".")
    try:
        spec = indicator_spec(key)
    except (OSError, KeyError):
        known = [i.key for p in all_params().values() for i in p.indicators.values() if i.kind == "yearly"]
        raise DeclarationError(f"{where}: '{key}' is not a declared indicator{suggest(key, known)}") from None
    if spec.kind != "yearly":
        raise DeclarationError(f"{where}: '{key}' is a {spec.kind} indicator; a series needs a yearly one")
    return spec


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DeclarationError(f"{where}: expected a finite number, found {value!r}")
    return float(value)


def _parse(series_id: str, entry: Any) -> SeriesSpec:
    where = f"series.{series_id}"
    _check_keys(where, series_id, entry)
    low, high, sd = _check_numbers(where, entry)
    computation = COMPUTATIONS.get(entry["compute"])
    if computation is None:
        raise DeclarationError(
            f"{where}.compute: '{entry['compute']}' is not a computation (one of {', '.join(COMPUTATIONS)})"
            f"{suggest(entry['compute'], COMPUTATIONS)}"
        )
    if "of" in entry and not computation.takes_of:
        raise DeclarationError(f"{where}.of: only 'share' takes a denominator, not '{entry['compute']}'")
    first_year = entry.get("first_year", YEARS[0])
    if isinstance(first_year, bool) or first_year not in YEARS:
        raise DeclarationError(f"{where}.first_year: expected a year {YEARS[0]}-{YEARS[-1]}, found {first_year!r}")
    _check_indicator(where, entry, computation)
    return SeriesSpec(
        series_id, entry["zh"], entry["en"], entry["unit"], entry["published"], entry["definition"], (low, high), sd,
        entry["sd_assumption"], entry["compute"], entry.get("indicator"), entry.get("of"), int(first_year),
        entry.get("missing"), entry.get("caveat"), _note(where, entry.get("calibration_note")),
    )


def _note(where: str, note: Any) -> CalibrationNote | None:
    """A ``calibration_note``: zh and en text, and the declared defaults it is about."""
    if note is None:
        return None
    where = f"{where}.calibration_note"
    if not isinstance(note, dict):
        raise DeclarationError(f"{where}: expected a table {{ zh = ..., en = ..., defaults = [...] }}, found {note!r}")
    for key in note:
        if key not in NOTE_KEYS:
            raise DeclarationError(f"{where}: unknown key '{key}'{suggest(key, NOTE_KEYS)}")
    for key in ("zh", "en"):
        if not (isinstance(note.get(key), str) and note[key].strip()):
            raise DeclarationError(f"{where}.{key}: expected a non-empty string, found {note.get(key)!r}")
    defaults = note.get("defaults", [])
    if not (isinstance(defaults, list) and all(isinstance(d, str) for d in defaults)):
        raise DeclarationError(f"{where}.defaults: expected a list of '<module>.<name>', found {defaults!r}")
    declared = {f"{module}.{name}" for module, p in all_params().items() for name in (*p.levers, *p.uncertainties)}
    for key in defaults:
        if key not in declared:
            raise DeclarationError(f"{where}.defaults: '{key}' is not a declared lever or uncertainty"
                                   f"{suggest(key, sorted(declared))}")
    return CalibrationNote(note["zh"], note["en"], tuple(defaults))


def _check_keys(where: str, series_id: str, entry: Any) -> None:
    """The id, the known and required keys, and the text fields of one entry."""
    if not ID_PATTERN.fullmatch(series_id):
        raise DeclarationError(f"{where}: an id is lower-case letters, digits and _, starting with a letter")
    if not isinstance(entry, dict):
        raise DeclarationError(f"{where}: expected a table, found {entry!r}")
    for key in entry:
        if key not in REQUIRED + OPTIONAL:
            raise DeclarationError(f"{where}: unknown key '{key}'{suggest(key, REQUIRED + OPTIONAL)}")
    for key in REQUIRED:
        if key not in entry:
            raise DeclarationError(f"{where}: missing '{key}'")
    for key in ("zh", "en", "unit", "published", "definition", "sd_assumption", "compute", "missing", "caveat"):
        if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
            raise DeclarationError(f"{where}.{key}: expected a non-empty string, found {entry[key]!r}")
    if entry["published"] not in PUBLISHED:
        found = entry["published"]
        raise DeclarationError(f"{where}.published: expected one of {', '.join(PUBLISHED)}, found {found!r}")


def _check_numbers(where: str, entry: dict[str, Any]) -> tuple[float, float, float]:
    """The physical range ``[low, high]`` and the measurement sd of one entry."""
    rng = entry["range"]
    if not (isinstance(rng, list) and len(rng) == 2):
        raise DeclarationError(f"{where}.range: expected [low, high], found {rng!r}")
    low, high = _number(f"{where}.range", rng[0]), _number(f"{where}.range", rng[1])
    if low >= high:
        raise DeclarationError(f"{where}.range: low {low:g} must be below high {high:g}")
    sd = _number(f"{where}.sd", entry["sd"])
    if sd <= 0:
        raise DeclarationError(f"{where}.sd: must be positive, found {sd:g}")
    return low, high, sd


def _check_indicator(where: str, entry: dict[str, Any], computation) -> None:
    """An indicator (yearly, declared, in the unit the computation gives) or a reason why there is none."""
    if "indicator" not in entry:
        if "missing" not in entry:
            raise DeclarationError(f"{where}: give 'indicator', or 'missing' saying why there is none yet")
        if "of" in entry:
            raise DeclarationError(f"{where}.of: a denominator without an 'indicator'")
        return
    if "missing" in entry:
        raise DeclarationError(f"{where}.missing: the series has an indicator; remove 'missing'")
    spec = _yearly_indicator(f"{where}.indicator", entry["indicator"])
    if computation.takes_of:
        if "of" not in entry:
            raise DeclarationError(f"{where}.of: 'share' needs the denominator indicator")
        _yearly_indicator(f"{where}.of", entry["of"])
    unit = computation.unit or spec.unit
    if entry["unit"] != unit:
        raise DeclarationError(
            f"{where}.unit: '{entry['compute']}' of {spec.key} [{spec.unit}] is in '{unit}', not '{entry['unit']}'"
        )


@cache
def load_series(path: Path = SERIES_FILE) -> dict[str, SeriesSpec]:
    """Every published series of ``path``, by id, in file order.

    Raises
    ------
    DeclarationError
        The file is malformed (a bug in a shipped file; the message names the series and key).
    """
    try:
        doc = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DeclarationError(f"{path}: cannot be read ({exc})") from exc
    unknown = sorted(set(doc) - {"series"})
    if unknown or not isinstance(doc.get("series"), dict) or not doc["series"]:
        raise DeclarationError(f"{path}: expected only [series.<id>] tables (found {unknown or 'no series'})")
    return {series_id: _parse(series_id, entry) for series_id, entry in doc["series"].items()}


@cache
def series_indicators(path: Path = SERIES_FILE) -> tuple[str, ...]:
    """Every indicator a modelled series is computed from, once each in file order: a saved run
    keeps them per replication (``replications.npz``), so its series can be read and scored."""
    return tuple(dict.fromkeys(k for spec in load_series(path).values() for k in spec.indicators))


def series_spec(series_id: str, path: Path = SERIES_FILE) -> SeriesSpec:
    """The declaration of ``series_id``; :class:`SeriesError` with a did-you-mean if unknown."""
    table = load_series(path)
    if series_id not in table:
        hint = suggest(str(series_id), table)
        raise SeriesError(f"unknown series '{series_id}'{hint} (python -m model series lists them)")
    return table[series_id]


def compute(spec: SeriesSpec, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
    """The series' yearly values from yearly indicator arrays, shape (replications, len(YEARS)).

    Years before ``spec.first_year``, years that need 2015 and non-finite values are NaN.
    """
    if not spec.modelled:
        raise SeriesError(f"series '{spec.id}' is not modelled yet: {spec.missing}")
    missing = [k for k in spec.indicators if k not in indicators]
    if missing:
        raise SeriesError(f"series '{spec.id}' needs the indicator {', '.join(missing)}, which this run does not hold")
    arrays = [np.asarray(indicators[k], dtype=float) for k in spec.indicators]
    values = COMPUTATIONS[spec.compute].function(*arrays)
    values[:, : YEARS.index(spec.first_year)] = np.nan
    return values


def series_values(series_id: str, indicators: Mapping[str, np.ndarray] | None, *, run: str = "this run",
                  path: Path = SERIES_FILE) -> np.ndarray:
    """:func:`compute` for ``series_id``; ``indicators`` None means the run holds none (a saved run)."""
    spec = series_spec(series_id, path)
    if indicators is None and spec.modelled:
        raise SeriesError(
            f"{run} holds no yearly indicators, so series '{series_id}' (from {', '.join(spec.indicators) or 'none'}) "
            "cannot be computed: a saved run's replications.npz keeps each target's value at its deadline, "
            "met/not met, the indicators of the outside view (model.outside) and, since runs kept them, those "
            "of the published series. Simulate the scenario again (model.simulate) to read series"
        )
    return compute(spec, indicators or {})
