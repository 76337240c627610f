"""The brief's sensitivity-analysis section of a sweep folder (``python -m model sweep``).

A sweep folder is a comparison directory with ``sweep.csv`` (:func:`model.sweep.sweep_table`):
its brief is the comparison brief with one more section, "敏感性分析 / Sensitivity analysis",
holding the sweep's chart (:mod:`.sweep_chart`) as the folder has it (``sweep.<lang>.png``),
or drawn again from ``sweep.csv`` when that file is missing. Numbers only; the phrases are
``h_sweep`` and ``sweep_intro`` of the ``[brief]`` table of ``locale/<lang>.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..params import lever_specs
from ..variants import plain_name
from .analysis_brief import image_uri
from .sweep_chart import sweep_chart

__all__ = ["sweep_block"]


def sweep_block(path: str | Path, lang: str, png) -> dict[str, Any] | None:
    """The lever's name and the chart (a PNG data URI) of the sweep folder ``path``, or None when
    ``path`` is not a sweep; ``png`` turns a figure into a data URI (the brief's own)."""
    path = Path(path)
    table_file = path / "sweep.csv"
    if not table_file.is_file():
        return None
    tidy = pd.read_csv(table_file, encoding="utf-8-sig", dtype={"value": str})
    key = str(tidy["lever"].iloc[0]) if len(tidy) else ""
    spec = lever_specs().get(key)
    name = plain_name(spec.about.zh if lang == "zh" else spec.about.en) if spec is not None else key
    image = path / f"sweep.{lang}.png"
    if image.is_file():
        uri = image_uri(image)
    else:
        uri = png(sweep_chart(tidy, lang=lang))
    return {"lever": name, "key": key, "uri": uri}
