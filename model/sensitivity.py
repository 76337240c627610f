"""Global sensitivity: which uncertainties (or groups of them) drive each target, by SALib.

Variance-based (Sobol') indices split the variance of an output into the shares due to each
input: the first-order index ``S1`` of a factor is the share it explains alone, the total index
``ST`` the share it explains with all its interactions. SALib samples the unit hypercube
(:func:`SALib.sample.sobol.sample`, Saltelli's scheme, ``n (D + 2)`` rows for ``D`` groups) and
estimates the indices with bootstrap 95 % intervals (:func:`SALib.analyze.sobol.analyze`);
Morris screening (:mod:`SALib.sample.morris`, :mod:`SALib.analyze.morris`) gives the mean
absolute elementary effect ``mu_star`` with its interval, and ``sigma``, at ``n (D + 1)`` rows.

How the hypercube becomes the scenario's inputs. Every non-fixed uncertainty of the scenario is
a column (a fixed one is not a factor). A column's uniforms go to standard normals
(``ndtri``) and then through :func:`model.blocks.inputs_from_normals`, the code
:func:`model.blocks.sample_inputs` uses for every run: the Gaussian copula of
``scenario.correlations``, then each distribution's ppf. Uncorrelated inputs thus get exactly
their declared distribution. Correlated inputs are not independent, and Sobol' indices assume
independent factors; so every set of uncertainties linked by correlations (a connected set) is
put in one group, and the group's independent normals are mixed by the copula. The copula's
Cholesky factor mixes only within a connected set, so the groups stay mutually independent and a
grouped Sobol' analysis of them is valid (the indices are those of the groups as wholes).

Groups keep it tractable: ``groups="module"`` (the default) makes one group per plan module
(its uncertainties as a whole), a correlated set spanning modules its own group;
``groups="none"`` makes every uncertainty a factor (a correlated set still one group), refused
above :data:`MAX_FACTORS` factors. Morris' ``sigma`` is not defined for a group of several
factors (SALib gives NaN).

The model is run on the sampled inputs block by block (:func:`model.blocks.run_modules` on
slices of at most :data:`model.blocks.BLOCK` rows, slice ``b`` with the module streams of block
``b`` of the seed). The modules' own random events (which firm renovates, which plant closes)
are then not attributed to any input: they are noise. SALib's first-order estimator is unbiased
under independent noise, its total-order one is not: each ``ST`` includes the noise's share. So
the Sobol' analysis evaluates the base sample once more with other module streams and reports
the noise's share (half the mean squared difference of the two evaluations over the variance,
with a bootstrap interval) as the factor ``random events``; ``1 - sum(S1)`` is the share of
variance no group explains alone (interactions plus random events), :attr:`Sensitivity.unexplained`.

The pipeline (:func:`analyse`) takes the model as a function of the hypercube sample, so the
tests run the same code on a function whose indices are known in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from SALib.util import extract_group_names
from scipy import special

from .blocks import BLOCK, evaluate, inputs_from_normals, run_modules
from .engine import DEFAULT_SEED
from .plans import HEADLINE_2020
from .scenario import Scenario
from .targets import load_registry

__all__ = ["DEFAULT_N", "MAX_FACTORS", "METHODS", "NOISE", "Factors", "Sensitivity", "analyse", "factors", "plan_model",
           "sensitivity"]

METHODS = ("sobol", "morris")
GROUPINGS = ("module", "none")
#: Most factors (groups) a ``groups="none"`` analysis takes: Sobol' needs n (D + 2) runs.
MAX_FACTORS = 40
#: The factor name of the modules' own random events (Sobol' only).
NOISE = "random events"
#: Morris grid levels: the hypercube's levels 0, 1/3, 2/3, 1 are moved to the middles of four
#: equal-probability bins (1/8, 3/8, 5/8, 7/8), so no input is drawn at a ppf of 0 or 1.
LEVELS = 4
#: Default base sample (Sobol') and trajectories (Morris).
DEFAULT_N = {"sobol": 1024, "morris": 64}
RESAMPLES = 100  # SALib's default number of bootstrap resamples
EDGE = 1e-15  # uniforms are kept this far from 0 and 1 (as model.distributions.uniforms does)

#: A model: the hypercube sample (rows, D) and which evaluation (0; 1 = the same inputs with other
#: random events) -> output key (target id, "value" or "met") -> (rows,) values.
Model = Callable[[np.ndarray, int], dict[tuple[str, str], np.ndarray]]
Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class Factors:
    """The columns of the hypercube (``names``) and the group of each (``groups``)."""

    names: tuple[str, ...]
    groups: tuple[str, ...]

    @property
    def group_names(self) -> list[str]:
        """The groups in SALib's order (first appearance)."""
        return list(extract_group_names(self.problem())[0])

    def problem(self) -> dict:
        """SALib's problem: every column on [0, 1], with groups unless each factor is its own."""
        problem = {"num_vars": len(self.names), "names": list(self.names), "bounds": [[0.0, 1.0]] * len(self.names)}
        if self.groups != self.names:
            problem["groups"] = list(self.groups)
        return problem


def _connected(correlations) -> list[set[str]]:
    """The sets of uncertainties linked by ``correlations`` (connected components)."""
    sets: list[set[str]] = []
    for a, b, _ in correlations:
        joined = {a, b}.union(*[s for s in sets if a in s or b in s])
        sets = [s for s in sets if not (a in s or b in s)] + [joined]
    return sets


def factors(scenario: Scenario, groups: str = "module") -> Factors:
    """The factors of ``scenario``: its non-fixed uncertainties in sorted order, grouped.

    Raises
    ------
    ValueError
        An unknown ``groups``, no factor at all, or ``groups="none"`` with more than
        :data:`MAX_FACTORS` groups.
    """
    if groups not in GROUPINGS:
        raise ValueError(f"groups must be one of {', '.join(GROUPINGS)}, found {groups!r}")
    names = tuple(n for n in sorted(scenario.uncertainties) if scenario.uncertainties[n].kind != "fixed")
    if not names:
        raise ValueError(f"scenario {scenario.name!r} has no uncertainty that is not fixed")
    label = {n: n.split(".", 1)[0] if groups == "module" else n for n in names}
    for linked in _connected(scenario.correlations):
        members = sorted(linked & set(names))
        if len({label[n] for n in members}) > 1:
            for n in members:
                label[n] = "correlated: " + ", ".join(members)
    out = Factors(names, tuple(label[n] for n in names))
    if groups == "none" and len(out.group_names) > MAX_FACTORS:
        raise ValueError(f"{len(out.group_names)} factors with groups none (at most {MAX_FACTORS}: Sobol' needs "
                         "n (factors + 2) runs); use groups module")
    return out


def unit_inputs(scenario: Scenario, names: tuple[str, ...], u: np.ndarray) -> dict[str, np.ndarray]:
    """The scenario's inputs for hypercube rows ``u`` (rows, len(names)): each column to standard
    normals, then :func:`model.blocks.inputs_from_normals` (copula, ppf). Fixed uncertainties
    are not columns: any normal gives their value."""
    every = sorted(scenario.uncertainties)
    z = np.zeros((len(every), len(u)))
    z[[every.index(n) for n in names]] = special.ndtri(np.clip(u, EDGE, 1 - EDGE)).T
    return inputs_from_normals(scenario, z)


def plan_model(scenario: Scenario, seed: int, target_ids, names: tuple[str, ...], progress: Progress = None) -> Model:
    """The plan model as a :data:`Model`: each target's deadline value and met flag (0/1).

    Slice ``b`` of at most :data:`BLOCK` rows runs with the module streams of block ``b`` of
    ``seed`` (evaluation 1 with blocks counted on from 2**31, other streams than any run's).
    """
    registry = {t.id: t for t in load_registry()}
    targets = tuple(registry[t] for t in target_ids)

    def run(u: np.ndarray, evaluation: int) -> dict[tuple[str, str], np.ndarray]:
        parts: dict[tuple[str, str], list[np.ndarray]] = {}
        for b, start in enumerate(range(0, len(u), BLOCK)):
            rows = u[start:start + BLOCK]
            indicators = run_modules(scenario, unit_inputs(scenario, names, rows), seed, b + evaluation * 2**31)
            values, met = evaluate(targets, indicators, scenario.thresholds)
            for t in target_ids:
                parts.setdefault((t, "value"), []).append(values[t])
                parts.setdefault((t, "met"), []).append(met[t].astype(float))
            if progress is not None:
                progress(len(rows))
        return {key: np.concatenate(p) for key, p in parts.items()}

    return run


@dataclass
class Sensitivity:
    """What :func:`analyse` found: ``table`` (one row per output and factor; Sobol': ``S1``,
    ``S1_conf``, ``ST``, ``ST_conf``, and the ``random events`` row; Morris: ``mu``, ``mu_star``,
    ``mu_star_conf``, ``sigma``), ``unexplained`` (Sobol': per output, 1 - sum of S1),
    the method, the base sample size ``n`` and the model evaluations ``runs``."""

    method: str
    n: int
    runs: int
    table: pd.DataFrame
    unexplained: pd.DataFrame = field(default_factory=pd.DataFrame)


def check_n(method: str, n: int) -> None:
    """``n`` must be a power of two of at least 4 for Sobol' (the balance of Sobol' points needs
    it; scipy warns otherwise) and at least 2 trajectories for Morris."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (one of {', '.join(METHODS)})")
    if method == "sobol" and (n < 4 or n & (n - 1)):
        raise ValueError(f"n must be a power of two (at least 4) for Sobol': the balance of Sobol' points needs it, "
                         f"found {n}")
    if method == "morris" and n < 2:
        raise ValueError(f"n (Morris trajectories) must be at least 2, found {n}")


def runs_needed(method: str, n: int, groups: int) -> int:
    """Model evaluations of an analysis with ``groups`` groups."""
    return n * (groups + 3) if method == "sobol" else n * (groups + 1)


def _constant(y: np.ndarray) -> bool:
    return not np.ptp(y) > 0


def _noise(y0: np.ndarray, y1: np.ndarray, seed: int) -> tuple[float, float]:
    """Share of variance of the random events: E[(y0 - y1)^2] / 2 / Var(y0), and the half-width
    of its bootstrap 95 % interval (the same normal approximation SALib uses)."""
    var = np.var(np.r_[y0, y1])
    if not var > 0:
        return np.nan, np.nan
    d2 = (y0 - y1) ** 2 / 2 / var
    r = np.random.default_rng(seed).integers(len(d2), size=(len(d2), RESAMPLES))
    return float(d2.mean()), float(1.959964 * d2[r].mean(axis=0).std(ddof=1))


def analyse(space: Factors, model: Model, method: str = "sobol", n: int = 1024, seed: int = 0) -> Sensitivity:
    """Sample ``space`` by SALib, evaluate ``model`` on the sample, and analyse each output.

    Parameters
    ----------
    space : Factors
        The hypercube's columns and their groups.
    model : callable
        A :data:`Model`.
    method : {"sobol", "morris"}
    n : int
        Sobol': base sample size (a power of two); Morris: trajectories.
    seed : int
        Seed of the sample (scrambling or trajectories) and of the bootstrap.
    """
    check_n(method, n)
    problem, names = space.problem(), space.group_names
    rows, unexplained = [], []
    if method == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
        outputs = model(x, 0)
        base = x[::len(names) + 2]  # SALib's matrix A: the first row of every n(D + 2) block
        again = model(base, 1)
        for (target_id, output), y in outputs.items():
            key = {"target_id": target_id, "output": output}
            if _constant(y):
                rows += [{**key, "factor": f, "S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan}
                         for f in [*names, NOISE]]
                unexplained.append({**key, "unexplained": np.nan})
                continue
            si = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                                       conf_level=0.95, seed=seed + 1)
            rows += [{**key, "factor": f, "S1": si["S1"][i], "S1_conf": si["S1_conf"][i], "ST": si["ST"][i],
                      "ST_conf": si["ST_conf"][i]} for i, f in enumerate(names)]
            share, conf = _noise(y[::len(names) + 2], again[(target_id, output)], seed + 2)
            rows.append({**key, "factor": NOISE, "S1": np.nan, "S1_conf": np.nan, "ST": share, "ST_conf": conf})
            unexplained.append({**key, "unexplained": 1.0 - float(np.sum(si["S1"]))})
        runs = len(x) + len(base)
    else:
        x = morris_sample.sample(problem, n, num_levels=LEVELS, seed=seed)
        outputs = model((0.5 + x * (LEVELS - 1)) / LEVELS, 0)
        for (target_id, output), y in outputs.items():
            key = {"target_id": target_id, "output": output}
            if _constant(y):
                rows += [{**key, "factor": f, "mu": np.nan, "mu_star": np.nan, "mu_star_conf": np.nan,
                          "sigma": np.nan} for f in names]
                continue
            si = morris_analyze.analyze(problem, x, y, num_resamples=RESAMPLES, conf_level=0.95,
                                        num_levels=LEVELS, seed=seed + 1)
            rows += [{**key, "factor": f, "mu": si["mu"][i], "mu_star": si["mu_star"][i],
                      "mu_star_conf": si["mu_star_conf"][i], "sigma": si["sigma"][i]} for i, f in enumerate(names)]
        runs = len(x)
    table = pd.DataFrame(rows)
    for column in table.columns[3:]:
        table[column] = table[column].astype(float)
    return Sensitivity(method, n, runs, table, pd.DataFrame(unexplained))


def sensitivity(scenario: Scenario, method: str = "sobol", targets=None, n: int | None = None, seed: int = DEFAULT_SEED,
                groups: str = "module", progress: Progress = None) -> Sensitivity:
    """Global sensitivity of ``targets`` (default :data:`model.plans.HEADLINE_2020`) in
    ``scenario`` to its uncertainties: :func:`analyse` on :func:`plan_model`.

    ``n`` defaults to :data:`DEFAULT_N` of the method; ``seed`` seeds the module streams, the
    sample and the bootstrap. ``progress`` is called with the rows each block evaluated.
    """
    targets = list(HEADLINE_2020 if targets is None else targets)
    modelled = {t.id for t in load_registry() if t.modelled}
    unknown = [t for t in targets if t not in modelled]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a modelled target id")
    n = DEFAULT_N.get(method, 0) if n is None else n
    check_n(method, n)
    space = factors(scenario, groups)
    model = plan_model(scenario, seed, list(targets), space.names, progress)
    return analyse(space, model, method, n, seed)
