"""Finding a font that draws Chinese, for charts (matplotlib) and briefs (WeasyPrint).

Nothing happens at import. :func:`cjk_font` looks the font up when a chart or a brief is
made and remembers the answer for the process; :func:`font_rc` gives the rcParams to draw
with, to be used through ``matplotlib.rc_context`` (never set globally).
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from contextlib import suppress
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager

#: Font families that draw simplified Chinese, in order of preference.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Droid Sans Fallback",
    "Arial Unicode MS",
)
#: Chinese fonts of Windows (and macOS) a screen reader of the HTML brief most likely has,
#: tried before the font found here (which the PDF embeds).
SCREEN_FAMILIES = ("Microsoft YaHei", "微软雅黑", "SimHei", "黑体", "PingFang SC")
#: Latin fallback after the CJK font (matplotlib falls back glyph by glyph).
LATIN_FAMILY = "DejaVu Sans"


def _known_families() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _fc_list_files() -> list[tuple[str, Path]]:
    """(family, file) of the system's Chinese fonts as fontconfig sees them; [] without fc-list."""
    if shutil.which("fc-list") is None:
        return []
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file", "family"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        file, _, families = line.partition(":")
        for family in families.split(","):
            found.append((family.strip(), Path(file.strip())))
    return found


def _refresh_cache(files: list[Path]) -> None:
    """Add fonts matplotlib's (stale) cache does not know and write the cache again."""
    for file in files:
        try:
            font_manager.fontManager.addfont(str(file))
        except (OSError, RuntimeError, ValueError):  # a file fontconfig lists but FreeType rejects
            continue
    cache_file = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
    with suppress(OSError):  # a read-only cache directory: the fonts are still known in this process
        font_manager.json_dump(font_manager.fontManager, cache_file)


@cache
def cjk_font() -> str | None:
    """Name of an installed font family that draws Chinese, or None (with one warning).

    Looks in matplotlib's font list first; if none of :data:`CJK_FAMILIES` is there but
    ``fc-list`` shows one (matplotlib's font cache predates the font's installation), the
    font is added and the cache rewritten, once per process.

    Returns
    -------
    str or None
        A family name usable in matplotlib and in CSS ``font-family``.
    """
    known = _known_families()
    for family in CJK_FAMILIES:
        if family in known:
            return family
    system = _fc_list_files()
    wanted = [(family, file) for family, file in system if family in CJK_FAMILIES]
    if wanted:
        _refresh_cache(sorted({file for _, file in wanted}))
        known = _known_families()
        for family in CJK_FAMILIES:
            if family in known:
                return family
    warnings.warn(
        "no Chinese font found (looked for " + ", ".join(CJK_FAMILIES[:4]) + " ...): Chinese text in charts "
        "and PDF briefs will show as boxes; install one, e.g. `apt-get install fonts-wqy-microhei`",
        UserWarning,
        stacklevel=2,
    )
    return None


def font_rc() -> dict[str, object]:
    """rcParams for a chart: the Chinese font first, text in SVG output stored as paths."""
    family = cjk_font()
    families = ([family] if family else []) + [LATIN_FAMILY]
    return {
        # family names, not the generic "sans-serif": a Text keeps them, so a figure built in
        # this context draws with them later too (when saved or shown in a notebook)
        "font.family": families,
        "axes.unicode_minus": False,  # CJK fonts often lack U+2212; a hyphen-minus always draws
        "svg.fonttype": "path",
    }
