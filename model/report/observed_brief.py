"""The brief's "forecast vs published" table of a conditioned run (issue 11 item 4).

For each figure the run is conditioned on: a published series' year and period, the published
value, the forecast of that year's full-year value before the figures (equal weights: the
forecast as the scenario gives it) and after (the run's weights), each as median and 10-90 %
range, and the percentile of the published value in the forecast before it was known (the PIT
of the figure, measurement error included: :func:`model.score.mixture_pit`). A target's outcome
shows its likelihood before and after. Numbers only; the phrases are the ``[brief]`` table of
``locale/<lang>.toml``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..conditioning import model_values
from ..observed import PERIOD_MONTHS
from ..runs import Run
from ..score import mixture_pit
from ..scorecard import run_figures
from ..series import SeriesError, load_series
from ..stats import share_interval
from ..tables import quantiles
from ..targets import load_registry
from ..timeline import to_date
from .brief_data import number, pct
from .i18n import load_locale, unit_label

LEVELS = (0.1, 0.5, 0.9)


def period_label(period: str, lang: str) -> str:
    """``"H1"`` as the brief writes it (上半年, first half)."""
    loc = load_locale(lang)["brief"]
    named = loc["periods"]
    if period in named:
        return named[period]
    return loc["period_months"].format(n=PERIOD_MONTHS[period], month=period.split("-")[-1])


def _spread(x: np.ndarray, weights: np.ndarray | None, unit: str) -> dict[str, str]:
    p10, p50, p90 = np.ravel(quantiles(x, LEVELS, weights))
    return _quantile_text(p10, p50, p90, unit)


def _quantile_text(p10: float, p50: float, p90: float, unit: str) -> dict[str, str]:
    return {"median": number(p50, unit), "range": f"{number(p10)}–{number(p90)}"}


def observed_block(run: Run, lang: str) -> dict[str, Any] | None:
    """The table's rows, or None for a run not conditioned on observed figures; ``missing`` when
    the observed file cannot be read back (moved or changed since the run)."""
    if "observed_file" not in run.manifest:
        return None
    path = run.manifest["observed_file"]
    figures = run_figures(run)
    if figures is None:
        return {"path": path, "rows": [], "missing": True, "effective": f"{run.effective_replications:,.0f}",
                "replications": f"{run.replications:,}", "intro": "observed_intro"}
    weights, rows, cache = np.asarray(run.weights, float), [], {}
    prior = run.manifest.get("prior_figures")  # a particle run: its replications are the posterior
    registry = {t.id: t for t in load_registry()}
    for figure in figures:
        if figure.kind == "series":
            spec = load_series()[figure.id]
            try:
                x = model_values(figure, run.kept_yearly(), run.values, run.met, cache)
            except SeriesError:
                continue
            unit = unit_label(spec.unit, lang, after_number=True)
            before_pit = mixture_pit(x, None, figure.value, figure.sd) if prior is None else prior[figure.key]["pit"]
            rows.append({"name": spec.zh if lang == "zh" else spec.en, "when": f"{figure.year} "
                         f"{period_label(figure.period, lang)}", "published": number(figure.value, unit),
                         "before": _spread(x, None, unit) if prior is None else _quantile_text(
                             prior[figure.key]["p10"], prior[figure.key]["p50"], prior[figure.key]["p90"], unit),
                         "after": _spread(x, weights, unit),
                         "percentile": f"{100 * before_pit:.0f}"})
        elif figure.id in run.met:
            target = registry[figure.id]
            met = run.met[figure.id]
            rows.append({"name": target.name_zh if lang == "zh" else target.name_en, "when": str(target.deadline),
                         "published": _outcome_text(figure, lang),
                         "before": {"median": pct(share_interval(met)[0] if prior is None else
                                                  prior[figure.key]["share"]), "range": ""},
                         "after": {"median": pct(share_interval(met, weights)[0]), "range": ""}, "percentile": ""})
    return {"path": path, "rows": rows, "missing": False, "effective": f"{run.effective_replications:,.0f}",
            "replications": f"{run.replications:,}",
            "intro": "observed_intro" if prior is None else "observed_intro_smc"}


def _outcome_text(figure, lang: str) -> str:
    loc = load_locale(lang)["brief"]
    if figure.kind == "met":
        return loc["observed_met"] if figure.value else loc["observed_missed"]
    if figure.kind == "value":
        return loc["observed_value"].format(value=f"{figure.value:g}")
    key = "observed_done" if figure.kind == "done" else "observed_not_done"
    return loc[key].format(date=to_date(figure.value).isoformat())
