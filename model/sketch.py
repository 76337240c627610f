"""Quantiles and means of many columns over more replications than memory holds (streamed runs).

A :class:`Sketch` summarises columns of per-replication numbers block by block and answers the
same questions :func:`model.tables.quantiles` answers on the full arrays: the ``inverted_cdf``
quantile ignoring NaN (an order statistic, so ``+inf`` is kept), and the mean of the finite
values. Method (a fixed-bin histogram with exact tails, chosen because blocks are independent and
identically distributed, so a pilot block shows where the mass is):

* The edges of each column come from a *pilot* block (block 0 of the run, the same whatever the
  number of workers): :data:`BINS` equal bins over ``[min - span, max + span]`` of the pilot's
  finite values, ``span = max - min`` (at least :data:`MIN_SPAN` times the value's size, so a
  column constant in the pilot still gets bins around its value).
* Every later value inside the edges adds to its bin's count, minimum and maximum; a value
  outside them (and every infinite value) is kept exactly. Since the pilot's range already holds
  all but about ``2 / (pilot size + 1)`` of the mass, the exact tail is a few per mille.
* A quantile is found by rank: in the exact tails it is exact; inside a bin it is the bin's
  minimum, or interpolated by rank between the bin's minimum and maximum. So it is exact whenever
  the bin holds one distinct value (every count and every integer-valued indicator: a bin is at
  most ``3 * span / BINS`` wide, narrower than 1 for integer columns spanning fewer than 680
  values), and otherwise within the bin's own range: at most ``3 * span / BINS`` = 0.15 % of the
  pilot's span (0.03 percentage points for an energy-intensity cut spread over 20 points),
  far below the one decimal printed for shares and the Monte Carlo error of any quantile at
  10^6 replications. ``tests/test_streaming.py`` checks both bounds against the exact quantiles.
* Means are exact up to floating-point summation: per-block sums, added in block order at the
  end, so a run's figures do not depend on the order in which workers finish.

Sketches of different blocks merge by adding counts (:meth:`Sketch.merge`), so workers send back
a sketch, never their replications.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

#: Bins per column. 2,048 keeps a sketch of ~900 columns at 44 MB (count, minimum, maximum).
BINS = 2048
#: Smallest span of a column's bins relative to its size (|value|, at least 1).
MIN_SPAN = 1e-6


@dataclass(frozen=True)
class Layout:
    """The columns a sketch holds and their bins: ``keys[i]`` covers ``width[i]`` columns."""

    keys: tuple[str, ...]
    widths: tuple[int, ...]
    lo: np.ndarray
    step: np.ndarray

    @classmethod
    def from_pilot(cls, arrays: Mapping[str, np.ndarray]) -> Layout:
        """Bins from a pilot block: ``key`` -> ``(n,)`` or ``(n, k)`` numbers."""
        keys = tuple(arrays)
        cols = _columns(arrays, keys)
        finite = np.isfinite(cols)
        low = np.where(finite, cols, np.inf).min(axis=0)
        high = np.where(finite, cols, -np.inf).max(axis=0)
        none = ~finite.any(axis=0)  # a column with no finite value in the pilot: bins around 0
        low[none], high[none] = 0.0, 0.0
        size = np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
        span = np.maximum(high - low, MIN_SPAN * size)
        widths = tuple(1 if np.ndim(arrays[k]) == 1 else np.shape(arrays[k])[1] for k in keys)
        return cls(keys, widths, low - span, 3.0 * span / BINS)

    @property
    def offsets(self) -> dict[str, slice]:
        out, start = {}, 0
        for key, width in zip(self.keys, self.widths):
            out[key] = slice(start, start + width)
            start += width
        return out


def _columns(arrays: Mapping[str, np.ndarray], keys) -> np.ndarray:
    return np.column_stack([np.asarray(arrays[k], float).reshape(len(arrays[k]), -1) for k in keys])


@dataclass
class Sketch:
    """Per-bin counts, minima and maxima, exact tails and per-block sums of a :class:`Layout`."""

    layout: Layout
    counts: np.ndarray = None
    low: np.ndarray = None
    high: np.ndarray = None
    nans: np.ndarray = None
    tails: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (column, value)
    sums: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # block -> sum, count

    def __post_init__(self) -> None:
        self._grouped: tuple = (-1, None, None)
        self._means: tuple = (-1, None)
        if self.counts is None:
            c = int(sum(self.layout.widths))
            self.counts = np.zeros(c * BINS, np.int64)
            self.low = np.full(c * BINS, np.inf)
            self.high = np.full(c * BINS, -np.inf)
            self.nans = np.zeros(c, np.int64)

    def add(self, block: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Add one block's numbers (every key of the layout)."""
        cols = _columns(arrays, self.layout.keys)
        n, c = cols.shape
        finite = np.isfinite(cols)
        self.nans += np.isnan(cols).sum(axis=0)
        self.sums[block] = (np.where(finite, cols, 0.0).sum(axis=0), finite.sum(axis=0))
        with np.errstate(invalid="ignore"):
            idx = np.floor((cols - self.layout.lo) / self.layout.step)
        inside = finite & (idx >= 0) & (idx < BINS)
        column = np.broadcast_to(np.arange(c), cols.shape)
        flat = (column[inside] * BINS + idx[inside].astype(np.int64))
        values = cols[inside]
        self.counts += np.bincount(flat, minlength=c * BINS)
        np.minimum.at(self.low, flat, values)
        np.maximum.at(self.high, flat, values)
        outside = ~inside & ~np.isnan(cols)
        if outside.any():
            self.tails.append((column[outside].astype(np.int32), cols[outside]))

    def merge(self, other: Sketch) -> None:
        """Add ``other`` (a sketch of other blocks on the same layout) into this one."""
        self.counts += other.counts
        np.minimum(self.low, other.low, out=self.low)
        np.maximum(self.high, other.high, out=self.high)
        self.nans += other.nans
        self.tails.extend(other.tails)
        self.sums.update(other.sums)

    def __contains__(self, key: object) -> bool:
        return key in self.layout.offsets

    def _tail(self, column: int) -> np.ndarray:
        """The exact values of ``column`` outside its bins, sorted (all columns grouped once)."""
        if len(self.tails) != self._grouped[0]:
            cols = np.concatenate([t[0] for t in self.tails]) if self.tails else np.empty(0, np.int32)
            vals = np.concatenate([t[1] for t in self.tails]) if self.tails else np.empty(0)
            order = np.lexsort((vals, cols))
            cols, vals = cols[order], vals[order]
            starts = np.searchsorted(cols, np.arange(self.nans.size + 1))
            self._grouped = (len(self.tails), vals, starts)
        _, vals, starts = self._grouped
        return vals[starts[column]:starts[column + 1]]

    def _quantile(self, column: int, qs) -> np.ndarray:
        counts = self.counts[column * BINS:(column + 1) * BINS]
        low = self.low[column * BINS:(column + 1) * BINS]
        high = self.high[column * BINS:(column + 1) * BINS]
        tail = self._tail(column)
        edge = self.layout.lo[column]
        below, above = tail[tail < edge], tail[tail >= edge]
        n = int(counts.sum()) + tail.size
        out = np.full(len(qs), np.nan)
        if n == 0:
            return out
        cum = np.cumsum(counts)
        for i, q in enumerate(qs):
            k = min(n - 1, max(0, int(np.ceil(n * q)) - 1))  # numpy's inverted_cdf order statistic
            if k < below.size:
                out[i] = below[k]
                continue
            r = k - below.size
            if r >= cum[-1]:
                out[i] = above[r - cum[-1]]
                continue
            b = int(np.searchsorted(cum, r, side="right"))
            within = r - (cum[b - 1] if b else 0)
            size = counts[b]
            out[i] = low[b] if size == 1 else low[b] + (high[b] - low[b]) * within / (size - 1)
        return out

    def quantiles(self, key: str, qs) -> np.ndarray:
        """``(len(qs),)`` for a one-column key, ``(len(qs), width)`` otherwise (like :func:`model.tables.quantiles`)."""
        cols = range(*self.layout.offsets[key].indices(self.nans.size))
        out = np.column_stack([self._quantile(c, qs) for c in cols])
        return out[:, 0] if self.layout.widths[self.layout.keys.index(key)] == 1 else out

    def mean(self, key: str) -> np.ndarray | float:
        """Mean of the finite values (NaN where a column has none), summed in block order."""
        if self._means[0] != len(self.sums):
            total = np.zeros(self.nans.size)
            count = np.zeros_like(total)
            for block in sorted(self.sums):
                s, c = self.sums[block]
                total, count = total + s, count + c
            self._means = (len(self.sums), np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0))
        means = self._means[1][self.layout.offsets[key]]
        return float(means[0]) if self.layout.widths[self.layout.keys.index(key)] == 1 else means


class StoredQuantiles:
    """The 10/50/90 % quantiles of the target values as a streamed run saved them
    (``replications.npz``: ``quantile/<target>``), answering :func:`model.tables.column_quantiles`
    for those levels only."""

    LEVELS = (0.1, 0.5, 0.9)

    def __init__(self, table: Mapping[str, np.ndarray]) -> None:
        self.table = dict(table)

    def __contains__(self, key: object) -> bool:
        return key in self.table

    def __iter__(self):
        return iter(self.table)

    def quantiles(self, key: str, qs) -> np.ndarray:
        if tuple(qs) != self.LEVELS:
            raise ValueError(f"a saved streamed run holds the {self.LEVELS} quantiles only, not {tuple(qs)}")
        return np.asarray(self.table[key], float)

    def mean(self, key: str) -> float:
        raise ValueError("a saved streamed run holds no means of its target values")
