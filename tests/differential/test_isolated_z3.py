"""Isolated margin on both interpreters: the concrete ``step`` and z3's ``transition`` (every input
a free variable pinned to its value) give the same step at each boundary of
tests/rules/test_isolated.py and tests/rules/test_fidelity_isolated.py: an isolated position at
its maintenance and one quantum below, bankrupt, a margin move each way, and Bybit's Example 1 at
its liquidation price and a tick above."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_isolated as fidelity
from solvent.rules.book import new_book
from solvent.rules.engine import run
from solvent.rules.events import AddMargin, Deposit, MarkPrice, RemoveMargin, Trade
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import InsuranceFund, VenueAbsorbs

FLAT = Policy(
    "flat",
    MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),)),
    deficit=(InsuranceFund(), VenueAbsorbs()),
)


def _opened(margin: int):
    book = new_book(mark_quote=100, traders=("alice", "bob"), isolated_positions=(("alice", "PERP"),))
    events = [Deposit("liquidity", 10**6), Deposit("alice", 1_000), Deposit("bob", 10_000), AddMargin("alice", margin)]
    return run(FLAT, book, [*events, Trade("alice", "bob", 10, 100)])[-1].after


CASES = {
    "at maintenance": (FLAT, lambda: _opened(145), MarkPrice(90), []),
    "one quantum below": (FLAT, lambda: _opened(144), MarkPrice(90), ["alice:PERP"]),
    "bankrupt": (FLAT, lambda: _opened(145), MarkPrice(80), ["alice:PERP"]),
    "add margin": (FLAT, lambda: _opened(145), AddMargin("alice", 55), []),
    "remove margin": (FLAT, lambda: _opened(300), RemoveMargin("alice", 200), []),
    "bybit example 1": (
        load_preset("bybit"),
        lambda: fidelity._book(margin=40_000, size=1_000, mark=2_000, isolated=True),
        MarkPrice(1_970),
        ["alice:PERP"],
    ),
    "bybit a tick above": (
        load_preset("bybit"),
        lambda: fidelity._book(margin=40_000, size=1_000, mark=2_000, isolated=True),
        MarkPrice(1_971),
        [],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_isolated_step_agrees_on_z3(name: str) -> None:
    policy, make, event, liquidated = CASES[name]
    book = make()
    got = pinned_step_agrees(policy, book, event).got
    assert [o.account for o in got.outcomes if isinstance(o, Liquidated)] == liquidated
    if name == "bankrupt":
        assert Bankrupt("alice:PERP", 55) in got.outcomes
    moved = {"add margin": -55, "remove margin": 200}.get(name, 0)  # the owner's cash moves by its own moves only
    assert got.after.account("alice").cash_quote == book.account("alice").cash_quote + moved
