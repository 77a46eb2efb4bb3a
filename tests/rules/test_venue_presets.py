"""The venue library's presets (issue 6): they load, round-trip, cite their docs/venues.md section,
comment every parameter, and carry the numbers the venues publish."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from test_presets_load import uncommented_parameters

from solvent.rules.arith import PPM, Rounding
from solvent.rules.fund_drawdown import FundDrawdown
from solvent.rules.liquidation import Execution, Recipient, Trigger
from solvent.rules.loading import dumps_policy, load_policy, loads_policy
from solvent.rules.pool_adl import PnlToPoolAdl
from solvent.rules.presets import load_preset, preset_names, preset_path
from solvent.rules.venue_formulas import hyperliquid_maintenance_rate, maintenance_amount, rate_ppm
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    BackstopVault,
    GapRounding,
    InsuranceFund,
    Over,
    Ranking,
    SocializedLoss,
)

#: The docs/venues.md section each new preset must cite first.
SECTIONS = {
    "bitmex": "docs/venues.md#bitmex (BitMEX)",
    "bybit": "docs/venues.md#bybit (Bybit)",
    "okx": "docs/venues.md#okx (OKX, formerly OKEx)",
    "dydx-v4": "docs/venues.md#dydx-v4 (dYdX v4: dYdX Chain, github dydxprotocol/v4-chain)",
    "hyperliquid": "docs/venues.md#hyperliquid (Hyperliquid)",
    "mango-v4": "docs/venues.md#mango-v4 (Mango v4, github blockworks-foundation/mango-v4)",
    "gmx-v2": "docs/venues.md#gmx-v2 (GMX v2, github gmx-io/gmx-synthetics: the pool as counterparty)",
}
VENUES = list(SECTIONS)


def text_of(name: str) -> str:
    return preset_path(name).read_text(encoding="utf-8")


def test_the_library_ships_every_venue() -> None:
    """The seven venue presets sit beside the original six."""
    assert set(VENUES) <= set(preset_names())


@pytest.mark.parametrize("name", VENUES)
class TestEveryVenuePreset:
    """Each venue preset follows the preset conventions of tests/rules/test_presets_load.py."""

    def test_loads_and_round_trips(self, name: str) -> None:
        policy = load_policy(preset_path(name))
        assert policy.name == name
        assert loads_policy(dumps_policy(policy)) == policy

    def test_every_parameter_is_commented(self, name: str) -> None:
        assert uncommented_parameters(text_of(name)) == []

    def test_describes_the_deficit_in_one_sentence(self, name: str) -> None:
        description = load_preset(name).description
        assert any(word in description for word in ("deficit", "shortfall", "loss", "bad debt"))
        assert description.count(". ") == 0

    def test_cites_its_section_then_the_venue(self, name: str) -> None:
        sources = load_preset(name).sources
        assert sources[0] == SECTIONS[name]
        assert len(sources) > 1
        assert all(re.search(r"[a-z0-9-]+\.[a-z]{2,}", s) for s in sources[1:])

    def test_choices_say_why(self, name: str) -> None:
        """A ``choice:`` comment is never bare: a reason or a source gap, or "as <key>" for the same one."""
        for line in text_of(name).splitlines():
            if "# choice:" in line:
                why = line.split("# choice:", 1)[1].strip()
                assert len(why) > 20 or re.fullmatch(r"as [a-z_]+", why), line

    def test_accepts_only_catalogued_invariants(self, name: str) -> None:
        from solvent.properties import catalog

        for invariant in load_preset(name).accepts:
            catalog.get(invariant)


class TestBitmex:
    """docs/venues.md#bitmex: XBTUSD risk limits as tiers, bankruptcy takeover, fund then ADL (BitMEX ranking)."""

    #: (floor XBT, MM %, IM %), bitmex.com/app/riskLimitsExamples as quoted in §2.
    STEPS = [(0, "0.5", "1.0"), (200, "1.0", "1.5"), (350, "1.5", "2.0"), (500, "2.0", "2.5")]

    @pytest.mark.parametrize("row", range(4), ids=lambda i: f"step {i}")
    def test_risk_limit_step(self, row: int) -> None:
        floor_xbt, mm, im = self.STEPS[row]
        tier = load_preset("bitmex").margin.tiers[row]
        assert tier.floor_notional_quote == floor_xbt * 100_000_000  # XBt
        assert (tier.maintenance_ppm, tier.initial_ppm) == (Fraction(mm) * 10_000, Fraction(im) * 10_000)

    def test_steps_apply_to_the_whole_position(self) -> None:
        """The header says so: each step's rates apply to the whole position (risk_limit_steps), the
        jump at each floor declared; worked example in tests/rules/test_fidelity_round_two.py."""
        assert "for the *whole* position at each risk-limit step" in text_of("bitmex")
        policy = load_preset("bitmex")
        assert policy.margin.risk_limit_steps is True
        assert [t.maintenance_amount_quote for t in policy.margin.tiers] == [0, 0, 0, 0]

    def test_liquidation_and_waterfall(self) -> None:
        policy = load_preset("bitmex")
        assert policy.liquidation.execution is Execution.BANKRUPTCY
        assert policy.liquidation.penalty_ppm == 0
        assert policy.deficit == (InsuranceFund(), Adl(Ranking.BITMEX, AdlPrice.BANKRUPTCY))


class TestBybit:
    """docs/venues.md#bybit: BTCUSDT risk-limit table (MMR, deduction, leverage), bankruptcy close, fund, ADL."""

    #: (risk limit USDT, max leverage, MMR %, deduction USDT): Bybit's BTCUSDT margin parameters.
    TABLE = [
        (2_000_000, 100, "0.5", 0), (2_600_000, 90, "0.56", 1_200), (3_200_000, 80, "0.63", 3_020),
        (3_800_000, 75, "0.67", 4_300), (4_400_000, 70, "0.71", 5_820), (5_000_000, 65, "0.77", 8_460),
        (5_600_000, 55, "0.91", 15_460), (8_500_000, 50, "1", 20_500), (10_000_000, 45, "1.3", 46_000),
        (14_000_000, 40, "1.5", 66_000), (20_000_000, 35, "1.6", 80_000), (28_000_000, 30, "2", 160_000),
        (38_000_000, 25, "2.5", 300_000), (50_000_000, 20, "2.9", 452_000), (55_000_000, 19, "3", 502_000),
        (60_000_000, 18, "3.5", 777_000), (65_000_000, 17, "3.6", 837_000), (70_000_000, 16, "3.8", 967_000),
        (75_000_000, 15, "4", 1_107_000), (80_000_000, 14, "4.5", 1_482_000),
    ]  # fmt: skip

    @pytest.mark.parametrize("row", range(20), ids=lambda i: f"tier {i + 1}")
    def test_tier_matches_the_table(self, row: int) -> None:
        _, leverage, mmr, deduction = self.TABLE[row]
        floor = self.TABLE[row - 1][0] if row else 0  # a tier starts at the previous risk limit
        tier = load_preset("bybit").margin.tiers[row]
        assert tier.floor_notional_quote == floor * 100  # 0.01 USDT quanta
        assert tier.maintenance_ppm == Fraction(mmr) * 10_000
        assert tier.maintenance_amount_quote == deduction * 100
        assert tier.initial_ppm == -(-PPM // leverage)

    @pytest.mark.parametrize("row", range(1, 20), ids=lambda i: f"tier {i + 1}")
    def test_deductions_follow_bybits_recursion(self, row: int) -> None:
        """deduction_n = limit_{n−1} × (MMR_n − MMR_{n−1}) + deduction_{n−1}, in USDT."""
        limit, _, mmr_before, deduction_before = self.TABLE[row - 1]
        _, _, mmr, deduction = self.TABLE[row]
        ppm = lambda percent: int(Fraction(percent) * 10_000)  # noqa: E731
        assert maintenance_amount(deduction_before, limit, ppm(mmr_before), ppm(mmr)) == deduction

    def test_liquidation_and_waterfall(self) -> None:
        policy = load_preset("bybit")
        assert policy.liquidation.trigger is Trigger.AT_OR_BELOW_MAINTENANCE
        assert policy.liquidation.execution is Execution.BANKRUPTCY
        assert policy.deficit == (InsuranceFund(), Adl(Ranking.BITMEX, AdlPrice.BANKRUPTCY, price_on_tick=True))


class TestOkx:
    """docs/venues.md#okx (current): fee inside the trigger, fund, ADL on a deficit or a fund drawdown."""

    def test_values(self) -> None:
        policy = load_preset("okx")
        tier = policy.margin.tiers[0]
        assert (tier.initial_ppm, tier.maintenance_ppm) == (13_300, 5_000 + 500)  # MMR 0.50% + fee 0.05%
        assert policy.liquidation.trigger is Trigger.AT_OR_BELOW_MAINTENANCE
        assert (policy.liquidation.penalty_ppm, policy.liquidation.penalty_recipient) == (500, Recipient.INSURANCE_FUND)
        drawdown = FundDrawdown(drawdown_ppm=300_000, window_events=8, min_drawdown_quote=5_000_000)  # 30%, $50K
        assert policy.deficit == (InsuranceFund(), Adl(Ranking.BITMEX, AdlPrice.BANKRUPTCY, fund_drawdown=drawdown))
        assert policy.accepts == (
            "no-haircut",
            "principal-protected",
        )  # ADL at the bankruptcy price may exceed a winner's profit

    def test_says_how_the_trigger_and_price_are_read(self) -> None:
        text = text_of("okx")
        assert "Not modelled: ADL's trigger" not in text
        assert "8-hour average minus the" in text and "nearly depleted" in text


class TestDydxV4:
    """docs/venues.md#dydx-v4: Large-Cap IMF/MMF, 1.5% max liquidation fee to the fund, deleveraging in book order."""

    def test_values(self) -> None:
        policy = load_preset("dydx-v4")
        tier = policy.margin.tiers[0]
        assert (tier.initial_ppm, tier.maintenance_ppm) == (50_000, 50_000 * 60 // 100)  # IMF 5% × fraction 60%
        assert policy.liquidation.trigger is Trigger.BELOW_MAINTENANCE
        assert (policy.liquidation.penalty_ppm, policy.liquidation.penalty_recipient) == (
            15_000,
            Recipient.INSURANCE_FUND,
        )
        assert policy.rounding.fee is Rounding.FLOOR  # BigIntMulPpm rounds toward −∞
        # the fund pays a liquidation's whole delta or none of it (IsValidInsuranceFundDelta, issue 15)
        assert policy.deficit == (
            InsuranceFund(all_or_nothing=True),
            Adl(
                Ranking.ORDER,
                AdlPrice.BANKRUPTCY,
                gap_rounding=GapRounding.PER_FILL,
                overlap_only=True,
                max_deleveraged_per_event=10,  # DefaultMaxDeleveragingAttemptsPerBlock (x/clob/flags/flags.go)
            ),
        )

    def test_says_block_limits_are_not_modelled(self) -> None:
        assert "block limits" in text_of("dydx-v4")


class TestHyperliquid:
    """docs/venues.md#hyperliquid: MMR = 1/(2 × max leverage), backstop below 2/3 MM, vault then ADL at the previous mark."""

    @pytest.mark.parametrize("row, max_leverage", [(0, 40), (1, 20)], ids=["40x", "20x"])
    def test_maintenance_is_half_initial_at_max_leverage(self, row: int, max_leverage: int) -> None:
        tier = load_preset("hyperliquid").margin.tiers[row]
        assert tier.maintenance_ppm == rate_ppm(hyperliquid_maintenance_rate(max_leverage), rounding=Rounding.HALF_EVEN)
        assert tier.initial_ppm == PPM // max_leverage

    def test_second_tier_deduction(self) -> None:
        """150M USDC × (2.5% − 1.25%) = 1,875,000 USDC, in cents."""
        assert load_preset("hyperliquid").margin.tiers[1].maintenance_amount_quote == 187_500_000

    def test_backstop_and_waterfall(self) -> None:
        policy = load_preset("hyperliquid")
        assert policy.liquidation.takeover_below_ppm == 666_667  # 2/3 of MM
        assert policy.liquidation.penalty_ppm == 0  # no clearance fee
        assert policy.deficit == (BackstopVault(), Adl(Ranking.HYPERLIQUID, AdlPrice.PREVIOUS_MARK))


class TestMangoV4:
    """docs/venues.md#mango-v4: insurance vault, then socialized loss per lot over open interest."""

    def test_waterfall(self) -> None:
        policy = load_preset("mango-v4")
        assert policy.deficit == (
            InsuranceFund(),
            SocializedLoss(Over.OPEN_INTEREST, cascade=True, liquidator_pays=True),
        )
        assert policy.adl is None


class TestGmxV2:
    """docs/venues.md#gmx-v2: the GM pool as backstop; ADL by pnl-to-pool factor, apart from the waterfall."""

    def test_pool_pays_bad_debt(self) -> None:
        policy = load_preset("gmx-v2")
        assert policy.deficit == (BackstopVault(),)
        assert policy.liquidation.penalty_recipient is Recipient.BACKSTOP_VAULT
        assert policy.liquidation.penalty_ppm == 2_000  # 0.20% of size

    def test_adl_by_pnl_to_pool_factor(self) -> None:
        """gmx-synthetics config/markets.ts synthethicMarketConfig: max 55%, min after ADL 50%."""
        policy = load_preset("gmx-v2")
        assert policy.pnl_to_pool_adl == PnlToPoolAdl(
            max_factor_ppm=550_000, min_factor_ppm=500_000, ranking=Ranking.BITMEX
        )
        assert policy.adl is None  # no ADL layer pays a deficit
        assert "NOT EXPRESSIBLE" not in text_of("gmx-v2")


def test_presets_are_package_data() -> None:
    """The new files live beside the old ones, so the wheel ships them (``presets/*.toml``)."""
    for name in VENUES:
        assert preset_path(name).parent == Path(preset_path("binance")).parent
