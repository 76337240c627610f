"""The plans of the notice and the three headline goals, from ``data/plans.toml``.

* :data:`PLANS` -- plan id -> (Chinese name, English name), in the notice's order;
* :data:`HEADLINE_GOALS` -- (indicator, target ids in deadline order) per headline goal;
* :data:`HEADLINE` -- every headline target id, goal by goal;
* :data:`HEADLINE_2020` -- the final goal of each (2020; zombie disposal 2019).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = ["HEADLINE", "HEADLINE_2020", "HEADLINE_GOALS", "PLANS", "PLANS_FILE", "load_plans"]

PLANS_FILE = Path(__file__).parent / "data" / "plans.toml"


def load_plans(path: Path = PLANS_FILE) -> dict[str, Any]:
    """The parsed ``plans.toml``: ``plans`` (id, zh, en) and ``headline`` (indicator, targets)."""
    with open(path, "rb") as fh:
        return tomllib.load(fh)


_DATA = load_plans()
PLANS: dict[str, tuple[str, str]] = {p["id"]: (p["zh"], p["en"]) for p in _DATA["plans"]}
HEADLINE_GOALS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (g["indicator"], tuple(g["targets"])) for g in _DATA["headline"])
HEADLINE: tuple[str, ...] = tuple(i for _, ids in HEADLINE_GOALS for i in ids)
HEADLINE_2020: tuple[str, ...] = tuple(ids[-1] for _, ids in HEADLINE_GOALS)
