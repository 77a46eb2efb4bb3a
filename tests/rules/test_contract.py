"""The contract a policy's market trades (``solvent.rules.contract``): the one change of variables
between the venue's terms (a USD price, contracts long or short) and the engine's lot values.

Inverse figures: XBTUSD, USD 1 face, cash in satoshi, prices in whole USD, so ``V = 10^8``
(docs/venues.md#bitmex-liquidation, #bybit-liquidation).
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.properties.scenarios import build
from solvent.rules.arith import Rounding
from solvent.rules.book import new_book
from solvent.rules.contract import (
    LINEAR,
    Contract,
    ContractKind,
    contracts,
    engine_lots,
    from_engine,
    lot_value,
    pnl,
    price_moves,
    price_of,
    to_engine,
    venue_price,
)
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, Funding, MarkPrice, Taker, Trade, Withdraw
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.presets import load_preset

XBT = 10**8
XBTUSD = Contract(ContractKind.INVERSE, value_quanta=10**8, price="1 USD per XBT")
#: USD prices that divide 10^8: every coin value is a whole satoshi
GRID = st.sampled_from(
    (2_000, 2_500, 4_000, 5_000, 6_250, 8_000, 10_000, 12_500, 15_625, 20_000, 25_000, 40_000, 50_000)
)


class TestLinear:
    def test_the_default_contract_is_linear_and_changes_nothing(self) -> None:
        events = [Deposit("a", 5), Trade("a", "b", 3, 101, Taker.SELLER), MarkPrice(99), Funding(-20)]
        assert [to_engine(LINEAR, e) for e in events] == events
        assert [from_engine(LINEAR, e) for e in events] == events
        assert (lot_value(LINEAR, 101), price_of(LINEAR, 101), contracts(LINEAR, -4)) == (101, 101, -4)

    def test_a_linear_contract_has_no_value(self) -> None:
        with pytest.raises(ValueError, match="'value_quanta' must be absent"):
            Contract(ContractKind.LINEAR, value_quanta=5)


class TestInverseTranslation:
    def test_a_mark_is_the_coin_value_per_contract(self) -> None:
        assert to_engine(XBTUSD, MarkPrice(8_000)) == MarkPrice(12_500)
        assert from_engine(XBTUSD, MarkPrice(12_500)) == MarkPrice(8_000)

    def test_buying_contracts_is_selling_lots_and_the_taker_keeps_its_side(self) -> None:
        venue = Trade("alice", "bob", 100, 8_000, Taker.BUYER)
        engine = to_engine(XBTUSD, venue)
        assert engine == Trade("bob", "alice", 100, 12_500, Taker.SELLER)  # alice still takes
        assert from_engine(XBTUSD, engine) == venue

    def test_longs_pay_at_a_positive_rate_so_the_engines_shorts_do(self) -> None:
        assert to_engine(XBTUSD, Funding(100)) == Funding(-100)
        assert from_engine(XBTUSD, Funding(-100)) == Funding(100)

    def test_money_events_pass_unchanged(self) -> None:
        for e in (Deposit("a", 7), Withdraw("a", 3)):
            assert to_engine(XBTUSD, e) == e

    def test_sizes_flip_sign(self) -> None:
        assert engine_lots(XBTUSD, 100) == -100 and contracts(XBTUSD, -100) == 100

    def test_off_grid_prices_round_as_named(self) -> None:
        floor = attrs.evolve(XBTUSD, value_rounding=Rounding.FLOOR)
        ceil = attrs.evolve(XBTUSD, value_rounding=Rounding.CEIL)
        assert (lot_value(XBTUSD, 7_000), lot_value(floor, 7_000), lot_value(ceil, 7_000)) == (14_286, 14_285, 14_286)
        assert price_of(XBTUSD, 14_286) == Fraction(10**8, 14_286)  # exact, not 7,000

    def test_the_price_shown_is_the_grid_price_that_gives_the_value(self) -> None:
        assert venue_price(XBTUSD, 12_500) == 8_000  # V / v is whole
        assert venue_price(XBTUSD, lot_value(XBTUSD, 9_783)) == 9_783  # 10,222: V / v = 9,782.82…
        assert venue_price(XBTUSD, 10**4 * 7 + 3) == Fraction(10**8, 70_003)  # no whole price rounds to it

    def test_a_price_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="must be > 0"):
            lot_value(XBTUSD, 0)

    def test_a_price_at_which_a_contract_is_worth_nothing_is_an_error(self) -> None:
        assert lot_value(XBTUSD, 2 * 10**8 - 1) == 1  # 0.500…: rounds to one satoshi
        with pytest.raises(ValueError, match="is worth 0 coin quanta: state the contract's value in finer quanta"):
            lot_value(XBTUSD, 2 * 10**8 + 1)

    def test_an_inverse_contract_needs_its_value(self) -> None:
        with pytest.raises(ValueError, match="'value_quanta' must be > 0 for an inverse contract"):
            Contract(ContractKind.INVERSE)


def test_a_coin_value_move_is_a_smaller_price_fall_or_a_larger_rise() -> None:
    """v = V / P: v up 25% is P down 20%; v down 20% is P up 25%; v down 100% is no finite price."""
    assert price_moves(250_000) == (200_000, Fraction(1_000_000, 3))
    assert price_moves(200_000)[1] == 250_000
    assert price_moves(1_000_000) == (500_000, None)


class TestSettlement:
    """The engine, fed translated events, pays exactly the venue's inverse formulas."""

    @settings(max_examples=60, deadline=None, database=None)
    @given(n=st.integers(1, 10**6), entry=GRID, price=GRID, long=st.booleans())
    def test_settle_to_mark_pays_the_coin_pnl(self, n: int, entry: int, price: int, long: bool) -> None:
        """bitmex §2 / bybit §3: PnL = n × V × (1/EP − 1/P) satoshi, for the long and the short alike."""
        policy = load_preset("bitmex")
        buyer, seller = ("alice", "bob") if long else ("bob", "alice")
        book = new_book(mark_quote=lot_value(XBTUSD, entry), traders=("alice", "bob"))
        opening = [Deposit("alice", 10**6 * XBT), Deposit("bob", 10**6 * XBT), Trade(buyer, seller, n, entry)]
        book = run(policy, book, [to_engine(XBTUSD, e) for e in opening])[-1].after
        move = step(policy, book, to_engine(XBTUSD, MarkPrice(price)))
        signed = n if long else -n
        assert contracts(XBTUSD, move.after.account("alice").size_lots) == signed
        assert move.after.account("alice").cash_quote - book.account("alice").cash_quote == pnl(
            XBTUSD, signed, entry, price
        )

    def test_funding_is_the_rate_on_the_position_value_in_coin(self) -> None:
        """bitmex: funding = position value (XBT) × rate; at a positive rate the long pays the short."""
        policy = load_preset("bitmex")
        book = new_book(mark_quote=lot_value(XBTUSD, 10_000), traders=("alice", "bob"))
        opening = [Deposit("alice", XBT), Deposit("bob", XBT), Trade("alice", "bob", 100_000, 10_000)]
        book = run(policy, book, [to_engine(XBTUSD, e) for e in opening])[-1].after
        paid = step(policy, book, to_engine(XBTUSD, Funding(100)))  # 0.01%
        value = 100_000 * 10**8 // 10_000  # 10 XBT of contracts
        assert book.account("alice").cash_quote - paid.after.account("alice").cash_quote == value * 100 // 10**6
        assert paid.after.account("bob").cash_quote - book.account("bob").cash_quote == value * 100 // 10**6


class TestPolicy:
    def test_bitmex_declares_xbtusd(self) -> None:
        contract = load_preset("bitmex").contract
        assert (contract.kind, contract.value_quanta, contract.value_rounding) == (
            ContractKind.INVERSE,
            10**8,
            Rounding.HALF_EVEN,
        )

    def test_okex_2018_declares_its_usd_100_btc_futures(self) -> None:
        contract = load_preset("okx-2018").contract
        assert (contract.kind, contract.value_quanta) == (ContractKind.INVERSE, 100 * 10**8)

    def test_every_other_preset_is_linear(self) -> None:
        from solvent.rules.presets import preset_names

        assert {n for n in preset_names() if load_preset(n).contract.is_inverse} == {"bitmex", "okx-2018"}

    def test_an_inverse_contract_round_trips_through_toml(self) -> None:
        policy = load_preset("bitmex")
        text = dumps_policy(policy)
        assert '[contract]\nkind = "inverse"\nvalue_quanta = 100000000' in text
        assert loads_policy(text) == policy

    def test_a_linear_contract_is_not_written(self) -> None:
        """The default is left out, so a linear policy's text and digest did not change."""
        assert "[contract]" not in dumps_policy(load_preset("binance"))

    @pytest.mark.parametrize(
        "table, error",
        [
            (
                'kind = "inverse"',
                "'value_quanta' must be > 0 for an inverse contract (face value × coin quanta per coin × price quanta per quote unit, e.g. 100000000 for XBTUSD in whole USD and satoshi): 0 @ $.contract.value_quanta (venue.toml:25:1)",
            ),
            (
                'kind = "quanto"',
                "'kind' must be one of 'linear', 'inverse': 'quanto' @ $.contract.kind (venue.toml:26:8)",
            ),
            (
                'kind = "inverse"\nvalue_quanta = 1.5',
                "'value_quanta' must be an integer: 1.5 @ $.contract.value_quanta (venue.toml:27:16)",
            ),
            (
                'kind = "inverse"\nvalue_quanta = 100\nvalue_rounding = "up"',
                "'value_rounding' must be one of 'floor', 'ceil', 'half_even': 'up' @ $.contract.value_rounding (venue.toml:28:18)",
            ),
            (
                "face = 1",
                "unknown key 'face' (allowed keys: kind, value_quanta, value_rounding, price) @ $.contract.face (venue.toml:26:1)",
            ),
        ],
    )
    def test_a_bad_contract_names_the_file_and_the_field(self, table: str, error: str) -> None:
        text = dumps_policy(load_preset("binance")).replace("[margin]", f"[contract]\n{table}\n\n[margin]", 1)
        with pytest.raises(PolicyError) as caught:
            loads_policy(text, source="venue.toml")
        assert caught.value.source == "venue.toml"
        assert caught.value.errors == [error]


class TestScenarios:
    """The named scenarios are told in the venue's terms: on XBTUSD the long is long and the crash falls."""

    @pytest.mark.parametrize("name", ["gap-crash", "whale", "flat-winner"])
    def test_the_leveraged_long_is_long_and_the_gap_is_a_fall(self, name: str) -> None:
        policy = load_preset("bitmex")
        story = build(policy, name)
        steps = run(policy, story.book, list(story.events))
        leveraged = "whale" if name == "whale" else "alice"
        before_gap = steps[-2].after
        assert contracts(policy.contract, before_gap.account(leveraged).size_lots) > 0
        old, new = (venue_price(policy.contract, s.market.mark_quote) for s in (before_gap, steps[-1].after))
        assert new < old
        assert (
            isinstance(new, int) and lot_value(policy.contract, new) == steps[-1].after.market.mark_quote
        )  # on the whole-USD grid
        assert any(type(o).__name__ == "Bankrupt" and o.account == leveraged for o in steps[-1].outcomes)
