"""``solvent prove``: exit 0 proved, 1 refuted (with the replayed story), 3 unknown, 2 bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from solvent.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["prove", *args])


def test_proved_exits_0() -> None:
    """Conservation of a mark move on Backpack holds for every number of accounts."""
    result = run("backpack", "--invariant", "conservation", "--accounts", "2", "--timeout", "30")
    assert result.exit_code == 0, result.output
    assert "conservation on backpack: proved (all N" in result.output


def test_refuted_exits_1_and_prints_the_replayed_story() -> None:
    result = run("backpack", "--invariant", "no-negative-equity", "--accounts", "1", "--timeout", "30")
    assert result.exit_code == 1, result.output
    assert "counterexample (replayed on the concrete engine)" in result.output
    assert "<- fails here" in result.output and "replay: Story(" in result.output


def test_unknown_exits_3() -> None:
    result = run("drift", "--invariant", "conservation", "--accounts", "3", "--timeout", "0.001")
    assert result.exit_code == 3, result.output
    assert "drift: proved" not in result.output.splitlines()[0]  # the verdict, not an obligation


@pytest.mark.parametrize(
    "args, message",
    [
        (("nowhere", "--invariant", "conservation"), "'policy' must be an existing .toml file or one of"),
        (("backpack", "--invariant", "nope"), "unknown invariant 'nope'"),
        (("backpack", "--invariant", "conservation", "--event-kinds", "mark,teleport"), "'event_kinds' must be among"),
        (("backpack", "--invariant", "conservation", "--min-price", "10", "--max-price", "5"), "'max_price' must be >= min_price (10): 5"),
    ],
    ids=["unknown policy", "unknown invariant", "unknown event kind", "empty price range"],
)
def test_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_vacuous_assumptions_exit_2() -> None:
    """A price grid outside the price range leaves no book to prove anything about."""
    result = run("backpack", "--invariant", "conservation", "--accounts", "1", "--max-price", "100", "--price-grid", "500")
    assert result.exit_code == 2, result.output
    assert "vacuous" in result.output and "prices within bounds" in result.output
