"""Percolator Gen B's write-off of a flat account's negative remainder (spec v11.11 §7.3,
``bankruptcy.write_off``) on both interpreters: the concrete ``step`` and z3's ``transition`` (every
input a free variable pinned to its value) agree on each boundary book of
tests/rules/test_fidelity_percolator_write_off.py."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_percolator_write_off as example
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason

CASES = {
    # name: (policy, book, mark, what the fund and the haircut pay alice)
    "flat at 0": (example.GEN_B, lambda: example.book(0, fund=5, matured=10), 100, (0, 0)),
    "at -1, the fund": (example.GEN_B, lambda: example.book(-1, fund=5, matured=10), 100, (1, 0)),
    "fund to its floor": (example.floored(5), lambda: example.book(-2, fund=6, matured=10), 100, (1, 1)),
    "fund at its floor": (example.floored(5), lambda: example.book(-1, fund=5, matured=10), 100, (0, 1)),
    "a residual": (example.GEN_B, lambda: example.book(-150, fund=0, matured=100), 100, (0, 100)),
    "beside a bankruptcy": (example.GEN_B, lambda: example._with_dave(example.book(-1, matured=10)), 50, (0, 1)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_write_off_agrees_on_z3(case: str) -> None:
    policy, book, mark, (fund, haircut) = CASES[case]
    got = pinned_step_agrees(policy, book(), MarkPrice(mark)).got
    into = [t for t in got.transfers if t.destination == "alice"]
    assert sum(t.amount_quote for t in into if t.reason is Reason.INSURANCE_FUND) == fund
    assert sum(t.amount_quote for t in into if t.reason is Reason.HAIRCUT) == haircut
