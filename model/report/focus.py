"""The scenario a comparison brief is about (``brief COMPARISON_DIR --focus NAME``), and what
its tables need: targets settled by construction, and the "what changes" table.

The reference of a comparison is its first scenario (the one changes are measured against);
the focus is the scenario the summary, risk list, fan charts, drivers and front sheet describe:
``plan`` when the comparison holds it, else the first. A target is *settled by construction* in
a run when its indicator at the deadline takes one and the same value in every replication and
so its likelihood is exactly 0 or 1: no uncertainty reaches it under that scenario's settings
(the closure targets of a scenario without closures: 0 capacity closed in every replication).
Such a target says nothing about risk and is left out of the risk list.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..readable import change_text
from ..runs import Run, RunError
from ..targets import load_registry
from .brief_data import pct
from .i18n import target_name, test_text

__all__ = ["DEFAULT_FOCUS", "by_construction", "change_rows", "focus_index"]

DEFAULT_FOCUS = "plan"


def focus_index(names: list[str], focus: str | None, where=None) -> int:
    """Index of the focus scenario among ``names`` (the comparison's order).

    Parameters
    ----------
    names : list of str
        Scenario names, reference first.
    focus : str, optional
        The name asked for; None: ``plan`` when present, else the first.
    where : path, optional
        The comparison directory, for the error message.

    Raises
    ------
    RunError
        ``focus`` is not one of ``names`` (the message lists them).
    """
    if focus is None:
        return names.index(DEFAULT_FOCUS) if DEFAULT_FOCUS in names else 0
    if focus not in names:
        raise RunError(where or "the comparison", f"has no scenario {focus!r} to focus on",
                       f"--focus takes one of: {', '.join(names)}")
    return names.index(focus)


def by_construction(run: Run) -> list[str]:
    """Plan-level targets of ``run`` whose outcome is fixed by the scenario's settings: the
    indicator at the deadline is the same in every replication (so the likelihood is 0 or 1)."""
    out = []
    for target_id, values in run.values.items():
        if ".district." in target_id or target_id not in run.met:
            continue
        x = np.asarray(values, float)
        met = np.asarray(run.met[target_id], bool)
        if x.size and (np.all(x == x[0]) or np.all(np.isnan(x))) and (met.all() or not met.any()):
            out.append(target_id)
    order = {t.id: i for i, t in enumerate(load_registry())}
    return sorted(out, key=lambda t: order.get(t, len(order)))


def _points(x: float) -> str:
    """A change in percentage points with its sign, never ``-0.0`` (:func:`model.readable.change_text`)."""
    return change_text(x)


def change_rows(table: pd.DataFrame, names: list[str], focus: int, lang: str, n: int) -> list[dict[str, Any]]:
    """The ``n`` plan-level targets whose likelihood changes most, one row per target with a cell
    per scenario (likelihood; change against the reference with its paired 95 % interval).

    Ranked by the focus scenario's |change| against the reference, or by the largest |change| of
    any scenario when the focus is the reference itself.
    """
    plan = table[~table["target_id"].str.contains(".district.", regex=False) & table["probability"].notna()]
    wide = plan.pivot(index="target_id", columns="scenario", values="change").reindex(columns=names)
    if focus:
        size = wide[names[focus]].abs()
    else:
        size = wide[names[1:]].abs().max(axis=1)
    size = size.dropna()
    ids = list(size[size > 0].sort_values(ascending=False, kind="stable").index[:n])
    by = plan.set_index(["target_id", "scenario"])
    rows = []
    for target_id in ids:
        first = by.loc[(target_id, names[0])]
        cells = []
        for i, name in enumerate(names):
            r = by.loc[(target_id, name)]
            clear = bool(i and (r["change_low"] > 0 or r["change_high"] < 0))
            cells.append({"p": pct(r["probability"]), "change": _points(r["change"]) if i else "",
                          "interval": f"{_points(r['change_low'])} – {_points(r['change_high'])}" if i else "",
                          "clear": clear, "focus": i == focus, "size": abs(float(r["change"])) if i else 0.0})
        rows.append({"id": target_id, "name": target_name(first, lang), "year": str(first["deadline"])[:4],
                     "test": test_text(first["test"], first["unit"], lang), "cells": cells})
    return rows
