"""Fills under settle-to-mark accounting (solvent.rules.positions), called directly.

A fill at price P while the mark is M pays ``lots × (P − M)`` from buyer to seller at once; both
then hold the position at M (docs/model.md#settle-to-mark-accounting-variation-margin). The cost
basis, kept only for PnL since entry (ADL ranking, reports):
    adding or opening:            C' = C + Δ × P
    reducing without crossing:    C' = ⌊C × |S + Δ| / |S|⌋   (toward −∞)
    crossing zero:                C' = (S + Δ) × P
"""

from __future__ import annotations

import attrs

from solvent.rules.book import Book, new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.positions import _moved, close_against, fill, move_position


def _book(mark: int = 100, **positions: tuple[int, int]) -> Book:
    """``name=(size, cost)``."""
    book = new_book(mark_quote=mark)
    for name, (size, cost) in positions.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=size, cost_quote=cost))
    return book


def _state(ctx: Ctx, name: str) -> tuple[int, int, int]:
    a = ctx.book.account(name)
    return a.size_lots, a.cost_quote, a.cash_quote


class TestMoved:
    """(size, cost) after a change of Δ lots at P."""

    def test_opening(self) -> None:
        # S = 0: C' = 0 + 10 × 100 = 1,000
        assert _moved(0, 10, 0, 100) == (10, 1_000)

    def test_opening_short(self) -> None:
        # C' = 0 + (−10) × 100 = −1,000
        assert _moved(0, -10, 0, 100) == (-10, -1_000)

    def test_adding(self) -> None:
        # 10 at cost 1,000, +5 at 120: C' = 1,000 + 600 = 1,600
        assert _moved(10, 5, 1_000, 120) == (15, 1_600)
        # a short adds with Δ < 0: −1,000 + (−5) × 80 = −1,400
        assert _moved(-10, -5, -1_000, 80) == (-15, -1_400)

    def test_reducing_scales_the_cost(self) -> None:
        # 10 at 1,000, −3 at any price: C' = 1,000 × 7 / 10 = 700 (the fill price does not enter)
        assert _moved(10, -3, 1_000, 90) == (7, 700)

    def test_reducing_rounds_a_remainder_toward_minus_infinity(self) -> None:
        # 1,001 × 7 / 10 = 700.7 → ⌊⌋ = 700; a short: −1,001 × 7 / 10 = −700.7 → ⌊⌋ = −701
        assert _moved(10, -3, 1_001, 90) == (7, 700)
        assert _moved(-10, 3, -1_001, 90) == (-7, -701)

    def test_closing_to_zero(self) -> None:
        # |S + Δ| = 0: C' = C × 0 / 10 = 0
        assert _moved(10, -10, 1_000, 90) == (0, 0)

    def test_crossing_zero_starts_a_new_basis_at_the_fill(self) -> None:
        # 10 → −5 at 90: C' = −5 × 90 = −450 (not a scaled 1,000)
        assert _moved(10, -15, 1_000, 90) == (-5, -450)
        # −10 → +2 at 110: C' = 2 × 110 = 220
        assert _moved(-10, 12, -1_000, 110) == (2, 220)

    def test_no_change(self) -> None:
        # Δ = 0: neither adding nor crossing: C × 10 / 10 = C
        assert _moved(10, 0, 1_003, 90) == (10, 1_003)


class TestFill:
    def test_buying_above_mark_pays_the_seller_the_difference(self) -> None:
        # alice buys 10 from bob at 103, mark 100: alice pays 10 × (103 − 100) = 30
        ctx = fill(Ctx(_book()), "alice", "bob", 10, 103, Reason.TRADE_PRICE)
        assert _state(ctx, "alice") == (10, 1_030, -30) and _state(ctx, "bob") == (-10, -1_030, 30)
        assert [e.item for e in ctx.entries] == [Transfer("alice", "bob", 30, Reason.TRADE_PRICE)]

    def test_buying_below_mark_is_paid_by_the_seller(self) -> None:
        # at 97: diff = 10 × (97 − 100) = −30, so bob pays alice 30
        ctx = fill(Ctx(_book()), "alice", "bob", 10, 97, Reason.TRADE_PRICE)
        assert _state(ctx, "alice") == (10, 970, 30) and _state(ctx, "bob") == (-10, -970, -30)

    def test_a_fill_at_mark_moves_no_cash(self) -> None:
        ctx = fill(Ctx(_book()), "alice", "bob", 10, 100, Reason.TRADE_PRICE)
        assert ctx.entries == () and _state(ctx, "alice") == (10, 1_000, 0)

    def test_zero_lots_change_nothing(self) -> None:
        book = _book(alice=(10, 1_000), bob=(-10, -1_000))
        assert fill(Ctx(book), "alice", "bob", 0, 150, Reason.TRADE_PRICE).book == book

    def test_one_tick_from_mark_on_one_lot_is_one_quantum(self) -> None:
        ctx = fill(Ctx(_book()), "alice", "bob", 1, 101, Reason.TRADE_PRICE)
        assert _state(ctx, "alice")[2] == -1 and _state(ctx, "bob")[2] == 1


class TestMovePosition:
    def test_moves_no_cash(self) -> None:
        ctx = move_position(Ctx(_book(alice=(10, 1_000))), "alice", -3, 90)
        assert _state(ctx, "alice") == (7, 700, 0) and ctx.entries == ()


class TestCloseAgainst:
    def test_a_long_is_sold_to_the_counterparty(self) -> None:
        # alice +10 (cost 1,000) closes 4 into the book at 98, mark 100: the book buys at 98, so
        # alice pays 4 × (100 − 98) = 8; alice 6 at ⌊1,000 × 6 / 10⌋ = 600; the book +4 at 392
        ctx = close_against(Ctx(_book(alice=(10, 1_000))), "alice", "liquidity", 4, 98, Reason.LIQUIDATION_SLIPPAGE)
        assert _state(ctx, "alice") == (6, 600, -8)
        assert _state(ctx, "liquidity") == (4, 392, 8)

    def test_a_short_buys_from_the_counterparty(self) -> None:
        # bob −10 (cost −1,000) closes 4 at 102: bob buys, pays 4 × 2 = 8; −6 at −600
        ctx = close_against(Ctx(_book(bob=(-10, -1_000))), "bob", "liquidity", 4, 102, Reason.LIQUIDATION_SLIPPAGE)
        assert _state(ctx, "bob") == (-6, -600, -8)
        assert _state(ctx, "liquidity") == (-4, -408, 8)

    def test_closing_the_whole_position(self) -> None:
        ctx = close_against(Ctx(_book(alice=(10, 1_000))), "alice", "liquidity", 10, 100, Reason.LIQUIDATION_SLIPPAGE)
        assert _state(ctx, "alice") == (0, 0, 0)

    def test_largest_value(self) -> None:
        # exact: 2**40 lots one quantum under a 2**20 mark: the long pays 2**40
        book = _book(mark=2**20, alice=(2**40, 2**60))
        ctx = close_against(Ctx(book), "alice", "liquidity", 2**40, 2**20 - 1, Reason.LIQUIDATION_SLIPPAGE)
        assert _state(ctx, "alice") == (0, 0, -(2**40))
