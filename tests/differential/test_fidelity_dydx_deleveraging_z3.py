"""dYdX v4's deleveraging (per-fill pricing, the overlap rule) on both interpreters: the concrete
``step`` and z3's ``transition`` (every input a free variable pinned to its value) give the same
fills, amounts and skipped accounts (tests/rules/test_fidelity_dydx_deleveraging.py tells it)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_dydx_deleveraging as example
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason

CASES = {
    # per fill, dave_under skipped: 500 + 499, then dave_under against the book
    "per fill, overlap": (dict(), example.book, 1_000_999),
    # per lot: a quantum a lot, the excess to the fund
    "per lot": (dict(per_fill=False), example.book, example.BTC),
    # without the overlap rule the underwater long pays 500
    "no overlap": (dict(overlap=False), example.book, 999),
    # the first branch at its boundary: dave_under left at exactly 0
    "at initial margin": (dict(), lambda: example.underwater_by(-500), 999),
}


@pytest.mark.parametrize("name", CASES)
def test_dydx_deleveraging_agrees_on_z3(name: str) -> None:
    fields, book, adl_total = CASES[name]
    got = pinned_step_agrees(example.policy(**fields), book(), MarkPrice(example.MOVED)).got
    assert sum(t.amount_quote for t in got.transfers if t.reason is Reason.ADL) == adl_total
