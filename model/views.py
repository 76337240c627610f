"""Views across targets: the plans as a whole, each department's share, the districts.

Every view is a pure function of the per-replication ``met`` (target id -> bool (n,)) and
``values`` (target id -> value at the deadline (n,)) arrays that a run holds, so it works the
same on :class:`model.Results` and on a saved run.

* :func:`joint` -- probability that every target of a plan is met, that all three headline goals
  of 2020 hold together, that every plan-level target is met; and the distribution of how many
  plan-level targets are met (mean and 10-90 % range).
* :func:`departments` -- each responsible unit (责任单位) with its targets, lowest likelihood first.
* :func:`districts` -- the 2017 district rows of the tech-renovation annex, with the city total
  that the districts add up to.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from .plans import HEADLINE_2020, PLANS
from .stats import share_interval
from .tables import column_mean, column_quantiles
from .targets import Target, load_registry

UNITS_FILE = Path(__file__).parent / "data" / "units.toml"

_DISTRICT_KINDS = ("industrial_investment", "investment", "firms")


def _all_met(met: Mapping[str, np.ndarray], ids: list[str], n: int) -> np.ndarray:
    out = np.ones(n, dtype=bool)
    for target_id in ids:
        out &= met[target_id]
    return out


def _n(met: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(met.values())))


def joint(met: Mapping[str, np.ndarray], registry: tuple[Target, ...] | None = None,
          weights: np.ndarray | None = None) -> pd.DataFrame:
    """Joint likelihoods over groups of targets.

    Parameters
    ----------
    met : mapping
        Target id -> bool array (n,) for every modelled target.
    registry : tuple of Target, optional
        Defaults to the package registry.
    weights : ndarray, optional
        A conditioned run's replication weights (:func:`model.stats.share_interval`).

    Returns
    -------
    pandas.DataFrame
        One row per view: ``view``, ``name_zh``, ``name_en``, ``targets`` (in the group),
        ``modelled`` (of those, with a likelihood), ``probability``, ``probability_low``,
        ``probability_high`` (Wilson 95 %) that every modelled target of the group is met; the
        row ``met_count`` instead gives the number of plan-level targets met per replication:
        ``mean``, ``p10``, ``p50``, ``p90``. A group with unmodelled targets is marked by
        ``modelled < targets``: its probability covers the modelled ones only.
    """
    registry = load_registry() if registry is None else registry
    n = _n(met)
    plan_level = [t for t in registry if not t.is_district]
    rows = [_group_row(met, n, weights, *group) for group in _joint_groups(registry)]
    rows.append(_met_count_row(met, n, plan_level, weights))
    return pd.DataFrame(rows).reindex(columns=_JOINT_COLUMNS)


_JOINT_COLUMNS = ["view", "name_zh", "name_en", "targets", "modelled", "probability", "probability_low",
                  "probability_high", "mean", "p10", "p50", "p90"]


def _joint_groups(registry: tuple[Target, ...]) -> list[tuple[str, str, str, list[Target]]]:
    """The groups of :func:`joint`: ``(view, name_zh, name_en, targets)`` each."""
    plan_level = [t for t in registry if not t.is_district]
    groups = [(f"plan.{plan}", f"{zh}：全部目标", f"{en}: every target", [t for t in plan_level if t.plan == plan])
              for plan, (zh, en) in PLANS.items()]
    groups.append(("districts", "技术改造分地区目标（2017年）：全部",
                   "Tech-renovation district targets (2017): every one", [t for t in registry if t.is_district]))
    by_id = {t.id: t for t in registry}
    groups.append(("headline_2020", "三大核心目标（2020年）同时实现", "The three headline goals (2020) all met",
                   [by_id[i] for i in HEADLINE_2020 if i in by_id]))
    groups.append(("all_plan_level", "全部市级目标同时实现", "Every plan-level target met", plan_level))
    return groups


def _group_row(met: Mapping[str, np.ndarray], n: int, weights, view: str, zh: str, en: str,
               targets: list[Target]) -> dict:
    """Likelihood (with its Wilson interval) that every modelled target of a group is met."""
    ids = [t.id for t in targets if t.id in met]
    row = {"view": view, "name_zh": zh, "name_en": en, "targets": len(targets), "modelled": len(ids)}
    if ids:
        p, low, high = share_interval(_all_met(met, ids, n), weights)
        row.update(probability=p, probability_low=low, probability_high=high)
    return row


def _met_count_row(met: Mapping[str, np.ndarray], n: int, plan_level: list[Target], weights=None) -> dict:
    """The number of plan-level targets met per replication: mean and 10/50/90 % quantiles."""
    ids = [t.id for t in plan_level if t.id in met]
    count = np.zeros(n)
    for target_id in ids:
        count += met[target_id]
    q10, q50, q90 = column_quantiles({"count": count}, "count", (0.1, 0.5, 0.9), weights)
    mean = column_mean({"count": count}, "count", weights)
    return {"view": "met_count", "name_zh": "实现的市级目标个数", "name_en": "Number of plan-level targets met",
            "targets": len(plan_level), "modelled": len(ids), "mean": float(mean),
            "p10": float(q10), "p50": float(q50), "p90": float(q90)}


@cache
def units() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Responsible units (abridged name -> zh, en, kind) and aliases, from ``data/units.toml``."""
    with open(UNITS_FILE, "rb") as fh:
        doc = tomllib.load(fh)
    return doc["units"], doc.get("aliases", {})


def departments(summary: pd.DataFrame, registry: tuple[Target, ...] | None = None) -> pd.DataFrame:
    """Each responsible unit's targets, lowest likelihood first.

    Parameters
    ----------
    summary : pandas.DataFrame
        A run's summary table (``target_id``, ``probability``, ``probability_low``,
        ``probability_high``, ``status`` ...), as from :meth:`model.Results.summary`.

    Returns
    -------
    pandas.DataFrame
        One row per (unit, target): ``unit`` (abridged, as in the registry), ``unit_zh``,
        ``unit_en``, ``kind`` (department, zone, district, enterprise, other), ``role`` (``lead``
        when the unit is named first for the target, else ``support``), and the target's
        ``target_id``, ``name_zh``, ``name_en``, ``deadline``, ``test``, ``probability``,
        ``probability_low``, ``probability_high``, ``status``. Units come in order of how many
        targets they carry; within a unit, lowest likelihood first and unmodelled targets last.
    """
    registry = load_registry() if registry is None else registry
    known, aliases = units()
    by_id = summary.set_index("target_id")
    rows = []
    for t in registry:
        for i, raw in enumerate(t.responsible):
            unit = aliases.get(raw, raw)
            info = known.get(unit, {"zh": unit, "en": unit, "kind": "other"})
            s = by_id.loc[t.id]
            rows.append(
                {
                    "unit": unit,
                    "unit_zh": info["zh"],
                    "unit_en": info["en"],
                    "kind": info["kind"],
                    "role": "lead" if i == 0 else "support",
                    "target_id": t.id,
                    "name_zh": t.name_zh,
                    "name_en": t.name_en,
                    "deadline": s["deadline"],
                    "test": s["test"],
                    "probability": s["probability"],
                    "probability_low": s["probability_low"],
                    "probability_high": s["probability_high"],
                    "status": s["status"],
                }
            )
    df = pd.DataFrame(rows)
    size = df.groupby("unit")["target_id"].transform("count")
    df = df.assign(_size=-size, _nan=df["probability"].isna())
    df = df.sort_values(["_size", "unit", "_nan", "probability", "target_id"], kind="stable")
    return df.drop(columns=["_size", "_nan"]).reset_index(drop=True)


def districts(
    values: Mapping[str, np.ndarray], met: Mapping[str, np.ndarray], registry: tuple[Target, ...] | None = None,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """The 2017 district targets of the tech-renovation annex, with the city total.

    Parameters
    ----------
    values, met : mapping
        Target id -> (n,) value at the deadline / met, for every modelled target.

    Returns
    -------
    pandas.DataFrame
        One row per district in annex order, then ``total``: ``district`` (pinyin id),
        ``name_zh``, ``name_en``, and for each of ``industrial_investment`` [亿元],
        ``investment`` [亿元] and ``firms``: ``<kind>.target`` (the annex's 2017 figure),
        ``<kind>.mean``, ``<kind>.p10``, ``<kind>.p90`` (simulated 2017 value) and
        ``<kind>.probability`` (of meeting the district's figure; for the total, of meeting the
        sum of the districts' figures). The total row is the per-replication sum over districts,
        so its mean is exactly the sum of the district means; for tech-renovation investment and
        firms it equals the city's simulated 2017 value (the model allocates firms to districts).
    """
    known, _ = units()
    rows = []
    for name, kinds in district_targets(registry).items():
        label = kinds[_DISTRICT_KINDS[0]].responsible[0]
        row = {"district": name, "name_zh": label, "name_en": known.get(label, {}).get("en", name)}
        for kind in _DISTRICT_KINDS:
            t = kinds[kind]
            row[f"{kind}.target"] = float(t.threshold)
            if t.id in values:
                row.update(_describe(kind, values, t.id, _share(met[t.id], weights), weights))
        rows.append(row)
    total = {"district": "total", "name_zh": "合计", "name_en": "Total"}
    quotas = district_quotas(registry)
    sums = values if not isinstance(values, Mapping) else district_totals(values, registry)
    for kind in _DISTRICT_KINDS:
        total[f"{kind}.target"] = quotas.get(kind, np.nan)
        key = f"total.{kind}"
        if key in sums:
            share = met[key] if key in met else _share(np.asarray(sums[key]) >= quotas[kind], weights)
            total.update(_describe(kind, sums, key, share, weights))
    rows.append(total)
    return pd.DataFrame(rows)


def district_targets(registry: tuple[Target, ...] | None = None) -> dict[str, dict[str, Target]]:
    """District (pinyin id, annex order) -> kind -> its 2017 target."""
    by_district: dict[str, dict[str, Target]] = {}
    for t in load_registry() if registry is None else registry:
        if t.is_district:
            _, _, name, kind, _ = t.id.split(".")
            by_district.setdefault(name, {})[kind] = t
    return by_district


def district_quotas(registry: tuple[Target, ...] | None = None) -> dict[str, float]:
    """Kind -> the sum of the districts' 2017 figures."""
    quotas: dict[str, float] = {}
    for kinds in district_targets(registry).values():
        for kind, t in kinds.items():
            quotas[kind] = quotas.get(kind, 0.0) + float(t.threshold)
    return quotas


def district_totals(values: Mapping[str, np.ndarray], registry: tuple[Target, ...] | None = None
                    ) -> dict[str, np.ndarray]:
    """``"total.<kind>"`` -> per-replication sum over the districts of their simulated 2017 value."""
    sums: dict[str, np.ndarray] = {}
    for kinds in district_targets(registry).values():
        for kind in _DISTRICT_KINDS:
            t = kinds[kind]
            if t.id in values:
                key = f"total.{kind}"
                sums[key] = sums.get(key, 0.0) + np.asarray(values[t.id], float)
    return sums


def _share(met, weights=None) -> float:
    """A share met: of a bool array (weighted with ``weights``), or already a share (a streamed
    run's count over replications)."""
    return share_interval(met, weights)[0] if np.ndim(met) else float(met)


def _describe(kind: str, source, key: str, probability: float, weights=None) -> dict[str, float]:
    q10, q90 = column_quantiles(source, key, (0.1, 0.9), weights)
    return {
        f"{kind}.mean": float(column_mean(source, key, weights)),
        f"{kind}.p10": float(q10),
        f"{kind}.p90": float(q90),
        f"{kind}.probability": probability,
    }
