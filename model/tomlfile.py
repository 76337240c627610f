"""Reading scenario files: TOML parsing, the error users see, and finding a key's line.

Scenario files are data: they are parsed with :mod:`tomllib` and never evaluated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from .printable import printable
from .timeline import decimal_year

#: Largest scenario file read [bytes]: the shipped ones are about 10 kB.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of tables, arrays and dotted keys in a scenario file: the deepest real key
#: (``uncertainties.module."a.b" = { dist = ..., values = [...] }``) is five levels.
MAX_DEPTH = 12


class ScenarioError(ValueError):
    """A user's scenario file is wrong. ``str()`` is the one line to show them."""

    def __init__(self, file: str | Path, key: str | None, message: str, line: int | None = None):
        self.file, self.key, self.message, self.line = str(file), key, message, line
        where = self.file + (f":{line}" if line else "")
        # file names, keys and values come from users' files: never echo control characters
        super().__init__(printable(f"{where}: {key}: {message}" if key else f"{where}: {message}"))


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


def _read_text(path: Path) -> str:
    """The file's text, refusing anything but a regular UTF-8 file of at most MAX_FILE_BYTES.

    The file is opened without blocking and checked on the open descriptor, so a FIFO, a
    device or a file swapped in after the check never makes the loader wait or read forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise ScenarioError(path, None,
                                "is a symbolic link to a file that does not exist; check the link") from None
        raise ScenarioError(path, None,
                            "file not found; check the path "
                            "(relative paths start from the current directory)") from None
    except IsADirectoryError:
        raise ScenarioError(path, None, "is a directory; give a scenario .toml file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ScenarioError(path, None, "is a loop of symbolic links; point it at a real file") from None
        raise ScenarioError(path, None,
                            f"cannot be read ({exc.strerror or exc}); check the path and its permissions") from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):  # Linux opens a folder read-only; reading it is what fails
        os.close(fd)
        raise ScenarioError(path, None, "is a directory; give a scenario .toml file")
    with open(fd, "rb", closefd=True) as fh:
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(path, None,
                                "is not a regular file (a pipe, socket or device); give a scenario .toml file")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(path, None, f"is {info.st_size:,} bytes; a scenario file may hold at most "
                                f"{MAX_FILE_BYTES:,} (the shipped ones are about 10 kB)")
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(path, None, f"holds more than {MAX_FILE_BYTES:,} bytes, the most a scenario file may hold")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, f"is not UTF-8 text ({exc.reason}); save it as UTF-8") from None


def _too_deep(doc: dict[str, Any]) -> list[str] | None:
    """The key path of the first value nested deeper than MAX_DEPTH, or None (no recursion)."""
    stack: list[tuple[Any, list[str]]] = [(doc, [])]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return path
        if isinstance(node, dict):
            stack.extend((v, path + [str(k)]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, path + [f"[{i}]"]) for i, v in enumerate(node))
    return None


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a scenario file: a regular UTF-8 TOML file, at most MAX_FILE_BYTES, MAX_DEPTH deep."""
    text = _read_text(path)
    try:
        doc = tomllib.loads(text)
    except RecursionError as exc:
        raise ScenarioError(path, None,
                            f"invalid TOML: arrays or tables nested too deeply (at most {MAX_DEPTH} levels)") from exc
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        shown = ""
        if line is not None and 0 < line <= len(text.splitlines()):
            shown = f" in `{text.splitlines()[line - 1].strip()[:60]}`"
        raise ScenarioError(path, None, f"invalid TOML{shown}: {exc}{_toml_hint(str(exc))}", line) from exc
    deep = _too_deep(doc)
    if deep is not None:
        shown = ".".join(deep[:4]) + ".…"
        raise ScenarioError(path, shown, f"nested more than {MAX_DEPTH} levels deep (tables, arrays or dotted key "
                            "parts); no scenario key is that deep, check the key", find_line(text, ".".join(deep[:2])))
    return doc, text


_TOML_HINTS = (
    ("Cannot overwrite a value", "a key is set twice in the same table; keep one of them"),
    ("Cannot declare", "a table is declared twice; merge the two [..] sections"),
    ("Expected '=' after a key",
     "write key = value with a half-width '=' and half-width spaces (no ＝ or full-width space)"),
    ("Invalid value",
     "write numbers with half-width digits and a point (0.30, not ０.３０ or 0,30), "
     "text in straight quotes \"...\", and true/false in lower case"),
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
        text = ("{ " + ", ".join(f"{_key(k)} = {toml_text(v, limit)}" for k, v in value.items()) + " }"
                if value else "{}")
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
