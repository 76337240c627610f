"""Overcapacity closures (二(一)-(五)): coal mines, 地条钢, cement, coal power, small polluters.

Tiers (DESIGN.md section 8): closed forms for the small-polluter queue (deterministic and
exponential service) and for revival without patrols, exact agreement of the SimPy reference
with its vectorised twin, invariants (dates, monotone counts, exit shares), the module contract.
"""

import math

import numpy as np
import pytest

from model.modules import overcapacity
from model.params import module_params
from model.processes import closures, polluters
from model.timeline import YEARS

DECLARED = module_params("overcapacity")
YEAR_ENDS = tuple(overcapacity.YEAR_ENDS)


def default_draws(n, seed, **changes):
    """Uncertainties sampled independently from the declared defaults; ``changes`` fix some."""
    rng = np.random.default_rng(seed)
    out = {name: spec.default.ppf(rng.random(n)) for name, spec in DECLARED.uncertainties.items()}
    out.update({k.replace("__", "."): np.full(n, float(v)) for k, v in changes.items()})
    return out


def default_levers(**changes):
    out = {}
    for name, spec in DECLARED.levers.items():
        value = spec.default
        if spec.schedule:
            value = np.array([value[str(y)] for y in YEARS], float) if isinstance(value, dict) \
                else np.full(len(YEARS), float(value))
        out[name] = value
    out.update(changes)
    return out


def run(n=400, seed=1, levers=None, **draw_changes):
    return overcapacity.simulate(default_levers(**(levers or {})), default_draws(n, seed, **draw_changes),
                                 np.random.default_rng(7))


# ------------------------------------------------------- small-polluter queue: closed forms
@pytest.mark.parametrize("teams", [1, 7, 19, 453, 500])
def test_deterministic_service_makespan_is_ceil_k_over_c_times_d(teams):
    k, d, start = 453, 0.01, 2017.25
    service = np.full((3, k), d)
    for close in (polluters.close_simpy, polluters.close_vectorised):
        done = close(service, start, teams)
        # each team works ceil(K / c) cases back to back; float sums of d: tolerance 1e-9
        assert done.max(axis=1) == pytest.approx(start + math.ceil(k / teams) * d, abs=1e-9)
        assert done.min() == pytest.approx(start + d)


def test_exponential_service_makespan_matches_the_closed_form():
    # All K cases present at time 0, c teams, Exp(mu) service: while cases wait, departures are
    # Poisson at rate c mu, so the last case starts after K - c of them; the c cases left then
    # end after the max of c Exp(mu): E = (K - c) / (c mu) + H_c / mu, and the variance adds
    # (K - c) / (c mu)^2 + sum_i 1 / (i mu)^2. Tolerance: 4 standard errors of the mean.
    k, c, mu, reps = 453, 19, 50.0, 2000
    rng = np.random.default_rng(20170711)
    service = rng.exponential(1 / mu, (reps, k))
    done = polluters.close_vectorised(service, 0.0, c).max(axis=1)
    mean = (k - c) / (c * mu) + sum(1 / i for i in range(1, c + 1)) / mu
    var = (k - c) / (c * mu) ** 2 + sum(1 / (i * mu) ** 2 for i in range(1, c + 1))
    assert abs(done.mean() - mean) < 4 * math.sqrt(var / reps)


@pytest.mark.parametrize("teams", [1, 3, 19, 600])
def test_twin_gives_the_simpy_times(teams):
    rng = np.random.default_rng(teams)
    service = rng.lognormal(np.log(3 / 365), 0.6, (12, 453))
    service[:, 5:9] = 0.0  # zero-length cases and ties must not reorder anything
    np.testing.assert_array_equal(polluters.close_vectorised(service, 2017.162, teams),
                                  polluters.close_simpy(service, 2017.162, teams))


def test_more_teams_close_every_case_no_later():
    # FIFO list scheduling on identical teams: the sorted team-free times only fall when a team
    # is added (Kiefer-Wolfowitz recursion is monotone), so no case closes later.
    service = np.random.default_rng(3).lognormal(-4.5, 0.6, (50, 453))
    done = [polluters.close_vectorised(service, 2017.0, c) for c in (5, 6, 19, 40)]
    for fewer, more in zip(done, done[1:]):
        assert np.all(more <= fewer + 1e-12)


def test_queue_rejects_bad_input():
    with pytest.raises(ValueError, match="teams"):
        polluters.close_vectorised(np.ones((2, 3)), 2017.0, 0)
    with pytest.raises(ValueError, match="service"):
        polluters.close_simpy(-np.ones((2, 3)), 2017.0, 2)


# --------------------------------------------------------------------------------- revival
def revival_inputs(n=4000, k=453, seed=5):
    rng = np.random.default_rng(seed)
    closed = 2017.2 + rng.uniform(0, 0.3, (n, k))
    return closed, rng.standard_exponential((n, k)), rng.random((n, k))


def test_revivals_without_patrols_match_the_exponential_closed_form():
    # f = 0: firm i has revived by Y with probability 1 - exp(-h (Y - T_i)); the count is a sum
    # of independent Bernoullis. Tolerance: 4 standard deviations of the grand total.
    closed, e, u = revival_inputs()
    n, h = closed.shape[0], 0.12
    back = polluters.revival(closed, e, u, np.full(n, h), np.full(n, 0.3), np.full(n, 0.8), 0.0,
                             2017.0, YEAR_ENDS[-1])
    ever, still_open = back.counts(YEAR_ENDS)
    np.testing.assert_array_equal(ever, still_open)  # nobody shuts them again
    for col, y in enumerate(YEAR_ENDS):
        p = 1 - np.exp(-h * np.maximum(y - closed, 0))
        assert abs(ever[:, col].sum() - p.sum()) <= 4 * math.sqrt((p * (1 - p)).sum()), y


def test_no_revival_without_hazard_or_with_endless_patrols():
    closed, e, u = revival_inputs(300)
    n = closed.shape[0]
    ones = np.ones(n)
    for hazard, deterrence, per_year in ((0.0, 0.3, 12.0), (0.0, 0.3, 0.0), (0.2, 0.3, 1e12)):
        back = polluters.revival(closed, e, u, hazard * ones, deterrence * ones, 0.8 * ones,
                                 per_year, 2017.0, YEAR_ENDS[-1])
        assert back.rows.size == 0
    # without deterrence, endless patrols with sure detection leave revivals but none open
    back = polluters.revival(closed, e, u, 0.2 * ones, 0 * ones, ones, 1e12, 2017.0, YEAR_ENDS[-1])
    ever, still_open = back.counts(YEAR_ENDS)
    assert ever[:, -1].sum() > 0 and np.all(still_open == 0)


def test_patrols_shut_revived_firms_at_the_next_patrol_with_sure_detection():
    closed, e, u = revival_inputs(300)
    ones = np.ones(closed.shape[0])
    back = polluters.revival(closed, e, u, 0.3 * ones, 0.1 * ones, ones, 4.0, 2017.0, YEAR_ENDS[-1])
    gap = back.reshut - back.revived
    assert back.rows.size > 0 and np.all((gap >= 0) & (gap <= 0.25 + 1e-12))
    grid = (back.reshut - 2017.0) * 4.0
    np.testing.assert_allclose(grid, np.rint(grid), atol=1e-6)  # on the patrol calendar


# --------------------------------------------------------------------- closures: dates
def test_coal_mines_close_in_their_windows_and_on_time_without_slips():
    n = 500
    draws = default_draws(n, 2, coal__slip_prob=0.0)
    out = overcapacity.simulate(default_levers(), draws, np.random.default_rng(1))
    assert np.all(out["coal_cut_oct2017"] == 120.0) and np.all(out["coal_cut"][:, 2:] == 201.0)
    mines = closures.coal_mines(np.random.default_rng(4), draws["coal.mines_2017"], draws["coal.mines_2018"],
                                draws["coal.idle_share"], np.zeros(n), np.full(n, 0.2), np.full(n, 0.7))
    valid = mines.tranche >= 0
    start = np.array(closures.TRANCHE_START)[mines.tranche]
    assert np.all(mines.closed[valid] >= start[valid]) and np.all(mines.closed[valid] <= mines.planned[valid])
    # zero delay: a slipped mine closes exactly on its date
    late = closures.coal_mines(np.random.default_rng(4), draws["coal.mines_2017"], draws["coal.mines_2018"],
                               draws["coal.idle_share"], np.ones(n), np.zeros(n), np.full(n, 0.7))
    np.testing.assert_array_equal(late.closed[valid], late.planned[valid])


def test_cumulative_closures_never_fall_and_counts_are_never_negative():
    out = run(levers={"patrols_per_year": 4.0})
    for key in ("coal_cut", "cement_closed", "polluters_revived"):
        assert np.all(np.diff(out[key], axis=1) >= 0), key
        assert np.all(out[key][:, 0] == 0), key  # nothing closes or revives in 2016
    for key in ("coal_cut", "coal_cut_oct2017", "furnaces_found", "cement_units_listed",
                "polluters_closed_may2017", "polluters_revived", "polluters_open"):
        assert np.all(out[key] >= 0), key
    assert np.all(out["polluters_open"] <= out["polluters_revived"])
    assert np.all(out["polluters_closed_may2017"] <= overcapacity.POLLUTERS)
    assert np.all((out["cement_closed"] >= 0) & (out["cement_closed"] <= 100))
    assert np.all(out["coal_cut"] <= 201.0)


def test_survey_closures_come_after_finding_and_finding_after_the_survey_starts():
    rng = np.random.default_rng(0)
    n = 300
    done = overcapacity.MAY31 + rng.uniform(-20, 45, n) / 365
    count = rng.integers(0, 30, n)
    for during in (True, False):
        items = closures.survey_closures(np.random.default_rng(1), count, 2017.0, done, during,
                                         np.full(n, 0.05), np.full(n, 0.7), 1.0)
        valid = np.isfinite(items.found)
        assert np.array_equal(valid.sum(axis=1), count)
        latest = np.broadcast_to(done[:, None], valid.shape)[valid]
        assert np.all(items.found[valid] >= 2017.0) and np.all(items.found[valid] <= latest)
        assert np.all(items.closed[valid] > items.found[valid])
        pct = closures.percent_closed(items, YEAR_ENDS, by_weight=True)
        assert np.all(pct[count == 0] == 100.0) and np.all(pct[count > 0, 0] == 0.0)


def test_coal_power_plan_respects_the_survey_and_power_exits_wait_for_the_plan():
    out = run(n=500, exit__power=0.0)
    plan, survey = out["coal_power_plan_done"], out["coal_power_survey_done"]
    assert np.all(plan >= survey + 10 / 365 - 1e-12)
    before = np.array(YEAR_ENDS)[None, :] <= plan[:, None]
    assert np.all(out["exit_share.power"][before] == 0)


# ------------------------------------------------------------------------- exit shares
def test_exit_shares_are_nondecreasing_shares_and_vanish_without_exits():
    out = run()
    none = run(levers={"closures_ordered": False, "residual_exit_multiplier": 0.0})
    named_only = run(levers={"residual_exit_multiplier": 0.0})
    big = run(levers={"residual_exit_multiplier": 10.0})
    for sector in overcapacity.SECTORS:
        key = f"exit_share.{sector}"
        for o in (out, big, named_only):
            assert np.all(np.diff(o[key], axis=1) >= -1e-15), key
        assert np.all(none[key] == 0), key
        assert np.all(big[key] >= out[key] - 1e-15) and np.all(out[key] >= named_only[key] - 1e-15), key
        assert np.any(out[key][:, -1] > 0), key
    # the named closures alone reach the sectors they close
    for sector in ("other", "building", "power"):
        assert np.any(named_only[f"exit_share.{sector}"][:, -1] > 0), sector


def test_without_ordered_closures_nothing_closes_and_draws_are_shared():
    plan, none = run(), run(levers={"closures_ordered": False})
    for key in ("coal_cut_oct2017", "coal_cut", "furnaces_removed_jun2017", "cement_closed_oct2017",
                "cement_closed", "polluters_closed_may2017", "polluters_revived"):
        assert np.all(none[key] == 0), key
    assert np.all(np.isinf(none["coal_power_plan_done"])) and np.all(none["polluters_open"] == 453)
    assert np.all(plan["coal_cut"][:, -1] > 0)
    for key in ("furnaces_found", "cement_units_listed", "zombie_disposed"):  # same draws
        np.testing.assert_array_equal(plan[key], none[key], err_msg=key)


# -------------------------------------------------------------------- module contract
def test_simulate_returns_every_declared_indicator_with_its_shape():
    n = 300
    out = run(n=n)
    assert set(out) == set(DECLARED.indicators)
    for name, spec in DECLARED.indicators.items():
        shape = (n, len(YEARS)) if spec.kind == "yearly" else (n,)
        assert out[name].shape == shape, name
        assert out[name].dtype == float and not np.isnan(out[name]).any(), name


def test_relapse_reading_lever_picks_the_count():
    still, ever = (run(levers={"relapse_reading": r}) for r in ("still_open", "ever_revived"))
    np.testing.assert_array_equal(still["polluters_relapse"], still["polluters_open"])
    np.testing.assert_array_equal(ever["polluters_relapse"], ever["polluters_revived"])


def test_random_draws_do_not_depend_on_levers(monkeypatch):
    shapes = []
    original = closures.per_item

    def spy(rng, k, n, kinds, dtype=np.float64):
        shapes.append((k, n, kinds, np.dtype(dtype).name))
        return original(rng, k, n, kinds, dtype)

    monkeypatch.setattr(closures, "per_item", spy)
    a = run(levers={"polluter_teams": 19, "patrols_per_year": 12.0})
    first, shapes[:] = list(shapes), []
    b = run(levers={"polluter_teams": 3, "patrols_per_year": 0.0, "polluter_start": 2017.3,
                    "residual_exit_multiplier": 0.0, "teams": 2})
    assert shapes == first
    for key in ("coal_cut", "coal_cut_oct2017", "furnaces_removed_jun2017", "cement_closed",
                "coal_power_plan_done", "zombie_found"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert np.all(a["polluters_closed_may2017"] >= b["polluters_closed_may2017"])  # fewer, later teams
    # common random numbers: patrols lower the hazard, so with the same closures and draws no
    # firm revives earlier with them
    c = run(levers={"polluter_teams": 19, "patrols_per_year": 0.0})
    assert np.all(a["polluters_revived"] <= c["polluters_revived"])
    assert np.any(a["polluters_revived"] < c["polluters_revived"])
