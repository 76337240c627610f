"""Reading scenario files: TOML parsing, the error users see, and finding a key's line.

Scenario files are data: they are parsed with :mod:`tomllib` and never evaluated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import tomllib
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """A user's scenario file is wrong. ``str()`` is the one line to show them."""

    def __init__(self, file: str | Path, key: str | None, message: str, line: int | None = None):
        self.file, self.key, self.message, self.line = str(file), key, message, line
        where = self.file + (f":{line}" if line else "")
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


def suggest(word: str, options) -> str:
    """``"; did you mean 'x'?"`` for the nearest option, or ``""``."""
    near = get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{near[0]}'?" if near else ""


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def find_line(text: str, keypath: str) -> int | None:
    """Best-effort line of ``keypath`` in TOML ``text``: the line defining the longest prefix."""
    target = _split_key(keypath)
    best, best_len = None, 0
    table: list[str] = []
    arrays: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            if line.lstrip().startswith("[["):  # array of tables: the i-th one is name[i]
                name = ".".join(table)
                arrays[name] = arrays.get(name, -1) + 1
                table = table[:-1] + [f"{table[-1]}[{arrays[name]}]"]
            path = table
        else:
            key = _KEYLINE.match(line)
            if not key:
                continue
            path = table + _split_key(key.group(1))
        common = 0
        for a, b in zip(path, target):
            if a != b:
                break
            common += 1
        # a line defines the key if its path is a prefix of the key, or the key a prefix of it
        if (common == len(path) or common == len(target)) and common > best_len:
            best, best_len = number, common
    return best


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        if not path.exists():
            raise ScenarioError(path, None, "file not found; check the path (relative paths start from the current directory)")
        if path.is_dir():
            raise ScenarioError(path, None, "is a directory; give a scenario .toml file")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, f"is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except OSError as exc:
        raise ScenarioError(path, None, f"cannot be read ({exc.strerror or exc}); check the path and its permissions") from exc
    try:
        return tomllib.loads(text), text
    except RecursionError as exc:
        raise ScenarioError(path, None, "invalid TOML: arrays or tables nested too deeply") from exc
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        shown = ""
        if line is not None and 0 < line <= len(text.splitlines()):
            shown = f" in `{text.splitlines()[line - 1].strip()[:60]}`"
        raise ScenarioError(path, None, f"invalid TOML{shown}: {exc}{_toml_hint(str(exc))}", line) from exc


_TOML_HINTS = (
    ("Cannot overwrite a value", "a key is set twice in the same table; keep one of them"),
    ("Cannot declare", "a table is declared twice; merge the two [..] sections"),
    ("Expected '=' after a key", "write key = value with a half-width '=' and half-width spaces (no ＝ or full-width space)"),
    ("Invalid value", "write numbers with half-width digits and a point (0.30, not ０.３０ or 0,30), text in straight quotes \"...\", and true/false in lower case"),
    ("Expected newline or end of document", "one key = value per line; a decimal comma (0,30) must be a point (0.30)"),
)


def _toml_hint(message: str) -> str:
    for fragment, hint in _TOML_HINTS:
        if fragment in message:
            return f". Hint: {hint}"
    return ""


_YEAR = re.compile(r"[0-9]{4}")


def is_year(key: Any) -> bool:
    return isinstance(key, str) and _YEAR.fullmatch(key) is not None


@dataclass(frozen=True)
class Layer:
    path: Path
    doc: dict[str, Any]
    text: str


def defined_depth(node: Any, parts: list[str]) -> int:
    """How many leading parts of a key path a parsed TOML document sets (dotted names nested or flat)."""
    if not parts or not isinstance(node, dict):
        return 0
    best = 0
    for k in range(1, len(parts) + 1):
        key = ".".join(parts[:k])
        if key in node:
            best = max(best, k + defined_depth(node[key], parts[k:]))
    return best


# -- values in messages, in TOML terms (never Python's repr) -------------------------------------
def toml_text(value: Any, limit: int = 60) -> str:
    """``value`` as it would be written in a TOML file, cut to about ``limit`` characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (dt.date, dt.time)):  # datetime is a date
        text = value.isoformat()
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(toml_text(v, limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{_key(k)} = {toml_text(v, limit)}" for k, v in value.items()) + " }" if value else "{}"
    elif value is None:
        text = "nothing"
    else:  # not produced by tomllib; still no Python internals
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_\-]+", name) else json.dumps(name, ensure_ascii=False)


def describe(value: Any) -> str:
    """A parsed TOML value described in TOML terms: ``a date (2017-03-01)``, ``the text "x"``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return toml_text(value)
    if isinstance(value, str):
        return f"the text {toml_text(value)}"
    if isinstance(value, dt.datetime):
        return f"a date and time ({toml_text(value)})"
    if isinstance(value, dt.date):
        return f"a date ({toml_text(value)})"
    if isinstance(value, dt.time):
        return f"a time of day ({toml_text(value)})"
    if isinstance(value, (list, tuple)):
        return f"an array {toml_text(value)}"
    if isinstance(value, dict):
        return f"a table {toml_text(value)}"
    return toml_text(value)


def decimal_year(day: dt.date) -> float:
    """2017-03-01 -> 2017.16 [year]: the year plus the fraction of it elapsed before ``day``."""
    day = dt.date(day.year, day.month, day.day)  # a datetime counts by its day
    start = dt.date(day.year, 1, 1)
    return day.year + (day - start).days / (dt.date(day.year + 1, 1, 1) - start).days


def found(value: Any, expect: str | None = None) -> str:
    """``"found <value>"`` in TOML terms, with a hint when ``expect`` is "number" or "bool"."""
    text = f"found {describe(value)}"
    if expect == "number":
        if isinstance(value, dt.date):
            text += f"; write a decimal year such as {decimal_year(value):.2f}"
        elif isinstance(value, str) and _looks_numeric(value):
            text += "; write the number without quotes"
    elif expect == "bool" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        text += f"; write {value.strip().lower()} without quotes"
    return text


def _looks_numeric(text: str) -> bool:
    try:
        float(text.strip().replace(",", "."))
    except ValueError:
        return False
    return True


# -- one key reached by two spellings ------------------------------------------------------------
_KEYPART = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_\-]+))\s*')


def parse_key(text: str) -> tuple[list[str], int] | None:
    """The parts of the TOML key at the start of ``text`` and where it ends, or ``None``."""
    parts, pos = [], 0
    while True:
        match = _KEYPART.match(text, pos)
        if not match:
            return None
        basic, literal, bare = match.groups()
        if basic is not None:
            with contextlib.suppress(ValueError):  # an escape JSON does not know: keep it as written
                basic = json.loads(f'"{basic}"')
        parts.append(next(p for p in (basic, literal, bare) if p is not None))
        pos = match.end()
        if not text.startswith(".", pos):
            return parts, pos
        pos += 1


def spelling(parts) -> str:
    """Key parts written as a TOML dotted key: ``propensity.base`` or ``"propensity.base"``."""
    return ".".join(_key(p) for p in parts)


def find_spelling(text: str, parts) -> int | None:
    """Line of the key with exactly these ``parts`` (quotes respected), or of its nearest table."""
    parts = list(parts)
    best, best_len, table = None, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            double = stripped.startswith("[[")
            key = parse_key(stripped[2 if double else 1 :])
            if key is None:
                continue
            table = path = key[0]
        else:
            key = parse_key(line)
            if key is None or not line[key[1] :].startswith("="):
                continue
            path = table + key[0]
        if path == parts[: len(path)] and len(path) > best_len:
            best, best_len = number, len(path)
    return best
