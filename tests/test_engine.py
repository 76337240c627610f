"""The engine: seeding and reproducibility, common random numbers, results, saving."""

import dataclasses
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

from model import load_registry, simulate
from model.blocks import BLOCK, sample_inputs
from model.scenario import default_scenario
from model.stats import wilson
from model.tables import traffic_light
from tests.paths import PLAN, ROOT


def same_results(a, b):
    assert a.met.keys() == b.met.keys()
    for key in a.met:
        np.testing.assert_array_equal(a.met[key], b.met[key])
        np.testing.assert_array_equal(a.values[key], b.values[key])
    for key in a.indicators:
        np.testing.assert_array_equal(a.indicators[key], b.indicators[key])


def test_same_seed_same_results_whatever_workers_and_chunks(plan):
    n = 2 * BLOCK + 137  # a partial last block
    one = simulate(plan, n, seed=7)
    same_results(one, simulate(plan, n, seed=7, chunk_size=1))
    same_results(one, simulate(plan, n, seed=7, chunk_size=10 * BLOCK))
    same_results(one, simulate(plan, n, seed=7, workers=2, chunk_size=BLOCK))


def test_different_seeds_differ(plan):
    a, b = simulate(plan, 300, seed=1), simulate(plan, 300, seed=2)
    assert any(not np.array_equal(a.values[k], b.values[k]) for k in a.values)


def test_draws_are_keyed_by_name_so_unrelated_changes_do_not_shift_them(plan):
    """Common random numbers: changing one distribution leaves every other draw unchanged."""
    base = sample_inputs(plan, 3, 0, 400)
    name = next(iter(sorted(plan.uncertainties)))
    other = dataclasses.replace(
        plan, uncertainties={**plan.uncertainties, name: plan.uncertainties[sorted(plan.uncertainties)[-1]]}
    )
    changed = sample_inputs(other, 3, 0, 400)
    for key in base:
        if key != name:
            np.testing.assert_array_equal(base[key], changed[key])


def test_no_global_random_state_is_used(plan):
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    simulate(plan, 50, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_summary_has_every_target_and_honest_not_modelled_rows(plan):
    results = simulate(plan, 600, seed=5)
    summary = results.summary
    registry = load_registry()
    assert list(summary["target_id"]) == [t.id for t in registry]
    modelled = summary[summary["status"] != "not modelled"]
    missing = summary[summary["status"] == "not modelled"]
    assert len(modelled) == sum(t.modelled for t in registry)
    assert missing["probability"].isna().all() and missing["median"].isna().all()
    low, p, high = (modelled[c] for c in ("probability_low", "probability", "probability_high"))
    assert ((low <= p) & (p <= high)).all()
    for _, row in modelled.iterrows():
        assert row["status"] == traffic_light(row["probability"])
        assert row["probability"] == pytest.approx(results.met[row["target_id"]].mean())


def test_threshold_override_of_a_reading_changes_the_test(plan):
    target = "overcapacity.zombie_disposed.2019"
    strict = dataclasses.replace(plan, thresholds={target: 99.0})
    loose = dataclasses.replace(plan, thresholds={target: 50.0})
    a, b = simulate(strict, 500, seed=3), simulate(loose, 500, seed=3)
    np.testing.assert_array_equal(a.values[target], b.values[target])
    assert (a.met[target] <= b.met[target]).all()
    assert a.summary.set_index("target_id").loc[target, "test"].startswith(">= 99")


def test_wilson_interval_matches_the_formula():
    k, n, z = 30, 200, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson(k, n)
    assert low == pytest.approx(centre - half, abs=1e-9) and high == pytest.approx(centre + half, abs=1e-9)
    assert wilson(0, 100)[0] == 0.0 and wilson(100, 100)[1] == 1.0


def test_traffic_light_thresholds():
    lights = [traffic_light(p) for p in (0.0, 0.49, 0.5, 0.79, 0.8, 1.0)]
    assert lights == ["red", "red", "amber", "amber", "green", "green"]
    assert traffic_light(float("nan")) == "not modelled"


def test_save_writes_files_and_manifest(tmp_path, plan):
    results = simulate(plan, 200, seed=11)
    out = results.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == [
        "calibration.csv", "departments.csv", "districts.csv", "drivers.csv", "joint.csv", "manifest.json",
        "outside_view.csv", "replications.npz", "summary.csv", "trajectories.csv"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask  # readable by colleagues like any folder
    assert (out / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel/WPS
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    for col in ("target_id", "deadline", "test", "unit", "probability", "probability_low", "probability_high",
                "median", "p10", "p90", "status"):
        assert col in summary.columns
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["seed"] == 11 and manifest["replications"] == 200
    assert manifest["scenario_hash"] == plan.hash()
    assert manifest["scenario"]["levers"]["techreform.subsidy_rate"] == plan.levers["techreform.subsidy_rate"]
    assert set(manifest["packages"]) >= {"numpy", "scipy", "pandas", "simpy"}
    traj = pd.read_csv(out / "trajectories.csv", encoding="utf-8-sig")
    assert set(traj["year"]) == {2016, 2017, 2018, 2019, 2020}
    with np.load(out / "replications.npz") as npz:
        target = "green.energy_intensity_cut.2020"
        np.testing.assert_array_equal(npz[f"met/{target}"], results.met[target])


def test_interrupted_save_leaves_no_run_and_keeps_the_old_one(tmp_path, plan, monkeypatch):
    results = simulate(plan, 100, seed=1)
    out = results.save(tmp_path / "run")
    before = (out / "manifest.json").read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(KeyboardInterrupt):
        simulate(plan, 100, seed=2).save(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        results.save(tmp_path / "fresh")
    assert (out / "manifest.json").read_bytes() == before
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_more_subsidy_never_lowers_tech_renovation_likelihood(plan):
    """Common random numbers: with the same seed every replication sees the same draws, so a
    higher subsidy can only turn a missed target into a met one, never the reverse. Without the
    target-responsibility feedback: with it, a subsidy that lifts the share also spares the city
    a campaign push the next year, so a single replication can end lower (the likelihood still
    rises: test_responsibility_techreform.py)."""
    n = 1500
    rates = [0.0, 0.15, 0.30, 0.45]
    runs = []
    plan = dataclasses.replace(plan, links={**plan.links, "responsibility_renovation": False})
    for rate in rates:
        levers = {**plan.levers, "techreform.subsidy_rate": rate, "techreform.subsidy_cap": 1000.0}
        runs.append(simulate(dataclasses.replace(plan, levers=levers), n, seed=4))
    prefixes = ("techreform.investment_share", "techreform.investment.", "techreform.firms.")
    ids = [t.id for t in load_registry() if t.id.startswith(prefixes)]
    for low, high in zip(runs, runs[1:]):
        for target in ids:
            assert (low.met[target] <= high.met[target]).all(), target
    share = "techreform.investment_share.2020"
    assert runs[-1].probability(share) > runs[0].probability(share)


def test_defaults_run_and_give_every_modelled_target_a_likelihood():
    results = simulate(default_scenario(), 100, seed=1)
    summary = results.summary
    assert summary["probability"].notna().sum() == sum(t.modelled for t in load_registry())


@pytest.mark.slow
def test_engine_probability_matches_closed_form_with_a_copula(plan):
    """Milestones through the whole engine against their exact probability.

    The survey is on time iff its delay X <= 0; the plan is on time iff its delay Y <= 0 and
    the survey leaves it the minimum planning time, X <= D. With normal X, Y joined by a
    Gaussian copula of rank correlation rho, P(both) is a bivariate normal CDF with Pearson
    r = 2 sin(pi rho / 6). Tolerance: 4 Monte Carlo standard errors sqrt(p (1 - p) / n).
    """
    from scipy import stats

    from model.distributions import Distribution
    from model.modules.overcapacity import DAY, MONTH, PLAN_DEADLINE, SURVEY_DEADLINE

    n, rho = 20_000, 0.5
    unc = dict(plan.uncertainties)
    unc["overcapacity.survey_delay"] = Distribution.from_spec({"dist": "normal", "mean": 60, "sd": 60})
    unc["overcapacity.plan_delay"] = Distribution.from_spec({"dist": "normal", "mean": 10, "sd": 40})
    unc["overcapacity.plan_min_time"] = Distribution.from_spec(3.0)
    scenario = dataclasses.replace(
        plan, uncertainties=unc,
        correlations=(("overcapacity.survey_delay", "overcapacity.plan_delay", rho),),
    )
    results = simulate(scenario, n, seed=9)
    d = (PLAN_DEADLINE - SURVEY_DEADLINE - 3 * MONTH) / DAY  # days of survey delay the plan absorbs
    r = 2 * np.sin(np.pi * rho / 6)
    exact_survey = stats.norm.cdf(0, 60, 60)
    exact_plan = stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf([(d - 60) / 60, (0 - 10) / 40])
    for target, exact in (("overcapacity.zombie_survey.2017", exact_survey),
                          ("overcapacity.zombie_plan.2017", exact_plan)):
        se = np.sqrt(exact * (1 - exact) / n)
        assert results.probability(target) == pytest.approx(exact, abs=4 * se), target
    # without the correlation the plan probability is the product of the marginals
    independent = simulate(dataclasses.replace(scenario, correlations=()), n, seed=9)
    exact = stats.norm.cdf((d - 60) / 60) * stats.norm.cdf(-10 / 40)
    se = np.sqrt(exact * (1 - exact) / n)
    assert independent.probability("overcapacity.zombie_plan.2017") == pytest.approx(exact, abs=4 * se)


# -- how many replications fit --------------------------------------------------------------------
def test_memory_per_replication_is_what_the_budget_assumes(plan):
    """HELD_BYTES must cover what a Results holds, and 2 x HELD_BYTES the peak of simulate()."""
    import tracemalloc

    from model.engine import HELD_BYTES, memory_estimate

    n = 4 * BLOCK
    simulate(plan, BLOCK)  # caches (registry, parameter files) are not per replication
    tracemalloc.start()
    try:
        results = simulate(plan, n)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    parts = (results.indicators, results.values, results.met, results.inputs)
    arrays = sum(a.nbytes for part in parts for a in part.values())
    assert 0.9 * HELD_BYTES < arrays / n <= HELD_BYTES  # the constant is neither stale nor lavish
    assert peak <= memory_estimate(n, 1, 1)


def test_the_budget_message_and_cap_follow_the_estimate():
    from model.budget import MEMORY_BUDGET, check_budget, max_replications
    from model.engine import IN_MEMORY_MAX, SKETCH_BYTES, STREAMED_BYTES, memory_estimate

    cap = max_replications()
    assert cap > IN_MEMORY_MAX  # above it runs stream: the cap is on what is kept, not on what is run
    assert memory_estimate(cap) <= MEMORY_BUDGET < memory_estimate(cap + 1000)
    check_budget(cap)
    assert max_replications(6) < max_replications(2) < cap and max_replications(1, 2) <= cap
    # a streamed run: 10**11 * 150 B + 100 MiB (13.6 TiB); 10**11 / 2,400 per second = 482 days
    tib = f"{(10**11 * STREAMED_BYTES + SKETCH_BYTES) / 2**40:.1f}".replace(".", r"\.")
    message = rf"100,000,000,000 is too many: 1 scenario would need about {tib} TiB .* 482\.3 days on 1 worker"
    with pytest.raises(ValueError, match=message):
        check_budget(10**11)


def test_the_cap_is_the_command_lines_policy_not_the_librarys(plan, tmp_path, capsys, monkeypatch):
    """With a budget too small for even one block, simulate() still runs; the command line refuses."""
    import model.budget

    monkeypatch.setattr(model.budget, "MEMORY_BUDGET", 1000)
    assert model.budget.max_replications() == 0
    assert len(simulate(plan, 50, seed=1).met["green.energy_intensity_cut.2020"]) == 50
    code, err = _cli_code(capsys, "run", PLAN, "-n", 50, "--out", tmp_path / "out")
    assert code == 2 and err.startswith("error: --replications 50 is too many") and not (tmp_path / "out").exists()


def _cli_code(capsys, *argv):
    from model.cli import main

    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_cli_refuses_too_many_replications_for_run_compare_and_sweep(tmp_path, capsys):
    from model.budget import max_replications

    path, out = PLAN, tmp_path / "out"
    many = max_replications(6) + 1000  # fits for one scenario, not for six kept together
    cases = [
        (["run", path, "--replications", max_replications() + 1000], "1 scenario would need"),
        (["sweep", path, "techreform.subsidy_rate", 0.1, 0.2, 0.3, 0.4, 0.5, "-n", many], "6 scenarios kept together"),
        (["compare", path, path, path, path, path, path, "-n", many], "6 scenarios kept together"),
    ]
    for argv, fragment in cases:
        code, err = _cli_code(capsys, *argv, "--out", out)
        assert code == 2 and err.startswith("error: --replications") and fragment in err and "GiB" in err
        assert len(err.strip().splitlines()) == 1 and not out.exists()


# -- worker processes do not outlive the command ------------------------------------------------
def _children(pid: int) -> set[int]:
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found.update(int(c) for c in fh.read().split())
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


#: The command line as a program, with Python's Ctrl-C handler even where the test runner was
#: started with SIGINT ignored (a child inherits that, and Python then installs no handler).
_PROGRAM = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from model.cli import main; sys.exit(main(sys.argv[1:]))")


def _start_run(out, own_group: bool = False):
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", _PROGRAM, "run", str(PLAN),
                             "--replications", "20000", "--workers", "2", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            process_group=0 if own_group else None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if len(workers) >= 2:
            time.sleep(0.5)  # let them start working
            return proc, workers
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no workers appeared (exit status {proc.poll()})")


def _wait_gone(pids, seconds=5.0) -> set[int]:
    """Workers still alive after ``seconds``; they are killed so a failing test leaves none."""
    import signal
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    left = {p for p in pids if _alive(p)}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_workers_die_with_their_parent_and_sigterm_is_an_interrupt(tmp_path):
    import signal

    out = tmp_path / "killed"
    proc, workers = _start_run(out)
    proc.kill()  # SIGKILL: no handler runs, only the kernel's parent-death signal
    proc.communicate(timeout=30)
    assert not _wait_gone(workers), "workers outlived a killed parent"
    assert not out.exists()

    out = tmp_path / "terminated"
    proc, workers = _start_run(out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("interrupted: ") and "Traceback" not in err
    assert not _wait_gone(workers)
    assert not out.exists() and not any(p.name.startswith("terminated") for p in tmp_path.iterdir())


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_an_interrupt_in_the_parent_stops_the_pool_and_leaves_no_worker(plan):
    """The progress callback runs in the parent: an interrupt raised there (as Ctrl-C would be)
    propagates, queued tasks are cancelled and every worker has exited when simulate() returns."""
    calls = []

    def interrupt(n):
        calls.append(n)
        raise KeyboardInterrupt

    before = _children(os.getpid())
    with pytest.raises(KeyboardInterrupt):
        simulate(plan, 40 * BLOCK, seed=1, workers=2, chunk_size=BLOCK, progress=interrupt)
    assert calls == [BLOCK]  # the first finished task; the 39 others were never waited for
    assert not {p for p in _children(os.getpid()) - before if _alive(p)}


def test_progress_receives_every_replication_once(plan):
    for workers in (1, 2):
        seen = []
        simulate(plan, 3 * BLOCK + 1, seed=1, workers=workers, chunk_size=BLOCK, progress=seen.append)
        assert sorted(seen) == [1, BLOCK, BLOCK, BLOCK]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_ctrl_c_to_the_process_group_ends_the_run_and_its_workers(tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the whole foreground group: the workers ignore it and
    stop when the command line tells them to; it exits with 130 and saves nothing."""
    import signal

    out = tmp_path / "interrupted"
    proc, workers = _start_run(out, own_group=True)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted: ") and "Traceback" not in err
    assert not _wait_gone(workers)
    assert not out.exists() and not any(p.name.startswith("interrupted") for p in tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("delay", [0.0, 0.7, 1.5])  # at different moments: working, sending, between blocks
def test_a_killed_worker_fails_the_run_with_one_line_and_no_hang(tmp_path, delay):
    import signal
    import subprocess
    import time

    out = tmp_path / "run"
    proc, workers = _start_run(out)
    time.sleep(delay)
    os.kill(sorted(workers)[0], signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=30)  # a hang fails here
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the run did not end within 30 s of a worker being killed")
    if proc.returncode == 0:  # the run had already finished its last block: nothing to detect
        return
    assert proc.returncode == 3, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: a worker process") and "Traceback" not in err, err
    assert not out.exists()
    assert not _wait_gone(workers)
