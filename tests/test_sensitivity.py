"""Global sensitivity (issue 13, item 3): the pipeline against closed-form indices, the mapping, the command.

Tolerances: SALib's ``*_conf`` is the half-width of a bootstrap 95 % interval, 1.96 standard
errors; an estimate is asked to lie within twice it (about 4 standard errors) of the exact value,
so a correct pipeline fails with probability well below 1e-4 (and the seeds are fixed).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami
from scipy import stats

from model import load_scenario
from model.analysis import read_analysis
from model.cli import main
from model.sensitivity import NOISE, Factors, analyse, factors, unit_inputs
from model.tables import display_width
from tests.paths import PLAN

A, B = 7.0, 0.1  # Ishigami's constants (SALib's defaults)


def ishigami_exact() -> tuple[np.ndarray, np.ndarray]:
    """Analytic S1 and ST of Ishigami on [-pi, pi]^3 (Saltelli et al. 2008, the Primer, 4.8)."""
    v1 = 0.5 * (1 + B * np.pi ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = 8 * B ** 2 * np.pi ** 8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_sobol_indices_of_ishigami_match_the_closed_form():
    space = Factors(("x1", "x2", "x3"), ("x1", "x2", "x3"))

    def model(u, evaluation):
        return {("ishigami", "value"): Ishigami.evaluate(-np.pi + 2 * np.pi * u, A, B)}
    result = analyse(space, model, "sobol", 2 ** 13, seed=3)
    table = result.table.set_index("factor")
    s1, st = ishigami_exact()
    for i, name in enumerate(space.names):
        assert abs(table.at[name, "S1"] - s1[i]) < 2 * table.at[name, "S1_conf"] + 1e-3
        assert abs(table.at[name, "ST"] - st[i]) < 2 * table.at[name, "ST_conf"] + 1e-3
        assert table.at[name, "ST_conf"] < 0.05  # the interval is informative at this n
    assert table.at[NOISE, "ST"] == 0.0  # a deterministic model: no random events
    assert result.runs == 2 ** 13 * 6  # n (D + 2) for the indices and n more for the noise
    assert result.unexplained["unexplained"].iloc[0] == pytest.approx(1 - s1.sum(), abs=0.05)


def test_grouped_linear_model_with_noise_gives_the_group_shares_and_the_noise_share():
    # y = sum a_i x_i + sd e, x_i independent uniforms on [0, 1] (variance 1/12), e a standard
    # normal drawn afresh at every evaluation (as the modules' random events are): a group's
    # first-order share is the sum of its a_i^2 / 12 over the total variance, the noise's sd^2 over it
    a, sd = np.array([2.0, 1.0, 3.0, 0.5]), 0.6
    space = Factors(("a", "b", "c", "d"), ("ab", "ab", "c", "d"))

    def model(u, evaluation):
        rng = np.random.default_rng(100 + evaluation)
        return {("linear", "value"): u @ a + sd * rng.standard_normal(len(u))}
    result = analyse(space, model, "sobol", 2 ** 12, seed=4)
    table = result.table.set_index("factor")
    total = np.sum(a ** 2) / 12 + sd ** 2
    exact = {"ab": (a[0] ** 2 + a[1] ** 2) / 12 / total, "c": a[2] ** 2 / 12 / total, "d": a[3] ** 2 / 12 / total}
    for group, share in exact.items():
        assert abs(table.at[group, "S1"] - share) < 2 * table.at[group, "S1_conf"]
        # the total index of a group includes the noise: sd^2 / total more
        assert abs(table.at[group, "ST"] - share - sd ** 2 / total) < 2 * table.at[group, "ST_conf"]
    assert abs(table.at[NOISE, "ST"] - sd ** 2 / total) < 2 * table.at[NOISE, "ST_conf"]
    assert list(table.index) == ["ab", "c", "d", NOISE]


def test_morris_elementary_effects_of_a_linear_model_are_exact():
    # on the grid's midpoints (1/8 ... 7/8) a step of 2/3 in the hypercube moves an input by 1/2:
    # every elementary effect of y = sum a_i u_i is 0.75 a_i (SALib divides by the step 2/3)
    a = np.array([2.0, -1.0, 0.5])
    space = Factors(("a", "b", "c"), ("a", "b", "c"))
    result = analyse(space, lambda u, e: {("linear", "value"): u @ a}, "morris", 20, seed=5)
    table = result.table.set_index("factor")
    assert table["mu_star"].to_numpy() == pytest.approx(0.75 * np.abs(a))
    assert table["mu"].to_numpy() == pytest.approx(0.75 * a)
    assert table["sigma"].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert result.runs == 20 * 4


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


def test_the_hypercube_maps_to_the_declared_distributions(plan):
    space = factors(plan)
    assert len(space.names) == sum(d.kind != "fixed" for d in plan.uncertainties.values())
    assert set(space.groups) == {n.split(".")[0] for n in space.names}  # one group per module
    u = np.full((1, len(space.names)), 0.5)
    inputs = unit_inputs(plan, space.names, u)
    for name, dist in plan.uncertainties.items():  # the median of each; fixed ones their value
        assert inputs[name][0] == pytest.approx(dist.ppf(np.array([0.5]))[0])


def test_a_correlated_set_across_modules_is_one_group_mapped_through_the_copula(plan):
    space = factors(plan).names
    first = next(n for n in space if n.startswith("green."))
    second = next(n for n in space if n.startswith("smart."))
    linked = dataclasses.replace(plan, correlations=((first, second, 0.7),))
    space = factors(linked)
    groups = dict(zip(space.names, space.groups))
    assert groups[first] == groups[second] == f"correlated: {first}, {second}"
    u = np.random.default_rng(6).random((4000, len(space.names)))
    inputs = unit_inputs(linked, space.names, u)
    rho = stats.spearmanr(inputs[first], inputs[second]).statistic
    assert abs(rho - 0.7) < 4 * 0.6 / np.sqrt(4000)  # se of Spearman's rho about (1 - rho^2) / sqrt(n)
    with pytest.raises(ValueError, match="groups module"):
        factors(plan, "none")  # 245 factors


ZOMBIE = "overcapacity.zombie_disposed.2019"


def test_cli_sensitivity_writes_the_table_the_charts_and_a_verified_manifest(tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(PLAN), "--targets", ZOMBIE, "--n", "64", "--out", str(out), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    # every line fits 80 columns but the saved-to path (pytest's tmp path is long and has no space)
    assert max(display_width(line) for line in printed.splitlines() if str(out) not in line) <= 80, printed
    assert "Overcapacity" in printed and "1 - sum S1" in printed
    manifest = read_analysis(out)
    assert manifest["analysis"] == "sensitivity" and manifest["settings"]["n"] == 64
    assert sorted(manifest["files"]) == sorted(["sensitivity.csv", *(f"sensitivity.{lang}.{ext}" for lang in
                                                                     ("zh", "en") for ext in ("png", "svg"))])
    assert (out / "sensitivity.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "sensitivity.csv", encoding="utf-8-sig")
    assert list(table.columns) == ["target_id", "output", "factor", "S1", "S1_conf", "ST", "ST_conf"]
    assert set(table["output"]) == {"value", "met"} and set(table["target_id"]) == {ZOMBIE}
    top = table[table["output"] == "value"].sort_values("ST").iloc[-1]
    assert top["factor"] == "overcapacity"  # the zombie goal is the overcapacity plan's own
    settings = json.loads((out / "manifest.json").read_text("utf-8"))["settings"]
    assert settings["runs"] == 64 * (6 + 3)  # six module groups: n (6 + 2) runs, and n for the noise


@pytest.mark.parametrize("extra, message", [
    (["--n", "100"], "power of two"),
    (["--method", "fast"], "invalid choice"),
    (["--targets", "nope.2020"], "not a modelled target"),
    (["--groups", "none"], "groups module"),
])
def test_cli_sensitivity_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "sens"
    try:
        status = main(["sensitivity", str(PLAN), "--out", str(out), *extra])
    except SystemExit as exc:  # argparse's own errors (an unknown choice) exit from parse_args
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()
