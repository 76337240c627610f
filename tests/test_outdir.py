"""``--out`` replaces only a directory that is verifiably one of our runs or comparisons.

A planner's ``--out`` may name any folder: a web app with its own ``manifest.json``, a
comparison, a run with their own notes added. Only a complete run (or comparison) that holds
nothing else is ever swapped out; everything else is refused before simulating, exit 2, with
every file left as it was.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from model import load_scenario, simulate
from model.atomic import OutDirError, atomic_directory, check_replaceable, exchange
from model.cli import main
from tests.paths import PLAN, SCENARIOS

SCENARIO = str(PLAN)
BASELINE = str(SCENARIOS / "baseline.toml")
N = 50  # tiny runs: these tests check what is written and kept, not the model's numbers


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(out: Path, capsys) -> tuple[int, str]:
    code = main(["run", SCENARIO, "--replications", str(N), "--out", str(out)])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def plan_run():
    return simulate(load_scenario(SCENARIO), N, seed=1)


@pytest.fixture
def web_app(tmp_path) -> Path:
    """A folder that merely holds a file named manifest.json (a web app's)."""
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "manifest.json").write_text(json.dumps({"name": "my app", "start_url": "/"}), "utf-8")
    (app / "index.html").write_text("<html></html>", "utf-8")
    (app / "src" / "main.js").write_text("console.log(1)", "utf-8")
    return app


def test_run_out_refuses_a_folder_with_a_foreign_manifest(web_app, capsys):
    before = _snapshot(web_app)
    code, err = _run(web_app, capsys)
    assert code == 2
    assert "is not a run" in err and str(web_app) in err and "Traceback" not in err
    assert _snapshot(web_app) == before
    assert sorted(p.name for p in web_app.parent.iterdir()) == ["app"]  # no temporary folder left


def test_run_out_refuses_a_comparison_and_a_run_with_extra_files(tmp_path, capsys, plan_run):
    comparison = tmp_path / "cmp"
    comparison.mkdir()
    (comparison / "manifest.json").write_text(json.dumps({"kind": "comparison", "scenarios": ["a", "b"]}), "utf-8")
    (comparison / "comparison.csv").write_text("x\n", "utf-8")
    code, err = _run(comparison, capsys)
    assert code == 2 and "a comparison" in err

    run = plan_run.save(tmp_path / "run")
    (run / "notes.docx").write_bytes(b"my notes")
    before = _snapshot(run)
    code, err = _run(run, capsys)
    assert code == 2 and "notes.docx" in err
    assert _snapshot(run) == before


def test_run_out_replaces_one_of_our_runs_with_its_brief_and_leftovers(tmp_path, capsys, plan_run):
    run = plan_run.save(tmp_path / "run")
    (run / "brief.zh.html").write_text("<html></html>", "utf-8")
    (run / ".results.xlsx.partial").write_bytes(b"")  # a killed workbook write
    old_started = json.loads((run / "manifest.json").read_text("utf-8"))["seed"]
    code = main(["run", SCENARIO, "--replications", str(N), "--seed", str(old_started + 1), "--out", str(run)])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    assert manifest["kind"] == "run" and manifest["seed"] == old_started + 1
    assert not (run / "brief.zh.html").exists()
    names = sorted(p.name for p in tmp_path.iterdir())  # the previous run kept beside it, brief and all
    assert len(names) == 2 and names[0] == "run" and names[1].startswith("run.")
    assert (tmp_path / names[1] / "brief.zh.html").is_file() and "run." in capsys.readouterr().out


def test_save_from_python_refuses_too_and_leaves_the_folder(web_app, plan_run):
    before = _snapshot(web_app)
    with pytest.raises(OutDirError, match="not a run"):
        plan_run.save(web_app)
    assert _snapshot(web_app) == before


def test_compare_out_refuses_a_run(tmp_path, capsys, plan_run):
    run = plan_run.save(tmp_path / "run")
    before = _snapshot(run)
    code = main(["compare", SCENARIO, BASELINE, "--replications", str(N), "--out", str(run)])
    assert code == 2 and "is not a comparison" in capsys.readouterr().err
    assert _snapshot(run) == before


def test_a_comparison_with_a_foreign_folder_in_runs_is_not_replaceable(tmp_path):
    comparison = tmp_path / "cmp"
    (comparison / "runs" / "other").mkdir(parents=True)
    (comparison / "manifest.json").write_text(json.dumps({"kind": "comparison", "scenarios": ["a"]}), "utf-8")
    (comparison / "runs" / "other" / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(OutDirError, match="runs/other"):
        check_replaceable(comparison, "comparison")
    assert check_replaceable(tmp_path / "absent", "comparison") == tmp_path / "absent"
    (tmp_path / "empty").mkdir()
    assert check_replaceable(tmp_path / "empty", "run") == tmp_path / "empty"


def test_a_symlink_or_file_in_the_way_is_refused(tmp_path, web_app):
    link = tmp_path / "link"
    link.symlink_to(web_app)
    with pytest.raises(OutDirError, match="symbolic link"):
        check_replaceable(link, "run")
    (tmp_path / "file").write_text("x", "utf-8")
    with pytest.raises(OutDirError, match="not a directory"):
        check_replaceable(tmp_path / "file" / "run", "run")


def test_a_crash_between_the_two_renames_is_undone_by_the_next_save(tmp_path, plan_run):
    run = plan_run.save(tmp_path / "run")
    before = _snapshot(run)
    # the state a kill between `out -> .old` and `tmp -> out` leaves: the run only under .old
    dead_pid = 2 ** 22 + 12345  # above Linux's pid_max default: no such process
    (run).rename(tmp_path / f".run.old-{dead_pid}")
    (tmp_path / f".run.partial-{dead_pid}-abc").mkdir()
    with pytest.raises(RuntimeError):
        with atomic_directory(tmp_path / "run", "run"):
            # tidying put the old run back before this save began, and this save fails
            assert _snapshot(tmp_path / "run") == before
            raise RuntimeError("fault while writing")
    assert _snapshot(tmp_path / "run") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no .old, no stale .partial


def test_saves_into_one_folder_take_their_turn(tmp_path, plan_run):
    entered, release = threading.Event(), threading.Event()
    order = []

    def slow_writer():
        with atomic_directory(tmp_path / "run", "run") as tmp:
            entered.set()
            release.wait(30)
            order.append("first")
            (tmp / "manifest.json").write_text(json.dumps(plan_run.manifest), "utf-8")

    first = threading.Thread(target=slow_writer)
    first.start()
    assert entered.wait(30)
    second = threading.Thread(target=lambda: (plan_run.save(tmp_path / "run"), order.append("second")))
    second.start()
    second.join(0.5)
    assert second.is_alive() and order == []  # waiting for the lock, not racing
    release.set()
    first.join(30)
    second.join(30)
    assert order == ["first", "second"]
    assert (tmp_path / "run" / "summary.csv").is_file()  # the second, complete save is what stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one").write_text("a", "utf-8")
    (tmp_path / "b" / "two").write_text("b", "utf-8")
    if not exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("this system cannot swap paths atomically; the two-rename fallback is tested above")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["two"]
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["one"]


def test_several_scenarios_never_nest_inside_a_run(tmp_path, plan_run, capsys):
    run = plan_run.save(tmp_path / "run")
    before = _snapshot(run)
    code = main(["run", SCENARIO, BASELINE, "--replications", str(N), "--out", str(run)])
    assert code == 2 and "is a run" in capsys.readouterr().err
    assert _snapshot(run) == before
