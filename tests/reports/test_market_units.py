"""A market with a lot of its own (a ``[[market]]`` table's ``lot``) reads its prices in it: ETH
at 0.01 ETH a lot and 0.01 USDT a quantum is 1 USDT per ETH a quantum, BTC at 0.001 BTC 10 USDT
(issue 13; docs/portfolio.md, decision 1b)."""

from __future__ import annotations

from pathlib import Path

from solvent.reports.money import Money
from solvent.reports.story import describe_event, marks_text
from solvent.rules.book import Market, new_book
from solvent.rules.events import MarkPrice, Trade
from solvent.rules.loading import load_policy
from solvent.rules.presets import load_preset, preset_names

POLICY = load_policy(Path(__file__).resolve().parents[2] / "examples" / "two-markets.toml")
BOOK = new_book(market="BTC", mark_quote=10_000, traders=("alice", "bob"), more_markets=(Market("ETH", 10_000),))


def test_each_market_reads_its_prices_in_its_own_lot() -> None:
    money = Money.of(POLICY)
    assert money.in_market("ETH").price(10_000) == "USDT 10,000/ETH"
    assert money.in_market("BTC").price(10_000) == "USDT 100,000/BTC" == money.price(10_000)


def test_a_story_tells_each_markets_prices_in_its_unit() -> None:
    money = Money.of(POLICY)
    move = describe_event(MarkPrice(3_399, market="ETH"), BOOK, POLICY.contract, money)
    assert move == "mark of ETH USDT 10,000 → USDT 3,399/ETH (−66.01%)"
    trade = describe_event(Trade("alice", "bob", 100, 10_000, market="ETH"), BOOK, POLICY.contract, money)
    assert trade == "alice buys 100 ETH from bob at USDT 10,000/ETH (alice takes)"
    after = BOOK.with_fields(more_markets=(Market("ETH", 3_399),))
    assert marks_text(BOOK, after, POLICY.contract, money) == (
        "marks: BTC USDT 100,000/BTC, ETH USDT 10,000/ETH → USDT 3,399/ETH"
    )


def test_one_lot_for_every_market_reads_as_before() -> None:
    for name in preset_names():
        policy = load_preset(name)
        assert Money.of(policy) == Money.from_units(policy.units, policy.contract)
    shared = Money.from_units(POLICY.units, POLICY.contract)
    assert marks_text(BOOK, None, POLICY.contract, shared) == "marks in USDT/BTC: BTC 100,000, ETH 100,000"


def test_an_outcome_in_a_market_with_its_own_lot_reads_its_prices_in_it() -> None:
    """A liquidation found in ETH gives its fill price per ETH, not per BTC (the first market's
    lot); an outcome of the first market, or of one market, reads as before."""
    from solvent.reports.story import describe_outcome
    from solvent.rules.outcomes import Liquidated

    money = Money.of(POLICY)
    eth = describe_outcome(Liquidated("alice", -5, 10, 100, 3_399, market="ETH"), POLICY.contract, money)
    assert eth.endswith("fill_price_quote=USDT 3,399/ETH, market=ETH)")
    btc = describe_outcome(Liquidated("alice", -5, 10, 100, 3_399, market="BTC"), POLICY.contract, money)
    assert btc.endswith("fill_price_quote=USDT 33,990/BTC, market=BTC)")
    one = describe_outcome(Liquidated("alice", -5, 10, 100, 3_399), POLICY.contract, money)
    assert one.endswith("fill_price_quote=USDT 33,990/BTC)")
