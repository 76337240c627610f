"""Command line: ``python -m model {run,compare,sweep,brief,validate,targets,params}``.

One module per command group (:mod:`.run`, :mod:`.compare` with ``sweep``, :mod:`.info` with
``brief``, ``validate``, ``targets`` and ``params``); :mod:`.main` builds the parser and
dispatches. Exit status: 0 success, 2 bad input (one clear line on stderr, nothing written),
1 internal error.
"""

from ..plans import HEADLINE
from .common import UsageError
from .main import build_parser, main

__all__ = ["HEADLINE", "UsageError", "build_parser", "main"]
