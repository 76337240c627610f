"""The target registry (``model/data/targets.toml``) and the evaluation of targets.

A target is data: an id from ``reference/targets.md``, names, a deadline, a test (comparator
and threshold) on one indicator. Targets without an ``indicator`` are not modelled yet and get
no probability.
"""

from __future__ import annotations

import datetime as dt
import operator
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .timeline import decimal_year, year_index

REGISTRY = Path(__file__).parent / "data" / "targets.toml"

COMPARATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """One scored target of the plans.

    ``threshold`` is a number in ``unit`` or, for milestones (``unit == "date"``), a date.
    """

    id: str
    plan: str
    name_zh: str
    name_en: str
    deadline: dt.date
    comparator: str
    threshold: float | dt.date
    unit: str
    reading: bool
    responsible: tuple[str, ...]
    section: str
    indicator: str | None = None
    note_en: str = ""

    @property
    def modelled(self) -> bool:
        return self.indicator is not None

    @property
    def is_milestone(self) -> bool:
        return self.unit == "date"

    @property
    def is_district(self) -> bool:
        return ".district." in self.id

    def test(self, threshold: float | dt.date | None = None) -> str:
        """The test as text, e.g. ``>= 70 %`` or ``<= 2017-06-30``."""
        value = self.threshold if threshold is None else threshold
        if isinstance(value, dt.date):
            return f"{self.comparator} {value.isoformat()}"
        return f"{self.comparator} {value:g} {self.unit}"


@cache
def load_registry(path: Path = REGISTRY) -> tuple[Target, ...]:
    """All targets of the registry, in file order."""
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    targets = []
    for entry in doc["targets"]:
        targets.append(
            Target(
                id=entry["id"],
                plan=entry["plan"],
                name_zh=entry["name_zh"],
                name_en=entry["name_en"],
                deadline=entry["deadline"],
                comparator=entry["comparator"],
                threshold=entry["threshold"],
                unit=entry["unit"],
                reading=bool(entry.get("reading", False)),
                responsible=tuple(entry.get("responsible", ())),
                section=entry.get("section", ""),
                indicator=entry.get("indicator"),
                note_en=entry.get("note_en", ""),
            )
        )
    return tuple(targets)


def deadline_value(target: Target, kind: str, values: np.ndarray) -> np.ndarray:
    """The indicator's value that the target tests, per replication.

    Yearly indicators are read at the end of the deadline's year, event times are compared as
    decimal years, scalar indicators are already the value at the deadline.
    """
    if kind == "yearly":
        return values[:, year_index(target.deadline.year)]
    return values


def is_met(target: Target, value: np.ndarray, threshold: float | dt.date | None = None) -> np.ndarray:
    """Boolean array: does each replication pass the target's test? NaN never passes."""
    limit = target.threshold if threshold is None else threshold
    if isinstance(limit, dt.date):
        limit = decimal_year(limit)
    with np.errstate(invalid="ignore"):
        met = COMPARATORS[target.comparator](value, limit)
    return np.asarray(met & ~np.isnan(value), dtype=bool)
