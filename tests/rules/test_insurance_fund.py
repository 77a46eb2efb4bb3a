"""The ``insurance_fund`` layer and the balances that pay the same way (``backstop_vault``,
``fee_pool``): solvent.rules.insurance_fund, called directly.

Formula: pay = min(R, max(balance, 0), cap); the pool is exhausted when its balance after paying
is ≤ 0. The max(balance, 0) is dYdX's rule that the insurance fund never goes negative
(docs/venues.md#dydx-v4-insurance-fund); the per-bankruptcy cap is Drift's ``quote_max_insurance``
(docs/venues.md#drift-v2-bankruptcy).
"""

from __future__ import annotations

import attrs

from solvent.rules.book import Role, new_book
from solvent.rules.insurance_fund import pay_from
from solvent.rules.ledger import Ctx, Reason, Transfer


def _ctx(fund: int, alice: int = -100) -> Ctx:
    book = new_book(mark_quote=100)
    for name, cash in (("insurance_fund", fund), ("alice", alice)):
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=cash))
    return Ctx(book)


def _pay(fund: int, remaining: int, cap: int | None = None) -> tuple[int, bool, int, int]:
    """(paid, exhausted, fund after, alice after) for alice at −100."""
    ctx, paid, exhausted = pay_from(_ctx(fund), Role.INSURANCE_FUND, "alice", remaining, Reason.INSURANCE_FUND, cap)
    return paid, exhausted, ctx.book.account("insurance_fund").cash_quote, ctx.book.account("alice").cash_quote


class TestPayFrom:
    def test_a_larger_pool_pays_all_and_is_not_exhausted(self) -> None:
        # min(R 100, max(150, 0)) = 100; fund 150 − 100 = 50 > 0: not exhausted
        assert _pay(150, 100) == (100, False, 50, 0)

    def test_a_pool_exactly_the_deficit_is_exhausted(self) -> None:
        # min(100, 100) = 100; fund 0 ≤ 0: exhausted (the boundary of ``<=``)
        assert _pay(100, 100) == (100, True, 0, 0)

    def test_a_pool_one_quantum_larger_is_not(self) -> None:
        # fund 101 pays 100 and keeps 1 > 0
        assert _pay(101, 100) == (100, False, 1, 0)

    def test_a_smaller_pool_pays_what_it_has(self) -> None:
        # min(100, 60) = 60; alice −100 + 60 = −40
        assert _pay(60, 100) == (60, True, 0, -40)

    def test_a_negative_pool_pays_nothing(self) -> None:
        # max(−20, 0) = 0: the fund never goes (further) below zero (dYdX)
        assert _pay(-20, 100) == (0, True, -20, -100)

    def test_the_cap_limits_each_payment(self) -> None:
        # min(100, 150, cap 30) = 30
        assert _pay(150, 100, cap=30) == (30, False, 120, -70)

    def test_a_cap_equal_to_or_above_the_deficit_does_not_bind(self) -> None:
        # min(100, 150, 100) = 100 = min(100, 150, 101)
        assert _pay(150, 100, cap=100) == _pay(150, 100, cap=101) == (100, False, 50, 0)

    def test_nothing_left_to_pay_moves_nothing(self) -> None:
        # R = 0: pay 0, no transfer recorded; a funded pool is not exhausted
        ctx, paid, exhausted = pay_from(_ctx(150), Role.INSURANCE_FUND, "alice", 0, Reason.INSURANCE_FUND)
        assert (paid, exhausted, ctx.entries) == (0, False, ())

    def test_the_transfer_names_the_pool_and_the_reason(self) -> None:
        ctx, _, _ = pay_from(_ctx(150), Role.INSURANCE_FUND, "alice", 100, Reason.INSURANCE_FUND)
        assert [e.item for e in ctx.entries] == [Transfer("insurance_fund", "alice", 100, Reason.INSURANCE_FUND)]

    def test_largest_value(self) -> None:
        # exact at any size: a fund of 2**63 pays a deficit of 2**63 − 1 and keeps 1
        assert _pay(2**63, 2**63 - 1)[:3] == (2**63 - 1, False, 1)


class TestOtherBalances:
    """``backstop_vault`` and ``fee_pool`` pay the same way, from their own account."""

    def test_the_vault_and_the_fee_account_pay_from_their_own_balance(self) -> None:
        for role, reason, account in (
            (Role.BACKSTOP_VAULT, Reason.BACKSTOP_VAULT, "backstop_vault"),
            (Role.FEE_ACCOUNT, Reason.FEE_POOL, "fee_account"),
        ):
            book = _ctx(0).book
            i = book.index(account)
            ctx = Ctx(book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=60)))
            ctx, paid, exhausted = pay_from(ctx, role, "alice", 100, reason)
            assert (paid, exhausted, ctx.book.account("alice").cash_quote) == (60, True, -40)
            assert [e.item for e in ctx.entries] == [Transfer(account, "alice", 60, reason)]
