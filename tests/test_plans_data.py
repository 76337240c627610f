"""The plans and the headline goals live once, in model/data/plans.toml; every copy agrees."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from model import plans
from model.cli import HEADLINE as CLI_HEADLINE
from model.report.brief_data import HEADLINE_FINAL, HEADLINE_GOALS
from model.report.i18n import LANGS, load_locale
from model.targets import load_registry
from model.views import HEADLINE_2020 as VIEWS_HEADLINE_2020
from model.views import PLANS as VIEWS_PLANS

ROOT = Path(__file__).resolve().parent.parent


def test_plans_are_the_registrys_plans_in_order():
    order = list(dict.fromkeys(t.plan for t in load_registry()))
    assert list(plans.PLANS) == order
    assert all(zh and en and zh != en for zh, en in plans.PLANS.values())


def test_headline_goals_are_registry_targets_in_deadline_order():
    by_id = {t.id: t for t in load_registry()}
    assert len(plans.HEADLINE_GOALS) == 3
    for indicator, ids in plans.HEADLINE_GOALS:
        targets = [by_id[i] for i in ids]
        assert {t.indicator for t in targets} == {indicator}
        assert [t.deadline for t in targets] == sorted(t.deadline for t in targets)
    assert plans.HEADLINE_2020 == ("green.energy_intensity_cut.2020", "techreform.investment_share.2020",
                                   "overcapacity.zombie_disposed.2019")


def test_every_remaining_copy_is_the_data_file():
    assert CLI_HEADLINE == plans.HEADLINE
    assert (HEADLINE_GOALS, HEADLINE_FINAL) == (plans.HEADLINE_GOALS, plans.HEADLINE_2020)
    assert (VIEWS_PLANS, VIEWS_HEADLINE_2020) == (plans.PLANS, plans.HEADLINE_2020)
    for lang in LANGS:  # the brief's short plan names are phrases of the locale, one per plan
        assert list(load_locale(lang)["brief"]["modules"]) == list(plans.PLANS)
    # the registry test keeps its own tuple of plan ids (it checks the data files independently)
    tree = ast.parse((ROOT / "tests" / "test_registry_data.py").read_text("utf-8"))
    copies = [ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
              and any(getattr(t, "id", "") == "PLANS" for t in n.targets)]
    assert copies == [tuple(plans.PLANS)]


def test_no_headline_id_is_written_out_in_code_or_templates():
    """Headline ids appear in model/ only in the data files (messages and examples aside)."""
    pattern = re.compile(
        r"\"(green\.energy_intensity_cut|techreform\.investment_share|overcapacity\.zombie_disposed)\.\d{4}\""
    )
    allowed = {"validation.py", "reference.py", "runs.py"}  # a hint, an example, a docstring
    found = []
    for path in list((ROOT / "model").rglob("*.py")) + list((ROOT / "model").rglob("*.j2")):
        if path.name not in allowed and pattern.search(path.read_text("utf-8")):
            found.append(path.name)
    assert found == []
