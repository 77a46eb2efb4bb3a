"""The two funding stories of tests/solver/test_hyperliquid_funding_parts.py on both interpreters: z3's
``transition`` (every input a free variable pinned to its value) charges alice and leaves the vault as the
concrete ``step`` does (session 31, helper hlfund)."""

from __future__ import annotations

from test_engine_step import pinned_step_agrees

import tests.solver.test_hyperliquid_funding_parts as story
from solvent.rules.events import Funding


def test_alice_ends_at_minus_one_on_z3() -> None:
    """The vault's own ADL at a funding sweep: alice's 5 of its 6 lots pay ``⌈2 × 5 / 6⌉ = 2``."""
    got = pinned_step_agrees(story.HYPERLIQUID, story.rounding(), Funding(story.RATE)).got
    a = got.after.account("alice")
    assert (a.cash_quote, a.size_lots) == (-1, 0)


def test_the_vault_ends_flat_at_minus_14_on_z3() -> None:
    got = pinned_step_agrees(story.HYPERLIQUID, story.takeover(), Funding(story.CAP)).got
    v = got.after.account("backstop_vault")
    assert (v.cash_quote, v.size_lots) == (-14, 0)
