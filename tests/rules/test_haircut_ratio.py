"""The ``haircut_ratio`` layer (solvent.rules.haircut_ratio), called directly.

The deficit is charged pro rata to profit (solvent.rules.pro_rata) and never beyond it, so
principal is senior (percolator; docs/model.md#a-haircut-is-charged-for-what-it-took):
    w = max(E − principal, 0) over every trader but the bankrupt one and the order book, R capped at W

The book: alice is bankrupt at −R; bob deposited 500 and holds 800 (profit 300), carol deposited
500 and holds 600 (profit 100): W = 400.
"""

from __future__ import annotations

from solvent.rules.book import Book
from solvent.rules.haircut_ratio import haircut
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.rounding import RoundingRule

RULE = MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),))
WINNERS = {
    "bob": {"cash_quote": 800, "principal_quote": 500},
    "carol": {"cash_quote": 600, "principal_quote": 500},
}


def _haircut(deficit: int, book: Book):
    """(paid, {name: cash after}, transfers) for alice's deficit."""
    ctx, paid = haircut(Ctx(book), RULE, RoundingRule(), "alice", deficit)
    return paid, {a.name: a.cash_quote for a in ctx.book.accounts if a.cash_quote != 0}, [e.item for e in ctx.entries]


def test_capped_at_the_profit(deficit_book) -> None:
    # R 500 capped at W 400: bob 300, carol 100, both back at principal; 100 passes on
    paid, cash, _ = _haircut(500, deficit_book(500, **WINNERS))
    assert paid == 400 and cash == {"alice": -100, "bob": 500, "carol": 500}


def test_a_deficit_equal_to_the_profit(deficit_book) -> None:
    # R = W = 400: min(400, 400) = 400, all of it
    paid, cash, _ = _haircut(400, deficit_book(400, **WINNERS))
    assert paid == 400 and cash == {"bob": 500, "carol": 500}


def test_a_smaller_deficit_is_shared_by_profit(deficit_book) -> None:
    # R 100 < W 400: bob 75, carol 25, each named a haircut
    paid, cash, entries = _haircut(100, deficit_book(100, **WINNERS))
    assert paid == 100 and cash == {"bob": 725, "carol": 575}
    assert entries == [Transfer("bob", "alice", 75, Reason.HAIRCUT), Transfer("carol", "alice", 25, Reason.HAIRCUT)]


def test_the_book_is_haircut_on_its_profit(deficit_book) -> None:
    # liquidity deposited nothing and holds 100: W = 500, R 500 all paid, every payer back at principal
    paid, cash, _ = _haircut(500, deficit_book(500, liquidity={"cash_quote": 100}, **WINNERS))
    assert paid == 500 and cash == {"bob": 500, "carol": 500}
