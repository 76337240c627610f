"""Where the test suite finds the project's files (one home for these constants)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
#: The shipped scenario files, in a fixed order.
SHIPPED = tuple(sorted(SCENARIOS.glob("*.toml")))
PLAN = SCENARIOS / "plan.toml"
