"""The brief's outside view (issue 10 item 6): the 2020 energy goal beside the record.

Its own section after the charts (``templates/outside.html.j2``): the first page of the brief
(summary, headline goals, targets at risk) is full in English, and the charts' page takes a
full-page chart.

Numbers only (:mod:`model.outside` computes them from each run, ``data/outside_view.toml`` holds
the record); the phrases around them are the ``[outside]`` table of ``locale/<lang>.toml``.
"""

from __future__ import annotations

from typing import Any

from ..outside import ASSESSED, GOAL, base_rate, load_outside, outside_view, sentence
from ..runs import Run
from .brief_data import interval, pct


def outside_block(runs: tuple[Run, ...], lang: str) -> dict[str, Any]:
    """The base rate, each run's likelihood of the 2020 energy goal and its sentence, and the
    12th plan's figures and the yearly grades as context (from ``outside_view.toml``)."""
    base = base_rate()
    records = load_outside()["records"]
    national, early, grades = records["fyp12_national"], records["fyp12_early"], records["annual_grades"]
    worst = min(range(len(grades["years"])), key=lambda i: grades["met"][i] / grades["of"][i])
    rows = []
    for run in runs:
        view = outside_view(run)
        rows.append({"name": run.name, "p": pct(view.likelihood), "interval": interval(*view.likelihood_interval),
                     "behind": pct(view.behind[ASSESSED[0]]), "limited": pct(view.limited),
                     "sentence": sentence(view, lang)})
    return {
        "goal": GOAL,
        "base": {"name": base.zh if lang == "zh" else base.en, "met": base.met, "of": base.of, "p": pct(base.share),
                 "interval": interval(*base.interval), "cite": base.cite_zh if lang == "zh" else base.cite_en,
                 "published": base.published},
        "rows": rows,
        "context": {"national": f"{national['value']:g}", "target": f"{national['target']:g}",
                    "early": early["met"], "grade_year": grades["years"][worst], "grade_met": grades["met"][worst],
                    "grade_of": grades["of"][worst]},
    }
