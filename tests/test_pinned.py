"""A fresh run of every shipped scenario reproduces the pinned regression file exactly.

Met counts are integers and medians are order statistics of the replications, so there is no
tolerance: any difference is a change of the model's numbers, which must come with a
regenerated ``tests/data/pinned.csv`` (``.venv/bin/python -m tests.pinned``) in the same commit.
"""

from __future__ import annotations

import pytest

from tests.pinned import ROOT, SCENARIOS, pinned_rows, read_pinned


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fresh_run_reproduces_the_pinned_file(scenario):
    pinned = [row for row in read_pinned() if row["scenario"] == scenario]
    fresh = pinned_rows(scenario)
    assert [r["target_id"] for r in fresh] == [r["target_id"] for r in pinned], "the set of modelled targets changed"
    changed = [(p["target_id"], p["met"], f["met"], p["median"], f["median"])
               for p, f in zip(pinned, fresh) if p != f]
    assert not changed, (
        f"{len(changed)} targets of {scenario} changed (id, pinned met, fresh met, pinned median, fresh median); "
        f"first: {changed[:5]}. If the change is intended, run `.venv/bin/python -m tests.pinned` and commit the diff."
    )


def test_every_shipped_scenario_is_pinned():
    assert set(SCENARIOS) == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}, (
        "a shipped scenario is not pinned: add it to tests/pinned.py SCENARIOS and regenerate")
