"""README and docs/: every relative link and image points to a file (and heading) that exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HTML_SOURCE = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)="([^"]+)\"""")


def _prose(text: str) -> str:
    """The text outside fenced code blocks and inline code, where links are links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: plain text, lower case, punctuation dropped."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"[`*_]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _prose(page.read_text()), flags=re.M):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(page: Path) -> list[str]:
    prose = _prose(page.read_text())
    return MARKDOWN_LINK.findall(prose) + HTML_SOURCE.findall(prose)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_point_to_existing_files_and_headings(page):
    broken = []
    for link in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # http:, https:, mailto:
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.relative_to(ROOT)}")
    assert not broken, broken


def test_readme_shows_the_screenshots_and_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    for name in ("today", "week", "dashboard", "progress"):
        assert f"docs/screenshots/{name}.png" in readme
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, f"README does not link docs/{page.name}"


def test_slug_follows_github():
    assert _slug("Deploying at scale (PostgreSQL)") == "deploying-at-scale-postgresql"
    assert _slug("Password change, forgot password, new-device sign-ins") == (
        "password-change-forgot-password-new-device-sign-ins"
    )
    assert _slug("Scheduler and push notifications: server set-up") == (
        "scheduler-and-push-notifications-server-set-up"
    )


def test_mutation_equivalents_page_lists_what_the_script_skips():
    """The survivors `make mutation` skips as equivalent are the ones docs/ lists, with why."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mutation_equivalents", ROOT / "scripts" / "mutation_equivalents.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "docs" / "mutation-equivalents.md").read_text()
    assert page == module.markdown(), "regenerate: python scripts/mutation_equivalents.py"
