"""The likelihoods the README quotes are what the model gives (issue 9, item 1).

Each quoted figure is found in README.md by the sentence around it and recomputed with the
settings the README states (plan scenario, seed 20170711, the default 10,000 replications). The
README rounds to whole percent, so a recomputed likelihood must round to the quoted figure:
the check is exact, because the run is seeded. A model change that moves a figure makes this
test fail until the README says the new figure (or the sentence is reworded and this test with it).
"""

from __future__ import annotations

import re

import pytest

from model import load_scenario, simulate
from model.engine import DEFAULT_REPLICATIONS, DEFAULT_SEED
from model.sweep import sweep, sweep_table
from tests.paths import PLAN, ROOT

README = (ROOT / "README.md").read_text("utf-8")


def quoted(pattern: str) -> tuple[int, ...]:
    """The whole-percent figures the README sentence matching ``pattern`` quotes."""
    match = re.search(pattern, " ".join(README.split()))  # sentences wrap across lines
    assert match, f"README.md no longer has the sentence /{pattern}/; update this test with it"
    return tuple(int(g) for g in match.groups())


def percent(p: float) -> int:
    return int(round(100 * p))


@pytest.fixture(scope="module")
def plan_run():
    assert DEFAULT_SEED == 20170711  # the seed the README names
    return simulate(load_scenario(PLAN), DEFAULT_REPLICATIONS, DEFAULT_SEED)


@pytest.mark.slow
def test_the_drivers_example(plan_run):
    low, high = quoted(r"energy-intensity goal of 2020 is met in about (\d+) % of replications where equipment "
                       r"and other light industry grows slowest and about (\d+) % where it grows fastest")
    drivers = plan_run.drivers
    goal = drivers[drivers["target_id"] == "green.energy_intensity_cut.2020"].sort_values("rank")
    top = goal.iloc[0]
    assert top["uncertainty"] == "green.growth.other"  # "moves it more than any retrofit assumption"
    assert (percent(top["probability_low"]), percent(top["probability_high"])) == (low, high)


@pytest.mark.slow
def test_the_sweep_example():
    firms_low, firms_high, share_low, share_high = quoted(
        r"renovating firms \(2018: about (\d+) % likely at a 10 % subsidy, (\d+) % at 80 %\) far more than the "
        r"investment share of 2020 \((\d+) % to (\d+) %\)")
    table = sweep_table(sweep(load_scenario(PLAN), "techreform.subsidy_rate", [0.1, 0.3, 0.5, 0.8],
                              DEFAULT_REPLICATIONS, DEFAULT_SEED))
    at = table.set_index(["target_id", "value"])["probability"]
    assert (percent(at["techreform.firms.2018", "0.1"]), percent(at["techreform.firms.2018", "0.8"])) == (
        firms_low, firms_high)
    assert (percent(at["techreform.investment_share.2020", "0.1"]),
            percent(at["techreform.investment_share.2020", "0.8"])) == (share_low, share_high)
