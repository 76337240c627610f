"""Observed-figures files: the published figures a forecast is conditioned on (issue 11).

An observed file is TOML, one table per published series of ``model/data/series.toml``, keyed
by year, and an optional ``[targets]`` table keyed by target ids of ``model/data/targets.toml``::

    [industrial_va_growth]
    2018 = { value = 8.1, period = "H1", source = "济源日报 2018-09-06", published = 2018-09-06 }
    [gdp_growth]
    2017 = 8.0                                   # a number: the full year, default sd
    [targets]
    "overcapacity.zombie_survey.2017" = { done = 2017-06-28, source = "...", published = 2017-07-03 }
    "overcapacity.zombie_plan.2017" = { met = true, published = 2018-01-10 }
    "green.green_factories.2018" = { value = 2, published = 2019-01-20 }
    "overcapacity.zombie_plan.2017" = { done = false, on = 2017-10-31 }   # not done by that date

A series figure is a number or a table of ``value`` (in the series' unit), ``sd`` (default: the
series' ``sd`` of series.toml, scaled for a partial period), ``period``, ``source`` and
``published`` (a date). A target figure is one of

* ``met = true | false``: the outcome of the target's test (published after the deadline;
  ``met = true`` of a milestone may be published as soon as the event happened);
* ``value = number`` (with optional ``sd``): the value the target tests, at its deadline
  (default sd by the target's unit, ``model/data/observed.toml``);
* ``done = date`` (milestones): the event happened that day (sd ``dates.sd_days``), or
  ``done = false, on = date``: it had not happened by the end of that day.

Periods (:data:`PERIOD_MONTHS`): a cumulative reading from January, as Chinese statistics are
published: ``"year"`` (default, = ``"Jan-Dec"``), ``"Q1"`` (= ``"Jan-Mar"``), ``"H1"``
(= ``"Jan-Jun"``), ``"Q1-Q3"`` (= ``"Jan-Sep"``) and ``"Jan-Feb"`` ... ``"Jan-Nov"``: the fraction
of the year f = months / 12. A partial reading is compared with the model's full-year value
with sd = sd_year / sqrt(f) (:func:`partial_sd`; an assumption: the part of the year not yet
seen is taken to vary around the year's value like ``1/f - 1`` more such readings, so the
variance of the reading about the year's value grows as 1/f). Single quarters (Q2, Q3, H2) are
not cumulative and are refused.

Every problem raises :class:`ObservedError` (a :class:`~model.tomlfile.ScenarioError`: one line
naming the file, the key, the line and the fix; the command line exits 2 and writes nothing).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .series import load_series
from .targets import Target, load_registry
from .timeline import YEARS, decimal_year
from .tomlfile import ScenarioError, find_line, found, is_year, read_toml, suggest
from .verify import sha256

__all__ = ["DEFAULTS_FILE", "PERIOD_MONTHS", "Figure", "Observed", "ObservedError", "as_observed",
           "load_observed", "partial_sd"]

DEFAULTS_FILE = Path(__file__).parent / "data" / "observed.toml"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Accepted periods -> months of the year covered, cumulative from January.
PERIOD_MONTHS: dict[str, int] = {"year": 12, "Q1": 3, "H1": 6, "Q1-Q3": 9,
                                 **{f"Jan-{m}": i for i, m in enumerate(_MONTHS, start=1) if i > 1}}
#: Periods that are not cumulative from January -> the cumulative period to give instead.
NOT_CUMULATIVE = {"Q2": "H1", "Q3": "Q1-Q3", "Q4": "year", "H2": "year"}
SERIES_KEYS = ("value", "sd", "period", "source", "published")
TARGET_KEYS = ("met", "value", "done", "on", "sd", "source", "published")


class ObservedError(ScenarioError):
    """A user's observed-figures file is wrong. ``str()`` is the one line to show them."""


def partial_sd(sd_year: float, months: int) -> float:
    """The sd of a reading of ``months`` months from January of a figure whose full-year sd is
    ``sd_year``: sd_year / sqrt(months / 12) (see the module docstring)."""
    return sd_year / math.sqrt(months / 12)


@dataclass(frozen=True)
class Figure:
    """One observed figure.

    ``kind`` is ``"series"`` (``id`` a series, ``year`` its year, ``value`` in its unit),
    ``"value"`` (the value target ``id`` tests), ``"met"`` (``value`` 1.0 met, 0.0 missed),
    ``"done"`` (``value`` the event's decimal year) or ``"not_done"`` (``value`` the decimal year
    by whose end it had not happened). ``sd`` is None for ``met`` and ``not_done`` (exact).
    """

    key: str  # as in error messages: "gdp_growth.2018", "targets.<id>"
    kind: str
    id: str
    value: float
    sd: float | None
    year: int | None = None
    period: str = "year"
    source: str = ""
    published: dt.date | None = None
    line: int | None = None

    @property
    def fraction(self) -> float:
        """Share of the year the figure covers (1 for a full year and for targets)."""
        return PERIOD_MONTHS[self.period] / 12


@dataclass(frozen=True)
class Observed:
    """The figures of one observed file, in file order, with the file's path and SHA-256."""

    path: str
    sha256: str
    figures: tuple[Figure, ...]

    def __len__(self) -> int:
        return len(self.figures)


def as_observed(observed: Observed | str | Path | None) -> Observed | None:
    """An :class:`Observed` from itself, a path (loaded) or None."""
    if observed is None or isinstance(observed, Observed):
        return observed
    return load_observed(observed)


@cache
def _defaults() -> dict[str, Any]:
    with open(DEFAULTS_FILE, "rb") as fh:
        return tomllib.load(fh)


class _Reader:
    """The checks of one file; every error names the file, the key and its line."""

    def __init__(self, path: Path, text: str, today: dt.date):
        self.path, self.text, self.today = path, text, today

    def fail(self, key: str, message: str, line_key: str | None = None) -> ObservedError:
        return ObservedError(self.path, key, message, find_line(self.text, line_key or key))

    def number(self, key: str, value: Any, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(key, f"expected {what}, {found(value, 'number')}")
        return float(value)

    def date(self, key: str, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if not isinstance(value, dt.date):
            raise self.fail(key, f"expected a date such as 2018-09-06 (no quotes), {found(value)}")
        if value > self.today:
            raise self.fail(key, f"{value.isoformat()} is in the future (today is {self.today.isoformat()}); "
                            "an observed figure must already be published: check the date")
        return value

    def text_value(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected text in quotes (who published it, and where), {found(value)}")
        return value

    def sd(self, key: str, value: Any, unit: str) -> float:
        sd = self.number(key, value, f"a standard deviation in {unit}")
        if sd <= 0:
            raise self.fail(key, f"must be positive, found {value!r}; give the figure's uncertainty in {unit} "
                            "(leave sd out for the default)")
        return sd

    def entry(self, key: str, raw: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        """A figure as a table (a bare number is its value), with only ``allowed`` keys."""
        entry = raw if isinstance(raw, dict) else {"value": raw}
        for name in entry:
            if name not in allowed:
                raise self.fail(f"{key}.{name}", f"unknown key (allowed: {', '.join(allowed)}){suggest(name, allowed)}",
                                key)
        return entry

    def published(self, key: str, entry: dict[str, Any], after: dt.date, what: str) -> dt.date | None:
        """``published`` (checked to fall after ``after``, the last day of ``what``), or None;
        without it, ``what`` must have ended by today."""
        if "published" not in entry:
            if after >= self.today:
                raise self.fail(key, f"{what} ends on {after.isoformat()}, which has not passed yet; "
                                "only figures already published can be observed")
            return None
        published = self.date(f"{key}.published", entry["published"])
        if published <= after:
            raise self.fail(f"{key}.published", f"{published.isoformat()} is not after the end of {what} "
                            f"({after.isoformat()}); a figure is published after its period: check the date "
                            "or the period", key)
        return published

    # -- series ------------------------------------------------------------------------------------
    def series(self, series_id: str, table: Any) -> list[Figure]:
        spec = load_series()[series_id]
        if not isinstance(table, dict):
            raise self.fail(series_id, f"expected a table [{series_id}] of years, {found(table)}")
        if not spec.modelled:
            raise self.fail(series_id, f"is not modelled yet ({spec.missing}); the forecast cannot be conditioned "
                            "on it: leave it out (keep it as a comment)")
        figures = []
        for year_key, raw in table.items():
            key = f"{series_id}.{year_key}"
            if not is_year(year_key):
                raise self.fail(key, f"expected a year {YEARS[0]}-{YEARS[-1]} as the key, found {year_key!r}")
            year = int(year_key)
            if year not in YEARS:
                raise self.fail(key, f"year {year} is outside the model's years {YEARS[0]}-{YEARS[-1]}")
            first = max(spec.first_year, YEARS[0] + (spec.compute not in ("level", "share")))
            if year < first:
                raise self.fail(key, f"the model gives {series_id} from {first} on (it needs the year before, or "
                                "is not published earlier); observe a later year")
            entry = self.entry(key, raw, SERIES_KEYS)
            if "value" not in entry:
                raise self.fail(key, f"missing value (in {spec.unit})")
            value = self.number(f"{key}.value", entry["value"], f"a number in {spec.unit}")
            low, high = spec.range
            if not low <= value <= high:
                raise self.fail(f"{key}.value", f"{value:g} is outside the physical range of {series_id} "
                                f"[{low:g}, {high:g}] {spec.unit}; check the figure and its unit", key)
            period = entry.get("period", "year")
            if period not in PERIOD_MONTHS:
                hint = (f"; {period} alone is not cumulative from January: give {NOT_CUMULATIVE[period]}"
                        if period in NOT_CUMULATIVE else suggest(str(period), PERIOD_MONTHS))
                raise self.fail(f"{key}.period", f"expected one of {', '.join(PERIOD_MONTHS)}, {found(period)}{hint}",
                                key)
            months = PERIOD_MONTHS[period]
            sd = (self.sd(f"{key}.sd", entry["sd"], spec.unit) if "sd" in entry
                  else partial_sd(spec.sd, months))
            end = dt.date(year, months, calendar.monthrange(year, months)[1])
            what = f"{series_id} {year}" + ("" if period == "year" else f" {period}")
            published = self.published(key, entry, end, what)
            source = self.text_value(f"{key}.source", entry["source"]) if "source" in entry else ""
            figures.append(Figure(key, "series", series_id, value, sd, year, period, source, published,
                                  find_line(self.text, key)))
        return figures

    # -- targets -----------------------------------------------------------------------------------
    def targets(self, table: Any) -> list[Figure]:
        if not isinstance(table, dict):
            raise self.fail("targets", f"expected a table [targets] of target ids, {found(table)}")
        registry = {t.id: t for t in load_registry()}
        return [self.target(target_id, raw, registry) for target_id, raw in _flatten(table)]

    def target(self, target_id: str, raw: Any, registry: dict[str, Target]) -> Figure:
        key = f"targets.{target_id}"
        if target_id not in registry:
            raise self.fail(key, f"unknown target id{suggest(target_id, registry)} (`python -m model targets` "
                            "lists them)")
        target = registry[target_id]
        if not target.modelled:
            raise self.fail(key, "is not modelled yet, so the forecast cannot be conditioned on it; leave it out")
        if not isinstance(raw, dict):
            raise self.fail(key, f"expected {{ met = true }}, {{ value = ... }} or {{ done = <date> }}, {found(raw)}")
        entry = self.entry(key, raw, TARGET_KEYS)
        kinds = [k for k in ("met", "value", "done") if k in entry]
        if len(kinds) != 1:
            raise self.fail(key, "give exactly one of met = true/false, value = <number> or done = <date>")
        kind = kinds[0]
        if "on" in entry and not (kind == "done" and entry["done"] is False):
            raise self.fail(f"{key}.on", "`on` goes with done = false only (not done by that date)", key)
        if "sd" in entry and (kind == "met" or (kind == "done" and entry["done"] is False)):
            raise self.fail(f"{key}.sd", "an outcome (met, not done) is exact: remove sd", key)
        source = self.text_value(f"{key}.source", entry["source"]) if "source" in entry else ""
        line = find_line(self.text, key)
        if kind == "met":
            return self._met(key, target, entry, source, line)
        if kind == "value":
            return self._value(key, target, entry, source, line)
        return self._done(key, target, entry, source, line)

    def _met(self, key: str, target: Target, entry: dict[str, Any], source: str, line: int | None) -> Figure:
        met = entry["met"]
        if not isinstance(met, bool):
            raise self.fail(f"{key}.met", f"expected true or false, {found(met, 'bool')}", key)
        # a milestone met is known once it happened; anything else only after the deadline
        after = target.deadline - dt.timedelta(days=1) if (met and target.is_milestone) else target.deadline
        published = self.published(key, entry, after, f"the deadline of {target.id}")
        return Figure(key, "met", target.id, float(met), None, source=source, published=published, line=line)

    def _value(self, key: str, target: Target, entry: dict[str, Any], source: str, line: int | None) -> Figure:
        if target.is_milestone:
            raise self.fail(f"{key}.value", "is a milestone: give done = <date> or met = true/false", key)
        unit = _defaults()["target_units"][target.unit]
        value = self.number(f"{key}.value", entry["value"], f"a number in {target.unit}")
        low, high = unit["range"]
        if not low <= value <= high:
            raise self.fail(f"{key}.value", f"{value:g} is outside the physical range [{low:g}, {high:g}] "
                            f"{target.unit}; check the figure and its unit", key)
        sd = self.sd(f"{key}.sd", entry["sd"], target.unit) if "sd" in entry else _target_sd(target)
        published = self.published(key, entry, target.deadline, f"the deadline of {target.id}")
        return Figure(key, "value", target.id, value, sd, source=source, published=published, line=line)

    def _done(self, key: str, target: Target, entry: dict[str, Any], source: str, line: int | None) -> Figure:
        if not target.is_milestone:
            raise self.fail(f"{key}.done", f"is not a milestone (unit {target.unit}): give value or met", key)
        done = entry["done"]
        if done is False:
            if "on" not in entry:
                raise self.fail(key, "done = false needs on = <date>: the day by whose end it had not happened")
            on = self.date(f"{key}.on", entry["on"])
            published = self.published(key, entry, on - dt.timedelta(days=1), f"the day {on.isoformat()}")
            return Figure(key, "not_done", target.id, decimal_year(on), None, source=source, published=published,
                          line=line)
        if done is True:
            raise self.fail(f"{key}.done", "give the date it was done (done = 2017-06-28), or met = true", key)
        day = self.date(f"{key}.done", done)
        sd_days = float(self.number(f"{key}.sd", entry["sd"], "days")) if "sd" in entry else _defaults()["dates"][
            "sd_days"]
        if sd_days <= 0:
            raise self.fail(f"{key}.sd", f"must be positive, found {entry['sd']!r}; give the date's uncertainty "
                            "in days", key)
        published = self.published(key, entry, day - dt.timedelta(days=1), f"the day {day.isoformat()}")
        return Figure(key, "done", target.id, decimal_year(day), sd_days / 365.0, source=source, published=published,
                      line=line)


def _flatten(table: dict[str, Any], prefix: str = ""):
    """(target id, entry) of a ``[targets]`` table, whether ids are quoted or written dotted."""
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and not any(k in TARGET_KEYS for k in value):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def _target_sd(target: Target) -> float:
    """The default sd of an observed target value: the sd of the `level` series of the same
    indicator and unit where there is one, else the sd of the target's unit."""
    for spec in load_series().values():
        if spec.indicator == target.indicator and spec.compute == "level" and spec.unit == target.unit:
            return spec.sd
    return float(_defaults()["target_units"][target.unit]["sd"])


def load_observed(path: str | Path, today: dt.date | None = None) -> Observed:
    """Read and check an observed-figures file (format: the module docstring).

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file.
    today : date, optional
        The date against which "in the future" is judged (default: today).

    Raises
    ------
    ObservedError
        For any problem, naming the file, the key, the line and the fix.
    """
    path = Path(path)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        raise ObservedError(path, None, "is a loop of symbolic links or cannot be resolved; point it at a real file"
                            ) from None
    if not (path.name.lower().endswith(".toml") and resolved.name.lower().endswith(".toml")):
        raise ObservedError(path, None, "is not an observed-figures file; they are TOML files ending in .toml "
                            "(a symbolic link must point at one)")
    doc, text = read_toml(path)
    reader = _Reader(path, text, today or dt.date.today())
    series = load_series()
    figures: list[Figure] = []
    for name, table in doc.items():
        if name == "targets":
            figures += reader.targets(table)
        elif name in series:
            figures += reader.series(name, table)
        else:
            raise reader.fail(name, f"unknown series{suggest(name, [*series, 'targets'])} (`python -m model series` "
                              "lists them; [targets] holds targets)")
    if not figures:
        raise ObservedError(path, None, "holds no figures; give at least one [<series id>] table or [targets]")
    return Observed(str(path), sha256(path), tuple(figures))
