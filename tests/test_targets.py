"""The registry against the modules: every modelled target reads a declared indicator."""

import datetime as dt

import numpy as np

from model import load_registry
from model.params import all_params, indicator_spec
from model.targets import deadline_value, is_met
from model.timeline import decimal_year, to_date


def test_every_modelled_target_reads_a_declared_indicator_at_its_deadline():
    declared = {spec.key for p in all_params().values() for spec in p.indicators.values()}
    for target in load_registry():
        if not target.modelled:
            continue
        assert target.indicator in declared, target.id
        assert target.indicator.split(".")[0] == target.plan, target.id
        kind = indicator_spec(target.indicator).kind
        if kind == "yearly":  # yearly values are at year ends, so the deadline must be one
            assert (target.deadline.month, target.deadline.day) == (12, 31), target.id
        if kind == "event":
            assert target.is_milestone, target.id


def test_headline_goals_are_modelled():
    ids = {t.id: t for t in load_registry()}
    for target in ("green.energy_intensity_cut.2017", "green.energy_intensity_cut.2018",
                   "green.energy_intensity_cut.2020", "techreform.investment_share.2017",
                   "techreform.investment_share.2018", "techreform.investment_share.2020",
                   "overcapacity.zombie_disposed.2018", "overcapacity.zombie_disposed.2019"):
        assert ids[target].modelled


def test_comparators_and_nan():
    target = next(t for t in load_registry() if t.id == "techreform.investment_share.2018")  # "> 20 %"
    values = np.array([19.9, 20.0, 20.1, np.nan])
    np.testing.assert_array_equal(is_met(target, values), [False, False, True, False])
    yearly = np.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(deadline_value(target, "yearly", yearly), [2.0, 7.0])


def test_milestones_compare_decimal_years_at_the_end_of_the_day():
    target = next(t for t in load_registry() if t.id == "overcapacity.zombie_survey.2017")
    on_time = decimal_year(dt.date(2017, 6, 30))
    np.testing.assert_array_equal(is_met(target, np.array([on_time, on_time + 1e-6, np.inf])), [True, False, False])
    assert to_date(on_time) == dt.date(2017, 6, 30) and to_date(on_time + 1e-6) == dt.date(2017, 7, 1)
    assert decimal_year(dt.date(2018, 12, 31)) == 2019.0 and to_date(2019.0) == dt.date(2018, 12, 31)
