"""The documentation works in a clone: every relative link and picture of README.md, docs/*.md
and the other committed Markdown files resolves to a file inside the repository, and no path in
them points out of it (``../shared/...`` was dead in every clone)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.paths import ROOT

DOCS = sorted({ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "notebooks" / "README.md",
               ROOT / "model" / "data" / "params" / "README.md"})
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # [text](target) and ![alt](src)
HTML_LINK = re.compile(r"""\b(?:href|src)=["']([^"']+)["']""")
CODE_PATH = re.compile(r"`(\.\./[^`\s]*)`")  # a path in backticks that starts by leaving the folder
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)  # https:, mailto:, //host, #anchor


def _targets(text: str) -> list[str]:
    return [t for t in LINK.findall(text) + HTML_LINK.findall(text) if not EXTERNAL.match(t)]


def _inside(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT.resolve())


def test_the_documents_are_found():
    assert ROOT / "README.md" in DOCS and len([p for p in DOCS if p.parent.name == "docs"]) >= 3
    assert all(p.is_file() for p in DOCS)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    bad = []
    for target in _targets(text):
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        if not _inside(path) or not path.exists():
            bad.append(target)
    assert bad == [], f"{doc.name}: links that do not resolve inside the repository"
    # a path in prose may be meant from the document's folder or from the repository root
    leaving = [p for p in CODE_PATH.findall(text) if not (_inside(doc.parent / p) and _inside(ROOT / p))]
    assert leaving == [], f"{doc.name}: paths pointing out of the repository"


def test_the_check_would_catch_a_dead_or_outside_link(tmp_path):
    text = "see [design](../shared/DESIGN.md), ![chart](docs/images/none.png) and [web](https://example.org)"
    assert _targets(text) == ["../shared/DESIGN.md", "docs/images/none.png"]
    assert not _inside(ROOT / "../shared/DESIGN.md")
    assert CODE_PATH.findall("cited in `../shared/reference/targets.md`") == ["../shared/reference/targets.md"]
