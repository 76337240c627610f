"""Scenario simulator for the targets of Jiyuan's 2017 industrial action plans (济政〔2017〕27号).

Public API::

    from model import load_scenario, simulate
    results = simulate(load_scenario("scenarios/plan.toml"), replications=10_000, seed=1)
    results.summary          # DataFrame: one row per target
    conditioned = simulate(scenario, 10_000, 1, observed="observed/2018-h1.toml")
    conditioned.weights      # per replication, given the published figures (model.conditioning)
    rank_levers(scenario, 4_000).table      # which measures matter most (model.ranking)
    seek_goal(scenario, "overcapacity.teams", target_id, 0.8)   # how far a lever must go (model.goal)
    score(results, "observed/2018-h1.toml")   # Brier, log score, PIT, CRPS against outcomes (model.scorecard)
"""

from .compare import compare
from .conditioning import ConditioningError
from .engine import DEFAULT_REPLICATIONS, DEFAULT_SEED, simulate
from .goal import Goal, seek_goal
from .observed import Observed, ObservedError, load_observed
from .ranking import Ranking, rank_levers
from .results import Results
from .runs import Run, SavedRun, load_run
from .scenario import Scenario, ScenarioError, load_scenario
from .scorecard import score
from .targets import Target, load_registry

__all__ = [
    "DEFAULT_REPLICATIONS",
    "DEFAULT_SEED",
    "ConditioningError",
    "Goal",
    "Observed",
    "ObservedError",
    "Ranking",
    "Results",
    "Run",
    "SavedRun",
    "Scenario",
    "ScenarioError",
    "Target",
    "compare",
    "load_observed",
    "load_registry",
    "load_run",
    "load_scenario",
    "rank_levers",
    "seek_goal",
    "score",
    "simulate",
]
__version__ = "0.1.0"
