"""The ``adl`` layer, auto-deleveraging (solvent.rules.adl), called directly: the score, the queue, the close.

The queue: every trader opposite the bankrupt one, highest score first, ties by book order, whole
positions first (BitMEX's walk down the queue, docs/venues.md#bitmex-adl); then, with
``book_last``, the order book's opposing position (docs/venues.md#binance-adl). Each is closed at
the bankrupt account's price BP = M ± g, g = ⌈−E / |S|⌉ (Binance's BP = EP − side × WB / size with
EP = M, docs/venues.md#binance-liquidation; rounded up as dYdX does, docs/venues.md#dydx-v4-deleveraging);
the excess, under |S| quanta, goes to the insurance fund.
Scores (UP PnL since entry = S × M − C, E equity, N notional, MM maintenance):
    bitmex       UP/|C| × N/E if UP > 0, else UP/|C| × E/N      (docs/venues.md#bitmex-adl)
    binance      max(0, UP)/max(1, E − UP) × MM/E, 0 when E ≤ 0  (docs/venues.md#binance-adl)
    hyperliquid  N × N / (|C| × E), 0 when E ≤ 0                 (docs/venues.md#hyperliquid-adl)

The book (margin 10% / 5%, mark 80, previous mark 100): alice is long 10 from 100 (cost 1,000),
bob short 6 (cost −600, cash 400), carol short 4 (cost −400, cash 100).
"""

from __future__ import annotations

import attrs

from solvent.rules.adl import _Entry, deleverage, score, sort_queue
from solvent.rules.arith import Ratio
from solvent.rules.book import Account, Book, Market, new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import AdlFill, BookDeleveraged
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import Adl, AdlPrice, Ranking

RULE = MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),))
ROUNDING = RoundingRule()


def _book(mark: int = 80, previous: int = 100, **accounts: dict) -> Book:
    book = new_book(mark_quote=mark, traders=("alice", "bob", "carol"))
    book = attrs.evolve(book, market=Market("PERP", mark, previous_mark_quote=previous))
    defaults = {
        "alice": {"size_lots": 10, "cost_quote": 1_000, "cash_quote": -101},
        "bob": {"size_lots": -6, "cost_quote": -600, "cash_quote": 400},
        "carol": {"size_lots": -4, "cost_quote": -400, "cash_quote": 100},
    }
    for name in {**defaults, **accounts}:
        i = book.index(name)
        book = book.replace_account(
            i, attrs.evolve(book.accounts[i], **{**defaults.get(name, {}), **accounts.get(name, {})})
        )
    return book


def _adl(book: Book, layer: Adl = Adl(), px: int = 80) -> Ctx:
    return deleverage(Ctx(book), RULE, ROUNDING, layer, "alice", "liquidity", px)


def _fills(ctx: Ctx) -> dict[str, int]:
    return {o.item.winner: o.item.lots for o in ctx.outcomes if isinstance(o.item, AdlFill)}


def _state(ctx: Ctx, *names: str) -> dict[str, tuple[int, int]]:
    return {n: (ctx.book.account(n).size_lots, ctx.book.account(n).cash_quote) for n in names}


class TestScore:
    BOB = Account("bob", size_lots=-6, cost_quote=-600, cash_quote=400)

    def test_bitmex_winner(self) -> None:
        # UP = −6 × 80 + 600 = 120 > 0, N = 480, E = 400, |C| = 600: (120 × 480) / (600 × 400)
        assert score(Ranking.BITMEX, RULE, ROUNDING, self.BOB, 80) == Ratio(57_600, 240_000)

    def test_bitmex_loser_divides_by_leverage(self) -> None:
        # long 10 from 100 at 80: UP = −200 < 0, E = 50, N = 800: (−200 × 50) / (1,000 × 800)
        loser = Account("x", size_lots=10, cost_quote=1_000, cash_quote=50)
        assert score(Ranking.BITMEX, RULE, ROUNDING, loser, 80) == Ratio(-10_000, 800_000)

    def test_binance(self) -> None:
        # MM = ⌈480 × 5%⌉ = 24; wallet = max(400 − 120, 1) = 280: (120 × 24) / (280 × 400)
        assert score(Ranking.BINANCE, RULE, ROUNDING, self.BOB, 80) == Ratio(2_880, 112_000)

    def test_binance_at_zero_equity_scores_zero(self) -> None:
        # E = 0 is not > 0: num 0; wallet = max(0 − 120, 1) = 1, E floored at 1: 0 / 1
        broke = attrs.evolve(self.BOB, cash_quote=0)
        assert score(Ranking.BINANCE, RULE, ROUNDING, broke, 80) == Ratio(0, 1)

    def test_binance_at_one_quantum_of_equity_scores(self) -> None:
        # E = 1: wallet = max(1 − 120, 1) = 1: (120 × 24) / (1 × 1)
        assert score(Ranking.BINANCE, RULE, ROUNDING, attrs.evolve(self.BOB, cash_quote=1), 80) == Ratio(2_880, 1)

    def test_hyperliquid(self) -> None:
        # N × N / (|C| × E) = 480 × 480 / (600 × 400)
        assert score(Ranking.HYPERLIQUID, RULE, ROUNDING, self.BOB, 80) == Ratio(230_400, 240_000)

    def test_order_scores_everyone_alike(self) -> None:
        assert score(Ranking.ORDER, RULE, ROUNDING, self.BOB, 80) == Ratio(0, 1)


class TestSortQueue:
    @staticmethod
    def _order(*entries: tuple[bool, int, int]) -> list[int]:
        queue = [_Entry(eligible, num, den, i, 1) for i, (eligible, num, den) in enumerate(entries)]
        return [e.index for e in sort_queue(queue)]

    def test_higher_score_first(self) -> None:
        # 1/4 < 2/4 < 3/4 (compared by cross-multiplying): served 2, 1, 0
        assert self._order((True, 1, 4), (True, 2, 4), (True, 3, 4)) == [2, 1, 0]

    def test_equal_scores_keep_book_order(self) -> None:
        # 1/2 = 2/4 = 3/6: a tie, book order decides
        assert self._order((True, 3, 6), (True, 2, 4), (True, 1, 2)) == [0, 1, 2]

    def test_ineligible_last_whatever_its_score(self) -> None:
        assert self._order((False, 100, 1), (True, 1, 100)) == [1, 0]

    def test_negative_scores_rank_below_zero(self) -> None:
        # −1/2 < 0/1: the loser comes after
        assert self._order((True, -1, 2), (True, 0, 1)) == [1, 0]

    def test_empty(self) -> None:
        assert sort_queue([]) == []


class TestDeleverage:
    def test_closes_at_the_bankruptcy_price_and_sends_the_rounding_to_the_fund(self) -> None:
        # E = −101, |S| = 10: g = ⌈10.1⌉ = 11, BP = 80 + 11 = 91. Order ranking: bob (6), then carol
        # (4); they pay 6 × 11 = 66 and 4 × 11 = 44: alice −101 + 110 = 9, the 9 (< 10 lots) → fund
        ctx = _adl(_book())
        assert _fills(ctx) == {"bob": 6, "carol": 4}
        assert _state(ctx, "alice", "bob", "carol", "insurance_fund") == {
            "alice": (0, 0),
            "bob": (0, 334),
            "carol": (0, 56),
            "insurance_fund": (0, 9),
        }
        assert [e.item for e in ctx.entries][-1] == Transfer("alice", "insurance_fund", 9, Reason.PRO_RATA_DUST)

    def test_an_exact_gap_leaves_no_rounding(self) -> None:
        # E = −100: g = 10 exactly; winners pay 60 + 40; alice ends at 0, nothing to the fund
        ctx = _adl(_book(alice={"cash_quote": -100}))
        assert _state(ctx, "alice", "insurance_fund") == {"alice": (0, 0), "insurance_fund": (0, 0)}
        assert all(e.item.reason is Reason.ADL for e in ctx.entries)

    def test_the_fill_records_the_gap_and_the_score(self) -> None:
        fill = next(o.item for o in _adl(_book()).outcomes if isinstance(o.item, AdlFill))
        assert fill == AdlFill("alice", "bob", 6, 11, 11, 0, 1, -6, True)

    def test_higher_score_is_served_first_with_a_partial_queue(self) -> None:
        # alice 5 lots at E = −50 (g = 10). BitMEX: bob 57,600/240,000 = 0.24, carol
        # (80 × 320)/(400 × 100) = 0.64: carol first takes her 4, bob the last 1
        ctx = _adl(_book(alice={"size_lots": 5, "cost_quote": 500, "cash_quote": -50}), Adl(ranking=Ranking.BITMEX))
        assert _fills(ctx) == {"bob": 1, "carol": 4}
        assert _state(ctx, "bob", "carol") == {"bob": (-5, 390), "carol": (0, 60)}

    def test_book_order_serves_bob_first(self) -> None:
        ctx = _adl(_book(alice={"size_lots": 5, "cost_quote": 500, "cash_quote": -50}), Adl(ranking=Ranking.ORDER))
        assert _fills(ctx) == {"bob": 5, "carol": 0}

    def test_a_short_bankrupt_is_bought_back_below_mark(self) -> None:
        # alice short 10 at mark 120, E = −101: g = 11, BP = 120 − 11 = 109; bob and carol (long)
        # sell to her at 109, paying her 11 per lot: −101 + 110 = 9 → fund
        book = _book(
            mark=120,
            alice={"size_lots": -10, "cost_quote": -1_000},
            bob={"size_lots": 6, "cost_quote": 600},
            carol={"size_lots": 4, "cost_quote": 400},
        )
        ctx = _adl(book, px=120)
        assert _state(ctx, "alice", "bob", "carol", "insurance_fund") == {
            "alice": (0, 0),
            "bob": (0, 334),
            "carol": (0, 56),
            "insurance_fund": (0, 9),
        }

    def test_the_book_is_deleveraged_last(self) -> None:
        # only bob (−6) among the traders; the book holds −4: it takes the last 4 at the same 91
        book = _book(carol={"size_lots": 0, "cost_quote": 0}, liquidity={"size_lots": -4, "cost_quote": -400})
        ctx = _adl(book)
        assert BookDeleveraged("alice", "liquidity", 4, 11) in [o.item for o in ctx.outcomes]
        assert _state(ctx, "alice", "liquidity", "insurance_fund") == {
            "alice": (0, 0),
            "liquidity": (0, -44),
            "insurance_fund": (0, 9),
        }

    def test_a_book_exempt_from_adl_takes_the_rest_at_the_fill_price(self) -> None:
        # book_last = false: the 4 lots bob cannot take are closed into the book at px 79 (one tick
        # of slippage): alice −101 + 66 − 4 × 1 = −39, left for the next layer (no rounding to send)
        book = _book(carol={"size_lots": 0, "cost_quote": 0}, liquidity={"size_lots": -4, "cost_quote": -400})
        ctx = _adl(book, Adl(book_last=False), px=79)
        assert _state(ctx, "alice", "liquidity", "insurance_fund") == {
            "alice": (0, -39),
            "liquidity": (0, 4),
            "insurance_fund": (0, 0),
        }

    def test_nobody_opposite(self) -> None:
        # bob and carol flat, the book flat: the queue is empty and the whole position goes to the
        # counterparty at px (the mark): alice keeps her −101
        book = _book(bob={"size_lots": 0, "cost_quote": 0}, carol={"size_lots": 0, "cost_quote": 0})
        ctx = _adl(book)
        assert _fills(ctx) == {"bob": 0, "carol": 0}
        assert _state(ctx, "alice", "liquidity") == {"alice": (0, -101), "liquidity": (10, 0)}

    def test_at_mark_the_winners_pay_nothing(self) -> None:
        # price = "mark": g = 0, BP = 80; alice closes at −101 and the deficit passes on (OKX)
        ctx = _adl(_book(), Adl(price=AdlPrice.MARK))
        assert _fills(ctx) == {"bob": 6, "carol": 4}
        assert _state(ctx, "alice", "bob", "insurance_fund") == {
            "alice": (0, -101),
            "bob": (0, 400),
            "insurance_fund": (0, 0),
        }

    def test_at_the_previous_mark_the_winners_give_back_the_whole_move(self) -> None:
        # price = "previous_mark": g = 100 − 80 = 20 (long), BP = 100: winners pay 10 × 20 = 200,
        # more than the deficit of 101; alice ends at zero and the excess, 99, is the liquidator
        # vault's, which took the account over (Hyperliquid, docs/venues.md#hyperliquid-adl)
        ctx = _adl(_book(), Adl(price=AdlPrice.PREVIOUS_MARK))
        assert _state(ctx, "alice", "bob", "carol", "insurance_fund", "backstop_vault") == {
            "alice": (0, 0),
            "bob": (0, 280),
            "carol": (0, 20),
            "insurance_fund": (0, 0),
            "backstop_vault": (0, 99),
        }
        surplus = [t.item for t in ctx.entries if t.item.reason is Reason.ADL_SURPLUS]
        assert [(t.source, t.destination, t.amount_quote) for t in surplus] == [("alice", "backstop_vault", 99)]

    def test_at_the_previous_mark_a_book_close_below_zero_leaves_no_surplus(self) -> None:
        # nobody opposite: the whole position goes to the counterparty at px (the mark), alice
        # keeps her −101 and the vault gets nothing (the surplus is only what is above zero)
        book = _book(bob={"size_lots": 0, "cost_quote": 0}, carol={"size_lots": 0, "cost_quote": 0})
        ctx = _adl(book, Adl(price=AdlPrice.PREVIOUS_MARK))
        assert _state(ctx, "alice", "backstop_vault") == {"alice": (0, -101), "backstop_vault": (0, 0)}
        assert not [t for t in ctx.entries if t.item.reason is Reason.ADL_SURPLUS]

    def test_largest_value(self) -> None:
        # exact: E = −(2**60 + 1) on 2**20 lots: g = ⌈2**40 + 2**−20⌉ = 2**40 + 1; rounding 2**20 − 1
        n = 2**20
        book = _book(
            mark=2**41,
            previous=2**41,
            alice={"size_lots": n, "cost_quote": n * 2**41, "cash_quote": -(2**60 + 1)},
            bob={"size_lots": -n, "cost_quote": -n * 2**41, "cash_quote": 2**62},
            carol={"size_lots": 0, "cost_quote": 0},
        )
        ctx = _adl(book, px=2**41)
        assert _state(ctx, "alice", "insurance_fund") == {"alice": (0, 0), "insurance_fund": (0, n - 1)}
