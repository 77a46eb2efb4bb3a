"""A trader made bankrupt at a funding sweep on Hyperliquid (session 25) on both interpreters: the
concrete ``step`` and z3's ``transition`` (every input a free variable pinned to its value) give the
same close at the bankruptcy price (tests/rules/test_fidelity_trader_funding_adl.py): at −1 after the
funding payment bob pays her deficit of 1, rounded per fill (session 26: 1 a lot, 1,000, per lot), and
the vault keeps nothing; at 0 and +1 the vault takes her over and
bob's cash moves by the 12,870 he receives alone."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_trader_funding_adl as story
from solvent.rules.engine import run
from solvent.rules.events import Funding

#: alice's end of the funding event → (bob's cash, the vault's (cash, lots)) after it
AFTER = {-1: (1_022_869, (0, 0)), 0: (1_022_870, (0, 1_000)), 1: (1_022_870, (1, 1_000))}


@pytest.mark.parametrize("x", AFTER)
def test_a_trader_at_a_funding_sweep_agrees_on_z3(x: int) -> None:
    held = run(story.HYPERLIQUID, story.book(story.ALICE[x]), [story.EVENTS[0]])[-1].after
    got = pinned_step_agrees(story.HYPERLIQUID, held, Funding(13_000)).got
    bob, vault = AFTER[x]
    assert got.after.account("bob").cash_quote == bob
    v = got.after.account("backstop_vault")
    assert (v.cash_quote, v.size_lots) == vault
