"""What the command line prints for people, in Chinese or English, within the terminal's width.

``run`` prints a compact view by default (:func:`run_lines`): the three headline goals, how many
targets have each traffic light, and the ten riskiest targets; with ``--all`` every target and the
details. Names come from the registry, tests with ≥ and units (家, 个), lights as 红灯 / 黄灯 /
绿灯, likelihoods as :func:`model.readable.percent_text` writes them. Every table is cut to the
terminal's width (:func:`terminal_width`, 80 columns when it cannot be told), counting a CJK
character as two columns. Phrases are the locale's ``[terminal]`` table.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

import pandas as pd

from .console import WIDTH, format_table, interval, wrap
from .drivers import MIN_REPLICATIONS
from .plans import HEADLINE_2020, PLANS
from .readable import change_text, display_width, light_text, number_text, percent_text, test_label
from .report.i18n import load_locale
from .runs import Run
from .tables import milestone_text
from .targets import load_registry

RISKIEST = 10  # rows of the compact run view's risk table
NAME_ROOM = 24  # display columns a table leaves for target names at least (before it drops a column)


def terminal_width(limit: int | None = None) -> int:
    """The terminal's width in columns (``COLUMNS`` if set; 80 when not a terminal), at most
    ``limit``, at least 40."""
    columns = shutil.get_terminal_size((WIDTH, 24)).columns
    return max(40, min(columns, limit) if limit else columns)


def phrase(lang: str, key: str, **fill) -> str:
    """A phrase of the locale's ``[terminal]`` table, filled in; ``<key>_one`` instead when
    ``n`` is 1 and the locale has it (English singulars: "1 worker", "2 workers")."""
    table = load_locale(lang)["terminal"]
    if str(fill.get("n")) == "1" and f"{key}_one" in table:
        key = f"{key}_one"
    return str(table[key]).format(**fill)


def _name(row, lang: str) -> str:
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


def _median(row) -> str:
    if row["unit"] == "date":
        return milestone_text(row["median"], bool(row["median_never"]))
    return number_text(row["median"], 2)


def target_table(rows: pd.DataFrame, lang: str, width: int, *, full: bool = False,
                 interval_column: bool = False) -> str:
    """Rows of a summary as a table of ``width`` columns: name, deadline, test, likelihood,
    (with ``interval_column`` or ``full`` the 95 % interval, with ``full`` the median), light.
    Names too long for the width are continued on the next lines."""
    t = load_locale(lang)["terminal"]
    columns = {
        t["col_target"]: [_name(r, lang) for _, r in rows.iterrows()],
        t["col_deadline"]: [str(d) for d in rows["deadline"]],
        t["col_test"]: [test_label(x, u, lang) for x, u in zip(rows["test"], rows["unit"])],
        t["col_p"]: [percent_text(p) for p in rows["probability"]],
    }
    if interval_column or full:
        columns[t["col_interval"]] = [interval(lo, hi) for lo, hi in zip(rows["probability_low"],
                                                                          rows["probability_high"])]
    if full:
        columns[t["col_median"]] = [_median(r) for _, r in rows.iterrows()]
    columns[t["col_light"]] = [light_text(s, lang) for s in rows["status"]]
    for optional in (t["col_median"], t["col_interval"]):  # dropped, in this order, to leave names room
        rest = sum(max([display_width(k)] + [display_width(v) for v in values]) + 2
                   for k, values in columns.items() if k != t["col_target"])
        if optional in columns and width - rest < NAME_ROOM:
            del columns[optional]
    right = (t["col_p"], t["col_interval"], t["col_median"])
    return format_table(columns, right=right, width=width, shrink=t["col_target"], fold=True)


def _plan_level(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[~summary["target_id"].str.contains(".district.", regex=False)]


def counts_lines(summary: pd.DataFrame, lang: str, width: int) -> list[str]:
    """How many modelled plan-level targets have each light; the district targets' mean."""
    plan = _plan_level(summary)
    plan = plan[plan["probability"].notna()]
    status = plan["status"].value_counts()
    lines = wrap(phrase(lang, "counts", modelled=len(plan), **{k: int(status.get(k, 0)) for k in
                                                               ("red", "amber", "green")}), width=width)
    districts = summary[summary["target_id"].str.contains(".district.", regex=False) & summary["probability"].notna()]
    if len(districts):
        lines += wrap(phrase(lang, "districts", n=len(districts), p=percent_text(districts["probability"].mean())),
                      width=width)
    return lines


def run_lines(run: Run, lang: str, show_all: bool = False, path: str = "RUN_DIR",
              width: int | None = None) -> list[str]:
    """A run as the terminal shows it: compact (headline goals, counts by light, the ten riskiest
    targets), or with ``show_all`` every target under its plan's heading."""
    width = width or terminal_width(None if show_all else WIDTH)
    summary = run.summary
    lines: list[str] = []
    if show_all:
        lines += ["", phrase(lang, "h_all")]
        for plan, rows in summary.groupby("plan", sort=False):  # a table per plan keeps 139 rows readable
            zh, en = PLANS.get(plan, (plan, plan))
            lines += [f"-- {zh if lang == 'zh' else en}", target_table(rows, lang, width, full=True)]
        lines += counts_lines(summary, lang, width)
    else:
        by_id = summary.set_index("target_id", drop=False)
        headline = by_id.loc[[i for i in HEADLINE_2020 if i in by_id.index]]
        lines += ["", phrase(lang, "h_headline"), target_table(headline, lang, width, interval_column=True)]
        head = run.joint.set_index("view").loc["headline_2020"]
        lines += wrap(phrase(lang, "together", p=percent_text(head["probability"]),
                             interval=interval(head["probability_low"], head["probability_high"])), width=width)
        lines += counts_lines(summary, lang, width)
        plan = _plan_level(summary)
        risky = plan[plan["probability"].notna()].sort_values("probability", kind="stable").head(RISKIEST)
        lines += ["", phrase(lang, "h_riskiest", n=len(risky)), target_table(risky, lang, width)]
    not_modelled = int(summary["probability"].isna().sum())
    if not_modelled:
        lines += wrap(phrase(lang, "not_modelled", n=not_modelled), width=width)
    if not show_all:
        lines += wrap(phrase(lang, "more", path=path), width=width)
    return lines


def drivers_lines(run: Run, target_ids: Sequence[str], lang: str, width: int | None = None) -> list[str]:
    """The strongest drivers of each target (:mod:`model.drivers`), as the run holds them."""
    width = width or terminal_width()
    t = load_locale(lang)["terminal"]
    registry = {x.id: x for x in load_registry()}
    drivers = run.drivers if run.drivers is not None else pd.DataFrame(columns=["target_id", "rank"])
    lines = wrap(phrase(lang, "h_drivers"), indent="", hang="   ", width=width)
    for target_id in target_ids:
        target = registry[target_id]
        name = target.name_zh if lang == "zh" else target.name_en
        lines += [""] + wrap("-- " + phrase(lang, "drivers_target", name=name, year=target.deadline.year,
                                            p=percent_text(run.probability(target_id))), indent="", hang="   ",
                             width=width)
        table = drivers[drivers["target_id"] == target_id].sort_values("rank")
        if table.empty:
            n = run.replications
            key = "drivers_few" if n < MIN_REPLICATIONS else "drivers_none" if n < 5_000 else "drivers_chance"
            lines += wrap(phrase(lang, key, n=f"{n:,}", least=MIN_REPLICATIONS), width=width)
            continue
        names = table["name_zh"] if lang == "zh" else table["name_en"]
        columns = {"#": [str(r) for r in table["rank"]], t["col_uncertainty"]: [str(x) for x in names],
                   t["col_if_low"]: [percent_text(x) for x in table["probability_low"]],
                   t["col_if_high"]: [percent_text(x) for x in table["probability_high"]],
                   t["col_swing"]: [change_text(x) for x in table["swing"]]}
        right = ("#", t["col_if_low"], t["col_if_high"], t["col_swing"])
        lines.append(format_table(columns, right=right, width=width, shrink=t["col_uncertainty"]))
    return lines


def targets_table(targets, lang: str, width: int | None = None) -> str:
    """The registry (``python -m model targets``): id, name (cut to fit), deadline, test, what
    models it and who is responsible."""
    width = width or terminal_width()
    t = load_locale(lang)["terminal"]
    columns = {
        t["col_id"]: [x.id for x in targets],
        t["col_target"]: [x.name_zh if lang == "zh" else x.name_en for x in targets],
        t["col_deadline"]: [x.deadline.isoformat() for x in targets],
        t["col_test"]: [test_label(x.test(), x.unit, lang) + (t["reading"] if x.reading else "") for x in targets],
    }
    wide = {**columns, t["col_modelled_by"]: [x.indicator if x.modelled else t["not_modelled_yet"] for x in targets],
            t["col_responsible"]: ["、".join(x.responsible) for x in targets]}
    text = format_table(wide)
    if max(display_width(line) for line in text.split("\n")) <= width:  # room for what models it and who
        return text
    text = format_table(columns, width=width, shrink=t["col_target"], fold=True)
    if max(display_width(line) for line in text.split("\n")) <= width:
        return text
    lines = []  # too narrow for a table: the id, deadline and test, then the name below them
    for i, x in enumerate(targets):
        lines += wrap("  ".join(columns[k][i] for k in (t["col_id"], t["col_deadline"], t["col_test"])),
                      indent="", hang="    ", width=width)
        lines += wrap(columns[t["col_target"]][i], indent="    ", hang="", width=width)
    return "\n".join(lines)


def _label(row, lang: str) -> str:
    year = str(row["deadline"])[:4]
    return f"{_name(row, lang)}（{year}年）" if lang == "zh" else f"{_name(row, lang)} ({year})"


def _points(change: float, low: float, high: float) -> str:
    if pd.isna(change):
        return ""
    return f"{change_text(change)} [{change_text(low)}, {change_text(high)}]"


def _room(columns: dict[str, list[str]], name_column: str) -> int:
    """Display columns a table takes besides its ``name_column`` (cells and the gaps between)."""
    return sum(max([display_width(k)] + [display_width(v) for v in values]) + 2
               for k, values in columns.items() if k != name_column)


def compare_table(table: pd.DataFrame, lang: str, top: int = 10, show_all: bool = False,
                  width: int | None = None) -> tuple[str, int, str]:
    """The long comparison table (:func:`model.compare.comparison_table`) for the terminal:
    modelled targets, largest |change| first, the ``top`` marked ``*``; names with their
    deadline year, a likelihood column per scenario, a change column (percentage points, paired
    95 % interval) per scenario but the reference. District targets only with ``show_all``.

    When that leaves the names less than NAME_ROOM of ``width`` (three scenarios or more at 80
    columns), the intervals are left out (they are in comparison.csv), and if that is not
    enough, each scenario but the reference gets one column holding its likelihood and its
    change (``82.5% +32.0``).

    Returns the table, the number of district rows left out, and the key of the note (in the
    locale's ``[terminal]`` table) that says what the columns hold.
    """
    width = width or terminal_width()
    t = load_locale(lang)["terminal"]
    names = list(dict.fromkeys(table["scenario"]))
    order = list(dict.fromkeys(table["target_id"]))
    by = {n: table[table["scenario"] == n].set_index("target_id").reindex(order) for n in names}
    rows = by[names[0]][by[names[0]]["probability"].notna()]
    districts = rows.index.str.contains(".district.", regex=False)
    hidden = 0 if show_all else int(districts.sum())
    if not show_all:
        rows = rows[~districts]
    changes = pd.concat([by[n]["change"].reindex(rows.index).abs() for n in names[1:]], axis=1)
    score = changes.max(axis=1) if names[1:] else pd.Series(0.0, index=rows.index)
    ids = list(score.sort_values(ascending=False, kind="mergesort").index)
    first: dict[str, list[str]] = {
        " ": ["*" if i < top and s > 0 else "" for i, s in enumerate(score[ids])],
        t["col_target"]: [_label(rows.loc[i], lang) for i in ids],
    }
    likelihood = {n: [percent_text(p) for p in by[n].loc[ids, "probability"]] for n in names}
    parts = {n: by[n].loc[ids] for n in names[1:]}
    layouts = []
    for with_interval, note in ((True, "compare_note"), (False, "compare_note_short")):
        columns = {**first, **likelihood}
        for n, part in parts.items():
            columns[phrase(lang, "col_change", name=n, reference=names[0])] = [
                _points(c, lo, hi) if with_interval else change_text(c)
                for c, lo, hi in zip(part["change"], part["change_low"], part["change_high"])]
        layouts.append((columns, note))
    merged = {**first, names[0]: likelihood[names[0]]}
    for n, part in parts.items():  # one column per scenario: its likelihood and its change, each aligned
        moved = [change_text(c) for c in part["change"]]
        room = max([0] + [display_width(m) for m in moved])
        merged[n] = [f"{p} {m.rjust(room)}" if p else "" for p, m in zip(likelihood[n], moved)]
    layouts.append((merged, "compare_note_merged"))
    columns, note = next(((c, k) for c, k in layouts if width - _room(c, t["col_target"]) >= NAME_ROOM),
                         layouts[-1])
    right = tuple(c for c in columns if c not in (" ", t["col_target"]))
    text = format_table(columns, right=right, width=width, shrink=t["col_target"], fold=True)
    return text, hidden, note


def department_lines(run: Run, lang: str, width: int | None = None) -> list[str]:
    """``run --by-department``: each responsible unit's plan-level targets (lowest likelihood
    first, its role after the name), its district targets summed up in a line."""
    width = width or terminal_width()
    summary = run.summary.drop(columns=["name_zh", "name_en"])
    lines = ["", phrase(lang, "h_departments", name=run.name)]
    for unit, rows in run.departments.groupby("unit", sort=False):
        first = rows.iloc[0]  # the unit's names
        rows = rows[["target_id", "role", "name_zh", "name_en"]].merge(summary, on="target_id", how="left")
        role = rows["role"].map(lambda r: phrase(lang, f"role_{r}") if r in ("lead", "support") else r)
        rows["name_zh"] = rows["name_zh"] + "（" + role + "）"
        rows["name_en"] = rows["name_en"] + " (" + role + ")"
        district = rows["target_id"].str.contains(".district.", regex=False)
        lines += [""] + wrap("-- " + phrase(lang, "department", short=unit, zh=first["unit_zh"], en=first["unit_en"],
                                    n=len(rows), modelled=int(rows["probability"].notna().sum()),
                                    red=int((rows["status"] == "red").sum())), indent="", hang="   ", width=width)
        if (~district).any():
            lines.append(target_table(rows[~district], lang, width, interval_column=True))
        if district.any():
            low = rows[district].sort_values("probability", kind="stable").iloc[0]
            lines += wrap(phrase(lang, "department_districts", n=int(district.sum()),
                                 p=percent_text(rows.loc[district, "probability"].mean()), lowest=_name(low, lang),
                                 low=percent_text(low["probability"])), width=width)
    return lines
