"""The deficit nobody opposite can take, paid by a fund that holds what it takes over
(``rules.bankruptcy.fund_takes_over``, BitMEX), on both interpreters: the concrete ``step`` and z3's
``transition`` (every input a free variable pinned to its value) give the same takeover payment,
the same layers and the same books, on helper D's story (tests/solver/test_bitmex_residual_story.py:
bob's 1,980 left after ADL, the fund at −2,040 since session 21's gap over the whole position) and
at its boundary (1,979 and 1,980 more for bob: 1 quantum, then nothing more for the fund to pay)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.solver.test_bitmex_residual_story as story
from solvent.rules.ledger import Reason


@pytest.mark.parametrize(("more", "paid"), [(0, 1_980), (1_979, 1), (1_980, 0)])
def test_the_fund_takes_over_on_z3(more: int, paid: int) -> None:
    got = pinned_step_agrees(story.BITMEX, story._book(bob_cash=1_020 + more), story.STORY.events[0]).got
    takeover = [t.amount_quote for t in got.transfers if t.reason is Reason.FUND_TAKEOVER and t.destination == "bob"]
    assert sum(takeover) == paid
    assert (got.after.account("bob").cash_quote, got.after.account("insurance_fund").cash_quote) == (0, -60 - paid)
