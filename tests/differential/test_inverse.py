"""Inverse (coin-margined) contracts, both interpreters: XBTUSD, the ``bitmex`` preset's contract.

The preset declares ``[contract] kind = "inverse"``; the engine runs on each contract's coin value
``v = V / P`` (``solvent.rules.contract``): a long of ``n`` contracts is held as a short of ``n``
lots marked at ``v``, with cash in coin quanta. These tests state every event in the venue's terms
(USD prices, contracts bought and sold), translate them with the policy's own contract, run them
through the concrete engine and through z3 (the same ``transition``), and check the inverse
arithmetic the venues publish: coin PnL
``n × V × (1/EP − 1/P)``, margin on the position's coin value, and the bankruptcy price
``EP × L / (L + 1)`` (docs/venues.md#bitmex-liquidation, #bybit-liquidation).

Units: cash in satoshi (1 XBT = 10^8), prices in whole USD, XBTUSD face USD 1, so
``V = 10^8`` and ``v(P) = 10^8 / P`` satoshi per contract; the prices used divide 10^8 exactly
unless a test says otherwise.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_step import both_ways

from solvent.rules.arith import Rounding
from solvent.rules.book import new_book
from solvent.rules.contract import Contract, ContractKind, engine_lots, lot_value, pnl, price_of, to_engine
from solvent.rules.contract import contracts as venue_contracts
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.liquidation_price import bybit_inverse_liquidation_price
from solvent.rules.margin import initial_margin, maintenance_margin
from solvent.rules.outcomes import AdlFill, Bankrupt, Liquidated
from solvent.rules.presets import load_preset
from solvent.rules.venue_formulas import inverse_bankruptcy_price

XBTUSD = load_preset("bitmex").contract
XBT = 10**8  # satoshi
#: USD prices that divide 10^8, so every coin value is a whole satoshi.
GRID = (2_500, 4_000, 5_000, 6_250, 8_000, 10_000, 12_500, 15_625, 20_000)
DIFFERENTIAL = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def opened(policy, contracts: int, entry: int, margin_sat: int, fund_sat: int = 0):
    """alice long ``contracts`` XBTUSD at ``entry`` with ``margin_sat``; bob short, fully collateralized."""
    book = new_book(mark_quote=lot_value(policy.contract, entry), traders=("alice", "bob"))
    events = [Deposit("liquidity", 100 * XBT), Deposit("alice", margin_sat), Deposit("bob", 50 * XBT)]
    if fund_sat:
        events.append(Deposit("insurance_fund", fund_sat))
    events.append(Trade("alice", "bob", contracts, entry))
    return run(policy, book, [to_engine(policy.contract, e) for e in events])[-1].after


def mark(price: int) -> MarkPrice:
    """A move of XBTUSD to ``price`` USD, as the engine's event."""
    return to_engine(XBTUSD, MarkPrice(price))


class TestRepresentation:
    """The linear book holds the inverse position with its sign flipped, at the contract's coin value."""

    def test_the_preset_declares_xbtusd(self) -> None:
        assert (XBTUSD.kind, XBTUSD.value_quanta) == (ContractKind.INVERSE, 10**8)

    def test_a_long_is_a_linear_short(self) -> None:
        book = opened(load_preset("bitmex"), 100_000, 8_000, XBT)
        assert book.account("alice").size_lots == engine_lots(XBTUSD, 100_000) == -100_000
        assert venue_contracts(XBTUSD, book.account("alice").size_lots) == 100_000
        assert book.market.mark_quote == 12_500  # 10^8 / 8,000 satoshi per contract
        assert price_of(XBTUSD, book.market.mark_quote) == 8_000

    @pytest.mark.parametrize("entry, price", [(10_000, 8_000), (8_000, 10_000), (5_000, 12_500), (20_000, 2_500)])
    def test_settlement_is_the_coin_pnl_exactly(self, entry: int, price: int) -> None:
        """bitmex §2 / bybit §3: PnL (coin) = n × V × (1/EP − 1/P), with no rounding on the grid."""
        policy = load_preset("bitmex")
        book = opened(policy, 10_000, entry, 10 * XBT)
        move = step(policy, book, mark(price))
        change = move.after.account("alice").cash_quote - book.account("alice").cash_quote
        assert change == pnl(XBTUSD, 10_000, entry, price)

    def test_off_grid_prices_round_once_per_price(self) -> None:
        """A price that does not divide V rounds the coin value to the nearest satoshi: the PnL error is
        at most one satoshi per contract per price (entry and mark)."""
        policy = load_preset("bitmex")
        book = new_book(mark_quote=lot_value(XBTUSD, 7_900), traders=("alice", "bob"))
        events = [
            Deposit("alice", XBT),
            Deposit("bob", 50 * XBT),
            to_engine(XBTUSD, Trade("alice", "bob", 1_000, 7_900)),
        ]
        book = run(policy, book, events)[-1].after
        move = step(policy, book, mark(3_800))
        change = move.after.account("alice").cash_quote - book.account("alice").cash_quote
        exact = pnl(XBTUSD, 1_000, 7_900, 3_800)
        assert abs(change - exact) <= 1_000

    @pytest.mark.parametrize("price", GRID)
    def test_margin_is_on_the_coin_value(self, price: int) -> None:
        """bitmex §2: margin in coin = contracts × V / P × rate (rounded by the policy's margin rounding)."""
        policy = load_preset("bitmex")
        contracts = 100_000
        coin_value = Fraction(contracts * XBTUSD.value_quanta, price)
        im = initial_margin(policy.margin, policy.rounding, engine_lots(XBTUSD, contracts), lot_value(XBTUSD, price))
        mm = maintenance_margin(
            policy.margin, policy.rounding, engine_lots(XBTUSD, contracts), lot_value(XBTUSD, price)
        )
        assert im == -(-coin_value * policy.margin.tiers[0].initial_ppm // 10**6)  # rounded up (margin = ceil)
        assert mm == -(-coin_value * policy.margin.tiers[0].maintenance_ppm // 10**6)


class TestBankruptcyPrice:
    """The engine's ADL price, mapped back to USD, is EP × L / (L + 1) (bitmex §2, bybit §3)."""

    @pytest.mark.parametrize("leverage", [100, 50, 20, 10])
    def test_isolated_long(self, leverage: int) -> None:
        policy = load_preset("bitmex")
        contracts, entry = 100_000, 10_000
        margin = contracts * lot_value(XBTUSD, entry) // leverage  # the whole isolated margin: no extra
        book = opened(policy, contracts, entry, margin)
        crash = step(policy, book, mark(5_000))  # far through the bankruptcy price, an empty fund
        fills = [o for o in crash.outcomes if isinstance(o, AdlFill) and o.lots]
        assert [(f.winner, f.lots) for f in fills] == [("bob", contracts)]
        bp_coin = lot_value(XBTUSD, 5_000) - fills[0].gap_per_lot_quote  # a linear short closes below mark
        assert price_of(XBTUSD, bp_coin) == inverse_bankruptcy_price(entry, leverage, 1)
        assert crash.after.account("alice").cash_quote == 0


class TestBothInterpreters:
    """The concrete engine and z3 agree on inverse books (the differential test of test_engine_step)."""

    @pytest.mark.parametrize(
        "fund, event, outcome",
        [
            pytest.param(0, mark(5_000), AdlFill, id="no fund: ADL at the bankruptcy price"),
            pytest.param(10 * XBT, mark(5_000), Bankrupt, id="a fund that pays the whole deficit"),
            # 10,080 sat ≈ $9,920.6: above the bankruptcy price ($9,900.99), below maintenance ($9,950.5)
            pytest.param(
                0, MarkPrice(10_080), Liquidated, id="below maintenance, above zero: taken over with its margin"
            ),
            pytest.param(
                0, mark(12_500), None, id="$12,500: a gain for the long, a loss the short covers; nothing liquidated"
            ),
        ],
    )
    def test_hand_built(self, fund: int, event, outcome) -> None:
        policy = load_preset("bitmex")
        book = opened(policy, 100_000, 10_000, 10**7, fund)  # 100x: 0.1 XBT on 10 XBT of contracts
        got = both_ways(policy, book, event)
        assert got is not None
        kinds = {type(o) for o in got.outcomes}
        assert (outcome in kinds) if outcome else not kinds, got.outcomes

    @DIFFERENTIAL
    @given(
        contracts=st.integers(1, 200_000),
        entry=st.sampled_from(GRID),
        price=st.sampled_from(GRID),
        leverage=st.sampled_from([1, 2, 5, 20, 100]),
        fund_xbt=st.integers(0, 3),
    )
    def test_generated(self, contracts: int, entry: int, price: int, leverage: int, fund_xbt: int) -> None:
        policy = load_preset("bitmex")
        coin_notional = contracts * lot_value(XBTUSD, entry)
        margin = max(
            coin_notional // leverage,
            initial_margin(policy.margin, policy.rounding, contracts, lot_value(XBTUSD, entry)),
        )
        book = opened(policy, contracts, entry, margin, fund_xbt * XBT)
        assert both_ways(policy, book, mark(price)) is not None


def test_price_grid_rounding_is_named() -> None:
    """Off the grid the coin value is rounded as the contract says: half-even by default, or floor."""
    floor = Contract(ContractKind.INVERSE, value_quanta=10**8, value_rounding=Rounding.FLOOR)
    assert (lot_value(XBTUSD, 7_000), lot_value(floor, 7_000)) == (14_286, 14_285)  # 14,285.71…


class TestLiquidationPrice:
    """Where the engine liquidates an isolated inverse long, against Bybit's published formula.

    Bybit (§3): ``LP_long = Qty / [PosValue + (IM − MM)]`` with ``PosValue = Qty / EP``: the
    maintenance margin is a fixed coin amount, the position's value *at entry* × MMR. The engine
    (and BitMEX's reading) takes maintenance on the position's value *at the mark*,
    ``Qty / P × MMR``, which grows as an inverse long falls; so it liquidates at
    ``Qty × (1 + MMR) / (PosValue + IM)``, a little above Bybit's price (by about MMR × (IM − MM) /
    (1 + IM) of it: 0.0025% at 100x with MM 0.5%). Recorded here, not fudged: a Bybit inverse
    preset would need maintenance on the entry value.

    Finer units so the difference is visible: USD 100 contracts, prices in cents, cash in
    satoshi, ``V = 100 × 10^8 × 100``.
    """

    def test_the_engine_liquidates_between_its_own_price_and_bybits(self) -> None:
        contract = Contract(ContractKind.INVERSE, value_quanta=10**12, price="cents per BTC")
        base = load_preset("bitmex")
        policy = attrs.evolve(base, contract=contract)
        qty, entry = 10_000, 1_000_000  # USD 1M at $10,000
        pos_value = qty * lot_value(contract, entry)  # 100 XBT in satoshi
        im = initial_margin(policy.margin, policy.rounding, qty, lot_value(contract, entry))  # 1%: 1 XBT
        mmr = Fraction(policy.margin.tiers[0].maintenance_ppm, 10**6)
        # Bybit's formula in its own units: Qty in the price's currency (cents), margins in BTC
        bybit = bybit_inverse_liquidation_price(entry, qty * 100 * 100, Fraction(im, 10**8), pos_value * mmr / 10**8)
        engine = (
            Fraction(contract.value_quanta * qty) * (1 + mmr) / (pos_value + im)
        )  # Qty × (1 + MMR) / (PosValue + IM), in cents
        assert bybit < engine
        assert float((engine - bybit) / engine) == pytest.approx(0.000025, rel=0.01)

        def liquidated_at(price: int) -> bool:
            book = new_book(mark_quote=lot_value(contract, entry), traders=("alice", "bob"), isolated=("alice",))
            opening = [
                Deposit("liquidity", 100 * XBT),
                Deposit("alice", im),
                Deposit("bob", 200 * XBT),
                Trade("alice", "bob", qty, entry),
            ]
            book = run(policy, book, [to_engine(contract, e) for e in opening])[-1].after
            moved = step(policy, book, to_engine(contract, MarkPrice(price)))
            return any(isinstance(o, Liquidated) for o in moved.outcomes)

        between = 995_040  # $9,950.40: above Bybit's LP ($9,950.25), below the engine's ($9,950.50)
        assert bybit < between < engine
        assert liquidated_at(between)  # the engine liquidates here; Bybit's formula would not yet
        assert not liquidated_at(995_060)  # above both
        assert liquidated_at(995_020)  # below both
