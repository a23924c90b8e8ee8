"""Every relative link of README.md and docs/*.md leads somewhere: the file exists, and a #anchor is
a heading of the page it names (as GitHub makes anchors of headings)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(page: Path) -> str:
    """The page without its code blocks and inline code, where brackets are not links."""
    text = FENCE.sub("", page.read_text())
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens,
    a repeated heading numbered."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found


def relative_links() -> list[tuple[Path, str]]:
    return [(page, target) for page in PAGES for target in LINK.findall(prose(page))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_there_are_links_to_check():
    assert len(relative_links()) > 20


@pytest.mark.parametrize("page, target", relative_links(),
                         ids=lambda value: value.name if isinstance(value, Path) else value)
def test_every_relative_link_resolves(page, target):
    path, _, anchor = target.partition("#")
    linked = (page.parent / unquote(path)).resolve() if path else page
    assert linked.exists(), f"{page.relative_to(ROOT)} links to {target}: no such file"
    if anchor:
        assert linked.suffix == ".md", f"{page.relative_to(ROOT)} links to an anchor of {target}, not a page"
        assert anchor in anchors(linked), \
            f"{page.relative_to(ROOT)} links to {target}: no such heading (there are {sorted(anchors(linked))})"
