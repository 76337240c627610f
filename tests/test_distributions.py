"""Distribution specs: sampling against analytic moments, truncation, copula, spec errors.

Tolerances: a sample mean of n draws has standard error sd / sqrt(n); we accept 4 standard
errors (a false alarm about once in 16,000 runs, and the seeds are fixed anyway).
"""

import numpy as np
import pytest
from scipy import stats

from model.distributions import Distribution, SpecError, gaussian_copula_normals, uniforms

N = 200_000


def sample(spec, n=N, seed=1):
    u = np.random.default_rng(seed).random(n)
    return Distribution.from_spec(spec).ppf(u)


@pytest.mark.parametrize(
    "spec, mean, var",
    [
        ({"dist": "uniform", "low": 2, "high": 6}, 4.0, 16 / 12),
        ({"dist": "triangular", "low": 0, "mode": 1, "high": 4}, 5 / 3, (0 + 1 + 16 - 0 - 0 - 4) / 18),
        ({"dist": "pert", "low": 0, "mode": 1, "high": 4}, (0 + 4 * 1 + 4) / 6, None),
        ({"dist": "normal", "mean": 3, "sd": 2}, 3.0, 4.0),
        ({"dist": "lognormal", "median": 2, "sigma": 0.5}, 2 * np.exp(0.125), (np.exp(0.25) - 1) * 4 * np.exp(0.25)),
        ({"dist": "beta", "alpha": 2, "beta": 5}, 2 / 7, 10 / (49 * 8)),
        ({"dist": "beta", "alpha": 2, "beta": 2, "low": 10, "high": 20}, 15.0, 100 * 4 / (16 * 5)),
        ({"dist": "poisson", "mean": 7}, 7.0, 7.0),
        ({"dist": "choice", "values": [1, 2, 10], "weights": [1, 1, 2]}, 23 / 4, None),
        (5.5, 5.5, 0.0),
        ({"dist": "fixed", "value": -1}, -1.0, 0.0),
    ],
)
def test_sample_moments_match_analytic(spec, mean, var):
    x = sample(spec)
    sd = np.sqrt(var) if var is not None else x.std()
    assert abs(x.mean() - mean) <= 4 * sd / np.sqrt(N) + 1e-12
    if var:
        # the sample variance has standard error sqrt((mu4 - var^2) / n), mu4 the fourth central
        # moment (estimated from the sample); 4 standard errors, as for the mean
        mu4 = np.mean((x - mean) ** 4)
        assert abs(x.var() - var) <= 4 * np.sqrt((mu4 - var**2) / N)
    assert Distribution.from_spec(spec).mean() == pytest.approx(mean, rel=1e-6, abs=1e-9)


def test_truncated_normal_matches_scipy_truncnorm():
    spec = {"dist": "normal", "mean": 1, "sd": 2, "low": 0, "high": 3}
    x = sample(spec)
    assert x.min() >= 0 and x.max() <= 3
    ref = stats.truncnorm((0 - 1) / 2, (3 - 1) / 2, loc=1, scale=2)
    assert abs(x.mean() - ref.mean()) <= 4 * ref.std() / np.sqrt(N)
    assert Distribution.from_spec(spec).mean() == pytest.approx(ref.mean(), rel=1e-6)
    # the inverse-transform sample follows the truncated CDF (Kolmogorov-Smirnov)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3


def test_truncated_lognormal_respects_bounds_and_support():
    spec = {"dist": "lognormal", "median": 1, "sigma": 1, "high": 2}
    x = sample(spec)
    assert x.max() <= 2 and x.min() > 0
    assert Distribution.from_spec(spec).support() == (0.0, 2.0)


def test_choice_frequencies_match_weights():
    x = sample({"dist": "choice", "values": [0, 1, 2], "weights": [0.2, 0.5, 0.3]})
    for value, w in zip([0, 1, 2], [0.2, 0.5, 0.3]):
        se = np.sqrt(w * (1 - w) / N)
        assert abs((x == value).mean() - w) <= 4 * se


def test_gaussian_copula_gives_requested_spearman():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((2, N))
    target = np.array([[1.0, 0.6], [0.6, 1.0]])
    mixed = gaussian_copula_normals(z, target)
    a = Distribution.from_spec({"dist": "lognormal", "median": 1, "sigma": 1}).ppf(uniforms(mixed[0]))
    b = Distribution.from_spec({"dist": "uniform", "low": 0, "high": 1}).ppf(uniforms(mixed[1]))
    rho = stats.spearmanr(a, b).statistic
    # standard error of Spearman's rho is about (1 - rho^2) / sqrt(n) < 0.003 here
    assert rho == pytest.approx(0.6, abs=0.01)


@pytest.mark.parametrize(
    "spec, key, fragment",
    [
        ({"dist": "unifrom", "low": 0, "high": 1}, "dist", "did you mean 'uniform'"),
        ({"dist": "uniform", "low": 1, "high": 0}, "high", "low < high"),
        ({"dist": "triangular", "low": 0, "mode": 5, "high": 1}, "mode", "low <= mode <= high"),
        ({"dist": "normal", "mean": 0, "sd": -1}, "sd", "sd must be > 0"),
        ({"dist": "normal", "mean": 0, "sd": 1, "low": 2, "high": 1}, "low", "truncation needs low < high"),
        ({"dist": "lognormal", "median": 1, "sigma": 1, "low": 3, "high": 2}, "low", "truncation needs low < high"),
        ({"dist": "lognormal", "median": 1}, "sigma", "is missing"),
        ({"dist": "poisson", "mean": 2, "lam": 3}, "lam", "not 'lam'"),
        ({"dist": "choice", "values": [1, 2], "weights": [1]}, "weights", "2 entries"),
        ({"dist": "uniform", "low": "0", "high": 1}, "low", "expected a number"),
        ({"low": 0, "high": 1}, "dist", "missing 'dist'"),
        ("uniform", None, "expected a number or a table"),
    ],
)
def test_bad_specs_name_the_key(spec, key, fragment):
    with pytest.raises(SpecError) as info:
        Distribution.from_spec(spec)
    assert info.value.key == key
    assert fragment in str(info.value)
