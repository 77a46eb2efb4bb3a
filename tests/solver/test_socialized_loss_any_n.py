"""Drift and Mango v4 at N = 4: the socialized loss's cells (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20).

principal-protected, which both presets accept (their socialized loss charges every open position
per lot, winners and losers alike), is refuted on the two-trader book with its prices on a grid of
two (a linear question) after the smaller books' own search found nothing: its story is replayed on
the concrete engine and breaks the claim. The grid is searched only for a claim the policy accepts
as failing, and only where the smaller books' search did not refute it (other cells keep their
units). deficit-charged-once for every N by a lemma on one resolve whose socialized-loss shares
and payers' total weight are free (solver/deficit_socialized.py). Mango's waterfall-order for every
N is in tests/solver/test_waterfall_claims.py; the per-liquidation lemma asked exact in
tests/solver/test_each_trader.py.
"""

from __future__ import annotations

import attrs
import pytest
from mutant_support import charge_mutated

from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.rules.rounding import ProRata
from solvent.solver import compositional as comp
from solvent.solver import deficit_socialized, effort
from solvent.solver import prove as prove_module
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.refinement import replay
from solvent.solver.verdicts import Verdict

FOUR = Bounds(accounts=4, effort=10_000_000)
#: drift's grid question within 6M: the same path as at 10M (the smaller books' search finds
#: nothing, the grid on the two-trader book at prices 2, 4 refutes; 2,588,118 units, 4,405,622 at
#: 10M); at 4M the grid's build runs out (444,444 of the 462,954 units it takes) and the answer is
#: unknown (session 28)
FOUR_GRID = attrs.evolve(FOUR, effort=6_000_000)


@pytest.mark.parametrize("preset", ["drift"])
def test_principal_protected_is_refuted_on_the_grid_at_four_traders(preset: str) -> None:
    """Undecided within 10M before (drift's two-trader story was undecided within 10M even alone):
    the smaller books' search (a third) finds nothing, the grid on the two-trader book finds a
    doubling or halving move whose socialized loss charges a payer whose equity the move left
    below its principal. The story is the question's (its bounds replayed) and breaks the claim.
    (Mango v4's is found before the grid since session 22: the next test.)"""
    policy = resolve_policy(preset)
    result = prove(policy, "principal-protected", FOUR_GRID, minimize=False)
    assert result.verdict is Verdict.REFUTED, result.reason
    assert result.accepted and result.scope.accounts == 4
    grid = [q for q in result.queries if "at prices" in q.name]
    assert grid and grid[-1].name.startswith("principal-protected at prices") and "sat" in grid[-1].result
    # counted with the smaller books' search before it
    assert any(q.name == "build" for q in result.queries) and result.units > sum(q.units for q in grid)
    story = result.counterexample.story
    assert len(story.book.traders) == 2 and {story.book.market.mark_quote, story.events[0].price_quote} == {2, 4}
    bounds = for_policy(FOUR_GRID, policy)
    assert replay(policy, catalog.get("principal-protected"), story, bounds).violates


def test_mangos_principal_protected_is_refuted_by_the_smaller_books_exact_query() -> None:
    """Each smaller book a question of its own, its claim asked exact first (session 22,
    docs/solver-notes.md#drifts-claims-backed-and-bybits-principal-protected-at-n--8-session-22): on
    mango-v4 the two-trader book's exact query finds the story (1,420,152 units in all at N = 4,
    3,967,308 through the grid before), so no grid question is asked. It replays and breaks the claim."""
    policy = resolve_policy("mango-v4")
    result = prove(policy, "principal-protected", FOUR, minimize=False)
    assert result.verdict is Verdict.REFUTED, result.reason
    assert result.accepted and result.scope.accounts == 4
    assert not [q for q in result.queries if "at prices" in q.name]
    found = [q for q in result.queries if q.name == "principal-protected" and q.result == "sat (exact, replayed)"]
    assert len(found) == 1
    story = result.counterexample.story
    assert len(story.book.traders) == 2
    assert replay(policy, catalog.get("principal-protected"), story, for_policy(FOUR, policy)).violates


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


def _deficit_once(preset: str, policy=None) -> comp.Extension | comp.Attempt | None:
    policy = policy or resolve_policy(preset)
    with effort.question():
        return comp.attempt(policy, catalog.get("deficit-charged-once"), for_policy(FOUR, policy), units=5_000_000)


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_deficit_charged_once_holds_for_every_n(preset: str) -> None:
    """The call's lemma (shares and total weight free, so it names no other trader) and each account
    resolved at most once in the step at three traders (five resolutions an account, the cascade's
    included), 0.13-0.22M units in all."""
    found = _deficit_once(preset)
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == deficit_socialized.ASSUMES
    asked = [q for q in found.queries if q.units]
    assert [q.result for q in asked] == ["unsat"] * 4
    assert asked[0].name.startswith("deficit-charged-once of alice's resolve, 2 candidates (one call of the cascade)")
    assert sum(q.units for q in asked) < 1_000_000


def test_a_dust_passed_the_wrong_way_breaks_the_call_lemma(monkeypatch) -> None:
    """One token of ``pro_rata.charge``: the dust the bankrupt account passes to the fund is
    ``target - charged`` instead of ``charged - target``; it then keeps more than the layers covered."""
    charge_mutated(monkeypatch, dust_reversed=True)
    found = _deficit_once("mango-v4")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "deficit-charged-once of alice's resolve" in found.failed and "z3 found a model" in found.failed


def test_a_socialized_loss_not_last_or_rounded_down_is_not_this_argument() -> None:
    bounds = Bounds(accounts=4)
    assert deficit_socialized.not_covered(resolve_policy("binance"), bounds) == "not a socialized loss last"
    assert deficit_socialized.not_covered(resolve_policy("percolator-gen-b"), bounds) == "not a socialized loss last"
    mango = resolve_policy("mango-v4")
    assert deficit_socialized.not_covered(mango, for_policy(bounds, mango)) is None
    down = attrs.evolve(mango, rounding=attrs.evolve(mango.rounding, pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER))
    assert "rounded down" in deficit_socialized.not_covered(down, bounds)
    assert "collateral" in deficit_socialized.not_covered(mango, attrs.evolve(bounds, assets=1))
