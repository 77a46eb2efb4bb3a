"""Drift's sized liquidation leaves the account's spot balances alone (issue 15 follow-up;
docs/venues.md#drift-v2-liquidation).

``liquidate_perp`` moves the user's base and charges the liquidator fee and the insurance-fund fee
to the perp position's quote; it touches no spot balance. A deposit is taken or a borrow repaid
only by other instructions: ``liquidate_spot`` (a deposit for a borrow),
``liquidate_perp_pnl_for_deposit`` and ``liquidate_borrow_for_perp_pnl``, the last two only "once
the perpetual position's size is 0" (github.com/drift-labs/protocol-v2,
programs/drift/src/controller/liquidation.rs at 006ba85). So an order sized to the margin shortage
plus the buffer that leaves part of the position open sells no collateral and repays no borrow;
the shortage is measured with the deposits at their maintenance weight and the borrows at their
liability weight (``total_collateral``, state/margin_calculation.rs).

The book: the drift preset (maintenance 5%, buffer 2%, liquidator fee and insurance-fund fee 1%
each, SOL at 0.9 / 1.1), a lot of 10,000 quanta, alice long 50,000 lots: maintenance 25,000,000,
buffer 10,000,000; a lot frees 10,000 × (5% + 2% − 1%) − 100 = 500. With 1 SOL (1,000 quanta at
100,000, 90,000,000 at its weight) against a cash of −70,000,000 her total collateral is
20,000,000, her shortage 15,000,000: 30,000 lots, which leave her exactly at maintenance plus
buffer with her SOL. Before this rule the engine first sold 750 quanta of SOL (all it would owe
once wholly closed) and then closed 15,000 lots; with a SOL borrow it repaid the borrow first.
"""

from __future__ import annotations

import attrs

from solvent.rules.assets import margin_equity
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import account_maintenance
from solvent.rules.presets import load_preset
from tests.rules.test_fidelity_round_two import _evolve

DRIFT = load_preset("drift")
MARK = 10_000
LOTS = 50_000
SOL = 100_000  # quote quanta a SOL quantum: $100 a SOL
ONE_SOL = 1_000  # SOL quanta
SPOT_REASONS = {Reason.COLLATERAL_SALE, Reason.BORROW_REPAYMENT}


def book(cash: int, sol: int) -> Book:
    """alice long 50,000 lots at the mark on ``cash`` and ``sol`` SOL quanta (negative: a borrow);
    bob short them on plenty, a SOL depositor."""
    start = new_book(mark_quote=MARK, traders=("alice", "bob"), assets=(Asset("SOL", SOL),))
    start = _evolve(
        start,
        alice={
            "cash_quote": cash,
            "principal_quote": cash,
            "size_lots": LOTS,
            "cost_quote": LOTS * MARK,
            "asset_balances": (sol,),
        },
        bob={
            "cash_quote": 10**12,
            "principal_quote": 10**12,
            "size_lots": -LOTS,
            "cost_quote": -LOTS * MARK,
            "asset_balances": (10 * ONE_SOL,),
        },
    )
    deposits = sum(max(a.asset_balances[0], 0) for a in start.accounts) + min(sol, 0)
    return attrs.evolve(start, assets=(Asset("SOL", SOL, net_deposits=deposits),))


def liquidated(cash: int, sol: int):
    return step(DRIFT, book(cash, sol), MarkPrice(MARK))


def room(after: Book) -> int:
    """alice's total collateral over maintenance plus buffer (≥ 0: Drift's can_exit_liquidation)."""
    a = after.account("alice")
    mm = account_maintenance(DRIFT.margin, DRIFT.rounding, a, MARK)
    buffer = abs(a.size_lots) * MARK * DRIFT.liquidation.shortage_buffer_ppm // 10**6
    return margin_equity(DRIFT, after.assets, a) - mm - buffer


def spot_moves(s) -> list:
    return [t for t in s.transfers if t.reason in SPOT_REASONS]


class TestAPartialOrderTouchesNoSpotBalance:
    def test_a_deposit_stays_and_the_order_covers_the_shortage_exactly(self) -> None:
        s = liquidated(-70_000_000, ONE_SOL)
        a = s.after.account("alice")
        assert LOTS - a.size_lots == 30_000  # 15,000,000 / 500
        assert a.asset_balances == (ONE_SOL,)
        assert spot_moves(s) == []
        # the liquidator fee and the full insurance-fund fee, 1% of 300,000,000 each, from a cash
        # already below zero: the penalty's cap counts her SOL (Drift's total collateral)
        assert a.cash_quote == -70_000_000 - 3_000_000 - 3_000_000
        assert room(s.after) == 0

    def test_one_quantum_short_takes_one_lot_more(self) -> None:
        s = liquidated(-70_000_001, ONE_SOL)
        a = s.after.account("alice")
        assert LOTS - a.size_lots == 30_001  # ⌈15,000,001 / 500⌉
        assert a.asset_balances == (ONE_SOL,) and spot_moves(s) == []
        assert 0 <= room(s.after) < 500

    def test_a_borrow_stays(self) -> None:
        # 1 SOL borrowed weighs 110,000,000 against 130,000,000 of cash: the same 15,000,000 short
        s = liquidated(130_000_000, -ONE_SOL)
        a = s.after.account("alice")
        assert LOTS - a.size_lots == 30_000
        assert a.asset_balances == (-ONE_SOL,)
        assert spot_moves(s) == []
        assert a.cash_quote == 130_000_000 - 6_000_000
        assert room(s.after) == 0


class TestTheWholeOrderStillSellsCollateral:
    """The order is the whole position once the total collateral is at most 10,000,499 (a shortage
    of 24,999,501 needs ⌈24,999,501 / 500⌉ = 50,000 lots); at 10,000,500 it is 49,999 lots."""

    def test_at_the_last_partial_order_the_collateral_stays(self) -> None:
        s = liquidated(10_000_500 - 90_000_000, ONE_SOL)
        a = s.after.account("alice")
        assert a.size_lots == 1
        assert a.asset_balances == (ONE_SOL,) and spot_moves(s) == []
        assert room(s.after) == 0  # 700 = 500 of maintenance + 200 of buffer on the lot left

    def test_one_quantum_less_closes_whole_and_sells_what_it_owes(self) -> None:
        s = liquidated(10_000_499 - 90_000_000, ONE_SOL)
        a = s.after.account("alice")
        assert a.size_lots == 0
        # it would owe 5,000,000 of slippage on −79,999,501: ⌈84,999,501 / 100,000⌉ = 850 quanta sold
        sold = [t for t in s.transfers if t.reason is Reason.COLLATERAL_SALE]
        assert [t.amount_quote for t in sold] == [850, 85_000_000]
        assert a.asset_balances == (ONE_SOL - 850,)


def test_backpack_still_repays_the_borrow_before_it_unwinds() -> None:
    """Not Drift's rule: Backpack's liquidation "cancels orders, repays borrows and unwinds
    positions, possibly in part" (support.backpack.exchange/technical-docs/trading/liquidation,
    docs/venues.md#backpack-liquidation), so its half-position steps (``partial_close_ppm``) still
    come after the borrow is repaid from the account's cash, as before."""
    backpack = load_preset("backpack")
    assert backpack.liquidation.shortage_buffer_ppm is None
    s = step(backpack, book(110_000_000, -ONE_SOL), MarkPrice(MARK))
    reasons = [t.reason for t in s.transfers if t.amount_quote]
    assert reasons[:2] == [Reason.BORROW_REPAYMENT, Reason.BORROW_REPAYMENT]
    assert Reason.LIQUIDATION_PENALTY in reasons[2:]
    assert s.after.account("alice").asset_balances == (0,)
