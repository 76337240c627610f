"""Scenario simulator for the targets of Jiyuan's 2017 industrial action plans (济政〔2017〕27号).

Public API::

    from model import load_scenario, simulate
    results = simulate(load_scenario("scenarios/plan.toml"), replications=10_000, seed=1)
    results.summary          # DataFrame: one row per target
"""

from .compare import compare
from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .results import Results
from .runs import Run, SavedRun, load_run
from .scenario import Scenario, ScenarioError, load_scenario
from .targets import Target, load_registry

__all__ = [
    "DEFAULT_REPLICATIONS",
    "DEFAULT_SEED",
    "Results",
    "Run",
    "SavedRun",
    "Scenario",
    "ScenarioError",
    "Target",
    "compare",
    "load_registry",
    "load_run",
    "load_scenario",
    "simulate",
]
__version__ = "0.1.0"
