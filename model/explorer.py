"""The lever explorer: move the plan's main levers and see every target's likelihood change.

``notebooks/05_explore_levers.ipynb`` shows :func:`explorer`; ``./setup.sh explore`` serves it as
a page without code (Voilà). A scenario is simulated once at :data:`REPLICATIONS` replications;
each move of a control re-evaluates that run with the controls' values
(:meth:`model.results.Results.with_levers`: the same draws, only the modules the levers reach
rerun, their random numbers replayed), so a change on the page is the levers' effect and not
Monte Carlo noise, and every shown likelihood is the one ``simulate`` gives for the scenario with
those levers at the same seed and replications. At load, one lever of each module is moved once
so that later moves replay the modules' recorded streams.
"""

from __future__ import annotations

import html
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .engine import DEFAULT_SEED, simulate
from .params import lever_specs
from .plans import HEADLINE_2020, PLANS
from .report import charts
from .report.display import percent_text
from .results import Results
from .scenario import Scenario, load_scenario, schedule_array
from .stats import share_interval
from .tables import traffic_light
from .targets import load_registry
from .variants import plain_name

__all__ = ["CONTROLS", "REPLICATIONS", "Control", "Explorer", "explorer"]

#: Replications of the explorer's run: a move of the exit levers (they reach every module
#: downstream) takes about half a second at this size on the development machine (bench/bench.py
#: times 10,000), and a likelihood's Monte Carlo interval is about +/-1.5 points.
REPLICATIONS = 3_000
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@dataclass(frozen=True)
class Control:
    """A lever on the page: its key, the control's range and step (the lever's own unit)."""

    key: str
    low: float | None = None
    high: float | None = None
    step: float | None = None


#: The plan's main levers (issue 14): subsidy rate and cap, rewards, teams, court capacity, funds,
#: the green measures. Ranges: the planning range widened to what the lever allows near it.
CONTROLS: tuple[Control, ...] = (
    Control("techreform.subsidy_rate", 0.0, 0.6, 0.05),
    Control("techreform.subsidy_cap", 0, 5000, 100),
    Control("green.reward.factory", 0, 300, 10),
    Control("smart.reward.smart_mfg.national", 0, 300, 10),
    Control("overcapacity.teams", 1, 40, 1),
    Control("overcapacity.court_capacity", 1, 16, 1),
    Control("overcapacity.fund_initial", 0, 20000, 500),
    Control("innovation.fund.guided", 0, 50000, 1000),
    Control("green.p_multiplier", 0.0, 3.0, 0.1),
    Control("green.inspection"),
    Control("green.differential_pricing"),
    Control("green.post_subsidy"),
    Control("overcapacity.closures_ordered"),
)


def scalar(value: Any) -> Any:
    """A lever value as one control shows it (a yearly schedule by its 2020 value)."""
    return float(schedule_array(value)[-1]) if isinstance(value, dict) else value


def shown_scenarios(folder: Path = SCENARIOS) -> list[Path]:
    """The shipped scenarios, the plan first."""
    paths = sorted(folder.glob("*.toml"))
    return sorted(paths, key=lambda p: (p.stem != "plan", p.stem))


class Explorer:
    """The controls, the likelihood table and the chart of the three goals, and what moves them.

    ``changes()`` are the levers whose controls differ from the scenario; ``update()`` moves
    them on the scenario's run and redraws. Usable without a browser (the tests drive it).
    """

    def __init__(self, scenarios: Sequence[Path] | None = None, replications: int = REPLICATIONS,
                 seed: int = DEFAULT_SEED, lang: str = "zh") -> None:
        self.replications, self.seed, self.lang = replications, seed, lang
        self.paths = list(scenarios or shown_scenarios())
        specs = lever_specs()
        zh = lang == "zh"
        self.picker = widgets.Dropdown(options=[(p.stem, str(p)) for p in self.paths],
                                       description="情景" if zh else "Scenario")
        self.controls: dict[str, widgets.ValueWidget] = {}
        for control in CONTROLS:
            spec = specs[control.key]
            label = plain_name(spec.about.zh if zh else spec.about.en)
            style, layout = {"description_width": "16em"}, widgets.Layout(width="44em")
            if isinstance(spec.default, bool):
                box = widgets.Checkbox(description=label, style=style, layout=layout, indent=False)
            elif spec.integer:
                box = widgets.IntSlider(min=int(control.low), max=int(control.high), step=int(control.step),
                                        description=label, style=style, layout=layout, continuous_update=False)
            else:
                box = widgets.FloatSlider(min=control.low, max=control.high, step=control.step, description=label,
                                          style=style, layout=layout, continuous_update=False, readout_format=".2f")
            box.add_class(f"lever-{control.key.replace('.', '-')}")
            self.controls[control.key] = box
        self.table = widgets.HTML()
        self.chart = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.base: Results | None = None
        self.current: Results | None = None
        self.scenario: Scenario | None = None
        self._loading = False  # controls set by load() are not moves
        for box in self.controls.values():
            box.observe(self._moved, names="value")
        self.load(self.paths[0])
        self.picker.observe(lambda change: self.load(Path(change["new"])), names="value")

    def _moved(self, change) -> None:
        if not self._loading:
            self.update()

    # -- state ------------------------------------------------------------------------------------
    def load(self, path: Path) -> None:
        """Simulate ``path``, set the controls to its levers, record the module streams."""
        self.scenario = load_scenario(path)
        self.base = simulate(self.scenario, self.replications, self.seed, stream=False, replay=True)
        self._loading = True
        try:
            for key, box in self.controls.items():
                box.value = scalar(self.scenario.levers[key])
        finally:
            self._loading = False
        for key in ("overcapacity.closures_ordered", "techreform.subsidy_cap"):  # every module but macro
            flipped = not self.scenario.levers[key] if isinstance(self.scenario.levers[key], bool) else \
                scalar(self.scenario.levers[key]) + 1
            self.base.with_levers({key: flipped})
        self.update()

    def changes(self) -> dict[str, Any]:
        """Levers whose control differs from the scenario's value."""
        out = {}
        for key, box in self.controls.items():
            value = box.value
            if isinstance(box, widgets.FloatSlider):
                value = float(f"{value:.10g}")
            if value != scalar(self.scenario.levers[key]):
                out[key] = value
        return out

    def update(self) -> Results:
        """Move the changed levers on the scenario's run and redraw the table and the chart."""
        started = time.perf_counter()
        changes = self.changes()
        self.current = self.base.with_levers(changes) if changes else self.base
        seconds = time.perf_counter() - started
        self.table.value = likelihood_table(self.current, self.lang)
        self.chart.value = goals_png(self.current, self.lang)
        zh = self.lang == "zh"
        self.status.value = (f"<p class='status'>{self.scenario.name}：{self.replications:,} 次模拟，种子 {self.seed}；"
                             f"调整 {len(changes)} 项措施，重算用时 {seconds:.2f} 秒</p>" if zh else
                             f"<p class='status'>{self.scenario.name}: {self.replications:,} replications, seed "
                             f"{self.seed}; {len(changes)} lever(s) moved, recomputed in {seconds:.2f} s</p>")
        return self.current

    def widget(self) -> widgets.Widget:
        """The page: picker and controls on the left, chart and table on the right."""
        left = widgets.VBox([self.picker, *self.controls.values(), self.status])
        return widgets.VBox([left, self.chart, self.table])


def likelihood_table(results: Results, lang: str) -> str:
    """Every modelled target's likelihood as an HTML table, the three goals first, by plan; each
    likelihood cell carries its target id and fraction (``data-target``, ``data-p``)."""
    zh = lang == "zh"
    registry = [t for t in load_registry() if t.modelled and ".district." not in t.id]
    order = list(HEADLINE_2020) + [t.id for t in registry if t.id not in HEADLINE_2020]
    by_id = {t.id: t for t in load_registry()}
    rows = []
    for target_id in order:
        target = by_id[target_id]
        p = results.probability(target_id)
        light = traffic_light(p)
        goal = " class='goal'" if target_id in HEADLINE_2020 else ""
        plan = PLANS.get(target.plan, (target.plan, target.plan))[0 if zh else 1]
        rows.append(f"<tr{goal}><td>{html.escape(plan)}"
                    f"</td><td>{html.escape(target.name_zh if zh else target.name_en)}（{target.deadline.year}）</td>"
                    f"<td class='p {light}' data-target='{target_id}' data-p='{p:.6f}'>{percent_text(p)}</td></tr>")
    head = ("<tr><th>规划</th><th>目标（期限）</th><th>达标可能性</th></tr>" if zh else
            "<tr><th>plan</th><th>target (deadline)</th><th>likelihood</th></tr>")
    style = ("<style>.likelihoods td.p{text-align:right}.likelihoods .green{background:#e3f1e4}"
             ".likelihoods .amber{background:#fdf1cc}.likelihoods .red{background:#f8dcdc}"
             ".likelihoods tr.goal{font-weight:bold}.likelihoods td,.likelihoods th{padding:2px 8px}</style>")
    return f"{style}<table class='likelihoods'>{head}{''.join(rows)}</table>"


def goals_png(results: Results, lang: str) -> bytes:
    """The chart of the three goals (likelihood bars with their intervals) as PNG bytes."""
    registry = {t.id: t for t in load_registry()}
    rows = []
    for target_id in HEADLINE_2020:  # the summary's columns the chart reads, for three targets only
        p, low, high = share_interval(results.met[target_id], results.condition_weights)
        target = registry[target_id]
        rows.append({"target_id": target_id, "name_zh": target.name_zh, "name_en": target.name_en,
                     "deadline": target.deadline.isoformat(), "probability": p, "probability_low": low,
                     "probability_high": high})
    figure = charts.likelihood_bars(pd.DataFrame(rows), lang=lang, size=(7.2, 2.6))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def explorer(replications: int = REPLICATIONS, seed: int = DEFAULT_SEED, lang: str = "zh",
             scenarios: Sequence[Path] | None = None) -> widgets.Widget:
    """The explorer's page as one widget (display it in a notebook)."""
    return Explorer(scenarios, replications, seed, lang).widget()

