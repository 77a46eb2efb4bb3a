"""z3 runs the same transition on a book of three markets (issue 13: "z3 runs the same transition
with M markets symbolic (M ≤ 3 at least)"; docs/portfolio.md decisions 1 and 1a). alice is long in
BTC, ETH and SOL against bob, carol and dave; SOL gaps through her whole equity, so her BTC and
ETH positions go into the book at their liquidation fills and her deficit is resolved in SOL; a
move in the middle market and funding in the last do not liquidate her. The trigger sums every
market's maintenance: at a SOL mark of 68 her equity 2,800 is below 1,500 + 1,000 + 340; at 69,
2,900 is not below 2,845. On each step the concrete
engine and z3's evaluation of the same ``transition`` give the same book, ledger and outcomes, and
the step conserves money."""

from __future__ import annotations

import pytest

from solvent.rules.book import Book, Market, new_book
from solvent.rules.engine import run, transition
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
POLICY = Policy("three-markets", FLAT, deficit=(InsuranceFund(), Adl(Ranking.ORDER)))
BTC, ETH, SOL = 30_000, 2_000, 100


def opened() -> Book:
    """alice deposits 6,000 and goes long 1 BTC, 10 ETH and 100 SOL (maintenance 1,500 + 1,000 +
    500 = 3,000 at 5%); the insurance fund holds 100."""
    book = new_book(
        market="BTC",
        mark_quote=BTC,
        traders=("alice", "bob", "carol", "dave"),
        more_markets=(Market("ETH", ETH), Market("SOL", SOL)),
    )
    events = [Deposit(name, 1_000_000) for name in ("bob", "carol", "dave")]
    events += [Deposit("liquidity", 10**7), Deposit("insurance_fund", 100), Deposit("alice", 6_000)]
    events += [
        Trade("alice", "bob", 1, BTC),
        Trade("alice", "carol", 10, ETH, market="ETH"),
        Trade("alice", "dave", 100, SOL, market="SOL"),
    ]
    return run(POLICY, book, events)[-1].after


EVENTS = {
    "sol-gap": MarkPrice(30, market="SOL"),  # alice's equity 6,000 − 7,000 < 0: bankrupt
    "sol-68": MarkPrice(68, market="SOL"),  # equity 2,800 < maintenance 1,500 + 1,000 + 340: liquidated
    "sol-69": MarkPrice(69, market="SOL"),  # equity 2,900 ≥ maintenance 2,845: not
    "eth-move": MarkPrice(1_900, market="ETH"),
    "sol-funding": Funding(5_000, market="SOL"),
    "eth-trade": Trade("carol", "alice", 2, 1_950, market="ETH"),
}


@pytest.mark.parametrize("which", list(EVENTS))
def test_the_symbolic_engine_agrees_on_a_three_market_book(which: str) -> None:
    from tests.z3_step import z3_step_agrees

    book, event = opened(), EVENTS[which]
    _, expected = z3_step_agrees(POLICY, book, event)
    assert expected.book.total_cash_quote() == expected.book.net_deposits_quote


def test_the_gap_in_the_third_market_closes_alice_everywhere_and_resolves_there() -> None:
    after = transition(POLICY, opened(), EVENTS["sol-gap"])
    liquidated = [o for o in (g.item for g in after.outcomes) if isinstance(o, Liquidated)]
    assert [(o.account, o.market) for o in liquidated] == [("alice", "SOL")]
    assert [p.size_lots for p in after.book.account("alice").positions] == [0, 0, 0]
    assert any(isinstance(g.item, Bankrupt) for g in after.outcomes)
    # ADL only in SOL: bob keeps his BTC short and carol her ETH short
    assert after.book.account("bob").size_lots == -1
    assert after.book.account("carol").more_positions[0].size_lots == -10


@pytest.mark.parametrize(("which", "liquidated"), [("sol-68", True), ("sol-69", False)])
def test_the_trigger_sums_the_three_markets_maintenance(which: str, liquidated: bool) -> None:
    after = transition(POLICY, opened(), EVENTS[which])
    assert any(isinstance(g.item, Liquidated) for g in after.outcomes) is liquidated
