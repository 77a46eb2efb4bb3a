"""Bybit's Unified Trading Account in cross margin with BTC collateral at its collateral value
ratio by tiers of quantity (issue 13 items 6 and 21; examples/bybit-multi-collateral.toml,
rules/value_tiers.py, docs/portfolio.md decision 2b).

Bybit's page (§V, "Understanding Collateral Value Ratios in Unified Trading Account",
testnet.bytick.com/en/help-center/article/Assets-Collateral-Value-Ratio-List-UTA) gives the margin
balance of an account without positions as "Sum (Asset 1 × USD Index Price × Collateral Value Ratio
+ ...)", assumes the tiers "BTC 0 - 10 0.98; >10 - 20 0.95; >20 - 30 0.9; >30 - 40 0.85; >40 - 50
0.8; >50 0; USDT >0 1", and then works an example ("Trader A's Unified ..."). The copy we hold ends
at those words: Trader A's holdings and the margin balance Bybit publishes for them were not
read (searched: the page in the `pages` corpus by its title, its table, "Trader A" and the
tiered sums; its other language copies; Bybit's API page, whose example is another table), so
this file does not reproduce a published number. What it runs through the engine instead is the
page's formula on its own table: 55 BTC at 100,000 USDT and 10,000 USDT count 10,000 + (10 × 0.98
+ 10 × 0.95 + 10 × 0.9 + 10 × 0.85 + 10 × 0.8 + 5 × 0) × 100,000 = 4,490,000 USD, each ratio on the
part of the quantity inside its tier. That reading (not the whole holding at the ratio of the tier
it reaches) is OKX's worked arithmetic for its value tiers (rules/value_tiers.py); Bybit's own
Trader A would confirm or refute it, and is what to read next.

The book for the trigger and the order, in the example's units (a quote quantum of 0.01 USDT, a lot
of 0.001 BTC, a BTC quantum of 0.0001 BTC priced 1,000 quote quanta at 100,000 USDT a BTC): alice
deposits 10 BTC (100,000 quanta) and 550 USDT (55,000), buys 10,000 lots at 10,000 (10 BTC of
BTCUSDT at 100,000 USDT; taker fee 0.055%: 55,000; maintenance 0.5% of the entry value: 500,000),
and the mark falls to 1,230: her USDT balance is −87,700,000, her margin balance 98,000,000 −
87,700,000 = 10,300,000. BTC then falls to 900 (90,000 USDT): 10 BTC count 88,200,000, so her margin
balance is 500,000, her maintenance: liquidated (Bybit's MM rate "reaches 100%"). With one quantum
more BTC, that quantum is in the ">10 - 20" tier and adds ⌊900 × 0.95⌋ = 855: 500,855, not liquidated.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.assets import margin_equity
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import AssetDeposit, AssetPrice, Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.liquidation import Execution, LiquidationRule, Order
from solvent.rules.loading import load_policy
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bybit-multi-collateral.toml"
BYBIT_MC = load_policy(EXAMPLE)
ALL_AT_ONCE = attrs.evolve(BYBIT_MC, liquidation=attrs.evolve(BYBIT_MC.liquidation, order=Order.ALL_AT_ONCE))
COMMAND = "solvent check examples/bybit-multi-collateral.toml --no-search"


def test_the_example_is_the_bybit_preset_with_btc_collateral_and_collateral_first() -> None:
    bybit = load_preset("bybit")
    back = attrs.evolve(ALL_AT_ONCE, name=bybit.name, sources=bybit.sources, collateral=(), accepts=bybit.accepts)
    assert back == bybit
    # beside the preset's two, the UTA loan's shortfall is the trader's (the header; scenario flat-loan-crash)
    assert BYBIT_MC.accepts == (*bybit.accepts, "no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
    (btc,) = BYBIT_MC.collateral
    assert (btc.name, btc.lends, btc.initial_weight_ppm, btc.maintenance_weight_ppm) == ("BTC", False, 980_000, 980_000)
    assert [(t.floor_quanta, t.ratio_ppm) for t in btc.quantity_tiers] == [
        (0, 980_000),  # §V: "0 - 10" BTC 0.98
        (100_000, 950_000),  # ">10 - 20" 0.95, 10 BTC in 0.0001 BTC quanta
        (200_000, 900_000),
        (300_000, 850_000),
        (400_000, 800_000),
        (500_000, 0),  # ">50" 0
    ]
    assert not btc.value_tiers and BYBIT_MC.liquidation.order is Order.COLLATERAL_FIRST


def test_the_order_line_states_bybits_rule_with_its_source() -> None:
    (line,) = [ln for ln in EXAMPLE.read_text(encoding="utf-8").splitlines() if ln.startswith("order = ")]
    assert line.startswith('order = "collateral_first"  # docs/venues.md#which-position-goes-first')
    assert "repays liabilities from the account's assets before reducing positions" in line and "000001876" in line


def test_the_margin_balance_by_the_pages_formula_on_its_table() -> None:
    """55 BTC at 100,000 USDT and 10,000 USDT, no position: 10,000 + 44.8 × 100,000 = 4,490,000 USD
    (the module docstring: §V's formula and table; its Trader A could not be read)."""
    book = new_book(market="BTCUSDT", mark_quote=10_000, traders=("alice",), assets=(Asset("BTC", 1_000),))
    book = run(BYBIT_MC, book, [AssetDeposit("alice", "BTC", 550_000), Deposit("alice", 1_000_000)])[-1].after
    alice = book.account("alice")
    assert margin_equity(BYBIT_MC, book.assets, alice) == margin_equity(BYBIT_MC, book.assets, alice, initial=True)
    assert margin_equity(BYBIT_MC, book.assets, alice) == 449_000_000  # 4,490,000.00 USDT


def underwater(btc_quanta: int) -> Book:
    """The module docstring's book: alice long 10,000 lots at 10,000 on 10 BTC (+ ``btc_quanta`` −
    100,000 quanta) and 550 USDT, the mark at 1,230; not liquidated."""
    book = new_book(market="BTCUSDT", mark_quote=10_000, traders=("alice", "bob"), assets=(Asset("BTC", 1_000),))
    events = [
        AssetDeposit("alice", "BTC", btc_quanta),
        Deposit("alice", 55_000),
        Deposit("bob", 10**12),
        Trade("alice", "bob", 10_000, 10_000),
        MarkPrice(1_230),
    ]
    steps = run(BYBIT_MC, book, events)
    assert not any(isinstance(o, Liquidated) for s in steps for o in s.outcomes)
    alice = steps[-1].after.account("alice")
    assert (alice.cash_quote, alice.size_lots, alice.asset_balances) == (-87_700_000, 10_000, (btc_quanta,))
    return steps[-1].after


@pytest.mark.parametrize("policy", [BYBIT_MC, ALL_AT_ONCE], ids=["collateral_first", "all_at_once"])
def test_one_quantum_above_the_10_btc_floor_is_not_liquidated(policy: Policy) -> None:
    s = step(policy, underwater(100_001), AssetPrice("BTC", 900))  # 88,200,855 − 87,700,000 = 500,855 > 500,000
    assert not s.outcomes and not s.transfers
    assert margin_equity(policy, s.after.assets, s.after.account("alice")) == 500_855


def test_at_the_floor_bybit_repays_the_liability_from_btc_and_the_position_stays_open() -> None:
    """10 BTC exactly: margin balance 500,000 = maintenance, liquidated. Collateral first:
    ⌈87,700,000 / 900⌉ = 97,445 quanta sold at the oracle price for 87,700,500; her USDT is 500 and
    the 2,555 quanta left count ⌊2,555 × 900 × 0.98⌋ = 2,253,510: 2,254,010 > 500,000, so she keeps
    the position (the sale at the full oracle price freed the 2% the ratio held back)."""
    s = step(BYBIT_MC, underwater(100_000), AssetPrice("BTC", 900))
    (liq,) = [o for o in s.outcomes if isinstance(o, Liquidated)]
    assert (liq.equity_quote, liq.maintenance_quote) == (500_000, 500_000)
    assert list(s.transfers) == [
        Transfer("alice@BTC", "liquidity@BTC", 97_445, Reason.COLLATERAL_SALE),
        Transfer("liquidity", "alice", 87_700_500, Reason.COLLATERAL_SALE),
    ]
    alice = s.after.account("alice")
    assert (alice.size_lots, alice.cash_quote, alice.asset_balances) == (10_000, 500, (2_555,))
    assert margin_equity(BYBIT_MC, s.after.assets, alice) == 2_254_010


def test_all_at_once_on_the_same_book_closes_the_position() -> None:
    """Swapping the order fails the step above: all at once sells the same BTC as far as the account
    owes and closes the 10,000 lots at the bankruptcy price (its 500 left pays the fee to close)."""
    s = step(ALL_AT_ONCE, underwater(100_000), AssetPrice("BTC", 900))
    assert any(isinstance(o, Liquidated) for o in s.outcomes)
    alice = s.after.account("alice")
    assert (alice.size_lots, alice.cash_quote, alice.asset_balances) == (0, 0, (2_555,))


@pytest.mark.parametrize(("quanta", "price"), [(100_000, 900), (100_001, 900), (100_000, 901)])
@pytest.mark.parametrize("policy", [BYBIT_MC, ALL_AT_ONCE], ids=["collateral_first", "all_at_once"])
def test_the_symbolic_engine_agrees_at_the_floor(policy: Policy, quanta: int, price: int) -> None:
    from tests.z3_step import z3_step_agrees

    z3_step_agrees(policy, underwater(quanta), AssetPrice("BTC", price))


def test_collateral_first_takes_a_bankruptcy_price_execution_but_not_a_takeover() -> None:
    """Its positions close at once, so a close at the bankruptcy price hands over nothing all at once
    would not; a takeover hands the whole account to the backstop, collateral with it."""
    rule = LiquidationRule(execution=Execution.BANKRUPTCY, order=Order.COLLATERAL_FIRST)
    assert rule.order is Order.COLLATERAL_FIRST
    with pytest.raises(ValueError, match="needs execution = 'market' or 'bankruptcy' \\(a 'takeover' execution"):
        LiquidationRule(execution=Execution.TAKEOVER, order=Order.COLLATERAL_FIRST)
    with pytest.raises(ValueError, match="needs execution = 'market' \\(a 'bankruptcy' execution"):
        LiquidationRule(execution=Execution.BANKRUPTCY, order=Order.LARGEST_LOSS_FIRST)


def test_the_documented_command_passes_with_no_false_alarm() -> None:
    """The README's command: exit 0, only the two claims the preset accepts fail (its documented ADL)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert any(line.startswith(COMMAND + "   # ") for line in readme.splitlines())
    result = CliRunner().invoke(main, COMMAND.split()[1:])
    assert result.exit_code == 0, result.output
    assert "0 fail, 2 fail as accepted" in result.output
    assert {ln.split()[0] for ln in result.output.splitlines() if "fails (accepted)" in ln} == {
        "principal-protected",
        "no-haircut",
    }
