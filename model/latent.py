"""A module's random events as a state that can be moved: the streams behind :mod:`model.smc`.

A replication's random events are what its module streams returned (:mod:`model.replay`
records them call by call). Sequential Monte Carlo moves each particle (a replication) a little
at a time, so it needs a proposal for a module's events that keeps their prior distribution:

- standard normals move by the preconditioned Crank-Nicolson step x' = rho x + sqrt(1 - rho^2) e,
  e a fresh standard normal (Cotter, Roberts, Stuart & White 2013, *Statist. Sci.* 28: 424-446);
- uniforms and exponentials are refreshed element by element with probability ``1 - rho^2``
  (a mixture of staying put and a fresh prior draw).

Both kernels are reversible with respect to the prior, element by element, so a Metropolis-Hastings
step whose proposal moves every sampled normal and every event this way accepts with the ratio of
the likelihoods alone. With ``rho = 1`` a :class:`LatentStream` replays its recording.

A module asks for arrays whose shapes may depend on its sampled inputs (the largest count of a
block, say), never on a lever (``model.modules``). A recorded array is therefore fitted to the
shape asked for: cut where it is larger, topped up with fresh draws where it is smaller. This
takes that a replication's results depend on the elements of its own row only (the first ``k``
of them where it uses ``k``), which the modules' common-random-number design has and
``tests/test_smc.py`` checks by replaying particles in another block. Every array has the
replications on its first or its last axis (the one of length ``n``, the block's particles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .replay import Recording

__all__ = ["LatentStream", "Steps", "cells_of", "gather", "merge", "particle_axis"]

#: The generator methods a moved stream knows how to move (and to top up): every module's calls
MOVABLE = ("standard_normal", "random", "standard_exponential")


def particle_axis(shape: tuple[int, ...], n: int) -> int:
    """The axis of ``shape`` that holds the ``n`` particles: the first or the last one."""
    first, last = shape[0] == n if shape else False, shape[-1] == n if shape else False
    if first and (not last or len(shape) == 1):
        return 0
    if last and not first:
        return len(shape) - 1
    raise RuntimeError(f"a module drew an array of shape {shape} for {n} particles: the particles must be "
                       "on its first or its last axis, and on one of them only")


#: A drawn array's last axis (other than the particles') this short holds one cell per index: the
#: plan's years (4 or 5), sectors (6), a few items. A year's events the published figures do not
#: constrain (the years after them) are then a cell of their own, which moves can redraw whole.
CELL_AXIS_MAX = 8


def cell_axis(shape: tuple[int, ...], at: int) -> int | None:
    """The axis of ``shape`` whose indices are cells (``at`` is the particle axis), or None."""
    others = [a for a in range(len(shape)) if a != at]
    return others[-1] if others and shape[others[-1]] <= CELL_AXIS_MAX else None


def _cells(path: tuple, shape: tuple[int, ...], n: int) -> tuple[int, int | None, list[tuple]]:
    at = particle_axis(shape, n)
    axis = cell_axis(shape, at)
    return at, axis, [(path, None)] if axis is None else [(path, j) for j in range(shape[axis])]


def cells_of(recordings: dict[str, Recording], n: int) -> list[tuple]:
    """Every cell of a block's recordings (module -> recording), in a fixed order."""
    out: list[tuple] = []

    def walk(recording: Recording, path: tuple) -> None:
        for position, (key, result) in enumerate(recording.calls):
            if key[0] == "spawn":
                for c, child in enumerate(result):
                    walk(child, path + (position, c))
            else:
                out.extend(_cells(path + (position,), result.shape, n)[2])
    for name, recording in recordings.items():
        walk(recording, (name,))
    return out


@dataclass(frozen=True)
class Steps:
    """How far a move takes each element of a block's events.

    ``rho`` for every cell (the pCN coefficient), except the ``free`` cells (those whose events
    barely touch the figures' likelihood), which move by ``free_rho`` (0: redrawn whole). The
    sampled inputs' normals are cells too, one per input (``("z", i)``). A probe moves one cell per
    particle and nothing else: ``probe`` (n,) is each particle's cell, an index into ``cells``.
    """

    rho: float = 1.0
    free: frozenset = frozenset()
    free_rho: float = 0.0
    probe: np.ndarray | None = None
    cells: dict = field(default_factory=dict)  # cell -> its index (probes)

    def of_inputs(self, inputs: int, n: int) -> np.ndarray:
        """The coefficient of each of the inputs' normals (``inputs`` rows, ``n`` particles): the
        input ``i`` is the cell ``("z", i)``."""
        ids = np.array([self.cells.get(("z", i), -1) for i in range(inputs)])
        if self.probe is not None:
            return np.where(self.probe[None, :] == ids[:, None], 0.0, 1.0)
        return np.array([[self.free_rho if ("z", i) in self.free else self.rho]
                         for i in range(inputs)]).reshape(inputs, 1)

    def of(self, path: tuple, shape: tuple[int, ...], n: int) -> float | np.ndarray:
        """The coefficient of each element of an array of ``shape`` drawn at ``path``."""
        if self.probe is None and not self.free:
            return self.rho
        at, axis, cells = _cells(path, shape, n)
        if self.probe is None and not any(cell in self.free for cell in cells):
            return self.rho
        rho = np.ones(shape) if self.probe is not None else np.full(shape, self.rho)
        for j, cell in enumerate(cells):
            where = [slice(None)] * len(shape)
            if axis is not None:
                where[axis] = j
            if self.probe is not None:
                where[at] = self.probe == self.cells.get(cell, -1)
                rho[tuple(where)] = 0.0
            elif cell in self.free:
                rho[tuple(where)] = self.free_rho
        return rho


def _draw(rng: np.random.Generator, name: str, kwargs: dict, shape: tuple[int, ...]) -> np.ndarray:
    if name not in MOVABLE:
        raise RuntimeError(f"sequential Monte Carlo cannot move a module's {name}() draws; it moves {MOVABLE}")
    return getattr(rng, name)(shape, **{k: v for k, v in kwargs.items() if k != "size"})


def _shape(args: tuple, kwargs: dict, out: np.ndarray | None) -> tuple[int, ...]:
    size = out.shape if out is not None else kwargs.get("size", args[0] if args else None)
    return () if size is None else (tuple(size) if np.iterable(size) else (int(size),))


def _fit(old: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``like`` with ``old`` written over the part of it both shapes share."""
    out = like.copy()
    common = tuple(slice(0, min(a, b)) for a, b in zip(old.shape, like.shape))
    out[common] = old[common]
    return out


class LatentStream:
    """A generator-like stream that moves the events of ``old`` (a :class:`Recording`, or None
    for fresh draws) by ``steps`` (:class:`Steps`, or a number: one ``rho`` for every element)
    and records what it returns in :attr:`recording`.

    ``fresh`` supplies the innovations and the top-ups; with ``rho = 1`` the stream replays
    ``old`` (fitted to the shapes asked for). ``path`` names the stream's calls for ``steps``
    (the module's name, then a spawned child's position and index); ``n`` is the particles.
    """

    def __init__(self, old: Recording | None, steps: Steps | float, fresh: np.random.Generator,
                 path: tuple = (), n: int = 0) -> None:
        self._old = [] if old is None else old.calls
        self._steps = steps if isinstance(steps, Steps) else Steps(float(steps))
        self._fresh, self._path, self._n = fresh, path, n
        self.recording = Recording(fresh)

    def player(self) -> LatentStream:
        """Itself (the interface :func:`model.blocks.run_modules` expects of a recording)."""
        return self

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return self._call(name, args, kwargs)
        return call

    def _call(self, name: str, args: tuple, kwargs: dict) -> Any:
        position = len(self.recording.calls)
        old = self._old[position] if position < len(self._old) else None
        if old is not None and old[0][0] != name:
            raise RuntimeError(f"a module drew {name}() where its earlier run drew {old[0][0]}(): the calls a "
                               "module makes may not depend on its inputs for sequential Monte Carlo")
        out = kwargs.pop("out", None)
        key = (name, args, kwargs, None if out is None else (out.shape, str(out.dtype)))
        if name == "spawn":
            olds = old[1] if old is not None else [None] * int(args[0] if args else kwargs["n_children"])
            children = [LatentStream(o, self._steps, g, self._path + (position, c), self._n)
                        for c, (o, g) in enumerate(zip(olds, self._fresh.spawn(*args, **kwargs)))]
            self.recording.record(key, [child.recording for child in children])
            return children
        shape = _shape(args, kwargs, out)
        kw = dict(kwargs, dtype=out.dtype) if out is not None else kwargs
        result = _draw(self._fresh, name, kw, shape)
        if old is not None and old[1].ndim == result.ndim:
            rho = self._steps.of(self._path + (position,), shape, self._n)
            result = _moved(name, old[1], result, rho, self._fresh)
        self.recording.record(key, result)
        if out is not None:
            np.copyto(out, result)
            return out
        return result.copy()  # modules may work in place on what they draw



def _moved(name: str, old: np.ndarray, fresh: np.ndarray, rho, rng: np.random.Generator) -> np.ndarray:
    """``old`` moved towards the fresh draw ``fresh`` by ``rho`` where both shapes hold it, and
    ``fresh`` itself (a prior draw) where only the shape asked for does: a top-up must not be
    moved towards itself (a normal's rho x + sqrt(1 - rho^2) x has sd rho + sqrt(1 - rho^2) > 1)."""
    common = tuple(slice(0, min(a, b)) for a, b in zip(old.shape, fresh.shape))
    moved = _move(name, _fit(old, fresh), fresh, rho, rng)
    if moved.shape == old.shape:
        return moved
    out = fresh.copy()
    out[common] = moved[common]
    return out


def _move(name: str, old: np.ndarray, new: np.ndarray, rho, rng: np.random.Generator) -> np.ndarray:
    """``old`` moved towards the fresh draw ``new`` by ``rho`` (a number, or one per element)."""
    if np.all(np.asarray(rho) >= 1.0):
        return old
    if name == "standard_normal":
        return (rho * old + np.sqrt(1.0 - np.square(rho)) * new).astype(old.dtype, copy=False)
    return np.where(rng.random(old.shape) < 1.0 - np.square(rho), new, old)


def _padded(arrays: list[np.ndarray], axes: list[int], name: str, rng: np.random.Generator) -> list[np.ndarray]:
    """``arrays`` fitted to their largest shape off their particle axes (fresh top-ups)."""
    top = tuple(max(a.shape[i] for a in arrays) for i in range(arrays[0].ndim))
    return [_fit(a, _draw(rng, name, {"dtype": a.dtype}, tuple(a.shape[i] if i == ax else top[i]
                                                                  for i in range(a.ndim))))
            for a, ax in zip(arrays, axes)]


def merge(old: Recording, new: Recording, take_new: np.ndarray, rng: np.random.Generator) -> Recording:
    """One recording holding, for each particle, ``new``'s events where ``take_new`` (n,) and
    ``old``'s elsewhere (the Metropolis-Hastings step's accepted and rejected particles)."""
    n = take_new.shape[0]
    merged = Recording(rng)
    for (key, was), (_, now) in zip(old.calls, new.calls):
        if key[0] == "spawn":
            merged.record(key, [merge(o, m, take_new, rng) for o, m in zip(was, now)])
            continue
        ax = particle_axis(now.shape, n)
        was, now = _padded([was, now], [ax, ax], key[0], rng)
        pick = take_new.reshape([-1 if i == ax else 1 for i in range(now.ndim)])
        merged.record(key, np.where(pick, now, was))
    return merged


def gather(recordings: list[Recording], sizes: list[int], index: np.ndarray, block_sizes: list[int],
           rng: np.random.Generator) -> list[Recording]:
    """The recordings of new blocks of ``block_sizes`` particles whose particles are ``index``
    (into the particles of ``recordings`` in order, block ``i`` holding ``sizes[i]``): a
    resampling's duplicates and the particles carried from one block to another."""
    out = [Recording(rng) for _ in block_sizes]
    cuts = np.cumsum(block_sizes)[:-1]
    for calls in zip(*(r.calls for r in recordings)):
        key = calls[0][0]
        if key[0] == "spawn":
            children = [gather(list(group), sizes, index, block_sizes, rng) for group in zip(*(c[1] for c in calls))]
            for j, rec in enumerate(out):
                rec.record(key, [child[j] for child in children])
            continue
        axes = [particle_axis(c[1].shape, n) for c, n in zip(calls, sizes)]
        arrays = _padded([c[1] for c in calls], axes, key[0], rng)
        ax = 0 if axes[0] == 0 else -1
        whole = np.concatenate(arrays, axis=ax)
        for rec, part in zip(out, np.split(np.take(whole, index, axis=ax), cuts, axis=ax)):
            rec.record(key, part)
    return out
