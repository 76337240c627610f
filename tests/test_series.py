"""The published series (issue 10 item 4): the table ``model/data/series.toml``, its loader, ``Run.series``
and ``python -m model series``.

Every computation is checked against the indicator arrays directly, with the formula written out
here (not by calling the module's own functions), on a plan run of 100 replications.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import load_run, simulate
from model.cli.main import main
from model.params import DeclarationError, indicator_spec
from model.series import COMPUTATIONS, SERIES_FILE, SeriesError, compute, load_series, series_spec, series_values
from model.timeline import YEARS

N = 100
SEED = 7
REQUIRED_IDS = (
    "gdp_growth", "industrial_va_growth", "industrial_energy_intensity_change", "industrial_investment_growth",
    "techreform_investment_share", "hightech_firms", "hightech_va_growth", "rd_intensity", "zombie_disposed_share",
)


@pytest.fixture(scope="module")
def results(plan):
    return simulate(plan, N, SEED)


def ind(results, key: str) -> np.ndarray:
    return results.indicators[key]


# -- the table ------------------------------------------------------------------------------------

def test_table_holds_the_issue_ids_and_every_mapping_names_a_declared_yearly_indicator():
    table = load_series()
    assert set(REQUIRED_IDS) <= set(table)
    for spec in table.values():
        assert spec.zh and spec.en and spec.definition and spec.sd_assumption
        assert spec.range[0] < spec.range[1] and spec.sd > 0
        assert spec.compute in COMPUTATIONS
        if spec.modelled:
            for key in spec.indicators:
                assert indicator_spec(key).kind == "yearly", key
        else:
            assert spec.missing
    for series_id in REQUIRED_IDS:  # the nine of the issue all have an indicator today
        assert table[series_id].modelled, series_id


def test_growth_rates_and_shares_are_in_percent_and_levels_in_the_indicators_unit():
    for spec in load_series().values():
        if spec.compute == "level":
            assert spec.unit == indicator_spec(spec.indicator).unit, spec.id
        else:
            assert spec.unit == "%", spec.id
    assert series_spec("hightech_firms").unit == "firms"


# -- Run.series -----------------------------------------------------------------------------------

def test_every_modelled_series_is_a_float_array_of_replications_by_years(results):
    for spec in load_series().values():
        if not spec.modelled:
            with pytest.raises(SeriesError, match="not modelled yet"):
                results.series(spec.id)
            continue
        values = results.series(spec.id)
        assert values.shape == (N, len(YEARS)) == (N, 5) and values.dtype == np.float64, spec.id
        later = values[:, 1:]
        assert np.isfinite(later).all(), spec.id  # 2017-2020 always have a value on the plan run
        finite = values[np.isfinite(values)]
        assert ((finite >= spec.range[0]) & (finite <= spec.range[1])).all(), spec.id  # physically possible


def test_a_series_is_a_copy_not_a_view_of_the_indicator(results):
    values = results.series("hightech_firms")
    values[:] = -1
    assert (ind(results, "innovation.hightech_firms") >= 0).all()


def growth(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for t in range(1, x.shape[1]):
        out[:, t] = 100 * (x[:, t] / x[:, t - 1] - 1)
    return out


def test_growth_is_the_yearly_percent_change_and_2016_has_none(results):
    for series_id, key in [("industrial_investment_growth", "techreform.industrial_investment"),
                           ("techreform_investment_growth", "techreform.investment")]:
        values = results.series(series_id)
        assert np.isnan(values[:, 0]).all()  # 2015 is not modelled
        np.testing.assert_allclose(values[:, 1:], growth(ind(results, key))[:, 1:], rtol=1e-12)


def test_industrial_value_added_growth_compounds_back_to_the_average_growth(results):
    average = ind(results, "green.value_added_growth")  # compound average since 2016 [%/yr]
    values = results.series("industrial_va_growth")
    assert np.isnan(values[:, 0]).all()
    np.testing.assert_allclose(values[:, 1], average[:, 1], rtol=1e-12)  # one year: the average itself
    for t in range(1, len(YEARS)):  # the yearly growth rates multiply to the average over t years
        product = np.prod(1 + values[:, 1 : t + 1] / 100, axis=1)
        np.testing.assert_allclose(product, (1 + average[:, t] / 100) ** t, rtol=1e-12)


def test_energy_intensity_change_is_the_yearly_change_of_the_level_and_negative_for_a_fall(results):
    cut = ind(results, "green.energy_intensity_cut")  # 100 * (1 - I_t / I_2016)
    level = 1 - cut / 100  # I_t / I_2016
    values = results.series("industrial_energy_intensity_change")
    assert np.isnan(values[:, 0]).all()
    np.testing.assert_allclose(values[:, 1:], 100 * (level[:, 1:] / level[:, :-1] - 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(values[:, 1], -cut[:, 1], rtol=1e-12)  # 2017: the cut since 2016, as a change
    assert (np.sign(values[:, 1:]) == -np.sign(np.diff(cut, axis=1))).all()  # a larger cut is a fall
    assert np.median(values[:, 1:]) < 0  # intensity falls on the plan run


def test_levels_are_the_indicators_and_zombie_shares_start_in_2017(results):
    for series_id, key in [("techreform_investment_share", "techreform.investment_share"),
                           ("hightech_firms", "innovation.hightech_firms"),
                           ("hightech_va_growth", "innovation.hightech_va_growth"),
                           ("rd_intensity", "innovation.rd_intensity")]:
        np.testing.assert_array_equal(results.series(series_id), ind(results, key))
    gdp = results.series("gdp_growth")  # the macro layer's yearly real growth, from 2017
    assert np.isnan(gdp[:, 0]).all()
    np.testing.assert_array_equal(gdp[:, 1:], ind(results, "macro.gdp_growth")[:, 1:])
    zombies = results.series("zombie_disposed_share")
    assert np.isnan(zombies[:, 0]).all()  # no zombie was identified before the 2017 survey
    np.testing.assert_array_equal(zombies[:, 1:], ind(results, "overcapacity.zombie_disposed")[:, 1:])


def test_share_is_a_percentage_of_another_indicator(results, tmp_path):
    path = tmp_path / "series.toml"
    path.write_text(ENTRY.format(extra='compute = "share"\nindicator = "techreform.investment"\n'
                                       'of = "techreform.industrial_investment"'), "utf-8")
    spec = load_series(path)["test_series"]
    values = compute(spec, results.indicators)
    investment, industrial = ind(results, "techreform.investment"), ind(results, "techreform.industrial_investment")
    np.testing.assert_allclose(values, 100 * investment / industrial, rtol=1e-12)
    np.testing.assert_allclose(values, ind(results, "techreform.investment_share"), rtol=1e-12)


def test_growth_from_zero_is_missing_not_infinite():
    spec = series_spec("industrial_investment_growth")
    x = np.array([[0.0, 1.0, 2.0, 0.0, 3.0]])
    values = compute(spec, {"techreform.industrial_investment": x})
    np.testing.assert_array_equal(np.isnan(values), [[True, True, False, False, True]])
    np.testing.assert_allclose(values[0, 2:4], [100.0, -100.0])


def test_unknown_id_names_the_nearest_series(results):
    with pytest.raises(SeriesError, match="unknown series 'gdp_grwth'; did you mean 'gdp_growth'"):
        results.series("gdp_grwth")
    with pytest.raises(SeriesError, match="unknown series 'nothing_like_it' \\(python -m model series"):
        results.series("nothing_like_it")


def test_a_saved_run_reads_its_series_as_the_run_gave_them(results, tmp_path):
    saved = load_run(results.save(tmp_path / "plan"))
    for series_id in ("gdp_growth", "industrial_va_growth", "techreform_investment_share"):
        np.testing.assert_array_equal(saved.series(series_id), results.series(series_id))
    with pytest.raises(SeriesError, match="did you mean 'rd_intensity'"):  # the id is checked first
        saved.series("rd_intensty")
    with pytest.raises(SeriesError, match="not modelled yet"):
        saved.series("fixed_investment_growth")


def test_a_run_without_yearly_indicators_says_so():
    with pytest.raises(SeriesError, match=r"saved run .*plan holds no yearly indicators.*macro\.gdp_growth"):
        series_values("gdp_growth", None, run="the saved run runs/plan")


# -- the command ----------------------------------------------------------------------------------

def test_series_command_lists_every_series_chinese_first(capsys):
    assert main(["series"]) == 0
    out = capsys.readouterr().out
    table = load_series()
    for spec in table.values():
        line = next(line for line in out.splitlines() if line.startswith(spec.id + " "))
        assert spec.zh in line and spec.en in line and spec.computed_from() in line, spec.id
        assert line.index(spec.zh) < line.index(spec.en)
    assert "growth(techreform.industrial_investment)" in out and "not modelled yet (growth)" in out
    for spec in table.values():  # why a series has no indicator, and where the indicator differs
        if spec.missing or spec.caveat:
            assert f"  {spec.id}: {spec.missing or spec.caveat}" in out
    assert f"{len(table)} series, {sum(s.modelled for s in table.values())} modelled" in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_series_command_in_one_language(capsys, lang):
    assert main(["series", "--lang", lang]) == 0
    out = capsys.readouterr().out
    spec = series_spec("hightech_firms")
    line = next(line for line in out.splitlines() if line.startswith("hightech_firms "))
    assert (spec.zh in line) == (lang == "zh") and (spec.en in line) == (lang == "en")
    assert ("家" in line) == (lang == "zh")  # the unit in the reader's language


# -- the loader's checks ----------------------------------------------------------------------------

ENTRY = """
[series.test_series]
zh = "测试"
en = "Test"
unit = "%"
published = "统计公报"
definition = "d"
range = [-50, 100]
sd = 0.5
sd_assumption = "a"
{extra}
"""
GOOD = 'compute = "growth"\nindicator = "innovation.gdp"'


def test_a_good_entry_loads(tmp_path):
    path = tmp_path / "series.toml"
    path.write_text(ENTRY.format(extra=GOOD), "utf-8")
    spec = load_series(path)["test_series"]
    assert (spec.compute, spec.indicator, spec.range, spec.sd, spec.first_year) == (
        "growth", "innovation.gdp", (-50.0, 100.0), 0.5, 2016)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("innovation.gdp", "innovation.gpd"),
         "'innovation.gpd' is not a declared indicator; did you mean 'innovation.gdp'"),
        (("innovation.gdp", "nomodule.gdp"), "'nomodule.gdp' is not a declared indicator"),
        (("innovation.gdp", "overcapacity.zombie_found"), "is a scalar indicator; a series needs a yearly one"),
        (('"growth"', '"growht"'), "'growht' is not a computation .*did you mean 'growth'"),
        (('"growth"', '"level"'), "'level' of innovation.gdp \\[亿元\\] is in '亿元', not '%'"),
        (("统计公报", "年鉴"), "published: expected one of 统计公报, 考核"),
        (("[-50, 100]", "[100, -50]"), "range: low 100 must be below high -50"),
        (("[-50, 100]", "[-50]"), "range: expected \\[low, high\\]"),
        (("sd = 0.5", "sd = 0"), "sd: must be positive"),
        (("sd = 0.5", 'sd = "half"'), "sd: expected a finite number"),
        (('zh = "测试"', 'zh = ""'), "zh: expected a non-empty string"),
        (('sd_assumption = "a"\n', ""), "missing 'sd_assumption'"),
        (('en = "Test"', 'en = "Test"\nunits = "%"'), "unknown key 'units'; did you mean 'unit'"),
        (("[series.test_series]", "[series.Test-Series]"), "an id is lower-case letters"),
        (("indicator = \"innovation.gdp\"", ""), "give 'indicator', or 'missing'"),
        (("indicator = \"innovation.gdp\"", 'indicator = "innovation.gdp"\nmissing = "x"'), "remove 'missing'"),
        (("indicator = \"innovation.gdp\"", 'indicator = "innovation.gdp"\nof = "innovation.gdp"'),
         "only 'share' takes a denominator"),
        (('compute = "growth"', 'compute = "share"'), "'share' needs the denominator"),
        (("indicator = \"innovation.gdp\"", 'indicator = "innovation.gdp"\nfirst_year = 2015'),
         "first_year: expected a year 2016-2020"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_series_and_key(tmp_path, change, message):
    text = ENTRY.format(extra=GOOD)
    old, new = change
    assert old in text
    path = tmp_path / "series.toml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(DeclarationError, match=message):
        load_series(path)


def test_a_file_without_series_tables_is_refused(tmp_path):
    path = tmp_path / "series.toml"
    path.write_text('[serie.gdp_growth]\nzh = "x"\n', "utf-8")
    with pytest.raises(DeclarationError, match="expected only \\[series.<id>\\] tables"):
        load_series(path)
    path.write_text("[series.gdp_growth\n", "utf-8")
    with pytest.raises(DeclarationError, match="cannot be read"):
        load_series(path)


def test_the_shipped_file_is_the_default():
    assert load_series() == load_series(SERIES_FILE)
