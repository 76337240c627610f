"""Sequential Monte Carlo is calibrated (issue 11 item 3, for the figures likelihood weighting
cannot take): simulation-based calibration of :func:`model.smc.smc` (:mod:`tests.sbc`).

50 synthetic truths drawn from the model, each truth's 2017 and first-half-2018 figures of the
three headline series (six: likelihood weighting refuses about half the truths on them) published
with the stated sd, and each truth conditioned by a population of 500 particles of its own (the
fewest a run may condition by particles). One test, about 6-8 minutes of one core.

Twenty figures per truth (every modelled series) pass the same check with 1,000 particles per
truth, but take 19 minutes of two processes (about 40 of one) (``python -m tests.sbc --particles 50 1000``;
measured: docs/progress-tracking.md, "Is it calibrated?").
"""

from __future__ import annotations

import numpy as np
import pytest

from model.conditioning import MIN_EFFECTIVE
from model.smc import MIN_PARTICLES
from tests.sbc import CONTINUOUS, SIX, calibration_of, particle_scores

TRUTHS = 50  # the minimum: the 99 % band of an 80 % coverage is +/- 14.6 points


@pytest.mark.slow
def test_sequential_monte_carlo_is_calibrated():
    scores = particle_scores(TRUTHS, MIN_PARTICLES, SIX)
    result = calibration_of([scores[j] for j in range(TRUTHS)])
    assert result.truths == TRUTHS
    assert np.all(result.effective >= MIN_EFFECTIVE), result.effective.min()

    # (a) Coverage counts over independent truths are binomial(50, 0.8) for a calibrated
    # forecast: two-sided 99 % band 0.8 +/- 2.576 sqrt(0.16 / 50) = +/- 14.6 points. A truth's
    # interval comes from its own 500 particles, whose quantiles carry Monte Carlo error of their
    # own; with tens of effectively independent particles that widens the spread of truth around
    # the interval by a few per cent, moving the expected coverage by about a point (far inside
    # the band).
    band = result.band(0.99)
    for indicator, coverage in result.pit_coverage.items():
        assert abs(coverage - 0.8) <= band, (indicator, result.pit_coverage)
    for indicator in CONTINUOUS:
        assert abs(result.interval_coverage[indicator] - 0.8) <= band, (indicator, result.interval_coverage)

    # (b) Brier score of P(met 2020) of the three headline goals, paired over truths: the mean
    # difference conditioned - unconditioned (the population's prior particles) lies more than
    # two of its standard errors below zero
    assert result.difference.mean() + 2 * result.difference_se < 0, (result.brier_before, result.brier_after)
