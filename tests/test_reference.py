"""The committed scenario-file reference is generated from the declarations and up to date."""

from model.cli import main
from model.params import all_params
from model.reference import markdown
from tests.paths import ROOT


def test_reference_is_up_to_date():
    committed = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == markdown(), "run: .venv/bin/python -m model params --markdown > docs/scenario-reference.md"


def test_reference_lists_every_key_with_its_unit(capsys):
    assert main(["params", "--markdown"]) == 0
    text = capsys.readouterr().out
    for module, declared in all_params().items():
        assert f"[levers.{module}]" in text and f"[uncertainties.{module}]" in text
        for spec in list(declared.levers.values()) + list(declared.uncertainties.values()):
            assert f"| `{spec.name}` |" in text, spec.key
    assert "capacity_exits_energy" in text and "overcapacity.zombie_disposed.2019" in text


def test_readme_says_where_every_target_is_modelled():
    from model.targets import load_registry

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The targets and where each is modelled"):readme.index("## How the model works")]
    for t in load_registry():
        if t.is_district:
            continue
        plan, name = t.id.split(".")[:2]
        assert f"`{plan}.{name}`" in section or f"`.{name}`" in section, t.id
    assert "techreform.district.<district>" in section
