"""Scenario discovery (model.discover, python -m model discover): PRIM finds a box known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.analysis import read_analysis
from model.cli import main
from model.discover import declared_range, discover
from model.results import Results
from model.tables import display_width
from tests.paths import PLAN

TARGET = "techreform.investment_share.2020"
N = 5000
SEED = 13


def _uniform_keys(plan, count: int) -> list[str]:
    """Uniform uncertainties of the techreform module (they reach its target), in key order."""
    keys = sorted(k for k, d in plan.uncertainties.items() if k.startswith("techreform.") and d.kind == "uniform")
    assert len(keys) >= count
    return keys[:count]


def _synthetic(plan, weights=None) -> tuple[Results, list[str]]:
    """Six uniform inputs over their declared ranges; the target fails iff u1 > 0.7 and u2 < 0.3
    (u: the draw scaled to 0-1 within its range): 9 % of the replications, four noise inputs."""
    keys = _uniform_keys(plan, 6)
    u = np.random.default_rng(SEED).random((N, len(keys)))
    inputs = {}
    for j, key in enumerate(keys):
        low, high = declared_range(plan, key)
        inputs[key] = low + u[:, j] * (high - low)
    met = {TARGET: ~((u[:, 0] > 0.7) & (u[:, 1] < 0.3))}
    return Results(plan, SEED, N, {}, {}, met, inputs=inputs, weights=weights), keys


def _scaled(found, key: str, side: str, plan) -> float:
    low, high = declared_range(plan, key)
    return (found.box.set_index("uncertainty").loc[key, side] - low) / (high - low)


@pytest.mark.parametrize("threshold, tolerance", [(0.8, 0.09), (0.95, 0.03)])
def test_prim_recovers_the_failure_box_and_ignores_the_noise(plan, threshold, tolerance):
    # Tolerance: a box [0.7 - d, 1] x [0, 0.3] (on the 0-1 scale) has density 0.3 / (0.3 + d);
    # the chosen box need only be `threshold` dense, so one limit may lie d <= 0.3 (1 / t - 1)
    # outside the true one: 0.075 at 0.8, 0.016 at 0.95; plus about 0.01 for where the 450 or so
    # failures fall (a peel moves a limit to a sample quantile, spaced about 1 / 450 of the box apart
    # on the failing side, and PRIM peels 5 % at a time: 0.3 * 0.05 = 0.015 of the range a step).
    results, keys = _synthetic(plan)
    found = discover(results, TARGET, threshold=threshold)
    assert set(found.box["uncertainty"]) == set(keys[:2])  # no noise input restricted
    assert abs(_scaled(found, keys[0], "low", plan) - 0.7) <= tolerance
    assert abs(_scaled(found, keys[1], "high", plan) - 0.3) <= tolerance
    box = found.box.set_index("uncertainty")
    assert np.isnan(box.loc[keys[0], "high"]) and np.isnan(box.loc[keys[1], "low"])  # one-sided limits
    assert found.density >= threshold - 0.02 and found.coverage > 0.8  # 0.02: dropping a limit may cost a little
    assert (box[["qp_low", "qp_high"]].min(axis=1) < 0.05).all()
    specs = found.box.set_index("uncertainty")
    for lang, lead, fields in (("zh", "目标在以下情形下多半落空：", "name_zh"),
                               ("en", "The goal mostly fails when ", "name_en")):
        text = found.sentence(lang)
        assert text.startswith(lead)
        for key in keys[:2]:
            name = specs.loc[key, fields]
            assert name in text or (name[0].lower() + name[1:]) in text
        assert ("覆盖" in text) if lang == "zh" else ("covering" in text and "of which fail" in text)


def test_a_goal_that_fails_nowhere_in_particular_says_so(plan):
    results, keys = _synthetic(plan)
    results.met[TARGET] = np.random.default_rng(1).random(N) > 0.3  # fails 30 %, independent of every input
    found = discover(results, TARGET)
    assert found.box.empty
    assert "do not concentrate" in found.sentence("en") and "不集中" in found.sentence("zh")


def test_a_conditioned_run_is_resampled_by_weight_to_its_effective_size(plan):
    weights = np.random.default_rng(2).random(N)
    weights /= weights.sum()
    results, keys = _synthetic(plan, weights)
    results.observed = object()  # marks the run as conditioned (condition_weights = weights)
    found = discover(results, TARGET)
    ess = weights.sum() ** 2 / (weights ** 2).sum()
    assert found.resampled and found.replications == round(ess)
    assert set(found.box["uncertainty"]) == set(keys[:2])
    assert discover(results, TARGET).box.equals(found.box)  # a fixed seed: the same resample


def test_cli_discover_end_to_end(tmp_path, capsys):
    out = tmp_path / "disc"
    assert main(["discover", str(PLAN), "--target", TARGET, "-n", "800", "--out", str(out), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "The goal mostly fails when" in printed or "do not concentrate" in printed
    # every line fits 80 columns but the one naming the output folder (a temporary path cannot wrap)
    assert max(display_width(line) for line in printed.splitlines() if str(out) not in line) <= 80
    manifest = read_analysis(out)
    assert manifest["analysis"] == "discover" and manifest["settings"]["target"] == TARGET
    assert {"discover.csv", "discover.zh.png", "discover.en.svg"} <= set(manifest["files"])
    table = pd.read_csv(out / "discover.csv", encoding="utf-8-sig")
    assert (out / "discover.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    boxes = table["section"] == "box"
    assert set(table["section"]) == {"box", "trajectory"}
    assert table["chosen"].sum() == boxes.sum() + 1  # every box row, and the box's row of the trajectory


@pytest.mark.parametrize("args, message", [
    (["--threshold", "1.2"], "strictly between 0 and 1"),
    (["--threshold", "x"], "must be a number"),
    (["--target", "techreform.investment_share.2030"], "not a modelled target"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    argv = ["discover", str(PLAN), "--target", TARGET, "-n", "200", "--out", str(tmp_path / "bad")]
    if args[0] == "--threshold":  # argparse refuses it: one line, exit 2
        with pytest.raises(SystemExit) as exc:
            main(argv + args)
        assert exc.value.code == 2
    else:
        assert main(argv + args) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "bad").exists()
