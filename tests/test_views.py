"""Joint, per-department and district views."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from model import load_registry, load_scenario, simulate
from model.cli import main
from model.plans import HEADLINE_2020
from model.stats import wilson
from model.targets import Target
from model.views import departments, joint, units
from tests.paths import ROOT


@pytest.fixture(scope="module")
def run():
    return simulate(load_scenario(ROOT / "scenarios" / "plan.toml"), replications=1_000, seed=5)


def _target(id_: str, plan: str) -> Target:
    return Target(id=id_, plan=plan, name_zh=id_, name_en=id_, deadline=dt.date(2018, 12, 31),
                  comparator=">=", threshold=1.0, unit="count", reading=False, responsible=("工信委",),
                  section="", indicator=f"{plan}.x")


def test_joint_on_a_hand_made_case():
    registry = tuple(_target(f"green.t{i}.2018", "green") for i in range(3)) + (_target("smart.a.2018", "smart"),)
    met = {
        "green.t0.2018": np.array([1, 1, 1, 0], bool),
        "green.t1.2018": np.array([1, 1, 0, 0], bool),
        "green.t2.2018": np.array([1, 0, 1, 1], bool),
        "smart.a.2018": np.array([0, 1, 1, 1], bool),
    }
    j = joint(met, registry).set_index("view")
    assert j.loc["plan.green", "probability"] == 0.25  # only the first replication meets all three
    assert j.loc["plan.smart", "probability"] == 0.75
    assert j.loc["all_plan_level", "probability"] == 0.0
    assert (j.loc["plan.green", "targets"], j.loc["plan.innovation", "modelled"]) == (3, 0)
    assert np.isnan(j.loc["plan.innovation", "probability"])  # nothing modelled: no likelihood
    assert j.loc["met_count", "mean"] == 2.75  # counts per replication: 3, 3, 3, 2
    assert (j.loc["met_count", "p10"], j.loc["met_count", "p90"]) == (2, 3)


def test_joint_views_of_a_run(run):
    j = joint(run.met).set_index("view")
    registry = load_registry()
    for plan in ("overcapacity", "green", "techreform"):
        ids = [t.id for t in registry if t.plan == plan and not t.is_district and t.id in run.met]
        every = np.logical_and.reduce([run.met[i] for i in ids])
        assert j.loc[f"plan.{plan}", "probability"] == pytest.approx(every.mean(), abs=0)
        assert j.loc[f"plan.{plan}", "modelled"] == len(ids)
        assert j.loc[f"plan.{plan}", "targets"] == sum(t.plan == plan and not t.is_district for t in registry)
    both = j.loc["headline_2020", "probability"]
    # the interval is the Wilson interval of the count, unrounded in memory
    k = int(np.logical_and.reduce([run.met[i] for i in HEADLINE_2020]).sum())
    assert both == k / run.replications
    assert (j.loc["headline_2020", "probability_low"], j.loc["headline_2020", "probability_high"]) == wilson(
        k, run.replications
    )
    # the mean count of targets met is the sum of their likelihoods (linearity of expectation)
    plan_level = [t.id for t in registry if not t.is_district and t.id in run.met]
    count = j.loc["met_count"]
    assert count["mean"] == pytest.approx(sum(run.met[i].mean() for i in plan_level), rel=1e-12)
    assert count["p90"] <= count["modelled"]
    assert j.loc["all_plan_level", "targets"] == 82 and j.loc["districts", "targets"] == 57
    assert j.loc["all_plan_level", "probability"] <= min(
        j.loc[f"plan.{p}", "probability"] for p in ("green", "techreform")
    )


def test_every_unit_has_names_and_every_target_is_listed_under_each_unit(run):
    known, aliases = units()
    registry = load_registry()
    for t in registry:
        for unit in t.responsible:
            assert aliases.get(unit, unit) in known, unit
    d = departments(run.summary)
    assert len(d) == sum(len(t.responsible) for t in registry)
    lead = d[d["role"] == "lead"]
    assert sorted(lead["target_id"]) == sorted(t.id for t in registry)
    for unit, rows in d.groupby("unit", sort=False):
        p = rows["probability"].to_numpy()
        modelled = p[~np.isnan(p)]
        assert np.all(np.diff(modelled) >= 0), unit  # lowest first
        assert not np.any(np.isnan(p[: len(modelled)])), unit  # unmodelled last
    assert "玉川集聚区" not in set(d["unit"])  # the alias is folded into the committee
    sizes = d.groupby("unit", sort=False).size().to_numpy()
    assert np.all(np.diff(sizes) <= 0)  # units with most targets first


def test_districts_sum_to_the_city(run):
    d = run.districts.set_index("district")
    assert len(d) == 20
    total = d.loc["total"]
    body = d.drop(index="total")
    for kind in ("industrial_investment", "investment", "firms"):
        assert total[f"{kind}.mean"] == pytest.approx(body[f"{kind}.mean"].sum(), rel=1e-9)
        assert total[f"{kind}.target"] == pytest.approx(body[f"{kind}.target"].sum())
    # the annex adds up to the city's 2017 targets (40 亿元, 60 firms), and so does the model
    assert total["investment.target"] == pytest.approx(40.0) and total["firms.target"] == 60
    assert total["investment.mean"] == pytest.approx(run.values["techreform.investment.2017"].mean(), rel=1e-9)
    assert total["firms.mean"] == pytest.approx(run.values["techreform.firms.2017"].mean(), rel=1e-9)
    assert total["investment.probability"] == pytest.approx(run.met["techreform.investment.2017"].mean(), abs=0)
    assert total["firms.probability"] == pytest.approx(run.met["techreform.firms.2017"].mean(), abs=0)


def test_run_by_department_prints_units_lowest_first(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                str(ROOT / "scenarios" / "plan.toml"),
                "--replications",
                "500",
                "--out",
                str(tmp_path / "r"),
                "--by-department",
                "--all",
                "--lang",
                "en",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "targets by responsible unit" in out and "-- 工信委" in out and "-- 科技局" in out
    assert out.index("-- 工信委") < out.index("-- 发改委")  # most targets first
    assert (tmp_path / "r" / "departments.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "every target of a plan met" in out and "three headline goals of 2020 together" in out
