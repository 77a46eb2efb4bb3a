"""Bybit's fee to close in the bankruptcy price on both interpreters: the concrete ``step`` and
z3's ``transition`` (every input a free variable pinned to its value) give the same closeout, fee
and ADL fill in the worked example (tests/rules/test_fidelity_bybit_fee_to_close.py tells it)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_bybit_fee_to_close as example
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason

CASES = {
    # closed at the bankruptcy price: the 7.35 fee first, 40.00 to the fund
    "long closed at 9,840": (True, example.book(), 984, 735),
    # gapped past it: ADL at 9,800 with the fee
    "long deleveraged at 9,700": (True, example.book(), 970, 735),
    "short closed at 10,160": (True, example.book(side=-1), 1_016, 765),
    "short deleveraged at 10,300": (True, example.book(side=-1), 1_030, 765),
    # the gap just past a whole quantum
    "long gap 11.006": (True, example.book(1, 19_730), 970, 737),
    # without the field, no fee
    "without the fee": (False, example.book(), 970, 0),
}


@pytest.mark.parametrize("name", CASES)
def test_the_fee_to_close_agrees_on_z3(name: str) -> None:
    on, book, mark, fee = CASES[name]
    got = pinned_step_agrees(example.policy(on), book, MarkPrice(mark)).got
    assert sum(t.amount_quote for t in got.transfers if t.reason is Reason.TRADING_FEE) == fee
