"""Text from users' files, made safe to print: control characters shown as escapes.

A scenario file or a saved run can hold escape sequences, NUL or bell characters (in a key, a
value, a file name). Echoed raw into a terminal they can rewrite the screen or hide the real
message, so every message that quotes such text passes it through :func:`printable`.
"""

from __future__ import annotations

import re

__all__ = ["cell_text", "printable"]

# C0 and C1 controls, DEL, and the invisible characters that reorder or hide text (bidi
# overrides and isolates, zero-width characters, line and paragraph separators, BOM).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control or invisible formatting character written as an escape.

    >>> printable("plan\\x1b[2J.toml")
    'plan\\\\x1b[2J.toml'
    """
    return _UNSAFE.sub(_escape, str(text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell_text(value: object) -> object:
    """A value for a CSV cell: text a spreadsheet would read as a formula is neutralised;
    numbers, plain numbers written as text (``-0.05``) and missing values pass unchanged.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe, as the OWASP guidance on CSV injection says, so Excel, WPS and LibreOffice show
    it as text instead of evaluating it. Control characters are escaped as well.
    """
    if not isinstance(value, str):
        return value
    text = value
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        text = "'" + text
    return printable(text) if _UNSAFE.search(text) else text
