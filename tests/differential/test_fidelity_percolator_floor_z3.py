"""Percolator Gen B's insurance floor (``insurance_fund.floor_quote``) on both interpreters: the
concrete ``step`` and z3's ``transition`` (every input a free variable pinned to its value) pay the
same part of the deficit from the fund above its floor (tests/rules/test_fidelity_percolator_floor.py)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_percolator_floor as example
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from tests.rules.test_fidelity_percolator import stressed_book


@pytest.mark.parametrize(("floor", "paid"), [(0, 100), (40, 60), (100, 0), (150, 0)])
def test_the_floor_agrees_on_z3(floor: int, paid: int) -> None:
    got = pinned_step_agrees(example.policy(floor), stressed_book(bob_reserve=40, fund=100), MarkPrice(120)).got
    assert sum(t.amount_quote for t in got.transfers if t.reason is Reason.INSURANCE_FUND) == paid
