"""The funding payment of tests/solver/test_hyperliquid_funding_claims.py on both interpreters: z3's
``transition`` (every input a free variable pinned to its value) closes bob's 100 lots for alice's
deficit of 1 as the concrete ``step`` does, so the prover's own question holds the story. Per fill
(the preset as shipped, session 26) bob on 95 pays 1 and ends at 98, the vault keeping nothing; per
lot (the named mutant ``gap_rounding_without_move = "per_lot"``, fundiso's finding) he pays 100 and
ends at −1, the vault keeping 99."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.solver.test_hyperliquid_funding_claims as story
from solvent.rules.engine import run
from solvent.rules.events import Funding


@pytest.mark.parametrize(
    ("policy", "bob", "vault"),
    [(story.HYPERLIQUID, 98, 0), (story.per_lot(story.HYPERLIQUID), -1, 99)],
    ids=["per_fill", "per_lot"],
)
def test_bobs_payment_agrees_on_z3(policy, bob: int, vault: int) -> None:
    """Bob on 95: the funding step pinned on z3 gives the concrete step's cash to the quantum."""
    got = pinned_step_agrees(policy, story.book(95), Funding(40_000)).got
    b, v = got.after.account("bob"), got.after.account("backstop_vault")
    assert (b.cash_quote, b.size_lots) == (bob, 0)
    assert (v.cash_quote, v.size_lots) == (vault, 0)


def test_two_winners_share_it_per_fill_on_z3() -> None:
    """alice at −97 after 1,000,000 ppm (the preset without its 4% cap): bob's 60 lots pay 59, carol's 40 pay 38, on z3 as concretely."""
    held = story.opened(1, ("alice", "bob", "carol"), (("alice", 100, 3), ("bob", -60, 3), ("carol", -40, 3)))
    got = pinned_step_agrees(story.UNCAPPED, held, Funding(1_000_000)).got
    assert [got.after.account(n).cash_quote for n in ("alice", "bob", "carol")] == [0, 3 + 60 - 59, 3 + 40 - 38]


def test_around_the_vaults_lots_on_z3() -> None:
    """Session 25's story around the vault's 400 lots: since session 28 per fill bob's 600 pay their share,
    420, and the vault, whose 400 lots close her other 400, takes over the 280 left (``rules.adl.pool_takes_over``
    and ``rules.bankruptcy.vault_takes_over`` on z3's terms): flat at −280."""
    vault_story = story.vault_story
    held = run(
        vault_story.HYPERLIQUID,
        vault_story.book(29_100, bob=-600, vault_lots=-400, vault=-11_920),
        [vault_story.SPREAD[0]],
    )
    got = pinned_step_agrees(vault_story.HYPERLIQUID, held[-1].after, vault_story.SPREAD[1]).got
    b, v, a = (got.after.account(n) for n in ("bob", "backstop_vault", "alice"))
    assert (a.cash_quote, a.size_lots, v.cash_quote, v.size_lots) == (0, 0, -280, 0)
    assert b.size_lots == 0
    assert vault_story.adl_paid(got) == {"bob": 420}


@pytest.mark.parametrize(("bob", "vault_lots"), [(-999, -399), (-1_000, -400)], ids=["one-under", "exactly"])
def test_the_vault_keeps_the_lots_the_fills_leave_on_z3(bob: int, vault_lots: int) -> None:
    """Session 27 (``rules.adl.unreached`` on z3's terms): bob short 999 or 1,000 opposite her 1,000, the
    vault short 400. The fills leave 1 lot or none, so the spread is over 999 or 1,000 lots and bob pays
    her whole 700 per fill (1,167 before, over 600); the vault takes the 1 lot left, or keeps its 400. Since
    session 28 no spread at a funding sweep: over her whole 1,000 lots, bob's 999 pay 700 all the same
    (⌈700 × 999 / 1,000⌉), the vault's last lot nothing (it takes over 0)."""
    vault_story = story.vault_story
    held = run(
        vault_story.HYPERLIQUID,
        vault_story.book(29_100, bob=bob, vault_lots=-400, vault=-11_920),
        [vault_story.SPREAD[0]],
    )
    got = pinned_step_agrees(vault_story.HYPERLIQUID, held[-1].after, vault_story.SPREAD[1]).got
    a, v = got.after.account("alice"), got.after.account("backstop_vault")
    assert (a.cash_quote, a.size_lots, v.size_lots) == (0, 0, vault_lots)
    assert vault_story.adl_paid(got) == {"bob": 700}
