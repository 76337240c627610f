"""Checks every module's tests share: declarations complete, counts well formed, random numbers
drawn independently of levers."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from model.params import PARAMS_DIR, flatten_entries

SECTIONS = ("levers", "uncertainties", "indicators")


def declarations(module: str) -> dict[str, dict[str, dict]]:
    """The raw entries of ``model/data/params/<module>.toml`` by section, dotted names flattened."""
    doc = tomllib.loads((PARAMS_DIR / f"{module}.toml").read_text(encoding="utf-8"))
    return {section: flatten_entries(doc.get(section, {})) for section in SECTIONS}


def assert_named_and_sourced(entries: Mapping[str, Mapping[str, dict]], only: Mapping[str, Iterable[str]] | None = None,
                             origin: Iterable[str] = SECTIONS) -> None:
    """Every entry (of ``only``, when given) has non-empty zh, en and unit, and in the sections
    of ``origin`` exactly one of source or assumption."""
    origin = set(origin)
    for section, table in entries.items():
        names = table if only is None else only.get(section, ())
        for name in names:
            entry = table[name]
            for key in ("zh", "en", "unit"):
                assert entry.get(key), f"{section}.{name}: missing {key}"
            if section in origin:
                assert ("source" in entry) != ("assumption" in entry), f"{section}.{name}"


def assert_integer_counts(out: Mapping[str, np.ndarray], names: Iterable[str]) -> None:
    """Counts are non-negative whole numbers."""
    for name in names:
        assert np.all(out[name] >= 0) and np.all(out[name] == np.rint(out[name])), name


def rng_state_after(run: Callable[[np.random.Generator], object], seed: int = 99) -> int:
    """The generator's state after ``run(rng)``: equal states mean equal numbers of draws."""
    rng = np.random.default_rng(seed)
    run(rng)
    return rng.bit_generator.state["state"]["state"]
