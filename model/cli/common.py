"""What every command shares: the usage error, the argument parser, value checks."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..atomic import OutDirError, check_replaceable, previous_place
from ..cluster import ClusterError, connect
from ..console import wrap
from ..engine import DEFAULT_REPLICATIONS, DEFAULT_SEED
from ..observed import Observed, load_observed
from ..plans import HEADLINE_2020
from ..scenario import Scenario
from ..targets import load_registry
from ..terminal import phrase, terminal_width


class UsageError(Exception):
    """A bad command-line value (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the option, with exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _whole_number(kind: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{kind} must be a whole number, found {text!r}") from None


def positive(kind: str):
    def parse(text: str) -> int:
        value = _whole_number(kind, text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"{kind} must be at least 1, found {value}")
        return value

    return parse


def worker_count(text: str) -> int:
    """``--workers``: at least 1, at most the cores of this machine (more only adds overhead)."""
    value = positive("workers")(text)
    cores = os.cpu_count() or 1
    if value > cores:
        raise argparse.ArgumentTypeError(f"this machine has {cores} core(s); use at most {cores} workers, "
                                         f"found {value}")
    return value


def add_sampling_options(parser: argparse.ArgumentParser, replications_help: str, *, saved: bool = False) -> None:
    """``--replications``/``-n`` and ``--seed``, the same for every command that simulates.

    ``replications_help`` says what the count is per (it is followed by the default); with
    ``saved`` (``compare``) both default to None: the saved runs' own, else the model's default.
    """
    if saved:
        parser.add_argument("--replications", "-n", type=positive("replications"), default=None,
                            help=f"{replications_help} (default: the saved runs', else {DEFAULT_REPLICATIONS})")
        parser.add_argument("--seed", type=seed_value, default=None,
                            help=f"random seed for scenario files (default: the saved runs', else {DEFAULT_SEED})")
        return
    parser.add_argument("--replications", "-n", type=positive("replications"), default=DEFAULT_REPLICATIONS,
                        help=f"{replications_help} (default {DEFAULT_REPLICATIONS})")
    parser.add_argument("--seed", type=seed_value, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--scenario-path``, the same for every command that simulates."""
    parser.add_argument("--workers", "-j", type=worker_count, default=1,
                        help="processes to run in (default 1; at most the machine's cores)")
    add_scenario_path(parser)


#: ``--scheduler``: [scheme://]host[:port], host a name, an IPv4 address or an [IPv6] one.
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
                      r"(?::(?P<port>[0-9]{1,5}))?$")


def scheduler_address(text: str) -> str:
    """``--scheduler``: a dask scheduler's address, ``tcp://host:8786`` (dask's default port if
    none is given)."""
    match = _ADDRESS.match(text)
    if match is None or not 0 < int(match["port"] or 8786) < 65536:
        raise argparse.ArgumentTypeError(f"not a dask scheduler address, found {text!r}; give one like "
                                         "tcp://host:8786 (what `dask scheduler` prints)")
    return text


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor`` and ``--scheduler``, the same for every command that simulates on request."""
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="where the blocks run: local (this machine, --workers processes) or dask "
                             "(dask.distributed: --scheduler, or a local cluster of --workers processes); "
                             "the numbers are the same (default local)")
    parser.add_argument("--scheduler", type=scheduler_address, default=None, metavar="ADDRESS",
                        help="with --executor dask: a running dask scheduler, e.g. tcp://host:8786 "
                             "(default: a local cluster started for the run)")


def executor_options(args) -> dict[str, Any]:
    """``executor``/``scheduler`` keywords for :func:`model.simulate` from ``--executor`` and
    ``--scheduler``; a given scheduler is checked before anything runs (it answers, has workers,
    and they run this model), so a bad one writes nothing."""
    if args.executor != "dask":
        if args.scheduler is not None:
            raise UsageError("--scheduler needs --executor dask")
        return {"executor": "local"}
    if args.scheduler is not None:
        try:
            with connect(args.scheduler):
                pass  # connecting is the check (it answers, has workers running this model); closed at once
        except ClusterError as exc:
            raise UsageError(str(exc)) from None
    return {"executor": "dask", "scheduler": args.scheduler}


def executor_text(args, lang: str = "en") -> str:
    """How a run is executed, for the line printed before it, in ``lang`` ("1 worker", "2 workers")."""
    if args.executor != "dask":
        return phrase(lang, "workers", n=args.workers)
    if args.scheduler is not None:
        return phrase(lang, "dask_cluster", address=args.scheduler)
    return phrase(lang, "dask_local", n=args.workers)


def add_scenario_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario-path", action="append", type=Path, default=[], metavar="DIR",
                        help="a folder whose .toml files `extends` may name besides the scenario's own folder tree "
                             "(repeatable)")


def add_observed_option(parser: argparse.ArgumentParser) -> None:
    """``--observed FILE``: condition every scenario simulated on the published figures of FILE."""
    parser.add_argument("--observed", type=Path, default=None, metavar="FILE",
                        help="condition the forecast on the published figures of this observed-figures file "
                             "(e.g. observed/2018-h1.toml; replaces a scenario's own `observed`)")


def with_observed(items: list, args) -> list:
    """``items`` (scenarios, saved runs) with ``--observed`` set on every scenario, the file
    checked before anything runs; a saved run must have been conditioned on the same file."""
    if getattr(args, "observed", None) is None:
        return items
    observed = load_observed(args.observed)
    out = []
    for item in items:
        if isinstance(item, Scenario):
            out.append(dataclasses.replace(item, observed=observed))
        elif item.manifest.get("observed_sha256") != observed.sha256:
            raise UsageError(f"--observed: the saved run {item.name!r} is not conditioned on {args.observed} (a saved "
                             "run cannot be conditioned afterwards); pass its scenario file instead")
        else:
            out.append(item)
    return out


def observed_line(results) -> str | None:
    """What a conditioned run was conditioned on, for the line printed after it (None if not)."""
    observed: Observed | None = getattr(results, "observed", None)
    if observed is None:
        return None
    ess, n = f"{results.effective_replications:,.0f}", f"{results.replications:,}"
    stages = results.meta.get("smc_stages")
    zh = f"已按{observed.path}中{len(observed)}项公布数据修正预测：有效模拟次数{ess}（共{n}次）"
    en = (f"conditioned on {len(observed)} published figure(s) of {observed.path}: {ess} effective "
          f"replications of {n}")
    if stages:
        zh += f"（序贯蒙特卡洛，{stages}个阶段）"
        en += f" (sequential Monte Carlo, {stages} stages)"
    return "\n".join(wrap(zh) + wrap(en))


def seed_value(text: str) -> int:
    value = _whole_number("seed", text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be >= 0, found {value}")
    return value


def check_target_ids(ids: list[str], option: str) -> None:
    """Every id must be a modelled target of the registry (checked before anything runs)."""
    known = [t.id for t in load_registry() if t.modelled]
    for target_id in ids:
        if target_id not in known:
            near = difflib.get_close_matches(target_id, known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else "`python -m model targets` lists the ids"
            raise UsageError(f"{option}: {target_id!r} is not a modelled target id; {hint}")


def chosen_targets(args) -> list[str]:
    """An analysis's ``--targets`` (default: the three headline goals of 2020) and ``--top``, checked."""
    targets = args.targets or list(HEADLINE_2020)
    check_target_ids(targets, "--targets")
    if args.top < 1:
        raise UsageError(f"--top: give at least 1, found {args.top}")
    return targets


def analysis_out(out: Path) -> Path:
    """An analysis's ``--out``, checked before anything runs (one of ours, or new)."""
    try:
        return check_replaceable(out, "analysis")
    except OutDirError as exc:
        raise UsageError(str(exc)) from None


def analysis_kept(out: Path) -> Path | None:
    """Where saving an analysis into ``out`` moves the analysis there (None if there is none)."""
    return previous_place(out, "analysis")


def print_kept(lang: str, kind: str, kept: Path | None, width: int | None = None) -> None:
    """The line saying where the previous output of ``kind`` (run, comparison, analysis) was
    moved by a rerun into the same folder; nothing when there was none."""
    if kept is not None:
        what = phrase(lang, f"what_{kind}")
        print("\n".join(wrap(phrase(lang, "previous", what=what, path=kept), width=width or terminal_width())))


def default_lang() -> str:
    """``zh`` when the environment's locale is Chinese, else ``en``: the first of LC_ALL,
    LC_MESSAGES and LANG that is set (the order POSIX gives them) decides."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """``--lang zh|en``, the same for every command that prints for people (default: the locale's)."""
    parser.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="language of what is printed (default zh when the locale is Chinese, "
                             "LANG/LC_ALL/LC_MESSAGES starting with zh, else en)")


def chosen_lang(args) -> str:
    """``--lang``, or the locale's language when it is not given."""
    return getattr(args, "lang", None) or default_lang()


class _Bar(tqdm):
    monitor_interval = 0  # no monitor thread: the workers are forked from this process


def progress_bar(total: int, desc: str = "simulating", unit: str = " replications") -> tqdm:
    """A progress bar (of replications, by default) on stderr: only on a terminal, only once a
    run has taken a second, and cleared at the end so the printed tables stay clean."""
    return _Bar(total=total, desc=desc, unit=unit, file=sys.stderr, disable=None, delay=1.0, leave=False)
