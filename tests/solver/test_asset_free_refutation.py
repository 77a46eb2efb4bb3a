"""A refutation searched on the book without its collateral assets first
(``prove._without_assets``, docs/solver-notes.md#a-refutation-searched-without-the-asset-first).

On drift and mango-v4 ``solvent check`` asks every claim with the first collateral asset on the book;
there the claims the presets accept as failing (§7's socialized loss, its fund cap, its total
collateral) stayed undecided: z3 found their stories at N = 1 only with 3.0-4.6M units. On the book
without the asset the same stories take 0.3-0.6M; each is then written on the asset book with no
account holding the asset and replayed there on the concrete engine, so it is a story within
check's bounds.
"""

from __future__ import annotations

import attrs
import pytest

import solvent.solver.prove as prove_module
from solvent.properties.scenarios import Story
from solvent.rules.book import new_book
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import with_inert_assets
from solvent.solver.prove import prove
from solvent.solver.refinement import Replay
from solvent.solver.verdicts import Verdict


def _check_question(preset: str) -> tuple[object, Bounds]:
    policy = resolve_policy(preset)
    bounds = Bounds(accounts=2, events=1, effort=3_750_000, assets=1, event_kinds=("mark", "asset-price"))
    return policy, attrs.evolve(for_policy(bounds, policy), asset_names=tuple(c.name for c in policy.collateral))


def test_drift_spot_isolated_is_refuted_within_checks_share_as_its_accepted_story() -> None:
    policy, bounds = _check_question("drift")
    result = prove(policy, "spot-isolated", bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.REFUTED and result.accepted
    assert result.scope.accounts == 2  # found on one trader: a refutation within N <= 2
    assert "found on the book without its collateral assets" in result.method
    book = result.counterexample.story.book
    assert [a.name for a in book.assets] == ["SOL"] and all(a.asset_balances == (0,) for a in book.accounts)
    assert result.units < 1_000_000  # undecided within 3.75M before


@pytest.mark.deep
@pytest.mark.parametrize(
    ("preset", "claim"), [("drift", "no-haircut"), ("drift", "waterfall-order"), ("mango-v4", "no-haircut")]
)
def test_the_accepted_refutations_within_checks_share(preset: str, claim: str) -> None:
    policy, bounds = _check_question(preset)
    result = prove(policy, claim, bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.REFUTED and result.accepted, result.reason
    assert result.counterexample.story.book.assets


def test_a_story_that_does_not_break_the_claim_on_the_asset_book_is_not_reported(monkeypatch) -> None:
    """The asset book's replay is the gate: with it reporting the claim held, the asset-free story is
    not a verdict, and the question goes on to the book with the asset (undecided in 1M units)."""
    monkeypatch.setattr(prove_module, "replay", lambda policy, invariant, story, bounds: Replay(story, (), None))
    policy, bounds = _check_question("drift")
    result = prove(policy, "spot-isolated", attrs.evolve(bounds, effort=1_000_000), minimize=False, payer_first=False)
    assert result.verdict is not Verdict.REFUTED
    assert "found on the book without its collateral assets" not in result.method


def test_inert_assets_are_held_by_no_account() -> None:
    story = Story(new_book(mark_quote=100), ())
    lifted = with_inert_assets(story, ("SOL",), 7)
    assert [(a.name, a.price_quote, a.net_deposits) for a in lifted.book.assets] == [("SOL", 7, 0)]
    assert all(a.asset_balances == (0,) for a in lifted.book.accounts)
    with pytest.raises(ValueError, match="already holds"):
        with_inert_assets(lifted, ("SOL",), 7)
