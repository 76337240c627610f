"""Module random streams kept for replay.

:meth:`model.results.Results.with_levers` moves a lever on the draws of a finished run. The
sampled inputs are kept by the run; a module's own random events (per firm, per plant, per
project) come from its stream of the block, which the module contract (``model.modules``) has it
draw in shapes that never depend on a lever. So the numbers a module draws are the same whatever
the levers, and drawing them is much of what a module costs (a float32 normal costs as much as
some sixty multiplications). A :class:`Recording` keeps what a stream returned the first time;
each later rerun of the module reads it again through a :class:`Player`, which returns a copy of
each recorded result (modules may work in place on what they draw) and checks that the module
asks for exactly what it asked for then. Past the end of the recording it draws on from the
live generator, which is where the recording left it, and records that too. A call that differs
from the recorded one raises :class:`StreamMismatch`, and the caller runs the module again on a
fresh stream (``model.blocks.run_modules``): replay can save time, never change a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Most bytes of recorded streams a run keeps for its lever moves (assumption: a quarter of
#: this machine's 24 GiB would crowd out other work, 1 GiB does not; the plan scenario records
#: about 30 kB per replication, so runs of up to ~35,000 replications replay and larger ones
#: draw afresh, which gives the same numbers more slowly).
REPLAY_BYTES = 1 << 30


class StreamMismatch(RuntimeError):
    """A module asked its replayed stream for something other than what it asked for first."""


class Recording:
    """What one live ``numpy.random.Generator`` returned, call by call."""

    def __init__(self, live: np.random.Generator) -> None:
        self._live = live
        self._calls: list[tuple[str, tuple, dict, Any]] = []

    def player(self) -> Player:
        """A generator-like view that replays the recording from its first call."""
        return Player(self)

    @property
    def calls(self) -> list[tuple[tuple, Any]]:
        """The recorded calls: (``(name, args, kwargs, out)``, what it returned), in order (a
        spawn's result is the list of its children's recordings)."""
        return self._calls

    def record(self, key: tuple, result: Any) -> None:
        """Append a call and its result (:mod:`model.latent` builds recordings this way)."""
        self._calls.append((key, result))

    @property
    def nbytes(self) -> int:
        """Bytes held by the recorded arrays (children included)."""
        total = 0
        for _, result in self._calls:
            if isinstance(result, np.ndarray):
                total += result.nbytes
            elif isinstance(result, list):
                total += sum(child.nbytes for child in result)
        return total

    def _call(self, position: int, name: str, args: tuple, kwargs: dict) -> Any:
        out = kwargs.pop("out", None)
        key = (name, args, kwargs, None if out is None else (out.shape, str(out.dtype)))
        if position == len(self._calls):  # past the recording: draw on, live, and record it
            self._calls.append((key, self._draw(name, args, kwargs, out)))
        recorded, result = self._calls[position]
        if not _same(key, recorded):
            raise StreamMismatch(f"call {position}: {name}{args} where {recorded[0]}{recorded[1]} was recorded")
        if name == "spawn":
            return [child.player() for child in result]
        if out is not None:
            np.copyto(out, result)
            return out
        return result.copy() if isinstance(result, np.ndarray) else result

    def _draw(self, name: str, args: tuple, kwargs: dict, out: np.ndarray | None) -> Any:
        method = getattr(self._live, name)
        if name == "spawn":
            return [Recording(child) for child in method(*args, **kwargs)]
        if out is not None:
            method(*args, out=out, **kwargs)
            return out.copy()
        return method(*args, **kwargs)  # kept as drawn: callers get copies


class Player:
    """Replays a :class:`Recording` through the methods of ``numpy.random.Generator``."""

    def __init__(self, recording: Recording) -> None:
        self._recording, self._position = recording, 0

    def __getattr__(self, name: str):
        if not callable(getattr(self._recording._live, name)):
            raise AttributeError(f"a replayed stream offers the generator's methods only, not {name!r}")

        def call(*args, **kwargs):
            at, self._position = self._position, self._position + 1
            return self._recording._call(at, name, args, dict(kwargs))
        return call


def _same(a: tuple, b: tuple) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # array arguments: compared as "different", never guessed
        return False
