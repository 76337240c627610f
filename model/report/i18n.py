"""The locale tables of charts and briefs (``model/report/locale/<lang>.toml``).

Every phrase a planner reads comes from these tables; code holds none. Phrases may hold
``{name}`` placeholders filled with :meth:`str.format` (or ``Markup.format`` in templates,
which escapes what is filled in).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("zh", "en")


@cache
def load_locale(lang: str = "zh") -> dict[str, Any]:
    """The phrase table of ``lang`` (``"zh"`` or ``"en"``) as nested dicts.

    Raises
    ------
    ValueError
        For a language without a table.
    """
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, found {lang!r}")
    with open(LOCALE_DIR / f"{lang}.toml", "rb") as fh:
        return tomllib.load(fh)


def target_name(row: Any, lang: str) -> str:
    """A target's (or indicator's) name in ``lang`` from a row holding name_zh / name_en."""
    return str(row["name_zh"] if lang == "zh" else row["name_en"])
