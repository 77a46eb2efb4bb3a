"""The repository stands alone: nothing cites a document that does not ship with it, and every
``docs/<page>.md#anchor`` cited in code, presets, examples and the README names a heading that
exists on that page (GitHub's anchor slugs)."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Documents that lived outside the repository; their content is in docs/ now. Spelled in
#: pieces so that this file does not cite them itself.
OUTSIDE = ("../" + "shared", "mechanics" + ".md", "PROBE" + ".md", "DESIGN" + ".md", "STYLE" + ".md")

#: Build and cache folders that are not part of the repository (as in .gitignore).
SKIPPED_DIRS = {".git", "__pycache__", ".hypothesis", ".pytest_cache", "build", ".venv", ".solvent"}

#: ``docs/venues.md#binance-adl``, optionally followed by more anchors on the same page
#: (``docs/venues.md#binance-adl, #bitmex-adl``).
CITATION = re.compile(r"docs/([\w-]+)\.md(#[\w-]+(?:, #[\w-]+)*)")
#: A Markdown link's target: ``[text](target)``.
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def repository_files() -> list[Path]:
    """Every file of the working tree that git does not ignore (tracked or new)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        files = [ROOT / name for name in out.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in ROOT.rglob("*") if not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)]
        files = [p for p in files if not any(part.endswith(".egg-info") for part in p.parts)]
    return sorted(p for p in files if p.is_file())


def text_of(path: Path) -> str | None:
    """The file as text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: inline markup dropped, lower case, punctuation removed,
    spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    """The anchors of a Markdown page's headings (a repeated heading gets ``-1``, ``-2``, ...)."""
    seen: dict[str, int] = {}
    result = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            result.add(base if count == 0 else f"{base}-{count}")
    return frozenset(result)


def citations() -> list[tuple[str, str, str]]:
    """(file, page, anchor) for every ``docs/<page>.md#anchor`` in the repository."""
    found = []
    for path in repository_files():
        text = text_of(path)
        if text is None:
            continue
        for match in CITATION.finditer(text):
            for anchor in re.findall(r"#([\w-]+)", match.group(2)):
                found.append((str(path.relative_to(ROOT)), match.group(1), anchor))
    return found


def doc_links() -> list[tuple[str, Path, str]]:
    """(file, target page, anchor) for every relative Markdown link with an anchor in docs/ and the README."""
    found = []
    for page in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:") or "#" not in target:
                continue
            file_part, anchor = target.split("#", 1)
            resolved = (page.parent / file_part).resolve() if file_part else page
            if resolved.suffix == ".md":
                found.append((str(page.relative_to(ROOT)), resolved, anchor))
    return found


class TestStandsAlone:
    """No file points outside the repository for its sources."""

    @pytest.mark.parametrize("name", OUTSIDE)
    def test_no_reference_to_an_outside_document(self, name: str) -> None:
        hits = []
        for path in repository_files():
            text = text_of(path)
            if text is not None:
                hits += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1) if name in line]
        assert hits == []

    def test_the_cited_pages_ship(self) -> None:
        for page in ("venues", "solver-notes", "design", "model"):
            assert (DOCS / f"{page}.md").is_file()


class TestCitationsResolve:
    """Every docs anchor cited in code, presets, examples, tests and the README is a heading."""

    def test_there_are_citations(self) -> None:
        pages = {page for _, page, _ in citations()}
        assert {"venues", "solver-notes", "design"} <= pages

    def test_every_cited_anchor_is_a_heading(self) -> None:
        missing = []
        for where, page, anchor in citations():
            path = DOCS / f"{page}.md"
            if not path.is_file() or anchor not in anchors(path):
                missing.append(f"{where}: docs/{page}.md#{anchor}")
        assert missing == []

    def test_every_link_between_pages_resolves(self) -> None:
        missing = [
            f"{where}: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}#{anchor}"
            for where, target, anchor in doc_links()
            if not target.is_file() or anchor not in anchors(target)
        ]
        assert missing == []


class TestSlug:
    """The anchor rule matches GitHub's for the headings the pages use."""

    @pytest.mark.parametrize(
        ("heading", "anchor"),
        [
            ("Binance insurance fund", "binance-insurance-fund"),
            ("dYdX v4 deleveraging", "dydx-v4-deleveraging"),
            ("OKEx clawback (2018)", "okex-clawback-2018"),
            (
                "Thresholds: a proof on each side of an exact number",
                "thresholds-a-proof-on-each-side-of-an-exact-number",
            ),
            (
                "Solver and search notes: what was measured, and what the code does about it",
                "solver-and-search-notes-what-was-measured-and-what-the-code-does-about-it",
            ),
            ("`cadence-invariant` and dust", "cadence-invariant-and-dust"),
        ],
    )
    def test_slug(self, heading: str, anchor: str) -> None:
        assert slug(heading) == anchor
