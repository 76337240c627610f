"""Shared fixtures of the test suite (constants in :mod:`tests.paths`, check helpers in
:mod:`tests.declarations`, :mod:`tests.moments` and the ``*_inputs`` modules; no test module
imports another)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import load_scenario
from model.scenario import Scenario
from tests.paths import PLAN, ROOT, SHIPPED


@pytest.fixture(scope="session")
def root() -> Path:
    """The project's root directory."""
    return ROOT


@pytest.fixture(params=SHIPPED, ids=[p.stem for p in SHIPPED])
def shipped_path(request) -> Path:
    """Each shipped scenario file in turn."""
    return request.param


@pytest.fixture(scope="session")
def plan() -> Scenario:
    """scenarios/plan.toml, loaded once (a Scenario is frozen, so tests cannot change it)."""
    return load_scenario(PLAN)
