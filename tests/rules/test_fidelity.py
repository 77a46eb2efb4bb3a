"""Fidelity: the venues' own worked examples, run through Solvent's named venue formulas and engine.

Every test id names its source. A venue example that does not reproduce from the venue's own
formula is an ``xfail(strict=True)`` with the reason, so the day it reproduces the suite says so.
Numbers are exact (``Fraction``); a published figure rounded by the venue is compared at the
venue's own rounding, stated in the test.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules.arith import PPM, Rounding
from solvent.rules.book import new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.fund_drawdown import is_drawn_down, threshold
from solvent.rules.liquidation import is_triggered
from solvent.rules.liquidation_price import (
    Bracket,
    binance_liquidation_price,
    bracket_at,
    bybit_inverse_liquidation_price,
    dydx_liquidation_price,
    hyperliquid_liquidation_price,
    hyperliquid_margin_available,
    one_way_liquidation_price,
    settle_to_mark_liquidation_price,
)
from solvent.rules.margin import equity, maintenance_margin
from solvent.rules.outcomes import AdlFill, LayerUsed
from solvent.rules.pool_adl import is_exceeded
from solvent.rules.presets import load_preset
from solvent.rules.venue_formulas import (
    adjusted_bankruptcy_rating,
    bankruptcy_gap_per_lot,
    bankruptcy_price,
    bankruptcy_price_exact,
    bankruptcy_quote,
    clawback_rate,
    drift_if_fee,
    drift_liquidation_fee,
    drift_max_liquidation_fee,
    fillable_price,
    fillable_price_doc_form,
    hyperliquid_maintenance_rate,
    inverse_bankruptcy_price,
    linear_bankruptcy_price,
    liquidation_fee_paid,
    liquidation_insurance_fund_delta,
    maintenance_amount,
    okx_adl_threshold,
    round_to_tick,
)

FAST = settings(max_examples=150, deadline=None, database=None)
F = Fraction

#: docs/venues.md#binance-margin BTCUSDT brackets in USDT: (floor, MMR %, cum).
BTCUSDT = [
    Bracket(0, F("0.40") / 100, 0), Bracket(50_000, F("0.50") / 100, 50), Bracket(600_000, F("0.65") / 100, 950),
    Bracket(3_000_000, F("1.00") / 100, 11_450), Bracket(12_000_000, F("2.00") / 100, 131_450),
    Bracket(70_000_000, F("2.50") / 100, 481_450), Bracket(100_000_000, F("5.00") / 100, 2_981_450),
    Bracket(230_000_000, F("10.0") / 100, 14_481_450), Bracket(480_000_000, F("12.5") / 100, 26_481_450),
    Bracket(600_000_000, F("15.0") / 100, 41_481_450), Bracket(800_000_000, F("25.0") / 100, 121_481_450),
    Bracket(1_200_000_000, F("50.0") / 100, 421_481_450),
]  # fmt: skip


# --- Binance (docs/venues.md#binance) --------------------------------------------------------


class TestBinance:
    """Maintenance amount recursion, liquidation price with the tier at the liquidation price, BP."""

    @pytest.mark.parametrize(
        "previous, floor, mmr_before, mmr, expected",
        [
            pytest.param(
                50, 250_000, 5_000, 10_000, 1_300, id="binance faq b3c689c1: 250,000 × (1% − 0.5%) + 50 = 1,300"
            )
        ],
    )
    def test_maintenance_amount_doc_example(self, previous, floor, mmr_before, mmr, expected) -> None:
        assert maintenance_amount(previous, floor, mmr_before, mmr) == expected

    @pytest.mark.parametrize(
        "row", range(1, 12), ids=lambda i: f"venues.md §1 BTCUSDT table (freqtrade c9ae5e1): cum of tier {i + 1}"
    )
    def test_btcusdt_table_satisfies_the_recursion(self, row: int) -> None:
        lower, upper = BTCUSDT[row - 1], BTCUSDT[row]
        ppm = lambda rate: int(rate * PPM)  # noqa: E731
        assert maintenance_amount(lower.cum, upper.floor_notional, ppm(lower.mmr), ppm(upper.mmr)) == upper.cum

    def test_tier_at_the_liquidation_price_is_used(self) -> None:
        """faq b3c689c1: 13 BTC long at 50,000 (650,000 USDT, tier 3) with 65,000 USDT: the price from
        tier 3's MMR and cum puts the notional in tier 2, so Binance recomputes with tier 2."""
        wallet, size, entry = 65_000, 13, 50_000
        naive = one_way_liquidation_price(wallet, size, entry, BTCUSDT[2])
        assert bracket_at(BTCUSDT, size * naive) == 1  # tier 3's own price lands in tier 2
        lp = binance_liquidation_price(wallet, size, entry, BTCUSDT)
        assert lp == F(65_000 + 50 - 13 * 50_000, 13 * F("0.005") - 13)  # tier 2: MMR 0.5%, cum 50
        assert lp != naive
        assert bracket_at(BTCUSDT, size * lp) == 1
        # at that price equity equals maintenance exactly (MM continuous across the brackets)
        bracket = BTCUSDT[bracket_at(BTCUSDT, size * lp)]
        assert wallet + size * (lp - entry) == size * lp * bracket.mmr - bracket.cum

    def test_short_liquidation_price_moves_up_a_tier(self) -> None:
        """faq b3c689c1: a short's liquidation price is above entry, so its notional may rise into the
        next tier: 11 BTC short at 50,000 (550,000 USDT, tier 2) with 60,000 USDT."""
        wallet, size, entry = 60_000, -11, 50_000
        assert bracket_at(BTCUSDT, abs(size) * one_way_liquidation_price(wallet, size, entry, BTCUSDT[1])) == 2
        lp = binance_liquidation_price(wallet, size, entry, BTCUSDT)
        assert lp == F(60_000 + 950 + 11 * 50_000, 11 * F("0.0065") + 11)  # tier 3: MMR 0.65%, cum 950
        bracket = BTCUSDT[bracket_at(BTCUSDT, abs(size) * lp)]
        assert bracket == BTCUSDT[2]
        assert wallet + size * (lp - entry) == abs(size) * lp * bracket.mmr - bracket.cum

    @pytest.mark.parametrize(
        "size, wallet, expected",
        [
            pytest.param(
                2, 10_000, 45_000, id="binance faq b3c689c1 (derived BP): long 2 at 50,000 with 10,000 → 45,000"
            ),
            pytest.param(
                -2, 10_000, 55_000, id="binance faq b3c689c1 (derived BP): short 2 at 50,000 with 10,000 → 55,000"
            ),
        ],
    )
    def test_bankruptcy_price(self, size, wallet, expected) -> None:
        """BP = EP − side × (WB + UPNL1) / size: the margin balance is exactly 0 there."""
        bp = bankruptcy_price_exact(50_000, size, wallet)
        assert bp == expected
        assert wallet + size * (bp - 50_000) == 0

    def test_engine_adl_closes_at_binances_bankruptcy_price(self) -> None:
        """The engine's ADL price is Binance's BP in settle-to-mark terms (EP = mark, WB = equity),
        rounded up per lot: the ``binance`` preset, alice long 100 lots gapped through zero."""
        policy = load_preset("binance")
        book = new_book(mark_quote=10_000, traders=("alice", "bob"))
        events = [
            Deposit("liquidity", 10**9),
            Deposit("alice", 9_001),
            Deposit("bob", 10**7),
            Trade("alice", "bob", 100, 10_000),
        ]
        opened = run(policy, book, events)[-1].after
        crash = step(policy, opened, MarkPrice(9_800))
        alice_before = crash.before.account("alice")
        settled_equity = equity(policy.margin, alice_before) - 100 * 200  # −10,999 at the new mark
        exact = bankruptcy_price_exact(9_800, 100, settled_equity)
        fills = [o for o in crash.outcomes if isinstance(o, AdlFill) and o.lots]
        assert fills and fills[0].gap_per_lot_quote == bankruptcy_gap_per_lot(settled_equity, 100)
        assert 9_800 + fills[0].gap_per_lot_quote == bankruptcy_price(9_800, 100, settled_equity)
        assert 0 <= bankruptcy_price(9_800, 100, settled_equity) - exact < 1  # rounded up, under one quantum

    def test_settle_to_mark_liquidation_price_is_where_the_engine_triggers(self) -> None:
        """The ``binance`` preset's trigger flips at the exact crossing (one quantum of MM rounding aside)."""
        policy = load_preset("binance")
        size, mark, eq = 700, 100_000, 7_500_000  # 70,000,000 quanta = 700,000 USDT, tier 3
        lp = settle_to_mark_liquidation_price(policy.margin, size, mark, eq)
        for price, fires in ((int(lp) + 2, False), (int(lp) - 1, True)):
            e = eq + size * (price - mark)
            mm = maintenance_margin(policy.margin, policy.rounding, size, price)
            assert is_triggered(policy.liquidation, e, mm, size) is fires, price


# --- BitMEX and Bybit (docs/venues.md#bitmex, #bybit) -----------------------------------------


class TestBankruptcyPriceFromLeverage:
    """Linear ``EP × (1 − side/L)`` and inverse ``EP × L / (L ± 1)``; Bybit's 0.5 rounding."""

    @pytest.mark.parametrize(
        "side, expected",
        [
            pytest.param(1, F(10_000 * 100, 101), id="bitmex §2 / bybit §3 inverse long: EP × L / (L + 1)"),
            pytest.param(-1, F(10_000 * 100, 99), id="bitmex §2 / bybit §3 inverse short: EP × L / (L − 1)"),
        ],
    )
    def test_inverse(self, side: int, expected: Fraction) -> None:
        bp = inverse_bankruptcy_price(10_000, 100, side)
        assert bp == expected
        # the coin PnL at BP loses exactly the coin margin Qty / (EP × L)
        qty = side * 1_000_000
        assert qty * (F(1, 10_000) - 1 / bp) == -abs(qty) * F(1, 10_000 * 100)

    @pytest.mark.parametrize(
        "side, rounding, expected",
        [
            pytest.param(1, Rounding.CEIL, F("9901"), id="bybit §3: inverse long BP rounded up to 0.5"),
            pytest.param(-1, Rounding.FLOOR, F("10101"), id="bybit §3: inverse short BP rounded down to 0.5"),
        ],
    )
    def test_bybit_half_dollar_rounding(self, side, rounding, expected) -> None:
        bp = inverse_bankruptcy_price(10_000, 100, side)  # 9,900.990… and 10,101.010…
        assert round_to_tick(bp, F(1, 2), rounding) == expected

    @pytest.mark.parametrize(
        "side, expected",
        [
            pytest.param(1, 9_000, id="bybit §3 USDT isolated: BP_long = EP − IM/size = EP × (1 − 1/L)"),
            pytest.param(-1, 11_000, id="bybit §3 USDT isolated: BP_short = EP × (1 + 1/L)"),
        ],
    )
    def test_linear(self, side: int, expected: int) -> None:
        assert linear_bankruptcy_price(10_000, 10, side) == expected
        assert bankruptcy_price_exact(10_000, side * 3, 3 * 10_000 // 10) == expected  # the same as Binance's BP

    def test_bybit_inverse_liquidation_price_meets_maintenance(self) -> None:
        """bybit §3 inverse isolated: at LP_long = Qty / [Qty/EP + (IM − MM)], coin equity = MM."""
        qty, entry, im, mm = 10_000, F(8_000), F(10_000, 8_000 * 50), F(10_000, 8_000) * F(5, 1_000)
        lp = bybit_inverse_liquidation_price(entry, qty, im, mm)
        assert im + qty * (1 / entry - 1 / lp) == mm


# --- OKX (docs/venues.md#okx) ----------------------------------------------------------------


class TestOkx:
    """The 2018 illustrative clawback example and the ADL threshold example."""

    def test_illustrative_example_formula(self) -> None:
        """okx 2018 announcement (vidyoda mirror): A 10x long 10 contracts at $1 with $1; index to $0.10:
        B expects $9, A can pay $1, so $8 is covered by the fund or clawback."""
        loss = 10 * (F(1) - F("0.10"))
        assert loss - 1 == 8
        assert clawback_rate(loss - 1, 0, 9) == F(8, 9)  # with an empty fund, B gives up 8/9 of its profit

    @pytest.mark.parametrize("fund, layers, clawed", [
        pytest.param(0, ["clawback"], 800, id="okx 2018 announcement: $8 (800 cents) clawed back from B when the fund is empty"),
        pytest.param(10_000, ["insurance_fund"], 0, id="okx 2018 announcement: $8 paid by the insurance fund when it can"),
    ])  # fmt: skip
    def test_illustrative_example_on_the_okx_2018_preset(self, fund, layers, clawed) -> None:
        policy = load_preset("okx-2018")
        book = new_book(mark_quote=100, traders=("a", "b"))  # cents per contract: $1
        events = [Deposit("liquidity", 10**6), Deposit("a", 100), Deposit("b", 100), Trade("a", "b", 10, 100)]
        if fund:
            events.insert(0, Deposit("insurance_fund", fund))
        crash = run(policy, book, [*events, MarkPrice(10)])[-1]  # index to $0.10
        paid = [o for o in crash.outcomes if isinstance(o, LayerUsed) and o.covered_quote]
        assert [o.layer for o in paid] == layers
        assert [o.covered_quote for o in paid] == [800]
        assert crash.after.account("a").cash_quote == 0
        assert crash.after.account("b").cash_quote == 100 + 900 - clawed

    def test_adl_threshold_example(self) -> None:
        """okx ADL page (ukcamo mirror): reserve $200K, 8h average $400K → threshold $280K → ADL."""
        threshold = okx_adl_threshold(400_000)
        assert threshold == 280_000
        assert 200_000 < threshold


# --- dYdX v4 (docs/venues.md#dydx-v4) --------------------------------------------------------

#: mainnet genesis liquidations_config (§5): BA 1.0, SMMR 1.5; Large-Cap MMF = 5% × 60%.
BA, SMMR, MMF_LARGE_CAP = 1_000_000, 1_500_000, F(5, 100) * F(60, 100)


class TestDydx:
    """Liquidation price doc examples, fillable price with mainnet config, insurance fund delta, BQ."""

    def test_isolated_liquidation_price_doc_example(self) -> None:
        """dydx v4-documentation liquidations.mdx: e = 1000, short 3 ETH at 3000, MMF 5% → ≈ 3174.60; equity ≈ 476.2."""
        lp = dydx_liquidation_price(1_000, -3, 3_000, F(5, 100))
        assert lp == F(10_000, F("3.15"))
        assert round(lp, 2) == F("3174.60")
        assert round(3 * round(lp, 2) * F(5, 100), 1) == F("476.2")
        assert 1_000 - 3 * (lp - 3_000) == 3 * lp * F(5, 100)  # equity = MM at p'

    def test_cross_liquidation_price_doc_example(self) -> None:
        """dydx liquidations.mdx: short 1.5 ETH at 3000 and 1,000 STRK at 1.75 (MMF 10%) → MMR_o = 175, ≈ 3380.95."""
        other = 1_000 * F("1.75") * F(10, 100)
        assert other == 175
        lp = dydx_liquidation_price(1_000, F("-1.5"), 3_000, F(5, 100), other)
        assert round(lp, 2) == F("3380.95")

    def test_max_spread_is_smmr_times_mmf(self) -> None:
        """dydx §5 mainnet config: Large-Cap MMF 3% × SMMR 1.5 = 4.5% at ABR = 1 (TNC ≤ 0)."""
        assert fillable_price(1_000, 10, 0, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR) == F(955)
        assert fillable_price(1_000, -10, 0, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR) == F(1_045)

    @pytest.mark.parametrize(
        "tnc, expected_long",
        [
            pytest.param(300, F(1_000), id="dydx GetFillablePrice mainnet: TNC = TMMR → ABR 0 → oracle"),
            pytest.param(150, F("977.5"), id="dydx GetFillablePrice mainnet: TNC = TMMR/2 → ABR 1/2 → 2.25% below"),
            pytest.param(-300, F(955), id="dydx GetFillablePrice mainnet: TNC < 0 → ABR clamped at 1 → 4.5% below"),
        ],
    )
    def test_fillable_price_code_form(self, tnc, expected_long) -> None:
        assert fillable_price(1_000, 10, tnc, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR) == expected_long
        assert fillable_price(1_000, -10, tnc, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR) == 2_000 - expected_long

    def test_doc_form_matches_code_for_a_long_in_range(self) -> None:
        """dydx liquidations.mdx form = code form for a long with 0 ≤ TNC ≤ TMMR."""
        for tnc in (0, 75, 150, 300):
            doc = fillable_price_doc_form(1_000, tnc, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR)
            assert doc == fillable_price(1_000, 10, tnc, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR)

    @pytest.mark.xfail(
        strict=True,
        reason="dYdX's docs write FP = P × (1 − SMMR × MMF × BA × (1 − Q)) 'for both short and long position', "
        "but GetFillablePrice divides by the signed position size, so a short's limit is above the oracle",
    )
    def test_doc_form_for_a_short(self) -> None:
        """dydx liquidations.mdx vs liquidations.go: the doc form for a short."""
        doc = fillable_price_doc_form(1_000, 150, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR)
        assert doc == fillable_price(1_000, -10, 150, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR)

    @pytest.mark.xfail(
        strict=True,
        reason="dYdX's docs give Q = V / TMMR with no clamp; GetFillablePrice clamps ABR to [0, 1], so for "
        "negative collateral the docs' spread exceeds SMMR × MMF",
    )
    def test_doc_form_for_negative_collateral(self) -> None:
        """dydx liquidations.mdx vs liquidations.go: TNC < 0."""
        doc = fillable_price_doc_form(1_000, -300, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR)
        assert doc == fillable_price(1_000, 10, -300, 300, MMF_LARGE_CAP, ba_ppm=BA, smmr_ppm=SMMR)

    @pytest.mark.parametrize(
        "surplus, max_fee, delta",
        [
            pytest.param(-40, 15, -40, id="dydx GetLiquidationInsuranceFundDelta: d <= 0 → the fund pays |d|"),
            pytest.param(0, 15, 0, id="dydx GetLiquidationInsuranceFundDelta: closing at BQ moves nothing"),
            pytest.param(10, 15, 10, id="dydx GetLiquidationInsuranceFundDelta: 0 < d < fee → the whole surplus"),
            pytest.param(
                100, 15, 15, id="dydx GetLiquidationInsuranceFundDelta: d > fee → MaxLiquidationFeePpm × |quote|"
            ),
        ],
    )
    def test_insurance_fund_delta(self, surplus, max_fee, delta) -> None:
        assert liquidation_insurance_fund_delta(surplus, max_fee) == delta
        assert liquidation_fee_paid(surplus, max_fee) == max(delta, 0)  # what the engine charges

    @pytest.mark.parametrize(
        "mark, fee",
        [
            pytest.param(
                9_650,
                965_000 * 15_000 // PPM,
                id="dydx §5 mainnet: MaxLiquidationFeePpm 1.5% of |quote| when the surplus covers it",
            ),
            pytest.param(9_420, 2_000, id="dydx §5 GetLiquidationInsuranceFundDelta: capped at the surplus"),
        ],
    )
    def test_engine_charges_dydx_fee(self, mark, fee) -> None:
        """The ``dydx-v4`` preset: alice long 100 lots at 10,000 with 60,000 (IMF 5%, MMF 3%) falls to ``mark``."""
        policy = load_preset("dydx-v4")
        book = new_book(mark_quote=10_000, traders=("alice", "bob"))
        events = [
            Deposit("liquidity", 10**9),
            Deposit("alice", 60_000),
            Deposit("bob", 10**7),
            Trade("alice", "bob", 100, 10_000),
        ]
        crash = run(policy, book, [*events, MarkPrice(mark)])[-1]
        paid = [t for t in crash.transfers if t.reason.name == "LIQUIDATION_PENALTY"]
        assert [(t.destination, t.amount_quote) for t in paid] == [("insurance_fund", fee)]
        assert crash.after.account("alice").cash_quote == 60_000 - 100 * (10_000 - mark) - fee

    @pytest.mark.parametrize(
        "delta_nnv, delta_mmr, tnc, tmmr, expected",
        [
            pytest.param(
                -1_000,
                -30,
                -50,
                30,
                1_050,
                id="dydx GetBankruptcyPriceInQuoteQuantums: whole only position → −ΔNNV − TNC",
            ),
            pytest.param(
                -500, -15, -50, 30, 525, id="dydx GetBankruptcyPriceInQuoteQuantums: half → −ΔNNV − TNC × |ΔMMR| / TMMR"
            ),
            pytest.param(-500, -10, -50, 30, 517, id="dydx GetBankruptcyPriceInQuoteQuantums: rounded toward +∞"),
        ],
    )
    def test_bankruptcy_quote(self, delta_nnv, delta_mmr, tnc, tmmr, expected) -> None:
        assert bankruptcy_quote(delta_nnv, delta_mmr, tnc, tmmr) == expected

    def test_abr_clamp(self) -> None:
        assert adjusted_bankruptcy_rating(600, 300, BA) == 0
        assert adjusted_bankruptcy_rating(-600, 300, BA) == 1


# --- Hyperliquid (docs/venues.md#hyperliquid) ------------------------------------------------


class TestHyperliquid:
    """MMR = 1/(2 × maxLev) and the liquidation price formula."""

    @pytest.mark.parametrize(
        "max_leverage, published_percent",
        [
            pytest.param(50, F(1), id="hyperliquid docs liquidations: 1% for 50x"),
            pytest.param(3, F("16.7"), id="hyperliquid docs liquidations: 16.7% for 3x (to one decimal)"),
            pytest.param(40, F("1.25"), id="hyperliquid margin-tiers: BTC 40x → 1.25%"),
            pytest.param(25, F(2), id="hyperliquid margin-tiers: ETH 25x → 2%"),
        ],
    )
    def test_maintenance_rate(self, max_leverage, published_percent) -> None:
        percent = hyperliquid_maintenance_rate(max_leverage) * 100
        assert round(percent, 1 if published_percent.denominator == 10 else 2) == published_percent

    def test_liquidation_price_meets_maintenance(self) -> None:
        """hyperliquid docs liquidations: at liq_price, isolated margin + PnL equals MM at that price."""
        mmr = hyperliquid_maintenance_rate(40)
        for size in (F(2), F(-2)):
            price, margin = F(60_000), F(3_000)
            available = hyperliquid_margin_available(margin, size, price, mmr)
            lp = hyperliquid_liquidation_price(price, size, available, mmr)
            assert margin + size * (lp - price) == abs(size) * lp * mmr

    @FAST
    @given(
        size=st.integers(-(10**6), 10**6).filter(bool),
        price=st.integers(1, 10**6),
        margin=st.integers(0, 10**9),
        max_leverage=st.integers(1, 100),
    )
    def test_same_price_as_binance_with_one_bracket(self, size, price, margin, max_leverage) -> None:
        """Hyperliquid's liq_price and Binance's LP agree for a one-tier isolated position (both solve E = MM at LP)."""
        mmr = hyperliquid_maintenance_rate(max_leverage)
        hl = hyperliquid_liquidation_price(price, size, hyperliquid_margin_available(margin, size, price, mmr), mmr)
        assert hl == one_way_liquidation_price(margin, size, price, Bracket(0, mmr, 0))


# --- Drift v2 (docs/venues.md#drift-v2) ------------------------------------------------------


class TestDrift:
    """The liquidator fee ramp and the insurance-fund fee."""

    @pytest.mark.parametrize(
        "slots, expected",
        [
            pytest.param(0, 10_000, id="drift get_liquidation_fee: inside the grace period → base fee"),
            pytest.param(1_499, 10_000, id="drift get_liquidation_fee: 1,499 slots → base fee"),
            pytest.param(1_500, 11_500, id="drift get_liquidation_fee: 1,500 slots → base + 1,500 × 0.0001%"),
            pytest.param(100_000, 30_000, id="drift get_liquidation_fee: capped at min(3 × fee, MMR)"),
        ],
    )
    def test_fee_ramp(self, slots, expected) -> None:
        cap = drift_max_liquidation_fee(10_000, 50_000)
        assert cap == 30_000
        assert drift_liquidation_fee(10_000, cap, slots) == expected

    def test_max_fee_is_capped_by_maintenance(self) -> None:
        assert drift_max_liquidation_fee(10_000, 25_000) == 25_000

    def test_if_fee(self) -> None:
        """drift calculate_perp_if_fee: min(max_if_fee, 0.95 × max(0, MR − liq_fee − shortage/value))."""
        assert drift_if_fee(100, 10_000, 50_000, 10_000, 50_000) == F(95, 100) * (F(4, 100) - F(1, 100))
        assert drift_if_fee(100, 10_000, 50_000, 10_000, 10_000) == F(1, 100)  # max_if_fee binds
        assert drift_if_fee(1_000, 10_000, 50_000, 10_000, 50_000) == 0  # no room left


# --- OKX and GMX v2 ADL triggers (docs/venues.md#okx-adl, #gmx-v2-adl) ------------------------


class TestAdlTriggers:
    """The published numbers of the two ADL triggers that are not a deficit."""

    @pytest.mark.parametrize(
        "average_usd, fund_usd, threshold_usd, triggered",
        [
            pytest.param(
                400_000,
                200_000,
                280_000,
                True,
                id="okx ADL page (ukcamo mirror, §4): reserve $200K, 8h average $400K → threshold $280K → ADL",
            ),
            pytest.param(
                100_000,
                60_000,
                50_000,
                False,
                id="okx ADL page (§4): the higher of 30% or $50K: average $100K → threshold $50K",
            ),
        ],
    )
    def test_okx_fund_drawdown(self, average_usd, fund_usd, threshold_usd, triggered) -> None:
        rule = load_preset("okx").adl.fund_drawdown
        book = new_book(mark_quote=1)
        i = book.index("insurance_fund")
        book = book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=fund_usd * 100))
        book = attrs.evolve(
            book, clock=rule.window_events - 1, insurance_window_sum_quote=average_usd * 100 * rule.window_events
        )
        assert threshold(rule, book) == threshold_usd * 100
        assert is_drawn_down(rule, book) is triggered

    @pytest.mark.parametrize(
        "pnl, pool, exceeded",
        [
            pytest.param(
                55, 100, False, id="gmx MarketUtils.isPnlFactorExceeded: factor 55% is not > MAX_PNL_FACTOR_FOR_ADL 55%"
            ),
            pytest.param(56, 100, True, id="gmx MarketUtils.isPnlFactorExceeded: 56% > 55%"),
            pytest.param(56, 0, False, id="gmx MarketUtils.getPnlToPoolFactor: a pool worth 0 gives factor 0"),
            pytest.param(-56, 100, False, id="gmx MarketUtils.isPnlFactorExceeded: needs factor > 0"),
        ],
    )
    def test_gmx_pnl_factor(self, pnl, pool, exceeded) -> None:
        assert is_exceeded(load_preset("gmx-v2").pnl_to_pool_adl, pnl, pool) is exceeded
