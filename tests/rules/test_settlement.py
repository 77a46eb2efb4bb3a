"""Mark-to-market settlement and funding (solvent.rules.settlement), called directly.

Settle-to-mark (docs/model.md#settle-to-mark-accounting-variation-margin; dYdX v4 and Backpack,
docs/venues.md#dydx-v4-margin, #backpack-settlement-and-borrowing): a move M → M' pays each
position S × (M' − M) through the clearing account. Funding at rate r ppm (positive: longs pay):
amount_i = S_i × M × r / 1e6, each rounded on its own as ``rounding.funding`` says; the dust (or
shortfall) is held by the named venue account (docs/model.md#funding-rounding-and-cadence).
"""

from __future__ import annotations

import attrs

from solvent.rules.book import Book, new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.rounding import FundingRounding
from solvent.rules.settlement import pay_funding, settle_mark


def _book(mark: int, **sizes: int) -> Book:
    book = new_book(mark_quote=mark, traders=tuple(sizes) or ("alice", "bob"))
    for name, size in sizes.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=size))
    return book


def _cash(ctx: Ctx, *names: str) -> tuple[int, ...]:
    return tuple(ctx.book.account(n).cash_quote for n in names)


def _transfers(ctx: Ctx) -> list[Transfer]:
    return [e.item for e in ctx.entries]


class TestSettleMark:
    def test_loser_pays_winner_through_clearing(self) -> None:
        # alice +10, bob −10, 100 → 80: alice 10 × (80 − 100) = −200, bob −10 × −20 = +200
        ctx = settle_mark(Ctx(_book(100, alice=10, bob=-10)), 80)
        assert _cash(ctx, "alice", "bob", "clearing") == (-200, 200, 0)
        assert _transfers(ctx) == [
            Transfer("alice", "clearing", 200, Reason.SETTLEMENT),  # losers pay in first
            Transfer("clearing", "bob", 200, Reason.SETTLEMENT),
        ]

    def test_the_mark_and_the_previous_mark(self) -> None:
        ctx = settle_mark(Ctx(_book(100, alice=10, bob=-10)), 80)
        assert (ctx.book.market.mark_quote, ctx.book.market.previous_mark_quote) == (80, 100)

    def test_a_rise_pays_the_long(self) -> None:
        # 100 → 101, one tick: alice +10 × 1 = +10, bob −10
        ctx = settle_mark(Ctx(_book(100, alice=10, bob=-10)), 101)
        assert _cash(ctx, "alice", "bob", "clearing") == (10, -10, 0)

    def test_no_move_moves_no_money(self) -> None:
        ctx = settle_mark(Ctx(_book(100, alice=10, bob=-10)), 100)
        assert ctx.entries == () and ctx.book.market.previous_mark_quote == 100

    def test_no_positions_move_no_money(self) -> None:
        ctx = settle_mark(Ctx(_book(100)), 50)
        assert ctx.entries == () and ctx.book.market.mark_quote == 50

    def test_unbalanced_open_interest_leaves_clearing_nonzero(self) -> None:
        # alice +10 alone (a broken book): she pays 200 in, nobody is owed it: clearing holds 200,
        # which ``conservation`` reports (docs/model.md: clearing ends at zero only when OI balances)
        ctx = settle_mark(Ctx(_book(100, alice=10, bob=0)), 80)
        assert _cash(ctx, "alice", "clearing") == (-200, 200)

    def test_largest_value(self) -> None:
        # exact: 2**40 lots × a 2**20 move = 2**60 each way, no rounding
        ctx = settle_mark(Ctx(_book(2**21, alice=2**40, bob=-(2**40))), 2**21 + 2**20)
        assert _cash(ctx, "alice", "bob", "clearing") == (2**60, -(2**60), 0)


def _fund(rate: int, rounding: FundingRounding, lots: int = 3, mark: int = 10_000) -> Ctx:
    return pay_funding(Ctx(_book(mark, alice=lots, bob=-lots)), rate, rounding)


UP_FEE = FundingRounding.PAYERS_UP_DUST_TO_FEE_ACCOUNT
UP_FUND = FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND
DOWN = FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT


class TestPayFunding:
    def test_an_exact_payment_has_no_dust(self) -> None:
        # 3 × 10,000 × 100 / 1e6 = 3 exactly: alice pays 3, bob gets 3, nothing else moves
        ctx = _fund(100, UP_FEE)
        assert _cash(ctx, "alice", "bob", "clearing", "fee_account") == (-3, 3, 0, 0)
        assert [t.reason for t in _transfers(ctx)] == [Reason.FUNDING, Reason.FUNDING]

    def test_payers_round_up_and_the_dust_of_one_quantum_goes_to_the_fee_account(self) -> None:
        # 3 × 10,000 × 101 / 1e6 = 3.03: alice pays ⌈3.03⌉ = 4, bob gets ⌊3.03⌋ = 3, dust 1 → fee account
        ctx = _fund(101, UP_FEE)
        assert _cash(ctx, "alice", "bob", "clearing", "fee_account", "insurance_fund") == (-4, 3, 0, 1, 0)
        assert _transfers(ctx)[-1] == Transfer("clearing", "fee_account", 1, Reason.FUNDING_DUST)

    def test_the_dust_may_go_to_the_insurance_fund(self) -> None:
        ctx = _fund(101, UP_FUND)
        assert _cash(ctx, "alice", "bob", "clearing", "fee_account", "insurance_fund") == (-4, 3, 0, 0, 1)

    def test_payers_round_down_and_the_fee_account_pays_the_shortfall(self) -> None:
        # alice pays ⌊3.03⌋ = 3, bob gets ⌈3.03⌉ = 4: the fee account pays clearing the 1 short first
        ctx = _fund(101, DOWN)
        assert _cash(ctx, "alice", "bob", "clearing", "fee_account") == (-3, 4, 0, -1)
        assert Transfer("fee_account", "clearing", 1, Reason.FUNDING_DUST) in _transfers(ctx)

    def test_a_negative_rate_makes_shorts_pay_longs(self) -> None:
        # r = −101: alice's amount is −3.03 (she receives ⌊3.03⌋ = 3), bob pays ⌈3.03⌉ = 4
        ctx = _fund(-101, UP_FEE)
        assert _cash(ctx, "alice", "bob", "clearing", "fee_account") == (3, -4, 0, 1)

    def test_a_zero_rate_moves_nothing(self) -> None:
        assert _fund(0, UP_FEE).entries == ()

    def test_the_smallest_payment_rounds_up_to_one_quantum(self) -> None:
        # 1 × 1 × 1 / 1e6: the payer pays ⌈0.000001⌉ = 1, the receiver ⌊·⌋ = 0, the fee account 1
        ctx = _fund(1, UP_FEE, lots=1, mark=1)
        assert _cash(ctx, "alice", "bob", "fee_account") == (-1, 0, 1)

    def test_largest_value(self) -> None:
        # 2**40 lots × 1e6 × 1e6 ppm / 1e6 = 2**40 × 1e6 exactly: no dust
        ctx = _fund(1_000_000, UP_FEE, lots=2**40, mark=1_000_000)
        assert _cash(ctx, "alice", "bob", "fee_account") == (-(2**40) * 10**6, 2**40 * 10**6, 0)
