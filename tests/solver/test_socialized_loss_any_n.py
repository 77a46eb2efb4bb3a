"""Drift and Mango v4 at N = 4: the socialized loss's cells (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20).

principal-protected, which both presets accept (their socialized loss charges every open position
per lot, winners and losers alike), is refuted on the two-trader book with its prices on a grid of
two (a linear question) after the smaller books' own search found nothing: its story is replayed on
the concrete engine and breaks the claim. The grid is searched only for a claim the policy accepts
as failing, and only where the smaller books' search did not refute it (other cells keep their
units). Mango's waterfall-order for every N is in tests/solver/test_waterfall_claims.py; the
per-liquidation lemma asked exact in tests/solver/test_each_trader.py.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.solver import prove as prove_module
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.refinement import replay
from solvent.solver.verdicts import Verdict

FOUR = Bounds(accounts=4, effort=10_000_000)


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_principal_protected_is_refuted_on_the_grid_at_four_traders(preset: str) -> None:
    """Undecided within 10M before (drift's two-trader story was undecided within 10M even alone):
    the smaller books' search (a third) finds nothing, the grid on the two-trader book finds a
    doubling or halving move whose socialized loss charges a payer whose equity the move left
    below its principal. The story is the question's (its bounds replayed) and breaks the claim."""
    policy = resolve_policy(preset)
    result = prove(policy, "principal-protected", FOUR, minimize=False)
    assert result.verdict is Verdict.REFUTED, result.reason
    assert result.accepted and result.scope.accounts == 4
    grid = [q for q in result.queries if "at prices" in q.name]
    assert grid and grid[-1].name.startswith("principal-protected at prices") and "sat" in grid[-1].result
    # counted with the smaller books' search before it
    assert any(q.name == "build" for q in result.queries) and result.units > sum(q.units for q in grid)
    story = result.counterexample.story
    assert len(story.book.traders) == 2 and {story.book.market.mark_quote, story.events[0].price_quote} == {2, 4}
    bounds = for_policy(FOUR, policy)
    assert replay(policy, catalog.get("principal-protected"), story, bounds).violates


def test_the_grid_is_searched_only_for_a_claim_the_policy_accepts(monkeypatch) -> None:
    """The same question with principal-protected not among the accepted claims: no grid question
    is asked (the smaller books' search and N's own pass as before)."""
    asked = []
    real = prove_module._on_grid
    monkeypatch.setattr(prove_module, "_on_grid", lambda *a, **k: asked.append(a) or real(*a, **k))
    drift = resolve_policy("drift")
    plain = attrs.evolve(drift, accepts=tuple(c for c in drift.accepts if c != "principal-protected"))
    result = prove(plain, "principal-protected", attrs.evolve(FOUR, effort=2_000_000), minimize=False)
    assert not asked and not any("at prices" in q.name for q in result.queries)
    assert result.verdict is not Verdict.REFUTED


def test_a_refutation_on_the_smaller_books_is_not_searched_on_the_grid(monkeypatch) -> None:
    """OKX's principal-protected (accepted) is refuted by the smaller books' own search: the grid is
    never asked, so its units are as before this change (1,167,755)."""
    asked = []
    real = prove_module._on_grid
    monkeypatch.setattr(prove_module, "_on_grid", lambda *a, **k: asked.append(a) or real(*a, **k))
    result = prove("okx", "principal-protected", FOUR, minimize=False)
    assert result.verdict is Verdict.REFUTED and not asked
