"""One run type: a run in memory and the same run read back offer one numeric interface."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import Results, Run, SavedRun, load_run, load_scenario, simulate
from model.tables import summary_csv

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "model"
N, SEED = 300, 3


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    results = simulate(load_scenario(ROOT / "scenarios" / "plan.toml"), N, SEED)
    saved = load_run(results.save(tmp_path_factory.mktemp("runs") / "plan"))
    return results, saved


def test_both_are_one_run_type_with_attributes(pair):
    results, saved = pair
    assert isinstance(results, Results) and isinstance(saved, SavedRun)
    for run in pair:
        assert isinstance(run, Run)
        for name in ("summary", "trajectories", "joint", "departments", "districts", "drivers"):
            assert isinstance(getattr(run, name), pd.DataFrame), name  # attributes, not methods
        assert isinstance(run.manifest, dict) and run.manifest["kind"] == "run"
        assert (run.name, run.seed, run.replications) == ("plan", SEED, N)
        assert run.settings["name"] == "plan" and "levers" in run.settings


def test_summary_is_numeric(pair):
    summary = pair[0].summary
    for col in ("probability", "probability_low", "probability_high", "median", "p10", "p90"):
        assert summary[col].dtype == np.float64, col
    for col in ("median_never", "p10_never", "p90_never"):
        assert summary[col].dtype == bool, col
    milestones = summary[summary["unit"] == "date"]
    assert len(milestones) > 0
    reached = milestones[~milestones["median_never"] & milestones["median"].notna()]
    assert reached["median"].between(2016, 2021).all()  # decimal years
    # never reached: missing, with the flag; intervals are not rounded in memory
    assert milestones.loc[milestones["median_never"], "median"].isna().all()
    modelled = summary[summary["probability"].notna()]
    assert not np.allclose(modelled["probability_low"], modelled["probability_low"].round(4))


def test_never_reached_milestone_is_flagged_and_written_as_never(pair):
    results = pair[0]
    target = next(t for t in results.summary.itertuples() if t.unit == "date" and not np.isnan(t.probability))
    values = dict(results.values)
    values[target.target_id] = np.full(N, np.inf)  # never reached in any replication
    run = Results(results.scenario, SEED, N, results.indicators, values, results.met)
    row = run.summary.set_index("target_id").loc[target.target_id]
    assert bool(row["median_never"]) and np.isnan(row["median"])
    written = summary_csv(run.summary).set_index("target_id").loc[target.target_id]
    assert written["median"] == "never" and written["p10"] == "never"


def test_saved_run_reads_back_as_the_run(pair):
    results, saved = pair
    pd.testing.assert_frame_equal(results.summary, saved.summary)  # from the saved replications: exact
    pd.testing.assert_frame_equal(results.joint, saved.joint)
    pd.testing.assert_frame_equal(results.departments, saved.departments)
    pd.testing.assert_frame_equal(results.districts, saved.districts)
    for key in results.met:
        np.testing.assert_array_equal(results.met[key], saved.met[key])
        np.testing.assert_array_equal(results.values[key], saved.values[key])
    # trajectories and drivers are read from CSV files written to 4 decimals: equal to 5e-5
    pd.testing.assert_frame_equal(results.trajectories, saved.trajectories, check_exact=False, atol=5e-5, rtol=0)
    pd.testing.assert_frame_equal(results.drivers, saved.drivers, check_exact=False, atol=5e-5, rtol=0,
                                  check_dtype=False)
    manifest = dict(saved.manifest)
    checksums = manifest.pop("checksums")  # added by the save: every file but the manifest
    assert json.loads(json.dumps(results.manifest, default=str)) == manifest  # as JSON holds it
    assert set(checksums) == {p.name for p in saved.path.iterdir()} - {"manifest.json"}


# -- the import graph of model/ ---------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> tuple[set[str], list[tuple[int, str]]]:
    """Modules of ``model`` that ``path`` imports at its top level, and its function-local imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"))
    top, local = set(), []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            targets = [f"{base}.{node.module}" if node.module else base]
            if not node.module:
                targets = [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = [node.module]
        else:
            targets = [a.name for a in node.names]
        if node.col_offset > 0:
            local.append((node.lineno, targets[0]))
        else:
            top |= {t for t in targets if t == "model" or t.startswith("model.")}
    return top, local


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        deps, _ = _imports(path)
        # "from .x import y" may name a submodule or a name: keep the modules that exist
        graph[name] = {d if d in files else d.rpartition(".")[0] for d in deps} - {name}
        graph[name] &= set(files)
    return graph


def test_no_import_cycles_inside_model():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if dep == "model" or node == "model":
                continue  # the package facade imports its parts; parts never need it
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert graph["model.compare"] and "model.report.excel" in graph["model.compare"]  # the graph is real


MODULES = sorted(str(p.relative_to(PACKAGE).with_suffix("")) for p in PACKAGE.rglob("*.py"))
#: Imported inside a function on purpose: heavy, and needed by one command only.
OPTIONAL = {
    "weasyprint",  # only for a PDF
    "model.report.brief",  # matplotlib and WeasyPrint: a second of start-up for every other command
}


@pytest.mark.parametrize("name", MODULES)
def test_no_function_local_imports(name):
    _, local = _imports(PACKAGE / f"{name}.py")
    assert [(line, m) for line, m in local if m not in OPTIONAL and m.split(".")[0] not in OPTIONAL] == []


@pytest.mark.parametrize("name", MODULES)
def test_modules_stay_short(name):
    """DESIGN.md section 8.1: split a module before it passes about 400 lines."""
    assert len((PACKAGE / f"{name}.py").read_text("utf-8").splitlines()) <= 400


def test_files_are_formatted_once_when_written(pair):
    results, saved = pair
    summary = pd.read_csv(saved.path / "summary.csv", encoding="utf-8-sig")
    assert list(summary.columns) == [
        "target_id",
        "plan",
        "name_zh",
        "name_en",
        "deadline",
        "test",
        "unit",
        "probability",
        "probability_low",
        "probability_high",
        "median",
        "p10",
        "p90",
        "status",
        "responsible",
        "probability_scale",  # "fraction": the likelihoods are fractions, not percentages
    ]
    memory = results.summary
    np.testing.assert_array_equal(summary["probability_low"], np.floor(memory["probability_low"] * 1e4) / 1e4)
    np.testing.assert_array_equal(summary["probability_high"], np.ceil(memory["probability_high"] * 1e4) / 1e4)
    dates = summary.loc[summary["unit"] == "date", "median"].dropna()
    assert len(dates) and all(v == "never" or len(v) == 10 and v[4] == "-" for v in dates)
    joint = pd.read_csv(saved.path / "joint.csv", encoding="utf-8-sig").set_index("view")
    low = results.joint.set_index("view").loc["headline_2020", "probability_low"]
    assert joint.loc["headline_2020", "probability_low"] == np.floor(low * 1e4) / 1e4 <= low
