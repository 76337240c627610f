"""The model's time axis.

Yearly indicators are arrays of shape ``(n, len(YEARS))`` holding the value at the end of each
year; 2016 is the base year of the plans.

Decimal years. Event times (milestones, disposals), deadlines and date levers are decimal years,
an instant on a continuous axis: ``2017.0`` is the instant 2017-01-01 00:00. A *day* given as a
date means the END of that day: :func:`decimal_year` is the one conversion from a date (the
end of day ``d`` is ``d.year + day_of_year(d) / days_in_year(d.year)``, so the end of
2018-12-31 is exactly 2019.0), and :func:`to_date` its inverse (the day by whose end ``t`` has
passed). "Done by 2017-06-30" therefore reads ``t <= decimal_year(2017-06-30)``. Durations in
days are :data:`DAY` = ``1 / 365`` of a year (the plans' years 2017-2019 have 365 days).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

BASE_YEAR = 2016
LAST_YEAR = 2020
YEARS: tuple[int, ...] = tuple(range(BASE_YEAR, LAST_YEAR + 1))
#: A day as a duration [yr]: 1 / 365 (2017, 2018 and 2019 have 365 days).
DAY = 1.0 / 365.0


def year_index(year: int) -> int:
    """Column of ``year`` in a yearly indicator array."""
    if year not in YEARS:
        raise ValueError(f"year {year} is outside the model horizon {BASE_YEAR}-{LAST_YEAR}")
    return year - BASE_YEAR


def decimal_year(day: dt.date) -> float:
    """End of ``day`` as a decimal year (end of 2017-06-30 -> 2017.496)."""
    days = 366 if calendar.isleap(day.year) else 365
    return day.year + day.timetuple().tm_yday / days


def to_date(t: float) -> dt.date:
    """The day whose end is at or after decimal year ``t`` (inverse of :func:`decimal_year`)."""
    year = int(t // 1)
    days = 366 if calendar.isleap(year) else 365
    frac = t - year
    if frac <= 1e-12:
        return dt.date(year - 1, 12, 31)
    day_of_year = min(days, math.ceil(frac * days - 1e-9))  # tolerate float error at day ends
    return dt.date(year, 1, 1) + dt.timedelta(days=day_of_year - 1)
