"""Checks on the target registry data file ``model/data/targets.toml``.

The registry must hold every target of the shared ``reference/targets.md`` (139 ids: 82 plan-level,
57 district-level) with the conventions documented at the top of the TOML file. These tests read
the file with ``tomllib`` only, so they do not depend on the loader in ``model/targets.py``.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from model.modules.districts import DISTRICTS
from model.params import module_params

REGISTRY = Path(__file__).parents[1] / "model/data/targets.toml"

PLANS = ("overcapacity", "green", "smart", "techreform", "innovation")
COMPARATORS = {">=", ">", "<=", "<", "=="}
UNITS = {"%", "pp", "亿元", "万吨", "firms", "count", "date", "%/yr"}
REQUIRED_KEYS = {
    "id", "plan", "name_zh", "name_en", "deadline", "comparator", "threshold", "unit",
    "reading", "responsible", "section",
}
OPTIONAL_KEYS = {"indicator", "note_en"}

# The plan-level ids of reference/targets.md ("All ids"), in its order.
PLAN_LEVEL_IDS = """
overcapacity.coal_capacity_cut.2017 overcapacity.coal_capacity_cut.2018
overcapacity.substandard_steel_removed.2017 overcapacity.cement_closed.2017
overcapacity.coal_power_plan.2017 overcapacity.small_polluters_closed.2017
overcapacity.small_polluters_relapse.2020 overcapacity.zombie_survey.2017
overcapacity.zombie_plan.2017 overcapacity.zombie_disposed.2018 overcapacity.zombie_disposed.2019
green.energy_intensity_cut.2017 green.energy_intensity_cut.2018 green.energy_intensity_cut.2020
green.ep_industry_growth.2020 green.green_factories.2017 green.green_factories.2018
green.green_factories.2020 green.green_parks.2018 green.green_parks.2020 green.circular_park.2020
green.efficiency_leaders.2018 green.efficiency_leaders.2020 green.cleaner_audit_coverage.2018
green.energy_mgmt_centers.2020 green.ep_firms.2020 smart.iim_pilots.2017 smart.iim_pilots.2020
smart.iim_certified.2020 smart.self_assessment.2017 smart.self_assessment.2020
smart.smart_factories.2017 smart.smart_factories.2020 smart.service_mfg_demos.2017
smart.service_mfg_demos.2020 smart.platform_penetration.2020 smart.shuangchuang_bases.2020
techreform.investment_share.2017 techreform.investment_share.2018 techreform.investment_share.2020
techreform.investment.2017 techreform.investment.2018 techreform.investment.2020
techreform.growth_gap.2017 techreform.growth_gap.2018 techreform.growth_gap.2019
techreform.growth_gap.2020 techreform.demo_projects.2017 techreform.demo_projects.2018
techreform.firms.2017 techreform.firms.2018 techreform.firms_completed_share.2017
techreform.firms_completed_share.2020 techreform.innovation_centre.2020
techreform.new_products.2017 techreform.new_products.2018 techreform.new_products.2019
techreform.new_products.2020 techreform.quality_boutiques.2017 techreform.quality_boutiques.2018
techreform.quality_boutiques.2019 techreform.quality_boutiques.2020 innovation.leading_firms.2017
innovation.leading_firms.2018 innovation.hightech_firms.2017 innovation.hightech_firms.2018
innovation.hightech_firms.2020 innovation.tech_giants.2017 innovation.tech_smes.2017
innovation.new_rd_institutions.2018 innovation.new_rd_institutions.2020
innovation.rd_institution_coverage.2018 innovation.rd_institution_coverage.2020
innovation.innovation_teams.2018 innovation.innovation_teams.2020 innovation.high_level_teams.2018
innovation.high_level_teams.2020 innovation.rd_intensity.2018 innovation.hightech_va_growth.2018
innovation.national_platforms.2020 innovation.provincial_platforms.2020
innovation.city_platforms.2020
""".split()

# Annex 附件 (技术改造2017年攻坚目标任务分解表), in its order, from its one copy
# (model/data/districts.toml): pinyin, short name, industrial investment [亿元],
# tech-renovation investment [亿元], firms. The totals are the city's 2017 targets (an
# independent check of the file).
ANNEX = [(d.id, d.zh, d.industrial_investment, d.investment, d.firms) for d in DISTRICTS]
ANNEX_TOTALS = {"industrial_investment": 240, "investment": 40, "firms": 60}
DISTRICT_KINDS = ("industrial_investment", "investment", "firms")

# Thresholds targets.md marks *(reading)*: 基本 / 普遍 / 突破 / 严防死灰复燃. hightech_firms .2017
# and .2018 ("突破13家", "突破15家", read as reach) are marked there too; .2020 says 达到30家.
READINGS = {
    "overcapacity.small_polluters_relapse.2020",
    "overcapacity.zombie_disposed.2019",
    "green.cleaner_audit_coverage.2018",
    "techreform.firms_completed_share.2020",
    "innovation.rd_institution_coverage.2020",
    "innovation.hightech_firms.2017",
    "innovation.hightech_firms.2018",
}
MILESTONES = {
    "overcapacity.coal_power_plan.2017",
    "overcapacity.zombie_survey.2017",
    "overcapacity.zombie_plan.2017",
}


def _expected_indicators() -> dict[str, str]:
    """Indicators whose name differs from the target's (every other target reads ``plan.name``)."""
    out = {
        "overcapacity.zombie_survey.2017": "overcapacity.zombie_survey_done",
        "overcapacity.zombie_plan.2017": "overcapacity.zombie_plan_done",
        # deadlines inside a year: the value at that date (scalar) or an event time
        "overcapacity.coal_capacity_cut.2017": "overcapacity.coal_cut_oct2017",
        "overcapacity.coal_capacity_cut.2018": "overcapacity.coal_cut",
        "overcapacity.substandard_steel_removed.2017": "overcapacity.furnaces_removed_jun2017",
        "overcapacity.cement_closed.2017": "overcapacity.cement_closed_oct2017",
        "overcapacity.coal_power_plan.2017": "overcapacity.coal_power_plan_done",
        "overcapacity.small_polluters_closed.2017": "overcapacity.polluters_closed_may2017",
        "overcapacity.small_polluters_relapse.2020": "overcapacity.polluters_relapse",
        # "new in that year" (2017) against a total later (2020)
        "smart.iim_pilots.2017": "smart.iim_pilots_new",
        "smart.smart_factories.2017": "smart.smart_factories_new",
        "smart.service_mfg_demos.2017": "smart.service_mfg_demos_new",
    }
    for y in (2017, 2020):
        out[f"techreform.firms_completed_share.{y}"] = "techreform.completed_share"
    for py, *_ in ANNEX:
        for kind in DISTRICT_KINDS:
            out[f"techreform.district.{py}.{kind}.2017"] = f"techreform.district.{py}.{kind}"
    return out


@pytest.fixture(scope="module")
def targets() -> list[dict]:
    with REGISTRY.open("rb") as fh:
        data = tomllib.load(fh)
    assert set(data) == {"targets"}, f"unexpected top-level keys: {set(data)}"
    return data["targets"]


@pytest.fixture(scope="module")
def by_id(targets) -> dict[str, dict]:
    return {t["id"]: t for t in targets}


def _is_district(target_id: str) -> bool:
    return target_id.startswith("techreform.district.")


def test_ids_unique_and_counts(targets):
    ids = [t["id"] for t in targets]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    assert len(ids) == 139
    assert sum(not _is_district(i) for i in ids) == 82
    assert sum(_is_district(i) for i in ids) == 57


def test_ids_and_order_match_reference(targets):
    assert len(PLAN_LEVEL_IDS) == 82
    expected = PLAN_LEVEL_IDS + [
        f"techreform.district.{py}.{kind}.2017" for py, *_ in ANNEX for kind in DISTRICT_KINDS
    ]
    assert [t["id"] for t in targets] == expected


def test_keys(targets):
    for t in targets:
        keys = set(t)
        assert REQUIRED_KEYS <= keys, f"{t['id']}: missing {REQUIRED_KEYS - keys}"
        unknown = keys - REQUIRED_KEYS - OPTIONAL_KEYS
        assert not unknown, f"{t['id']}: unknown keys {unknown}"


def test_plan_is_first_component_and_plans_in_order(targets):
    for t in targets:
        assert t["plan"] in PLANS, t["id"]
        assert t["plan"] == t["id"].split(".")[0], t["id"]
    order = [PLANS.index(t["plan"]) for t in targets if not _is_district(t["id"])]
    assert order == sorted(order), "plan-level targets must follow the plan order of targets.md"


def test_deadline_year_is_last_id_component(targets):
    for t in targets:
        d = t["deadline"]
        # tomllib gives datetime.date for a local date; a datetime would be a format slip
        assert type(d) is dt.date, f"{t['id']}: deadline must be a TOML local date"
        assert str(d.year) == t["id"].rsplit(".", 1)[1], t["id"]
        assert 2017 <= d.year <= 2020, t["id"]


def test_comparators_and_units(targets):
    for t in targets:
        assert t["comparator"] in COMPARATORS, t["id"]
        assert t["unit"] in UNITS, t["id"]


def test_thresholds_are_numbers_or_milestone_dates(targets):
    for t in targets:
        thr = t["threshold"]
        if t["id"] in MILESTONES:
            assert t["unit"] == "date" and t["comparator"] == "<=", t["id"]
            assert type(thr) is dt.date, f"{t['id']}: milestone threshold must be a date"
            assert thr <= t["deadline"], t["id"]
        else:
            assert t["unit"] != "date", t["id"]
            assert isinstance(thr, (int, float)) and not isinstance(thr, bool), t["id"]
            assert math.isfinite(thr) and thr >= 0, t["id"]
            if t["unit"] == "%":
                assert thr <= 100, f"{t['id']}: percentages are in percent (0-100)"


def test_names_and_responsible_nonempty(targets):
    for t in targets:
        for key in ("name_zh", "name_en", "section"):
            assert isinstance(t[key], str) and t[key].strip(), f"{t['id']}: empty {key}"
        resp = t["responsible"]
        assert isinstance(resp, list) and resp, f"{t['id']}: responsible must be a non-empty list"
        assert all(isinstance(r, str) and r.strip() for r in resp), t["id"]
        assert len(set(resp)) == len(resp), f"{t['id']}: repeated unit"
        if "note_en" in t:
            assert isinstance(t["note_en"], str) and t["note_en"].strip(), t["id"]


def test_readings_are_exactly_the_marked_set(targets):
    for t in targets:
        assert isinstance(t["reading"], bool), t["id"]
    assert {t["id"] for t in targets if t["reading"]} == READINGS


def test_every_target_reads_a_declared_indicator_of_its_plan(targets):

    special = _expected_indicators()
    for t in targets:
        indicator = t.get("indicator")
        assert indicator, f"{t['id']}: not modelled"
        plan, name = t["id"].split(".")[:2]
        assert indicator == special.get(t["id"], f"{plan}.{name}"), t["id"]
        module, _, short = indicator.partition(".")
        spec = module_params(module).indicators[short]
        deadline = t["deadline"]
        if spec.kind == "yearly":  # read at a year end: the deadline must be one
            assert (deadline.month, deadline.day) == (12, 31), t["id"]
        if t["unit"] == "date":
            assert spec.kind == "event", t["id"]


def test_district_rows_match_annex_and_sum_to_totals(by_id):
    totals = dict.fromkeys(DISTRICT_KINDS, 0.0)
    for py, zh, *values in ANNEX:
        for kind, value in zip(DISTRICT_KINDS, values):
            t = by_id[f"techreform.district.{py}.{kind}.2017"]
            assert t["plan"] == "techreform"
            assert t["comparator"] == ">="
            assert t["deadline"] == dt.date(2017, 12, 31)
            assert t["unit"] == ("firms" if kind == "firms" else "亿元")
            assert t["threshold"] == pytest.approx(value, abs=1e-12)
            assert t["responsible"][0] == zh and "工信委" in t["responsible"]
            assert t["name_zh"].startswith(zh)
            totals[kind] += t["threshold"]
    for kind, total in ANNEX_TOTALS.items():
        assert abs(totals[kind] - total) <= 1e-9, kind


def test_district_rows_carry_the_names_of_the_districts_file(by_id):
    """Every remaining copy of a district's names (targets.toml rows) agrees with districts.toml."""
    assert len(DISTRICTS) == 19 and len({d.id for d in DISTRICTS}) == 19
    for d in DISTRICTS:
        for kind in DISTRICT_KINDS:
            t = by_id[f"techreform.district.{d.id}.{kind}.2017"]
            assert t["name_en"].startswith(f"{d.en}: "), t["id"]
            assert t["note_en"] == f"Annex row {d.zh} ({d.zh_full}, {d.kind}).", t["id"]


def test_district_indicators_are_declared_with_the_districts_names():
    """The district indicators of params/techreform.toml: one per district and kind, named as in
    districts.toml, and no district the file does not hold."""
    indicators = module_params("techreform").indicators
    declared = {name.split(".")[1] for name in indicators if name.startswith("district.")}
    assert declared == {d.id for d in DISTRICTS}
    for d in DISTRICTS:
        for kind in DISTRICT_KINDS:
            spec = indicators[f"district.{d.id}.{kind}"]
            assert spec.zh.startswith(f"{d.zh}：") and spec.en.startswith(f"{d.en} ({d.zh}): "), spec.key


def test_district_totals_agree_with_city_targets(by_id):
    def district_sum(kind):
        return sum(by_id[f"techreform.district.{py}.{kind}.2017"]["threshold"] for py, *_ in ANNEX)

    city_investment = by_id["techreform.investment.2017"]["threshold"]
    city_firms = by_id["techreform.firms.2017"]["threshold"]
    assert abs(district_sum("investment") - city_investment) <= 1e-9
    assert abs(district_sum("firms") - city_firms) <= 1e-9
    # the annex's 40 / 240 亿元 (16.7 %) meets the 2017 share target of 16 %
    share = 100 * district_sum("investment") / district_sum("industrial_investment")
    assert share >= by_id["techreform.investment_share.2017"]["threshold"]


def test_headline_series(by_id):
    cut = [by_id[f"green.energy_intensity_cut.{y}"]["threshold"] for y in (2017, 2018, 2020)]
    assert cut == [4.5, 9, 18]
    share = [by_id[f"techreform.investment_share.{y}"] for y in (2017, 2018, 2020)]
    assert [s["threshold"] for s in share] == [16, 20, 30]
    assert [s["comparator"] for s in share] == [">=", ">", ">"]
    zombie = [by_id[f"overcapacity.zombie_disposed.{y}"] for y in (2018, 2019)]
    assert [z["threshold"] for z in zombie] == [70, 95]
    assert all(z["unit"] == "%" and z["comparator"] == ">=" for z in zombie)


def test_specific_conventions(by_id):
    relapse = by_id["overcapacity.small_polluters_relapse.2020"]
    assert (relapse["comparator"], relapse["threshold"], relapse["reading"]) == ("<=", 0, True)
    for i in ("overcapacity.substandard_steel_removed.2017", "overcapacity.cement_closed.2017"):
        assert (by_id[i]["comparator"], by_id[i]["threshold"], by_id[i]["unit"]) == (">=", 100, "%")
    assert by_id["green.ep_industry_growth.2020"]["unit"] == "%/yr"
    for y in (2017, 2018, 2019, 2020):
        gap = by_id[f"techreform.growth_gap.{y}"]
        assert (gap["unit"], gap["comparator"], gap["threshold"]) == ("pp", ">=", 10)
    coal = by_id["overcapacity.coal_capacity_cut.2018"]
    assert coal["threshold"] == 120 + 81 and coal["unit"] == "万吨"
    assert by_id["overcapacity.zombie_survey.2017"]["threshold"] == dt.date(2017, 6, 30)
    assert by_id["overcapacity.zombie_plan.2017"]["threshold"] == dt.date(2017, 12, 31)
    assert by_id["overcapacity.coal_power_plan.2017"]["threshold"] == dt.date(2017, 6, 30)
