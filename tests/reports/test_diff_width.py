"""``solvent diff``'s text fits the terminal (issue 16), as ``solvent check``'s does: at 80 and 120
columns no line is wider; in a file or a pipe it is the 120-column report (the golden)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from golden_support import V1, V2, check

from solvent.cli import main
from solvent.reports import diff
from solvent.reports.text import WIDTH
from solvent.verdicts.diff import diff_reports


@pytest.fixture(scope="module")
def policy_diff():
    return diff_reports(check(V1), check(V2))


def _too_wide(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


@pytest.mark.parametrize("width", [80, 120])
def test_every_line_fits(policy_diff, width: int) -> None:
    text = diff.render("text", [policy_diff], width=width)
    assert _too_wide(text, width) == []
    # the same content: every changed verdict and the new failure's command are there
    assert "flat-accounts-never-pay" in text and "failure appeared" in text
    assert "solvent check tests/reports/policies/venue-v2.toml --scenario flat-winner" in text


def test_the_default_is_the_report_width(policy_diff) -> None:
    assert diff.render("text", [policy_diff]) == diff.render("text", [policy_diff], width=WIDTH)


@pytest.mark.parametrize("columns", ["80", "120"])
def test_the_command_folds_to_columns(columns: str) -> None:
    """``COLUMNS`` wins, as for ``solvent check``; no colour codes outside a terminal."""
    result = CliRunner(env={"COLUMNS": columns}).invoke(main, ["diff", V1, V2, "--no-search"])
    assert result.exit_code == 1, result.output
    assert _too_wide(result.stdout, int(columns)) == []
    assert "\x1b[" not in result.stdout
    assert result.stdout.startswith("Policy diff: ")
