"""The ``socialized_loss`` layer (solvent.rules.socialized_loss), called directly.

The whole deficit R is charged pro rata (solvent.rules.pro_rata), never capped, over every trader
but the bankrupt one and the order book (docs/model.md#the-book-in-every-profit-taking-layer):
    over = "winners"         w = max(E − principal, 0)
    over = "open_interest"   w = |size| at bankruptcy (Drift, Mango:
                             docs/venues.md#drift-v2-bankruptcy, #mango-v4-bankruptcy)

The book: alice is bankrupt at −R; bob deposited 500 and holds 800 (profit 300), carol deposited
500 and holds 600 (profit 100): W = 400.
"""

from __future__ import annotations

from solvent.rules.book import Book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.rounding import RoundingRule
from solvent.rules.socialized_loss import socialize
from solvent.rules.waterfall import Over, SocializedLoss

RULE = MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),))
WINNERS = {
    "bob": {"cash_quote": 800, "principal_quote": 500},
    "carol": {"cash_quote": 600, "principal_quote": 500},
}


def _socialize(layer: SocializedLoss, deficit: int, book: Book, at_bankruptcy: Book | None = None):
    """(paid, {name: cash after}, transfers) for alice's deficit."""
    ctx, paid = socialize(Ctx(book), RULE, RoundingRule(), layer, "alice", deficit, at_bankruptcy)
    return paid, {a.name: a.cash_quote for a in ctx.book.accounts if a.cash_quote != 0}, [e.item for e in ctx.entries]


class TestOverWinners:
    def test_exact_shares(self, deficit_book) -> None:
        # R 100: bob 100 × 300 / 400 = 75, carol 100 × 100 / 400 = 25, no dust
        paid, cash, entries = _socialize(SocializedLoss(), 100, deficit_book(100, **WINNERS))
        assert paid == 100 and cash == {"bob": 725, "carol": 575}
        assert entries == [
            Transfer("bob", "alice", 75, Reason.SOCIALIZED_LOSS),
            Transfer("carol", "alice", 25, Reason.SOCIALIZED_LOSS),
        ]

    def test_the_whole_deficit_reaches_principal(self, deficit_book) -> None:
        # R 500 > W 400, not capped: bob 500 × 300/400 = 375, carol 125: bob below his 500 principal
        paid, cash, _ = _socialize(SocializedLoss(), 500, deficit_book(500, **WINNERS))
        assert paid == 500 and cash == {"bob": 425, "carol": 475}

    def test_nobody_with_profit_pays_nothing(self, deficit_book) -> None:
        # W = 0: target 0, no transfer, the deficit passes on
        book = deficit_book(100, bob={"cash_quote": 500, "principal_quote": 500})
        paid, cash, entries = _socialize(SocializedLoss(), 100, book)
        assert (paid, cash, entries) == (0, {"alice": -100, "bob": 500}, [])

    def test_the_book_pays_its_share_of_profit(self, deficit_book) -> None:
        # liquidity deposited nothing and holds 100: w = 100; W = 300 + 100 + 100 = 500;
        # R 100: bob 60, carol 20, liquidity 20
        book = deficit_book(100, liquidity={"cash_quote": 100}, **WINNERS)
        paid, cash, _ = _socialize(SocializedLoss(), 100, book)
        assert paid == 100 and cash == {"bob": 740, "carol": 580, "liquidity": 80}


class TestOverOpenInterest:
    def test_per_lot_at_bankruptcy(self, deficit_book) -> None:
        # at bankruptcy alice +8, bob −6, carol −2: W = 8 lots (alice excluded); R 101:
        # bob ⌈101 × 6 / 8⌉ = ⌈75.75⌉ = 76, carol ⌈25.25⌉ = 26, dust 1. The positions are read from
        # the book at bankruptcy, not the current one (where every position is already closed).
        at = deficit_book(
            101, alice={"cash_quote": -101, "size_lots": 8}, bob={"size_lots": -6}, carol={"size_lots": -2}
        )
        paid, cash, _ = _socialize(SocializedLoss(over=Over.OPEN_INTEREST), 101, deficit_book(101), at_bankruptcy=at)
        assert paid == 101 and cash == {"bob": -76, "carol": -26, "insurance_fund": 1}

    def test_current_book_by_default(self, deficit_book) -> None:
        # no book at bankruptcy given: the current book, where nobody holds a lot: nothing is charged
        paid, _, entries = _socialize(SocializedLoss(over=Over.OPEN_INTEREST), 101, deficit_book(101))
        assert (paid, entries) == (0, [])
