"""Command line: ``python -m model {run,compare,sweep,brief,score,validate,targets,params,series,calibration,
levers,goal,discover,sensitivity,drivers}``.

Exit status: 0 success, 2 bad input (one clear line on stderr, nothing written), 1 internal error.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback

from ..budget import check_budget
from ..cluster import ClusterError, ClusterFault
from ..engine import DEFAULT_REPLICATIONS, WorkerError
from ..scenario import ScenarioError
from .analysis import add_analysis_parsers, add_goal_parser, cmd_goal, cmd_levers
from .calibration import add_calibration_parser, cmd_calibration
from .common import Parser, UsageError
from .compare import add_compare_parser, add_sweep_parser, cmd_compare, cmd_sweep
from .discover import add_discover_parser, cmd_discover
from .info import (
    add_brief_parser,
    add_info_parser,
    cmd_brief,
    cmd_params,
    cmd_series,
    cmd_targets,
    cmd_validate,
)
from .run import add_drivers_parser, add_run_parser, cmd_drivers, cmd_run
from .score import add_score_parser, cmd_score
from .sensitivity import add_sensitivity_parser, cmd_sensitivity


def build_parser() -> Parser:
    parser = Parser(
        prog="python -m model",
        description="Likelihood of meeting the targets of Jiyuan's 2017 industrial action plans.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_run_parser, add_compare_parser, add_sweep_parser, add_brief_parser, add_score_parser,
                add_info_parser, add_calibration_parser, add_analysis_parsers, add_goal_parser, add_discover_parser,
                add_sensitivity_parser, add_drivers_parser):
        add(sub)
    return parser


COMMANDS = {
    "brief": cmd_brief,
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "run": cmd_run,
    "score": cmd_score,
    "validate": cmd_validate,
    "targets": cmd_targets,
    "params": cmd_params,
    "series": cmd_series,
    "calibration": cmd_calibration,
    "levers": cmd_levers,
    "goal": cmd_goal,
    "discover": cmd_discover,
    "sensitivity": cmd_sensitivity,
    "drivers": cmd_drivers,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (exit status 143 = 128 + SIGTERM)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _check_replications(args) -> None:
    """Refuse ``--replications`` whose results would not fit in memory, before anything runs.

    ``run`` keeps one scenario's results at a time, ``compare`` all its items and ``sweep`` the
    scenario at each value plus the scenario as written.
    """
    replications = getattr(args, "replications", None)
    kept = {"run": 1, "calibration": 1, "levers": 3, "goal": 2, "discover": 1,
            "compare": len(getattr(args, "items", ())),
            "sweep": len(getattr(args, "values", ())) + 1}.get(args.command)
    if kept is None:
        return
    if replications is None:  # compare: saved runs keep theirs; scenario files run the default
        if not any(str(item).endswith(".toml") for item in getattr(args, "items", ())):
            return
        replications = DEFAULT_REPLICATIONS
    try:
        check_budget(replications, kept, args.workers, option="--replications")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()  # signals work only there
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        _check_replications(args)
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError, ClusterError) as exc:  # ClusterError: the scheduler went away mid-command
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM
        print("interrupted: what was in progress was not saved; outputs finished before it are kept", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except (WorkerError, ClusterFault) as exc:  # a fault of the machine, not of the input nor of the model
        print(f"error: {exc}; what was in progress was not saved (outputs finished before it are kept); run it again",
              file=sys.stderr)
        return 3
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:  # our bug, not the user's: say so and show where
        traceback.print_exc()
        print("internal error: this is a bug in the model, please report it with the command above", file=sys.stderr)
        return 1
    finally:
        if main_thread and previous is not None:  # None: the old handler was not set from Python
            signal.signal(signal.SIGTERM, previous)
