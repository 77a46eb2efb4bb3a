"""Trading fees (solvent.rules.fees.charge_fee), called directly.

Formula: fee = N × rate / 1e6 rounded by ``rounding.fee`` (ceil by default: favours the venue);
the insurance fund's share ⌊fee × insurance_share / 1e6⌋ (a split of money already collected, so
it creates nothing); the rest to the fee account (Binance's taker fee and the fund's share of
liquidation fees, docs/venues.md#binance-liquidation-fee).
"""

from __future__ import annotations

from solvent.rules.arith import Rounding
from solvent.rules.book import new_book
from solvent.rules.fees import FeeRule, charge_fee
from solvent.rules.ledger import Ctx
from solvent.rules.rounding import RoundingRule


def _charge(notional: int, rate: int, share: int = 0, rounding: RoundingRule = RoundingRule()) -> tuple[int, int, int]:
    """(alice, insurance fund, fee account) after alice pays."""
    ctx = charge_fee(
        FeeRule(insurance_share_ppm=share), rounding, Ctx(new_book(mark_quote=100)), "alice", notional, rate
    )
    return tuple(ctx.book.account(n).cash_quote for n in ("alice", "insurance_fund", "fee_account"))


def test_an_exact_fee() -> None:
    # 1,000 × 1% = 10
    assert _charge(1_000, 10_000) == (-10, 0, 10)


def test_one_quantum_of_remainder_rounds_up_by_default() -> None:
    # 1,001 × 1% = 10.01 → ⌈⌉ = 11
    assert _charge(1_001, 10_000) == (-11, 0, 11)


def test_the_policy_may_round_down() -> None:
    # ⌊10.01⌋ = 10
    assert _charge(1_001, 10_000, rounding=RoundingRule(fee=Rounding.FLOOR)) == (-10, 0, 10)


def test_the_funds_share_rounds_down() -> None:
    # fee 11, half to the fund: ⌊5.5⌋ = 5 to the fund, 11 − 5 = 6 to the fee account
    assert _charge(1_001, 10_000, share=500_000) == (-11, 5, 6)


def test_the_whole_fee_may_go_to_the_fund() -> None:
    # share 100%: ⌊11 × 1⌋ = 11, nothing left for the fee account
    assert _charge(1_001, 10_000, share=1_000_000) == (-11, 11, 0)


def test_a_zero_rate_moves_nothing() -> None:
    ctx = charge_fee(FeeRule(), RoundingRule(), Ctx(new_book(mark_quote=100)), "alice", 1_000, 0)
    assert ctx.entries == ()


def test_largest_value() -> None:
    # exact: 2**62 × 100% = 2**62
    assert _charge(2**62, 1_000_000) == (-(2**62), 0, 2**62)
