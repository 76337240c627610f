"""The calibration table as text: the terminal (80 columns at most), docs/calibration.md, and
the numbers of the brief's two sentences (:func:`summary`)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .calibration import LEVELS, QUANTILE_COLUMNS, YEARS_SHOWN
from .printable import printable
from .tables import display_width

__all__ = ["WIDTH", "console_text", "markdown", "summary", "verdict"]

WIDTH = 80  # the terminal lines are at most this wide
#: How a row's status is shown.
VERDICT = {"covers": "covers", "excludes": "EXCLUDES", "no reference": "no reference", "not modelled": "not modelled"}
#: The command that writes docs/calibration.md (the plan scenario at the defaults).
REGENERATE = "python -m model calibration --markdown docs/calibration.md"


def verdict(status: str) -> str:
    """The status as printed (an excluded range in capitals)."""
    return VERDICT.get(status, status)


def _decimals(values) -> int:
    finite = [abs(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return 2 if finite and max(finite) < 10 else 1


def _num(v: Any, decimals: int) -> str:
    return "" if v is None or pd.isna(v) else f"{v:.{decimals}f}"


def _reference_range(row: pd.Series, decimals: int) -> str:
    if pd.isna(row["reference_low"]):
        return "none"
    low, high = _num(row["reference_low"], decimals), _num(row["reference_high"], decimals)
    return low if low == high else f"{low} to {high}"


def _pieces(text: str, room: int) -> list[str]:
    """Words of ``text``; a word wider than ``room`` (Chinese runs without spaces) cut into parts."""
    out = []
    for word in text.split():
        while display_width(word) > room:
            cut = 0
            while display_width(word[: cut + 1]) <= room:
                cut += 1
            out.append(word[:cut])
            word = word[cut:]
        out.append(word)
    return out


def _wrap(text: str, first: str, rest: str) -> list[str]:
    """``text`` in lines of at most :data:`WIDTH` display columns (CJK characters count two)."""
    lines, line = [], first
    for word in _pieces(printable(text), WIDTH - len(rest)):
        joined = line + word if line in (first, rest) else f"{line} {word}"
        if display_width(joined) <= WIDTH:
            line = joined
        else:
            lines.append(line)
            line = rest + word
    return [*lines, line]


def _name_lines(row: pd.Series) -> list[str]:
    one = f"{row['name_zh']} / {row['name_en']} [{row['unit']}]"
    if display_width(one) <= WIDTH:
        return [one]
    return [f"{row['name_zh']} [{row['unit']}]", *_wrap(row["name_en"], "  ", "  ")]


def _city_text(row: pd.Series) -> str:
    if row["city_missing"]:
        return f"none: {row['city_missing']}"
    value = "" if pd.isna(row["city_value"]) else f"{row['city_value']:g}, "
    return f"{value}{row['city_year']}: {row['city_what']} ({row['city_source']}, {row['city_published']})"


def console_text(table: pd.DataFrame, replications: int, seed: int) -> str:
    """Per scenario, per series: the quantiles of 2017 and 2018 beside the reference range, then
    the reference classes and city records (shared by the scenarios). Lines <= :data:`WIDTH`."""
    header = f"  year{''.join(f'{round(100 * q)}%'.rjust(7) for q in LEVELS)}  {'reference'.ljust(14)} verdict"
    lines: list[str] = []
    for scenario, rows in table.groupby("scenario", sort=False):
        lines += ["", f"== {printable(str(scenario))}: published series against the outside view",
                  f"   {replications} replications, seed {seed}: the model's quantiles beside the",
                  "   reference class's central range, known by July 2017",
                  "   (EXCLUDES: the model's 5-95 % range does not overlap it)", header]
        for _, series in rows.groupby("series_id", sort=False):
            first = series.iloc[0]
            lines += _name_lines(first)
            decimals = _decimals(list(series[list(QUANTILE_COLUMNS)].to_numpy().ravel()) +
                                 [first["reference_low"], first["reference_high"]])
            for _, row in series.iterrows():
                cells = "".join(_num(row[c], decimals).rjust(7) for c in QUANTILE_COLUMNS)
                lines.append(f"  {row['year']}{cells}  {_reference_range(row, decimals).ljust(14)} "
                             f"{verdict(row['status'])}".rstrip())
            reason = series[series["status"] == "excludes"]
            if len(reason):
                text = reason.iloc[0]["reason_en"] or "no written reason yet (add calibration_note in series.toml)"
                lines += _wrap(f"reason: {text}", "    ", "      ")
    lines += ["", "== The outside view, known by July 2017 (model/data/reference_class.toml)"]
    first = table[(table["scenario"] == table["scenario"].iloc[0]) & (table["year"] == YEARS_SHOWN[0])]
    for _, row in first.iterrows():
        lines.append(f"{row['series_id']}")
        ref = row["reference_what"] + (f" ({row['reference_published']})" if row["reference_published"] else "")
        lines += _wrap(f"reference: {ref if not row['reference_missing'] else 'none: ' + row['reference_missing']}",
                       "  ", "    ")
        lines += _wrap(f"city: {_city_text(row)}", "  ", "    ")
    return "\n".join(lines)


def summary(table: pd.DataFrame, scenario: str | None = None) -> dict[str, Any]:
    """The 2017 comparison of one scenario (default the first) in numbers.

    Returns
    -------
    dict
        ``compared`` (series with a model range and a reference range), ``covered`` (of those,
        overlapping), ``no_reference``, ``not_modelled`` (counts) and ``excluded``: a list of
        ``{"zh", "en", "reason_zh", "reason_en"}`` per series whose 2017 range excludes the
        reference class.
    """
    scenario = table["scenario"].iloc[0] if scenario is None else scenario
    rows = table[(table["scenario"] == scenario) & (table["year"] == YEARS_SHOWN[0])]
    status = rows["status"]
    excluded = [{"zh": r["name_zh"], "en": r["name_en"], "reason_zh": r["reason_zh"], "reason_en": r["reason_en"]}
                for _, r in rows[status == "excludes"].iterrows()]
    return {
        "compared": int(status.isin(["covers", "excludes"]).sum()), "covered": int((status == "covers").sum()),
        "no_reference": int((status == "no reference").sum()), "not_modelled": int((status == "not modelled").sum()),
        "excluded": excluded,
    }


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(table: pd.DataFrame, replications: int, seed: int) -> str:
    """docs/calibration.md: every scenario's table, then the outside view of each series.

    Deterministic for a given table (no dates, no commit), so a test can compare the committed
    file with what the generator writes.
    """
    names = list(dict.fromkeys(table["scenario"]))
    s = summary(table)
    out = [
        "# Calibration: the model's published series against the outside view", "",
        f"<!-- generated by `{REGENERATE}`; do not edit by hand -->", "",
        f"Scenario{'s' if len(names) > 1 else ''} {', '.join(f'`{n}`' for n in names)}, {replications} replications, "
        f"seed {seed}. For each series the city publishes (`model/data/series.toml`) the model's 5/25/50/75/95 % "
        "quantiles for 2017 and 2018 stand beside the reference class's central range and the city's own record, "
        "all known by July 2017 (`model/data/reference_class.toml`, each figure with its source and publication "
        "date). **EXCLUDES** marks a year whose 5-95 % range does not overlap the central range; every such series "
        "has a written reason (`calibration_note` in `series.toml`, naming the defaults responsible).", "",
        f"In `{names[0]}`, the 2017 range covers the reference class of {s['covered']} of the {s['compared']} series "
        f"that have one; {s['no_reference']} modelled series have no reference class and {s['not_modelled']} are not "
        "modelled yet.", "",
        f"Regenerate this page with `{REGENERATE}` (the plan scenario at the default replications and seed); "
        "`tests/test_calibration.py` fails when it is stale. `python -m model calibration SCENARIO ...` writes "
        "`calibration.csv` with the same table for any scenarios.", "",
    ]
    for scenario in names:
        out += [f"## {scenario}", "",
                "| series | year | 5 % | 25 % | 50 % | 75 % | 95 % | reference | verdict |",
                "|---|---|--:|--:|--:|--:|--:|---|---|"]
        rows = table[table["scenario"] == scenario]
        for _, series in rows.groupby("series_id", sort=False):
            first = series.iloc[0]
            decimals = _decimals(list(series[list(QUANTILE_COLUMNS)].to_numpy().ravel()) +
                                 [first["reference_low"], first["reference_high"]])
            for _, row in series.iterrows():
                name = f"{_md(row['name_zh'])}<br>{_md(row['name_en'])} [{_md(row['unit'])}]"
                cells = " | ".join(_num(row[c], decimals) for c in QUANTILE_COLUMNS)
                out.append(f"| {name} | {row['year']} | {cells} | {_reference_range(row, decimals)} | "
                           f"{'**EXCLUDES**' if row['status'] == 'excludes' else verdict(row['status'])} |")
        out.append("")
    out += ["## The outside view of each series", ""]
    first = table[(table["scenario"] == names[0]) & (table["year"] == YEARS_SHOWN[0])]
    for _, row in first.iterrows():
        out += [f"### {_md(row['name_zh'])} / {_md(row['name_en'])} (`{row['series_id']}`)", ""]
        if row["reference_missing"]:
            out.append(f"- **Reference class**: none. {_md(row['reference_missing'])}")
        else:
            out.append(f"- **Reference class**: {_md(row['reference_what'])}.")
            out += [f"  - {_md(f)}" for f in row["reference_figures"].split(" | ")]
        out.append(f"- **City record**: {_md(_city_text(row))}")
        if row["status"] == "excludes":
            out.append(f"- **Why the model differs**: {_md(row['reason_en'] or 'no written reason yet')}")
            if row["reason_defaults"]:
                out += [f"  - `{_md(d.split(': ', 1)[0])}`: {_md(d.split(': ', 1)[1])}"
                        for d in row["reason_defaults"].split(" | ")]
            out.append(f"- **模型为何不同**: {_md(row['reason_zh'])}")
        out.append("")
    return "\n".join(out)
