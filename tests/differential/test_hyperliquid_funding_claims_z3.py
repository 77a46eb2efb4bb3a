"""The finding of tests/solver/test_hyperliquid_funding_claims.py on both interpreters: z3's
``transition`` (every input a free variable pinned to its value) closes bob's 100 lots at 1 a lot
for alice's deficit of 1 as the concrete ``step`` does, so the prover's own question holds the story
(bob at −1 where his cash was 95)."""

from __future__ import annotations

from test_engine_step import pinned_step_agrees

import tests.solver.test_hyperliquid_funding_claims as story
from solvent.rules.events import Funding


def test_bob_charged_the_rounding_agrees_on_z3() -> None:
    """Bob on 95: −1 after paying 100 for a deficit of 1 (the concrete story's boundary)."""
    got = pinned_step_agrees(story.HYPERLIQUID, story.book(95), Funding(40_000)).got
    b, vault = got.after.account("bob"), got.after.account("backstop_vault")
    assert (b.cash_quote, b.size_lots) == (-1, 0)
    assert (vault.cash_quote, vault.size_lots) == (99, 0)
