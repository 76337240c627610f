"""The brief's front sheet: 总体判断 / 主要风险 / 建议 and the information cut-off.

One function, :func:`front_sheet`, writes the three short paragraphs from the brief's numbers;
the HTML/PDF template and the Word brief both print what it returns, so the two say the same.

* 总体判断 (overall assessment): how many of the three 2020 goals are likely, the weakest and
  the strongest with their likelihoods, the traffic-light counts; in a comparison, the change of
  the weakest goal against the reference.
* 主要风险 (main risks): what the weakest goal depends on most (its two strongest drivers, the
  likelihood when each is low and high), then the three riskiest other targets, leaving out
  those settled by construction (:func:`.focus.by_construction`).
* 建议 (recommendations): with a ``levers`` analysis, the measures that matter most for the
  weakest goal; otherwise to track its drivers; and the units responsible for the riskiest targets.

The cut-off is July 2017 (what the defaults use), or for a run conditioned on observed figures
the date of the latest ``published`` figure (:mod:`model.observed`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..plans import HEADLINE_2020
from ..readable import change_text
from ..runs import Run
from ..scorecard import run_figures
from ..targets import load_registry
from . import brief_data as bd
from .i18n import load_locale

__all__ = ["cutoff", "front_sheet"]

RISKS = 3  # other targets named among the main risks
DRIVERS = 2  # drivers of the weakest goal named
UNITS = 3  # responsible units named in the recommendation


def _join(items: list[str], loc: dict[str, str]) -> str:
    """``a、b和c`` / ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return loc["item_sep"].join(items[:-1]) + loc["last_sep"] + items[-1]


def cutoff(run: Run, lang: str) -> str:
    """``依据2017年7月已知信息``, or the date of the latest published figure of a conditioned run."""
    loc = load_locale(lang)["front"]
    if "observed_file" not in run.manifest:
        return loc["cutoff_july"]
    figures = run_figures(run)
    dates = [f.published for f in figures or () if getattr(f, "published", None)]
    if not dates:
        return loc["cutoff_observed_missing"].format(path=run.manifest["observed_file"])
    return loc["cutoff_observed"].format(date=max(dates).isoformat(), n=len(figures))


def _judgement(run: Run, title: str, lang: str, change: dict[str, str] | None) -> tuple[str, dict | None]:
    loc = load_locale(lang)["front"]
    weak, best = bd.weakest_headline(run.summary, lang)
    counts = bd.counts(run.summary)
    if weak is None:
        return loc["judgement_none"].format(title=title), None
    s = run.summary.set_index("target_id")
    likely = sum(1 for i in HEADLINE_2020 if i in s.index and s.at[i, "probability"] >= 0.8)
    values = {"title": title, "likely": likely, "weak": weak["name"], "weak_year": weak["year"],
              "weak_test": weak["test"], "weak_p": weak["p"], **counts}
    if best is None or best["id"] == weak["id"]:
        text = loc["judgement_single"].format(**values)
    else:
        text = loc["judgement"].format(**values, best=best["name"], best_p=best["p"])
    if change:
        text += loc["judgement_change"].format(weak=weak["name"], **change)
    return text, weak


def _risks(run: Run, weak: dict, lang: str, exclude, drivers) -> tuple[str, list[dict], list[str]]:
    loc = load_locale(lang)["front"]
    goal = next((g for g in drivers if g["id"] == weak["id"]), None)
    named = [loc["driver_item"].format(**d) for d in (goal or {}).get("drivers", [])[:DRIVERS]]
    text = (loc["risks_drivers"].format(weak=weak["name"], drivers=_join(named, loc)) if named
            else loc["risks_no_drivers"].format(weak=weak["name"]))
    others = [r for r in bd.at_risk(run.summary, lang, n=RISKS + 4, exclude=exclude)
              if r["id"] not in HEADLINE_2020][:RISKS]
    if others:
        items = [loc["risk_item"].format(name=r["name"], year=r["year"], p=r["p"]) for r in others]
        text += ("" if lang == "zh" else " ") + loc["risks_targets"].format(items=_join(items, loc))
    return text, others, [d["name"] for d in (goal or {}).get("drivers", [])[:DRIVERS]]


def _advice(weak: dict, others: list[dict], drivers: list[str], levers: dict | None, lang: str) -> str:
    loc = load_locale(lang)["front"]
    goals = (levers or {}).get("goals", [])
    goal = next((g for g in goals if g["name"] == weak["name"]), goals[0] if goals else None)
    parts = []
    if goal and goal["levers"]:
        items = [loc["lever_item"].format(**x) for x in goal["levers"][:2]]
        parts.append(loc["advice_levers"].format(goal=goal["name"], levers=_join(items, loc)))
    elif drivers:
        parts.append(loc["advice_track"].format(drivers=_join(drivers, loc)))
    registry = {t.id: t for t in load_registry()}
    units = list(dict.fromkeys(u for r in others for u in registry[r["id"]].responsible))[:UNITS]
    if units:
        parts.append(loc["advice_units"].format(units=bd.responsible("、".join(units), lang)))
    if not goal:
        parts.append(loc["advice_more"])
    return "".join(parts) if lang == "zh" else " ".join(parts)


def front_sheet(run: Run, title: str, lang: str, *, exclude=(), levers: dict | None = None,
                change_row: pd.Series | None = None, reference: str | None = None) -> dict[str, Any]:
    """The front sheet of ``run`` (a run's or a comparison's focus scenario).

    Parameters
    ----------
    run : Run
    title : str
        The scenario's title in ``lang``.
    lang : {"zh", "en"}
    exclude : collection of str
        Targets settled by construction, never named as risks.
    levers : dict, optional
        The ``levers`` block of :func:`.analysis_brief.analysis_blocks`.
    change_row : Series, optional
        Per target, the comparison table's rows of this scenario (``change``, ``change_low``,
        ``change_high``; index target ids) when it is not the reference.
    reference : str, optional
        The reference scenario's title.

    Returns
    -------
    dict
        ``headings`` (three), ``paragraphs`` (three, plain text), ``cutoff``, ``weakest`` (id).
    """
    loc = load_locale(lang)["front"]
    weak_id = (bd.weakest_headline(run.summary, lang)[0] or {}).get("id")
    change = None
    if change_row is not None and weak_id in change_row.index and not pd.isna(change_row.at[weak_id, "change"]):
        r = change_row.loc[weak_id]
        change = {"ref": reference, "change": change_text(r["change"]),
                  "interval": f"{change_text(r['change_low'])} – {change_text(r['change_high'])}"}
    judgement, weak = _judgement(run, title, lang, change)
    if weak is None:
        paragraphs = [judgement, "", loc["advice_more"]]
    else:
        risks, others, drivers = _risks(run, weak, lang, exclude, bd.drivers(run, lang, DRIVERS))
        paragraphs = [judgement, risks, _advice(weak, others, drivers, levers, lang)]
    return {"headings": [loc["h_judgement"], loc["h_risks"], loc["h_advice"]], "paragraphs": paragraphs,
            "cutoff": cutoff(run, lang), "weakest": weak_id, "title": loc["h_front"]}
