"""Benchmark: replications per second per module and for the whole model, and peak memory.

Usage::

    .venv/bin/python bench/bench.py [--replications 10000] [--repeats 5] [--scenario scenarios/plan.toml]

Each figure is the median of ``--repeats`` runs. Module figures time the module's ``simulate``
alone on inputs already sampled; the whole-model figure times ``model.simulate`` (sampling,
every module, target evaluation, summaries). Peak memory is the largest heap size numpy and
Python allocated during one whole-model run (tracemalloc), and the process's peak resident set.

Conditioning (issue 11, item 6): a run of ``--conditioned`` replications (default 100,000) is
weighted by ten observed figures (2017 and 2018 full-year values of five published series,
written to a temporary observed file); the time of :func:`model.conditioning.condition_run` is
printed as a share of the simulation time of that run, medians of three.

The random-number cost (issue 12, item 1) is measured in the same process: one whole-model run
whose every random stream (:func:`model.blocks.stream`) is wrapped so that each generator call is
timed and its numbers counted; the ratio is the plain whole-model time over the time inside
those calls, and the draws per replication are the numbers drawn over the replications.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import model.blocks  # noqa: E402
from model import load_scenario, simulate  # noqa: E402
from model import modules as plan_modules  # noqa: E402
from model.blocks import sample_inputs, stream  # noqa: E402
from model.conditioning import condition_run  # noqa: E402
from model.discover import discover  # noqa: E402
from model.goal import seek_goal  # noqa: E402
from model.links import linked_for  # noqa: E402
from model.observed import PERIOD_MONTHS, Figure, Observed, load_observed, partial_sd  # noqa: E402
from model.params import all_params  # noqa: E402
from model.plans import HEADLINE_2020  # noqa: E402
from model.ranking import rank_levers  # noqa: E402
from model.sensitivity import sensitivity  # noqa: E402
from model.series import load_series  # noqa: E402

#: The levers the benchmark moves on a finished run: every module's, the widest-reaching first.
LEVERS = (("overcapacity.closures_ordered", False), ("overcapacity.polluter_teams", 30),
          ("overcapacity.residual_exit_multiplier", 1.5), ("overcapacity.teams", 20), ("techreform.subsidy_rate", 0.5),
          ("green.p_multiplier", 1.5), ("smart.reward.iim_assessment", 60.0), ("innovation.fund.guided", 20000.0))


def median_time(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


class TimedGenerator:
    """A numpy Generator whose every method call is timed into ``clock[0]`` [s] and whose
    numbers are counted into ``clock[1]``; anything else passes through unchanged."""

    def __init__(self, rng: np.random.Generator, clock: list) -> None:
        self._rng, self._clock = rng, clock

    def __getattr__(self, name: str):
        attr = getattr(self._rng, name)
        if not callable(attr):
            return attr

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = attr(*args, **kwargs)
            self._clock[0] += time.perf_counter() - start
            if name == "spawn":  # child generators: their calls are the run's random numbers too
                return [TimedGenerator(child, self._clock) for child in out]
            self._clock[1] += np.size(out)
            return out
        return timed


def random_number_cost(scenario, n: int, seed: int) -> tuple[float, int]:
    """Seconds spent inside the random-number calls of one whole-model run, and numbers drawn."""
    clock = [0.0, 0]
    real = model.blocks.stream
    model.blocks.stream = lambda *key: TimedGenerator(real(*key), clock)
    try:
        simulate(scenario, n, seed)
    finally:
        model.blocks.stream = real
    return clock[0], clock[1]


#: Run in a fresh interpreter: the large streamed run as the command line does it, then the peak
#: resident set of the largest process it started (the command, or one of its workers: Linux
#: reports the largest of the waited-for descendants in RUSAGE_CHILDREN).
_LARGE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(done.returncode, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def large_run(scenario_path: str, n: int, workers: int) -> tuple[float, float]:
    """Seconds and peak RSS [MiB] of the largest process of ``run -n N --workers W`` (streamed)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-c", _LARGE, sys.executable, "-m", "model", "run", scenario_path,
                   "-n", str(n), "--workers", str(workers), "--out", str(Path(tmp) / "large")]
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=root)
    code, seconds, rss = out.stdout.split()
    if code != "0":
        raise SystemExit(f"the {n:,}-replication run failed (exit {code})")
    return float(seconds), int(rss) / 1024


#: The benchmark's ten observed figures: five series, 2017 and 2018, each at the run's median
#: with an sd wide enough (about half the forecast's spread) to leave well over the minimum
#: effective sample size at 100,000 replications; the time does not depend on the values.
OBSERVED_SERIES = {"gdp_growth": 1.5, "industrial_va_growth": 2.0, "techreform_investment_share": 3.0,
                   "hightech_firms": 2.0, "industrial_energy_intensity_change": 2.0}


def conditioning_cost(scenario, n: int, seed: int, repeats: int = 3) -> tuple[float, float, float]:
    """Median seconds to simulate ``n`` replications and to condition them on ten figures, and the
    effective replications left."""
    simulated = median_time(lambda: simulate(scenario, n, seed), repeats)
    results = simulate(scenario, n, seed)
    lines = []
    for series_id, sd in OBSERVED_SERIES.items():
        values = np.nanmedian(results.series(series_id)[:, 1:3], axis=0)  # 2017, 2018
        lines += [f"[{series_id}]"] + [f"{year} = {{ value = {values[year - 2017]:.3f}, sd = {sd} }}"
                                      for year in (2017, 2018)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        observed = load_observed(path)
    assert len(observed) == 10
    conditioned = median_time(lambda: condition_run(results, observed), repeats)
    return simulated, conditioned, results.effective_replications


def smc_cost(scenario, n: int, seed: int) -> tuple[float, Any]:
    """Seconds to simulate ``n`` replications conditioned on twenty figures (every modelled
    series' 2017 and first-half-2018 value of one replication of another seed, each with its
    default sd): likelihood weighting collapses, so sequential Monte Carlo conditions them."""
    truth, specs, figures = simulate(scenario, 1, 7), load_series(), []
    for series_id, spec in specs.items():
        if spec.modelled:
            for year, period in ((2017, "year"), (2018, "H1")):
                value = float(truth.series(series_id)[0, year - 2016])
                figures.append(Figure(f"{series_id}.{year}", "series", series_id, value,
                                      partial_sd(spec.sd, PERIOD_MONTHS[period]), year, period))
    observed = Observed("<bench: twenty figures>", "", tuple(figures))
    start = time.perf_counter()
    results = simulate(scenario, n, seed, observed=observed)
    return time.perf_counter() - start, results


def kept_bytes(results) -> float:
    """Bytes a finished run keeps per replication: every array it holds, bits for a streamed run."""
    arrays = [a for part in (results.indicators, results.values, results.inputs) for a in part.values()]
    aggregate = getattr(results, "aggregate", None)
    if aggregate is None:
        arrays += list(results.met.values())
    else:
        arrays += [bits for _, bits in aggregate.flags.values()]
        arrays += [a for block in aggregate.kept.values() for a in block.values()]
    return sum(a.nbytes for a in arrays) / results.replications


def lever_moves(results, scenario, n: int, seed: int, repeats: int) -> None:
    """Print the lever-move table (the comment below says what each column times)."""
    # A lever moved on the same draws (Results.with_levers), median of at least five (the issue's
    # measure: any single lever under 1 s): the exit levers of overcapacity reach every module
    # downstream. On a plain run the first move records the module streams it reruns
    # (model.replay) and later moves replay them; a run simulated with replay=True (the lever
    # explorer's) recorded them while it ran, so its first move replays too. Timed: "first" on a
    # plain run whose recordings are cleared each time, "replayed" the first move on a replay=True
    # run (its recordings restored each time), "next" a later move; wall seconds, and CPU seconds
    # of this process for the replayed move (steadier on a shared machine).
    replayed = simulate(scenario, n, seed, replay=True)
    recorded = replayed._streams
    print(f"{'lever moved (10,000 replications)':<38}{'first':>8}{'replayed':>9}{'CPU':>7}{'next':>7}")
    for key, value in LEVERS:
        def first(k=key, v=value):
            results._streams = {}
            results.with_levers({k: v})

        def on_replayed(k=key, v=value):
            replayed._streams = {b: dict(modules) for b, modules in recorded.items()}
            replayed.with_levers({k: v})
        t_first = median_time(first, max(5, repeats))
        t_replayed = median_time(on_replayed, max(5, repeats))
        cpu = median_time(on_replayed, max(5, repeats), time.process_time)
        results.with_levers({key: value})
        t_next = median_time(lambda k=key, v=value: results.with_levers({k: v}), max(5, repeats))
        print(f"{key:<38}{t_first:>8.3f}{t_replayed:>9.3f}{cpu:>7.3f}{t_next:>7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenario", default=str(Path(__file__).resolve().parents[1] / "scenarios" / "plan.toml"))
    parser.add_argument("--large", type=int, default=1_000_000,
                        help="replications of the streamed run timed at the end (0: skip it)")
    parser.add_argument("--large-workers", type=int, default=2)
    parser.add_argument("--analyses", action=argparse.BooleanOptionalAction, default=True,
                        help="time levers, goal, discover and sensitivity once each (default on)")
    parser.add_argument("--smc", type=int, default=10_000,
                        help="replications conditioned on twenty figures by sequential Monte Carlo (0: skip)")
    parser.add_argument("--conditioned", type=int, default=100_000,
                        help="replications of the run conditioned on ten observed figures (0: skip it)")
    args = parser.parse_args()
    n, seed = args.replications, 1
    scenario = load_scenario(args.scenario)
    print(f"python {platform.python_version()}, {n} replications, median of {args.repeats} runs, "
          f"scenario {scenario.name}")

    draws = sample_inputs(scenario, seed, 0, n)
    print(f"{'part':<32}{'seconds':>10}{'replications/s':>18}")
    indicators: dict = {}
    for name, declared in all_params().items():  # engine order, so links get their inputs
        module = plan_modules.load(name)
        levers = scenario.lever_values(name)
        module_draws = {u: draws[f"{name}.{u}"] for u in declared.uncertainties}
        linked = linked_for(name, scenario.enabled_links, indicators, draws)
        t = median_time(lambda: module.simulate(levers, module_draws, stream(seed, 1, 0, name), linked), args.repeats)
        out = module.simulate(levers, module_draws, stream(seed, 1, 0, name), linked)
        indicators.update({f"{name}.{k}": v for k, v in out.items()})
        print(f"{'module ' + name:<32}{t:>10.3f}{n / t:>18,.0f}")

    # the zombie disposal queue alone: SimPy reference vs the vectorised twin on the same draws
    sim_n = min(n, 200)  # the SimPy reference runs ~50 replications/s (453-firm polluter queue)
    ref = getattr(plan_modules.load("overcapacity"), "simulate_reference", None)
    if ref is not None:
        levers = scenario.lever_values("overcapacity")
        small = {u: draws[f"overcapacity.{u}"][:sim_n] for u in all_params()["overcapacity"].uncertainties}
        t = median_time(lambda: ref(levers, small, stream(seed, 1, 0, "overcapacity")), max(1, args.repeats // 2))
        print(f"{'overcapacity, SimPy reference':<32}{t:>10.3f}{sim_n / t:>18,.0f}   ({sim_n} replications)")

    t = median_time(lambda: simulate(scenario, n, seed), args.repeats)
    print(f"{'whole model (1 worker)':<32}{t:>10.3f}{n / t:>18,.0f}")
    costs = sorted(random_number_cost(scenario, n, seed) for _ in range(args.repeats))
    rng_seconds, numbers = costs[len(costs) // 2]
    print(f"{'  inside random-number calls':<32}{rng_seconds:>10.3f}{'':>18}   "
          f"({numbers / n:,.0f} numbers per replication; whole model / this = {t / rng_seconds:.1f}x)")
    t2 = median_time(lambda: simulate(scenario, n, seed, workers=2), args.repeats)
    print(f"{'whole model (2 workers)':<32}{t2:>10.3f}{n / t2:>18,.0f}")

    from model.drivers import screen, target_reach, top_drivers

    results = simulate(scenario, n, seed)
    reach = target_reach(scenario.enabled_links, results.met)
    t = median_time(lambda: top_drivers(screen(results.inputs, results.met, reach)), args.repeats)
    print(f"{'drivers (all targets)':<32}{t:>10.3f}{n / t:>18,.0f}")

    lever_moves(results, scenario, n, seed, args.repeats)
    results._streams = {}
    results.with_levers(dict(LEVERS[:1]))  # the exits: every module but macro and smart records
    recorded = sum(r.nbytes for block in results._streams.values() for r in block.values())
    print(f"recorded module streams after moving {LEVERS[0][0]}: {recorded / n:,.0f} bytes per replication")

    if args.analyses:  # issue 13's analyses, on this run's draws where they take a run
        analyses = {
            "levers (every ranked lever, both ends)": lambda: rank_levers(scenario, base=results),
            "goal (zombie teams, 2019 goal at 80 %)": lambda: seek_goal(
                scenario, "overcapacity.teams", HEADLINE_2020[-1], 0.8, within=(1, 100), base=results),
            "discover (PRIM, energy goal)": lambda: discover(results, HEADLINE_2020[0]),
            "sensitivity (Sobol', n 256, groups)": lambda: sensitivity(scenario, n=256, seed=seed),
        }
        for label, run in analyses.items():
            start = time.perf_counter()
            run()
            print(f"{'analysis ' + label:<48}{time.perf_counter() - start:>8.1f} s (once)")

    tracemalloc.start()
    simulate(scenario, n, seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak traced memory, one whole-model run: {peak / 2**20:,.0f} MiB; peak RSS of this process: {rss:,.0f} MiB")
    streamed = simulate(scenario, n, seed, stream=True)
    print(f"kept per replication: {kept_bytes(results):,.0f} bytes in memory, "
          f"{kept_bytes(streamed):,.0f} bytes streamed (bits and float32)")
    if args.conditioned:
        simulated, conditioned, ess = conditioning_cost(scenario, args.conditioned, seed)
        print(f"conditioning {args.conditioned:,} replications on ten observed figures: {conditioned:.3f} s = "
              f"{100 * conditioned / simulated:.1f} % of their simulation ({simulated:.1f} s; medians of 3; "
              f"{ess:,.0f} effective replications)")
    if args.smc:
        plain = median_time(lambda: simulate(scenario, args.smc, seed), 1)
        seconds, particles = smc_cost(scenario, args.smc, seed)
        print(f"sequential Monte Carlo, {args.smc:,} replications on twenty figures: {seconds:,.0f} s = "
              f"{seconds / plain:.0f} plain runs ({particles.meta['smc_stages']} stages, "
              f"{particles.meta['smc_proposals']} proposals, {particles.effective_replications:,.0f} effective)")
    if args.large:
        seconds, rss = large_run(args.scenario, args.large, args.large_workers)
        print(f"streamed run of {args.large:,} replications, {args.large_workers} workers (python -m model run): "
              f"{seconds:,.0f} s, {args.large / seconds:,.0f} replications/s; peak RSS of the largest process "
              f"{rss:,.0f} MiB")


if __name__ == "__main__":
    main()
