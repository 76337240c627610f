"""Comparing scenarios: paired intervals, common random numbers, saved runs, refusals, the CLI."""

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from model import compare, load_registry, load_scenario, simulate
from model.cli import main
from model.compare import COLUMNS, CompareError, build_comparison, save_comparison
from model.paired import paired_interval
from model.runs import RunError, load_run
from model.stats import wilson
from model.tables import flat_columns, wide_table
from tests.paths import ROOT

N, SEED = 500, 11


@pytest.fixture(scope="module")
def plan():
    return load_scenario(ROOT / "scenarios" / "plan.toml")


@pytest.fixture(scope="module")
def no_subsidy(plan):
    levers = dict(plan.levers, **{"techreform.subsidy_rate": 0.0})
    return dataclasses.replace(plan, name="no_subsidy", levers=levers)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, plan, no_subsidy):
    """Two runs saved with the same seed and replications, and one with another seed."""
    root = tmp_path_factory.mktemp("runs")
    a = simulate(no_subsidy, N, SEED).save(root / "no_subsidy")
    b = simulate(plan, N, SEED).save(root / "plan")
    c = simulate(dataclasses.replace(plan, name="plan_seed2"), N, SEED + 1).save(root / "plan_seed2")
    return a, b, c


# -- the paired interval ----------------------------------------------------------------------
def test_paired_interval_against_hand_computed_examples():
    # Bentur et al. (2009), the paired example of Fagerland, Lydersen & Laake (2014):
    # n = 21, both 1, only reference 7, only new 1, neither 12 -> change = 2/21 - 8/21.
    # Wilson 95 %: 2/21 -> [0.026519, 0.289141]; 8/21 -> [0.207510, 0.591213].
    # ad - bc = 12 - 7 = 5 <= n/2, so Newcombe's corrected phi is 0:
    # low  = -6/21 - sqrt((2/21 - 0.026519)^2 + (0.591213 - 8/21)^2) = -0.50692
    # high = -6/21 + sqrt((8/21 - 0.207510)^2 + (0.289141 - 2/21)^2) = -0.02556
    low, high = paired_interval(1, 7, 1, 12)
    assert float(low) == pytest.approx(-0.506920, abs=1e-6)
    assert float(high) == pytest.approx(-0.025559, abs=1e-6)
    # Positive correlation: n = 100, both 40, only reference 5, only new 15, neither 40.
    # Wilson: 55/100 -> [0.452446, 0.643855]; 45/100 -> [0.356145, 0.547554].
    # phi = (40*40 - 15*5 - 50) / sqrt(55*45*45*55) = 1475 / 2475 = 0.595960
    # low  = 0.10 - sqrt(0.097554^2 + 0.097554^2 - 2*0.595960*0.097554^2) = 0.012306
    # high = 0.10 + sqrt(0.093855^2 + 0.093855^2 - 2*0.595960*0.093855^2) = 0.184369
    low, high = paired_interval(40, 5, 15, 40)
    assert float(low) == pytest.approx(0.012306, abs=1e-6)
    assert float(high) == pytest.approx(0.184369, abs=1e-6)
    lo, hi = wilson(55, 100)
    assert (float(lo), float(hi)) == pytest.approx((0.452446, 0.643855), abs=1e-6)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 500), (3, 500), (55, 100), (499, 500), (7000, 10000)])
def test_wilson_closed_form_is_scipys_interval(k, n):
    """The one Wilson interval (model.stats) gives scipy's bounds; it also takes arrays."""
    ci = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    low, high = wilson(np.array([k, k]), n)
    assert low.shape == (2,) and float(high[1]) == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize("probs", [(0.30, 0.05, 0.10, 0.55), (0.40, 0.002, 0.006, 0.592)])
def test_paired_interval_coverage_and_width(probs):
    """Coverage of the true difference over 4000 tables of n = 1000 pairs.

    The Monte Carlo error of an estimated coverage of 0.95 from 4000 tables is
    sqrt(0.95 * 0.05 / 4000) = 0.0034; the band [0.93, 0.975] is about 6 such errors wide
    below and 7 above (Newcombe's interval is mildly conservative with few discordant pairs).
    """
    rng = np.random.default_rng(5)
    n, trials = 1000, 4000
    counts = rng.multinomial(n, probs, size=trials)
    low, high = paired_interval(*counts.T)
    truth = probs[2] - probs[1]
    coverage = np.mean((low <= truth) & (truth <= high))
    assert 0.93 <= coverage <= 0.975
    # width close to the large-sample width 2 z sd(d) / sqrt(n), d in {-1, 0, 1}. The mean of 4000
    # widths has a relative Monte Carlo error below 0.3 % (sd(width) / mean / sqrt(4000)); the rest
    # of the 10 % is the gap between Newcombe's interval and the large-sample width, which is 5 %
    # with the 8 discordant pairs expected in the second case (0.1 % in the first)
    sd = math.sqrt(probs[1] + probs[2] - truth**2)
    assert np.mean(high - low) == pytest.approx(2 * 1.96 * sd / math.sqrt(n), rel=0.10)


def test_paired_interval_without_discordant_pairs_is_narrow():
    low, high = paired_interval(300, 0, 0, 700)
    assert float(low) < 0 < float(high) and float(high - low) < 0.01


# -- comparisons ------------------------------------------------------------------------------
def test_scenario_compared_with_itself_changes_exactly_nothing(plan):
    copy = dataclasses.replace(plan, name="plan_again")
    table = compare([plan, copy], replications=N, seed=SEED)
    registry = [t.id for t in load_registry()]
    # the long table: one row per (scenario, target), scenarios in the order given
    assert list(table.columns) == COLUMNS
    assert len(table) == 2 * len(registry) and not table.duplicated(["scenario", "target_id"]).any()
    assert list(table["scenario"].unique()) == ["plan", "plan_again"] and (table["reference"] == "plan").all()
    assert list(table.loc[table["scenario"] == "plan", "target_id"]) == registry
    assert table["probability"].notna().all()  # every target is modelled
    assert table.loc[table["scenario"] == "plan", "change"].isna().all()  # the reference has no change
    again = table[table["scenario"] == "plan_again"]
    assert (again[["change", "change_low", "change_high"]] == 0).all().all()
    for col in ("probability", "probability_low", "probability_high", "median", "change"):
        assert pd.api.types.is_float_dtype(table[col]), col
    # the wide view planners read is made from it, one row per target
    wide = flat_columns(wide_table(table))
    assert list(wide.columns[:6]) == ["target_id", "name_zh", "name_en", "deadline", "test", "unit"]
    assert len(wide) == len(registry) and "plan_again: change_high" in wide.columns
    assert (wide["plan_again: probability"].to_numpy() == again["probability"].to_numpy()).all()


def test_subsidy_never_lowers_firm_and_investment_likelihoods(plan, no_subsidy):
    """Under common random numbers a 30 % post-subsidy vs none cannot lower these targets."""
    table = compare([no_subsidy, plan], replications=1000, seed=SEED)
    table = table[table["scenario"] == "plan"]
    rows = table[table["target_id"].str.match(r"techreform\.(firms|investment|investment_share)\.\d{4}$")]
    assert len(rows) >= 6
    assert (rows["change"] >= 0).all()
    assert (rows["change_low"] <= rows["change"]).all() and (rows["change"] <= rows["change_high"]).all()
    assert (rows["change_low"] > 0).any()  # the subsidy clearly raises at least one


def test_saved_runs_compare_like_a_rerun(saved, plan, no_subsidy):
    a, b, _ = saved
    rerun = compare([no_subsidy, plan], replications=N, seed=SEED)
    from_dirs = compare([a, b])
    pd.testing.assert_frame_equal(rerun, from_dirs)
    mixed = compare([load_run(a), plan])  # a saved run fixes the seed and replications
    pd.testing.assert_frame_equal(rerun, mixed)


def test_refuses_runs_that_cannot_be_paired(saved, tmp_path):
    a, b, c = saved
    with pytest.raises(CompareError, match="seed"):
        compare([b, c])
    with pytest.raises(CompareError, match="seed 3 was asked"):
        compare([a, b], seed=3)
    with pytest.raises(CompareError, match="named 'plan'"):
        compare([b, b])


def _copy_run(src, dst, edit_manifest=None, drop_target=None):
    import shutil

    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text("utf-8"))
    manifest.pop("checksums")  # edited: like a run saved before checksums existed
    if drop_target:
        with np.load(dst / "replications.npz") as npz:
            kept = {k: npz[k] for k in npz.files if not k.endswith("/" + drop_target)}
        np.savez_compressed(dst / "replications.npz", **kept)
        manifest["targets"].remove(drop_target)
    if edit_manifest:
        edit_manifest(manifest)
    (dst / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return dst


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_refuses_mismatched_runs_with_exit_2_and_writes_nothing(saved, tmp_path, capsys):
    a, b, c = saved
    out = tmp_path / "cmp"
    longer = _copy_run(a, tmp_path / "longer", lambda m: m.update(years=m["years"] + [m["years"][-1] + 1]))
    fewer = _copy_run(a, tmp_path / "fewer", drop_target="techreform.firms.2018")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.csv").write_text("x\n")
    cases = [
        ((b, c), "seed"),
        ((longer, b), "years"),
        ((fewer, b), "different targets"),
        ((b, broken), "no manifest.json"),
        ((b, tmp_path / "missing"), "no such"),
        ((b, ROOT / "scenarios" / "no_such.toml"), "not found"),
    ]
    for items, message in cases:
        code, stdout, err = _cli(capsys, "compare", *items, "--out", out)
        assert code == 2, err
        assert message in err and err.startswith("error:") and len(err.strip().splitlines()) == 1
        assert not out.exists()


def test_cli_compare_writes_table_runs_and_manifest(saved, tmp_path, capsys):
    a, b, _ = saved
    out = tmp_path / "cmp"
    code, stdout, err = _cli(capsys, "compare", a, b, "--out", out, "--lang", "en")
    assert code == 0, err
    assert "* the 10 targets that change most" in " ".join(stdout.split()) and "no_subsidy (reference)" in stdout
    raw = (out / "comparison.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "comparison.csv", encoding="utf-8-sig")
    assert "plan: change_high" in table.columns and table["name_zh"].str.contains("技改").any()
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["kind"] == "comparison" and manifest["scenarios"] == ["no_subsidy", "plan"]
    assert (manifest["seed"], manifest["replications"]) == (SEED, N)
    assert set(manifest["hashes"]) == {"no_subsidy", "plan"}
    for name in ("no_subsidy", "plan"):
        assert load_run(out / "runs" / name).name == name
    with pytest.raises(RunError, match="comparison"):
        load_run(out)
    # an existing run is never overwritten by a comparison
    code, _, err = _cli(capsys, "compare", a, b, "--out", a)
    assert code == 2 and "not a comparison" in err


def test_cli_compare_runs_scenario_files(tmp_path, capsys):
    out = tmp_path / "cmp"
    code, stdout, err = _cli(
        capsys,
        "compare",
        ROOT / "scenarios" / "baseline.toml",
        ROOT / "scenarios" / "plan.toml",
        "-n",
        N,
        "--seed",
        SEED,
        "--out",
        out,
    )
    assert code == 0, err
    comparison = pd.read_csv(out / "comparison.csv", encoding="utf-8-sig")
    assert list(comparison.columns[6:10]) == [
        "baseline: probability",
        "baseline: probability_low",
        "baseline: probability_high",
        "baseline: median",
    ]
    assert json.loads((out / "manifest.json").read_text("utf-8"))["seed"] == SEED


def test_save_comparison_is_atomic(saved, tmp_path, monkeypatch):
    a, b, _ = saved
    comparison = build_comparison([a, b])

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", fail)  # the manifest, written last
    with pytest.raises(OSError):
        save_comparison(comparison, tmp_path / "cmp")
    assert list(tmp_path.iterdir()) == []


def test_mismatch_messages_read_as_english(saved):
    a, b, _ = saved
    with pytest.raises(CompareError) as info:
        compare([a, b], replications=N + 1)
    assert "need the same number of replications in every run" in str(info.value)
    with pytest.raises(CompareError) as info:
        compare([a, b], seed=SEED + 5)
    assert "need the same seed in every run" in str(info.value)
