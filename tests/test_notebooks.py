"""Every planner notebook runs top to bottom (papermill), with few replications, and shows its
charts as pictures.

The rules apply to every ``notebooks/*.ipynb``, so a notebook added later is checked too. A
notebook passes when:

- it is committed without outputs, its first code cell is tagged ``parameters``, and that cell
  sets ``replications`` (the test lowers it) and any output folder as a name ending in
  ``_dir`` (the test points it at a temporary folder);
- every code cell that calls a chart function of :mod:`model.report.charts` (one returning a
  Figure) is tagged ``chart`` in its cell metadata;
- executed, every cell tagged ``chart`` has an ``image/png`` output, no cell shows a figure as
  text only (``<Figure size 640x360 with 1 Axes>``), and every cell showing a figure (whatever
  made it) is tagged ``chart``.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re

import papermill
import pytest
from matplotlib.figure import Figure

from model.report import analysis_charts, charts
from tests.paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: the public functions of the chart modules that draw a chart (their return annotation is Figure)
CHART_FUNCTIONS = sorted(
    name for module in (charts, analysis_charts) for name, func in inspect.getmembers(module, inspect.isfunction)
    if not name.startswith("_") and func.__module__ == module.__name__
    and inspect.signature(func).return_annotation in (Figure, "Figure")
)
DRAWS = re.compile(r"\b(?:charts\.)?(" + "|".join(CHART_FUNCTIONS) + r")\s*\(")
FIGURE_AS_TEXT = re.compile(r"<(?:Figure size|matplotlib\.figure\.Figure|model\.report\.\w+\.Chart)")


#: Replications per notebook in the test: few, except where conditioning needs more (the shipped
#: figures of observed/2018-h1.toml leave ~15 % of the replications effective, and a run below 200
#: effective ones is refused: 2,000 leave ~290)
REPLICATIONS = {"06_published_figures": 2000}


def _book(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code(book: dict) -> list[dict]:
    return [c for c in book["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _parameters(book: dict) -> set[str]:
    """Names the parameters cell assigns."""
    tree = ast.parse(_source(_code(book)[0]))
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
            if isinstance(t, ast.Name)}


def test_the_chart_functions_are_known():
    # the static check below is only as good as this list: the bar, dot, fan and zombie charts
    assert {"fan_chart", "zombie_chart", "likelihood_bars", "comparison_dots", "tornado"} <= set(CHART_FUNCTIONS)


def test_the_planner_notebooks_exist_without_outputs():
    assert {"01_quickstart", "02_compare_scenarios", "03_policy_brief", "04_write_a_scenario",
            "06_published_figures"} <= {
        p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        book = _book(path)
        code = _code(book)
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), path.name
        assert "parameters" in _tags(code[0]), path.name
        assert "replications" in _parameters(book), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_that_draws_is_tagged_chart(path):
    cells = _code(_book(path))
    drawing = [i for i, c in enumerate(cells) if DRAWS.search(_source(c))]
    untagged = [i for i in drawing if "chart" not in _tags(cells[i])]
    assert untagged == [], f"{path.name}: code cells {untagged} draw a chart but are not tagged 'chart'"
    if re.search(r"model\.report import .*\bcharts\b", "".join(_source(c) for c in cells)):
        assert drawing, f"{path.name} imports the charts but no cell is recognised as drawing one"


def test_the_draw_pattern_catches_a_chart_call_and_nothing_else():
    assert DRAWS.search("display(charts.fan_chart(trajectories, indicator))")
    assert DRAWS.search("fig = likelihood_bars(summary)")
    assert not DRAWS.search("charts.save(fig, ROOT / out_dir / 'likelihood')")
    assert not DRAWS.search("show.summary_view(summary)")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_with_its_charts(path, tmp_path, monkeypatch):
    # the kernel imports this checkout's model, not whichever copy the environment installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    book = _book(path)
    folders = sorted(name for name in _parameters(book) if name.endswith("_dir"))
    parameters = {"replications": REPLICATIONS.get(path.stem, 300),
                  **{name: str(tmp_path / "out" / name) for name in folders}}
    papermill.execute_notebook(str(path), str(tmp_path / path.name), parameters=parameters,
                               cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    executed = _code(_book(tmp_path / path.name))
    errors = [o for c in executed for o in c["outputs"] if o.get("output_type") == "error"]
    assert errors == []
    # papermill adds an injected-parameters cell: match cells by their source, not their position
    charts_expected = [_source(c) for c in _code(book) if "chart" in _tags(c)]
    shown = {_source(c): c for c in executed}
    assert set(charts_expected) <= set(shown)
    blank = [s.splitlines()[0] for s in charts_expected
             if not any("image/png" in o.get("data", {}) for o in shown[s]["outputs"])]
    assert blank == [], f"{path.name}: chart cells without an image/png output"
    figures = [(c, o) for c in executed for o in c["outputs"]
               if FIGURE_AS_TEXT.search("".join(o.get("data", {}).get("text/plain", "")))]
    as_text = [_source(c).splitlines()[0] for c, o in figures if "image/png" not in o.get("data", {})]
    assert as_text == [], f"{path.name}: figures shown as text"
    # a figure from anywhere (not only model.report.charts) shows its size in text/plain beside the
    # picture: the cell showing it must be tagged, so the tags cannot fall behind the notebook
    untagged = sorted({_source(c).splitlines()[0] for c, _ in figures if "chart" not in _tags(c)})
    assert untagged == [], f"{path.name}: cells showing a figure without the tag 'chart'"
    if folders:
        assert any((tmp_path / "out").rglob("*"))
