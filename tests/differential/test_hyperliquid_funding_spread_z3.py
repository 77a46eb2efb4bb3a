"""The two funding stories of tests/solver/test_hyperliquid_funding_spread.py on both interpreters: z3's
``transition`` (every input a free variable pinned to its value) charges the winner as the concrete
``step`` does, so the prover's own funding question holds each story (session 27, helper fundsplit;
the vault's takeover at a funding sweep since session 28)."""

from __future__ import annotations

from test_engine_step import pinned_step_agrees

import tests.solver.test_hyperliquid_funding_spread as story
from solvent.rules.events import Funding


def test_dave_ends_at_one_on_z3() -> None:
    """Since session 27 (``rules.adl.unreached``) dave pays her 1, not 3: he ends at 1, not −1."""
    got = pinned_step_agrees(story.HYPERLIQUID, story.two(), Funding(story.RATE)).got
    d = got.after.account("dave")
    assert (d.cash_quote, d.size_lots) == (1, 0)


def test_bob_ends_at_250_and_the_vault_at_minus_525_on_z3() -> None:
    """Since session 28 (``rules.adl.pool_takes_over``, ``rules.bankruptcy.vault_takes_over``) bob pays his
    fills' share of carol's 600, 75, not 600 (−275 in session 27), and the vault takes over the 525 her other
    35 lots leave, ending flat at −525."""
    got = pinned_step_agrees(story.HYPERLIQUID, story.four(), Funding(story.RATE)).got
    b, v = got.after.account("bob"), got.after.account("backstop_vault")
    assert (b.cash_quote, b.size_lots, v.cash_quote, v.size_lots) == (250, 0, -525, 0)
