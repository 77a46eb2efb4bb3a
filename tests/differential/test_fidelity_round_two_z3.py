"""The issue-15 worked examples on both interpreters: the concrete ``step`` and z3's ``transition``
(every input a free variable pinned to its value) give the same step at each boundary of Mango v4's
socialized loss (the liquidator's lots, a payer resolved in turn), BitMEX's risk-limit step and
Hyperliquid's partial liquidation (tests/rules/test_fidelity_round_two.py tells each example)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_round_two as examples
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.presets import load_preset

MANGO, BITMEX, HYPERLIQUID = (
    examples.TestMangoSocializedLoss(),
    examples.TestBitmexRiskLimitSteps(),
    examples.TestHyperliquidPartialLiquidation(),
)

CASES = {
    # Mango: alice ends at zero (245), or at −1 and is resolved in turn (244)
    "mango alice at zero": ("mango-v4", MANGO.book(245), MarkPrice(80)),
    "mango alice resolved in turn": ("mango-v4", MANGO.book(244), MarkPrice(80)),
    # BitMEX: one contract under the 200 XBT step, exactly at it, one above
    "bitmex under the step": ("bitmex", None, (1_999_999, 150_000_000)),
    "bitmex at the step": ("bitmex", None, (2_000_000, 150_000_000)),
    "bitmex above the step": ("bitmex", None, (2_000_001, 150_000_000)),
    # Hyperliquid: 100k USDC (whole order), one lot above (20%), the backstop below 2/3 MM
    "hyperliquid at the threshold": ("hyperliquid", HYPERLIQUID.book(100_000, 110_000), None),
    "hyperliquid one lot above": ("hyperliquid", HYPERLIQUID.book(100_001, 90_000), None),
    "hyperliquid backstop": ("hyperliquid", HYPERLIQUID.book(100_001, 83_334), None),
}


def _case(name: str):
    preset, book, extra = CASES[name]
    if preset == "bitmex":
        return load_preset(preset), BITMEX.run(*extra).before, MarkPrice(10_000)
    return load_preset(preset), book, extra or MarkPrice(100)


@pytest.mark.parametrize("name", CASES)
def test_the_worked_example_agrees_on_z3(name: str) -> None:
    policy, book, event = _case(name)
    got = pinned_step_agrees(policy, book, event).got
    assert any(isinstance(o, Liquidated) for o in got.outcomes) != (name == "bitmex under the step")
    if name == "mango alice resolved in turn":
        assert Bankrupt("alice", 11) in got.outcomes
