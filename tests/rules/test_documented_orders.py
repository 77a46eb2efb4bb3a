"""Which position or collateral a venue closes first, as each multi-market or multi-asset example
beside the presets declares it (``liquidation.order``, issue 13 item 10; docs/portfolio.md decision 4,
docs/venues.md#which-position-goes-first).

Binance in Multi-Assets Mode (examples/binance-multi-assets.toml, §MI: "When users get liquidated,
auto exchange will be immediately triggered if the BUSD/USDT in the USDⓈ-M Futures Wallet balance is
not enough to cover the deficit"): the positions go first and collateral is exchanged only for the
deficit left, so the example declares ``all_at_once`` and not ``collateral_first`` (which repays a
negative USDT balance from collateral before any position, as Bybit's Unified Trading Account does).

The book, in the example's units (a quote quantum of 0.01 USDT, a lot of 0.001 BTC): alice deposits
1,000 quanta of BTC collateral (0.01 BTC, 100 quanta of USDT each at 100,000 USDT/BTC, counted at the
Collateral Value Ratio of 95%, exchanged at 97.5% of its value) and no USDT, and buys 100 lots at
10,000 (0.1 BTC at 100,000 USDT). The mark falls to 9,100: her USDT balance is −90,000 (−900 USDT),
her maintenance 100 × 9,100 × 0.4% = 3,640 (BTCUSDT's first bracket). With BTC collateral at a price
p her equity is −90,000 + ⌊1,000 × p × 95%⌋: liquidated (margin ratio 100%: equity ≤ maintenance)
at p = 98 (3,100 ≤ 3,640), not at p = 99 (4,050).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import attrs
import pytest

from solvent.rules.book import Asset, Book, Market, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import AssetDeposit, AssetPrice, Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.liquidation import Order
from solvent.rules.loading import load_policy
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BINANCE_MA = load_policy(EXAMPLES / "binance-multi-assets.toml")
SWAPPED = attrs.evolve(BINANCE_MA, liquidation=attrs.evolve(BINANCE_MA.liquidation, order=Order.COLLATERAL_FIRST))
BTC = [c.name for c in BINANCE_MA.collateral].index("BTC")


def underwater() -> Book:
    """alice long 100 lots against BTC collateral only, her USDT balance at −90,000 after the mark
    fell from 10,000 to 9,100; not yet liquidated (equity 5,000 > maintenance 3,640)."""
    book = new_book(
        market="BTCUSDT",
        mark_quote=10_000,
        traders=("alice", "bob"),
        assets=tuple(Asset(c.name, 100) for c in BINANCE_MA.collateral),
    )
    events = [
        AssetDeposit("alice", "BTC", 1_000),
        Deposit("bob", 10**9),
        Trade("alice", "bob", 100, 10_000),
        MarkPrice(9_100),
    ]
    steps = run(BINANCE_MA, book, events)
    assert not any(isinstance(o, Liquidated) for s in steps for o in s.outcomes)
    alice = steps[-1].after.account("alice")
    assert (alice.cash_quote, alice.size_lots, alice.asset_balances[BTC]) == (-90_000, 100, 1_000)
    return steps[-1].after


def test_binance_multi_assets_declares_positions_before_collateral() -> None:
    assert BINANCE_MA.liquidation.order is Order.ALL_AT_ONCE
    text = (EXAMPLES / "binance-multi-assets.toml").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith("order = ")]
    assert "§MI" in line and "not enough to cover the deficit" in line


@pytest.mark.parametrize("policy", [BINANCE_MA, SWAPPED], ids=["all_at_once", "collateral_first"])
def test_one_price_step_above_the_trigger_neither_order_acts(policy: Policy) -> None:
    # one step of the BTC price is 1 USDT quantum per BTC quantum (1,000 USDT/BTC): 99 → equity 4,050 > 3,640
    s = step(policy, underwater(), AssetPrice("BTC", 99))
    assert not any(isinstance(o, Liquidated) for o in s.outcomes) and not s.transfers


def test_binance_closes_the_position_and_exchanges_collateral_only_for_the_deficit() -> None:
    s = step(BINANCE_MA, underwater(), AssetPrice("BTC", 98))  # equity 3,100 ≤ 3,640
    (liq,) = [o for o in s.outcomes if isinstance(o, Liquidated)]
    assert (liq.equity_quote, liq.maintenance_quote) == (3_100, 3_640)
    alice = s.after.account("alice")
    # closed at the mark; ⌈90,000 / (98 × 97.5%)⌉ = 942 quanta of BTC exchanged for 90,008, the
    # 8 left goes to the clearance fee, 58 quanta of BTC stay hers
    assert (alice.size_lots, alice.cash_quote, alice.asset_balances[BTC]) == (0, 0, 58)
    assert [t for t in s.transfers if t.reason is Reason.COLLATERAL_SALE] == [
        Transfer("alice@BTC", "liquidity@BTC", 942, Reason.COLLATERAL_SALE),
        Transfer("liquidity", "alice", 90_008, Reason.COLLATERAL_SALE),
    ]


def test_swapping_the_order_to_collateral_first_keeps_the_position_open() -> None:
    """The same sale repays the −90,000 first; the account is checked again, 8 + ⌊58 × 98 × 95%⌋
    = 5,407 > 3,640, and the position stays open: the order the example declares is what closes it."""
    s = step(SWAPPED, underwater(), AssetPrice("BTC", 98))
    assert any(isinstance(o, Liquidated) for o in s.outcomes)
    alice = s.after.account("alice")
    assert (alice.size_lots, alice.cash_quote, alice.asset_balances[BTC]) == (100, 8, 58)


def _venue_portfolio(path: Path) -> bool:
    """A venue's example (it names sources) of several markets or collateral assets."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return bool(data.get("sources")) and (len(data.get("market", [])) > 1 or bool(data.get("collateral")))


MULTI = sorted(p for p in EXAMPLES.glob("*.toml") if _venue_portfolio(p))


@pytest.mark.parametrize("path", MULTI, ids=[p.stem for p in MULTI])
def test_every_multi_market_or_multi_asset_example_states_its_order_with_a_reason(path: Path) -> None:
    """A venue's example of several markets or collateral assets writes ``liquidation.order`` out, with
    the venue's source or the reason it has none (docs/venues.md#which-position-goes-first), so the
    order is never an unstated default."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("order = ")]
    assert len(lines) == 1, path.name
    value, _, comment = lines[0].partition("  # ")
    assert value.split(" = ")[1].strip('"') == load_policy(path).liquidation.order.value
    assert len(comment) > 40 and ("§" in comment or "docs/" in comment), path.name


@pytest.mark.parametrize("price", [99, 98])
@pytest.mark.parametrize("policy", [BINANCE_MA, SWAPPED], ids=["all_at_once", "collateral_first"])
def test_the_symbolic_engine_agrees_on_both_orders(policy: Policy, price: int) -> None:
    from tests.z3_step import z3_step_agrees

    z3_step_agrees(policy, underwater(), AssetPrice("BTC", price))


# Two platforms that document an order among markets (docs/venues.md#which-position-goes-first):
# MetaTrader 4's stop-out closes the most unprofitable position first (examples/mt4-stop-out.toml,
# Axiory §A, MQL5 §M), cTrader's Fair Stop Out the position using the most margin, "irrespective of
# profitability" (examples/ctrader-fair-stop-out.toml, §C, §E, §S). One book for both: alice buys
# 100 micro lots of EURUSD at 1.10000 (110,000 quanta a lot) and 10 oz of XAUUSD at 2,000.00
# (200,000) from the broker, then gold falls. Her EURUSD position has the larger margin and no
# loss, her gold position the smaller margin and the whole loss: the two orders close different
# positions, and each stops after one close with the other position left open.

MT4 = load_policy(EXAMPLES / "mt4-stop-out.toml")
CTRADER = load_policy(EXAMPLES / "ctrader-fair-stop-out.toml")


def with_order(policy: Policy, order: Order) -> Policy:
    return attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, order=order))


def two_symbols(policy: Policy, deposit: int) -> Book:
    book = new_book(
        market="EURUSD", mark_quote=110_000, traders=("alice", "broker"), more_markets=(Market("XAUUSD", 200_000),)
    )
    events = [
        Deposit("alice", deposit),
        Deposit("broker", 10**9),
        Trade("alice", "broker", 100, 110_000),
        Trade("alice", "broker", 10, 200_000, market="XAUUSD"),
    ]
    return run(policy, book, events)[-1].after


def stop_out(policy: Policy, deposit: int, gold: int) -> tuple[list[tuple[int, int]], tuple[int, ...], int]:
    """(each liquidation's equity and maintenance, alice's sizes, her cash) after gold moves to ``gold``."""
    s = step(policy, two_symbols(policy, deposit), MarkPrice(gold, market="XAUUSD"))
    alice = s.after.account("alice")
    liquidations = [(o.equity_quote, o.maintenance_quote) for o in s.outcomes if isinstance(o, Liquidated)]
    return liquidations, tuple(p.size_lots for p in alice.positions), alice.cash_quote


def test_the_two_platforms_declare_their_documented_orders() -> None:
    assert MT4.market_names == CTRADER.market_names == ("EURUSD", "XAUUSD")
    assert MT4.liquidation.order is Order.LARGEST_LOSS_FIRST
    assert CTRADER.liquidation.order is Order.LARGEST_MAINTENANCE_FIRST


class TestMetaTrader4:
    """Gold at 1,875.00 (187,500): alice has lost 125,000 on it. Used margin 1% of EURUSD's 11,000,000
    and 2% of gold's 1,875,000; the stop-out level 20% of it: 22,000 + 7,500 = 29,500."""

    def test_at_exactly_twenty_percent_there_is_no_stop_out(self) -> None:
        assert stop_out(MT4, 154_500, 187_500) == ([], (100, 10), 29_500)  # "falls below 20%": equal is not below

    def test_one_quantum_below_the_gold_position_with_the_loss_goes_first(self) -> None:
        # 29,499 < 29,500: gold closed at the mark (its loss already settled), then 29,499 against
        # EURUSD's 22,000 alone: restored, EURUSD stays open
        assert stop_out(MT4, 154_499, 187_500) == ([(29_499, 29_500)], (100, 0), 29_499)

    def test_the_margin_order_on_the_same_book_closes_eurusd_instead(self) -> None:
        swapped = with_order(MT4, Order.LARGEST_MAINTENANCE_FIRST)
        assert stop_out(swapped, 154_499, 187_500) == ([(29_499, 29_500)], (0, 10), 29_499)


class TestCTraderFairStopOut:
    """Gold at 1,900.00 (190,000): alice has lost 100,000 on it. Used margin 0.2% of EURUSD's
    11,000,000 and 1% of gold's 1,900,000; the stop-out level 50% of it: 11,000 + 9,500 = 20,500."""

    def test_one_quantum_above_the_level_there_is_no_stop_out(self) -> None:
        assert stop_out(CTRADER, 120_501, 190_000) == ([], (100, 10), 20_501)

    def test_at_the_level_the_position_using_the_most_margin_goes_whatever_its_profit(self) -> None:
        # "falls to or below": 20,500 triggers; EURUSD (11,000 > 9,500) closed in full with no loss,
        # then 20,500 against gold's 9,500 alone: restored, the losing gold position stays open
        assert stop_out(CTRADER, 120_500, 190_000) == ([(20_500, 20_500)], (0, 10), 20_500)

    def test_the_loss_order_on_the_same_book_closes_gold_instead(self) -> None:
        swapped = with_order(CTRADER, Order.LARGEST_LOSS_FIRST)
        assert stop_out(swapped, 120_500, 190_000) == ([(20_500, 20_500)], (100, 0), 20_500)


@pytest.mark.parametrize(
    ("policy", "deposit", "gold"),
    [(MT4, 154_500, 187_500), (MT4, 154_499, 187_500), (CTRADER, 120_501, 190_000), (CTRADER, 120_500, 190_000)],
    ids=["mt4-at-level", "mt4-below", "ctrader-above", "ctrader-at-level"],
)
def test_the_symbolic_engine_agrees_on_the_stop_outs(policy: Policy, deposit: int, gold: int) -> None:
    from tests.z3_step import z3_step_agrees

    z3_step_agrees(policy, two_symbols(policy, deposit), MarkPrice(gold, market="XAUUSD"))
