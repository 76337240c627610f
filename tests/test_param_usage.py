"""Every declared parameter is read, every read parameter is declared (issue 9, item 7).

One generic check over all five plan modules, with no hand-kept name lists: each module runs
inside the real engine (:func:`model.blocks.run_modules`, so links are fed as in a run) with its
levers and draws handed over as :class:`Recording` mappings that note every key the module asks
for. Over the four shipped scenarios, each with every link on and with every link off, the keys
asked for must equal the keys ``model/data/params/<module>.toml`` declares.

A module must read its parameters by name: a ``Recording`` refuses iteration (``items()``,
``keys()``, ``{**draws}``), since a bulk copy would make every declared key look read.
What the check cannot see is a value that is read and then not used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import model.modules as plan_modules
from model import load_scenario
from model.blocks import run_modules, sample_inputs
from model.links import LINKS
from model.modules import MODULE_NAMES
from model.params import all_params

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
#: Replications per run: enough for every array shape, small enough to be quick (the check is
#: about which keys are read, not about the numbers).
N = 40


class BulkRead(AssertionError):
    """A module iterated over its parameters instead of reading them by name."""


class Recording(Mapping):
    """A read-only mapping that records every key asked for (present or not)."""

    def __init__(self, data: Mapping, what: str, read: set[str]):
        self._data, self._what, self.read = dict(data), what, read

    def __getitem__(self, key):
        self.read.add(key)
        return self._data[key]

    def get(self, key, default=None):
        self.read.add(key)
        return self._data.get(key, default)

    def __contains__(self, key) -> bool:  # a membership test alone is not a read
        return key in self._data

    def __iter__(self) -> Iterator:
        raise BulkRead(f"{self._what} iterated over: read each parameter by name")

    def __len__(self) -> int:
        raise BulkRead(f"{self._what}: len() taken: read each parameter by name")


def recorded_run(scenario, reads: dict[str, dict[str, set[str]]], seed: int = 3) -> dict[str, np.ndarray]:
    """Run every module through the engine, recording lever and draw reads into ``reads``."""
    real_load = plan_modules.load

    def load(name: str):
        module = real_load(name)

        def simulate(levers, draws, rng, linked):
            return module.simulate(Recording(levers, f"{name} levers", reads[name]["levers"]),
                                   Recording(draws, f"{name} draws", reads[name]["uncertainties"]), rng, linked)

        return SimpleNamespace(simulate=simulate)

    draws = sample_inputs(scenario, seed, 0, N)
    mp = pytest.MonkeyPatch()
    mp.setattr(plan_modules, "load", load)
    try:
        return run_modules(scenario, draws, seed, 0)
    finally:
        mp.undo()


def empty_reads() -> dict[str, dict[str, set[str]]]:
    return {name: {"levers": set(), "uncertainties": set()} for name in MODULE_NAMES}


def mismatches(reads: dict[str, dict[str, set[str]]], params=None) -> list[str]:
    """One line per module and section whose reads differ from its declarations."""
    params = all_params() if params is None else params
    out = []
    for module in MODULE_NAMES:
        declared = {"levers": set(params[module].levers), "uncertainties": set(params[module].uncertainties)}
        for section, names in declared.items():
            got = reads[module][section]
            if got - names:
                out.append(f"{module}: reads undeclared {section} {sorted(got - names)}")
            if names - got:
                out.append(f"{module}: declares {section} it never reads {sorted(names - got)}")
    return out


@pytest.fixture(scope="module")
def all_reads() -> dict[str, dict[str, set[str]]]:
    reads = empty_reads()
    for path in SCENARIOS:
        scenario = load_scenario(path)
        recorded_run(scenario, reads)
        recorded_run(dataclasses.replace(scenario, links={name: False for name in LINKS}), reads)
    return reads


def test_shipped_scenarios_are_covered():
    assert len(SCENARIOS) == 4, [p.name for p in SCENARIOS]


def test_every_declared_parameter_is_read_and_every_read_one_declared(all_reads):
    assert mismatches(all_reads) == []


def test_every_declared_indicator_is_returned():
    """The engine refuses undeclared indicators; this is the other direction."""
    params = all_params()
    returned = {name: set() for name in MODULE_NAMES}
    for key in recorded_run(load_scenario(ROOT / "scenarios" / "plan.toml"), empty_reads()):
        module, _, indicator = key.partition(".")
        returned[module].add(indicator)
    assert {m: set(params[m].indicators) - returned[m] for m in MODULE_NAMES} == {m: set() for m in MODULE_NAMES}


def test_the_check_sees_an_undeclared_read(monkeypatch):
    """A module asking for a key its file does not declare (with a default, so no KeyError)."""
    import model.modules.smart as smart

    real = smart.simulate

    def reads_more(levers, draws, rng, linked):
        levers.get("not_declared", 1.0)
        return real(levers, draws, rng, linked)

    monkeypatch.setattr(smart, "simulate", reads_more)
    reads = empty_reads()
    plan = load_scenario(ROOT / "scenarios" / "plan.toml")
    recorded_run(plan, reads)
    recorded_run(dataclasses.replace(plan, links={name: False for name in LINKS}), reads)
    assert "smart: reads undeclared levers ['not_declared']" in mismatches(reads)
    assert not any(line.startswith("innovation") for line in mismatches(reads))


def test_the_check_sees_a_declaration_never_read(monkeypatch):
    """A fake declaration added to the innovation uncertainties is reported as never read."""
    import model.blocks
    from model.distributions import Distribution
    from model.params import ModuleParams

    real = all_params()
    extra = dataclasses.replace(real["innovation"].uncertainties["rd.growth"], name="fake_unused")
    params = {**real, "innovation": ModuleParams(
        "innovation", real["innovation"].levers,
        {**real["innovation"].uncertainties, "fake_unused": extra}, real["innovation"].indicators)}
    scenario = load_scenario(ROOT / "scenarios" / "plan.toml")
    scenario = dataclasses.replace(
        scenario, uncertainties={**scenario.uncertainties, "innovation.fake_unused": Distribution.from_spec(1.0)})
    monkeypatch.setattr(model.blocks, "all_params", lambda: params)
    reads = empty_reads()
    recorded_run(scenario, reads)  # some keys are read only with a link off (rd.gdp_growth, investment.trend)
    recorded_run(dataclasses.replace(scenario, links={name: False for name in LINKS}), reads)
    assert mismatches(reads, params) == ["innovation: declares uncertainties it never reads ['fake_unused']"]


def test_the_check_refuses_a_bulk_copy():
    """Copying every draw (``{**draws}``, ``items()``) would hide unread declarations: refused."""
    draws = Recording({"a": 1.0}, "x draws", set())
    with pytest.raises(BulkRead):
        {**draws}
    with pytest.raises(BulkRead):
        dict(draws.items())
    assert draws["a"] == 1.0 and draws.read == {"a"}
