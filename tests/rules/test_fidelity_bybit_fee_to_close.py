"""Bybit's bankruptcy price includes the fee to close (issue 15): the taker fee on the position's
notional at its bankruptcy price ("Estimated Fee to Close Position" = quantity × bankruptcy price ×
taker fee, Bybit's UTA pages; docs/venues.md#bybit-liquidation). ``liquidation.fee_to_close``
states it; the ``bybit`` preset declares it, at Bybit's non-VIP taker fee of 0.055% (docs/venues.md#bybit-fees).

The worked example is the one a copy of Bybit's USDT-contract FAQ gives: 1 BTC long opened at
10,000 USDT at 50x, taker fee 0.075%: initial margin 200, bankruptcy price 10,000 × (1 − 2%) =
9,800, closing fee 1 × 9,800 × 0.075% = 7.35 USDT, so the position margin is 207.35. At the
preset's units (0.01 USDT, lots of 0.001 BTC) that is 1,000 lots at 1,000 quanta on 20,735.

- Liquidated at a mark of 9,840 (984 a lot; equity 47.35 USDT, under the 50 of maintenance on the
  entry value): the account pays the 7.35 USDT fee to close at 9,800 and the fund receives the
  remaining 40.00 (without the field, all 47.35).
- Gapped to 9,700 with an empty fund: the account is at −92.65; ADL closes bob at 9,800 a BTC (10
  quanta a lot over the mark: 100.00 USDT), the bankrupt account pays the 7.35 fee and ends at
  zero (without the field the price would be 9,792.65 rounded up: 9,800.00 less the fee).
- A short is the mirror: margin 207.65 (bankruptcy price 10,200, fee 7.65).
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules import adl, liquidation
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import load_preset
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

TAKER = 750  # 0.075%


def policy(fee_to_close: bool = True):
    bybit = load_preset("bybit")
    return attrs.evolve(
        bybit,
        liquidation=attrs.evolve(bybit.liquidation, fee_to_close=fee_to_close),
        fees=attrs.evolve(bybit.fees, taker_ppm=TAKER),
    )


def book(side: int = 1, margin: int | None = None) -> Book:
    """alice 1 BTC (1,000 lots) at 10,000 on 207.35 (long) or 207.65 (short); bob opposite on 10,000."""
    margin = margin or (20_735 if side > 0 else 20_765)
    b = new_book(mark_quote=1_000)
    for name, lots, cash in (("alice", 1_000 * side, margin), ("bob", -1_000 * side, 1_000_000)):
        i = b.index(name)
        b = b.replace_account(
            i,
            attrs.evolve(b.accounts[i], cash_quote=cash, principal_quote=cash, size_lots=lots, cost_quote=lots * 1_000),
        )
    return attrs.evolve(b, net_deposits_quote=margin + 1_000_000)


def run(p, b: Book, mark: int):
    s = step(p, b, MarkPrice(mark))
    cash = {a.name: a.cash_quote for a in s.after.accounts if a.name in ("alice", "insurance_fund", "fee_account")}
    gaps = [o.gap_per_lot_quote for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
    return cash, gaps, [t for t in s.transfers if t.reason is Reason.TRADING_FEE]


class TestBybitFeeToClose:
    def test_the_preset_declares_it(self) -> None:
        assert load_preset("bybit").liquidation.fee_to_close
        assert not load_preset("binance").liquidation.fee_to_close

    def test_closed_at_the_bankruptcy_price_it_pays_the_fee_first(self) -> None:
        cash, gaps, fees = run(policy(), book(), 984)
        assert cash == {"alice": 0, "insurance_fund": 4_000, "fee_account": 735}  # 7.35 USDT, then 40.00
        assert fees == [Transfer("alice", "fee_account", 735, Reason.TRADING_FEE)] and gaps == []
        cash, _, _ = run(policy(fee_to_close=False), book(), 984)
        assert cash == {"alice": 0, "insurance_fund": 4_735, "fee_account": 0}

    def test_adl_closes_at_the_bankruptcy_price_with_the_fee(self) -> None:
        cash, gaps, fees = run(policy(), book(), 970)
        assert gaps == [10]  # 970 + 10 = 980 a lot: 9,800 USDT a BTC, Bybit's bankruptcy price
        assert cash == {"alice": 0, "insurance_fund": 0, "fee_account": 735}
        cash, gaps, _ = run(policy(fee_to_close=False), book(), 970)
        assert gaps == [10] and cash["fee_account"] == 0 and cash["insurance_fund"] == 735  # ⌈9.265⌉: the rest is dust

    def test_a_short_is_the_mirror(self) -> None:
        cash, _, _ = run(policy(), book(side=-1), 1_016)
        assert cash == {"alice": 0, "insurance_fund": 4_000, "fee_account": 765}  # 10,200 × 0.075%
        cash, gaps, _ = run(policy(), book(side=-1), 1_030)
        assert gaps == [10] and cash == {"alice": 0, "insurance_fund": 0, "fee_account": 765}

    def test_the_gap_rounds_up_past_the_fee(self) -> None:
        """alice long on 197.30 gapped to 9,700 is at −102.70: with the fee to close her gap is
        (10,270 + 727.5) / 999.25 = 11.006 a lot, rounded up to 12."""
        _, gaps, _ = run(policy(), book(1, 19_730), 970)
        assert gaps == [12]

    def test_the_fee_never_makes_a_deficit(self) -> None:
        assert liquidation.fee_to_close(TAKER, 1_000, True, 984, 300, liquidation.Rounding.CEIL) == 300


class TestAtThePresetsOwnTakerFee:
    """The preset's taker fee is Bybit's non-VIP 0.055% (docs/venues.md#bybit-fees), so the fee to
    close matters on the preset itself: the FAQ's long on 207.35, liquidated at 9,840, pays
    0.055% × 9,798.04 = 5.39 (its bankruptcy price with that fee: 9,840 − (47.35 − 5.39)) and the
    fund takes 41.96; gapped to 9,700 the winner buys at 9,800 (a whole 10 USDT a BTC, the
    preset's price quantum), the account pays the 5.39 and the 1.96 left is the fund's."""

    def test_the_preset_charges_it(self) -> None:
        bybit = load_preset("bybit")
        assert (bybit.fees.taker_ppm, bybit.fees.maker_ppm) == (550, 200)
        cash, gaps, fees = run(bybit, book(), 984)
        assert cash == {"alice": 0, "insurance_fund": 4_196, "fee_account": 539} and gaps == []
        assert fees == [Transfer("alice", "fee_account", 539, Reason.TRADING_FEE)]

    def test_gapped_the_winner_buys_at_the_price_with_the_fee(self) -> None:
        cash, gaps, _ = run(load_preset("bybit"), book(), 970)
        assert gaps == [10] and cash == {"alice": 0, "insurance_fund": 196, "fee_account": 539}

    def test_the_fee_the_winners_cover_is_not_a_second_charge_of_the_deficit(self) -> None:
        """deficit-charged-once: the ADL inflow (100.00) exceeds what the layer covered (92.65) by
        the fee passed on (5.39) and the dust to the fund (1.96); neither is kept, so the deficit is
        charged once. Without the fee passed on, 5.39 more than covered would have been kept."""
        from solvent.properties import catalog

        bybit = load_preset("bybit")
        s = step(bybit, book(), MarkPrice(970))
        assert catalog.get("deficit-charged-once").holds(catalog.StepView.of(bybit, s)) is True
        kept = attrs.evolve(s, transfers=tuple(t for t in s.transfers if t.reason is not Reason.TRADING_FEE))
        assert catalog.get("deficit-charged-once").holds(catalog.StepView.of(bybit, kept)) is False

    def test_a_short_at_the_preset(self) -> None:
        cash, _, _ = run(load_preset("bybit"), book(side=-1), 1_016)
        assert cash == {"alice": 0, "insurance_fund": 4_203, "fee_account": 562}  # 0.055% × 10,202.03, rounded up


def observe():
    """The example both ways and both sides, and two margins whose gap with the fee lies just past a
    whole quantum (11.006 a lot for the long, 10.989 for the short: the divisor's side matters)."""
    cases = [(side, None, mark) for side, marks in ((1, (984, 970)), (-1, (1_016, 1_030))) for mark in marks]
    cases += [(1, 19_730, 970), (-1, 19_775, 1_030)]
    runs = [run(policy(on), book(side, margin), mark) for on in (True, False) for side, margin, mark in cases]
    # a short of 7 lots at 1,000 whose equity at price zero is −1, −100 and −7,000 (its price below
    # zero, no fee in it: gaps 1,001, 1,015 and exactly 2,000, where the fee's share of the price
    # would move it by a whole quantum), 0 (price 0) and +1 (price 0, the division rounding down)
    equities = (-7_001, -7_100, -14_000, -7_000, -6_999)
    shorts = [adl.gap_with_fee(equity, 7, False, 1_000, 550) for equity in equities]
    return runs, shorts


def test_every_mutant_of_the_fee_to_close_is_caught(monkeypatch) -> None:
    from solvent.rules import engine

    assert_every_mutant_is_caught(monkeypatch, liquidation, "fee_to_close", observe, at_least=4, importers=(engine,))
    assert_every_mutant_is_caught(monkeypatch, adl, "gap_with_fee", observe, at_least=3)


def _nested_gap(equity: int, lots: int, long: bool, mark: int, fee_ppm: int) -> int:
    """The gap as first written (issue 18): ⌈(−E × 1e6 + f × |S| × M) / (|S| × (1e6 ∓ f))⌉, at least 0;
    for a short below zero at price zero (|S| × M + E < 0), which closes at price 0 (a price is
    never below zero; the venue resets what is left), the whole mark."""
    lots = lots if lots > 0 else 1
    if not long and lots * mark + equity < 0:
        return mark
    rate = max(1_000_000 - fee_ppm, 1) if long else 1_000_000 + fee_ppm
    return max(-((equity * 1_000_000 - fee_ppm * lots * mark) // (lots * rate)), 0)


#: the draws for the one-division form (issue 18)
GAP_INPUTS = {
    "equity": st.one_of(st.integers(-(10**15), 10**15), st.integers(-50, 50)),
    "lots": st.one_of(st.integers(-3, 10), st.integers(0, 10**6)),
    "long": st.booleans(),
    "mark": st.one_of(st.integers(1, 100), st.integers(1, 10**9)),
    "fee_ppm": st.one_of(st.sampled_from([0, 1, 550, 750, 999_999, 1_000_000]), st.integers(0, 1_000_000)),
}


#: 400 draws in the default suite (3,000 took 40 s of it at load 5-8: the quantum boundaries and
#: the fee's extremes are pinned by the test after and by the mutants above); 3,000 under deep
@settings(max_examples=400, database=None, derandomize=True)
@given(**GAP_INPUTS)
def test_the_price_over_one_denominator_is_the_nested_gap(equity, lots, long, mark, fee_ppm) -> None:
    """``gap_with_fee`` writes a short's bankruptcy price as one division (issue 18, for the
    prover); on the concrete engine it is the nested gap to the quantum, at every fee rate up to
    100% (where the long's divisor is clamped to 1) and every lot count (0 and below: divisor 1)."""
    assert adl.gap_with_fee(equity, lots, long, mark, fee_ppm) == _nested_gap(equity, lots, long, mark, fee_ppm)


@pytest.mark.deep
@settings(max_examples=3_000, database=None, derandomize=True)
@given(**GAP_INPUTS)
def test_the_price_over_one_denominator_is_the_nested_gap_many(equity, lots, long, mark, fee_ppm) -> None:
    assert adl.gap_with_fee(equity, lots, long, mark, fee_ppm) == _nested_gap(equity, lots, long, mark, fee_ppm)


def test_the_price_over_one_denominator_at_the_quantum_boundaries() -> None:
    """Equities either side of a gap of exactly 11 quanta a lot (7 lots at 1,000, the preset's
    0.055%): each form gives the same gap, and the gap steps from 11 to 12 inside the range, so a
    floor and a ceiling swapped, or the fee's side, would show."""
    lots, mark = 7, 1_000
    for long, rate in ((True, 999_450), (False, 1_000_550)):
        boundary = -(11 * lots * rate - 550 * lots * mark) // 1_000_000  # −E × 1e6 ≈ 11 × |S| × rate − f|S|M
        gaps = set()
        for equity in range(boundary - 3, boundary + 4):
            gap = adl.gap_with_fee(equity, lots, long, mark, 550)
            assert gap == _nested_gap(equity, lots, long, mark, 550), (long, equity)
            gaps.add(gap)
        assert gaps == {11, 12}, (long, gaps)
