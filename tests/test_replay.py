"""Module streams recorded and replayed (model.replay) under Results.with_levers (issue 12, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

import model.blocks
import model.results
from model import load_scenario, simulate
from model.blocks import run_modules, sample_inputs
from model.replay import Recording, StreamMismatch
from model.variants import levers_variant
from tests.paths import PLAN


def draws_of(rng):
    """The calls a module might make, in a fixed order: arrays, float32, a spawn and out=."""
    a = rng.standard_normal((3, 4), dtype=np.float32)
    children = rng.spawn(2)
    b = children[1].random(5)
    out = np.empty(6)
    rng.standard_normal(6, out=out)
    return a, b, out, rng.standard_exponential(2)


def test_a_replay_returns_what_the_live_generator_drew():
    plain = draws_of(np.random.default_rng(7))
    recording = Recording(np.random.default_rng(7))
    first, again = draws_of(recording.player()), draws_of(recording.player())
    for x, y, z in zip(plain, first, again):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
        assert x.dtype == z.dtype


def test_a_module_working_in_place_on_its_draws_does_not_change_the_recording():
    recording = Recording(np.random.default_rng(1))
    a = recording.player().random(4)
    expected = a.copy()
    a *= 0.0
    np.testing.assert_array_equal(recording.player().random(4), expected)


def test_past_the_recording_it_draws_on_where_the_live_generator_left_off():
    recording = Recording(np.random.default_rng(3))
    recording.player().random(2)
    player = recording.player()
    head, tail = player.random(2), player.random(3)  # the second call was never recorded
    plain = np.random.default_rng(3)
    np.testing.assert_array_equal(head, plain.random(2))
    np.testing.assert_array_equal(tail, plain.random(3))
    np.testing.assert_array_equal(recording.player().random(2), head)  # and it is recorded now
    assert recording.nbytes == 5 * 8


def test_a_different_call_is_refused_not_replayed():
    recording = Recording(np.random.default_rng(3))
    recording.player().random((2, 3))
    with pytest.raises(StreamMismatch):
        recording.player().random((3, 2))
    with pytest.raises(StreamMismatch):
        recording.player().standard_normal((2, 3))


def test_run_modules_runs_a_mismatched_module_again_on_a_fresh_stream():
    plan = load_scenario(PLAN)
    draws = sample_inputs(plan, 11, 0, 300)
    plain = run_modules(plan, draws, 11, 0)
    stale = Recording(np.random.default_rng(0))
    stale.player().random(3)  # not what the smart module asks for
    streams = {"smart": stale}
    replayed = run_modules(plan, draws, 11, 0, streams=streams)
    assert streams["smart"] is not stale and set(streams) == set(plain_modules(plain))
    for key in plain:
        np.testing.assert_array_equal(replayed[key], plain[key], err_msg=key)
    again = run_modules(plan, draws, 11, 0, streams=streams)  # now every module replays
    for key in plain:
        np.testing.assert_array_equal(again[key], plain[key], err_msg=key)


def plain_modules(indicators):
    return {key.split(".", 1)[0] for key in indicators}


def test_a_run_too_large_to_record_draws_afresh_with_the_same_numbers(monkeypatch):
    plan = load_scenario(PLAN)
    base = simulate(plan, 600, 4)
    monkeypatch.setattr(model.results, "REPLAY_BYTES", 1)
    moved = base.with_levers({"techreform.subsidy_cap": 900.0})
    assert base._streams is None and moved._streams is None
    again = moved.with_levers({"techreform.subsidy_cap": 900.0})
    for key in moved.indicators:
        np.testing.assert_array_equal(again.indicators[key], moved.indicators[key], err_msg=key)


def test_a_run_simulated_with_replay_records_every_module_and_changes_no_number(monkeypatch):
    plan = load_scenario(PLAN)
    plain, recorded = simulate(plan, 3000, 4), simulate(plan, 3000, 4, replay=True)
    for key in plain.indicators:
        np.testing.assert_array_equal(recorded.indicators[key], plain.indicators[key], err_msg=key)
    assert sorted(recorded._streams) == [0, 1] and set(recorded._streams[1]) == plain_modules(plain.indicators)
    # the first move replays what simulate recorded: no module draws from its live generator
    monkeypatch.setattr(Recording, "_draw", lambda *a: pytest.fail("a module drew afresh on a replayed run"))
    moved = recorded.with_levers({"overcapacity.closures_ordered": False})
    fresh = simulate(levers_variant(plan, {"overcapacity.closures_ordered": False}), 3000, 4)
    for key in fresh.indicators:
        np.testing.assert_array_equal(moved.indicators[key], fresh.indicators[key], err_msg=key)


def test_replay_is_refused_where_streams_cannot_be_recorded_in_this_process():
    plan = load_scenario(PLAN)
    with pytest.raises(ValueError, match="one worker"):
        simulate(plan, 600, 4, workers=2, replay=True)
    with pytest.raises(ValueError, match="one worker"):
        simulate(plan, 600, 4, stream=True, replay=True)


def test_a_recording_too_large_to_keep_is_dropped_during_the_run(monkeypatch):
    monkeypatch.setattr(model.blocks, "REPLAY_BYTES", 1)
    recorded = simulate(load_scenario(PLAN), 600, 4, replay=True)
    assert recorded._streams is None
