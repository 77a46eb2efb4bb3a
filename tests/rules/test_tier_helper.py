"""Changing one number (issue 16): one tier's rate changed from Python, its maintenance amounts
recomputed from continuity (``rules.margin.with_rate``, ``continuous_tiers``)."""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest

from solvent.rules.margin import Tier, continuous_tiers, maintenance_margin, with_rate
from solvent.rules.presets import load_preset, preset_names
from solvent.rules.rounding import RoundingRule

BINANCE = load_preset("binance")


def _mm_at(tier: Tier, notional: int) -> Fraction:
    """N × rate − amount, exactly, on one tier's formula."""
    return Fraction(notional * tier.maintenance_ppm, 1_000_000) - tier.maintenance_amount_quote


def test_evolving_one_rate_alone_trips_the_continuity_check() -> None:
    """Without the helper: the table with one rate changed and the old amounts is refused."""
    tiers = BINANCE.margin.tiers
    changed = tiers[:1] + (attrs.evolve(tiers[1], maintenance_ppm=6_000),) + tiers[2:]
    with pytest.raises(ValueError, match=r"must be 10000 to keep maintenance continuous at 5000000.*tiers\[1\]"):
        attrs.evolve(BINANCE.margin, tiers=changed)


def test_with_rate_recomputes_every_amount_and_the_table_is_continuous() -> None:
    wider = with_rate(BINANCE, 1, maintenance_ppm=6_000)
    tiers = wider.margin.tiers
    assert tiers[1].maintenance_ppm == 6_000
    # Binance's formula by hand: 5,000,000 × (0.6% − 0.4%) = 10,000; 10,000 + 60,000,000 × (0.65% − 0.6%) = 40,000
    assert [t.maintenance_amount_quote for t in tiers[:3]] == [0, 10_000, 40_000]
    for lower, upper in zip(tiers, tiers[1:], strict=False):
        # at each floor the tier below and the tier above ask the same maintenance
        assert _mm_at(lower, upper.floor_notional_quote) == _mm_at(upper, upper.floor_notional_quote)
    # the rest of the policy is untouched, and the engine reads the new rate above the floor
    assert attrs.evolve(wider, margin=BINANCE.margin) == BINANCE
    rounding = RoundingRule()
    lots, mark = 1, 10_000_000  # notional 10,000,000: tier 1
    assert maintenance_margin(wider.margin, rounding, lots, mark) == 10_000_000 * 6_000 // 1_000_000 - 10_000


def test_recomputing_an_unchanged_table_changes_nothing() -> None:
    """Every preset's amounts are already the continuity amounts (or 0 for risk-limit steps)."""
    for name in preset_names():
        margin = load_preset(name).margin
        if not margin.risk_limit_steps:
            assert continuous_tiers(margin.tiers) == margin.tiers, name


def test_the_initial_rate_too_and_risk_limit_steps_keep_zero_amounts() -> None:
    assert with_rate(BINANCE, 0, initial_ppm=9_000).margin.tiers[0].initial_ppm == 9_000
    bitmex = load_preset("bitmex")
    stepped = with_rate(bitmex, 1, maintenance_ppm=bitmex.margin.tiers[1].maintenance_ppm + 1_000)
    assert all(t.maintenance_amount_quote == 0 for t in stepped.margin.tiers)
    assert stepped.margin.tiers[1].maintenance_ppm == bitmex.margin.tiers[1].maintenance_ppm + 1_000


def test_bad_changes_name_the_tier() -> None:
    with pytest.raises(ValueError, match=r"'tier_index' must name one of the 12 tiers: 12"):
        with_rate(BINANCE, 12, maintenance_ppm=5_000)
    with pytest.raises(
        ValueError, match=r"'maintenance_ppm' must be <= initial_ppm \(10000\): 20000 @ margin.tiers\[1\]"
    ):
        with_rate(BINANCE, 1, maintenance_ppm=20_000)
    with pytest.raises(ValueError, match=r"below 0.*7500.*tiers\[2\]"):
        with_rate(BINANCE, 1, maintenance_ppm=7_500)  # above the next tier's 0.65%
    odd = (Tier(0, 10_000, 5_000), Tier(1_000_001, 20_000, 6_000))  # 1,000,001 × 0.1% = 1,000.001
    with pytest.raises(ValueError, match=r"would be 1000\.001000, not a whole quantum.*tiers\[1\]"):
        continuous_tiers(odd)
