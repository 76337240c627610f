"""The calibration report (issue 10 item 5): the outside view per published series
(``model/data/reference_class.toml``), ``python -m model calibration``, calibration.csv,
docs/calibration.md and the brief's two sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import load_run, simulate
from model.calibration import (
    COLUMNS,
    KNOWN_BY,
    QUANTILE_COLUMNS,
    YEARS_SHOWN,
    calibration_table,
    excludes,
    load_reference,
    outcome,
)
from model.calibration_text import REGENERATE, markdown, summary
from model.cli.main import main
from model.engine import DEFAULT_REPLICATIONS, DEFAULT_SEED
from model.params import DeclarationError
from model.report.brief import render_html
from model.series import load_series
from model.tables import display_width
from tests.paths import ROOT, SHIPPED

N = 200
SEED = 3


@pytest.fixture(scope="module")
def small(plan):
    return simulate(plan, N, SEED)


def _csv(path):
    return pd.read_csv(path / "calibration.csv", encoding="utf-8-sig", keep_default_na=False, na_values=[""])


# -- the command ---------------------------------------------------------------------------------

def test_command_on_every_shipped_scenario(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibration", *map(str, SHIPPED), "-n", str(N), "--seed", str(SEED), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if "saved to" not in line]  # the one line with a path
    assert max(display_width(line) for line in lines) <= 80
    assert (out / "calibration.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    table = _csv(out)
    assert list(table.columns) == list(COLUMNS)
    names = [p.stem for p in SHIPPED]  # the shipped files are named after their scenarios
    series = list(load_series())
    assert list(dict.fromkeys(table["scenario"])) == names
    assert len(table) == len(names) * len(series) * len(YEARS_SHOWN)
    for name in names:
        rows = table[table["scenario"] == name]
        assert list(rows["series_id"]) == [s for s in series for _ in YEARS_SHOWN]
        assert list(rows["year"]) == list(YEARS_SHOWN) * len(series)
        printed_rows = [line for line in printed.splitlines() if line.startswith(f"== {name}:")]
        assert len(printed_rows) == 1
    modelled = table[table["status"] != "not modelled"]
    q = modelled[list(QUANTILE_COLUMNS)].to_numpy(float)
    assert np.isfinite(q).all()
    assert (np.diff(q, axis=1) >= 0).all()  # 5 <= 25 <= 50 <= 75 <= 95 %
    assert table.loc[table["status"] == "not modelled", list(QUANTILE_COLUMNS)].isna().all().all()
    flagged = table["excludes_reference"].astype(str)
    assert set(flagged[table["status"] == "excludes"]) == {"True"}
    assert set(flagged[table["status"] == "covers"]) == {"False"}
    assert set(table.loc[table["status"].isin(["no reference", "not modelled"]), "excludes_reference"].isna()) == {True}


def test_csv_holds_what_the_run_computes(small, tmp_path):
    """calibration.csv of `run` is the table of Results.calibration, to 4 decimals; read back by load_run."""
    saved = load_run(small.save(tmp_path / "run"))
    direct = small.calibration
    assert list(saved.calibration.columns) == list(COLUMNS)
    assert list(saved.calibration["status"]) == list(direct["status"])
    np.testing.assert_allclose(saved.calibration["p50"].to_numpy(float), direct["p50"].to_numpy(float), atol=5e-5)
    rd = direct[(direct["series_id"] == "rd_intensity") & (direct["year"] == 2017)].iloc[0]
    values = small.series("rd_intensity")[:, 1]
    assert rd["p5"] == np.quantile(values, 0.05, method="inverted_cdf")
    assert rd["p95"] == np.quantile(values, 0.95, method="inverted_cdf")


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibration", str(tmp_path / "nope.toml"), "-n", "10", "--out", str(out)]) == 2
    assert "nope.toml" in capsys.readouterr().err
    for bad in ("0", "abc", "-5"):
        with pytest.raises(SystemExit) as exc:
            main(["calibration", "-n", bad, "--out", str(out)])
        assert exc.value.code == 2
        assert "replications" in capsys.readouterr().err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["calibration", "-n", "10", "--out", str(foreign)]) == 2
    assert "not a calibration report" in capsys.readouterr().err
    assert main(["calibration", "-n", "10", "--out", str(out), "--markdown", str(tmp_path / "no" / "x.md")]) == 2
    assert "--markdown" in capsys.readouterr().err
    assert not out.exists() and [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_a_previous_report_is_replaced(tmp_path):
    out = tmp_path / "cal"
    assert main(["calibration", "-n", "20", "--seed", "1", "--out", str(out)]) == 0
    first = (out / "calibration.csv").read_bytes()
    assert main(["calibration", "-n", "20", "--seed", "2", "--out", str(out)]) == 0
    assert (out / "calibration.csv").read_bytes() != first
    assert sorted(p.name for p in out.iterdir()) == ["calibration.csv", "manifest.json"]


# -- the exclusion flag --------------------------------------------------------------------------

@pytest.mark.parametrize(("p5", "p95", "low", "high", "expected"), [
    (1.0, 2.0, 3.0, 4.0, True),    # wholly below
    (5.0, 6.0, 3.0, 4.0, True),    # wholly above
    (1.0, 3.0, 3.0, 4.0, False),   # touching counts as overlap
    (3.2, 3.8, 3.0, 4.0, False),   # inside
    (1.0, 9.0, 3.0, 4.0, False),   # around
    (2.0, 2.0, 2.0, 2.0, False),   # a point on a point
])
def test_excludes(p5, p95, low, high, expected):
    assert excludes(p5, p95, low, high) is expected


def test_flag_and_reason_on_a_constructed_run(small):
    """rd_intensity set to 2.075 % in every replication covers the national range; 1.0 % excludes it,
    and the row carries the series' calibration_note with its default's written assumption."""
    indicators = dict(small.indicators)
    indicators["innovation.rd_intensity"] = np.full_like(small.indicators["innovation.rd_intensity"], 2.075)
    row = calibration_table("x", indicators).query("series_id == 'rd_intensity' and year == 2017").iloc[0]
    assert (row["status"], bool(row["excludes_reference"]), row["reason_en"]) == ("covers", False, "")
    indicators["innovation.rd_intensity"] = np.full_like(small.indicators["innovation.rd_intensity"], 1.0)
    row = calibration_table("x", indicators).query("series_id == 'rd_intensity' and year == 2017").iloc[0]
    assert (row["status"], bool(row["excludes_reference"])) == ("excludes", True)
    note = load_series()["rd_intensity"].calibration_note
    assert (row["reason_en"], row["reason_zh"]) == (note.en, note.zh)
    assert row["reason_defaults"].startswith("innovation.rd.intensity_2016: Not published")
    reference, _ = load_reference()["rd_intensity"]
    spec = load_series()["gdp_growth"]
    assert outcome(spec, reference, np.nan, np.nan) == "not modelled"
    assert outcome(spec, load_reference()["zombie_disposed_share"][0], 1.0, 2.0) == "no reference"


def test_every_2017_exclusion_in_the_plan_has_a_written_reason(small):
    excluded = small.calibration.query("status == 'excludes' and year == 2017")
    assert (excluded["reason_en"] != "").all() and (excluded["reason_zh"] != "").all()


# -- the reference data --------------------------------------------------------------------------

def test_every_series_has_its_outside_view_known_by_july_2017():
    table = load_reference()
    assert list(table) == list(load_series())
    for series_id, (reference, city) in table.items():
        assert (reference.missing is None) == (reference.low is not None), series_id
        for fig in reference.figures:
            assert fig.published[:7] <= f"{KNOWN_BY:%Y-%m}", series_id
        if reference.missing is None:
            assert reference.low <= reference.high


@pytest.mark.parametrize(("text", "message"), [
    ('published = 2017-11-02', "gdp_growth.city.published: 2017-11-02 is after 2017-07-31"),
    ('published = "2018"', "gdp_growth.city.published: '2018' is after 2017-07"),
    ('published = "soon"', "gdp_growth.city.published: expected a date"),
])
def test_a_figure_published_after_the_plans_is_refused(tmp_path, text, message):
    source = (ROOT / "model" / "data" / "reference_class.toml").read_text("utf-8")
    bad = source.replace("published = 2015-07-23", text, 1)
    assert bad != source
    path = tmp_path / "ref.toml"
    path.write_text(bad, "utf-8")
    with pytest.raises(DeclarationError, match=message):
        load_reference(path)


def test_unknown_and_absent_series_are_named(tmp_path):
    source = (ROOT / "model" / "data" / "reference_class.toml").read_text("utf-8")
    path = tmp_path / "ref.toml"
    path.write_text(source.replace("[gdp_growth.", "[gdp_grwth."), "utf-8")
    with pytest.raises(DeclarationError, match=r"\[gdp_grwth\] is not a published series; did you mean"):
        load_reference(path)
    path.write_text(source.replace("[rd_intensity.reference]\nlow = 2.07", "[rd_intensity.reference]\nlwo = 2.07"),
                    "utf-8")
    with pytest.raises(DeclarationError, match="rd_intensity.reference: unknown key 'lwo'"):
        load_reference(path)


# -- the document and the brief ------------------------------------------------------------------

def test_docs_calibration_md_is_what_the_generator_writes(plan):
    """docs/calibration.md is regenerated by one command; this fails when it is stale."""
    results = simulate(plan, DEFAULT_REPLICATIONS, DEFAULT_SEED)
    expected = markdown(results.calibration, DEFAULT_REPLICATIONS, DEFAULT_SEED)
    committed = (ROOT / "docs" / "calibration.md").read_text("utf-8")
    assert committed == expected, f"docs/calibration.md is stale: regenerate it with `{REGENERATE}`"


def test_brief_method_section_has_the_two_sentences(small, tmp_path):
    out = small.save(tmp_path / "run")
    numbers = summary(small.calibration)
    assert numbers["compared"] >= 5
    en = render_html(out, "en", with_charts=False)
    assert (f"covers the reference class's central range for {numbers['covered']} of the {numbers['compared']} "
            "published series") in en
    zh = render_html(out, "zh", with_charts=False)
    assert f"在有参照区间的 {numbers['compared']} 个公布统计指标中" in zh
    assert f"重叠的有 {numbers['covered']} 个" in zh
    for item in numbers["excluded"]:
        assert item["zh"] in zh and item["en"].replace("&", "&amp;") in en
