"""Margin: tiered maintenance (Binance "tax bracket", docs/venues.md#binance-margin), initial margin, equity.

Quanta: one quote quantum is 0.01 USDT; one lot is 0.001 BTC, so a BTC price of 50,000 USDT is a
mark of 5,000 quanta per lot.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules.arith import PPM, Rounding
from solvent.rules.book import Account, MarginMode
from solvent.rules.margin import (
    MarginRule,
    Tier,
    counts_spot,
    equity,
    initial_margin,
    maintenance_margin,
    notional,
    profit,
)
from solvent.rules.rounding import RoundingRule

FAST = settings(deadline=None, database=None, max_examples=200)
USDT = 100  # quote quanta per USDT

# docs/venues.md#binance-margin, BTCUSDT (freqtrade snapshot, Oct 2024): floor USDT, MMR ppm, max leverage, cum USDT.
BTCUSDT_ROWS = [
    (0, 4_000, 125, 0),
    (50_000, 5_000, 100, 50),
    (600_000, 6_500, 75, 950),
    (3_000_000, 10_000, 50, 11_450),
    (12_000_000, 20_000, 25, 131_450),
    (70_000_000, 25_000, 20, 481_450),
    (100_000_000, 50_000, 10, 2_981_450),
    (230_000_000, 100_000, 5, 14_481_450),
    (480_000_000, 125_000, 4, 26_481_450),
    (600_000_000, 150_000, 3, 41_481_450),
    (800_000_000, 250_000, 2, 121_481_450),
    (1_200_000_000, 500_000, 1, 421_481_450),
]


def btcusdt_tiers() -> tuple[Tier, ...]:
    """The table in quanta; IMR = 1/max leverage rounded up to a whole ppm (1/75 → 13,334 ppm)."""
    return tuple(
        Tier(
            floor_notional_quote=floor * USDT,
            initial_ppm=-(-PPM // lev),
            maintenance_ppm=mmr,
            maintenance_amount_quote=cum * USDT,
        )
        for floor, mmr, lev, cum in BTCUSDT_ROWS
    )


BTCUSDT = MarginRule(tiers=btcusdt_tiers())
CEIL = RoundingRule()
FLOOR = RoundingRule(margin=Rounding.FLOOR)


def tier_row(notional_quote: int):
    """The table row whose bracket holds this notional (independent of the engine's lookup)."""
    return [row for row in BTCUSDT_ROWS if row[0] * USDT <= notional_quote][-1]


class TestTierValidation:
    """A tier table must start at 0, increase, and keep maintenance continuous at every floor."""

    def test_btcusdt_table_is_accepted(self):
        assert len(BTCUSDT.tiers) == 12

    def test_wrong_maintenance_amount_names_the_right_one(self):
        tiers = btcusdt_tiers()[:2] + (Tier(60_000_000, 13_334, 6_500, 94_999),)
        with pytest.raises(ValueError) as info:
            MarginRule(tiers=tiers)
        assert str(info.value) == (
            "'maintenance_amount_quote' must be 95000 to keep maintenance continuous at 60000000: 94999 @ tiers[2].maintenance_amount_quote"
        )

    def test_floor_that_cannot_be_continuous_in_whole_quanta(self):
        # 5,000,001 × (5,000 − 4,000) ppm = 5,000.001 quanta: no whole maintenance amount fits.
        tiers = (Tier(0, 8_000, 4_000), Tier(5_000_001, 10_000, 5_000, 5_000))
        with pytest.raises(ValueError) as info:
            MarginRule(tiers=tiers)
        assert str(info.value) == (
            "'maintenance_amount_quote' must be 5000.001000 (not a whole quantum) to keep maintenance "
            "continuous at 5000001: 5000 @ tiers[1].maintenance_amount_quote"
        )

    def test_not_whole_amount_message_is_exact_for_large_amounts(self):
        # (10^17 + 1) × 1 ppm = 100,000,000,000.000001 quanta.
        tiers = (Tier(0, 8_000, 4_000), Tier(10**17 + 1, 10_000, 4_001, 5_000))
        with pytest.raises(ValueError) as info:
            MarginRule(tiers=tiers)
        assert str(info.value) == (
            "'maintenance_amount_quote' must be 100000000000.000001 (not a whole quantum) to keep maintenance "
            "continuous at 100000000000000001: 5000 @ tiers[1].maintenance_amount_quote"
        )

    @pytest.mark.parametrize(
        "tiers, message",
        [
            pytest.param((), "'tiers' must hold at least one tier", id="no tiers"),
            pytest.param(
                (Tier(5, 8_000, 4_000),),
                "'floor_notional_quote' of the first tier must be 0: 5 @ tiers[0].floor_notional_quote",
                id="first floor not 0",
            ),
            pytest.param(
                (Tier(0, 8_000, 4_000), Tier(0, 10_000, 5_000)),
                "'floor_notional_quote' must be > 0 (tiers[0]): 0 @ tiers[1].floor_notional_quote",
                id="floors not increasing",
            ),
        ],
    )
    def test_table_shape(self, tiers, message):
        with pytest.raises(ValueError) as info:
            MarginRule(tiers=tiers)
        assert str(info.value) == message

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            pytest.param(
                dict(initial_ppm=1_000, maintenance_ppm=2_000),
                "'maintenance_ppm' must be <= initial_ppm (1000): 2000",
                id="MMR > IMR",
            ),
            pytest.param(dict(initial_ppm=0, maintenance_ppm=0), "'initial_ppm' must be >= 1: 0", id="IMR 0"),
            pytest.param(
                dict(initial_ppm=1_000_001, maintenance_ppm=0),
                "'initial_ppm' must be <= 1000000: 1000001",
                id="IMR above 100%",
            ),
            pytest.param(
                dict(initial_ppm=Fraction(1, 2), maintenance_ppm=0),
                "'initial_ppm' must be an integer number of ppm: Fraction(1, 2)",
                id="IMR not an integer",
            ),
        ],
    )
    def test_tier_fields(self, kwargs, message):
        with pytest.raises(ValueError) as info:
            Tier(floor_notional_quote=0, **kwargs)
        assert str(info.value) == message


class TestMaintenanceMargin:
    """MM = N × MMR_tier − cum_tier, rounded up, continuous across tier floors."""

    def test_tier_3_example(self):
        # BTC at 50,000 USDT = 5,000 quanta per 0.001 BTC lot; 20,000 lots = 1,000,000 USDT notional (tier 3).
        # MM = 1,000,000 × 0.65% − 950 = 6,500 − 950 = 5,550 USDT.
        assert maintenance_margin(BTCUSDT, CEIL, 20_000, 5_000) == 5_550 * USDT

    def test_tier_3_example_for_a_short(self):
        assert maintenance_margin(BTCUSDT, CEIL, -20_000, 5_000) == 5_550 * USDT

    def test_tier_4_example(self):
        # 10,000,000 USDT: 10,000,000 × 1% − 11,450 = 88,550 USDT.
        assert maintenance_margin(BTCUSDT, CEIL, 200_000, 5_000) == 88_550 * USDT

    @pytest.mark.parametrize("row", range(1, len(BTCUSDT_ROWS)), ids=[f"floor {r[0]:,} USDT" for r in BTCUSDT_ROWS[1:]])
    def test_continuous_at_every_floor(self, row):
        floor, _, _, _ = BTCUSDT_ROWS[row]
        _, mmr_below, _, cum_below = BTCUSDT_ROWS[row - 1]
        below_formula = Fraction(floor * USDT * mmr_below, PPM) - cum_below * USDT
        # mark 1 quantum per lot: notional = lots
        assert maintenance_margin(BTCUSDT, CEIL, floor * USDT, 1) == below_formula
        assert (
            maintenance_margin(BTCUSDT, CEIL, floor * USDT - 1, 1)
            == math.ceil(Fraction((floor * USDT - 1) * mmr_below, PPM)) - cum_below * USDT
        )

    @FAST
    @given(n=st.integers(min_value=0, max_value=2_000_000_000 * USDT))
    def test_matches_tier_formula(self, n):
        floor, mmr, _, cum = tier_row(n)
        assert maintenance_margin(BTCUSDT, CEIL, n, 1) == math.ceil(Fraction(n * mmr, PPM)) - cum * USDT
        assert maintenance_margin(BTCUSDT, FLOOR, n, 1) == math.floor(Fraction(n * mmr, PPM)) - cum * USDT

    @FAST
    @given(n=st.integers(min_value=0, max_value=2_000_000_000 * USDT))
    def test_never_decreases_with_notional(self, n):
        assert maintenance_margin(BTCUSDT, CEIL, n, 1) <= maintenance_margin(BTCUSDT, CEIL, n + 1, 1)

    def test_rounds_up_by_default(self):
        rule = MarginRule(tiers=(Tier(0, 100_000, 50_000),))
        # 5% of 333 = 16.65 → 17 (up), 16 (down)
        assert (maintenance_margin(rule, CEIL, 3, 111), maintenance_margin(rule, FLOOR, 3, 111)) == (17, 16)

    def test_flat_position_needs_nothing(self):
        assert maintenance_margin(BTCUSDT, CEIL, 0, 5_000) == 0


class TestInitialMargin:
    """IM = N × IMR_tier, rounded by ``rounding.margin`` (up by default: it favours solvency)."""

    @pytest.mark.parametrize(
        "rounding, expected",
        [pytest.param(CEIL, 34, id="10% of 333 up = 34"), pytest.param(FLOOR, 33, id="10% of 333 down = 33")],
    )
    def test_rounding(self, rounding, expected):
        rule = MarginRule(tiers=(Tier(0, 100_000, 50_000),))
        assert initial_margin(rule, rounding, -3, 111) == expected

    def test_uses_the_tier_rate(self):
        # 1,000,000 USDT is in tier 3 (max leverage 75x, 13,334 ppm): IM = 13,334 USDT exactly.
        assert initial_margin(BTCUSDT, CEIL, 20_000, 5_000) == 13_334 * USDT
        # 40,000 USDT is in tier 1 (125x): IM = 320 USDT.
        assert initial_margin(BTCUSDT, CEIL, 800, 5_000) == 320 * USDT

    @FAST
    @given(n=st.integers(min_value=0, max_value=2_000_000_000 * USDT))
    def test_matches_tier_formula(self, n):
        _, _, lev, _ = tier_row(n)
        assert initial_margin(BTCUSDT, CEIL, n, 1) == math.ceil(Fraction(n * -(-PPM // lev), PPM))

    def test_notional_is_absolute(self):
        assert (notional(-7, 30), notional(7, 30), notional(0, 30)) == (210, 210, 0)


class TestEquity:
    """Equity is cash, plus spot only for a cross account under a spot-collateral policy."""

    FLAT = (Tier(0, 100_000, 50_000),)

    @pytest.mark.parametrize(
        "spot_collateral, mode, expected",
        [
            pytest.param(False, MarginMode.CROSS, 100, id="no spot collateral: cash only"),
            pytest.param(True, MarginMode.CROSS, 150, id="spot collateral, cross: cash + spot"),
            pytest.param(True, MarginMode.ISOLATED, 100, id="spot collateral, isolated: cash only"),
            pytest.param(False, MarginMode.ISOLATED, 100, id="isolated without spot collateral"),
        ],
    )
    def test_equity(self, spot_collateral, mode, expected):
        rule = MarginRule(tiers=self.FLAT, spot_collateral=spot_collateral)
        account = Account("alice", margin_mode=mode, cash_quote=100, spot_quote=50)
        assert equity(rule, account) == expected
        assert counts_spot(rule, account) == (expected == 150)

    def test_negative_cash_is_negative_equity(self):
        rule = MarginRule(tiers=self.FLAT)
        assert equity(rule, Account("alice", cash_quote=-30, spot_quote=50)) == -30

    @pytest.mark.parametrize(
        "cash, principal, expected",
        [
            pytest.param(130, 100, 30, id="above principal: profit 30"),
            pytest.param(100, 100, 0, id="at principal: no profit"),
            pytest.param(60, 100, 0, id="below principal: floored at 0"),
        ],
    )
    def test_profit(self, cash, principal, expected):
        rule = MarginRule(tiers=self.FLAT)
        assert profit(rule, Account("alice", cash_quote=cash, principal_quote=principal)) == expected

    def test_spot_collateral_must_be_a_bool(self):
        with pytest.raises(TypeError):
            MarginRule(tiers=self.FLAT, spot_collateral=1)
