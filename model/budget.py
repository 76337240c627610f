"""The command line's memory policy: how many replications ``run``, ``compare`` and ``sweep`` accept.

This is policy, not a limit of the library: :func:`model.simulate` runs whatever it is asked
and :func:`model.engine.memory_estimate` says what that needs. The command line refuses, before
anything runs, a request whose results would not fit in :data:`MEMORY_BUDGET`.
"""

from __future__ import annotations

import os

from .engine import IN_MEMORY_MAX, SKETCH_BYTES, STREAMED_BYTES, memory_estimate, time_estimate


def _physical_memory() -> int:
    """This machine's physical memory [bytes] (24 GiB assumed where the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 24 * 2**30


#: Memory the results of one command may take [bytes]: a third of this machine's memory (8 GiB
#: on the 24 GiB development machine). The rest is for other users, the interpreter and imports
#: (~0.3 GiB per process) and the allocator's slack (RSS runs ~10-20 % above what tracemalloc
#: counts). A run in memory (up to 100,000 replications) needs 2 * 9 kB per replication at the
#: peak (+0.5 * 9 kB with workers, whose chunks are a quarter of their share, pickled once);
#: a streamed run 150 B per replication and 100 MiB (:mod:`model.engine`).
MEMORY_BUDGET = _physical_memory() // 3


def _size(nbytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{nbytes / 2**10:.0f} KiB"


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def max_replications(scenarios: int = 1, workers: int = 1) -> int:
    """The most replications per scenario that fit in :data:`MEMORY_BUDGET` (rounded down to 1,000).

    Above :data:`~model.engine.IN_MEMORY_MAX` a run is streamed and keeps
    :data:`~model.engine.STREAMED_BYTES` per replication, so the cap is that of a streamed run
    whenever it exceeds the in-memory limit (8 GiB / 150 B: some 57 million on 24 GiB; time, not
    memory, is then what limits a run, and the refusal says how long it would take)."""
    streamed = int((MEMORY_BUDGET - scenarios * SKETCH_BYTES) // (scenarios * STREAMED_BYTES))
    cap = streamed if streamed > IN_MEMORY_MAX else int(MEMORY_BUDGET // memory_estimate(1, scenarios, workers))
    return cap - cap % 1000 if cap > 1000 else cap


def check_budget(replications: int, scenarios: int = 1, workers: int = 1, option: str = "replications") -> None:
    """Refuse a request whose results would not fit in :data:`MEMORY_BUDGET`.

    Parameters
    ----------
    replications : int
        Replications per scenario [-].
    scenarios : int
        Scenarios whose results are kept together (a sweep keeps len(values) + 1) [-].
    workers : int
        Processes [-] (for the time estimate, and the chunks the workers hold).
    option : str
        How the user gave ``replications`` (e.g. ``--replications``), for the message.

    Raises
    ------
    ValueError
        With the estimated memory and time and the largest number accepted.
    """
    if memory_estimate(replications, scenarios, workers) <= MEMORY_BUDGET:
        return
    cap = max_replications(scenarios, workers)
    memory = memory_estimate(replications, scenarios, workers)
    seconds = time_estimate(replications, scenarios, workers)
    what = "1 scenario" if scenarios == 1 else f"{scenarios} scenarios kept together"
    on = f"{workers} worker{'s' if workers > 1 else ''}"
    raise ValueError(
        f"{option} {replications:,} is too many: {what} would need about {_size(memory)} of memory and "
        f"about {_duration(seconds)} on {on}; at most {cap:,} fit in the {_size(MEMORY_BUDGET)} allowed "
        f"for results (a third of this machine's {_size(_physical_memory())}; 10,000 give +/-1 percentage point)"
    )
