"""The numeric tables of a run, and their one formatting for files.

:func:`summary_table` and :func:`trajectory_table` build the tables every consumer reads; they
are numeric throughout: likelihoods and their Wilson intervals unrounded, quantiles of milestone
targets as decimal years (:mod:`model.timeline`), a milestone that is never reached as a missing
value with ``True`` in its ``<column>_never`` flag. Formatting (intervals rounded outwards to 4
decimals, milestones as ISO dates or ``never``) happens once, in the ``*_csv`` functions, when a
CSV file or a workbook is written.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .params import indicator_spec
from .printable import cell_text
from .readable import VALUE_DECIMALS, csv_rounded, display_width, is_fraction_column
from .stats import round_outward, share_interval
from .targets import Target, load_registry
from .timeline import YEARS, to_date

__all__ = [
    "GREEN", "AMBER", "QUANTILES", "display_width", "milestone_text", "summary_csv", "summary_table", "traffic_light",
    "trajectory_table", "rounded_csv", "interval_csv", "wide_table", "flat_columns", "write_csv",
]

GREEN, AMBER = 0.80, 0.50
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
DECIMALS = 4  # of the fractions written to a file (other values: model.readable.VALUE_DECIMALS)
#: The companion column of every CSV file that holds likelihoods: they are fractions (0.25 = 25 %).
SCALE_COLUMN, SCALE = "probability_scale", "fraction"
SUMMARY_QUANTILES = ("p10", "median", "p90")


def traffic_light(p: float) -> str:
    """Status for a likelihood ``p``: green >= 0.80, amber >= 0.50, red below; NaN: not modelled."""
    if np.isnan(p):
        return "not modelled"
    return "green" if p >= GREEN else "amber" if p >= AMBER else "red"


def quantiles(values: np.ndarray, qs, weights: np.ndarray | None = None) -> np.ndarray:
    """Quantiles over replications (axis 0), ignoring NaN; no interpolation, so +inf is kept.

    With ``weights`` (a conditioned run's, :mod:`model.conditioning`) the weighted ``inverted_cdf``
    quantile: the smallest value whose cumulative weight (over the replications where it is not
    NaN, renormalised) reaches ``q``; equal weights give the unweighted figure.
    """
    if weights is not None:
        return _weighted_quantiles(np.asarray(values, float), qs, np.asarray(weights, float))
    if np.isnan(values).all():
        return np.full((len(qs),) + values.shape[1:], np.nan)
    with warnings.catch_warnings():  # a year with no defined value (all NaN) gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, qs, axis=0, method="inverted_cdf")


def _weighted_quantiles(values: np.ndarray, qs, weights: np.ndarray) -> np.ndarray:
    flat = values.reshape(len(values), -1)
    out = np.full((len(qs), flat.shape[1]), np.nan)
    for j in range(flat.shape[1]):
        column = flat[:, j]
        keep = ~np.isnan(column) & (weights > 0)
        if not keep.any():
            continue
        order = np.argsort(column[keep], kind="stable")
        sorted_values, cum = column[keep][order], np.cumsum(weights[keep][order])
        cum /= cum[-1]
        at = np.searchsorted(cum, np.asarray(qs, float) * (1 - 1e-12), side="left")
        out[:, j] = sorted_values[np.minimum(at, len(cum) - 1)]
    return out.reshape((len(qs),) + values.shape[1:])


def column_quantiles(source, key: str, qs, weights: np.ndarray | None = None) -> np.ndarray:
    """:func:`quantiles` of ``source[key]``: ``source`` maps keys to per-replication arrays, or
    is a streamed run's summary (:class:`model.sketch.SketchView`) answering the same question."""
    if isinstance(source, Mapping):
        return quantiles(np.asarray(source[key], float), qs, weights)
    return source.quantiles(key, qs)


def column_mean(source, key: str, weights: np.ndarray | None = None):
    """Mean of the finite values of ``source[key]`` over replications (NaN where none is finite),
    weighted by ``weights`` when given."""
    if not isinstance(source, Mapping):
        return source.mean(key)
    arr = np.asarray(source[key], float)
    finite = np.isfinite(arr)
    kept = np.where(finite, arr, 0.0)
    if weights is None:
        count, total = finite.sum(axis=0), kept.sum(axis=0)
    else:
        w = np.asarray(weights, float).reshape((len(arr),) + (1,) * (arr.ndim - 1))
        count, total = (finite * w).sum(axis=0), (kept * w).sum(axis=0)
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)


def _target_row(t: Target, thresholds: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "target_id": t.id, "plan": t.plan, "name_zh": t.name_zh, "name_en": t.name_en,
        "deadline": t.deadline.isoformat(), "test": t.test(thresholds.get(t.id)), "unit": t.unit,
        "probability": np.nan, "probability_low": np.nan, "probability_high": np.nan,
        "median": np.nan, "p10": np.nan, "p90": np.nan,
        "median_never": False, "p10_never": False, "p90_never": False,
        "status": "not modelled", "responsible": "、".join(t.responsible),
    }
    return row


def summary_table(values: Mapping[str, np.ndarray], met: Mapping[str, np.ndarray],
                  thresholds: Mapping[str, Any] | None = None, weights: np.ndarray | None = None) -> pd.DataFrame:
    """One row per registry target: likelihood, Wilson 95 % interval, 10/50/90 % quantiles.

    Parameters
    ----------
    values, met : mapping
        Target id -> value at the deadline / met, shape (replications,), for modelled targets;
        ``values`` may be a streamed run's summary instead (:func:`column_quantiles`).
    thresholds : mapping, optional
        Target id -> threshold a scenario set (a reading), shown in ``test``.
    weights : ndarray, optional
        A conditioned run's replication weights (summing to 1): the likelihood is the weighted
        share met, its Wilson interval counts the effective sample size ``1 / sum(w**2)``
        (:mod:`model.conditioning`), and the quantiles are weighted.

    Returns
    -------
    DataFrame
        ``target_id, plan, name_zh, name_en, deadline, test, unit, probability,
        probability_low, probability_high, median, p10, p90, median_never, p10_never,
        p90_never, status, responsible``; quantiles [unit; decimal years for milestones], NaN
        with the ``*_never`` flag set where a milestone is never reached.
    """
    thresholds = thresholds or {}
    rows = []
    for t in load_registry():
        row = _target_row(t, thresholds)
        if t.modelled and t.id in met:
            p, low, high = share_interval(met[t.id], weights)
            q10, q50, q90 = column_quantiles(values, t.id, (0.1, 0.5, 0.9), weights)
            row.update(probability=p, probability_low=low, probability_high=high, status=traffic_light(p))
            for col, q in zip(SUMMARY_QUANTILES, (q10, q50, q90)):
                never = bool(t.is_milestone and q == np.inf)
                row[col] = float(q) if np.isfinite(q) or not t.is_milestone else np.nan
                row[f"{col}_never"] = never
        rows.append(row)
    return pd.DataFrame(rows)


def trajectory_table(indicators: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> pd.DataFrame:
    """Mean and 10/25/50/75/90 % quantiles of every yearly indicator per year (tidy, unrounded).

    ``indicators`` maps keys to ``(replications, years)`` arrays, or is a streamed run's summary
    (:func:`column_quantiles`)."""
    rows = []
    for key in indicators:
        spec = indicator_spec(key)
        if spec.kind != "yearly":
            continue
        qs = column_quantiles(indicators, key, QUANTILES, weights)
        means = column_mean(indicators, key, weights)
        for j, year in enumerate(YEARS):
            rows.append({
                "indicator": key, "year": year, "unit": spec.unit, "mean": float(means[j]),
                **{f"p{int(q * 100)}": float(qs[i, j]) for i, q in enumerate(QUANTILES)},
                "name_zh": spec.zh, "name_en": spec.en,
            })
    return pd.DataFrame(rows)


# -- formatting for files and screens (numbers for people: model.readable) ------------------------
def milestone_text(t: float, never: bool = False) -> str:
    """A decimal year as the ISO date of the day it ends in; ``never``; '' when missing."""
    if never:
        return "never"
    if t is None or not np.isfinite(t):
        return ""
    return to_date(float(t)).isoformat()


def _number(x: float) -> Any:
    return None if pd.isna(x) else round(float(x), VALUE_DECIMALS) + 0.0


def interval_csv(frame: pd.DataFrame, prefixes=("probability",)) -> pd.DataFrame:
    """``frame`` with each ``<prefix>_low, <prefix>_high`` interval rounded outwards."""
    out = frame.copy()
    for prefix in prefixes:
        low, high = f"{prefix}_low", f"{prefix}_high"
        if low in out.columns:
            out[low], out[high] = round_outward(out[low], out[high], DECIMALS)
    return out


def summary_csv(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary.csv``: intervals rounded outwards, quantiles to 4 decimals, milestones as
    ISO dates or ``never``; the ``*_never`` flags folded into the text."""
    out = interval_csv(summary)
    milestone = summary["unit"] == "date"
    for col in SUMMARY_QUANTILES:
        out[col] = [
            (milestone_text(v, never) or None) if is_date else _number(v)
            for v, never, is_date in zip(summary[col], summary[f"{col}_never"], milestone)
        ]
    return out.drop(columns=[f"{c}_never" for c in SUMMARY_QUANTILES])


def rounded_csv(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``frame`` with ``columns`` rounded to 4 decimals."""
    out = frame.copy()
    for col in columns:
        out[col] = out[col].astype(float).round(DECIMALS)
    return out


#: Per scenario, the columns of the wide comparison view (the change columns for every scenario
#: but the reference).
SCENARIO_FIELDS = ("probability", "probability_low", "probability_high", "median")
CHANGE_FIELDS = ("change", "change_low", "change_high")
REGISTRY_FIELDS = ("target_id", "name_zh", "name_en", "deadline", "test", "unit")


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per target, one group of columns per scenario: the view planners read.

    Columns are a two-level index (scenario, field): ``("", target_id)`` ... ``("", unit)``
    from the registry (``test`` is the registry's, followed by ``(NAME: test)`` for each
    scenario that changed the threshold), then per scenario ``probability``,
    ``probability_low``, ``probability_high``, ``median``, then per scenario after the
    reference ``change``, ``change_low``, ``change_high``. :func:`flat_columns` names them
    ``NAME: field`` for a CSV file.
    """
    names = list(dict.fromkeys(table["scenario"]))
    by = {n: table[table["scenario"] == n].set_index("target_id") for n in names}
    registry = {t.id: t for t in load_registry()}
    ref = by[names[0]]
    base = pd.DataFrame(
        {
            "target_id": ref.index,
            "name_zh": ref["name_zh"].to_numpy(),
            "name_en": ref["name_en"].to_numpy(),
            "deadline": ref["deadline"].to_numpy(),
            "test": [registry[i].test() for i in ref.index],
            "unit": ref["unit"].to_numpy(),
        }
    )
    for i, target_id in enumerate(ref.index):
        others = [
            f"{n}: {by[n].at[target_id, 'test']}" for n in names if by[n].at[target_id, "test"] != base.at[i, "test"]
        ]
        if others:
            base.at[i, "test"] += f" ({'; '.join(others)})"
    columns = {("", c): base[c].to_numpy() for c in REGISTRY_FIELDS}
    for n in names:
        columns.update({(n, c): by[n][c].to_numpy() for c in SCENARIO_FIELDS})
    for n in names[1:]:
        columns.update({(n, c): by[n][c].to_numpy() for c in CHANGE_FIELDS})
    wide = pd.DataFrame(columns)
    wide.columns = pd.MultiIndex.from_tuples(wide.columns)
    # medians for reading (milestones as dates, 4 decimals): the one place the wide view is formatted
    milestone = base["unit"].to_numpy() == "date"
    for n in names:
        never = by[n]["median_never"].to_numpy()
        wide[(n, "median")] = [
            (milestone_text(v, nv) or np.nan) if m else _number(v)
            for v, nv, m in zip(wide[(n, "median")], never, milestone)
        ]
    return wide


def flat_columns(wide: pd.DataFrame) -> pd.DataFrame:
    """The wide view with ``NAME: field`` column names (registry columns by their field)."""
    out = wide.copy()
    out.columns = [f"{n}: {c}" if n else c for n, c in wide.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, fractions=()) -> None:
    """A table as UTF-8 with BOM (Excel and WPS on Chinese Windows), no index.

    Floats are rounded (:func:`model.readable.csv_rounded`: fractions, by column name or listed
    in ``fractions``, to 4 decimals, other values to 3; never ``-0.0``). A table with likelihoods
    (a ``probability`` column) gets the companion column ``probability_scale`` saying
    ``fraction``. Text cells (names, titles, descriptions from users' files) are written with
    :func:`model.printable.cell_text`: nothing a spreadsheet would evaluate as a formula.
    """
    frame = csv_rounded(frame, fractions)
    if SCALE_COLUMN not in frame.columns and any(
            is_fraction_column(c) and "probability" in str(c) for c in frame.columns):
        frame[SCALE_COLUMN] = SCALE
    text = frame.select_dtypes(include=["object", "string"]).columns
    for column in text:
        frame[column] = frame[column].map(cell_text, na_action="ignore")
    frame.to_csv(path, index=False, encoding="utf-8-sig")
