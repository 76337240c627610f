"""Policy briefs: self-contained HTML, PDF with Chinese fonts embedded, escaping, CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

import model
from model.cli import main
from model.distributions import SPEC_KEYS, Distribution
from model.params import all_params
from model.report.brief import make_brief
from model.report.brief_data import AT_RISK, HEADLINE_GOALS
from model.report.fonts import cjk_font
from model.report.i18n import describe_distribution, load_locale
from model.runs import load_run
from model.targets import load_registry

ROOT = Path(__file__).resolve().parents[1]
HEADLINE_IDS = [i for _, ids in HEADLINE_GOALS for i in ids]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    results = model.simulate(model.load_scenario(ROOT / "scenarios" / "plan.toml"), replications=500, seed=3)
    return results.save(tmp_path_factory.mktemp("brief") / "plan")


@pytest.fixture(scope="module")
def zh_brief(run_dir):
    html, pdf = make_brief(run_dir)  # default: Chinese, HTML and PDF inside the run directory
    return html, pdf


@pytest.fixture(scope="module")
def en_brief(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("en")
    return make_brief(run_dir, lang="en", out=f"{out}/")  # a trailing slash: inside that directory


#: ASCII words a planner may meet in the Chinese brief: the names of the output formats the
#: brief itself points to. File names (summary.csv, plan.toml ...), hexadecimal hashes and the
#: scenario names (the keys of runs/<name>, printed next to each title) are removed separately.
ZH_ALLOWED_WORDS = {"PDF", "HTML"}
FILE_NAME = re.compile(r"[\w.-]+\.(?:csv|json|toml|npz|html|pdf|xlsx)\b")
HEX = re.compile(r"\b[0-9a-f]{12,}\b")


def _english_words(text: str, scenario_names: set[str]) -> set[str]:
    """ASCII words of 3+ letters in ``text`` other than file names, hashes and allowed names."""
    text = HEX.sub(" ", FILE_NAME.sub(" ", text))
    return set(re.findall(r"[A-Za-z]{3,}", text)) - ZH_ALLOWED_WORDS - scenario_names


def _pdf_text(pdf) -> str:
    return subprocess.run([_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _risk_rows(html: str) -> int:
    table = re.search(r'<table class="risk">.*?<tbody>(.*?)</tbody>', html, re.S)
    return table.group(1).count("<tr>")


def _headline_targets():
    by_id = {t.id: t for t in load_registry()}
    return [by_id[i] for i in HEADLINE_IDS]


def test_default_outputs_inside_the_run(run_dir, zh_brief):
    assert [p.name for p in zh_brief] == ["brief.zh.html", "brief.zh.pdf"]
    assert all(p.parent == run_dir and p.stat().st_size > 0 for p in zh_brief)


def test_html_is_self_contained_and_names_the_headline_targets(zh_brief):
    html = zh_brief[0].read_text("utf-8")
    for target in _headline_targets():
        assert str(escape(target.name_zh)) in html
    assert re.search(r"""(src|href)=["']?(https?:)?//""", html) is None  # nothing fetched from a network
    assert "<link" not in html and html.count('src="data:image/png;base64,') >= 2
    plan = model.load_scenario(ROOT / "scenarios" / "plan.toml")
    assert str(escape(plan.description_zh)) in html and plan.description not in html  # 中文 description


def test_brief_names_the_drivers_of_the_three_goals(run_dir, zh_brief):
    html = zh_brief[0].read_text("utf-8")
    drivers = pd.read_csv(run_dir / "drivers.csv", encoding="utf-8-sig")
    zombie = drivers[drivers["target_id"] == "overcapacity.zombie_disposed.2019"]
    assert "什么在左右三大目标" in html
    assert not zombie.empty and str(escape(zombie.iloc[0]["name_zh"])) in html


def test_zh_brief_holds_no_english_words(run_dir, zh_brief):
    """Units, lever choices, 'never' and distributions are in Chinese (see ZH_ALLOWED_WORDS),
    in the PDF and in the text of the HTML (parameter keys are only tooltips there)."""
    words = _english_words(_pdf_text(zh_brief[1]), {"plan"})
    assert not words, f"English in the Chinese PDF: {sorted(words)}"
    html = zh_brief[0].read_text("utf-8")
    visible = re.sub(r"<[^>]*>", " ", re.sub(r"<(style|title)>.*?</\1>", " ", html, flags=re.S))
    words = _english_words(visible, {"plan"})
    assert not words, f"English in the Chinese HTML: {sorted(words)}"
    assert "count" in (run_dir / "summary.csv").read_text("utf-8-sig")  # the words were there to translate


def test_en_pdf_has_no_chinese_units(en_brief):
    text = _pdf_text(en_brief[1])
    assert not re.search("亿元|万元|万吨", text)
    assert "100 million yuan" in text.replace("\u00a0", " ")


def test_zh_and_en_are_the_same_brief(zh_brief, en_brief):
    zh, en = (b[0].read_text("utf-8") for b in (zh_brief, en_brief))
    assert _risk_rows(zh) == _risk_rows(en) == AT_RISK
    zh_bars = re.search(r"共 (\d+) 项（已建模市级目标共 (\d+) 项", zh)
    en_bars = re.search(r"(\d+) of the (\d+) modelled city-level targets", en)
    assert zh_bars and en_bars and zh_bars.groups() == en_bars.groups()
    assert zh.count('src="data:image/png') == en.count('src="data:image/png')


def test_out_is_a_directory_or_a_file_in_an_existing_directory(run_dir, en_brief, tmp_path, capsys):
    assert [p.name for p in en_brief] == ["brief.en.html", "brief.en.pdf"]  # the trailing slash
    assert main(["brief", str(run_dir), "--format", "html", "--out", str(tmp_path)]) == 0  # an existing directory
    assert (tmp_path / "brief.zh.html").is_file()
    capsys.readouterr()
    missing = tmp_path / "missing"
    assert main(["brief", str(run_dir), "--format", "html", "--out", str(missing / "x.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "does not exist" in err[0]
    # a trailing slash names a directory, which is not created either
    assert main(["brief", str(run_dir), "--format", "html", "--out", f"{missing}/"]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(OSError, match="does not exist"):
        make_brief(run_dir, formats=("html",), out=f"{missing}/")
    assert not missing.exists() and not list(tmp_path.glob("missing*"))
    made = tmp_path / "made"
    made.mkdir()
    assert main(["brief", str(run_dir), "--format", "html", "--out", f"{made}/"]) == 0
    assert [p.name for p in made.iterdir()] == ["brief.zh.html"]


def test_every_unit_and_choice_has_words_in_both_languages():
    """The locale tables cover the units of the registry and the parameter files, and every
    choice of a lever; Chinese labels hold no English."""
    units = {t.unit for t in load_registry()}
    choices = set()
    for declared in all_params().values():
        units |= {s.about.unit for s in (*declared.levers.values(), *declared.uncertainties.values())}
        units |= {s.unit for s in declared.indicators.values()}
        choices |= {c for s in declared.levers.values() for c in (s.choices or ())}
    zh, en = load_locale("zh"), load_locale("en")
    assert units <= set(zh["units"]), sorted(units - set(zh["units"]))
    assert choices <= set(zh["values"]) and choices <= set(en["values"])
    assert not [u for u in units if re.search("[A-Za-z]{2,}", zh["units"][u])]
    assert not [u for u in units if re.search("亿|万", en["units"].get(u, u))]  # en: magnitudes in words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_distribution_reads_as_words(lang):
    examples = {
        "fixed": {"value": 2},
        "uniform": {"low": 0.1, "high": 0.45},
        "triangular": {"low": 1, "mode": 2, "high": 4},
        "pert": {"low": 1, "mode": 2, "high": 4},
        "normal": {"mean": 0, "sd": 1, "low": -1, "high": 2},
        "lognormal": {"median": 2, "sigma": 0.3, "high": 9},
        "beta": {"alpha": 2, "beta": 3},
        "poisson": {"mean": 4, "low": 1},
        "choice": {"values": [1, 2], "weights": [1, 3]},
    }
    assert set(examples) == set(SPEC_KEYS)  # a new kind needs an example here and a phrase in [dist]
    for kind, params in examples.items():
        text = describe_distribution(Distribution.from_spec({"dist": kind, **params}), lang)
        assert "=" not in text and "low" not in text, text
        if lang == "zh":
            assert not re.search("[A-Za-z]{2,}", text), text
    uniform = describe_distribution(Distribution.from_spec({"dist": "uniform", "low": 0.1, "high": 0.45}), lang)
    assert uniform == {"zh": "均匀分布 0.1–0.45", "en": "uniform 0.1–0.45"}[lang]


def test_targets_command_shows_units_in_chinese(capsys):
    assert main(["targets", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert " count" not in out and " firms" not in out and "≥ 2 个" in out and "≥ 60 家" in out


@pytest.mark.slow
def test_comparison_brief_of_four_scenarios(tmp_path):
    """The widest brief (four scenarios) still has 2-7 pages in both languages and says what changes
    (7: the front sheet of issue 14 took most of a page)."""
    files = [ROOT / "scenarios" / f"{n}.toml" for n in ("baseline", "plan", "accelerated", "pessimistic")]
    out = tmp_path / "cmp"
    assert main(["compare", *map(str, files), "--replications", "3000", "--out", str(out)]) == 0
    html, pdf = make_brief(out, lang="en", out=tmp_path / "brief")
    text = html.read_text("utf-8")
    assert "What changes between scenarios" in text and "What drives the three goals" in text
    zh_html, zh_pdf = make_brief(out, out=tmp_path / "brief_zh")
    for p in (pdf, zh_pdf):
        info = subprocess.run([_tool("pdfinfo"), str(p)], capture_output=True, text=True, check=True).stdout
        assert 2 <= int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 7
    names = {"baseline", "plan", "accelerated", "pessimistic"}
    assert not _english_words(_pdf_text(zh_pdf), names)
    assert not re.search("亿元|万元|万吨", _pdf_text(pdf))
    assert _risk_rows(text) == _risk_rows(zh_html.read_text("utf-8")) == AT_RISK


def test_targets_not_modelled_are_counted_never_given_a_likelihood(run_dir, tmp_path):
    """A run made while some targets had no model: the brief counts them and invents nothing."""
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    dropped = ["techreform.investment_share.2020", "green.energy_intensity_cut.2017", "overcapacity.zombie_survey.2017"]
    with np.load(old / "replications.npz") as npz:  # the run holds no replications of them
        kept = {k: npz[k] for k in npz.files if k.partition("/")[2] not in dropped}
    np.savez_compressed(old / "replications.npz", **kept)
    manifest = json.loads((old / "manifest.json").read_text("utf-8"))
    manifest.pop("checksums")  # edited: like a run saved before checksums existed
    manifest["targets"] = [t for t in manifest["targets"] if t not in dropped]
    (old / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    summary = load_run(old).summary
    (html,) = make_brief(old, formats=("html",))
    text = html.read_text("utf-8")
    n = int(summary["probability"].isna().sum())
    assert n >= len(dropped) and f"另有 {n} 项目标尚未建模" in text
    # the headline row of the dropped 2020 goal says "not modelled" instead of a likelihood
    name = next(t.name_zh for t in _headline_targets() if t.id == "techreform.investment_share.2020")
    row = re.search(r"<tr[^>]*>\s*<td>" + re.escape(name) + r"</td><td[^>]*>2020: [^<]*</td>(.*?)</tr>", text, re.S)
    assert row is not None and "未建模" in row.group(1) and "%" not in row.group(1)


def _tool(name):
    if shutil.which(name) is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return name


def test_pdf_embeds_a_chinese_font_and_holds_the_names(zh_brief):
    pdf = zh_brief[1]
    fonts = subprocess.run([_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    family = cjk_font()
    assert family is not None
    wanted = family.replace(" ", "").lower()
    embedded = [line for line in fonts.splitlines()[2:] if wanted in line.split()[0].replace("-", "").lower()]
    assert embedded and all(line.split()[-5] == "yes" for line in embedded)  # the 'emb' column
    text = subprocess.run([_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for target in _headline_targets():
        assert re.sub(r"\s+", "", target.name_zh) in flat


def test_pdf_has_two_to_six_a4_pages(zh_brief):
    info = subprocess.run([_tool("pdfinfo"), str(zh_brief[1])], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert 2 <= pages <= 6
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_hostile_scenario_title_is_escaped(tmp_path):
    shutil.copy(ROOT / "scenarios" / "plan.toml", tmp_path / "plan.toml")
    (tmp_path / "hostile.toml").write_text(
        f'[scenario]\nextends = "plan.toml"\nname = "hostile"\ntitle_zh = "{HOSTILE}"\ntitle_en = "{HOSTILE}"\n'
        f'description = "{HOSTILE} & more"\n',
        encoding="utf-8",
    )
    results = model.simulate(model.load_scenario(tmp_path / "hostile.toml"), replications=50, seed=1)
    run = results.save(tmp_path / "run")
    (html,) = make_brief(run, formats=("html",))
    text = html.read_text("utf-8")
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_cli_english(run_dir, tmp_path, capsys):
    assert main(["brief", str(run_dir), "--lang", "en", "--format", "html", "--out", str(tmp_path / "b")]) == 0
    out = tmp_path / "b.html"
    assert str(out) in capsys.readouterr().out
    html = out.read_text("utf-8")
    assert 'lang="en"' in html and "Summary" in html and "摘要" not in html
    for target in _headline_targets():
        assert str(escape(target.name_en)) in html


@pytest.mark.parametrize(
    "make", [lambda p: p, lambda p: p / "missing", lambda p: (p / "x.toml").write_text("") and p / "x.toml"]
)
def test_cli_exit_2_on_a_directory_that_is_not_a_run(tmp_path, capsys, make):
    target = make(tmp_path)
    assert main(["brief", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert not list(tmp_path.glob("brief.*"))


def test_cli_bad_format(run_dir, capsys):
    assert main(["brief", str(run_dir), "--format", "odt"]) == 2
    assert "--format" in capsys.readouterr().err
