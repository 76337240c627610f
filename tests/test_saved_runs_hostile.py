"""Tampered or damaged saved runs, names that try to be paths, links, other model versions and a
full disk: one clear ``error:`` line and exit 2, never a traceback, nothing written outside
``--out`` and the previous outputs unchanged (issue 15, items 3 and 5)."""

from __future__ import annotations

import errno
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import model.results
from model import load_scenario, simulate
from model.atomic import WriteError
from model.cli import main
from model.results import MODEL_VERSION, save_run
from model.runs import RunError, load_run
from tests.paths import ROOT, SCENARIOS

N, SEED = 50, 5
COMPARE = importlib.import_module("model.compare")  # the module (model.compare is also a function's name)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """Two tiny runs (plan and baseline, same seed), saved once; tests work on copies."""
    root = tmp_path_factory.mktemp("saved")
    for name in ("plan", "baseline"):
        simulate(load_scenario(SCENARIOS / f"{name}.toml"), N, SEED).save(root / name)
    return root


@pytest.fixture
def runs(saved, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the two runs in ``tmp_path/runs``; the working directory is ``tmp_path``."""
    shutil.copytree(saved, tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root`` (links as their target, never followed) -> its content."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                out[key] = "-> " + os.readlink(path)
            elif path.is_file():
                out[key] = path.read_bytes()
            else:
                out[key] = "dir"
    return out


def _error_line(capsys, argv) -> str:
    """Run the command line; assert exit 2 with one ``error:`` line and no traceback."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, err
    assert "Traceback" not in err + captured.out
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err.strip()


def _refused_everywhere(capsys, tmp_path: Path, run: Path, other: Path, message: str) -> None:
    """``compare`` (both orders) and ``brief`` refuse ``run`` naming ``message``; nothing changes on disk."""
    before = _snapshot(tmp_path)
    for argv in (["compare", other, run, "--out", tmp_path / "cmp"], ["compare", run, other, "--out", tmp_path / "cmp"],
                 ["brief", run, "--format", "html"]):
        err = _error_line(capsys, argv)
        assert message in err, err
    assert _snapshot(tmp_path) == before  # nothing written, nothing changed (no cmp/, no brief, no leftovers)


def _edit_manifest(run: Path, edit, keep_checksums: bool = True) -> None:
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    if not keep_checksums:
        manifest.pop("checksums")  # as a run saved before checksums existed
    edit(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def test_a_fresh_run_is_accepted_and_lists_the_checksums_of_its_files(runs):
    run = load_run(runs / "plan")
    assert set(run.manifest["checksums"]) == {p.name for p in (runs / "plan").iterdir()} - {"manifest.json"}
    code = main(["compare", str(runs / "baseline"), str(runs / "plan"), "--out", str(runs.parent / "cmp")])
    assert code == 0
    assert load_run(runs.parent / "cmp" / "runs" / "plan").manifest["checksums"]  # the copies carry theirs
    comparison = json.loads((runs.parent / "cmp" / "manifest.json").read_text("utf-8"))
    assert set(comparison["checksums"]) == {"comparison.csv"}


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "pickle"])
@pytest.mark.parametrize("checksums", [True, False], ids=["checksums", "old-run"])
def test_a_damaged_replications_file_is_named(runs, tmp_path, capsys, damage, checksums):
    npz = runs / "plan" / "replications.npz"
    data = npz.read_bytes()
    npz.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                     "garbage": bytes(range(256)) * 40,
                     "pickle": b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."}[damage])
    if not checksums:
        _edit_manifest(runs / "plan", lambda m: None, keep_checksums=False)
    message = ("replications.npz does not match its checksum; rerun the scenario" if checksums
               else "replications.npz is not a readable NumPy .npz archive of a run")
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline", message)


@pytest.mark.parametrize("key, value, message", [
    ("seed", "20170711", "seed must be a whole number >= 0"),
    ("seed", -1, "seed must be a whole number >= 0"),
    ("replications", 0, "replications must be a whole number >= 1"),
    ("replications", 50.0, "replications must be a whole number >= 1"),
    ("targets", "green.circular_park.2020", "targets must be a list of distinct target ids"),
    ("years", None, "years must be a list of years"),
    ("scenario", ["plan"], "scenario must be a table"),
    ("model_version", 1, "model_version must be text"),
    ("thresholds", {"techreform.investment_share.2020": "high"}, "scenario.thresholds must be a table of numbers"),
    ("surprise", 1, "unknown key 'surprise'"),
])
def test_a_manifest_field_of_the_wrong_type_is_named(runs, tmp_path, capsys, key, value, message):
    def edit(manifest):
        if key == "thresholds":
            manifest["scenario"]["thresholds"] = value
        else:
            manifest[key] = value
    _edit_manifest(runs / "plan", edit)
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline", message)


def test_an_edited_file_does_not_match_its_checksum(runs, tmp_path, capsys):
    summary = runs / "plan" / "summary.csv"
    text = summary.read_text("utf-8-sig")
    summary.write_text(text.replace("0.", "0.0", 1), "utf-8-sig")  # one figure, silently changed
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline",
                        "plan: summary.csv does not match its checksum; rerun the scenario")
    with pytest.raises(RunError, match="summary.csv does not match its checksum"):
        load_run(runs / "plan")


def test_a_file_without_its_checksum_is_refused(runs, tmp_path, capsys):
    def edit(manifest):
        del manifest["checksums"]["drivers.csv"]
    _edit_manifest(runs / "plan", edit)
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline", "drivers.csv has no checksum")


def _summary_lines(run: Path) -> list[str]:
    return (run / "summary.csv").read_text("utf-8-sig").splitlines(keepends=True)


def test_a_probability_written_as_text_is_named_in_a_run_without_checksums(runs, tmp_path, capsys):
    _edit_manifest(runs / "plan", lambda m: None, keep_checksums=False)
    lines = _summary_lines(runs / "plan")
    column = lines[0].strip().split(",").index("probability")
    row = next(i for i, line in enumerate(lines[1:], 1) if line.split(",")[column] not in ("", "probability"))
    cells = lines[row].split(",")
    cells[column] = "high"
    lines[row] = ",".join(cells)
    (runs / "plan" / "summary.csv").write_text("".join(lines), "utf-8-sig")
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline",
                        "summary.csv: column probability holds text where numbers belong")


def test_a_summary_with_a_row_deleted_is_refused_in_a_run_without_checksums(runs, tmp_path, capsys):
    _edit_manifest(runs / "plan", lambda m: None, keep_checksums=False)
    lines = _summary_lines(runs / "plan")
    gone = lines.pop(5).split(",")[0]
    (runs / "plan" / "summary.csv").write_text("".join(lines), "utf-8-sig")
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline", f"summary.csv lacks the row of {gone}")


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "..", ".hidden", "ABSOLUTE"])
def test_a_run_name_that_is_a_path_is_refused_and_nothing_is_written_outside(runs, tmp_path, capsys, name):
    absolute = tmp_path.parent / f"{tmp_path.name}-absolute"  # outside tmp_path, so the snapshot cannot see it

    def edit(manifest):
        manifest["scenario"]["name"] = str(absolute) if name == "ABSOLUTE" else name
    _edit_manifest(runs / "plan", edit)  # the manifest itself carries no checksum: this edit is possible
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline", "scenario.name must be a scenario name")
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()
    assert not absolute.exists()


def test_a_run_name_that_is_a_formula_is_refused(runs, tmp_path, capsys):
    def edit(manifest):
        manifest["scenario"]["name"] = '=HYPERLINK("http://x","y")'
    _edit_manifest(runs / "plan", edit)
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline", "scenario.name must be a scenario name")


def test_a_comparison_whose_manifest_names_a_path_is_refused_by_brief(runs, tmp_path, capsys):
    assert main(["compare", str(runs / "baseline"), str(runs / "plan"), "--out", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    manifest = json.loads((tmp_path / "cmp" / "manifest.json").read_text("utf-8"))
    manifest["scenarios"] = ["baseline", "../../runs/plan"]
    (tmp_path / "cmp" / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    before = _snapshot(tmp_path)
    err = _error_line(capsys, ["brief", tmp_path / "cmp", "--format", "html"])
    assert "scenarios holds '../../runs/plan', which is not a scenario name" in err
    assert _snapshot(tmp_path) == before


def test_an_edited_comparison_is_refused_by_brief(runs, tmp_path, capsys):
    assert main(["compare", str(runs / "baseline"), str(runs / "plan"), "--out", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    with open(tmp_path / "cmp" / "comparison.csv", "a", encoding="utf-8") as fh:
        fh.write("=1+1,\n")
    before = _snapshot(tmp_path)
    err = _error_line(capsys, ["brief", tmp_path / "cmp", "--format", "html"])
    assert err.endswith("cmp: comparison.csv does not match its checksum; run the comparison again"), err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("checksums", [True, False], ids=["checksums", "old-run"])
def test_a_symlink_inside_a_run_is_refused(runs, tmp_path, capsys, checksums):
    secret = tmp_path / "secret.csv"
    shutil.copy(runs / "plan" / "drivers.csv", secret)  # a file outside the run, even one that would parse
    (runs / "plan" / "drivers.csv").unlink()
    (runs / "plan" / "drivers.csv").symlink_to(secret)
    if not checksums:
        _edit_manifest(runs / "plan", lambda m: None, keep_checksums=False)
    _refused_everywhere(capsys, tmp_path, runs / "plan", runs / "baseline",
                        "plan: drivers.csv is a symbolic link, not a file a saved run holds")


def test_a_comparison_whose_runs_folder_is_a_link_is_refused_by_brief(runs, tmp_path, capsys):
    assert main(["compare", str(runs / "baseline"), str(runs / "plan"), "--out", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    shutil.rmtree(tmp_path / "cmp" / "runs" / "plan")
    (tmp_path / "cmp" / "runs" / "plan").symlink_to(runs / "plan")
    before = _snapshot(tmp_path)
    err = _error_line(capsys, ["brief", tmp_path / "cmp", "--format", "html"])
    assert "runs/plan is a symbolic link" in err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("versions", [("0.0.9", MODEL_VERSION), ("0.0.9", "0.0.9"), (None, MODEL_VERSION)])
def test_runs_of_another_model_version_are_not_compared(runs, tmp_path, capsys, versions):
    for name, version in zip(("plan", "baseline"), versions):
        def edit(manifest, version=version):
            if version is None:
                del manifest["model_version"]
            else:
                manifest["model_version"] = version
        _edit_manifest(runs / name, edit)
    before = _snapshot(tmp_path)
    err = _error_line(capsys, ["compare", runs / "baseline", runs / "plan", "--out", tmp_path / "cmp"])
    assert f"this is model version {MODEL_VERSION}; rerun it" in err
    assert "saved by model version 0.0.9" in err or "saved by no model version" in err
    err = _error_line(capsys, ["compare", runs / "plan", SCENARIOS / "baseline.toml", "--out", tmp_path / "cmp"])
    assert "rerun it" in err  # refused before the scenario file is simulated
    assert _snapshot(tmp_path) == before


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_writing_results_xlsx_keeps_the_previous_run(runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(model.results, "write_workbook", _no_space)
    out = runs / "plan"
    before = _snapshot(tmp_path)
    err = _error_line(capsys, ["run", SCENARIOS / "plan.toml", "-n", N, "--seed", SEED + 1, "--xlsx", "--out", out])
    assert err == f"error: cannot write results.xlsx in {out}: No space left on device; nothing was saved"
    assert _snapshot(tmp_path) == before  # the previous run as it was, no .partial folder, no half run
    assert not list(runs.glob(".*"))


def test_disk_full_while_writing_comparison_xlsx_keeps_the_previous_comparison(runs, tmp_path, capsys, monkeypatch):
    out = tmp_path / "cmp"
    assert main(["compare", str(runs / "baseline"), str(runs / "plan"), "--out", str(out)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(COMPARE, "write_workbook", _no_space)
    before = _snapshot(tmp_path)
    err = _error_line(capsys, ["compare", runs / "plan", runs / "baseline", "--xlsx", "--out", out])
    assert err == f"error: cannot write comparison.xlsx in {out}: No space left on device; nothing was saved"
    assert _snapshot(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


RUN_FILES = ["summary.csv", "trajectories.csv", "joint.csv", "departments.csv", "districts.csv", "drivers.csv",
             "calibration.csv", "replications.npz", "results.xlsx", "manifest.json"]


@pytest.mark.parametrize("failing", RUN_FILES)
def test_every_file_of_a_run_names_itself_when_its_write_fails(runs, tmp_path, monkeypatch, failing):
    run = load_run(runs / "plan")
    writers = {"write_csv": model.results.write_csv, "write_workbook": model.results.write_workbook}

    def failing_writer(kind):
        def write(*args, **kwargs):
            target = Path(args[1] if kind == "write_csv" else args[0])
            if target.name == failing:
                _no_space()
            return writers[kind](*args, **kwargs)
        return write

    monkeypatch.setattr(model.results, "write_csv", failing_writer("write_csv"))
    monkeypatch.setattr(model.results, "write_workbook", failing_writer("write_workbook"))
    savez, dump = np.savez_compressed, json.dump
    monkeypatch.setattr(model.results.np, "savez_compressed",
                        lambda f, **kw: _no_space() if Path(f).name == failing else savez(f, **kw))
    monkeypatch.setattr(model.results.json, "dump",
                        lambda obj, fh, **kw: _no_space() if Path(fh.name).name == failing else dump(obj, fh, **kw))
    out = runs / "baseline"
    before = _snapshot(tmp_path)
    with pytest.raises(WriteError) as caught:
        save_run(run, out, xlsx=True)
    assert str(caught.value) == f"cannot write {failing} in {out}: No space left on device; nothing was saved"
    assert caught.value.errno == errno.ENOSPC
    assert _snapshot(tmp_path) == before


def test_the_module_command_line_refuses_a_damaged_run_without_a_traceback(runs, tmp_path):
    (runs / "plan" / "replications.npz").write_bytes(b"")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "model", "compare", "runs/plan", "runs/baseline"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("error: runs/plan: replications.npz does not match its checksum; "
                                     "rerun the scenario")
    assert sorted(p.name for p in runs.iterdir()) == ["baseline", "plan"]  # no runs/compare-... written
