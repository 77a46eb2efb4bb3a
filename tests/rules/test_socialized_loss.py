"""Pro-rata charges of a deficit (solvent.rules.socialized_loss), called directly.

Formula: share_i = R × w_i / W, rounded per ``rounding.pro_rata`` (up: the excess Σshare − R goes
to the insurance fund as dust; down: the unpaid remainder passes to the next layer;
docs/model.md#pro-rata-rounding-is-a-policy-choice). Weights over every trader but the bankrupt
one, and the order book (docs/model.md#the-book-in-every-profit-taking-layer):
    socialized_loss over winners         w = max(E − principal, 0)
    socialized_loss over open_interest   w = |size| at bankruptcy (Drift, Mango:
                                         docs/venues.md#drift-v2-bankruptcy, #mango-v4-bankruptcy)
    haircut_ratio                        w = profit, R capped at W (percolator)
    clawback                             w = max(window PnL, 0), R capped at W if cap_at_profit
                                         (OKEx 2018: docs/venues.md#okex-clawback-2018)

The book: alice is bankrupt at −R; bob deposited 500 and holds 800 (profit 300), carol deposited
500 and holds 600 (profit 100): W = 400.
"""

from __future__ import annotations

import attrs

from solvent.rules.book import Book, new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.rounding import ProRata, RoundingRule
from solvent.rules.socialized_loss import charge, payers
from solvent.rules.waterfall import Clawback, HaircutRatio, Over, SocializedLoss

UP = RoundingRule()  # up_dust_to_insurance_fund, the default
DOWN = RoundingRule(pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER)
RULE = MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),))


def _book(deficit: int, **accounts: dict) -> Book:
    book = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
    accounts = {"alice": {"cash_quote": -deficit}, **accounts}
    for name, fields in accounts.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **fields))
    return book


WINNERS = {
    "bob": {"cash_quote": 800, "principal_quote": 500},
    "carol": {"cash_quote": 600, "principal_quote": 500},
}


def _charge(
    layer, deficit: int, rounding: RoundingRule = UP, book: Book | None = None, at_bankruptcy: Book | None = None
):
    """(paid, {name: cash after}) for alice's deficit."""
    book = book or _book(deficit, **WINNERS)
    ctx, paid = charge(Ctx(book), RULE, rounding, layer, "alice", deficit, at_bankruptcy)
    return paid, {a.name: a.cash_quote for a in ctx.book.accounts if a.cash_quote != 0}, [e.item for e in ctx.entries]


class TestPayers:
    def test_every_trader_but_the_bankrupt_then_the_book(self) -> None:
        book = _book(100)
        assert [a.name for a in payers(book, "bob")] == ["alice", "carol", "liquidity"]

    def test_only_the_book_when_the_bankrupt_is_the_only_trader(self) -> None:
        book = new_book(mark_quote=100, traders=("alice",))
        assert [a.name for a in payers(book, "alice")] == ["liquidity"]


class TestSocializedLossOverWinners:
    def test_exact_shares(self) -> None:
        # R 100: bob 100 × 300 / 400 = 75, carol 100 × 100 / 400 = 25, no dust
        paid, cash, _ = _charge(SocializedLoss(), 100)
        assert paid == 100 and cash == {"bob": 725, "carol": 575}

    def test_shares_round_up_and_the_dust_goes_to_the_fund(self) -> None:
        # R 101: bob ⌈75.75⌉ = 76, carol ⌈25.25⌉ = 26: charged 102, one quantum of dust to the fund;
        # alice −101 + 102 − 1 = 0
        paid, cash, entries = _charge(SocializedLoss(), 101)
        assert paid == 101 and cash == {"bob": 724, "carol": 574, "insurance_fund": 1}
        assert entries[-1] == Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST)

    def test_shares_round_down_and_the_remainder_passes_on(self) -> None:
        # R 101: bob ⌊75.75⌋ = 75, carol ⌊25.25⌋ = 25: paid 100, alice keeps −1 for the next layer
        paid, cash, _ = _charge(SocializedLoss(), 101, DOWN)
        assert paid == 100 and cash == {"alice": -1, "bob": 725, "carol": 575}

    def test_the_whole_deficit_reaches_principal(self) -> None:
        # R 500 > W 400, not capped: bob 500 × 300/400 = 375, carol 125: bob below his 500 principal
        paid, cash, _ = _charge(SocializedLoss(), 500)
        assert paid == 500 and cash == {"bob": 425, "carol": 475}

    def test_nobody_with_profit_pays_nothing(self) -> None:
        # W = 0: target 0, no transfer, the deficit passes on
        book = _book(100, bob={"cash_quote": 500, "principal_quote": 500})
        paid, cash, entries = _charge(SocializedLoss(), 100, book=book)
        assert (paid, cash, entries) == (0, {"alice": -100, "bob": 500}, [])

    def test_the_book_pays_its_share_of_profit(self) -> None:
        # liquidity deposited nothing and holds 100: w = 100; W = 300 + 100 + 100 = 500;
        # R 100: bob 60, carol 20, liquidity 20
        book = _book(100, liquidity={"cash_quote": 100}, **WINNERS)
        paid, cash, _ = _charge(SocializedLoss(), 100, book=book)
        assert paid == 100 and cash == {"bob": 740, "carol": 580, "liquidity": 80}


class TestSocializedLossOverOpenInterest:
    def test_per_lot_at_bankruptcy(self) -> None:
        # at bankruptcy alice +8, bob −6, carol −2: W = 8 lots (alice excluded); R 101:
        # bob ⌈101 × 6 / 8⌉ = ⌈75.75⌉ = 76, carol ⌈25.25⌉ = 26, dust 1. The positions are read from
        # the book at bankruptcy, not the current one (where every position is already closed).
        at = _book(101, alice={"cash_quote": -101, "size_lots": 8}, bob={"size_lots": -6}, carol={"size_lots": -2})
        paid, cash, _ = _charge(SocializedLoss(over=Over.OPEN_INTEREST), 101, book=_book(101), at_bankruptcy=at)
        assert paid == 101 and cash == {"bob": -76, "carol": -26, "insurance_fund": 1}

    def test_current_book_by_default(self) -> None:
        # no book at bankruptcy given: the current book, where nobody holds a lot: nothing is charged
        paid, _, entries = _charge(SocializedLoss(over=Over.OPEN_INTEREST), 101, book=_book(101))
        assert (paid, entries) == (0, [])


class TestHaircutRatio:
    def test_capped_at_the_profit(self) -> None:
        # R 500 capped at W 400: bob 300, carol 100, both back at principal; 100 passes on
        paid, cash, _ = _charge(HaircutRatio(), 500)
        assert paid == 400 and cash == {"alice": -100, "bob": 500, "carol": 500}

    def test_a_deficit_equal_to_the_profit(self) -> None:
        # R = W = 400: min(400, 400) = 400, all of it
        paid, cash, _ = _charge(HaircutRatio(), 400)
        assert paid == 400 and cash == {"bob": 500, "carol": 500}


class TestClawback:
    WINDOW = {
        "bob": {"cash_quote": 800, "window_pnl_quote": 300},
        "carol": {"cash_quote": 600, "window_pnl_quote": -50},
    }

    def test_only_window_winners_pay_capped_at_their_window_profit(self) -> None:
        # weights: bob max(300, 0) = 300, carol max(−50, 0) = 0; R 500 capped at 300: bob pays 300
        paid, cash, _ = _charge(Clawback(), 500, book=_book(500, **self.WINDOW))
        assert paid == 300 and cash == {"alice": -200, "bob": 500, "carol": 600}

    def test_uncapped_takes_the_whole_deficit(self) -> None:
        # cap_at_profit = false: bob pays all 500
        paid, cash, _ = _charge(Clawback(cap_at_profit=False), 500, book=_book(500, **self.WINDOW))
        assert paid == 500 and cash == {"bob": 300, "carol": 600}

    def test_the_reason_names_the_layer(self) -> None:
        _, _, entries = _charge(Clawback(), 100, book=_book(100, **self.WINDOW))
        assert entries == [Transfer("bob", "alice", 100, Reason.CLAWBACK)]


def test_largest_value() -> None:
    # exact at any size: R = 2**62 + 1 over weights 3 × 2**61 and 2**61 (W = 2**63):
    # bob ⌈(2**62 + 1) × 3/4⌉ = 3 × 2**60 + 1, carol ⌈(2**62 + 1)/4⌉ = 2**60 + 1, dust 1
    big = 2**61
    book = _book(2 * big + 1, bob={"cash_quote": 3 * big}, carol={"cash_quote": big})
    paid, cash, _ = _charge(SocializedLoss(), 2 * big + 1, book=book)
    assert paid == 2 * big + 1
    assert cash == {"bob": 3 * big - (3 * 2**60 + 1), "carol": big - (2**60 + 1), "insurance_fund": 1}
