"""The pinned regression file: every target's met count and median, each shipped scenario.

``tests/data/pinned.csv`` holds, for each shipped scenario at seed :data:`SEED` and
:data:`REPLICATIONS` replications, how many replications meet each modelled target (an integer
count, so the comparison is exact) and the target's median value at its deadline (written with
``repr``, the shortest text that reads back to the same float). ``tests/test_pinned.py``
compares a fresh run with it; any change of the model's numbers shows as a diff of this file.

``tests/data/pinned-no-macro.csv`` holds the targets' met counts and medians (of the deadline
values, ``_median``) with every link from the macro layer off (``tests/test_macro.py``), so the
macro layer's effect stays pinned on its own.

Regenerate both (and commit the diff with the change that causes it, saying why)::

    .venv/bin/python -m tests.pinned
"""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np

from model import load_scenario, simulate
from model.links import LINKS
from tests.paths import ROOT

PINNED = ROOT / "tests" / "data" / "pinned.csv"
PINNED_NO_MACRO = ROOT / "tests" / "data" / "pinned-no-macro.csv"
MACRO_LINKS = tuple(name for name, link in LINKS.items() if link.source == "macro")
SCENARIOS = ("baseline", "plan", "accelerated", "pessimistic")
SEED = 20170711  # the command line's default seed
REPLICATIONS = 4000  # two blocks of 2,500, the second partial: every stream layout detail is exercised
COLUMNS = ("scenario", "target_id", "met", "replications", "median")


def _median(values: np.ndarray) -> str:
    """The median as the summary computes it (lower of the two middle values: no interpolation)."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return "nan"
    return repr(float(np.quantile(finite, 0.5, method="inverted_cdf")))


def _summary_median(row) -> str:
    """The summary's median as pinned text: ``inf`` for a milestone never reached, ``nan`` for none."""
    if row["median_never"]:
        return "inf"
    return "nan" if np.isnan(row["median"]) else repr(float(row["median"]))


def pinned_rows(scenario: str) -> list[dict[str, str]]:
    """The pinned rows of one shipped scenario, from a fresh run (one worker): every modelled
    target's met count and the summary's median, then every joint view's count of replications
    meeting it (``joint:<view>``; for ``met_count`` the total of targets met over replications)."""
    results = simulate(load_scenario(ROOT / "scenarios" / f"{scenario}.toml"), REPLICATIONS, SEED)
    summary = results.summary.set_index("target_id")
    rows = [
        {"scenario": scenario, "target_id": target_id, "met": str(int(met.sum())),
         "replications": str(met.size), "median": _summary_median(summary.loc[target_id])}
        for target_id, met in sorted(results.met.items())
    ]
    n = results.replications
    for view in results.joint.itertuples(index=False):
        count = view.mean * n if view.view == "met_count" else view.probability * n
        rows.append({"scenario": scenario, "target_id": f"joint:{view.view}", "met": str(int(round(count))),
                     "replications": str(n), "median": repr(float(view.p50)) if view.view == "met_count" else ""})
    return rows


def no_macro_rows(scenario: str) -> list[dict[str, str]]:
    """Every modelled target's met count and median deadline value with the macro links off."""
    loaded = load_scenario(ROOT / "scenarios" / f"{scenario}.toml")
    off = dataclasses.replace(loaded, links={**loaded.links, **{m: False for m in MACRO_LINKS}})
    results = simulate(off, REPLICATIONS, SEED)
    return [{"scenario": scenario, "target_id": t, "met": str(int(m.sum())), "replications": str(m.size),
             "median": _median(results.values[t])} for t, m in sorted(results.met.items())]


def render(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_pinned() -> list[dict[str, str]]:
    with open(PINNED, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


if __name__ == "__main__":
    PINNED.write_text(render([row for s in SCENARIOS for row in pinned_rows(s)]), encoding="utf-8")
    PINNED_NO_MACRO.write_text(render([row for s in SCENARIOS for row in no_macro_rows(s)]), encoding="utf-8")
    print(f"wrote {PINNED.relative_to(ROOT)} and {PINNED_NO_MACRO.relative_to(ROOT)}")
