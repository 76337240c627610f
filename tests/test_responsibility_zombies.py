"""Target responsibility for zombie disposal (issue 10 item 2): the link ``responsibility_zombies``.

At the half-year check (end of 2018-06-30) and the year-end assessment (end of 2018-12-31) a city
behind the plan's path adds working teams from that instant and speeds up the bankruptcy cases
the court accepts afterwards. The SimPy reference and the twin both carry it; every check here
uses fixed seeds, and every comparison is exact (same draws), so no Monte Carlo tolerance is
needed except where a test says so.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from model import load_scenario
from model.blocks import run_modules, sample_inputs
from model.cli import main
from model.links import LINKS, Linked
from model.modules import overcapacity
from model.modules.responsibility import ZOMBIE_ASSESSMENTS, responsibility_zombies, zombie_path
from model.processes import zombie, zombie_simpy, zombie_twin
from tests.paths import PLAN
from tests.zombie_inputs import (
    assert_same_times,
    court_reorder_inputs,
    default_draws,
    default_levers,
    fund_wait_inputs,
    queue_inputs,
)

LINK = "responsibility_zombies"
ON, OFF = Linked(frozenset({LINK})), Linked()
RESPONSE = [f"response.{k}" for k in overcapacity.RESPONSE]
A1, A2 = (t for _, t in ZOMBIE_ASSESSMENTS)


def run(draws, linked, reference=False, **levers):
    simulate = overcapacity.simulate_reference if reference else overcapacity.simulate
    return simulate(default_levers(**levers), draws, np.random.default_rng(5), linked)


@pytest.fixture(scope="module")
def draws():
    return default_draws(600, 21)


@pytest.fixture(scope="module")
def on_off(draws):
    return run(draws, ON), run(draws, OFF)


def assert_same(a, b, keys=None):
    for key in keys or a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def with_response(draws, **values):
    return {**draws, **{f"response.{k}": np.full(len(draws["count"]), float(v)) for k, v in values.items()}}


# --------------------------------------------------------------------- switched off, zero strength
def test_link_off_ignores_the_response_draws_and_zero_strength_equals_off(draws, on_off):
    _, off = on_off
    other = with_response(draws, tolerance=0.0, team_gain=50, max_teams=40, court_gain=1.0, max_court_cut=0.9)
    assert_same(off, run(other, OFF))
    zero = with_response(draws, team_gain=0.0, court_gain=0.0)
    assert_same(off, run(zero, ON))
    assert np.all(off["zombie_extra_teams"] == 0) and np.all(off["zombie_court_factor"] == 1)


def test_the_link_escalates_and_reports_it(on_off):
    on, off = on_off
    behind = on["zombie_behind.mid2018"] == 1
    assert 0.2 < behind.mean() < 1.0  # both kinds of future occur under the defaults
    assert np.any(on["zombie_extra_teams"] > 0) and np.any(on["zombie_court_factor"] < 1)
    # nobody escalates without being behind at some assessment
    never_behind = (on["zombie_behind.mid2018"] == 0) & (on["zombie_behind.end2018"] == 0)
    assert np.all(on["zombie_extra_teams"][never_behind] == 0)
    assert np.all(on["zombie_court_factor"][never_behind] == 1)
    assert np.any(on["zombie_disposed"] != off["zombie_disposed"])


# ------------------------------------------------------------------------------------ bounds
def test_teams_added_are_whole_never_negative_never_above_the_bound(draws, on_off):
    on, _ = on_off
    teams, cap = on["zombie_extra_teams"], np.floor(draws["response.max_teams"])
    assert np.all(teams == np.rint(teams)) and np.all(teams >= 0) and np.all(teams <= cap)
    assert np.any(teams == cap)  # the bound binds somewhere, so the check has teeth
    factor, cut = on["zombie_court_factor"], draws["response.max_court_cut"]
    assert np.all(factor <= 1) and np.all(factor >= 1 - cut - 1e-12)


def test_the_response_never_falls_between_assessments_and_grows_with_the_gap(draws):
    keys = {f"overcapacity.{k}": v for k, v in draws.items()}
    n = len(draws["count"])
    rng = np.random.default_rng(3)
    shares = rng.uniform(0, 100, (n, 2))
    def respond(s):
        return responsibility_zombies({f"overcapacity.zombie_assessed.{name}": s[:, j]
                                       for j, (name, _) in enumerate(ZOMBIE_ASSESSMENTS)}, keys)
    out = respond(shares)
    assert np.all(np.diff(out["extra_teams"], axis=1) >= 0)
    assert np.all(np.diff(out["court_factor"], axis=1) <= 0)
    lower = respond(shares - 10)  # further behind at both: never less effort
    assert np.all(lower["extra_teams"] >= out["extra_teams"]) and np.all(lower["court_factor"] <= out["court_factor"])
    # an assessment not made yet (NaN) adds nothing, and the first response ignores the second share
    first = respond(np.column_stack([shares[:, 0], np.full(n, np.nan)]))
    np.testing.assert_array_equal(first["extra_teams"][:, 0], out["extra_teams"][:, 0])
    np.testing.assert_array_equal(first["extra_teams"][:, 1], first["extra_teams"][:, 0])
    # on the path: nothing; at or below the tolerance: nothing
    path = np.array([[zombie_path(A1), zombie_path(A2)]])
    assert np.all(respond(np.repeat(path, n, axis=0))["extra_teams"] == 0)
    just = path * (1 - 0.999 * draws["response.tolerance"][:, None])
    assert np.all(respond(just)["extra_teams"] == 0) and np.all(respond(just)["court_factor"] == 1)


def test_the_path_is_linear_from_the_plan_deadline_to_70_at_the_end_of_2018():
    assert zombie_path(2018.0) == 0 and zombie_path(2019.0) == 70 and zombie_path(2020.0) == 70
    assert zombie_path(A1) == pytest.approx(70 * 181 / 365)  # end of 2018-06-30: 34.7 %
    assert A2 == 2019.0


# ---------------------------------------------------------------------- what changes, and when
def test_nothing_changes_before_the_first_assessment(draws, on_off):
    on, off = on_off
    for key in ("zombie_assessed.mid2018", "zombie_behind.mid2018", "zombie_survey_done", "zombie_plan_done"):
        np.testing.assert_array_equal(on[key], off[key], err_msg=key)
    np.testing.assert_array_equal(on["zombie_disposed"][:, :2], off["zombie_disposed"][:, :2])  # 2016-2017


def detail(draws, linked, work_order="fifo", **levers):
    """Stage times of every firm on the module's own draws, with or without the feedback."""
    lv = default_levers(work_order=work_order, **levers)
    _, _, inputs = overcapacity.draw(lv, draws, np.random.default_rng(5))
    fb, _ = overcapacity.feedback(draws, linked, False)
    return inputs, zombie_twin.simulate_vectorised_detail(inputs, **overcapacity._queue_arguments(lv), feedback=fb)


@pytest.mark.parametrize("work_order", zombie.WORK_ORDERS)
def test_every_preparation_finishes_no_later_and_early_events_are_untouched(draws, work_order):
    _, on = detail(draws, ON, work_order)
    _, off = detail(draws, OFF, work_order)
    assert np.all(np.nan_to_num(on.team_done) <= np.nan_to_num(off.team_done))
    early = off.done < A1
    np.testing.assert_array_equal(on.done[early], off.done[early])
    assert np.any(on.team_done < off.team_done)


@pytest.mark.parametrize("work_order", zombie.WORK_ORDERS)
def test_court_priority_alone_disposes_every_firm_no_later(draws, work_order):
    # Teams unchanged: every queue keeps its order, only court times after an assessment shrink.
    court_only = with_response(draws, team_gain=0.0)
    inputs, on = detail(court_only, ON, work_order)
    _, off = detail(court_only, OFF, work_order)
    assert np.all(np.nan_to_num(on.done) <= np.nan_to_num(off.done))
    assert np.any(on.done < off.done)


@pytest.mark.parametrize("work_order", zombie.WORK_ORDERS)
def test_without_fund_or_court_queues_the_link_never_lowers_the_share(draws, work_order):
    # A fund that never runs dry and a court slot for every case: each firm's disposal is its
    # team finish plus its own (possibly sped-up) time, and team finishes only move earlier.
    unqueued = {"fund_initial": 1e9, "court_capacity": 100, "work_order": work_order}
    on, off = run(draws, ON, **unqueued), run(draws, OFF, **unqueued)
    assert np.all(on["zombie_disposed"] >= off["zombie_disposed"])
    assert np.any(on["zombie_disposed"] > off["zombie_disposed"])
    inputs, times_on = detail(draws, ON, work_order, fund_initial=1e9, court_capacity=100)
    _, times_off = detail(draws, OFF, work_order, fund_initial=1e9, court_capacity=100)
    assert np.all(np.nan_to_num(times_on.done) <= np.nan_to_num(times_off.done))  # at any date


@pytest.mark.parametrize("work_order", zombie.WORK_ORDERS)
def test_with_the_queues_the_share_gains_on_average(on_off, draws, work_order):
    # With the fund and the court queueing, one replication can lose at a date (next test);
    # the mean over the same 600 futures still never falls (a seeded regression check).
    on, off = on_off if work_order == "fifo" else (run(draws, ON, work_order=work_order),
                                                   run(draws, OFF, work_order=work_order))
    assert np.all(on["zombie_disposed"].mean(axis=0) >= off["zombie_disposed"].mean(axis=0))


def test_an_added_team_can_lower_the_share_when_the_court_queue_reorders():
    # Why "never lower in any replication" cannot hold with the queues on, FIFO order included:
    # firms X (shell, long preparation), S (court 0.1 yr), L (court 5 yr), work order X, S, L,
    # two teams, one court slot. Without the feedback S reaches the court first and is done at
    # 0.6. A team added at 0.01 prepares L first; L takes the court slot at 0.31 and S waits.
    # (A head-of-line fund queue reorders the same way: a large request can come sooner.)
    inputs = court_reorder_inputs()
    fb = zombie.Feedback((0.01,), np.array([1]), lambda rows, s: (np.ones((len(rows), 1)), np.ones((len(rows), 1))))
    for model in (zombie_simpy.simulate_simpy_detail, zombie_twin.simulate_vectorised_detail):
        off, on = (model(inputs, 2, 1, math.inf, [], [], feedback=f).done for f in (None, fb))
        assert (off <= 0.7).sum() == 1 and (on <= 0.7).sum() == 0


def test_an_assessment_sees_everything_that_happens_at_its_instant():
    # The year-end assessment (2019.0) falls on a fund top-up (1 January): cases funded then and
    # accepted by the court at that very instant count (when_accepted), as the target counts
    # them (done by the end of the day). Three bankruptcies wait for money that comes at t = 1;
    # B is accepted at 1.0. The rule speeds up later cases only if it sees nothing disposed.
    inputs = fund_wait_inputs()

    def one(a):
        return np.array([a], float)
    seen = []

    def respond(rows, shares):
        seen.append(float(shares[0, 0]))
        return np.zeros((1, 1)), np.where(shares > 0, 1.0, 0.5)
    fb = zombie.Feedback((1.0,), np.array([0]), respond, when_accepted=True)
    for model in (zombie_simpy.simulate_simpy_detail, zombie_twin.simulate_vectorised_detail):
        seen.clear()
        times = model(inputs, 3, 1, 0.0, [300.0], [1.0], feedback=fb)
        np.testing.assert_allclose(times.done, one([1.8, 1.2, 1.3]))  # B 1.0-1.2, C 1.2-1.3, A 1.3-1.8
        assert seen[-1] == pytest.approx(100 / 3)


# -------------------------------------------------------------------------------- SimPy == twin
def random_feedback(n, rng, times=(2018.4, 2018.9), when_accepted=False):
    """A feedback from the link function with wide random strengths (every part bites)."""
    response = {"overcapacity.response.tolerance": rng.uniform(0, 0.3, n),
                "overcapacity.response.team_gain": rng.uniform(0, 8, n),
                "overcapacity.response.max_teams": rng.integers(0, 6, n).astype(float),
                "overcapacity.response.court_gain": rng.uniform(0, 0.8, n),
                "overcapacity.response.max_court_cut": rng.uniform(0, 0.6, n)}

    def respond(rows, shares):
        out = responsibility_zombies({f"overcapacity.zombie_assessed.{name}": shares[:, j]
                                      for j, (name, _) in enumerate(ZOMBIE_ASSESSMENTS)},
                                     {k: v[rows] for k, v in response.items()})
        return out["extra_teams"], out["court_factor"]
    return zombie.Feedback(times, response["overcapacity.response.max_teams"].astype(np.int64), respond, when_accepted)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("work_order", zombie.WORK_ORDERS)
@pytest.mark.parametrize("when_accepted", [False, True])
def test_twin_gives_the_simpy_times_with_the_feedback(seed, work_order, when_accepted):
    n = 40
    rng, _, inputs = queue_inputs(seed, work_order, n)
    fb = random_feedback(n, rng, when_accepted=when_accepted)
    args = (3, 2, 800.0, [0.0, 0.0, 1500.0, 1500.0, 1500.0])  # a fund that runs short
    ref = zombie_simpy.simulate_simpy_detail(inputs, *args, feedback=fb)
    twin = zombie_twin.simulate_vectorised_detail(inputs, *args, feedback=fb)
    assert_same_times(ref, twin)
    np.testing.assert_array_equal(ref.court_start, twin.court_start)
    plain = zombie_twin.simulate_vectorised_detail(inputs, *args)
    changed = np.any(np.nan_to_num(plain.done, posinf=9e9) != np.nan_to_num(twin.done, posinf=9e9), axis=1)
    assert changed.sum() >= 5, "the feedback changed too few replications to test anything"
    sped = np.isfinite(twin.court_start) & (twin.court_start > fb.times[0])
    assert np.any(twin.done[sped] - twin.court_start[sped] < inputs.court_time[sped] - 1e-9), "no court case sped up"


@pytest.mark.parametrize("reading", ["when_closed", "when_accepted"])
def test_module_twin_and_reference_agree_with_the_link_on(reading):
    draws = default_draws(120, 8)
    fast = run(draws, ON, court_cases_count=reading)
    slow = run(draws, ON, reference=True, court_cases_count=reading)
    assert fast.keys() == slow.keys()
    for key in fast:
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-9, err_msg=key)
    assert np.any(fast["zombie_extra_teams"] > 0)


# ----------------------------------------------------------------------- engine: the other plans
@pytest.fixture(scope="module")
def engine_runs():
    plan = load_scenario(PLAN)
    off = dataclasses.replace(plan, links={**plan.links, LINK: False})
    assert plan.links[LINK] is True  # on unless a scenario switches it off
    draws = sample_inputs(plan, 7, 0, 300)
    return draws, run_modules(plan, draws, 7, 0), run_modules(off, draws, 7, 0)


def test_other_indicators_and_targets_are_unaffected(engine_runs):
    # Exempt: the zombie indicators only. No link reads them (the overcapacity links feed green
    # and techreform the exit shares of the closures, which the zombie queue does not touch),
    # so every other indicator of every module is identical, and with it every other target.
    _, on, off = engine_runs
    readers = [link.name for link in LINKS.values() if link.source == "overcapacity" and link.target != "overcapacity"]
    assert sorted(readers) == ["capacity_exits_energy", "capacity_exits_investment"]
    others = [k for k in on if not k.startswith("overcapacity.zombie_")]
    assert any(k.startswith("green.") for k in others) and any(k.startswith("innovation.") for k in others)
    assert_same(on, off, others)
    assert np.any(on["overcapacity.zombie_disposed"] != off["overcapacity.zombie_disposed"])


def test_the_link_function_reproduces_the_reported_response(engine_runs):
    draws, on, _ = engine_runs
    out = LINKS[LINK].function(on, draws)
    np.testing.assert_array_equal(out["extra_teams"][:, -1], on["overcapacity.zombie_extra_teams"])
    np.testing.assert_array_equal(out["court_factor"][:, -1], on["overcapacity.zombie_court_factor"])


# ------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("body", "message"), [
    ("[uncertainties.overcapacity]\n\"response.max_court_cut\" = { dist = \"uniform\", low = 0.1, high = 1.5 }\n",
     "uncertainties.overcapacity.response.max_court_cut"),
    ("[uncertainties.overcapacity.response]\nteam_gian = 3.0\n", "team_gain"),
    ("[uncertainties.overcapacity.response]\ntolerance = { dist = \"uniform\", low = -0.2, high = 0.1 }\n",
     "uncertainties.overcapacity.response.tolerance"),
    ("[links]\nresponsibility_zombie = false\n", "responsibility_zombies"),
    ("[links]\nresponsibility_zombies = \"off\"\n", "links.responsibility_zombies"),
])
def test_bad_input_in_the_new_keys_exits_2_naming_the_key(tmp_path, capsys, body, message):
    (tmp_path / "plan.toml").write_text(PLAN.read_text("utf-8"), encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "s"\ntitle_zh = "情景"\ntitle_en = "S"\nextends = "plan.toml"\n\n' + body,
                    encoding="utf-8")
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "s.toml" in err, err
