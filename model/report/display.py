"""Tables of a run or a comparison as a planner reads them in a notebook.

Each function takes a frame the API returns (``Results.summary``, ``.joint``, ``.departments``,
``.drivers``, :func:`model.compare`, :func:`model.sweep.sweep_table`) and gives a
:class:`pandas.io.formats.style.Styler`: Chinese (or English) column headings from the locale
table, target names instead of ids, likelihoods as percentages that never print a non-zero
value as 0 (``<0.1%``), changes in percentage points, the traffic light coloured. The frames
themselves keep their stable English columns and fractions for programs.

    from model.report import display as show
    show.summary_view(results.summary, lang="zh")
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from ..params import module_params
from ..readable import change_text, lever_text, percent_text
from ..sweep import reach_text
from ..tables import traffic_light
from ..targets import load_registry
from . import brief_data as bd
from .charts import COLOURS, target_label
from .i18n import load_locale, target_name

__all__ = [
    "change_text",
    "Framed",
    "change_view",
    "departments_view",
    "drivers_view",
    "joint_view",
    "percent_text",
    "summary_view",
    "sweep_view",
    "wide_view",
]

BACKGROUND = {"green": "#e3f1e4", "amber": "#fdf1cc", "red": "#f8dcdc"}


def _interval(low: float, high: float) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{percent_text(low)}–{percent_text(high)}"


def _light_style(light: str) -> str:
    return f"background-color: {BACKGROUND[light]}; color: {COLOURS[light]}" if light in BACKGROUND else ""


def _styled(frame: pd.DataFrame, numeric: Sequence[str] = (), nowrap: Sequence[str] = ()) -> Styler:
    """Left-aligned text, ``numeric`` columns right-aligned, neither they nor ``nowrap`` broken
    across lines, and the first column (a name) at least 14 characters wide."""
    right = [c for c in numeric if c in frame.columns]
    whole = [c for c in nowrap if c in frame.columns]
    style = frame.style.hide(axis="index").set_properties(**{"text-align": "left"})
    style = style.set_properties(subset=[frame.columns[0]], **{"min-width": "14em"})
    if right:
        style = style.set_properties(subset=right, **{"text-align": "right", "white-space": "nowrap"})
    if whole:
        style = style.set_properties(subset=whole, **{"white-space": "nowrap"})
    return style.set_table_styles([{"selector": "th", "props": "text-align: left"},
                                   {"selector": "caption", "props": "text-align: left; padding: 4px 0"}])


def summary_view(summary: pd.DataFrame, lang: str = "zh", *, districts: bool = False, sort: bool = True) -> Styler:
    """The likelihood of each target: name, deadline, test, likelihood, 95 % interval, median
    projection, traffic light and responsible units.

    Parameters
    ----------
    summary : DataFrame
        ``Results.summary`` (or a run's ``summary.csv``).
    lang : {"zh", "en"}
    districts : bool
        Keep the per-district targets (left out by default).
    sort : bool
        Lowest likelihood first (unmodelled targets last); else in registry order.
    """
    loc = load_locale(lang)["brief"]
    rows = summary if districts else summary[~summary["target_id"].str.contains(".district.", regex=False)]
    if sort:
        rows = rows.sort_values("probability", kind="stable", na_position="last")
    shown = [bd.target_row(r, lang) for _, r in rows.iterrows()]
    cols = [loc[k] for k in ("col_target", "col_deadline", "col_test", "col_p", "col_interval", "col_median",
                             "col_light", "col_responsible")]
    frame = pd.DataFrame([[s["name"], s["deadline"], s["test"], percent_text(p), _interval(lo, hi), s["median"],
                           loc[f"light_{s['light']}"], s["responsible"]]
                          for s, p, lo, hi in zip(shown, rows["probability"], rows["probability_low"],
                                                  rows["probability_high"])], columns=cols)
    lights = pd.Series([s["light"] for s in shown], index=frame.index)
    style = _styled(frame, numeric=cols[3:6], nowrap=cols[1:3] + cols[6:7])
    return style.apply(lambda col: [_light_style(x) for x in lights], subset=[loc["col_light"]])


def joint_view(joint: pd.DataFrame, lang: str = "zh") -> Styler:
    """The plans as a whole (``Results.joint``): the likelihood that every modelled target of a
    plan (or of all plans) is met, and how many plan-level targets are met."""
    loc = load_locale(lang)["table"]
    keys = ("col_group", "col_targets", "col_modelled", "col_all_met", "col_met_mean", "col_met_range")
    cols = [loc[k] for k in keys]
    rows = []
    for _, r in joint.iterrows():
        count = r["view"] == "met_count"  # the number of plan-level targets met, not a likelihood
        rows.append([target_name(r, lang), int(r["targets"]), int(r["modelled"]),
                     "" if count else percent_text(r["probability"]),
                     f"{r['mean']:.1f}" if count else "", f"{r['p10']:.0f}–{r['p90']:.0f}" if count else ""])
    return _styled(pd.DataFrame(rows, columns=cols), numeric=cols[1:])


def departments_view(departments: pd.DataFrame, lang: str = "zh", top: int | None = 12) -> Styler:
    """Each responsible unit (``Results.departments``): its targets, their mean likelihood and
    how many are unlikely (red); units in the order of how many targets they carry."""
    loc = load_locale(lang)["table"]
    rows = []
    for _, group in departments.groupby("unit", sort=False):
        modelled = group["probability"].dropna()
        name = group["unit_zh"].iloc[0] if lang == "zh" else group["unit_en"].iloc[0]
        rows.append([name, len(group), percent_text(modelled.mean() if len(modelled) else None),
                     int(sum(traffic_light(p) == "red" for p in modelled))])
    frame = pd.DataFrame(rows[:top] if top else rows,
                         columns=[loc["col_unit"], loc["col_targets"], loc["col_mean_p"], loc["col_red"]])
    return _styled(frame, numeric=frame.columns[1:])


def drivers_view(drivers: pd.DataFrame, lang: str = "zh") -> Styler:
    """The uncertainties that move a target's likelihood (rows of ``Results.drivers``): the
    likelihood when the input is in its lowest and highest third, and the swing in points."""
    loc = load_locale(lang)["brief"]
    cols = [loc["col_driver"], loc["col_if_low"], loc["col_if_high"], loc["col_swing"]]
    frame = pd.DataFrame([[target_name(r, lang), percent_text(r["probability_low"]),
                           percent_text(r["probability_high"]), change_text(r["swing"])]
                          for _, r in drivers.iterrows()], columns=cols)
    return _styled(frame, numeric=cols[1:])


def _labels(target_ids) -> dict[str, Mapping]:
    by_id = {t.id: {"name_zh": t.name_zh, "name_en": t.name_en, "deadline": t.deadline} for t in load_registry()}
    return {i: by_id[i] for i in target_ids if i in by_id}


def wide_view(frame: pd.DataFrame, lang: str = "zh", *, passthrough: Mapping[str, pd.Series] | None = None,
              caption: str = "") -> Styler:
    """A table of likelihoods with one row per target id (the index) and one column per
    scenario or lever value: target names with their deadline year, percentages.

    Parameters
    ----------
    frame : DataFrame
        Index: target ids; columns: scenario titles or lever values; values: fractions.
    lang : {"zh", "en"}
    passthrough : mapping, optional
        Column heading -> values by target id shown as they are (e.g. the first lever value
        reaching 80 %).
    caption : str
        A line above the table (what the columns are).
    """
    loc = load_locale(lang)["brief"]
    labels = _labels(frame.index)
    out = pd.DataFrame({loc["col_target"]: [target_label(labels[i], lang) if i in labels else i for i in frame.index]})
    for col in frame.columns:
        out[str(col)] = [percent_text(p) for p in frame[col]]
    for heading, values in (passthrough or {}).items():
        out[heading] = ["" if pd.isna(v) else str(v) for v in pd.Series(values).reindex(frame.index)]
    return _styled(out, numeric=out.columns[1:]).set_caption(caption)


def change_view(rows: pd.DataFrame, lang: str = "zh") -> Styler:
    """Changes against the reference scenario (rows of :func:`model.compare` for one scenario,
    with the reference's likelihood as ``reference``): target, both likelihoods, the change in
    points and its paired 95 % interval."""
    loc = load_locale(lang)["brief"]
    labels = _labels(rows["target_id"])
    cols = [loc["col_target"], loc["col_ref"], loc["col_new"], loc["col_change"], loc["col_change_interval"]]
    frame = pd.DataFrame([[target_label(labels[r["target_id"]], lang) if r["target_id"] in labels else r["target_id"],
                           percent_text(r["reference"]), percent_text(r["probability"]), change_text(r["change"]),
                           f"{change_text(r['change_low'])} … {change_text(r['change_high'])}"]
                          for _, r in rows.iterrows()], columns=cols)
    return _styled(frame, numeric=cols[1:])


class Framed:
    """An HTML document (a brief) shown in a notebook inside its own frame.

    The document goes into an ``<iframe srcdoc=...>``, so its stylesheet cannot restyle the
    notebook, and the output needs no server path (it also shows in an exported notebook).

    Parameters
    ----------
    document : str or Path
        The HTML text, or the path of an HTML file (read as UTF-8).
    height : str
        CSS height of the frame (the document scrolls inside it).
    """

    def __init__(self, document: str | Path, height: str = "720px") -> None:
        self.html = Path(document).read_text(encoding="utf-8") if isinstance(document, Path) else str(document)
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {self.height}; border: 1px solid #c8d3e0;"></iframe>')


def _lever_value(value: str, unit: str, lang: str) -> str:
    """A swept value as a reader writes it (:func:`model.readable.lever_text`)."""
    return lever_text(value, unit, lang)


def sweep_view(swept: pd.DataFrame, lang: str = "zh", top: int = 10, level: float = 0.80) -> Styler:
    """A sweep (:func:`model.sweep.sweep_table`): the ``top`` targets the lever moves most, their
    likelihood at each value, and the first value reaching ``level`` (or that none did)."""
    loc = load_locale(lang)["table"]
    lever = str(swept["lever"].iloc[0])
    module, _, name = lever.partition(".")
    spec = module_params(module).levers[name]
    wide = swept.pivot(index="target_id", columns="value", values="probability")
    wide = wide[list(dict.fromkeys(swept["value"]))]
    moved = (wide.max(axis=1) - wide.min(axis=1)).sort_values(ascending=False, kind="stable")
    shown = wide.loc[moved[moved > 0].index[:top]]
    first = reach_text(swept, spec.about.unit, level, lang).reindex(shown.index)  # or "至<最大取值>仍未达到"
    caption = f"{spec.about.zh if lang == 'zh' else spec.about.en} ({lever})"
    return wide_view(shown.rename(columns=lambda v: _lever_value(v, spec.about.unit, lang)), lang,
                     passthrough={loc["col_first_80"]: first}, caption=caption)
