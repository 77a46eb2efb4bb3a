"""The two funding stories of tests/solver/test_hyperliquid_funding_spread.py on both interpreters: z3's
``transition`` (every input a free variable pinned to its value) charges the winner as the concrete
``step`` does, so the prover's own funding question holds each story (session 27, helper fundsplit)."""

from __future__ import annotations

from test_engine_step import pinned_step_agrees

import tests.solver.test_hyperliquid_funding_spread as story
from solvent.rules.events import Funding


def test_dave_ends_at_one_on_z3() -> None:
    """Since session 27 (``rules.adl.unreached``) dave pays her 1, not 3: he ends at 1, not −1."""
    got = pinned_step_agrees(story.HYPERLIQUID, story.two(), Funding(story.RATE)).got
    d = got.after.account("dave")
    assert (d.cash_quote, d.size_lots) == (1, 0)


def test_bob_ends_at_minus_275_on_z3() -> None:
    """Since session 27 bob pays 600, not 546 (dave no longer overpays for alice, whose excess went to the vault)."""
    got = pinned_step_agrees(story.HYPERLIQUID, story.four(), Funding(story.RATE)).got
    b = got.after.account("bob")
    assert (b.cash_quote, b.size_lots) == (-275, 0)
