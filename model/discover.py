"""Why a goal fails: scenario discovery with PRIM (issue 13, item 4).

``python -m model discover SCENARIO --target ID`` and :func:`discover` look for the box of
circumstances (a range of a few sampled uncertainties) in which a target mostly fails, with the
patient rule induction method (PRIM, Friedman and Fisher 1999, as used for scenario discovery by
Bryant and Lempert 2010) of EMA Workbench (:class:`ema_workbench.analysis.prim.Prim`, 2.5).

What goes in
    ``x``: the run's sampled uncertainties that vary and that can reach the target (the target's
    module and those upstream of it through the scenario's enabled links, as ``--drivers``
    screens them: an input that cannot reach the target can only add spurious restrictions),
    one column per ``module.name``; ``y``: 1 where the target is **not** met.
A conditioned run
    PRIM counts replications and takes no weights, so a conditioned run's replications are first
    resampled by weight, with replacement, as many as its effective replications (Kish), with a
    generator seeded by the run's seed: a sample of the conditioned forecast about as large as the
    information it holds (the quasi-p-values would otherwise count duplicates as evidence).
Which box
    PRIM peels the box down to 5 % of the replications and pastes back (EMA's defaults, lenient
    objective). On that trajectory the chosen box is the one with the **largest coverage among
    those whose density is at least the threshold** (default 0.8) and which restrict at least one
    uncertainty. When the goal fails at that rate everywhere (failure rate >= threshold) the
    threshold used is halfway between the failure rate and 1, so the box still says where
    failure is near certain. When no box reaches it, the densest box is taken (``reached`` False).
Which restrictions
    Each limit of the chosen box has EMA's quasi-p-value (a one-sided binomial test of the box's
    density against the box without that limit, Bryant and Lempert 2010). Limits with qp >= 0.05
    are dropped one at a time (the largest first, the box recomputed each time) until every limit
    left is significant; the box reported is that one, with its coverage (share of all failures
    inside it), density (share of its replications that fail) and mass (share of replications).
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from .drivers import target_reach
from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .params import all_params
from .plans import HEADLINE_2020
from .report.i18n import unit_label
from .results import Results
from .scenario import Scenario
from .stats import effective_size
from .targets import load_registry
from .variants import plain_name


@cache
def _prim() -> type:
    """EMA Workbench's ``Prim``, imported on first use: the import takes about 4 s (scikit-learn,
    statsmodels, seaborn), which every other command would pay at start-up. It warns that
    ipyparallel and altair are missing (we use neither): those warnings are ignored for it only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", ImportWarning)
        return importlib.import_module("ema_workbench.analysis.prim").Prim

__all__ = ["Discovery", "discover", "discover_headline", "discovery_inputs"]

THRESHOLD = 0.8  # density a box must reach by default  # assumption: "mostly fails" = 4 in 5
ALPHA = 0.05  # a limit is kept when its quasi-p-value is below this
MIN_FAILURES = 10  # fewer failures (or successes) than this: no box is sought
#: Units not printed after a number in a sentence (dimensionless: the name says what it is).
PLAIN_UNITS = frozenset({"-", "ratio", "probability", "weight", "bool", "0/1", "factor", "factor per year", "log sd",
                         "log sd per year", "ratio to other industry"})
#: Units shown as percentages (a share of 0.0765 a year reads 7.65 % a year).
PERCENT_UNITS = {"share": ("", ""), "share/yr": ("/年", " a year")}
#: discover.csv columns (see :meth:`Discovery.csv`).
COLUMNS = ["target_id", "section", "box", "coverage", "density", "mass", "res_dim", "chosen", "uncertainty",
           "name_zh", "name_en", "unit", "low", "high", "range_low", "range_high", "qp_low", "qp_high"]


@dataclass
class Discovery:
    """The box of circumstances in which a target mostly fails (see the module docstring).

    Attributes
    ----------
    target : str
        Target id.
    replications : int
        Replications PRIM saw (a conditioned run: the resampled count).
    failure_rate : float
        Share of those replications failing the target [-].
    threshold, density_threshold : float
        The density asked for, and the one used (see "Which box") [-].
    reached : bool
        Whether a box with at least ``density_threshold`` was found (before limits that are not
        significant were dropped, which may lower the density a little).
    resampled : bool
        Whether the replications were resampled by weight (a conditioned run).
    coverage, density, mass : float
        Of the chosen box: share of the failures inside it, share of its replications failing,
        share of all replications inside it [-].
    box : DataFrame
        One row per limit kept: ``uncertainty, name_zh, name_en, unit, low, high, range_low,
        range_high, qp_low, qp_high`` (``low``/``high`` NaN: no limit on that side; the range is
        the scenario's distribution's support, or its central 99 % when unbounded; in the
        uncertainty's unit).
    dropped : list of str
        Uncertainties whose limits were dropped as not significant.
    trajectory : DataFrame
        PRIM's peeling (and pasting) trajectory: ``box, coverage, density, mass, res_dim``.
    chosen : int
        Row of ``trajectory`` of the box reported (after dropping limits it is the last row).
    """

    target: str
    replications: int
    failure_rate: float
    threshold: float
    density_threshold: float
    reached: bool
    resampled: bool
    coverage: float
    density: float
    mass: float
    box: pd.DataFrame
    trajectory: pd.DataFrame
    chosen: int
    dropped: list[str] = field(default_factory=list)

    def sentence(self, lang: str = "zh") -> str:
        """The box in one plain sentence (see :func:`box_sentence`)."""
        return box_sentence(self, lang)

    def csv(self) -> pd.DataFrame:
        """``discover.csv``: section ``box`` (a row per limit kept, the box's statistics repeated;
        one row with no uncertainty when none is) then section ``trajectory`` (a row per box of
        PRIM's trajectory, ``chosen`` marking the one reported)."""
        stats = {"target_id": self.target, "box": self.chosen, "coverage": self.coverage, "density": self.density,
                 "mass": self.mass, "res_dim": len(self.box), "chosen": True}
        rows = [{**stats, "section": "box", **r} for r in self.box.to_dict("records")] or [{**stats, "section": "box"}]
        trajectory = self.trajectory.assign(target_id=self.target, section="trajectory",
                                            chosen=self.trajectory["box"] == self.chosen)
        return pd.concat([pd.DataFrame(rows), trajectory], ignore_index=True).reindex(columns=COLUMNS)


def _specs() -> dict:
    return {s.key: s for p in all_params().values() for s in p.uncertainties.values()}


def declared_range(scenario: Scenario, key: str) -> tuple[float, float]:
    """The range of uncertainty ``key`` under ``scenario``: its distribution's support, or its
    central 99 % (0.5 % and 99.5 % quantiles) on a side where the support is unbounded."""
    dist = scenario.uncertainties[key]
    low, high = dist.support()
    if not math.isfinite(low):
        low = float(dist.ppf(np.array([0.005]))[0])
    if not math.isfinite(high):
        high = float(dist.ppf(np.array([0.995]))[0])
    return float(low), float(high)


def discovery_inputs(results: Results, target: str) -> pd.DataFrame:
    """The ``x`` of PRIM for ``target``: the varying sampled inputs that can reach it, by key."""
    reach = target_reach(results.scenario.enabled_links, [target])[target]
    keys = [k for k in sorted(results.inputs) if k.split(".", 1)[0] in reach and np.ptp(results.inputs[k]) > 0]
    return pd.DataFrame({k: np.asarray(results.inputs[k], float) for k in keys})


@contextmanager
def _quiet() -> Iterator[None]:
    """ema_workbench 2.5 calls pandas in ways pandas now deprecates (``inplace``, chained
    assignment): those warnings are about its code, not ours, and say nothing of the results."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
            warnings.simplefilter("ignore", category)
        yield


def _inside(x: pd.DataFrame, lims: pd.DataFrame) -> np.ndarray:
    values = x.to_numpy()
    return np.all((values >= lims.loc[0].to_numpy(float)) & (values <= lims.loc[1].to_numpy(float)), axis=1)


def _choose(trajectory: pd.DataFrame, threshold: float) -> tuple[int, bool]:
    """Row of the box with the largest coverage among those at least ``threshold`` dense and
    restricting something (ties: fewer restrictions, then earlier); else the densest."""
    fit = trajectory[(trajectory["density"] >= threshold) & (trajectory["res_dim"] > 0)]
    if len(fit):
        return int(fit.sort_values(["coverage", "res_dim", "id"], ascending=[False, True, True]).index[0]), True
    return int(trajectory.sort_values(["density", "id"], ascending=[False, True]).index[0]), False


def _significant(box, i: int, x: pd.DataFrame, alpha: float) -> tuple[int, list[str]]:
    """Drop the limits of trajectory box ``i`` whose quasi-p-value is at least ``alpha``, the
    largest first, until every limit left is significant; the final box's row and the dropped."""
    initial, dropped = box.box_lims[0], []
    while True:
        sides = [(qp, name, side) for name, pair in box.qp[i].items() for side, qp in enumerate(pair) if qp >= alpha]
        if not sides:
            return i, dropped
        _, name, side = max(sides)
        lims = box.box_lims[i].copy()
        lims.loc[side, name] = initial.loc[side, name]
        if (lims[name] == initial[name]).all():
            dropped.append(name)
        box.update(lims, box.prim.yi_remaining[_inside(x.loc[box.prim.yi_remaining], lims)])
        i = len(box.peeling_trajectory) - 1


def _box_table(scenario: Scenario, lims: pd.DataFrame, initial: pd.DataFrame, qp: dict) -> pd.DataFrame:
    specs, rows = _specs(), []
    for key in lims.columns:
        low, high = (float(lims.loc[j, key]) for j in (0, 1))
        if low == initial.loc[0, key] and high == initial.loc[1, key]:
            continue
        spec = specs[key]
        range_low, range_high = declared_range(scenario, key)
        q_low, q_high = (np.nan if q < 0 else q for q in qp.get(key, [-1, -1]))
        rows.append({"uncertainty": key, "name_zh": plain_name(spec.about.zh), "name_en": plain_name(spec.about.en),
                     "unit": spec.about.unit, "low": low if low != initial.loc[0, key] else np.nan,
                     "high": high if high != initial.loc[1, key] else np.nan, "range_low": range_low,
                     "range_high": range_high, "qp_low": q_low, "qp_high": q_high})
    return pd.DataFrame(rows, columns=COLUMNS[COLUMNS.index("uncertainty"):])


def _sample(results: Results, target: str) -> tuple[pd.DataFrame, np.ndarray, bool]:
    x, failed = discovery_inputs(results, target), ~np.asarray(results.met[target], bool)
    weights = results.condition_weights
    if weights is None or np.allclose(weights, weights[0]):
        return x, failed, False
    size = max(1, round(effective_size(weights)))
    rows = np.random.default_rng(results.seed).choice(len(failed), size=size, replace=True, p=weights / weights.sum())
    return x.iloc[rows].reset_index(drop=True), failed[rows], True


def discover(source: Scenario | Results, target: str, *, replications: int = DEFAULT_REPLICATIONS,
             seed: int = DEFAULT_SEED, threshold: float = THRESHOLD, alpha: float = ALPHA,
             workers: int = 1) -> Discovery:
    """The box of uncertainty in which ``target`` mostly fails (see the module docstring).

    Parameters
    ----------
    source : Scenario or Results
        A scenario (simulated here with ``replications``, ``seed`` and ``workers``) or a run.
    target : str
        A modelled target id.
    threshold : float
        Density the box should reach, in (0, 1) [-].
    alpha : float
        Quasi-p-value below which a limit is kept [-].

    Raises
    ------
    ValueError
        ``threshold`` or ``alpha`` outside (0, 1), an unknown target, or a run without sampled inputs.
    """
    if not 0.0 < threshold < 1.0 or not 0.0 < alpha < 1.0:
        raise ValueError(f"threshold and alpha must lie strictly between 0 and 1, found {threshold:g}, {alpha:g}")
    if target not in {t.id for t in load_registry() if t.modelled}:
        raise ValueError(f"{target!r} is not a modelled target id (python -m model targets lists them)")
    results = source if isinstance(source, Results) else simulate(source, replications, seed, workers=workers,
                                                                  stream=False)
    if not results.inputs:
        raise ValueError("this run holds no sampled inputs; simulate it again")
    x, failed, resampled = _sample(results, target)
    n, k = len(failed), int(failed.sum())
    rate = k / n
    used = threshold if rate < threshold else (1.0 + rate) / 2.0
    empty = pd.DataFrame(columns=COLUMNS[COLUMNS.index("uncertainty"):])
    flat = pd.DataFrame({"box": [0], "coverage": [1.0 if k else np.nan], "density": [rate], "mass": [1.0],
                         "res_dim": [0]})
    if min(k, n - k) < MIN_FAILURES or x.empty:  # nothing (or everything) to explain
        return Discovery(target, n, rate, threshold, used, rate >= used, resampled, flat["coverage"][0], rate,
                         1.0, empty, flat, 0)
    # ema's threshold only counts cases of interest (y >= it) and refuses a final box below it:
    # the smallest positive float counts the failures and keeps the trajectory (the choice is ours)
    with _quiet():
        prim = _prim()(x, failed.astype(int), threshold=np.nextafter(0.0, 1.0))
        box = prim.find_box()
        chosen, reached = _choose(box.peeling_trajectory, used)
        chosen, dropped = _significant(box, chosen, x, alpha)
    trajectory = box.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim"]].rename(columns={"id": "box"})
    trajectory = trajectory.astype({"box": int, "res_dim": int}).reset_index(drop=True)
    table = _box_table(results.scenario, box.box_lims[chosen], box.box_lims[0], box.qp[chosen])
    row = trajectory.loc[chosen]
    return Discovery(target, n, rate, threshold, used, reached, resampled, float(row["coverage"]),
                     float(row["density"]), float(row["mass"]), table, trajectory, chosen, dropped)


def number(v: float) -> str:
    """A limit as a reader reads it: three significant figures, no exponent, thousands grouped."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(v))))
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(x: float, lang: str) -> str:
    return f"{100 * x:.0f}%" if lang == "zh" else f"{100 * x:.0f} %"


def limit_clause(row, lang: str) -> str:
    """One limit of a box in words: name, limits in its unit, and its range."""
    zh = lang == "zh"
    unit = row["unit"]
    if unit in PERCENT_UNITS:
        after = "%" + PERCENT_UNITS[unit][0] if zh else " %" + PERCENT_UNITS[unit][1]
        scale = 100.0
    else:
        label = "" if unit in PLAIN_UNITS else unit_label(unit, lang, after_number=True)
        after, scale = ((label if zh else f" {label}") if label else ""), 1.0

    def num(v: float) -> str:
        return number(scale * v)
    name = row["name_zh"] if zh else row["name_en"]
    if not zh and name[1:2].islower():  # mid-sentence: "when real growth ...", not "when Real growth"
        name = name[0].lower() + name[1:]
    low, high = row["low"], row["high"]
    span = f"{num(row['range_low'])}–{num(row['range_high'])}{after}"
    if pd.notna(low) and pd.notna(high):
        where = f"介于 {num(low)} 与 {num(high)}{after}之间" if zh else f"is between {num(low)} and {num(high)}{after}"
    elif pd.notna(low):
        where = f"高于 {num(low)}{after}" if zh else f"is above {num(low)}{after}"
    else:
        where = f"低于 {num(high)}{after}" if zh else f"is below {num(high)}{after}"
    return f"{name}{where}（其取值范围 {span}）" if zh else f"{name} {where} (its range {span})"


def box_sentence(found: Discovery, lang: str = "zh") -> str:
    """The chosen box in one plain sentence: "目标在以下情形下多半落空：…" / "The goal mostly fails
    when ...", each limit in words, with coverage, density and the failure rate overall."""
    zh = lang == "zh"
    rate = _percent(found.failure_rate, lang)
    if found.failure_rate == 0:
        return "目标在所有模拟中都达成，没有落空的情形可分析。" if zh else \
            "The goal is met in every replication: there is no failure to explain."
    if found.failure_rate == 1:
        return "目标在所有模拟中都落空，与各不确定因素的取值无关。" if zh else \
            "The goal fails in every replication, whatever the circumstances."
    if found.box.empty:
        return (f"目标的落空不集中在某组情形：{rate} 的模拟落空，"
                "没有哪个不确定因素的取值范围能显著提高这一比例。" if zh else
                f"The goal's failures do not concentrate in any set of circumstances: {rate} of the replications "
                "fail, and no range of any uncertainty raises that share significantly.")
    clauses = [limit_clause(row, lang) for _, row in found.box.iterrows()]
    cov, dens = _percent(found.coverage, lang), _percent(found.density, lang)
    if zh:
        return (f"目标在以下情形下多半落空：{'，且'.join(clauses)}（覆盖 {cov} 的落空情形，其中 {dens} 落空；"
                f"全部模拟中 {rate} 落空）。")
    joined = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
    return (f"The goal mostly fails when {joined} (covering {cov} of the failures, {dens} of which fail; "
            f"{rate} of all replications fail).")


def box_display(found: Discovery, lang: str = "zh") -> pd.DataFrame:
    """The chosen box as a reader's table: uncertainty (name), limit in words, range, qp."""
    zh = lang == "zh"
    rows = []
    for _, row in found.box.iterrows():
        qps = [q for q in (row["qp_low"], row["qp_high"]) if pd.notna(q)]
        scale, sign = (100.0, "%") if row["unit"] in PERCENT_UNITS else (1.0, "")  # as the sentence says it

        def num(v: float) -> str:
            return "" if pd.isna(v) else number(scale * v) + sign
        rows.append({"不确定因素" if zh else "uncertainty": row["name_zh"] if zh else row["name_en"],
                     "下限" if zh else "low": num(row["low"]), "上限" if zh else "high": num(row["high"]),
                     "取值范围" if zh else "range": f"{num(row['range_low'])}–{num(row['range_high'])}",
                     "qp": (f"{max(qps):.3f}" if max(qps) >= 0.001 else "<0.001") if qps else ""})
    return pd.DataFrame(rows, columns=["不确定因素", "下限", "上限", "取值范围", "qp"] if zh else
                        ["uncertainty", "low", "high", "range", "qp"])


def discover_headline(results: Results, lang: str = "zh", threshold: float = THRESHOLD) -> list[dict]:
    """Why each of the three headline goals of 2020 (:data:`model.plans.HEADLINE_2020`) fails.

    For the brief: one dict per goal, in the plans' order, with ``target_id``, ``sentence``
    (:func:`box_sentence` in ``lang``), ``table`` (:func:`box_display`: the box's limits, a row
    each, headers in ``lang``) and ``discovery`` (the :class:`Discovery`, for the numbers).
    ``results`` must hold its sampled inputs (a run just simulated, not a saved one).
    """
    out = []
    for target in HEADLINE_2020:
        found = discover(results, target, threshold=threshold)
        out.append({"target_id": target, "sentence": found.sentence(lang), "table": box_display(found, lang),
                    "discovery": found})
    return out
