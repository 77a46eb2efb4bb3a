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
them; its worked cross example (two long positions, BTCUSDT and ETHUSDT, on a wallet of
1,535,443.01 USDT) is an image on the page, and its figures are carried here from freqtrade's tests,
which mark them "From calc example" (below): the engine, holding both positions at the example's
marks, liquidates each at Binance's published price to the cent. A first test sets the ``binance``
preset's BTCUSDT tiers in two markets and asks the formula, fed the book's own WB, TMM1 and UPNL1,
for the price where the engine's trigger flips.
"""

from __future__ import annotations

from fractions import Fraction as F

import attrs
import pytest

from solvent.rules.book import Market, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.liquidation import LiquidationRule, Trigger
from solvent.rules.liquidation_price import Bracket, binance_liquidation_price, brackets_of, dydx_liquidation_price
from solvent.rules.margin import MarginRule, Tier, position_maintenance
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


# Binance's own worked cross example (faq b3c689c1, "How to Calculate Liquidation Price of USDⓈ-M
# Futures Contracts"; the page's figures are images, so the numbers are carried from freqtrade's
# tests, which mark them "From calc example": github.com/freqtrade/freqtrade
# tests/exchange/test_binance.py::test_liquidation_price_binance and
# tests/leverage/test_liquidation_price.py). Cross margin, one-way, wallet balance 1,535,443.01 USDT:
# long 109.488 BTCUSDT at 32,481.98, mark 31,967.27, MMR 2.5%, cum 16,300; long 3,683.979 ETHUSDT
# at 1,456.84, mark 1,335.18, MMR 10%, cum 135,365. Published: ETH's LP 1,153.26 (TMM1 = BTC's
# maintenance 71,200.81144, UPNL1 = BTC's −56,354.57) and BTC's LP 26,316.89 (TMM1 = ETH's
# 356,512.508, UPNL1 = ETH's −448,192.89).
# Units: a quote quantum of 0.00001 USDT and lots of 0.001 BTC and 0.001 ETH, so every published
# price is a whole number of quanta a lot (USDT × 100) and the wallet is 153,544,301,000 quanta.
# The example states only the bracket each position is in (MMR and cum); the bracket below it is
# Solvent's stand-in, at the floor where Binance's recursion cum_n = cum_{n−1} + floor_n × (MMR_n −
# MMR_{n−1}) gives that cum from a lower rate (BTC 0.5% below 815,000 USDT, ETH 5% below 2,707,300
# USDT). Every notional the test reaches (BTC 2.88M to 3.56M USDT, ETH 4.25M to 5.37M) is above
# the stand-in floors, so only the published brackets are read. The initial rates only let the
# trades open (the example gives none).
USDT = 100_000  # quanta per USDT
BTC_BRACKETS = (Tier(0, 10_000, 5_000), Tier(815_000 * USDT, 50_000, 25_000, 16_300 * USDT))
ETH_BRACKETS = (Tier(0, 100_000, 50_000), Tier(2_707_300 * USDT, 200_000, 100_000, 135_365 * USDT))
BINANCE_EXAMPLE = attrs.evolve(
    load_preset("binance"),
    margin=attrs.evolve(load_preset("binance").margin, tiers=BTC_BRACKETS),
    market=(MarketSpec("BTCUSDT"), MarketSpec("ETHUSDT", tiers=ETH_BRACKETS)),
)


def binance_example_book():
    """The example's account on the engine: both positions opened at their entry prices out of
    the wallet balance, then both marks moved to the example's."""
    book = new_book(
        market="BTCUSDT", mark_quote=3_248_198, traders=("alice", "bob"), more_markets=(Market("ETHUSDT", 145_684),)
    )
    events = [
        Deposit("alice", 153_544_301_000),  # WB 1,535,443.01 USDT
        Deposit("bob", 10**16),
        Trade("alice", "bob", 109_488, 3_248_198),  # 109.488 BTC at 32,481.98
        Trade("alice", "bob", 3_683_979, 145_684, market="ETHUSDT"),  # 3,683.979 ETH at 1,456.84
        MarkPrice(3_196_727),  # 31,967.27
        MarkPrice(133_518, market="ETHUSDT"),  # 1,335.18
    ]
    steps = run(BINANCE_EXAMPLE, book, events)
    assert not any(isinstance(o, Liquidated) for s in steps for o in s.outcomes)
    return steps[-1].after


def test_binances_published_example_the_other_contracts_terms_on_the_engines_book() -> None:
    """The engine's own maintenance and PnL of each position are the TMM1 and UPNL1 Binance
    publishes for the other contract (to its last printed digit; maintenance rounded up)."""
    book = binance_example_book()
    alice = book.account("alice")
    btc, eth = alice.positions
    rounding = BINANCE_EXAMPLE.rounding
    btc_mm = position_maintenance(BINANCE_EXAMPLE.margin, rounding, btc.size_lots, btc.cost_quote, 3_196_727)
    eth_mm = position_maintenance(MarginRule(ETH_BRACKETS), rounding, eth.size_lots, eth.cost_quote, 133_518)
    assert (btc_mm, eth_mm) == (7_120_081_145, 35_651_250_813)  # 71,200.81145 and 356,512.50813 USDT
    # the exact values are 71,200.811444 and 356,512.508122 USDT: Binance prints them cut at 5 and 3
    # decimals, the engine rounds them up to its quantum of 0.00001 USDT
    assert 0 < F(btc_mm, USDT) - F("71200.81144") <= F(1, USDT)
    assert 0 < F(eth_mm, USDT) - F("356512.508") <= F(1, 10**3)
    btc_upnl = 109_488 * (3_196_727 - 3_248_198)  # −56,354.56848 USDT
    eth_upnl = 3_683_979 * (133_518 - 145_684)  # −448,192.88514 USDT
    assert round(F(btc_upnl, USDT), 2) == F("-56354.57") and round(F(eth_upnl, USDT), 2) == F("-448192.89")
    assert alice.cash_quote == 153_544_301_000 + btc_upnl + eth_upnl  # WB + both UPNLs, settled to mark


@pytest.mark.parametrize(
    ("market", "published", "last_liquidated"),
    [
        # LP = 1,153.2565: Binance prints 1,153.26; the engine liquidates at 1,153.25, not 1,153.26
        ("ETHUSDT", F("1153.26"), 115_325),
        # LP = 26,316.8933: Binance prints 26,316.89; the engine liquidates there, not a cent above
        ("BTCUSDT", F("26316.89"), 2_631_689),
    ],
)
def test_binances_published_cross_price_is_where_the_engine_liquidates(
    market: str, published: F, last_liquidated: int
) -> None:
    """Each contract's published cross liquidation price, the other contract held at its mark,
    is within half a cent of where the engine's trigger (margin ratio at 100%, equity ≤ the
    maintenance of both positions on their own brackets) flips: liquidated at the last cent at or
    below the price, kept a cent above. A second position's maintenance counted twice or left out
    moves the flip by tens of USDT (BTC's 71,200 USDT over ETH's 3,315.6 of slope is 21.47 USDT)."""
    book = binance_example_book()
    at, above = (
        step(BINANCE_EXAMPLE, book, MarkPrice(last_liquidated, market=market)),
        step(BINANCE_EXAMPLE, book, MarkPrice(last_liquidated + 1, market=market)),
    )
    assert any(isinstance(o, Liquidated) for o in at.outcomes)
    assert not any(isinstance(o, Liquidated) for o in above.outcomes)
    # the published figure is the flip's price rounded to the cent
    assert F(last_liquidated, 100) <= published <= F(last_liquidated + 1, 100)
    # and Binance's formula, fed the published inputs, gives the published figure
    if market == "ETHUSDT":
        lp = binance_liquidation_price(
            F("1535443.01"),
            F("3683.979"),
            F("1456.84"),
            (Bracket(0, F("0.10"), 135_365),),
            other_maintenance=F("71200.81144"),
            other_upnl=F("-56354.57"),
        )
    else:
        lp = binance_liquidation_price(
            F("1535443.01"),
            F("109.488"),
            F("32481.98"),
            (Bracket(0, F("0.025"), 16_300),),
            other_maintenance=F("356512.508"),
            other_upnl=F("-448192.89"),
        )
    assert round(lp, 2) == published
    assert F(last_liquidated, 100) <= lp < F(last_liquidated + 1, 100)


@pytest.mark.parametrize(("market", "last_liquidated"), [("ETHUSDT", 115_325), ("BTCUSDT", 2_631_689)])
def test_the_symbolic_engine_agrees_at_binances_published_prices(market: str, last_liquidated: int) -> None:
    from tests.z3_step import z3_step_agrees

    book = binance_example_book()
    for price in (last_liquidated, last_liquidated + 1):
        z3_step_agrees(BINANCE_EXAMPLE, book, MarkPrice(price, market=market))
