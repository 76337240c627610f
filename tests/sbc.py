"""Simulation-based calibration of conditioning (issue 11 item 3): the computation behind
``tests/test_calibration_sbc.py`` (likelihood weighting) and ``tests/test_calibration_smc.py``
(sequential Monte Carlo), which assert on it; ``python -m tests.sbc`` prints the weighting's
table, ``python -m tests.sbc --particles TRUTHS PARTICLES`` the particles' on twenty figures
(``docs/progress-tracking.md``, "Is it calibrated?").

Method (Cook, Gelman & Rubin 2006, *J. Comput. Graph. Statist.* 15: 675-692; Talts et al. 2018,
arXiv:1804.06788): draw synthetic truths from the model itself (replications of the plan scenario
with :data:`TRUTH_SEED`), publish each truth's figures of :data:`FIGURES` with the measurement
error the likelihood assumes (normal, the sd :func:`model.observed.partial_sd` states: the series'
sd of ``series.toml``, scaled for a partial year), condition one forecast run (the same scenario,
:data:`FORECAST_SEED`) on them with :func:`model.conditioning.condition` and score it against the
truth. If the weights are the posterior, the truth is a draw from it, so its PIT is uniform and a
central 80 % interval holds it in 80 % of truths; and the conditioned P(met) has a lower expected
Brier score than the unconditioned one (a proper score rewards the better-informed forecast).
Conditioning is re-weighting, so one forecast ensemble serves every truth.

Which figures. The issue asks for the truth's 2017 and first-half-2018 series. Likelihood
weighting cannot take all of them: the ten modelled series' 2017 and H1-2018 figures (twenty)
leave a median ESS of about 1 of 100,000 replications, and the three headline series' 2017 and H1
figures (six) are refused (ESS < 200) for about half the truths (measured: docs/progress-tracking.md).
:data:`FIGURES` is the largest set of the headline series, annual 2017 and half-year 2018 both,
that 100,000 replications condition on for nearly every truth. The larger sets (:data:`SIX`,
:data:`TWENTY`) are conditioned on by particles, a population per truth.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model import load_scenario, simulate
from model.conditioning import MIN_EFFECTIVE, ConditioningError, condition, log_likelihood
from model.engine import DEFAULT_SEED, IN_MEMORY_MAX
from model.observed import PERIOD_MONTHS, Figure, Observed, partial_sd
from model.plans import HEADLINE_2020, HEADLINE_GOALS
from model.results import Results
from model.series import load_series, series_values
from model.smc import smc
from model.stats import effective_size, z_quantile
from model.tables import quantiles
from model.timeline import year_index
from tests.paths import PLAN

FORECAST_SEED = DEFAULT_SEED  # the forecast a planner runs
TRUTH_SEED = 7  # another seed: the truths are replications the forecast has never seen
NOISE_SEED = 11  # the measurement errors of the published figures
PIT_SEED = 12  # the uniforms of the randomised PIT (a stream of their own: the figures stay those of NOISE_SEED)
FORECAST_REPLICATIONS = IN_MEMORY_MAX  # the largest run that keeps its replications to weight
#: 400 truths: the two-sided 99 % binomial band of an 80 % coverage is +/- 2.576 * sqrt(0.16 / 400)
#: = +/- 5.2 points, narrow enough to see a 70 % or 90 % coverage; one truth costs ~0.05 s.
TRUTHS = 400
#: (series id, year, period) of each figure published for a truth (the module docstring: why these)
FIGURES = (
    ("industrial_energy_intensity_change", 2017, "year"),
    ("techreform_investment_share", 2017, "year"),
    ("zombie_disposed_share", 2017, "year"),
    ("industrial_energy_intensity_change", 2018, "H1"),
)
CENTRAL = (0.1, 0.9)  # the central 80 % interval
#: Goals whose 2020 indicator has no atom in the forecast: for them "the truth lies in the weighted
#: [q10, q90]" (the summary's quantiles) is the PIT's event up to ties, and is checked too (tests). The
#: zombie share has an atom at 100 %, where the interval covers a truth on the atom always.
CONTINUOUS = ("green.energy_intensity_cut", "techreform.investment_share")
HEADLINE_INDICATORS = tuple(indicator for indicator, _ in HEADLINE_GOALS)


#: Larger sets, for the measurement of what likelihood weighting can take (``python -m tests.sbc``)
HEADLINE_SERIES = ("industrial_energy_intensity_change", "techreform_investment_share", "zombie_disposed_share")
WIDER = {
    "the three headline series, 2017 and H1 2018 (6 figures)":
        tuple((s, y, p) for y, p in ((2017, "year"), (2018, "H1")) for s in HEADLINE_SERIES),
    "every modelled series, 2017 and H1 2018 (20 figures)":
        tuple((s, y, p) for y, p in ((2017, "year"), (2018, "H1")) for s, spec in load_series().items()
              if spec.modelled),
}


def figures_sd(figures=FIGURES) -> tuple[float, ...]:
    """The stated sd of each of ``figures`` (the default an observed file would give)."""
    specs = load_series()
    return tuple(partial_sd(specs[s].sd, PERIOD_MONTHS[period]) for s, _, period in figures)


def publish(truth_series: dict[str, np.ndarray], j: int, rng: np.random.Generator, figures=FIGURES) -> Observed:
    """The figures of truth ``j`` as an observed file would give them: the truth's full-year value
    of each of ``figures`` (series, year, period) plus a normal error of its stated sd (as the
    likelihood assumes)."""
    published = []
    for (series, year, period), sd in zip(figures, figures_sd(figures), strict=True):
        value = float(truth_series[series][j, year_index(year)] + rng.normal(0.0, sd))
        published.append(Figure(f"{series}.{year}", "series", series, value, sd, year, period))
    return Observed(f"<truth {j}>", "", tuple(published))


def randomised_pit(values: np.ndarray, weights: np.ndarray, truth: float, u: float) -> float:
    """Weighted randomised PIT of ``truth`` in the forecast ``values`` (Czado, Gneiting & Held
    2009, *Biometrics* 65: 1254-1261): the weight below it plus ``u`` (uniform) times the weight
    on it, over the replications where the value is defined. Uniform for a calibrated forecast
    even where the forecast has atoms (the zombie share's 100 %), where "the truth lies in
    [q10, q90]" would count a truth on the atom as covered with probability 1 (coverage > 80 %)."""
    keep = ~np.isnan(values)
    v, w = values[keep], weights[keep]
    total = float(w.sum())
    return (float(w[v < truth].sum()) + u * float(w[v == truth].sum())) / total


@dataclass(frozen=True)
class Calibration:
    """What the SBC found. Coverage and Brier scores are over the truths the conditioning accepted."""

    truths: int
    refused: int
    effective: np.ndarray  # ESS of each accepted truth
    pit_coverage: dict[str, float]  # headline indicator -> share of truths with PIT in [0.1, 0.9]
    interval_coverage: dict[str, float]  # ... share with the truth in the weighted [q10, q90] (2020)
    brier_before: dict[str, float]  # headline 2020 goal -> mean Brier score, unconditioned
    brier_after: dict[str, float]  # ... conditioned
    difference: np.ndarray  # per accepted truth: mean over the goals of Brier after - before

    @property
    def accepted(self) -> int:
        return self.truths - self.refused

    def band(self, confidence: float = 0.99) -> float:
        """Half-width of the two-sided binomial band of an 80 % coverage over the accepted truths."""
        return z_quantile(confidence) * math.sqrt(0.8 * 0.2 / self.accepted)

    @property
    def difference_se(self) -> float:
        """Standard error of the mean paired Brier difference."""
        return float(np.std(self.difference, ddof=1) / math.sqrt(len(self.difference)))


@dataclass(frozen=True)
class TruthScore:
    """What one truth's conditioned forecast says of its 2020 headline values and goals."""

    effective: float
    pit: tuple[float, ...]  # per headline indicator
    inside: tuple[bool, ...]  # the truth in the weighted [q10, q90], per headline indicator
    brier_after: tuple[float, ...]  # per headline 2020 goal
    brier_before: tuple[float, ...]


def score_truth(final: dict[str, np.ndarray], met: dict[str, np.ndarray], weights: np.ndarray,
                before: dict[str, float], truth: Results, j: int, u: np.ndarray) -> TruthScore:
    """Truth ``j`` scored against a conditioned forecast: its 2020 headline indicators ``final``
    and goals ``met`` with ``weights``; ``before`` is the unconditioned P(met) of each goal, ``u``
    the randomised PIT's uniforms."""
    x = [float(truth.indicators[i][j, -1]) for i in HEADLINE_INDICATORS]
    bounds = [quantiles(final[i], CENTRAL, weights) for i in HEADLINE_INDICATORS]
    outcome = {t: float(truth.met[t][j]) for t in HEADLINE_2020}
    return TruthScore(
        effective=effective_size(weights),
        pit=tuple(randomised_pit(final[i], weights, x[k], u[k]) for k, i in enumerate(HEADLINE_INDICATORS)),
        inside=tuple(bool(lo <= xk <= hi) for (lo, hi), xk in zip(bounds, x, strict=True)),
        brier_after=tuple((float(np.sum(weights * met[t])) - outcome[t]) ** 2 for t in HEADLINE_2020),
        brier_before=tuple((before[t] - outcome[t]) ** 2 for t in HEADLINE_2020))


def calibration_of(scores: Sequence[TruthScore], refused: int = 0) -> Calibration:
    """The :class:`Calibration` of the truths scored (``refused`` more were not)."""
    pit = np.array([s.pit for s in scores])
    after, before = np.array([s.brier_after for s in scores]), np.array([s.brier_before for s in scores])
    covered = (pit >= CENTRAL[0]) & (pit <= CENTRAL[1])
    inside = np.array([s.inside for s in scores])
    return Calibration(
        truths=len(scores) + refused, refused=refused, effective=np.array([s.effective for s in scores]),
        pit_coverage={i: float(covered[:, k].mean()) for k, i in enumerate(HEADLINE_INDICATORS)},
        interval_coverage={i: float(inside[:, k].mean()) for k, i in enumerate(HEADLINE_INDICATORS)},
        brier_before={t: float(before[:, k].mean()) for k, t in enumerate(HEADLINE_2020)},
        brier_after={t: float(after[:, k].mean()) for k, t in enumerate(HEADLINE_2020)},
        difference=after.mean(axis=1) - before.mean(axis=1))


def forecast_and_truths(truths: int = TRUTHS, replications: int = FORECAST_REPLICATIONS) -> tuple[Results, Results]:
    """The forecast run (plan scenario, :data:`FORECAST_SEED`) and the truths (:data:`TRUTH_SEED`)."""
    scenario = load_scenario(PLAN)
    return simulate(scenario, replications, FORECAST_SEED), simulate(scenario, truths, TRUTH_SEED)


def calibrate(forecast: Results, truth: Results) -> Calibration:
    """Condition ``forecast`` on each truth's published figures and score it (the module docstring)."""
    rng, pit_rng = np.random.default_rng(NOISE_SEED), np.random.default_rng(PIT_SEED)
    truth_series = {s: series_values(s, truth.indicators) for s in {s for s, _, _ in FIGURES}}
    final = {i: forecast.indicators[i][:, -1] for i in HEADLINE_INDICATORS}  # 2020
    before = {t: float(np.mean(forecast.met[t])) for t in HEADLINE_2020}
    refused, scores = 0, []
    for j in range(truth.replications):
        observed = publish(truth_series, j, rng)
        u = pit_rng.random(len(HEADLINE_INDICATORS))  # drawn for every truth, so the stream never shifts
        try:
            weights = condition(observed, forecast.indicators, forecast.values, forecast.met,
                                forecast.replications).weights
        except ConditioningError:  # ESS below MIN_EFFECTIVE: refused, as a planner's run would be
            refused += 1
            continue
        scores.append(score_truth(final, forecast.met, weights, before, truth, j, u))
    return calibration_of(scores, refused)


def markdown(result: Calibration, of: str = f"{FORECAST_REPLICATIONS:,}") -> str:
    """The result as the Markdown of docs/progress-tracking.md's "Is it calibrated?"."""
    lines = [f"{result.truths} truths, {result.refused} refused (ESS below the minimum), ESS of the others: "
             f"median {np.median(result.effective):,.0f}, 5 % {np.percentile(result.effective, 5):,.0f} "
             f"of {of}; 99 % band of an 80 % coverage: +/- {100 * result.band():.1f} points.",
             "", "| 2020 value of | PIT in [0.1, 0.9] | truth in weighted [q10, q90] |", "|---|---|---|"]
    lines += [f"| `{i}` | {100 * result.pit_coverage[i]:.1f} % | {100 * result.interval_coverage[i]:.1f} % |"
              for i in HEADLINE_INDICATORS]
    lines += ["", "| goal | Brier, unconditioned | Brier, conditioned |", "|---|---|---|"]
    lines += [f"| `{t}` | {result.brier_before[t]:.4f} | {result.brier_after[t]:.4f} |" for t in HEADLINE_2020]
    before, after = np.mean(list(result.brier_before.values())), np.mean(list(result.brier_after.values()))
    lines += [f"| mean of the three | {before:.4f} | {after:.4f} |", "",
              f"Paired difference (conditioned - unconditioned, mean over the goals): {result.difference.mean():+.4f} "
              f"(standard error {result.difference_se:.4f}, "
              f"{result.difference.mean() / result.difference_se:+.1f} standard errors)."]
    return "\n".join(lines)


def effective_sizes(forecast: Results, truth: Results, figures) -> np.ndarray:
    """The ESS conditioning ``forecast`` on each truth's ``figures`` leaves (refused or not):
    the sum of :func:`model.conditioning.log_likelihood` over the figures, normalised."""
    rng = np.random.default_rng(NOISE_SEED)
    names = {s for s, _, _ in figures}
    truth_series = {s: series_values(s, truth.indicators) for s in names}
    model_series = {s: series_values(s, forecast.indicators) for s in names}
    out = []
    for j in range(truth.replications):
        total = sum(log_likelihood(f, model_series[f.id][:, year_index(f.year)])
                    for f in publish(truth_series, j, rng, figures).figures)
        top = np.max(total)
        out.append(effective_size(np.exp(total - top)) if np.isfinite(top) else 0.0)
    return np.array(out)


def wider_markdown(forecast: Results, truth: Results) -> str:
    """What likelihood weighting leaves of the forecast with the test's and with wider figure sets."""
    lines = [f"| figures published per truth | ESS of {forecast.replications:,}: median | 5 % | "
             f"refused (ESS < {MIN_EFFECTIVE}) |", "|---|---|---|---|"]
    for name, figures in {"the test's (4 figures)": FIGURES, **WIDER}.items():
        ess = effective_sizes(forecast, truth, figures)
        lines.append(f"| {name} | {np.median(ess):,.0f} | {np.percentile(ess, 5):,.0f} | "
                     f"{np.mean(ess < MIN_EFFECTIVE):.0%} |")
    return "\n".join(lines)


#: The particle SBC (:func:`calibrate_particles`): every modelled series' 2017 and first-half-2018
#: figures (twenty per truth), which likelihood weighting cannot take, conditioned by sequential
#: Monte Carlo, each truth by a population of its own (:func:`model.smc.smc`, one group).
TWENTY = WIDER["every modelled series, 2017 and H1 2018 (20 figures)"]
#: The headline series' 2017 and first-half-2018 figures (six per truth): half the truths leave
#: likelihood weighting fewer than MIN_EFFECTIVE replications (module docstring)
SIX = WIDER["the three headline series, 2017 and H1 2018 (6 figures)"]


def particle_scores(truths: int, particles: int, figures=TWENTY, only: range | None = None) -> dict[int, TruthScore]:
    """Each truth ``j`` of ``only`` (default: all ``truths``) conditioned on its ``figures`` by a
    population of ``particles`` of its own (the forecast seed a planner's run uses), and scored.
    The published figures and the PIT's uniforms are drawn for every truth in order, so a truth's
    score does not depend on which others are run (two processes can share the truths)."""
    scenario = load_scenario(PLAN)
    truth = simulate(scenario, truths, TRUTH_SEED)
    rng, pit_rng = np.random.default_rng(NOISE_SEED), np.random.default_rng(PIT_SEED)
    truth_series = {s: series_values(s, truth.indicators) for s in {s for s, _, _ in figures}}
    observed = [publish(truth_series, j, rng, figures) for j in range(truths)]
    uniforms = [pit_rng.random(len(HEADLINE_INDICATORS)) for _ in range(truths)]
    out = {}
    for j in range(truths) if only is None else only:
        population = smc(scenario, [observed[j]], np.zeros(particles, dtype=int), FORECAST_SEED)
        before = {t: float(np.mean(population.prior["met"][t])) for t in HEADLINE_2020}  # the prior particles
        indicators = population.cat("indicators")  # every block's arrays joined: once, not per indicator
        final = {i: indicators[i][:, -1] for i in HEADLINE_INDICATORS}
        out[j] = score_truth(final, population.cat("met"), population.weights, before, truth, j, uniforms[j])
    return out


def calibrate_particles(truths: int, particles: int, figures=TWENTY) -> Calibration:
    """The SBC of sequential Monte Carlo: each truth's ``figures`` conditioned on by ``particles``
    particles of its own, scored as :func:`calibrate` scores the weights."""
    return calibration_of(list(particle_scores(truths, particles, figures).values()))


if __name__ == "__main__":
    if "--particles" in sys.argv:  # python -m tests.sbc --particles TRUTHS PARTICLES
        truths, particles = (int(a) for a in sys.argv[sys.argv.index("--particles") + 1:][:2])
        print(markdown(calibrate_particles(truths, particles), of=f"{particles:,} particles per truth"))
    else:
        runs = forecast_and_truths()
        print(markdown(calibrate(*runs)), wider_markdown(*runs), sep="\n\n")
