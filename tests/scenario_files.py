"""A scenario file that extends the shipped plan, for tests of bad input through the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT


def validate_extension(tmp_path: Path, table: str, body: str) -> subprocess.CompletedProcess:
    """``python -m model validate`` on ``bad.toml``: the plan (copied next to it) with ``body``
    under ``[table]``. The caller checks the exit status and the message."""
    (tmp_path / "plan.toml").write_text((ROOT / "scenarios" / "plan.toml").read_text("utf-8"), encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nname = "bad"\ntitle_zh = "坏"\ntitle_en = "Bad"\nextends = "plan.toml"\n\n'
                    f"[{table}]\n{body}\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "model", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def assert_refused(result: subprocess.CompletedProcess, key: str) -> None:
    """Exit status 2, no traceback, and a message naming the file and ``key``."""
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert key in result.stderr and "bad.toml" in result.stderr, result.stderr
