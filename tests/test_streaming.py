"""Streamed runs (model.streaming, model.sketch): the same likelihoods as a run in memory, quantiles
within the sketch's documented bound, the same figures whatever the workers, saved and read back.

The comparisons are of the same draws (same seed), so they are deterministic: likelihoods and
met flags must be identical, quantiles within one bin of the column (the bound model.sketch
documents), means equal up to summation order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import simulate
from model.blocks import BLOCK
from model.runs import load_run
from model.sketch import Layout, Sketch
from model.tables import quantiles

N = 2 * BLOCK + 137  # three blocks, the last one short
SEED = 11


@pytest.fixture(scope="module")
def runs(plan):
    return simulate(plan, N, SEED), simulate(plan, N, SEED, stream=True)


def _bound(run, prefix, key):
    layout = run.aggregate.sketch.layout
    return layout.step[layout.offsets[prefix + key]]


def test_a_streamed_run_gives_the_same_likelihoods_and_flags(runs):
    memory, streamed = runs
    assert streamed.manifest["streamed"] is True and "streamed" not in memory.manifest
    columns = ["target_id", "probability", "probability_low", "probability_high", "status"]
    pd.testing.assert_frame_equal(memory.summary[columns], streamed.summary[columns])
    assert set(memory.met) == set(streamed.met)
    for key in memory.met:
        assert np.array_equal(memory.met[key], streamed.met[key]), key
    pd.testing.assert_frame_equal(memory.joint, streamed.joint)


def test_quantiles_are_within_one_bin_and_means_exact(runs):
    memory, streamed = runs
    m, s = memory.summary.set_index("target_id"), streamed.summary.set_index("target_id")
    for key in memory.values:
        bound = _bound(streamed, "value/", key)[0]
        for col in ("p10", "median", "p90"):
            a, b = m.loc[key, col], s.loc[key, col]
            assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= bound, (key, col, a, b, bound)
        assert (m.loc[key, [c + "_never" for c in ("p10", "median", "p90")]]
                == s.loc[key, [c + "_never" for c in ("p10", "median", "p90")]]).all()
    mt, st = memory.trajectories, streamed.trajectories
    assert list(mt["indicator"]) == list(st["indicator"]) and list(mt["year"]) == list(st["year"])
    steps = np.concatenate([_bound(streamed, "yearly/", k) for k in dict.fromkeys(mt["indicator"])])
    for col in ("p10", "p25", "p50", "p75", "p90"):
        a, b = mt[col].to_numpy(), st[col].to_numpy()
        same_nan = np.isnan(a) == np.isnan(b)
        assert same_nan.all() and (np.abs(a - b)[~np.isnan(a)] <= steps[~np.isnan(a)]).all(), col
    np.testing.assert_allclose(mt["mean"], st["mean"], rtol=1e-12, atol=1e-9)


def test_the_other_tables_follow(runs):
    memory, streamed = runs
    cols = [c for c in memory.districts.columns if c.endswith((".target", ".mean", ".probability"))]
    pd.testing.assert_frame_equal(memory.districts[cols], streamed.districts[cols], rtol=1e-12)
    a, b = memory.calibration, streamed.calibration
    assert list(a["series_id"]) == list(b["series_id"]) and list(a["status"]).count("excluded") >= 0
    both = a["p50"].notna()
    assert (b["p50"].notna() == both).all()
    # drivers cut at the thirds of the declared distribution, not of the draws: the same inputs
    # lead each target, and their swings agree within the Monte Carlo error of a third's
    # likelihood (each third holds ~N/3 replications: se of a difference <= sqrt(2 * 0.25 / (N/3)))
    top_m = memory.drivers[memory.drivers["rank"] == 1].set_index("target_id")
    top_s = streamed.drivers[streamed.drivers["rank"] <= 2].groupby("target_id")["uncertainty"].apply(set)
    shared = top_m.index.intersection(top_s.index)
    assert len(shared) > 10
    assert np.mean([top_m.loc[t, "uncertainty"] in top_s[t] for t in shared]) > 0.9
    # (continuous inputs: a discrete one whose third ends exactly between two values, e.g. six equally
    # likely values, may be cut one value apart by the draws and by the distribution; both are right)
    se = np.sqrt(2 * 0.25 / (N / 3))
    merged = memory.drivers.merge(streamed.drivers, on=["target_id", "uncertainty"])
    continuous = merged["uncertainty"].map(lambda u: np.unique(memory.inputs[u]).size > 50)
    assert continuous.sum() > 100
    assert (np.abs(merged["swing_x"] - merged["swing_y"])[continuous] < 4 * se).all()


def test_a_streamed_run_does_not_depend_on_the_workers(plan):
    one = simulate(plan, 3 * BLOCK, SEED, stream=True)
    two = simulate(plan, 3 * BLOCK, SEED, workers=2, chunk_size=BLOCK, stream=True)
    for table in ("summary", "trajectories", "drivers", "calibration", "districts"):
        pd.testing.assert_frame_equal(getattr(one, table), getattr(two, table), check_exact=True)


def test_a_saved_streamed_run_reads_back(runs, tmp_path):
    _, streamed = runs
    streamed.save(tmp_path / "run")
    saved = load_run(tmp_path / "run")
    pd.testing.assert_frame_equal(saved.summary, streamed.summary)
    assert saved.manifest["streamed"] is True
    for key in ("green.energy_intensity_cut.2020", "overcapacity.zombie_disposed.2018"):
        assert np.array_equal(saved.met[key], streamed.met[key])
    assert set(saved.kept_yearly()) == set(streamed.kept_yearly())
    assert saved.districts.shape == streamed.districts.shape


def test_a_streamed_run_says_why_it_cannot_move_a_lever(runs):
    with pytest.raises(ValueError, match="streamed run keeps no sampled inputs"):
        runs[1].with_levers({"techreform.subsidy_rate": 0.2})


def test_large_runs_stream_by_default_and_the_cap_is_on_what_is_kept():
    from model.budget import check_budget
    from model.engine import IN_MEMORY_MAX, memory_estimate

    assert memory_estimate(10**6) < 2**30 < memory_estimate(IN_MEMORY_MAX)
    check_budget(10**6)  # accepted (it raised before: 10^6 x 18 kB did not fit)


# -- the sketch on numbers whose quantiles are known ----------------------------------------------
def _sketch(columns: dict[str, np.ndarray], block: int, order=None) -> Sketch:
    layout = Layout.from_pilot({k: v[:block] for k, v in columns.items()})
    sketches = []
    for b in range(0, len(next(iter(columns.values()))), block):
        one = Sketch(layout)
        one.add(b // block, {k: v[b:b + block] for k, v in columns.items()})
        sketches.append(one)
    total = Sketch(layout)
    for i in order or range(len(sketches)):
        total.merge(sketches[i])
    return total


def test_the_sketch_is_exact_on_integers_and_tails_and_within_a_bin_elsewhere():
    rng = np.random.default_rng(3)
    n = 20_000
    normal = rng.normal(10.0, 2.0, n)
    normal[rng.random(n) < 0.01] = np.nan                       # ignored, like nanquantile
    counts = rng.poisson(40.0, n).astype(float)                 # integers: one value per bin
    never = np.where(rng.random(n) < 0.3, np.inf, rng.uniform(2017, 2021, n))  # milestones
    wide = np.exp(rng.normal(0, 1.5, n))                         # heavy tail beyond the pilot
    columns = {"normal": normal, "counts": counts, "never": never, "wide": wide,
               "pair": np.column_stack([normal, counts])}
    qs = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.999, 1.0)
    sketch = _sketch(columns, 1000)
    step = dict(zip(sketch.layout.keys, np.split(sketch.layout.step, np.cumsum(sketch.layout.widths)[:-1])))
    assert np.array_equal(sketch.quantiles("counts", qs), quantiles(counts, qs))
    assert np.array_equal(sketch.quantiles("never", qs)[-4:], quantiles(never, qs)[-4:])  # inf kept
    for key in ("normal", "never", "wide"):
        exact, got = quantiles(columns[key], qs), sketch.quantiles(key, qs)
        finite = np.isfinite(exact)
        assert np.array_equal(finite, np.isfinite(got))
        assert (np.abs(exact[finite] - got[finite]) <= step[key][0]).all(), key
    assert sketch.quantiles("pair", qs).shape == (len(qs), 2)
    assert np.array_equal(sketch.quantiles("pair", qs)[:, 1], quantiles(counts, qs))
    assert sketch.mean("normal") == pytest.approx(np.nanmean(normal), rel=1e-12)
    assert sketch.mean("never") == pytest.approx(np.mean(never[np.isfinite(never)]), rel=1e-12)
    # blocks merged in another order (workers finishing differently) give the same figures
    other = _sketch(columns, 1000, order=list(range(19, -1, -1)))
    for key in columns:
        assert np.array_equal(sketch.quantiles(key, qs), other.quantiles(key, qs), equal_nan=True)
        assert np.array_equal(sketch.mean(key), other.mean(key), equal_nan=True)
