"""Plan modules: one per plan of the notice (DESIGN.md section 4).

Contract every module follows (the engine relies on nothing else):

* Its parameters are declared in ``model/data/params/<module>.toml`` (levers, uncertainties and
  indicators, each with units, Chinese and English names, and a ``source`` or an
  ``assumption``). A scenario file can override levers and uncertainties declared there, and
  nothing else.
* ``simulate(levers, draws, rng, linked=NO_LINKS) -> dict[str, numpy.ndarray]`` is a pure
  function:

  - ``levers``: lever name -> value. Levers declared with ``schedule = true`` always arrive as
    float arrays of shape ``(len(YEARS),)`` (a constant lever is broadcast); others as the
    scalar, string or bool the file holds.
  - ``draws``: uncertainty name -> float array of shape ``(n,)``, one value per replication,
    already sampled (and correlated where the scenario asks) by the engine.
  - A module reads every lever and draw by its name (``levers["x"]``, ``draws["x"]``, or through
    :class:`FloatDraws`), never by iterating over the mapping: ``tests/test_param_usage.py``
    records the names asked for and requires them to be exactly the declared ones.
  - ``rng``: a ``numpy.random.Generator`` for the module's own random events. Draw from it in
    shapes that do not depend on lever values, so two scenarios that differ only in levers
    share their random numbers (common random numbers).
  - ``linked``: a :class:`model.links.Linked` with the enabled links into this module and the
    arrays they computed from upstream modules; with no links the module runs unlinked.
  - returns indicator name -> array: ``(n, len(YEARS))`` for yearly indicators (value at the
    end of each year, see ``model.timeline``), ``(n,)`` for event times (decimal years) or for
    values at a target's own deadline. Every returned indicator is declared in the params file.
* optionally ``simulate_again(levers, draws, rng, linked, before) -> dict``: exactly what
  ``simulate`` returns, given ``before`` (a :class:`model.links.Before`: the levers, linked inputs and
  indicators of an earlier run of the same block and draws), whose indicators it may reuse where
  what moved since cannot reach them. :meth:`model.results.Results.with_levers` calls it;
  ``tests/test_with_levers.py`` checks it against a fresh run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

import numpy as np

#: Modules in the order the engine runs them: a link's source runs before its target; the macro
#: layer (one economy, read by the plans through links) first.
MODULE_NAMES: tuple[str, ...] = ("macro", "overcapacity", "techreform", "green", "smart", "innovation")


def load(name: str) -> ModuleType:
    """Import plan module ``name``."""
    return importlib.import_module(f"model.modules.{name}")


class FloatDraws(Mapping):
    """A view of a module's ``draws`` that converts each one when it is first read, by name.

    ``convert`` defaults to a float array; the converted value is kept, so a view reads like the
    dict of converted arrays it replaces. Modules read their parameters through such views by
    name (never by copying all of them), so ``tests/test_param_usage.py`` sees exactly which
    declared uncertainties a module uses.
    """

    def __init__(self, draws: Mapping[str, Any], convert: Callable[[Any], Any] | None = None):
        self._draws = draws
        self._convert = convert or (lambda value: np.asarray(value, float))
        self._done: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            self._done[key] = self._convert(self._draws[key])
        return self._done[key]

    def __contains__(self, key: object) -> bool:
        return key in self._draws

    def __iter__(self) -> Iterator[str]:
        return iter(self._draws)

    def __len__(self) -> int:
        return len(self._draws)

