"""percolator Gen B's linear release of the reserve on both interpreters: the concrete ``step`` and
z3's ``transition`` (every input a free variable pinned to its value) give the same step at each
worked example of tests/rules/test_fidelity_percolator_warmup.py: a gain reserved with its slope,
a slope's worth matured by a quiet event, the last of it with the slope dropped, a gain that
restarts the slope, a loss that keeps it, a loss beyond the reserve, and the order book's reserve."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_percolator_warmup as examples
from solvent.rules.events import Deposit, MarkPrice

GEN_B = examples.GEN_B
QUIET = Deposit("insurance_fund", 1)

CASES = {
    "a gain is reserved with a slope": (lambda: examples.opened(100), MarkPrice(1_500), (50_000, 500)),
    "a quiet event matures a slope": (examples.worked, QUIET, (49_500, 500)),
    "the last slope, and no slope after": (lambda: examples.quiet(examples.worked(), 99), QUIET, (0, 0)),
    "a gain restarts the slope": (lambda: examples.quiet(examples.worked(), 30), MarkPrice(1_510), (35_500, 355)),
    "a loss keeps the slope": (lambda: examples.quiet(examples.worked(), 30), MarkPrice(1_450), (29_500, 500)),
    "a loss beyond the reserve": (lambda: examples.quiet(examples.worked(), 30), MarkPrice(1_000), (0, 0)),
}


@pytest.mark.parametrize("name", CASES)
def test_the_worked_example_agrees_on_z3(name: str) -> None:
    book, event, expected = CASES[name]
    got = pinned_step_agrees(GEN_B, book(), event).got
    alice = got.after.account("alice")
    assert (alice.window_pnl_quote, alice.reserve_slope_quote) == expected


def test_the_order_books_release_agrees_on_z3() -> None:
    got = pinned_step_agrees(GEN_B, examples.book_short(), QUIET).got
    assert (got.after.account("liquidity").window_pnl_quote, got.after.account("liquidity").reserve_slope_quote) == (
        49_500,
        500,
    )
