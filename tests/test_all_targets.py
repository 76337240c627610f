"""Every target of the five plans is modelled: a run gives a likelihood for all 139 ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model import load_registry, load_scenario, simulate


def test_registry_has_every_target_modelled():
    registry = load_registry()
    assert len(registry) == 139
    assert sum(not t.is_district for t in registry) == 82
    missing = [t.id for t in registry if not t.modelled]
    assert missing == []


def test_shipped_scenario_saves_a_likelihood_for_every_id(shipped_path, tmp_path):
    results = simulate(load_scenario(shipped_path), replications=400, seed=3)
    out = results.save(tmp_path / shipped_path.stem)
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert sorted(summary["target_id"]) == sorted(t.id for t in load_registry())
    saved = summary.set_index("target_id")["probability"]
    for target_id, met in results.met.items():  # the saved likelihood is the share met, exactly
        assert saved[target_id] == met.mean(), target_id
    assert set(results.met) == set(saved.index)  # no target without a likelihood
    assert set(summary["status"]) <= {"green", "amber", "red"}
    for t in load_registry():
        if t.unit in ("count", "firms"):
            value = results.values[t.id]
            assert np.all(value[~np.isnan(value)] >= 0), t.id
