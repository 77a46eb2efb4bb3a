"""Hyperliquid's payer claims at a funding payment (session 26, helper fundiso;
docs/solver-notes.md#funding-questions-on-hyperliquid-session-26).

At a sweep that moved no mark an ADL priced at the previous mark closes the bankrupt trader at its
bankruptcy price (session 25, docs/model.md#the-funds-own-bankruptcy, "A trader bankrupt at a
funding event"), the gap ``⌈D / |S|⌉`` a lot: the winners pay the deficit rounded up to a quantum a
lot, the vault keeps the rounding. At a mark move the gap at the previous mark is the move back, a
whole number of quanta a lot that the winner gained; at a funding payment a winner received only
``⌊q·M·r / 1e6⌋``, which may be a fraction of a quantum a lot. Where his equity is below the rounding
(a price under 40 quanta a lot: initial margin 2.5% of it is under a quantum), the rounding takes
him below zero: no-negative-equity, loss-bounded-by-collateral and claims-backed fail on a book the
proof's assumptions admit (N = 2, K = 1, a funding payment), replayed here on the concrete engine.
No Hyperliquid rule gives it (its ADL is at the previous mark; the quantum a lot is the preset's
units and Solvent's rounding): a finding for the lead, not an accepted claim.

The story: alice long 100 at 1 on 3 (her initial margin, ⌈100 × 2.5%⌉), bob short 100 against her
on ``c``, the vault at 0; funding at 40,000 ppm: alice pays ⌈100 × 1 × 4%⌉ = 4, bob receives 4, and
alice at −1 is bankrupt; the vault has nothing; ADL closes bob's 100 lots at ⌈1 / 100⌉ = 1 a lot:
bob pays 100 for her deficit of 1, the vault keeps 99. Bob ends at ``c`` + 4 − 100: at ``c`` = 95, 96,
97 at −1, 0, +1; at ``c`` = 3 (his own initial margin) at −93.
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.engine import run
from solvent.rules.events import Funding
from solvent.rules.outcomes import AdlFill, Bankrupt, Residual
from solvent.rules.presets import load_preset
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_trader_funding_adl import adl_paid, surplus

HYPERLIQUID = load_preset("hyperliquid")
#: the scope the story lies in: two traders, one funding payment, every trader cross
SCOPE = for_policy(Bounds(accounts=2, events=1, event_kinds=("funding",), isolated=0), HYPERLIQUID)
PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")


def book(bob: int):
    return opened(1, ("alice", "bob"), (("alice", 100, 3), ("bob", -100, bob)))


def funding_step(bob: int):
    return run(HYPERLIQUID, book(bob), [Funding(40_000)])[-1]


def holds(step, claim: str) -> bool:
    return bool(catalog.get(claim).holds(StepView.of(HYPERLIQUID, step)))


class TestAWinnerChargedTheRounding:
    def test_the_books_are_inside_the_proofs_assumptions(self) -> None:
        for bob in (3, 95, 96, 97):
            failing = [a.name for a in book_assumptions(HYPERLIQUID, book(bob), SCOPE) if not a.holds]
            assert failing == [], bob

    def test_bob_pays_a_quantum_a_lot_for_a_deficit_of_one(self) -> None:
        s = funding_step(3)
        assert Bankrupt("alice", 1) in s.outcomes
        fills = [(o.winner, o.lots, o.gap_per_lot_quote) for o in s.outcomes if isinstance(o, AdlFill)]
        assert fills == [("bob", 100, 1)]
        assert adl_paid(s) == {"bob": 100}
        assert surplus(s) == 99
        bob, alice = s.after.account("bob"), s.after.account("alice")
        assert (alice.cash_quote, alice.size_lots) == (0, 0)
        assert (bob.cash_quote, bob.size_lots) == (3 + 4 - 100, 0)
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        assert [holds(s, c) for c in PAYER_CLAIMS] == [False, False, False]

    def test_bob_ends_at_minus_one_zero_and_plus_one(self) -> None:
        """The claims fail exactly where the rounding is more than bob's equity and what he received."""
        for bob, end in ((95, -1), (96, 0), (97, 1)):
            s = funding_step(bob)
            assert adl_paid(s) == {"bob": 100}, bob
            assert s.after.account("bob").cash_quote == end
            assert [holds(s, c) for c in PAYER_CLAIMS] == [end >= 0] * 3, bob
            assert holds(s, "conservation") and holds(s, "deficit-charged-once"), bob


@pytest.mark.parametrize("preset", ["binance", "bybit", "bitmex", "okx"])
def test_the_same_rounding_at_every_bankruptcy_price_preset(preset: str) -> None:
    """Not Hyperliquid's alone: where ADL is at the bankruptcy price at every sweep the same book and
    payment (a price of 1 in the preset's own quanta) charge bob 100 for alice's 1, inside each
    preset's assumptions; the payer claims fail there too (their tables ask mark moves only)."""
    policy = load_preset(preset)
    scope = for_policy(Bounds(accounts=2, events=1, event_kinds=("funding",), isolated=0), policy)
    assert [a.name for a in book_assumptions(policy, book(3), scope) if not a.holds] == []
    s = run(policy, book(3), [Funding(40_000)])[-1]
    assert adl_paid(s) == {"bob": 100}
    assert s.after.account("bob").cash_quote == -93
    view = StepView.of(policy, s)
    assert not any(bool(catalog.get(c).holds(view)) for c in PAYER_CLAIMS)
