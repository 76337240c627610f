"""Hostile scenario files (issue 15): every one ends in one clear line and exit 2, quickly.

Each case is what a careless colleague or a shared drive can produce: nesting far beyond any
real key, an ``extends`` chain of a thousand files, symbolic-link loops, ``extends`` pointing at
system files or outside the scenario's folder, pipes, control characters, huge files, dates
where numbers go, overlong names. None may give a traceback, block, or quote a non-scenario
file's content.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model import ScenarioError, load_scenario
from model.scenario import MAX_EXTENDS
from model.tomlfile import MAX_DEPTH, MAX_FILE_BYTES
from tests.paths import PLAN, ROOT

HEAD = '[scenario]\nname = "t"\ntitle_zh = "测试"\ntitle_en = "Test"\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def validate(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python -m model validate`` in a subprocess, so a hang fails the test instead of CI."""
    return subprocess.run([sys.executable, "-m", "model", "validate", str(path), *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("text, key", [
    (HEAD + "[levers]\n" + ".".join(["a"] * 1000) + " = 1\n", "levers.a.a.a"),   # a dotted key
    (HEAD + "[" + ".".join(["a"] * 1000) + "]\nb = 1\n", "a.a.a.a"),            # a table header
    (HEAD + "x = " + "[" * 1000 + "]" * 1000 + "\n", None),                      # nested arrays
    (HEAD + "x = " + "{ a = " * 200 + "1" + " }" * 200 + "\n", "scenario.x.a.a"),  # inline tables
])
def test_nesting_beyond_the_limit_is_one_line(tmp_path, text, key):
    line = one_line_error(validate(write(tmp_path, "deep.toml", text)))
    assert "nested" in line and f"{MAX_DEPTH}" in line
    if key:
        assert key in line


def test_an_extends_chain_beyond_the_limit_is_refused(tmp_path):
    for i in range(1200):
        parent = f'extends = "c{i + 1}.toml"\n' if i < 1199 else ""
        write(tmp_path, f"c{i}.toml", HEAD.replace('"t"', f'"c{i}"') + parent)
    line = one_line_error(validate(tmp_path / "c0.toml"))
    assert f"longer than {MAX_EXTENDS} files" in line
    # a chain within the limit loads
    write(tmp_path, f"c{MAX_EXTENDS - 1}.toml", HEAD.replace('"t"', '"last"'))
    assert load_scenario(tmp_path / "c0.toml").name == "c0"


def test_symbolic_link_loops_as_the_file_or_in_extends(tmp_path):
    (tmp_path / "a.toml").symlink_to("b.toml")
    (tmp_path / "b.toml").symlink_to("a.toml")
    assert "loop of symbolic links" in one_line_error(validate(tmp_path / "a.toml"))
    child = write(tmp_path, "child.toml", HEAD + 'extends = "a.toml"\n')
    line = one_line_error(validate(child))
    assert "loop of symbolic links" in line and "scenario.extends" in line


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "../outside.toml"])
def test_extends_outside_the_folder_tree_is_refused_without_reading_it(tmp_path, target):
    inner = tmp_path / "mine"
    inner.mkdir()
    secret = write(tmp_path, "outside.toml", 'root:x:0:0 = "SECRET-TOKEN"\n')
    child = write(inner, "child.toml", HEAD + f'extends = "{target}"\n')
    line = one_line_error(validate(child))
    assert "scenario.extends" in line and "SECRET" not in line and "root:x" not in line
    # a link named like a scenario file, pointing outside, is refused the same way
    (inner / "link.toml").symlink_to(secret)
    line = one_line_error(validate(write(inner, "via_link.toml", HEAD + 'extends = "link.toml"\n')))
    assert "outside" in line and "SECRET" not in line


def test_search_path_allows_a_named_folder(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    write(shared, "base.toml", HEAD.replace('"t"', '"base"') + "[levers.techreform]\nsubsidy_rate = 0.2\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    child = write(mine, "child.toml", HEAD + 'extends = "../shared/base.toml"\n')
    with pytest.raises(ScenarioError, match="outside"):
        load_scenario(child)
    assert load_scenario(child, search_path=(shared,)).levers["techreform.subsidy_rate"] == 0.2
    # a subfolder of the scenario's own folder is inside its tree
    (mine / "parts").mkdir()
    write(mine / "parts", "base.toml", HEAD.replace('"t"', '"base"'))
    assert load_scenario(write(mine, "sub.toml", HEAD + 'extends = "parts/base.toml"\n')).name == "t"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_never_blocks(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    assert "not a regular file" in one_line_error(validate(tmp_path / "pipe.toml"))
    child = write(tmp_path, "child.toml", HEAD + 'extends = "pipe.toml"\n')
    assert "not a regular file" in one_line_error(validate(child))


def test_system_files_and_devices_as_the_scenario(tmp_path):
    for path in ("/etc/passwd", "/dev/zero"):
        assert "end in .toml" in one_line_error(validate(Path(path)))


def test_a_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD)
        fh.write("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert "at most" in one_line_error(validate(path))


def test_control_characters_are_escaped_in_messages(tmp_path):
    path = write(tmp_path, "ctl.toml", HEAD.replace('"t"', '"t\\u001b[2J\\u0007"'))
    line = one_line_error(validate(path))
    assert "\x1b" not in line and "\x07" not in line and "\\u001b" in line
    odd = tmp_path / "odd\x1b[31mname.toml"
    odd.write_text(HEAD + "[levers.techreform]\nsubsidy_rate = 2\n", encoding="utf-8")
    line = one_line_error(validate(odd))
    assert "\x1b" not in line and "\\x1b[31m" in line


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59"])
def test_a_date_where_a_number_goes(tmp_path, value):
    path = write(tmp_path, "d.toml", HEAD + f"[levers.techreform]\nsubsidy_rate = {value}\n")
    line = one_line_error(validate(path))
    assert "subsidy_rate" in line and "found a date" in line


def test_an_overlong_name_is_refused_by_validate(tmp_path):
    path = write(tmp_path, "long.toml", HEAD.replace('"t"', '"' + "a" * 300 + '"'))
    line = one_line_error(validate(path))
    assert "scenario.name" in line and "300 characters" in line


def test_scenario_path_on_the_command_line(tmp_path):
    shared = tmp_path / "shared"
    mine = tmp_path / "mine"
    shared.mkdir()
    mine.mkdir()
    write(shared, "base.toml", HEAD.replace('"t"', '"base"'))
    child = write(mine, "child.toml", HEAD + 'extends = "../shared/base.toml"\n')
    assert "--scenario-path" in one_line_error(validate(child))
    accepted = validate(child, "--scenario-path", str(shared))
    assert accepted.returncode == 0 and accepted.stdout.startswith("ok"), accepted.stderr


def test_more_workers_than_cores_is_refused_before_anything_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "model", "run", str(PLAN),
                             "--workers", "1000", "--out", str(tmp_path / "out")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "core" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_as_the_scenario_is_one_line(tmp_path):
    assert "is a directory" in one_line_error(validate(tmp_path))


def test_a_scenario_link_to_a_system_file_is_not_quoted(tmp_path):
    (tmp_path / "env.toml").symlink_to("/etc/passwd")
    line = one_line_error(validate(tmp_path / "env.toml"))
    assert "not a scenario file" in line and "root:" not in line


def test_titles_are_printed_with_control_characters_escaped(tmp_path):
    (tmp_path / "plan.toml").write_text(PLAN.read_text("utf-8"), "utf-8")
    path = write(tmp_path, "esc.toml", HEAD.replace('"Test"', '"t\\u001b]0;pwned\\u0007"') + 'extends = "plan.toml"\n')
    result = subprocess.run([sys.executable, "-m", "model", "run", str(path), "--replications", "50",
                             "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\\x1b]0;pwned\\x07" in result.stdout
