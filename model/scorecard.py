"""Scoring a run's forecast against published outcomes (issue 11 item 4): :func:`score`.

    from model import score
    table = score("runs/plan", "observed/2018.toml")   # a run directory or a Run; a path or an Observed
    table[["key", "likelihood", "outcome", "brier", "pit", "crps", "naive_crps"]]

One row per figure of the observed file (:mod:`model.observed`) that the run can be scored on
(:data:`COLUMNS`; the arithmetic is :mod:`model.score`):

* a **target** whose outcome the file gives (``met``; a ``value`` or a milestone's ``done`` date,
  tested as the target tests its indicator; ``done = false`` on a date at or after the deadline
  is a miss): the run's likelihood (weighted when the run is conditioned), the outcome (1 met,
  0 missed), the Brier score and the log score with p clipped to [1/(2N), 1 - 1/(2N)], N the
  effective replications;
* a **published series figure**: the run's value of that series for the year, per replication
  (:func:`model.conditioning.model_values`, the mapping conditioning uses), plus the figure's
  normal measurement error of the figure's sd (a partial-year reading against the full-year value
  with sd_year / sqrt(f), exactly as conditioning reads it): the PIT of the published value, the
  CRPS, and the CRPS of the **naive forecast**: the last published value of the series that the
  forecast knew, persisted, normal with the same sd. "Known to the forecast" means the city's own
  record before the plan (``model/data/reference_class.toml``, ``[<id>.city]``, July 2017) or a
  figure of the same series in the observed file the run is conditioned on, whichever period ends
  last before the scored one: the naive forecast gets the information the model got, no more. A
  series with no such value says so in ``note`` (its naive columns are empty).

Figures the run cannot be scored on (a target it does not hold, a milestone not done by a date
before its deadline, a series a saved run does not hold) are left out and listed by
:func:`skipped`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import load_reference
from .conditioning import model_values
from .observed import PERIOD_MONTHS, Figure, Observed, ObservedError, as_observed, load_observed
from .runs import Run, load_run
from .score import BRIER_REFERENCE, brier, log_score, mixture_crps, mixture_pit, normal_crps
from .series import SeriesError, load_series
from .tables import quantiles
from .targets import Target, is_met, load_registry
from .timeline import decimal_year, to_date

__all__ = ["COLUMNS", "Scored", "naive_basis", "run_figures", "score", "score_run", "skipped", "summary_lines"]

#: Columns of ``score.csv``, in order.
COLUMNS = (
    "kind", "key", "id", "name_zh", "name_en", "year", "period", "unit", "observed", "published_value", "sd",
    "likelihood", "outcome", "brier", "log_score", "pit", "crps", "naive_value", "naive_crps", "naive_from",
    "forecast_p10", "forecast_p50", "forecast_p90", "in_conditioning", "effective_replications", "source",
    "published", "note",
)


@dataclass(frozen=True)
class Scored:
    """The rows of :func:`score_run` and the figures left out, each with why."""

    table: pd.DataFrame
    skipped: tuple[tuple[str, str], ...]  # (figure key, reason)


def run_figures(run: Run) -> tuple[Figure, ...] | None:
    """The figures the run is conditioned on (none when unconditioned); None when they cannot be
    read back (a saved run whose observed file moved or changed since)."""
    observed = getattr(run, "observed", None)
    if observed is not None:
        return observed.figures
    path = run.manifest.get("observed_file")
    if path is None:
        return ()
    try:
        observed = load_observed(path)
    except ObservedError:
        return None
    return observed.figures if observed.sha256 == run.manifest.get("observed_sha256") else None


def _same(a: Figure, b: Figure) -> bool:
    return (a.kind, a.id, a.year, a.period) == (b.kind, b.id, b.year, b.period) or (
        a.kind != "series" and b.kind != "series" and a.id == b.id)


def _end(year: int, period: str) -> tuple[int, int]:
    return year, PERIOD_MONTHS[period]


def naive_basis(figure: Figure, known: tuple[Figure, ...]) -> tuple[float | None, str]:
    """The last published value of ``figure``'s series known to the forecast, and where it is from
    (or why there is none): the city record or a figure of ``known`` (the run's own), whichever
    period ends last before ``figure``'s."""
    end = _end(figure.year, figure.period)
    city = load_reference()[figure.id][1]
    best: tuple[tuple[int, int], float, str] | None = None
    if city.value is not None and city.year is not None and (city.year, 12) < end:
        best = ((city.year, 12), city.value, f"{city.year}: {city.what} ({city.source}, {city.published})")
    for other in known:
        if other.kind == "series" and other.id == figure.id and _end(other.year, other.period) < end:
            if best is None or _end(other.year, other.period) > best[0]:
                period = "" if other.period == "year" else f" {other.period}"
                best = (_end(other.year, other.period), other.value,
                        f"{other.year}{period}: {other.source or 'the observed file the run is conditioned on'}")
    if best is None:
        why = city.missing or "the city record is of the same year or later"
        return None, f"no published value before {figure.year} known to the forecast ({why})"
    return best[1], best[2]


def _outcome(figure: Figure, target: Target) -> float | None:
    """1.0 met, 0.0 missed, None when the figure does not decide the target yet."""
    if figure.kind == "met":
        return figure.value
    if figure.kind in ("value", "done"):
        return float(is_met(target, np.array([figure.value]))[0])
    limit = target.threshold
    limit = decimal_year(limit) if isinstance(limit, dt.date) else float(limit)
    if target.comparator in ("<=", "<") and figure.value >= limit:
        return 0.0  # not done by the end of a day at or after the deadline
    return None


def _observed_text(figure: Figure) -> str:
    if figure.kind == "met":
        return "met = true" if figure.value else "met = false"
    if figure.kind == "done":
        return f"done = {to_date(figure.value).isoformat()}"
    if figure.kind == "not_done":
        return f"done = false, on = {to_date(figure.value).isoformat()}"
    return f"value = {figure.value:g}"


def _common(figure: Figure, run: Run, known: tuple[Figure, ...] | None) -> dict:
    return {"key": figure.key, "id": figure.id, "observed": _observed_text(figure), "sd": figure.sd,
            "in_conditioning": pd.NA if known is None else any(_same(figure, k) for k in known),
            "effective_replications": run.effective_replications, "source": figure.source,
            "published": "" if figure.published is None else figure.published.isoformat()}


def _target_row(figure: Figure, run: Run, known, registry: dict[str, Target]) -> dict | str:
    target = registry[figure.id]
    if figure.id not in run.met:
        return f"the run does not hold target {figure.id}"
    outcome = _outcome(figure, target)
    if outcome is None:
        return "not an outcome yet: the milestone was not done by a date before its deadline"
    p = run.probability(figure.id)
    return {**_common(figure, run, known), "kind": "target", "name_zh": target.name_zh, "name_en": target.name_en,
            "year": target.deadline.year, "period": "", "unit": target.unit,
            "published_value": figure.value if figure.kind == "value" else np.nan, "likelihood": p,
            "outcome": outcome, "brier": float(brier(p, outcome)),
            "log_score": float(log_score(p, outcome, run.effective_replications))}


def _series_row(figure: Figure, run: Run, known, cache: dict) -> dict | str:
    try:
        x = model_values(figure, run.kept_yearly(), run.values, run.met, cache)
    except SeriesError as exc:
        return str(exc)
    w = np.asarray(run.weights, float)
    if not np.any(np.isfinite(x) & (w > 0)):
        return f"the run has no value of {figure.id} for {figure.year}"
    spec = load_series()[figure.id]
    p10, p50, p90 = np.ravel(quantiles(x, (0.1, 0.5, 0.9), run.condition_weights))
    naive, basis = naive_basis(figure, known or ())
    return {**_common(figure, run, known), "kind": "series", "name_zh": spec.zh, "name_en": spec.en,
            "year": figure.year, "period": figure.period, "unit": spec.unit, "published_value": figure.value,
            "pit": mixture_pit(x, w, figure.value, figure.sd), "crps": mixture_crps(x, w, figure.value, figure.sd),
            "naive_value": np.nan if naive is None else naive,
            "naive_crps": np.nan if naive is None else float(normal_crps(naive, figure.sd, figure.value)),
            "naive_from": "" if naive is None else basis, "note": basis if naive is None else "",
            "forecast_p10": p10, "forecast_p50": p50, "forecast_p90": p90}


def score_run(run: Run, observed: Observed) -> Scored:
    """Score ``run`` against the figures of ``observed`` (see the module docstring)."""
    known = run_figures(run)
    registry = {t.id: t for t in load_registry()}
    rows, left_out, cache = [], [], {}
    for figure in observed.figures:
        if figure.kind == "series":
            row = _series_row(figure, run, known, cache)
        else:
            row = _target_row(figure, run, known, registry)
        if isinstance(row, str):
            left_out.append((figure.key, row))
        else:
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("name_zh", "name_en", "period", "observed", "naive_from", "source", "published", "note"):
        table[column] = table[column].fillna("").astype(str)
    table["in_conditioning"] = table["in_conditioning"].astype("boolean")
    return Scored(table, tuple(left_out))


def _load(run_or_path: Run | str | Path, observed: Observed | str | Path) -> tuple[Run, Observed]:
    run = run_or_path if isinstance(run_or_path, Run) else load_run(run_or_path)
    return run, as_observed(observed)


def score(run_or_path: Run | str | Path, observed: Observed | str | Path) -> pd.DataFrame:
    """Score a forecast against published outcomes.

    Parameters
    ----------
    run_or_path : Run, str or Path
        A run (simulated, or read with :func:`model.load_run`) or a saved run's directory.
    observed : Observed, str or Path
        The outcomes: an observed-figures file (:func:`model.load_observed`).

    Returns
    -------
    DataFrame
        One row per figure the run can be scored on, columns :data:`COLUMNS`: for targets
        ``likelihood`` [0-1], ``outcome`` (1 met, 0 missed), ``brier`` and ``log_score`` [nats];
        for series ``pit`` [0-1], ``crps`` and ``naive_crps`` [the series' unit], the naive
        forecast's ``naive_value`` and ``naive_from``, and the run's weighted 10/50/90 %
        quantiles of the full-year value. Lower scores are better (:mod:`model.score`).

    Raises
    ------
    model.runs.RunError
        Not a saved run.
    model.ObservedError
        Not an observed-figures file.
    """
    run, observed = _load(run_or_path, observed)
    return score_run(run, observed).table


def skipped(run_or_path: Run | str | Path, observed: Observed | str | Path) -> list[tuple[str, str]]:
    """The figures :func:`score` leaves out, as (key, reason)."""
    run, observed = _load(run_or_path, observed)
    return list(score_run(run, observed).skipped)


def _mean(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].astype(float).mean())


def summary_lines(table: pd.DataFrame) -> tuple[str, str]:
    """The calibration summary of a score table: (Chinese, English), to be wrapped."""
    targets, series = table[table["kind"] == "target"], table[table["kind"] == "series"]
    zh, en = [], []
    if len(targets):
        brier_mean, log_mean = _mean(targets, "brier"), _mean(targets, "log_score")
        zh.append(f"{len(targets)}项目标结果：平均Brier分数{brier_mean:.3f}（一律报50%为{BRIER_REFERENCE:.2f}，越低越好），"
                  f"平均对数分数{log_mean:.3f}")
        en.append(f"{len(targets)} target outcome(s): mean Brier score {brier_mean:.3f} (always saying 50 % scores "
                  f"{BRIER_REFERENCE:.2f}; lower is better), mean log score {log_mean:.3f}")
    if len(series):
        pit = _mean(series, "pit")
        both = series[series["naive_crps"].notna()]
        zh.append(f"{len(series)}项公布数据：平均PIT {pit:.2f}（校准良好时约0.5）")
        en.append(f"{len(series)} published figure(s): mean PIT {pit:.2f} (about 0.5 when calibrated)")
        if len(both):
            model, naive = _mean(both, "crps"), _mean(both, "naive_crps")
            wins = int((both["crps"] < both["naive_crps"]).sum())
            zh.append(f"CRPS 模型{model:.3g}，朴素预测（沿用上期公布值）{naive:.3g}"
                      f"（{len(both)}项可比，模型较优{wins}项）")
            en.append(f"CRPS model {model:.3g} vs naive (last published value persisted) {naive:.3g} "
                      f"({len(both)} comparable, model better on {wins})")
        else:
            zh.append("无朴素预测可比：预测时尚无更早的公布值")
            en.append("no naive forecast to compare: no earlier published value was known to the forecast")
    inside = int(table["in_conditioning"].fillna(False).sum())
    if inside:
        zh.append(f"注意：其中{inside}项已用于修正本次预测，属样本内评分")
        en.append(f"note: the run is conditioned on {inside} of these figures, so those scores are in-sample")
    return "；".join(zh) + "。", "; ".join(en) + "."
