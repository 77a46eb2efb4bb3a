"""Issue 18's sunk borrower on both interpreters: the concrete ``step`` and z3's ``transition``
(every input a free variable pinned to its value, and every input a constant) give the same step
on each side of the cascade's boundary on Drift and Mango v4 (the borrower sunk and resolved, one
quantum short of sinking and left, one quantum past it, the same gap without the borrow, and a
payer whose deposit covers its cash or does not:
tests/properties/test_lending_stories.py, ``TestSocializedLossSinksABorrower``, tells each)."""

from __future__ import annotations

import pytest
from test_engine_step import both_ways, pinned_step_agrees

from solvent.rules.outcomes import Liquidated
from tests.properties.test_lending_stories import TestSocializedLossSinksABorrower as Story

CASES = {
    # (borrow, Alice's cash, her deposit): whether the cascade liquidates her
    "sunk at -45,250": ((1_000, 1_150_000, 0), True),
    "at exactly zero": ((1_000, 1_195_250, 0), False),
    "one quantum below zero": ((1_000, 1_195_249, 0), True),
    "no borrow": ((0, 1_150_000, 0), False),
    "cash below zero, the deposit covers it": ((0, 1_000_000, 2_000), False),
    "the deposit sold in the cascade": ((0, 1_000_000, 500), True),
}


#: Far from either boundary: behind ``deep`` (session 28). The default suite keeps both boundaries on
#: both presets: Alice's cash at exactly zero and one quantum below (borrowed), and her deposit
#: covering her cash or sold in the cascade (no borrow).
FAR = ("sunk at -45,250", "no borrow")


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.deep) if n in FAR else n for n in CASES])
def test_the_cascade_on_a_borrower_agrees_on_z3(preset: str, name: str) -> None:
    (borrow, cash, deposit), liquidated = CASES[name]
    policy, gap = Story._gap(preset, borrow=borrow, cash=cash, deposit=deposit)
    pinned = pinned_step_agrees(policy, gap.before, gap.event).got
    constant = both_ways(policy, gap.before, gap.event)
    assert constant is not None
    for got in (pinned, constant):
        assert any(isinstance(o, Liquidated) and o.account == "alice" for o in got.outcomes) == liquidated
