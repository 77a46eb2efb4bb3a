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

from solvent.rules.book import Asset, Book, new_book
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
