"""``--executor dask``: the blocks on a dask.distributed cluster give the local run's numbers.

The tests start their cluster themselves (one ``LocalCluster`` of two worker processes on this
machine, as ``--executor dask`` without ``--scheduler`` starts it), so CI needs no scheduler.
Each block's numbers depend only on the seed, its index and the scenario, so the comparisons are
exact (bit for bit), not statistical; nothing here depends on timing.
"""

import os
import signal

import distributed
import numpy as np
import psutil
import pytest

from model import cluster
from model.blocks import BLOCK, plan_blocks
from model.cli import main
from model.engine import simulate
from model.results import Results
from model.sweep import sweep
from tests.paths import PLAN, SCENARIOS

SEED = 11
N = 2 * BLOCK + 137  # a partial last block


def assert_identical(a, b):
    """Every indicator, value, met flag and sampled input equal, dtype and all (NaN where NaN)."""
    for attr in ("indicators", "values", "met", "inputs"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert list(x) == list(y), attr
        for key in x:
            assert x[key].dtype == y[key].dtype, (attr, key)
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"{attr} {key}")


def check_simulate(plan, local, scheduler, tmp_path):
    """simulate() on the cluster: the local run's arrays, and its summary.csv byte for byte."""
    on_dask = simulate(plan, N, SEED, executor="dask", scheduler=scheduler)
    assert_identical(local, on_dask)
    assert on_dask.meta["executor"] == "dask" and on_dask.meta["scheduler"] == scheduler
    assert local.meta["executor"] == "local" and "scheduler" not in local.meta
    a, b = local.save(tmp_path / "local"), on_dask.save(tmp_path / "dask")
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()


def check_cli(scheduler, tmp_path, capsys):
    """``run --executor dask --scheduler``: every file ``--workers 1`` writes, the same bytes."""
    common = ["run", str(PLAN), "-n", str(2 * BLOCK), "--seed", str(SEED)]
    assert main([*common, "--workers", "1", "--out", str(tmp_path / "cli-local")]) == 0
    assert main([*common, "--executor", "dask", "--scheduler", scheduler, "--out", str(tmp_path / "cli-dask")]) == 0
    assert f"on the dask cluster at {scheduler}" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "cli-local").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "cli-dask").iterdir())
    assert "summary.csv" in names and "replications.npz" in names
    for name in names:
        if name != "manifest.json":  # times and the executor differ
            assert (tmp_path / "cli-local" / name).read_bytes() == (tmp_path / "cli-dask" / name).read_bytes(), name


def check_sweep(plan, scheduler):
    """A sweep (a comparison of several scenarios) on the cluster: the same table and runs."""
    local_sweep = sweep(plan, "techreform.subsidy_rate", [0.3], BLOCK, SEED)
    dask_sweep = sweep(plan, "techreform.subsidy_rate", [0.3], BLOCK, SEED, executor="dask", scheduler=scheduler)
    assert local_sweep.table.equals(dask_sweep.table)
    for a, b in zip(local_sweep.runs, dask_sweep.runs):
        assert_identical(a, b)


def check_streamed(plan, scheduler):
    """A streamed run on the cluster (workers send back their blocks' summary): the same tables."""
    local = simulate(plan, N, SEED, stream=True)
    remote = simulate(plan, N, SEED, stream=True, executor="dask", scheduler=scheduler)
    for table in ("summary", "trajectories", "drivers", "calibration", "districts"):
        assert getattr(local, table).equals(getattr(remote, table)), table
    assert all(np.array_equal(local.met[k], remote.met[k]) for k in local.met)


def check_lost_worker(plan, local, scheduler):
    """A worker killed (SIGKILL) after the first task: dask reruns what it had, same numbers."""
    tasks = [[block] for block in plan_blocks(N)]
    done, killed = {}, None
    with distributed.Client(scheduler) as watcher:
        for i, blocks in cluster.run_dask(cluster.run_tasks, plan, (SEED,), tasks, scheduler=scheduler):
            done[i] = blocks
            if killed is None:  # the worker with the most of this run on it (running or held)
                running, held = watcher.processing(), watcher.has_what()
                busy = {w: set(running.get(w, ())) | set(held.get(w, ())) for w in running}
                victim = max(busy, key=lambda w: len(busy[w]))
                assert busy[victim], "the killed worker held nothing of this run"
                killed = watcher.run(os.getpid, workers=[victim])[victim]
                os.kill(killed, signal.SIGKILL)
    try:  # it really died (its nanny starts a new process)
        assert psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass
    assert sorted(done) == list(range(len(tasks)))
    parts = [block for i in sorted(done) for block in done[i]]
    again = Results.from_blocks(plan, parts, seed=SEED, replications=N, workers=2, started=0.0, finished=0.0)
    assert_identical(local, again)


def test_dask_runs_are_identical_to_local_runs_even_when_a_worker_is_lost(plan, tmp_path, capsys):
    """One test, so one cluster (starting it and importing the model in its workers is most of
    the cost, and xdist would start one per process for a module's fixture): a local cluster of
    two workers, started and checked as ``--executor dask`` without ``--scheduler`` starts it."""
    local = simulate(plan, N, SEED)
    with cluster.connect(None, workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        scheduler = client.scheduler.address
        check_simulate(plan, local, scheduler, tmp_path)
        check_cli(scheduler, tmp_path, capsys)
        check_sweep(plan, scheduler)
        check_streamed(plan, scheduler)
        check_lost_worker(plan, local, scheduler)  # last: the cluster is one worker short for a while


def test_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    out = tmp_path / "run"
    assert main(["run", str(PLAN), "-n", "500", "--executor", "dask", "--scheduler", address,
                 "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "dask scheduler" in lines[0], captured.err
    assert not out.exists()


@pytest.mark.parametrize("argv, expected", [
    (["--executor", "ray"], "invalid choice: 'ray'"),
    (["--executor", "dask", "--scheduler", "no such host"], "not a dask scheduler address"),
    (["--executor", "dask", "--scheduler", "tcp://host:99999"], "not a dask scheduler address"),
])
def test_bad_executor_options_are_one_line_with_status_2(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(PLAN), "techreform.subsidy_rate", "0.1", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_scheduler_needs_the_dask_executor(capsys, tmp_path):
    assert main(["compare", str(SCENARIOS / "baseline.toml"), str(PLAN), "--scheduler", "tcp://127.0.0.1:9",
                 "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --scheduler needs --executor dask"
