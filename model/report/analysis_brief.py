"""The brief's sections from analyses of the same run (``python -m model brief RUN --analysis DIR``).

``discover`` (:mod:`model.discover`, one analysis per goal): "目标为何可能落空 / Why the goals may
fail", each goal's first PRIM box in one plain sentence. ``levers`` (:mod:`model.ranking`):
"哪些措施最管用 / Which measures matter most", the three
measures with the largest effect on each goal, their planning range, the likelihood at both
ends and the paired change, and the tornado chart. An analysis belongs to a run when its
scenario hash, seed and replications are the run's (and its observed figures, if any); any other
is refused by name, so a brief never mixes two runs' numbers.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import read_analysis
from ..ranking import end_text, planned_levers
from ..readable import change_text, percent_text
from ..runs import Run
from ..targets import load_registry
from ..variants import plain_name
from ..verify import RunError
from .brief_data import pct

__all__ = ["analysis_blocks"]

SAME_RUN = ("scenario_hash", "seed", "replications", "observed_sha256")
LEVERS_PER_GOAL = 3


def _check_same_run(run: Run, manifest: dict[str, Any], path: Path) -> None:
    for key in SAME_RUN:
        if manifest.get(key) != run.manifest.get(key):
            raise RunError(path, f"is an analysis of another run ({key} {manifest.get(key)!r}, the run's "
                           f"{run.manifest.get(key)!r})", "run the analysis on this run's scenario, seed and "
                           "replications, or make the brief without it")


def image_uri(path: Path) -> str:
    """A PNG file as a data URI, for a brief to embed."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def levers_block(path: Path, lang: str) -> dict[str, Any]:
    """Rows per goal and the tornado chart of a ``levers`` analysis."""
    table = pd.read_csv(path / "levers.csv", encoding="utf-8-sig")
    specs = {spec.key: spec for spec in planned_levers()}
    registry = {t.id: t for t in load_registry()}
    goals = []
    for target_id, rows in table.groupby("target_id", sort=False):
        target = registry[target_id]
        items = []
        for _, row in rows.sort_values("rank").head(LEVERS_PER_GOAL).iterrows():
            spec = specs.get(row["lever"])
            if spec is None:
                continue
            items.append({
                "name": plain_name(spec.about.zh if lang == "zh" else spec.about.en),
                "range": f"{end_text(spec, spec.planning.low, lang)} → {end_text(spec, spec.planning.high, lang)}",
                "low": percent_text(row["probability_at_low"]), "high": percent_text(row["probability_at_high"]),
                "change": change_text(row["effect"]),
                "interval": f"{change_text(row['effect_low'])} – {change_text(row['effect_high'])}",
            })
        goals.append({"name": target.name_zh if lang == "zh" else target.name_en, "year": target.deadline.year,
                      "p": pct(rows["probability"].iloc[0]), "levers": items})
    chart = path / f"tornado.{lang}.png"
    return {"goals": goals, "chart": image_uri(chart) if chart.is_file() else None}


def discover_item(manifest: dict[str, Any], lang: str) -> dict[str, Any]:
    """The target and the plain sentence of a ``discover`` analysis (``python -m model discover``)."""
    settings = manifest.get("settings", {})
    target = {t.id: t for t in load_registry()}.get(settings.get("target"))
    sentence = settings.get("sentences", {}).get(lang, "")
    name = "" if target is None else (f"{target.name_zh}（{target.deadline.year}年）" if lang == "zh" else
                                      f"{target.name_en} ({target.deadline.year})")
    return {"name": name, "sentence": sentence}


def analysis_blocks(run: Run, paths: list[Path] | tuple[Path, ...], lang: str) -> dict[str, Any]:
    """``{"levers": ...}`` from the analysis directories ``paths`` of ``run`` (each checked)."""
    blocks: dict[str, Any] = {}
    for path in map(Path, paths):
        manifest = read_analysis(path)
        _check_same_run(run, manifest, path)
        if manifest["analysis"] == "levers":
            blocks["levers"] = levers_block(path, lang)
        elif manifest["analysis"] == "discover":  # one per target: their sentences, in the order given
            blocks.setdefault("discover", []).append(discover_item(manifest, lang))
        else:
            raise RunError(path, f"is a {manifest['analysis']!r} analysis, which the brief does not show yet",
                           "pass a levers or discover analysis")
    return blocks
