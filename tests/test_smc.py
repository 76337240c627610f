"""Sequential Monte Carlo with rejuvenation (:mod:`model.smc`, :mod:`model.latent`,
:mod:`model.posterior`): its moves keep the prior, particles carry their events from block to
block, and its posterior agrees with likelihood weighting where both work."""

from __future__ import annotations

import numpy as np
import pytest

from model import load_scenario, simulate
from model import smc as smc_module
from model.blocks import MODULE_DOMAIN, sample_normals, stream
from model.conditioning import MIN_EFFECTIVE, condition, log_likelihoods
from model.latent import LatentStream, Steps, cells_of, merge
from model.plans import HEADLINE_GOALS
from model.posterior import METHOD_SMC, METHOD_WEIGHTS
from model.report.brief_data import number
from model.report.i18n import unit_label
from model.report.observed_brief import observed_block
from model.runs import load_run
from model.series import load_series, series_values
from model.smc import Likelihood, Population, StepSizes, _moves, _resampled, _simulate
from model.stats import effective_size
from tests.paths import PLAN
from tests.sbc import SIX, WIDER, publish
from tests.test_observed import cli


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


def figures_of_truth(plan, j: int, figures=SIX):
    truth = simulate(plan, 5, 7)
    series = {s: series_values(s, truth.indicators) for s in {f[0] for f in figures}}
    return publish(series, j, np.random.default_rng(11), figures)


def draws(rng, n: int, k: int):
    """The kinds of calls the modules make: normals (float32 too), uniforms, exponentials, a
    transposed (k, n) array and a spawned child."""
    child = rng.spawn(1)[0]
    return (rng.standard_normal((n, k)), rng.random((k, n)).T, rng.standard_exponential((n, 3), dtype=np.float32),
            child.standard_normal((n,), dtype=np.float32))


def test_moves_keep_the_prior_and_move_by_rho():
    n, k, rho = 20_000, 4, 0.6
    old = LatentStream(None, 1.0, np.random.default_rng(1))
    first = draws(old, n, k)
    recording = old.recording
    for step in range(10):  # ten moves, every one accepted: still the prior
        moved = LatentStream(recording, rho, np.random.default_rng(100 + step))
        last = draws(moved, n, k)
        recording = moved.recording
    normal, uniform, expo, child = last
    # Monte Carlo error of a mean of n unit-variance draws: 1 / sqrt(n) = 0.007; 5 of them
    assert abs(normal.mean()) < 0.035 and abs(normal.var() - 1) < 0.05
    assert abs(uniform.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n) and abs(expo.mean() - 1) < 0.035
    assert abs(child.mean()) < 0.035 and child.dtype == np.float32
    # one pCN step correlates a normal with its previous value by rho; a refreshed uniform stays
    # with probability rho^2 (standard error of a correlation ~ 1 / sqrt(n))
    step = LatentStream(old.recording, rho, np.random.default_rng(7))
    again = draws(step, n, k)
    assert abs(np.corrcoef(first[0].ravel(), again[0].ravel())[0, 1] - rho) < 0.02
    assert abs(np.mean(first[1] == again[1]) - rho**2) < 0.02


def test_a_probe_moves_one_cell_per_particle_and_free_cells_are_redrawn_whole():
    n = 500
    old = LatentStream(None, 1.0, np.random.default_rng(1), ("m",), n)
    a, b = old.standard_normal((n, 4)), old.random((7, n))  # 4 year cells; 7 item cells (particles last)
    cells = cells_of({"m": old.recording}, n)
    assert cells == [(("m", 0), j) for j in range(4)] + [(("m", 1), j) for j in range(7)]
    probe = np.random.default_rng(2).integers(0, len(cells), n)
    moved = LatentStream(old.recording, Steps(probe=probe, cells={c: i for i, c in enumerate(cells)}),
                         np.random.default_rng(3), ("m",), n)
    a2, b2 = moved.standard_normal((n, 4)), moved.random((7, n))
    expected_a = probe[:, None] == np.arange(4)[None, :]
    expected_b = (probe[None, :] - 4) == np.arange(7)[:, None]
    np.testing.assert_array_equal(a2 != a, expected_a)
    np.testing.assert_array_equal(b2 != b, expected_b)
    free = LatentStream(old.recording, Steps(1.0, frozenset({(("m", 0), 2)})), np.random.default_rng(4), ("m",), n)
    a3, b3 = free.standard_normal((n, 4)), free.random((7, n))
    np.testing.assert_array_equal(a3 != a, np.arange(4)[None, :].repeat(n, 0) == 2)
    np.testing.assert_array_equal(b3, b)
    # a free move of its own (every other cell stays): the free cell's normals move by free_rho,
    # correlating with their old values by 0.6 (standard error of a correlation ~ 1 / sqrt(500) = 0.045)
    only_free = Steps(1.0, frozenset({(("m", 0), 2)}), free_rho=0.6)
    local = LatentStream(old.recording, only_free, np.random.default_rng(5), ("m",), n)
    a4, b4 = local.standard_normal((n, 4)), local.random((7, n))
    np.testing.assert_array_equal(a4[:, [0, 1, 3]], a[:, [0, 1, 3]])
    np.testing.assert_array_equal(b4, b)
    assert abs(np.corrcoef(a4[:, 2], a[:, 2])[0, 1] - 0.6) < 4 * 0.045
    # and a local move leaves the free cell where it was
    a5 = LatentStream(old.recording, Steps(0.5, frozenset({(("m", 0), 2)}), free_rho=1.0), np.random.default_rng(6),
                      ("m",), n).standard_normal((n, 4))
    np.testing.assert_array_equal(a5[:, 2], a[:, 2])
    assert np.all(a5[:, [0, 1, 3]] != a[:, [0, 1, 3]])


def test_each_kind_of_move_adapts_its_own_step():
    step = StepSizes(local=0.99, free=0.0)
    few = step.adapted("free", 0.05)  # few free redraws accepted: redraw less of each free cell
    assert few.free == pytest.approx(0.5) and few.local == 0.99
    many = step.adapted("local", 0.6)  # many local moves accepted: a larger step, the free one unchanged
    assert many.local == pytest.approx(0.985) and many.free == 0.0
    assert step.adapted("local", 0.25) == step  # about a quarter accepted: as it was
    floor = StepSizes(local=0.9999, free=0.9999)
    assert floor.adapted("local", 0.0).local == 0.9999 and floor.adapted("free", 0.0).free == 0.9999
    assert StepSizes(local=0.5, free=0.0).adapted("local", 1.0).local == 0.5  # the largest local step


def test_replay_fits_recordings_to_the_shapes_asked():
    old = LatentStream(None, 1.0, np.random.default_rng(1))
    a = old.standard_normal((5, 3))
    replay = LatentStream(old.recording, 1.0, np.random.default_rng(2))
    b = replay.standard_normal((5, 4))  # a larger count: the old part kept, topped up fresh
    np.testing.assert_array_equal(b[:, :3], a)
    c = LatentStream(replay.recording, 1.0, np.random.default_rng(3)).standard_normal((5, 2))
    np.testing.assert_array_equal(c, a[:, :2])
    # a move that asks for more than was recorded: the recorded part moves by rho, the top-up is
    # a prior draw (sd 1, not rho + sqrt(1 - rho^2) = 1.37 at rho 0.5); se of an sd ~ 1 / sqrt(2 n)
    n = 20_000
    recorded = LatentStream(None, 1.0, np.random.default_rng(4))
    d = recorded.standard_normal((n, 3))
    e = LatentStream(recorded.recording, 0.5, np.random.default_rng(5)).standard_normal((n, 4))
    assert abs(e[:, 3].std() - 1.0) < 5 / np.sqrt(2 * n)
    assert abs(np.corrcoef(d[:, 0], e[:, 0])[0, 1] - 0.5) < 5 / np.sqrt(n)


def test_merge_takes_each_particle_from_its_side():
    n = 6
    old, new = (LatentStream(None, 1.0, np.random.default_rng(s)) for s in (1, 2))
    a, at = old.random((n, 2)), old.standard_normal((3, n))
    b, bt = new.random((n, 4)), new.standard_normal((2, n))
    take = np.array([True, False, True, False, False, True])
    merged = merge(old.recording, new.recording, take, np.random.default_rng(3))
    (_, m), (_, mt) = merged.calls
    assert m.shape == (n, 4) and mt.shape == (3, n)
    np.testing.assert_array_equal(m[take], b[take])
    np.testing.assert_array_equal(m[~take, :2], a[~take])
    np.testing.assert_array_equal(mt[:2, take], bt[:, take])
    np.testing.assert_array_equal(mt[:, ~take], at[:, ~take])


def test_resampled_particles_replay_their_own_results_in_other_blocks(plan):
    """Each particle's results depend on its own events only: resampled into blocks of other
    sizes (duplicates and all) and replayed, every particle gives the results it had."""
    n = 400
    names = sorted(plan.uncertainties)
    z = np.stack([stream(1, 0, 0, name).standard_normal(n) for name in names])
    block = _simulate(plan, z, None, 1.0, 1, 1, 0, lambda *_: np.zeros(n))
    index = np.random.default_rng(0).integers(0, n, n)
    for j, part in enumerate(_resampled([block], index, [150, 250], np.random.default_rng(1))):
        replayed = _simulate(plan, part.z, part.streams, 1.0, 1, 99, j, lambda *_: np.zeros(part.n))
        for key, value in part.indicators.items():  # sums in another order: equal to rounding
            np.testing.assert_allclose(replayed.indicators[key], value, rtol=1e-12, atol=1e-12, err_msg=key)


@pytest.fixture(scope="module")
def collapsed(plan):
    """600 replications on six figures: likelihood weighting leaves too few, particles condition."""
    return simulate(plan, 600, 3, observed=figures_of_truth(plan, 1))


def test_a_collapsing_run_is_conditioned_by_particles_that_move_levers(plan, collapsed):
    observed, results = collapsed.observed, collapsed
    assert results.meta["conditioning"] == METHOD_SMC and results.meta["smc_stages"] >= 2
    assert results.effective_replications >= MIN_EFFECTIVE and results.weights.sum() == pytest.approx(1.0)
    # the same levers again: the same particles and weights
    same = results.with_levers({"techreform.subsidy_rate": 0.3})
    for key in results.indicators:
        np.testing.assert_allclose(same.indicators[key], results.indicators[key], rtol=1e-9, atol=1e-9, err_msg=key)
    np.testing.assert_allclose(same.weights, results.weights)
    # another lever: the same particles, weighted by how much likelier they make the figures
    moved = results.with_levers({"techreform.subsidy_rate": 0.5})
    expected = results.weights * np.exp(log_likelihoods(observed, moved) - log_likelihoods(observed, results))
    np.testing.assert_allclose(moved.weights, expected / expected.sum(), rtol=1e-9)
    assert moved.meta["conditioning"] == METHOD_SMC
    assert simulate(plan, 2000, 3, observed=figures_of_truth(plan, 1, SIX[:1])).meta["conditioning"] == METHOD_WEIGHTS


@pytest.mark.slow
def test_moves_of_the_whole_model_keep_its_prior(plan, monkeypatch):
    """At beta = 0 every proposal is accepted, so the moves alone must keep the model's prior:
    the particles' 2020 headline indicators after three stages of moves, every cell moved by
    pCN / refresh (no free cells, rho 0.5), are distributed as a fresh run's. This covers what
    the stream-level test cannot: arrays whose length follows a sampled input (the zombie queue's
    firms) cut and topped up as the inputs move, and particles carried between blocks."""
    n, blocks = 4000, 2
    observed = figures_of_truth(plan, 0, WIDER["every modelled series, 2017 and H1 2018 (20 figures)"])
    likelihood = Likelihood([observed], np.zeros(n, dtype=int))
    first = [_simulate(plan, sample_normals(plan, 1, b, n // blocks), None, 1.0, 1, MODULE_DOMAIN, b,
                       likelihood.of_block(b * n // blocks, n // blocks)) for b in range(blocks)]
    population = Population(first, np.zeros(n))
    start = population.cat("indicators")
    monkeypatch.setattr(smc_module, "FREE_SHARE", 2.0)  # no cell is free: every move is a small step
    rng = np.random.default_rng(5)
    for stage in range(3):
        _moves(plan, population, np.zeros(n), StepSizes(local=0.5), 1, stage, likelihood, rng)
    assert population.acceptance and min(population.acceptance) == 1.0  # beta = 0: L^0 ratios
    moved, fresh = population.cat("indicators"), simulate(plan, 20_000, 3).indicators
    for indicator, _ in HEADLINE_GOALS:
        a, b = moved[indicator][:, -1], fresh[indicator][:, -1]
        assert np.mean(a != start[indicator][:, -1]) > 0.5  # the particles did move
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        sd = b.std()
        # 4000 independent chains, each marginally the prior if the moves keep it, against
        # 20,000 fresh replications: 4 standard errors of the difference of the means, and of
        # the sds (se of an sd ~ sd / sqrt(2 n) for a near-normal variable; 5 of them for the
        # zombie share's atom at 100 %)
        assert abs(a.mean() - b.mean()) < 4 * sd * np.sqrt(1 / a.size + 1 / b.size), (indicator, a.mean(), b.mean())
        assert abs(a.std() - sd) < 5 * sd * np.sqrt(1 / (2 * a.size) + 1 / (2 * b.size)), (indicator, a.std(), sd)


@pytest.mark.slow
def test_particles_agree_with_likelihood_weighting_where_both_work(plan):
    """Six figures that 100,000 weighted replications can take (ESS ~240): the particle
    posterior of the three 2020 goals' indicators has the same means and spreads."""
    observed = figures_of_truth(plan, 0)
    prior = simulate(plan, 100_000, 5)
    weights = condition(observed, prior.indicators, prior.values, prior.met, prior.replications).weights
    particles = simulate(plan, 1_000, 3, observed=observed)
    if particles.meta["conditioning"] != METHOD_SMC:  # 1,000 replications must not suffice
        pytest.fail("likelihood weighting took six figures on 1,000 replications")
    ess_lw, ess_smc = effective_size(weights), particles.effective_replications
    for indicator, _ in HEADLINE_GOALS:
        a, wa = prior.indicators[indicator][:, -1], weights
        b, wb = particles.indicators[indicator][:, -1], particles.weights
        mean_a, mean_b = np.nansum(wa * a) / wa[~np.isnan(a)].sum(), np.nansum(wb * b) / wb[~np.isnan(b)].sum()
        sd = np.sqrt(np.nansum(wa * (a - mean_a) ** 2) / wa[~np.isnan(a)].sum())
        # each mean's standard error is sd / sqrt(ESS); resampled particles are correlated, so
        # the particles' ESS is halved; 4 standard errors of the difference
        tolerance = 4 * sd * np.sqrt(1 / ess_lw + 2 / ess_smc)
        assert abs(mean_a - mean_b) < tolerance, (indicator, mean_a, mean_b, tolerance)
        # and the same spread (a too-narrow particle posterior shows here): the standard error
        # of an sd is ~ sd / sqrt(2 ESS) for a near-normal variable; 4 of the difference
        sd_b = np.sqrt(np.nansum(wb * (b - mean_b) ** 2) / wb[~np.isnan(b)].sum())
        assert abs(sd - sd_b) < 4 * sd * np.sqrt(1 / (2 * ess_lw) + 2 / (2 * ess_smc)), (indicator, sd, sd_b)


def test_the_brief_reads_the_forecast_before_the_figures_from_the_first_particles(collapsed):
    block = observed_block(collapsed, "en")
    assert block["intro"] == "observed_intro_smc" and len(block["rows"]) == len(collapsed.observed)
    prior, figure = collapsed.meta["prior_figures"], collapsed.observed.figures[0]
    spec = load_series()[figure.id]
    before = block["rows"][0]["before"]["median"]
    assert before == number(prior[figure.key]["p50"], unit_label(spec.unit, "en", after_number=True))
    # the particles themselves are the posterior: their unweighted median is another number
    after_particles = np.nanmedian(series_values(figure.id, collapsed.indicators)[:, figure.year - 2016])
    assert abs(after_particles - prior[figure.key]["p50"]) > 0.1 * (prior[figure.key]["p90"] - prior[figure.key]["p10"])


def test_the_command_line_says_how_a_collapsing_run_was_conditioned(plan, collapsed, tmp_path, capsys, monkeypatch):
    lines = []
    for series in dict.fromkeys(f.id for f in collapsed.observed.figures):  # the six figures, as a file gives them
        lines.append(f"[{series}]")
        for figure in (f for f in collapsed.observed.figures if f.id == series):
            period = "" if figure.period == "year" else f', period = "{figure.period}"'
            lines.append(f"{figure.year} = {{ value = {figure.value!r}, sd = {figure.sd!r}{period} }}")
    observed = tmp_path / "six.toml"
    observed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli("run", str(PLAN), "--observed", str(observed), "-n", "600", "--seed", "3", "--lang", "en",
                         "--out", str(tmp_path / "run"), cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0, err
    assert "sequential Monte Carlo" in " ".join(err.split()) and "(sequential Monte Carlo," in " ".join(out.split())
    saved = load_run(tmp_path / "run")
    assert saved.manifest["conditioning"] == METHOD_SMC
    np.testing.assert_allclose(saved.weights, collapsed.weights, rtol=1e-6)  # the same run as simulate() gives
