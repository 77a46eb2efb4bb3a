"""dYdX v4's per-block deleveraging limit at final settlement (issue 15;
docs/venues.md#dydx-v4-final-settlement).

v4-chain's ``DeleverageSubaccounts`` (protocol/x/clob/keeper/deleveraging.go) walks one list a
block, the unfilled liquidations and then ``GetSubaccountsWithPositionsInFinalSettlementMarkets``
(every subaccount holding a position in a market in final settlement), and stops after
``MaxDeleveragingAttemptsPerBlock`` entries (10 by default, protocol/x/clob/flags/flags.go); each
entry is an attempt whatever ``MaybeDeleverageSubaccount`` finds. In Solvent a ``FinalSettlement``
event stands for a block (``rules.final_settlement._settle_within_limit``): its list is every
trader holding a position as the event opens, those below zero first, each once; past the limit an
account keeps its position, noted deferred, for the market's next ``FinalSettlement`` event.

The book is tests/rules/test_fidelity_dydx_block_limit.py's: ``n`` shorts of 100 lots at 500 on
500 each and the long winner. Settled at 500 every short is solvent and closes at the settlement
price against the winner; settled at 510 every short is 500 below zero and is deleveraged at its
bankruptcy price.
"""

from __future__ import annotations

from solvent.rules import final_settlement
from solvent.rules.engine import step
from solvent.rules.events import FinalSettlement
from tests.rules.test_fidelity_dydx_block_limit import DYDX, LOTS, MARK, MOVED, attempts, limited, shorts
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught


def settled(n: int, price: int = MARK, policy=DYDX):
    return step(policy, shorts(n), FinalSettlement(price))


def still_open(s) -> dict[str, int]:
    return {a.name: a.size_lots for a in s.after.traders if a.size_lots}


class TestAtTheSettlementPrice:
    def test_ten_shorts_all_close_and_the_winner_is_the_eleventh_entry(self) -> None:
        s = settled(10)
        assert still_open(s) == {}
        # the winner held a position as the block opened: its entry is the 11th, past the limit,
        # but the ten attempts before it already closed it as their counterparty
        assert attempts(s) == [*((f"short{i:02}", False) for i in range(10)), ("winner", True)]

    def test_the_eleventh_short_waits_for_the_next_block(self) -> None:
        s = settled(11)
        assert still_open(s) == {"short10": -LOTS, "winner": LOTS}
        assert attempts(s)[-2:] == [("short10", True), ("winner", True)]
        again = step(DYDX, s.after, FinalSettlement(MARK))  # the next block goes on settling the market
        assert still_open(again) == {}
        assert attempts(again) == [("short10", False), ("winner", False)]

    def test_without_the_limit_every_position_closes_in_one_event(self) -> None:
        s = settled(11, policy=limited(None))
        assert still_open(s) == {} and attempts(s) == []

    def test_a_limit_no_book_can_reach_adds_nothing(self) -> None:
        # 11 shorts and the winner are 12 traders: a limit of 12 never defers, no outcome is noted
        at = settled(11, policy=limited(12))
        assert attempts(at) == [] and at.after == settled(11, policy=limited(None)).after


class TestBelowZero:
    def test_the_bankrupt_go_first_and_the_eleventh_keeps_its_deficit(self) -> None:
        s = settled(11, MOVED)
        assert still_open(s) == {"short10": -LOTS, "winner": LOTS}
        assert s.after.account("short10").cash_quote == 500 - LOTS * (MOVED - MARK)  # 500 below zero
        assert attempts(s)[-2:] == [("short10", True), ("winner", True)]

    def test_a_limit_of_one(self) -> None:
        s = settled(3, MOVED, limited(1))
        assert still_open(s) == {"short01": -LOTS, "short02": -LOTS, "winner": 2 * LOTS}
        assert attempts(s) == [("short00", False), ("short01", True), ("short02", True), ("winner", True)]


def observe() -> list:
    out = []
    for n, price, policy in ((10, MARK, DYDX), (11, MARK, DYDX), (11, MOVED, DYDX), (3, MOVED, limited(1))):
        s = settled(n, price, policy)
        out.append((still_open(s), attempts(s)))
    return out


def test_every_mutant_of_the_list_is_caught(monkeypatch) -> None:
    assert_every_mutant_is_caught(monkeypatch, final_settlement, "_settle_within_limit", observe, at_least=1)
