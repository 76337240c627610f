"""The 19 districts of the tech-renovation annex and their 2017 figures, read once from
``model/data/districts.toml`` (the one copy; its source is given there)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DISTRICTS_FILE = Path(__file__).resolve().parent.parent / "data" / "districts.toml"


@dataclass(frozen=True)
class District:
    """One row of the annex (技术改造2017年攻坚目标任务分解表)."""

    id: str  # pinyin, as in target and indicator ids
    zh: str  # the annex's short name
    zh_full: str
    kind: str  # town, sub-district, development zone, ...
    en: str
    industrial_investment: float  # 2017 target [亿元]
    investment: float  # 2017 tech-renovation investment target [亿元]
    firms: int  # 2017 above-scale firms carrying out tech renovation [firms]


def load_districts(path: Path = DISTRICTS_FILE) -> tuple[District, ...]:
    """The annex's districts in its order."""
    with path.open("rb") as fh:
        rows = tomllib.load(fh)["districts"]
    return tuple(
        District(r["id"], r["zh"], r["zh_full"], r["kind"], r["en"], float(r["industrial_investment"]),
                 float(r["investment"]), int(r["firms"]))
        for r in rows
    )


#: The annex's districts, in its order.
DISTRICTS: tuple[District, ...] = load_districts()
