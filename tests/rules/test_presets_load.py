"""The bundled presets and the example policy: they load, round-trip, cite sources, comment every
parameter, and carry the numbers docs/venues.md#section-numbers gives."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from solvent.rules.liquidation import Execution, Recipient, Trigger
from solvent.rules.loading import PolicyError, dumps_policy, load_policy, loads_policy
from solvent.rules.presets import PRESETS_DIR, load_preset, not_modelled, preset_names, preset_path, resolve_policy
from solvent.rules.rounding import SideIndex
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    Clawback,
    DebtCarry,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Lender,
    Over,
    Ranking,
    Release,
    SocializedLoss,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "my-policy.toml"
PRESETS = ["backpack", "binance", "broker-reg-t", "drift", "okx-2018", "percolator-gen-a", "percolator-gen-b"]

#: The docs/venues.md section each preset must cite.
SECTIONS = {
    "backpack": ["docs/venues.md#backpack (Backpack Exchange: debt carry)"],
    "binance": ["docs/venues.md#binance (Binance USDⓈ-M futures)"],
    "broker-reg-t": ["docs/venues.md#reg-t-broker (traditional broker margin: Reg T, FINRA 4210, E*TRADE)"],
    "drift": ["docs/venues.md#drift-v2 (Drift protocol v2)"],
    "okx-2018": [
        "docs/venues.md#okx (OKX, formerly OKEx)",
        "docs/venues.md#okex-btc0928-clawback-2018 (incident: OKEx BTC0928 clawback)",
    ],
    "percolator-gen-a": ["docs/venues.md#percolator (Percolator)"],
    "percolator-gen-b": ["docs/venues.md#percolator (Percolator)"],
}

KEY_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=")
COMMENTED_VALUE = re.compile(r"""^\s*[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|\[.*\]|[^#\s"\[][^#\s]*)\s+#\s*\S""")


def uncommented_parameters(text: str) -> list[str]:
    """``key = value`` lines without a trailing ``# comment`` (a multi-line array opener counts as its key)."""
    return [
        line
        for line in text.splitlines()
        if KEY_LINE.match(line) and not COMMENTED_VALUE.match(line) and not line.rstrip().endswith("= [")
    ]


def policy_files() -> list[Path]:
    return [*(preset_path(name) for name in PRESETS), EXAMPLE]


class TestCatalog:
    """The presets the package ships, and how a name or a path resolves to a policy."""

    def test_names(self) -> None:
        # the founding six; the venue library adds more (tests/rules/test_venue_presets.py)
        assert set(PRESETS) <= set(preset_names()) and preset_names() == sorted(preset_names())

    def test_bundled_beside_the_module(self) -> None:
        assert preset_path("binance") == PRESETS_DIR / "binance.toml"

    def test_unknown_preset(self) -> None:
        with pytest.raises(PolicyError) as info:
            load_preset("ftx")
        assert str(info.value) == (
            "ftx: 1 error(s)\n"
            "  'preset' must be one of 'backpack', 'binance', 'bitmex', 'broker-reg-t', 'bybit', 'drift', 'dydx-v4', 'gmx-v2', 'hyperliquid', 'mango-v4', 'okx', 'okx-2018', 'percolator-gen-a', 'percolator-gen-b': 'ftx'"
        )

    def test_resolve_unknown_lists_presets(self) -> None:
        with pytest.raises(PolicyError) as info:
            resolve_policy("no-such-file.toml")
        assert info.value.errors == [
            "'policy' must be an existing .toml file or one of 'backpack', 'binance', 'bitmex', 'broker-reg-t', 'bybit', 'drift', 'dydx-v4', 'gmx-v2', 'hyperliquid', 'mango-v4', 'okx', 'okx-2018', 'percolator-gen-a', 'percolator-gen-b': 'no-such-file.toml'"
        ]

    def test_resolve_a_path(self) -> None:
        assert resolve_policy(EXAMPLE) == load_policy(EXAMPLE)
        assert resolve_policy(str(EXAMPLE)).name == "my-policy"

    def test_resolve_a_name(self) -> None:
        assert resolve_policy("drift") == load_preset("drift")


@pytest.mark.parametrize("path", policy_files(), ids=lambda p: p.name)
class TestEveryFile:
    """Each preset and the example: loads, round-trips, explains every parameter."""

    def test_loads_and_round_trips(self, path: Path) -> None:
        policy = load_policy(path)
        assert loads_policy(dumps_policy(policy)) == policy

    def test_every_parameter_is_commented(self, path: Path) -> None:
        assert uncommented_parameters(path.read_text(encoding="utf-8")) == []

    def test_describes_the_deficit(self, path: Path) -> None:
        """One or two sentences on what the venue does with a deficit."""
        description = load_policy(path).description
        assert any(word in description for word in ("deficit", "shortfall", "loss"))
        assert description.count(". ") <= 1


@pytest.mark.parametrize("name", PRESETS)
def test_cites_its_mechanics_section_and_urls(name: str) -> None:
    """Sources start with the docs/venues.md section(s), then the venue's own sources."""
    sources = load_preset(name).sources
    sections = SECTIONS[name]
    assert list(sources[: len(sections)]) == sections
    assert len(sources) > len(sections)
    assert all(re.search(r"[a-z0-9-]+\.[a-z]{2,}", s) for s in sources[len(sections) :])


def test_comment_check_catches_a_bare_parameter() -> None:
    """The comment check itself: a bare value, a '#' inside a string, and a commented value."""
    text = 'a = 1\nb = "x # y"\nc = "x # y"  # why\nd = [\n  "s",\n]  # why\n'
    assert uncommented_parameters(text) == ["a = 1", 'b = "x # y"']


class TestBinance:
    """docs/venues.md#binance: BTCUSDT tiers in 0.01 USDT quanta, clearance fee to the fund, ADL at BP."""

    #: (floor USDT, MMR %, max leverage, cum USDT), the §1 table.
    TABLE = [
        (0, "0.40", 125, 0),
        (50_000, "0.50", 100, 50),
        (600_000, "0.65", 75, 950),
        (3_000_000, "1.00", 50, 11_450),
        (12_000_000, "2.00", 25, 131_450),
        (70_000_000, "2.50", 20, 481_450),
        (100_000_000, "5.00", 10, 2_981_450),
        (230_000_000, "10.0", 5, 14_481_450),
        (480_000_000, "12.5", 4, 26_481_450),
        (600_000_000, "15.0", 3, 41_481_450),
        (800_000_000, "25.0", 2, 121_481_450),
        (1_200_000_000, "50.0", 1, 421_481_450),
    ]

    def test_tier_three_maintenance_amount(self) -> None:
        """Tier 3 (600k–3M USDT) has cum 950 USDT = 95,000 quanta of 0.01 USDT."""
        policy = load_preset("binance")
        assert policy.units.quote == "0.01 USDT"
        assert policy.margin.tiers[2].maintenance_amount_quote == 95_000

    @pytest.mark.parametrize("row", range(12), ids=lambda i: f"tier {i + 1}")
    def test_tier_matches_the_table(self, row: int) -> None:
        floor_usdt, mmr_percent, max_leverage, cum_usdt = self.TABLE[row]
        tier = load_preset("binance").margin.tiers[row]
        assert (tier.floor_notional_quote, tier.maintenance_ppm, tier.maintenance_amount_quote) == (
            floor_usdt * 100,  # 0.01 USDT quanta
            Fraction(mmr_percent) * 10_000,  # percent to ppm
            cum_usdt * 100,
        )
        assert tier.initial_ppm == -(-1_000_000 // max_leverage)  # 1e6 / leverage, rounded up

    def test_liquidation_and_waterfall(self) -> None:
        policy = load_preset("binance")
        assert policy.liquidation.trigger is Trigger.AT_OR_BELOW_MAINTENANCE
        assert (policy.liquidation.penalty_ppm, policy.liquidation.penalty_recipient) == (
            12_500,
            Recipient.INSURANCE_FUND,
        )
        assert policy.deficit == (InsuranceFund(), Adl(Ranking.BINANCE, AdlPrice.BANKRUPTCY))


class TestBackpack:
    """docs/venues.md#backpack: 1% fee, spot collateral, debt carried to the winners and repaid by deposits."""

    def test_values(self) -> None:
        policy = load_preset("backpack")
        assert policy.margin.spot_collateral is True
        assert policy.liquidation.execution is Execution.MARKET
        assert policy.liquidation.penalty_ppm == 10_000
        assert policy.deficit == (DebtCarry(Lender.WINNERS, deposits_repay_debt=True),)


class TestOkx2018:
    """docs/venues.md#okex-clawback-2018, #okex-btc0928-clawback-2018: insurance fund, then a weekly clawback capped at profit."""

    def test_values(self) -> None:
        policy = load_preset("okx-2018")
        assert policy.margin.tiers[0].initial_ppm == 100_000  # 10x
        assert policy.deficit == (InsuranceFund(), Clawback(window_events=7 * 24 * 60, cap_at_profit=True))

    def test_says_the_window_counts_events(self) -> None:
        text = preset_path("okx-2018").read_text(encoding="utf-8")
        assert "the window counts engine events" in text


class TestDrift:
    """docs/venues.md#drift-v2: 10% / 5% margin, liquidator fee as slippage, capped fund, fee pool, OI socialization."""

    def test_values(self) -> None:
        policy = load_preset("drift")
        tier = policy.margin.tiers[0]
        assert (tier.initial_ppm, tier.maintenance_ppm) == (100_000, 50_000)
        assert policy.liquidation.trigger is Trigger.BELOW_MAINTENANCE
        assert policy.liquidation.execution is Execution.MARKET and policy.liquidation.slippage_ppm > 0
        fund, pool, social = policy.deficit
        assert fund.cap_quote is not None
        # the liquidator's lots count, and a payer sunk below zero is bankrupt in turn (issue 15)
        assert (pool, social) == (FeePool(), SocializedLoss(Over.OPEN_INTEREST, cascade=True, liquidator_pays=True))


class TestPercolator:
    """docs/venues.md#percolator: Gen A haircuts all junior profit and never spends its fund; Gen B
    pays from the fund first and haircuts matured profit only; ``percolator`` is Gen A."""

    def test_generation_a(self) -> None:
        policy = load_preset("percolator-gen-a")
        # spec v7: a loss settles into capital (§6.1), profit vests over 100 slots (README example),
        # linearly (§5: min(AvailGross, w_slope × elapsed))
        assert policy.deficit == (HaircutRatio(losses_settle_capital=True, warmup_events=100, release=Release.LINEAR),)
        assert policy.liquidation.trigger is Trigger.AT_OR_BELOW_MAINTENANCE  # spec v7 §9.2: <=

    def test_generation_b(self) -> None:
        policy = load_preset("percolator-gen-b")
        layer = HaircutRatio(losses_settle_capital=True, warmup_events=100, matured_only=True, release=Release.LINEAR)
        side = SocializedLoss(over=Over.OPPOSING_SIDE, cascade=True)  # spec v11.31 §5.6: K_opp, A_opp
        assert policy.deficit == (InsuranceFund(), side, layer)
        assert policy.rounding.side_index is SideIndex.K_UP
        assert "https://github.com/aeyakovenko/percolator" in policy.sources

    def test_percolator_is_another_name_for_gen_a(self) -> None:
        assert load_preset("percolator") == load_preset("percolator-gen-a")
        assert "percolator" not in preset_names()

    def test_what_each_leaves_out_is_shown(self) -> None:
        assert not_modelled("percolator-gen-b") == (
            "the lazy reading of K and A by an account untouched over several liquidations",
            "the lazy h",
            "the reserve of a bankruptcy's own event",
        )
        assert not_modelled("percolator") == ("the lazy h", "fee debt and maintenance fees")


class TestBrokerRegT:
    """docs/venues.md#reg-t-broker: Reg T 50% initial, FINRA 4210 25% maintenance, no fund, debt to the broker."""

    def test_values(self) -> None:
        policy = load_preset("broker-reg-t")
        tier = policy.margin.tiers[0]
        assert (tier.initial_ppm, tier.maintenance_ppm) == (500_000, 250_000)
        assert policy.layer(InsuranceFund) is None
        assert policy.deficit == (DebtCarry(Lender.VENUE, deposits_repay_debt=True),)
