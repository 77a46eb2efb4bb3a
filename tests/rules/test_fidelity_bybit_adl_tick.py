"""Bybit's ADL price on the tick (issue 15): Bybit rounds a long's bankruptcy price up to the
contract's tick and a short's down (help.bybit.com/hc/en-us/articles/360011431853, read for the
inverse contract: docs/venues.md#bybit-liquidation), and ADL closes the opposing traders "at the
bankruptcy price of the liquidated order" (docs/venues.md#bybit-adl). ``adl.price_on_tick``
states it; the ``bybit`` preset declares it.

The worked example, on a book whose tick is 5 quanta a lot: alice long 2 lots at 1,000 on 24
(above Bybit's 1% initial margin, 20), bob short 2 on 1,000, an empty fund. The mark falls one
tick short of 3% to 985: alice pays 30 of settlement and is at −6, 3 a lot. Her bankruptcy price
is 985 + 3 = 988 per lot, which is not on the tick; Bybit's is rounded up to 990, so bob buys her 2
lots at 990, paying 5 a lot over the mark (10) instead of 3 (6), and the 4 beyond her deficit goes
to the insurance fund. A short's is the mirror: at 1,015, 1,012 rounds down to 1,010.
"""

from __future__ import annotations

import attrs

from solvent.rules import adl
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Adl, AdlPrice
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught


def policy(on_tick: bool = True):
    bybit = load_preset("bybit")
    layers = tuple(attrs.evolve(x, price_on_tick=on_tick) if isinstance(x, Adl) else x for x in bybit.deficit)
    # the tick alone: the preset's fee to close at its taker fee is test_fidelity_bybit_fee_to_close's
    fees = attrs.evolve(bybit.fees, taker_ppm=0, maker_ppm=0)
    return attrs.evolve(bybit, deficit=layers, fees=fees)


def book(side: int = 1, alice_cash: int = 24, tick: int = 5) -> Book:
    b = new_book(mark_quote=1_000, tick_quote=tick)
    for name, lots, cash in (("alice", 2 * side, alice_cash), ("bob", -2 * side, 1_000)):
        i = b.index(name)
        b = b.replace_account(
            i,
            attrs.evolve(b.accounts[i], cash_quote=cash, principal_quote=cash, size_lots=lots, cost_quote=lots * 1_000),
        )
    return attrs.evolve(b, net_deposits_quote=alice_cash + 1_000)


def fills(policy, b: Book, mark: int) -> tuple[tuple[int, int], dict[str, int]]:
    s = step(policy, b, MarkPrice(mark))
    fill = next(o for o in s.outcomes if isinstance(o, AdlFill) and o.lots)
    cash = {a.name: a.cash_quote for a in s.after.accounts if a.name in ("alice", "bob", "insurance_fund")}
    return (fill.gap_per_lot_quote, fill.fair_gap_per_lot_quote), cash


class TestBybitAdlOnTick:
    def test_the_preset_declares_it(self) -> None:
        assert next(x for x in load_preset("bybit").deficit if isinstance(x, Adl)).price_on_tick
        assert not next(x for x in load_preset("binance").deficit if isinstance(x, Adl)).price_on_tick

    def test_a_long_bankruptcy_price_rounds_up(self) -> None:
        gaps, cash = fills(policy(), book(), 985)
        assert gaps == (5, 5)  # 988 rounded up to 990: 5 a lot over the mark, the account's own price
        assert cash == {"alice": 0, "bob": 1_000 + 30 - 10, "insurance_fund": 4}

    def test_a_short_bankruptcy_price_rounds_down(self) -> None:
        gaps, cash = fills(policy(), book(side=-1), 1_015)
        assert gaps == (5, 5)  # 1,012 rounded down to 1,010
        assert cash == {"alice": 0, "bob": 1_000 + 30 - 10, "insurance_fund": 4}

    def test_without_it_the_price_is_a_whole_quantum(self) -> None:
        gaps, cash = fills(policy(on_tick=False), book(), 985)
        assert gaps == (3, 3)
        assert cash == {"alice": 0, "bob": 1_000 + 30 - 6, "insurance_fund": 0}

    def test_a_price_on_the_tick_is_kept(self) -> None:
        """alice at 20 is at −10, 5 a lot: 990 is on the tick already."""
        gaps, cash = fills(policy(), book(alice_cash=20), 985)
        assert gaps == (5, 5) and cash["insurance_fund"] == 0

    def test_a_mark_price_is_not_moved(self) -> None:
        """At ``price = "mark"`` the winners pay nothing over the mark, tick or not."""
        p = policy()
        p = attrs.evolve(
            p, deficit=tuple(attrs.evolve(x, price=AdlPrice.MARK) if isinstance(x, Adl) else x for x in p.deficit)
        )
        s = step(p, book(), MarkPrice(985))
        assert [o.gap_per_lot_quote for o in s.outcomes if isinstance(o, AdlFill) and o.lots] == [0]


def observe():
    return [
        fills(policy(on_tick), book(side, cash), mark)
        for on_tick in (True, False)
        for side, mark in ((1, 985), (-1, 1_015))
        for cash in (24, 20)
    ]


def test_every_mutant_of_the_tick_rounding_is_caught(monkeypatch) -> None:
    assert_every_mutant_is_caught(monkeypatch, adl, "tick_gap", observe, at_least=3)
