"""The outside view of the 2020 energy-intensity goal (issue 10 item 6).

A planner's first objection to a low likelihood is the record: provinces have nearly always met
their five-year energy targets. :func:`outside_view` sets the model's likelihood of
``green.energy_intensity_cut.2020`` beside that base rate (``data/outside_view.toml``) and counts,
from the run's replications, what the target-responsibility feedback (link
``responsibility_energy``) did: how often the city was behind the plan's path, how often it caught
up, how often it limited production and at what cost. :func:`sentence` turns those counts into one
sentence in Chinese or English on why the model differs from the record::

    view = outside_view(run)          # a Results or a SavedRun
    sentence(view, "zh")

Everything here is a pure function of arrays; a run hands them over through
:meth:`model.runs.Run.kept_yearly` (a saved run keeps them in ``replications.npz``).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .modules.green import FEEDBACK_LINK
from .plans import HEADLINE_GOALS
from .readable import percent_text
from .stats import share_interval, wilson
from .tables import quantiles
from .timeline import YEARS, year_index

__all__ = ["FEEDBACK_LINK", "GOAL", "INDICATORS", "OUTSIDE_FILE", "BaseRate", "OutsideView", "base_rate",
           "escalation", "load_outside", "outside_table", "outside_view", "sentence"]

OUTSIDE_FILE = Path(__file__).parent / "data" / "outside_view.toml"
#: The 2020 energy-intensity goal: the final target of the headline indicator (``data/plans.toml``).
GOAL = dict(HEADLINE_GOALS)["green.energy_intensity_cut"][-1]
GDP_LINK = "production_limits_gdp"
#: Yearly indicators the outside view reads, per replication (a saved run keeps these).
INDICATORS = ("green.path_shortfall", "green.production_limit", "green.limit_output_loss", "innovation.gdp",
              "macro.industry_share")
#: A shortfall above this counts as behind the path [points]: a production limit brings the cut
#: back to the path up to rounding, which leaves ~1e-14 points.
BEHIND = 1e-6
#: Years whose end the view reports (the yearly assessments after the first).
ASSESSED = (2018, 2019)


@dataclass(frozen=True)
class BaseRate:
    """The record shown as the base rate: ``met`` of ``of`` units, with its Wilson interval."""

    id: str
    zh: str
    en: str
    met: int
    of: int
    source_zh: str
    source_en: str
    cite_zh: str
    cite_en: str
    published: str

    @property
    def share(self) -> float:
        return self.met / self.of

    @property
    def interval(self) -> tuple[float, float]:
        """95 % Wilson interval of the share (:func:`model.stats.wilson`)."""
        return wilson(self.met, self.of)


@dataclass(frozen=True)
class OutsideView:
    """The model's likelihood of the 2020 goal beside the base rate, and what the feedback did.

    Shares are of all replications unless named otherwise; NaN where the group they are taken
    of is empty. Losses are over the replications with any production limit.

    Attributes
    ----------
    base : BaseRate
    replications : int
    likelihood : float
        Share meeting :data:`GOAL` [0-1]; ``likelihood_interval`` its Wilson interval.
    feedback : bool
        Whether the link ``responsibility_energy`` was on.
    recorded : bool
        Whether the run held the yearly indicators (a run saved before they were kept does not).
    behind : dict
        Year -> share behind the plan's path at the end of that year (:data:`ASSESSED`).
    met_if_behind : dict
        Year -> share of those behind at its end that meet the goal in 2020.
    limited_if_behind_met : float
        Of those behind at the end of 2018 that meet the goal, the share that limited production.
    limited : float
        Share that limited production in any year; ``limited_by_year`` per year.
    met_with_limits : float
        Of the replications meeting the goal, the share that limited production.
    loss_mean, loss_median : float
        Above-scale industrial value added lost to limits, summed over the years [% of a year's].
    lost_yi_mean : float
        The same in 100 million yuan (亿元, current prices); NaN without the GDP level.
    """

    base: BaseRate
    replications: int
    likelihood: float
    likelihood_interval: tuple[float, float]
    feedback: bool
    recorded: bool
    behind: dict[int, float]
    met_if_behind: dict[int, float]
    limited_if_behind_met: float
    limited: float
    limited_by_year: dict[int, float]
    met_with_limits: float
    loss_mean: float
    loss_median: float
    lost_yi_mean: float


@cache
def load_outside(path: Path = OUTSIDE_FILE) -> dict[str, Any]:
    """The records of ``outside_view.toml`` by id, and the id of the one shown (``"shown"``)."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    records = {r["id"]: r for r in data["records"]}
    shown = data["shown"]["record"]
    if shown not in records or records[shown]["kind"] != "count":
        raise ValueError(f"{path.name}: [shown] record {shown!r} is not a count record of the file")
    return {"records": records, "shown": shown}


def base_rate(path: Path = OUTSIDE_FILE) -> BaseRate:
    """The record the outputs show as the base rate (``[shown]`` of ``outside_view.toml``)."""
    data = load_outside(path)
    r = data["records"][data["shown"]]
    published = r["published"]
    return BaseRate(r["id"], r["zh"], r["en"], int(r["met"]), int(r["of"]), r["source_zh"], r["source_en"],
                    r["cite_zh"], r["cite_en"],
                    published.isoformat() if isinstance(published, dt.date) else str(published))


def _share(mask: np.ndarray, of: np.ndarray | None = None, weights: np.ndarray | None = None) -> float:
    """Share of ``mask`` among ``of`` (all when None), weighted by ``weights`` when given; NaN
    when ``of`` is empty (or weighs nothing)."""
    w = np.ones(mask.shape[0]) if weights is None else np.asarray(weights, float)
    if of is not None:
        mask, w = mask[of], w[of]
    total = float(w.sum())
    return float(np.sum(w * mask)) / total if mask.size and total > 0 else math.nan


def _mean_median(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    """Mean and median of ``x``; weighted (the median as the inverted CDF at 0.5) with ``w``."""
    if not x.size:
        return math.nan, math.nan
    if w is None:
        return float(x.mean()), float(np.median(x))
    return float(np.sum(w * x) / w.sum()), float(quantiles(x, (0.5,), w)[0])


def _lost_yi(yearly: Mapping[str, np.ndarray], gdp_link: bool) -> np.ndarray | None:
    """Value added lost to limits per replication and year [亿元], None without the GDP level.

    The loss is ``L * s * GDP`` with ``L`` the share of above-scale industrial value added lost
    and ``s`` that industry's share of GDP; with the link ``production_limits_gdp`` on, the GDP
    the run holds is after the loss (``GDP (1 - L s)``), so it is scaled back first.
    """
    if "innovation.gdp" not in yearly or "macro.industry_share" not in yearly:
        return None
    lost = np.asarray(yearly["green.limit_output_loss"], float) / 100.0
    lost = lost * np.asarray(yearly["macro.industry_share"], float) / 100.0
    gdp = np.asarray(yearly["innovation.gdp"], float)
    return lost * (gdp / (1.0 - lost) if gdp_link else gdp)


def escalation(met: np.ndarray, yearly: Mapping[str, np.ndarray], *, feedback: bool,
               gdp_link: bool = True, base: BaseRate | None = None, weights: np.ndarray | None = None) -> OutsideView:
    """The outside view from the replications (the pure core of :func:`outside_view`).

    Parameters
    ----------
    met : numpy.ndarray
        Whether each replication meets :data:`GOAL`, bool ``(n,)``.
    yearly : mapping
        ``green.path_shortfall`` [points], ``green.production_limit`` and ``green.limit_output_loss``
        [%], and optionally ``innovation.gdp`` [亿元] and ``macro.industry_share`` [%], each
        ``(n, len(YEARS))``. Empty: the run holds no yearly record (``recorded`` False, NaN counts).
    feedback : bool
        Whether the link ``responsibility_energy`` was on.
    gdp_link : bool
        Whether the link ``production_limits_gdp`` was on (the GDP held is then after the loss).
    base : BaseRate, optional
        Default :func:`base_rate`.
    weights : ndarray, optional
        A conditioned run's replication weights: every share and mean is weighted, the
        likelihood's interval counts the effective sample size (:func:`model.stats.share_interval`).
    """
    met = np.asarray(met, bool)
    n = met.size
    base = base_rate() if base is None else base
    recorded = all(k in yearly for k in INDICATORS[:3])
    nan_years = {y: math.nan for y in ASSESSED}
    likelihood, low, high = share_interval(met, weights)
    common = {"base": base, "replications": n, "likelihood": likelihood,
              "likelihood_interval": (low, high), "feedback": feedback, "recorded": recorded}
    if not recorded:
        return OutsideView(**common, behind=nan_years, met_if_behind=nan_years, limited_if_behind_met=math.nan,
                           limited=math.nan, limited_by_year=dict.fromkeys(YEARS[2:], math.nan),
                           met_with_limits=math.nan, loss_mean=math.nan, loss_median=math.nan,
                           lost_yi_mean=math.nan)
    shortfall = np.asarray(yearly["green.path_shortfall"], float)
    limit = np.asarray(yearly["green.production_limit"], float) > 0.0
    any_limit = limit.any(axis=1)
    behind = {y: shortfall[:, year_index(y)] > BEHIND for y in ASSESSED}
    loss = np.asarray(yearly["green.limit_output_loss"], float).sum(axis=1)[any_limit]
    w = None if weights is None else np.asarray(weights, float)
    w_limited = None if w is None else w[any_limit]
    lost_yi = _lost_yi(yearly, gdp_link)
    first = behind[ASSESSED[0]]
    loss_mean, loss_median = _mean_median(loss, w_limited)
    lost_mean = (_mean_median(lost_yi.sum(axis=1)[any_limit], w_limited)[0]
                 if lost_yi is not None and loss.size else math.nan)
    return OutsideView(
        **common,
        behind={y: _share(b, weights=w) for y, b in behind.items()},
        met_if_behind={y: _share(met, b, w) for y, b in behind.items()},
        limited_if_behind_met=_share(any_limit, first & met, w),
        limited=_share(any_limit, weights=w),
        limited_by_year={y: _share(limit[:, year_index(y)], weights=w) for y in YEARS[2:]},
        met_with_limits=_share(any_limit, met, w),
        loss_mean=loss_mean,
        loss_median=loss_median,
        lost_yi_mean=lost_mean,
    )


def outside_view(run) -> OutsideView:
    """The outside view of a run (:class:`model.results.Results` or :class:`model.runs.SavedRun`)."""
    links = run.settings.get("links", {})
    return escalation(run.met[GOAL], run.kept_yearly(), feedback=bool(links.get(FEEDBACK_LINK, True)),
                      gdp_link=bool(links.get(GDP_LINK, True)), weights=run.condition_weights)


# -- the sentence ---------------------------------------------------------------------------------
def pct(x: float) -> str:
    """A share as a whole percentage; one decimal below 10 % and above 99 % (``<0.1%`` for a few)."""
    if x is None or math.isnan(x):
        return ""
    v = 100.0 * x
    if 0 < v < 10 or 99 < v < 100:  # one decimal, <0.1% and >99.9% at its ends (never "0.0%" for a few)
        return percent_text(x)
    return f"{v:.0f}%"


def _yi(x: float) -> str:
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


def _compare(view: OutsideView) -> str:
    """``"below"``, ``"within"`` or ``"above"``: the model's likelihood against the base rate,
    by their 95 % intervals (apart, or overlapping: "within")."""
    low, high = view.base.interval
    model_low, model_high = view.likelihood_interval
    return "below" if model_high < low else "above" if model_low > high else "within"


_ZH = {"below": "低于历史水平", "within": "与历史水平相当", "above": "高于历史水平"}


def _parts_zh(v: OutsideView) -> list[str]:
    b, y = v.base, ASSESSED[0]
    head = (f"历史上{b.met}/{b.of}（{pct(b.share)}）的省份完成了“十一五”五年节能目标；"
            f"本模型认为济源2020年达标的可能性为{pct(v.likelihood)}，{_ZH[_compare(v)]}")
    if not v.recorded:
        return [head, "本次保存的运行没有逐年考核记录，无法说明原因，请重新运行该情景"]
    if not v.feedback:
        return [head, f"本次运行关闭了能耗目标责任考核反馈（落后于进度时不加码、不限产），而各省正是靠加码完成目标的；"
                      f"在{pct(v.behind[y])}的情景中{y}年底落后于规划进度"]
    if v.behind[y] == 0:
        why = f"所有情景在{y}年底均达到规划进度"
    else:
        why = f"在{pct(v.behind[y])}的情景中{y}年底落后于规划进度，其中{pct(v.met_if_behind[y])}在2020年仍达标"
        if v.met_if_behind[y] > 0:
            why += f"（其中{pct(v.limited_if_behind_met)}靠限产）"
    if v.limited == 0:
        cost = "没有情景需要限产"
    else:
        cost = f"{pct(v.limited)}的情景需要限产，平均损失规上工业增加值{v.loss_mean:.1f}%（按一年计）"
        if not math.isnan(v.lost_yi_mean):
            cost += f"，约{_yi(v.lost_yi_mean)}亿元"
    return [head, why, cost]


def _parts_en(v: OutsideView) -> list[str]:
    b, y = v.base, ASSESSED[0]
    word = {"below": "below", "within": "in line with", "above": "above"}[_compare(v)]
    head = (f"{b.met} of {b.of} provinces ({pct(b.share)}) met their 11th five-year energy target; this model "
            f"gives Jiyuan's 2020 goal {pct(v.likelihood)}, {word} that record")
    if not v.recorded:
        return [head, "this saved run holds no yearly record of the assessments to say why; run the scenario again"]
    if not v.feedback:
        return [head, "the target-responsibility feedback is off in this run (a city behind the path does no more "
                      "and never limits production, whereas provinces met their targets by doing more); "
                      f"behind the plan's path at the end of {y} in {pct(v.behind[y])} of futures"]
    if v.behind[y] == 0:
        why = f"every future is on the plan's path at the end of {y}"
    else:
        why = (f"behind the plan's path at the end of {y} in {pct(v.behind[y])} of futures, of which "
               f"{pct(v.met_if_behind[y])} still meet the goal in 2020")
        if v.met_if_behind[y] > 0:
            why += f" ({pct(v.limited_if_behind_met)} of these through production limits)"
    if v.limited == 0:
        cost = "no future limits production"
    else:
        cost = (f"production is limited in {pct(v.limited)} of futures, at an average cost of "
                f"{v.loss_mean:.1f}% of a year's above-scale industrial value added")
        if not math.isnan(v.lost_yi_mean):
            cost += f" (about {v.lost_yi_mean / 10:.2f} billion yuan)"
    return [head, why, cost]


def sentence(view: OutsideView, lang: str = "zh") -> str:
    """One sentence on why the model's likelihood differs from the base rate, from the run's counts.

    Parameters
    ----------
    view : OutsideView
    lang : {"zh", "en"}
    """
    if lang == "zh":
        return "：".join(_parts_zh(view)[:2]) + "".join(f"；{p}" for p in _parts_zh(view)[2:]) + "。"
    if lang == "en":
        parts = _parts_en(view)
        return parts[0] + ": " + "; ".join(parts[1:]) + "."
    raise ValueError(f"lang must be zh or en, found {lang!r}")


def outside_table(view: OutsideView) -> pd.DataFrame:
    """The view as a tidy table (``outside_view.csv`` of a saved run): one row per figure, then
    the two sentences (``measure`` ``sentence``, the text in ``zh`` and ``en``)."""
    b = view.base
    rows = [
        ("likelihood", "", view.likelihood, "share", f"{GOAL} 达标可能性", f"likelihood of {GOAL}"),
        ("likelihood_low", "", view.likelihood_interval[0], "share", "95% 区间下限", "95 % interval, low"),
        ("likelihood_high", "", view.likelihood_interval[1], "share", "95% 区间上限", "95 % interval, high"),
        ("base_rate", "", b.share, "share", f"历史基准率：{b.zh}（{b.met}/{b.of}，{b.cite_zh}，{b.published}）",
         f"base rate: {b.en} ({b.met} of {b.of}, {b.cite_en}, {b.published})"),
        ("base_rate_low", "", b.interval[0], "share", "基准率 95% 区间下限", "base rate, 95 % interval, low"),
        ("base_rate_high", "", b.interval[1], "share", "基准率 95% 区间上限", "base rate, 95 % interval, high"),
        ("feedback", "", float(view.feedback), "0/1", "能耗目标责任考核反馈是否开启",
         "target-responsibility feedback on"),
    ]
    for y in ASSESSED:
        rows.append(("behind", y, view.behind[y], "share", "年底落后于规划进度的情景比例",
                     "share of futures behind the plan's path at the year end"))
        rows.append(("met_if_behind", y, view.met_if_behind[y], "share", "其中2020年达标的比例",
                     "of those, share meeting the goal in 2020"))
    rows.append(("limited_if_behind_met", ASSESSED[0], view.limited_if_behind_met, "share",
                 "落后后又达标的情景中靠限产的比例",
                 "of those behind and then meeting it, share with production limits"))
    rows.append(("limited", "", view.limited, "share", "任一年限产的情景比例", "share of futures limiting production"))
    for y, share in view.limited_by_year.items():
        rows.append(("limited", y, share, "share", "当年限产的情景比例",
                     "share of futures limiting production that year"))
    rows += [
        ("met_with_limits", "", view.met_with_limits, "share", "达标情景中需要限产的比例",
         "of the futures meeting the goal, share with production limits"),
        ("loss_mean", "", view.loss_mean, "% of a year's value added", "限产情景平均损失的规上工业增加值（按一年计）",
         "mean above-scale industrial value added lost where production is limited"),
        ("loss_median", "", view.loss_median, "% of a year's value added", "同上，中位数", "the same, median"),
        ("lost_value_added_mean", "", view.lost_yi_mean, "亿元", "同上，平均（亿元，现价）",
         "the same, mean (100 million yuan, current prices)"),
        ("sentence", "", math.nan, "", sentence(view, "zh"), sentence(view, "en")),
    ]
    return pd.DataFrame(rows, columns=["measure", "year", "value", "unit", "zh", "en"])
