"""percolator Gen A's linear vesting of junior profit on both interpreters: the concrete ``step``
and z3's ``transition`` (every input a free variable pinned to its value) give the same step at
the worked examples of tests/rules/test_fidelity_percolator_gen_a_vesting.py: a gain given its
slope, a slope's worth vested by a quiet event, new profit that restarts the slope, a loss beyond
the junior profit, and the order book's vesting."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_percolator_gen_a_vesting as examples
from solvent.rules.events import Deposit, MarkPrice

GEN_A = examples.GEN_A
QUIET = Deposit("insurance_fund", 1)

CASES = {
    "a gain gets a slope": (lambda: examples.opened(100, GEN_A), MarkPrice(1_500), "alice", (50_000, 500)),
    "a quiet event vests a slope": (examples.worked, QUIET, "alice", (49_500, 500)),
    "new profit restarts the slope": (
        lambda: examples.quiet(examples.worked(), 30, GEN_A),
        MarkPrice(1_510),
        "alice",
        (35_500, 355),
    ),
    "the order book vests too": (examples.book_long, QUIET, "liquidity", (49_500, 500)),
}


@pytest.mark.parametrize("name", CASES)
def test_the_worked_example_agrees_on_z3(name: str) -> None:
    book, event, who, expected = CASES[name]
    got = pinned_step_agrees(GEN_A, book(), event).got
    assert examples.junior(got.after, who) == expected
