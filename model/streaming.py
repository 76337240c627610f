"""Streamed runs: more replications than memory holds, aggregated block by block.

A streamed run (:func:`model.simulate` with ``stream=True``, the default above
:data:`model.engine.IN_MEMORY_MAX` replications) keeps per replication only what the features
need, compactly, and summarises the rest per block (:class:`Aggregate`):

* **likelihoods** are counts of the met flags, exact; the flags themselves are kept as bits
  (:class:`PackedFlags`), so paired comparisons and the joint views work as on a run in memory;
* **quantiles and means** of every yearly indicator, target value, calibration series and district
  total come from a :class:`model.sketch.Sketch` (its method and error bound are documented there);
* **drivers** come from counts of the replications in each input's lowest and highest third of its
  *declared* distribution (cut at its 1/3 and 2/3 quantiles; a run in memory cuts at the thirds
  of its draws) and how many of them meet each target (:class:`model.drivers.ThirdCounts`);
* **the outside view's yearly record** (:data:`model.runs.KEPT_YEARLY`) is kept per replication
  in float32.

The sampled inputs and the other yearly indicators are not kept, so :meth:`Results.with_levers`
and :meth:`Run.series` need a run in memory. Workers return an :class:`Aggregate` of their
blocks, never their replications; aggregates merge in any order with the same result.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from . import drivers as drivers_mod
from .blocks import BlockResult, run_block
from .calibration import calibration_table, series_columns
from .outside import INDICATORS as KEPT_YEARLY
from .params import indicator_spec
from .results import Results
from .scenario import Scenario
from .sketch import Layout, Sketch, StoredQuantiles
from .tables import summary_table, trajectory_table
from .views import district_quotas, district_totals, districts

#: How far inside the thirds a declared distribution is cut [-] (far below any continuous effect).
CUT_EPS = 1e-9


class SketchView:
    """The columns of a sketch under one prefix, answering :func:`model.tables.column_quantiles`."""

    def __init__(self, sketch: Sketch, prefix: str) -> None:
        self.sketch, self.prefix = sketch, prefix

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.prefix + key in self.sketch

    def __iter__(self) -> Iterator[str]:
        n = len(self.prefix)
        return (k[n:] for k in self.sketch.layout.keys if k.startswith(self.prefix))

    def quantiles(self, key: str, qs) -> np.ndarray:
        return self.sketch.quantiles(self.prefix + key, qs)

    def mean(self, key: str):
        return self.sketch.mean(self.prefix + key)


class PackedFlags(Mapping):
    """Target id -> met flags ``(replications,)`` bool, stored as bits per block."""

    def __init__(self, targets: tuple[str, ...], blocks: Mapping[int, tuple[int, np.ndarray]]) -> None:
        self.targets, self.blocks = targets, blocks
        self._row = {t: i for i, t in enumerate(targets)}

    def __getitem__(self, key: str) -> np.ndarray:
        row = self._row[key]
        return np.concatenate([np.unpackbits(bits[row], count=n).astype(bool)
                               for n, bits in (self.blocks[b] for b in sorted(self.blocks))])

    def __iter__(self) -> Iterator[str]:
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)


def _columns(result: BlockResult) -> dict[str, np.ndarray]:
    """What a block adds to the sketch: yearly indicators, target values, series, district totals."""
    cols = {f"yearly/{k}": v for k, v in result.indicators.items() if indicator_spec(k).kind == "yearly"}
    cols.update({f"value/{k}": v for k, v in result.values.items()})
    cols.update({f"value/{k}": v for k, v in district_totals(result.values).items()})
    cols.update({f"series/{k}": v for k, v in series_columns(result.indicators).items()})
    return cols


@dataclass(frozen=True)
class StreamLayout:
    """What every block of a streamed run is summarised into: the sketch's bins (from the pilot
    block), the targets' order, and each input's tercile cuts."""

    sketch: Layout
    targets: tuple[str, ...]
    inputs: tuple[str, ...]
    cuts: np.ndarray  # (inputs, 2): lowest third <= cuts[:, 0]; highest third >= cuts[:, 1]

    @classmethod
    def from_pilot(cls, scenario: Scenario, pilot: BlockResult) -> StreamLayout:
        inputs = tuple(sorted(pilot.inputs))
        # just inside the thirds, as a run in memory cuts at the values of ranks n // 3 and n - n // 3:
        # a discrete input whose value ends exactly at 1/3 (three equally likely values) is cut there
        levels = np.array([1 / 3 - CUT_EPS, 2 / 3 + CUT_EPS])
        cuts = np.array([scenario.uncertainties[k].ppf(levels) for k in inputs], float).reshape(len(inputs), 2)
        return cls(Layout.from_pilot(_columns(pilot)), tuple(sorted(pilot.met)), inputs, cuts)


@dataclass
class Aggregate:
    """Everything a streamed run keeps of some blocks (:func:`summarise`); merges by :meth:`merge`."""

    layout: StreamLayout
    sketch: Sketch = None
    flags: dict[int, tuple[int, np.ndarray]] = field(default_factory=dict)  # block -> (n, bits)
    kept: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)   # block -> float32 yearly
    thirds: drivers_mod.ThirdCounts | None = None
    totals_met: dict[str, int] = field(default_factory=dict)   # "total.<kind>" -> count

    def __post_init__(self) -> None:
        if self.sketch is None:
            self.sketch = Sketch(self.layout.sketch)

    def add(self, block: int, result: BlockResult) -> None:
        lay = self.layout
        self.sketch.add(block, _columns(result))
        met = np.array([result.met[t] for t in lay.targets], dtype=bool).reshape(len(lay.targets), -1)
        self.flags[block] = (met.shape[1], np.packbits(met, axis=1))
        self.kept[block] = {k: result.indicators[k].astype(np.float32) for k in KEPT_YEARLY if k in result.indicators}
        x = np.array([result.inputs[k] for k in lay.inputs]).reshape(len(lay.inputs), -1)
        low = x <= lay.cuts[:, :1]
        high = np.where((lay.cuts[:, 1] <= lay.cuts[:, 0])[:, None], x > lay.cuts[:, :1], x >= lay.cuts[:, 1:])
        counts = drivers_mod.ThirdCounts.of(low, high, met.T)
        if self.thirds is None:
            self.thirds = counts
        else:
            self.thirds.add(counts)
        quotas = district_quotas()
        for key, total in district_totals(result.values).items():
            hit = int((total >= quotas[key.split(".", 1)[1]]).sum())
            self.totals_met[key] = self.totals_met.get(key, 0) + hit

    def merge(self, other: Aggregate) -> None:
        self.sketch.merge(other.sketch)
        self.flags.update(other.flags)
        self.kept.update(other.kept)
        if other.thirds is not None:
            if self.thirds is None:
                self.thirds = other.thirds
            else:
                self.thirds.add(other.thirds)
        for key, hit in other.totals_met.items():
            self.totals_met[key] = self.totals_met.get(key, 0) + hit


def summarise(scenario: Scenario, seed: int, layout: StreamLayout, blocks: list[tuple[int, int]]) -> Aggregate:
    """Run ``blocks`` and summarise them (what a worker does for a streamed run)."""
    return aggregate(layout, ((b, run_block(scenario, seed, b, n)) for b, n in blocks))


def aggregate(layout: StreamLayout, results: Iterable[tuple[int, BlockResult]]) -> Aggregate:
    """The :class:`Aggregate` of (block index, its results), one block in memory at a time."""
    out = Aggregate(layout)
    for b, result in results:
        out.add(b, result)
    return out


@dataclass(eq=False)
class StreamedResults(Results):
    """A streamed run: the :class:`~model.runs.Run` interface from an :class:`Aggregate`.

    ``met`` holds every replication's flags; ``values``, ``indicators`` and ``inputs`` are empty
    (not kept); the tables come from the sketch and the counts.
    """

    aggregate: Aggregate | None = None

    @cached_property
    def summary(self) -> pd.DataFrame:
        return summary_table(SketchView(self.aggregate.sketch, "value/"), self.met, self.scenario.thresholds)

    @cached_property
    def trajectories(self) -> pd.DataFrame:
        return trajectory_table(SketchView(self.aggregate.sketch, "yearly/"))

    @cached_property
    def calibration(self) -> pd.DataFrame:
        return calibration_table(self.name, SketchView(self.aggregate.sketch, "series/"))

    @cached_property
    def districts(self) -> pd.DataFrame:
        shares = {k: hit / self.replications for k, hit in self.aggregate.totals_met.items()}
        return districts(SketchView(self.aggregate.sketch, "value/"), ChainMap(shares, self.met))

    @cached_property
    def drivers(self) -> pd.DataFrame | None:
        agg, n = self.aggregate, self.replications
        thirds = agg.thirds
        keep = np.minimum(thirds.n_low, thirds.n_high) >= drivers_mod.smallest_third(n)
        if n < drivers_mod.MIN_REPLICATIONS or not keep.any():
            return drivers_mod.top_drivers(pd.DataFrame(columns=drivers_mod.COLUMNS))
        names = [k for k, ok in zip(agg.layout.inputs, keep) if ok]
        counts = drivers_mod.ThirdCounts(thirds.n_low[keep], thirds.n_high[keep],
                                         thirds.k_low[keep], thirds.k_high[keep])
        targets = list(agg.layout.targets)  # sorted, as screen() orders them
        reach = drivers_mod.target_reach(self.scenario.enabled_links, targets)
        return drivers_mod.top_drivers(drivers_mod.swings(names, targets, counts, reach))

    def stored_quantiles(self) -> dict[str, np.ndarray]:
        values = SketchView(self.aggregate.sketch, "value/")
        return {k: values.quantiles(k, StoredQuantiles.LEVELS) for k in self.met}

    def kept_yearly(self) -> dict[str, np.ndarray]:
        blocks = [self.aggregate.kept[b] for b in sorted(self.aggregate.kept)]
        return {k: np.concatenate([b[k] for b in blocks]) for k in KEPT_YEARLY if blocks and k in blocks[0]}

    def with_levers(self, changes):
        raise ValueError("a streamed run keeps no sampled inputs, so it cannot be re-evaluated with other levers; "
                         "simulate the changed scenario, or run fewer replications in memory")
