"""Drivers: which uncertainties move the likelihood of a target most.

For every sampled uncertainty the replications are split by its draw into the lowest third and
the highest third. The likelihood of meeting a target is computed in each third; the difference
(the *swing*) says how much the target depends on that input under the scenario's assumptions:
"if adoption turns out in the lowest third of its range, the likelihood is 12 %; in the highest
third, 48 %". This is a one-at-a-time reading of the same Monte Carlo replications (no extra
runs): other inputs vary freely inside each third, and an input correlated with another (through
the scenario's ``correlations``) carries part of its partner's effect.

Only inputs that can reach a target are screened: those of the target's own module and of the
modules upstream of it through the scenario's enabled links (:mod:`model.links`). Thousands of
(target, input) pairs are screened at once, so a swing is reported only when it stands out from
the Monte Carlo noise at a family-wise level over the whole table: |swing| > z * se0 with z the
normal quantile for a two-sided 5 % level, Bonferroni-corrected over every pair screened, and se0
the pooled standard error of a difference of two independent proportions under "no effect"
(the two-proportion z-test). The 95 % interval shown with each swing is the plain (uncorrected,
unpooled) normal interval. Discrete inputs are cut between values (see :func:`_terciles`), so
their "thirds" may hold more or fewer than a third of the replications.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .links import LINKS
from .modules import MODULE_NAMES
from .params import all_params
from .stats import z_quantile, z_upper
from .targets import load_registry

TOP = 5  # drivers kept per target in saved tables  # assumption: enough for a brief, short to read
FAMILY_ALPHA = 0.05  # family-wise error level of the screening (two-sided)
MIN_REPLICATIONS = 30  # below this a third holds under 10 replications: no drivers are reported
COLUMNS = ["target_id", "uncertainty", "probability_low", "probability_high", "swing", "swing_low",
           "swing_high", "significant"]


def smallest_third(n: int) -> int:
    """Fewest replications a third of ``n`` may hold to be screened (5 %, and at least
    :data:`MIN_REPLICATIONS` // 3): an input that nearly always takes one value says nothing about
    the rest."""
    return max(MIN_REPLICATIONS // 3, n // 20)


def _terciles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Masks of the lowest and the highest third of ``x``, cut at values, not at ranks.

    A continuous input gives two groups of ``n // 3`` replications. A discrete input (Poisson,
    choice) is cut between values, so a value is never split between groups: the low group is
    every replication at or below the value at rank ``n // 3``, the high group every one at or
    above the value at rank ``n - n // 3`` (above the low group when the two cut values
    coincide). ``None`` when a group would hold fewer than 5 % of the replications (an input
    that nearly always takes one value says nothing about the rest).
    """
    n = len(x)
    third = n // 3
    xs = np.sort(x)
    c_low, c_high = xs[third - 1], xs[n - third]
    low = x <= c_low
    high = x > c_low if c_high <= c_low else x >= c_high
    if min(low.sum(), high.sum()) < smallest_third(n):
        return None
    return low, high


def upstream(enabled: frozenset[str], reads: bool = True) -> dict[str, frozenset[str]]:
    """For each module, the modules whose inputs can reach its indicators under ``enabled`` links
    (a link's source, the modules whose inputs it reads itself, and what reaches those). With
    ``reads=False`` only what links carry from module to module counts: what a lever can reach."""
    reach = {m: {m} for m in MODULE_NAMES}
    changed = True
    while changed:  # transitive closure over the (small) link graph
        changed = False
        for name in enabled:
            link = LINKS[name]
            new = (reach[link.source] | (set(link.reads) if reads else set())) - reach[link.target]
            if new:
                reach[link.target] |= new
                changed = True
    return {m: frozenset(r) for m, r in reach.items()}


def downstream(modules: frozenset[str], enabled: frozenset[str]) -> frozenset[str]:
    """``modules`` and every module an enabled link carries their indicators to, directly or not
    (the modules a change of their levers reaches)."""
    return frozenset(m for m, reach in upstream(enabled, reads=False).items() if reach & modules)


def target_reach(enabled: frozenset[str], target_ids) -> dict[str, frozenset[str]]:
    """For each target id, the modules whose inputs can reach it under ``enabled`` links."""
    modules = upstream(enabled)
    indicator = {t.id: t.indicator for t in load_registry() if t.modelled}
    return {t: modules[indicator[t].split(".", 1)[0]] for t in target_ids}


def screen(inputs: Mapping[str, np.ndarray], met: Mapping[str, np.ndarray],
           reach: Mapping[str, frozenset[str]] | None = None, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Swing of every target's likelihood across every varying input that can reach it.

    Parameters
    ----------
    inputs : mapping
        ``"module.name"`` -> draws, shape (n,) (constant inputs are skipped).
    met : mapping
        ``target_id`` -> bool, shape (n,).
    reach : mapping, optional
        ``target_id`` -> the modules whose inputs may drive it; every input when omitted.
    weights : ndarray, optional
        A conditioned run's replication weights (:meth:`ThirdCounts.of`).

    With fewer than :data:`MIN_REPLICATIONS` replications the table is empty.

    Returns
    -------
    DataFrame
        One row per (target, input): ``target_id, uncertainty, probability_low,
        probability_high, swing, swing_low, swing_high, significant``; probabilities [-].
    """
    names = [k for k in sorted(inputs) if np.ptp(inputs[k]) > 0]
    targets = sorted(met)
    n = len(next(iter(met.values()))) if met else 0
    if not names or not targets or n < MIN_REPLICATIONS:
        return pd.DataFrame(columns=COLUMNS)
    masks = {k: _terciles(inputs[k]) for k in names}
    names = [k for k in names if masks[k] is not None]
    if not names:
        return pd.DataFrame(columns=COLUMNS)
    counts = ThirdCounts.of(np.array([masks[k][0] for k in names]), np.array([masks[k][1] for k in names]),
                            np.column_stack([met[t] for t in targets]), weights)
    return swings(names, targets, counts, reach)


@dataclass
class ThirdCounts:
    """Replications in each input's lowest and highest third, and how many of them meet each target.

    ``n_low``, ``n_high``: ``(inputs,)``; ``k_low``, ``k_high``: ``(inputs, targets)``. Counts of
    blocks add up (:meth:`add`), so a streamed run screens all its replications.
    """

    n_low: np.ndarray
    n_high: np.ndarray
    k_low: np.ndarray
    k_high: np.ndarray

    @classmethod
    def of(cls, low: np.ndarray, high: np.ndarray, met: np.ndarray, weights: np.ndarray | None = None) -> ThirdCounts:
        """From masks ``(inputs, n)`` and met flags ``(n, targets)``.

        With ``weights`` (a conditioned run's) the counts are effective ones: each third's
        weighted share met, over its effective size ``(sum w)^2 / sum w^2``, so the swings and
        their intervals (:func:`swings`) read as for equal weights.
        """
        outcome = met.astype(float)
        low, high = low.astype(float), high.astype(float)
        if weights is None:
            return cls(low.sum(axis=1), high.sum(axis=1), low @ outcome, high @ outcome)
        w = np.asarray(weights, float)
        sizes, counts = [], []
        for mask in (low, high):
            total, squares = mask @ w, mask @ (w * w)
            size = np.divide(total * total, squares, out=np.zeros_like(total), where=squares > 0)
            share = np.divide((mask * w) @ outcome, total[:, None], out=np.zeros((len(total), outcome.shape[1])),
                              where=total[:, None] > 0)
            sizes.append(size)
            counts.append(np.clip(share, 0.0, 1.0) * size[:, None])  # a sum of weights may round past 1
        return cls(sizes[0], sizes[1], counts[0], counts[1])

    def add(self, other: ThirdCounts) -> None:
        for name in ("n_low", "n_high", "k_low", "k_high"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def swings(names: list[str], targets: list[str], counts: ThirdCounts,
           reach: Mapping[str, frozenset[str]] | None = None) -> pd.DataFrame:
    """The swing table of :func:`screen` from the counts of ``names`` x ``targets``."""
    n_low, n_high = counts.n_low[:, None], counts.n_high[:, None]
    k_low, k_high = counts.k_low, counts.k_high   # (inputs, targets)
    p_low, p_high = k_low / n_low, k_high / n_high
    swing = p_high - p_low
    # interval: unpooled standard error; test: pooled under "no effect" (not lenient near 0 or 1)
    se = np.sqrt(p_low * (1 - p_low) / n_low + p_high * (1 - p_high) / n_high)
    pooled = (k_low + k_high) / (n_low + n_high)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_low + 1 / n_high))
    z95 = z_quantile()
    screened = np.ones(swing.shape, dtype=bool)
    if reach is not None:
        module_of = np.array([k.split(".", 1)[0] for k in names])
        screened = np.column_stack([np.isin(module_of, sorted(reach[t])) for t in targets])
    z_family = z_upper(FAMILY_ALPHA / (2 * max(1, int(screened.sum()))))  # two-sided, Bonferroni
    frame = pd.DataFrame({
        "target_id": np.tile(targets, len(names)),
        "uncertainty": np.repeat(names, len(targets)),
        "probability_low": p_low.ravel(),
        "probability_high": p_high.ravel(),
        "swing": swing.ravel(),
        "swing_low": (swing - z95 * se).ravel(),
        "swing_high": (swing + z95 * se).ravel(),
        "significant": (np.abs(swing) > z_family * se0).ravel(),
    })
    return frame[screened.ravel()].reset_index(drop=True)


def top_drivers(screened: pd.DataFrame, top: int = TOP) -> pd.DataFrame:
    """The ``top`` significant inputs per target by absolute swing, with their names."""
    kept = screened.loc[screened["significant"].astype(bool)].copy()
    kept["order"] = -kept["swing"].abs()
    kept = kept.sort_values(["target_id", "order", "uncertainty"]).groupby("target_id").head(top)
    kept["rank"] = kept.groupby("target_id").cumcount() + 1
    names = _names()
    kept["name_zh"] = kept["uncertainty"].map(lambda k: names.get(k, (k, k))[0])
    kept["name_en"] = kept["uncertainty"].map(lambda k: names.get(k, (k, k))[1])
    columns = ["target_id", "rank", "uncertainty", "name_zh", "name_en", "probability_low",
               "probability_high", "swing", "swing_low", "swing_high"]
    return kept[columns].reset_index(drop=True)


def _names() -> dict[str, tuple[str, str]]:
    return {u.key: (u.about.zh, u.about.en)
            for p in all_params().values() for u in p.uncertainties.values()}
