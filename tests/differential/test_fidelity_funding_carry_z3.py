"""The funding remainder carry on both interpreters: the concrete ``step`` and z3's ``transition``
(every input a free variable pinned to its value) give the same payment, transfers and carried
remainders in Mango v4's worked example and at its boundaries
(tests/rules/test_fidelity_funding_carry.py tells the example)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_funding_carry as example
from solvent.rules.events import Funding

CASES = {
    # the worked example's two payments: a remainder made, then used up
    "first payment": (example.CARRIED, example.UP, example.book(), 500),
    "second payment": (example.CARRIED, example.UP, example.book(alice=500_000, bob=500_000), 500),
    # a remainder one millionth short of a quantum, and shorts paying longs
    "just under a quantum": (example.CARRIED, example.UP, example.book(alice=999_999, bob=1), 1),
    "shorts pay": (example.CARRIED, example.UP, example.book(), -500),
    # payers round down: the remainder is a debit, the fee account fronts it
    "payers down": (example.CARRIED, example.DOWN, example.book(), 500),
    # paid as dust, as before
    "paid as dust": (example.DUST, example.UP, example.book(), 500),
}


@pytest.mark.parametrize("name", CASES)
def test_the_carry_agrees_on_z3(name: str) -> None:
    remainder, funding, book, rate = CASES[name]
    got = pinned_step_agrees(example.policy(remainder, funding), book, Funding(rate)).got
    carried = {a.name: a.funding_remainder_millionths for a in got.after.accounts if a.is_trader}
    if name == "first payment":
        assert carried == {"alice": 500_000, "bob": 500_000}
    if name == "second payment":
        assert carried == {"alice": 0, "bob": 0}
