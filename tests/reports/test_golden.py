"""Golden reports: every format, byte for byte (normalised), for fixed scenario-only checks.

Regenerate with ``SOLVENT_OVERWRITE_GOLDEN=1 python -m pytest tests/reports`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_support import V1, V2, check, compare_golden, normalise, searched

from solvent.reports import diff, gallery
from solvent.reports.formats import renderer
from solvent.verdicts import diff as diff_model
from solvent.verdicts.check import Judgement, PolicyReport

SUFFIX = {"text": "txt", "markdown": "md", "html": "html", "json": "json", "junit": "junit.xml", "sarif": "sarif"}


class TestCheckReports:
    """A preset and a policy file, scenarios only, in every format."""

    @pytest.mark.parametrize("fmt", list(SUFFIX))
    def test_format(self, reports: list[PolicyReport], fmt: str) -> None:
        compare_golden(f"check.{SUFFIX[fmt]}", normalise(renderer(fmt)(reports)))


class TestSearchedReports:
    """A report carrying search statistics and a story found by search, with a findings directory."""

    @pytest.mark.parametrize("fmt", ["text", "markdown", "json", "junit", "sarif"])
    def test_format(self, binance: PolicyReport, tmp_path: Path, fmt: str) -> None:
        report = searched(binance, tmp_path / "findings")
        compare_golden(f"searched.{SUFFIX[fmt]}", normalise(renderer(fmt)([report]), tmp_path))


@pytest.fixture(scope="module")
def policy_diff() -> diff_model.PolicyDiff:
    return diff_model.diff_reports(check(V1), check(V2))


class TestDiffReports:
    """venue-v1 → venue-v2: a new failure, a newly accepted one, changed fields."""

    @pytest.mark.parametrize("fmt", list(diff.RENDERERS))
    def test_format(self, policy_diff: diff_model.PolicyDiff, fmt: str) -> None:
        compare_golden(f"diff.{SUFFIX[fmt]}", normalise(diff.render(fmt, [policy_diff])))


class TestGalleryIndex:
    """The gallery's index table, for two presets, scenarios only."""

    def test_index(self, tmp_path: Path) -> None:
        written = gallery.build(
            tmp_path, judgement=Judgement(search=None, proofs=None, findings_dir=None), presets=["backpack", "binance"]
        )
        assert sorted(p.name for p in written) == [
            "backpack.html",
            "backpack.md",
            "binance.html",
            "binance.md",
            "index.md",
        ]
        compare_golden("gallery-index.md", (tmp_path / "index.md").read_text())
