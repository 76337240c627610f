"""``python -m model brief``, ``validate``, ``targets``, ``params``, ``series``: briefs and the registries."""

from __future__ import annotations

import sys
from difflib import get_close_matches
from pathlib import Path

from ..console import format_table
from ..observed import load_observed
from ..params import all_params
from ..reference import markdown, toml_value
from ..report.i18n import unit_label
from ..runs import RunError
from ..scenario import ScenarioError, load_scenario
from ..series import load_series
from ..targets import load_registry
from ..terminal import phrase, targets_table
from ..tomlfile import read_toml
from ..validation import TOP_KEYS
from .common import UsageError, add_lang_option, add_scenario_path, chosen_lang


def add_brief_parser(sub) -> None:
    """The ``brief`` command and its options."""
    brief = sub.add_parser("brief", help="write the policy brief (HTML, PDF, Word) of a saved run or comparison")
    brief.add_argument("source", type=Path, metavar="RUN_OR_COMPARISON_DIR")
    brief.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the brief (default zh)")
    brief.add_argument("--format", default="html,pdf",
                       help="comma-separated: html, pdf, docx (an editable Word brief; default html,pdf)")
    brief.add_argument("--focus", default=None, metavar="NAME",
                       help="the scenario a comparison brief is about (default: plan when present, else the first)")
    brief.add_argument("--analysis", action="append", type=Path, default=[], metavar="DIR",
                       help="an analysis of the same run to add as a section (python -m model levers; repeatable)")
    brief.add_argument(
        "--out",
        default=None,  # text, not Path: a trailing "/" means a directory
        help="output file; its suffix is set per format (default: brief.<lang>.<format> inside the directory)",
    )


def add_info_parser(sub) -> None:
    """The ``validate``, ``targets``, ``params`` and ``series`` commands."""
    validate = sub.add_parser("validate", help="check scenario files (and observed-figures files) without running them")
    validate.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO.toml|OBSERVED.toml",
                          help="scenario files, and observed-figures files (no [scenario], [levers], "
                               "[uncertainties], [correlations] or [links] table; [targets] or a [<series id>] one)")
    add_scenario_path(validate)
    add_lang_option(validate)

    targets = sub.add_parser("targets", help="print the target registry")
    targets.add_argument("--plan", choices=sorted({t.plan for t in load_registry()}))
    add_lang_option(targets)

    params = sub.add_parser("params", help="print the levers and uncertainties a scenario can set")
    params.add_argument("module", nargs="?", choices=sorted(all_params()))
    params.add_argument(
        "--markdown",
        action="store_true",
        help="print the full scenario-file reference as Markdown (docs/scenario-reference.md)",
    )

    series = sub.add_parser("series", help="print the published series (统计公报, 考核) and how each is computed")
    series.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="show the names in one language only (default: Chinese, then English)")


def cmd_brief(args) -> int:
    # heavy (matplotlib, WeasyPrint: about a second) and only this command needs it
    from ..report.brief import FORMATS, make_brief

    formats = tuple(dict.fromkeys(f.strip().lower() for f in args.format.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"--format: expected some of {', '.join(FORMATS)} separated by commas, found {args.format!r}")
    try:
        paths = make_brief(args.source, lang=args.lang, formats=formats, out=args.out, analyses=args.analysis,
                           focus=args.focus)
    except RunError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot write the brief ({exc.strerror or exc}); choose another --out") from exc
    for path in paths:
        print(f"written {path}")
    return 0


def _is_observed(path: Path) -> bool:
    """Whether ``path`` reads as an observed-figures file: no scenario table but ``[targets]`` or
    a table named (or nearly named: a misspelt id) after a published series."""
    if not path.name.lower().endswith(".toml"):
        return False
    try:
        doc, _ = read_toml(path)
    except ScenarioError:  # reported by load_scenario, which says more about what a scenario file is
        return False
    if any(key in doc for key in TOP_KEYS if key != "targets"):
        return False
    series = list(load_series())
    nearest = [get_close_matches(key, [*series, *TOP_KEYS], n=1, cutoff=0.6) for key in doc]
    return any(key == "targets" or (near and near[0] in series) for key, near in zip(doc, nearest))


def _validate(path: Path, search_path: tuple[Path, ...], lang: str = "en") -> str:
    """The ``ok`` line of one good file, in ``lang`` (an error for a bad one)."""
    if _is_observed(path):
        observed = load_observed(path)
        return phrase(lang, "valid_observed", path=path, n=len(observed), sha=observed.sha256[:12])
    scenario = load_scenario(path, search_path)
    chain = " <- ".join(Path(f).name for f in reversed(scenario.files))
    extra = phrase(lang, "valid_with_observed", path=scenario.observed.path,
                   n=len(scenario.observed)) if scenario.observed else ""
    return phrase(lang, "valid_scenario", path=path, name=scenario.name, chain=chain, n=len(scenario.overridden),
                  hash=scenario.hash()[:12], extra=extra)


def cmd_validate(args) -> int:
    """Check every file (not only up to the first bad one); exit 2 if any is bad."""
    bad = 0
    for path in args.scenarios:
        try:
            print(_validate(path, tuple(args.scenario_path), chosen_lang(args)))  # one line a file, for grep
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
    return 2 if bad else 0


def cmd_targets(args) -> int:
    lang = chosen_lang(args)
    chosen = [t for t in load_registry() if not args.plan or t.plan == args.plan]
    print(targets_table(chosen, lang))
    modelled = sum(1 for t in load_registry() if t.modelled)
    print("\n" + phrase(lang, "targets_total", n=len(load_registry()), modelled=modelled))
    return 0


def cmd_params(args) -> int:
    if args.markdown:
        print(markdown(), end="")
        return 0
    for name, declared in all_params().items():
        if args.module and name != args.module:
            continue
        print(f"\n[levers.{name}]")
        for spec in declared.levers.values():
            origin = "source" if spec.about.source else "assumption"
            extra = " (yearly schedule allowed)" if spec.schedule else ""
            print(
                f"  {spec.name} = {toml_value(spec.default)}  [{spec.about.unit}]{extra}  {spec.about.en} / "
                f"{spec.about.zh}  ({origin})"
            )
        print(f"\n[uncertainties.{name}]")
        for spec in declared.uncertainties.values():
            origin = "source" if spec.about.source else "assumption"
            print(
                f"  {spec.name} = {spec.default.describe()}  [{spec.about.unit}]  {spec.about.en} / {spec.about.zh}  "
                f"({origin})"
            )
    return 0


def cmd_series(args) -> int:
    table = list(load_series().values())
    columns = {"id": [s.id for s in table]}
    if args.lang in (None, "zh"):
        columns["名称"] = [s.zh for s in table]
    if args.lang in (None, "en"):
        columns["name"] = [s.en for s in table]
    columns.update({
        "unit": [unit_label(s.unit, args.lang or "zh") for s in table],
        "published": [s.published for s in table],
        "computed from": [s.computed_from() for s in table],
    })
    print(format_table(columns))
    notes = [f"  {s.id}: {s.missing or s.caveat}" for s in table if s.missing or s.caveat]
    if notes:
        print("\nnotes:\n" + "\n".join(notes))
    modelled = sum(1 for s in table if s.modelled)
    print(f"\n{len(table)} series, {modelled} modelled (model/data/series.toml: definitions, ranges, sd)")
    return 0
