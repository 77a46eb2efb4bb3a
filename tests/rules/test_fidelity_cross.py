"""Cross-margin worked examples run through the engine on a book of several markets (issue 13,
fidelity; docs/portfolio.md): the venue's published liquidation price is where the engine's own
trigger flips, with the second position's maintenance summed in on its own market's tiers.

dYdX v4 (v4-documentation ``liquidations.mdx``, docs/venues.md#dydx-v4-liquidation): a cross
account with 1,000 USDC of equity, short 1.5 ETH at 3,000 (MMF 5%) and long 1,000 STRK at 1.75
(MMF 10%, so MMR_o = 175), is liquidated at ETH ≈ 3,380.95:
``p' = (e − s × p − MMR_o) / (|s| × MMF − s)``. Units here: a quote quantum of 0.01 USDC, an ETH
lot of 0.1 ETH (30,000 quanta at 3,000) and a STRK lot of 1 STRK (175 quanta at 1.75); dYdX's
trigger is strict (TNC < TMMR: liquidatable only below maintenance), the preset's reading.

Binance (faq b3c689c1, docs/venues.md#binance-liquidation): the cross liquidation price of contract
1 with other contracts open is ``LP = (WB − TMM1 + UPNL1 + cumB − side × |S| × EP) / (|S| × MMR −
side × |S|)``, TMM1 and UPNL1 the other contracts' maintenance and unrealized PnL. The page defines
them but the copies we hold give no worked numbers for a second contract, so the test sets the
``binance`` preset's BTCUSDT tiers in two markets and asks the formula, fed the book's own WB,
TMM1 and UPNL1, for the price where the engine's trigger flips.
"""

from __future__ import annotations

from fractions import Fraction as F

import attrs

from solvent.rules.book import Market, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.liquidation import LiquidationRule, Trigger
from solvent.rules.liquidation_price import binance_liquidation_price, brackets_of, dydx_liquidation_price
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.market_spec import MarketSpec
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Adl, InsuranceFund

ETH_TIERS = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))  # MMF 5%
STRK_TIERS = (Tier(0, initial_ppm=200_000, maintenance_ppm=100_000),)  # MMF 10%
DYDX_CROSS = Policy(
    "dydx-cross-example",
    ETH_TIERS,
    liquidation=LiquidationRule(trigger=Trigger.BELOW_MAINTENANCE),
    deficit=(InsuranceFund(), Adl()),
    market=(MarketSpec("ETH"), MarketSpec("STRK", tiers=STRK_TIERS)),
)
ETH_LOT = F(1, 10)  # ETH per lot
QUANTUM = F(1, 100)  # USDC per quote quantum


def opened():
    book = new_book(market="ETH", mark_quote=30_000, traders=("alice", "bob"), more_markets=(Market("STRK", 175),))
    events = [
        Deposit("alice", 100_000),  # e = 1,000 USDC
        Deposit("bob", 10**9),
        Trade("bob", "alice", 15, 30_000),  # alice short 1.5 ETH at 3,000
        Trade("alice", "bob", 1_000, 175, market="STRK"),  # alice long 1,000 STRK at 1.75
    ]
    return run(DYDX_CROSS, book, events)[-1].after


def test_the_documented_price_in_usdc() -> None:
    lp = dydx_liquidation_price(1_000, F("-1.5"), 3_000, F(5, 100), 1_000 * F("1.75") * F(10, 100))
    assert round(lp, 2) == F("3380.95")


def test_the_engine_liquidates_the_cross_account_at_dydxs_price() -> None:
    book = opened()
    alice = book.account("alice")
    assert [p.size_lots for p in alice.positions] == [-15, 1_000] and alice.cash_quote == 100_000
    # the documented price in the book's units: quote quanta per ETH lot
    lp = dydx_liquidation_price(100_000, -15, 30_000, F(5, 100), 1_000 * 175 * F(10, 100))
    assert lp * ETH_LOT**-1 * QUANTUM == F(5_325, F("1.575"))  # 3,380.952… USDC per ETH
    below, above = int(lp), int(lp) + 1  # 33,809 and 33,810 quanta a lot
    safe = step(DYDX_CROSS, book, MarkPrice(below))
    assert not any(isinstance(o, Liquidated) for o in safe.outcomes)
    # at 33,809: equity 100,000 − 15 × 3,809 = 42,865 ≥ ETH ⌈25,356.75⌉ + STRK 17,500 = 42,857
    hit = step(DYDX_CROSS, book, MarkPrice(above))
    (liq,) = [o for o in hit.outcomes if isinstance(o, Liquidated)]
    # at 33,810: 42,850 < ⌈25,357.5⌉ + 17,500 = 42,858; the STRK position is closed too
    assert (liq.equity_quote, liq.maintenance_quote) == (42_850, 42_858)
    assert [p.size_lots for p in hit.after.account("alice").positions] == [0, 0]


def test_without_the_second_position_the_price_is_the_isolated_one() -> None:
    """Dropping STRK's 17,500 of maintenance moves the flip to dYdX's isolated formula's price: the
    engine counts the other market's maintenance, on its own tiers, exactly once."""
    book = new_book(market="ETH", mark_quote=30_000, traders=("alice", "bob"), more_markets=(Market("STRK", 175),))
    events = [Deposit("alice", 100_000), Deposit("bob", 10**9), Trade("bob", "alice", 15, 30_000)]
    book = run(DYDX_CROSS, book, events)[-1].after
    lp = dydx_liquidation_price(100_000, -15, 30_000, F(5, 100))  # 41,269.84…
    assert not any(isinstance(o, Liquidated) for o in step(DYDX_CROSS, book, MarkPrice(int(lp))).outcomes)
    assert any(isinstance(o, Liquidated) for o in step(DYDX_CROSS, book, MarkPrice(int(lp) + 1)).outcomes)


BINANCE = attrs.evolve(load_preset("binance"), market=(MarketSpec("BTCUSDT"), MarketSpec("ETHUSDT")))


def test_binances_cross_price_with_a_second_contract_is_where_the_engine_liquidates() -> None:
    """alice deposits 2,000 USDT, buys 1 BTC at 100,000 (1,000 lots of 0.001 BTC at 10,000 quanta:
    100,000 USDT, the second bracket, MMR 0.5%, cum 50 USDT) and 1,000 ETH lots at 3,000 quanta
    (30,000 USDT, the first bracket, 0.4%); ETH falls to 2,950: UPNL1 = −500 USDT and TMM1 =
    118 USDT. Binance's LP for BTC is then (200,000 − 11,800 − 50,000 + 5,000 − 10,000,000) / (5 −
    1,000) = 9,906.33 quanta a lot (99,063.3 USDT/BTC); the preset liquidates at or below
    maintenance, so at 9,906 and not at 9,907."""
    book = new_book(
        market="BTCUSDT", mark_quote=10_000, traders=("alice", "bob"), more_markets=(Market("ETHUSDT", 3_000),)
    )
    events = [
        Deposit("alice", 200_000),
        Deposit("bob", 10**10),
        Trade("alice", "bob", 1_000, 10_000),
        Trade("alice", "bob", 1_000, 3_000, market="ETHUSDT"),
        MarkPrice(2_950, market="ETHUSDT"),
    ]
    book = run(BINANCE, book, events)[-1].after
    assert book.account("alice").cash_quote == 200_000 - 50_000  # WB + UPNL1, settled to mark
    lp = binance_liquidation_price(
        200_000, 1_000, 10_000, brackets_of(BINANCE.margin), other_maintenance=11_800, other_upnl=-50_000
    )
    assert lp == F(9_856_800, 995)
    assert not any(isinstance(o, Liquidated) for o in step(BINANCE, book, MarkPrice(int(lp) + 1)).outcomes)
    hit = step(BINANCE, book, MarkPrice(int(lp)))
    (liq,) = [o for o in hit.outcomes if isinstance(o, Liquidated)]
    # at 9,906: equity 56,000 ≤ 49,530 − 5,000 + 11,800 = 56,330; at 9,907: 57,000 > 56,335
    assert (liq.equity_quote, liq.maintenance_quote) == (56_000, 56_330)
