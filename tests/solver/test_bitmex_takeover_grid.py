"""BitMEX's fund below zero, found: the takeover's story searched first on the smallest book's grid
(session 22, helper A).

Where the fund takes over what ADL leaves (``payer_lemma.takes_over``), ``insurance-fund-non-negative``
and ``claims-backed``'s system holders are false (the fund pays its cash as cover, then its own lots,
closed at the mark, leave their share of the gap, which it takes over below zero). z3 did not find it
within a question at N = 4 (10M units: the smaller books off the grid and N's own question ran out).
``prove._small_scope_first`` now asks those claims first on one trader, one event, on the grid's
doubling and halving (``prove._on_grid``: a linear question), within a third of the question; a story
there is replayed on the concrete engine and is one of N's
(docs/solver-notes.md#bitmexs-four-cells-at-n--4-session-22).
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.rules import bankruptcy
from solvent.rules.ledger import Reason
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.refinement import replay
from solvent.solver.verdicts import Verdict

BITMEX = resolve_policy("bitmex")
N4 = Bounds(accounts=4, events=1, effort=10_000_000)

_FOUND: dict[str, object] = {}


def _found(claim: str):
    if claim not in _FOUND:
        _FOUND[claim] = prove(BITMEX, claim, N4)
    return _FOUND[claim]


def test_the_funds_claim_is_refuted_at_n_4_and_accepted() -> None:
    result = _found("insurance-fund-non-negative")
    assert result.verdict is Verdict.REFUTED and result.accepted, result.reason
    assert result.units < N4.effort
    names = [q.name for q in result.queries]
    assert any(name.endswith("at prices 2, 4") for name in names), names  # found on the grid, first
    story = result.counterexample.story
    assert len(story.book.traders) == 1  # one trader: the smallest book
    [step] = result.counterexample.steps
    after = {a.name: a.cash_quote for a in step.after.accounts}
    assert after["insurance_fund"] < 0
    assert any(t.reason is Reason.FUND_TAKEOVER and t.amount_quote > 0 for t in step.transfers)


def test_claims_backed_is_refuted_at_n_4_by_its_system_holders() -> None:
    """The system holders' part refuted on the grid, its story replayed against claims-backed itself;
    accepted since session 22 (the unbacked claim is the fund's takeover below zero, the state
    insurance-fund-non-negative accepts: docs/model.md#superseded-in-session-22-claims-backed-accepted-on-bitmex)."""
    result = _found("claims-backed")
    assert result.verdict is Verdict.REFUTED and result.accepted, result.reason
    assert result.units < N4.effort
    [step] = result.counterexample.steps
    assert {a.name: a.cash_quote for a in step.after.accounts}["insurance_fund"] < 0


def test_without_the_takeover_the_story_keeps_the_fund_at_zero(monkeypatch) -> None:
    """The story found, replayed on an engine whose fund does not take over what ADL leaves (the
    takeover mutated away): the fund is not below zero, so it is the takeover the story shows."""
    story = _found("insurance-fund-non-negative").counterexample.story
    bounds = for_policy(Bounds(accounts=1, events=1), BITMEX)
    fund = catalog.get("insurance-fund-non-negative")
    assert replay(BITMEX, fund, story, bounds).violates
    monkeypatch.setattr(bankruptcy, "fund_takes_over", lambda policy, ctx, name: ctx)
    assert not replay(BITMEX, fund, story, bounds).violates


@pytest.mark.parametrize("preset", ["binance", "okx"])
def test_no_other_preset_searches_the_takeover_grid_first(preset: str) -> None:
    """binance's and okx's fund claim (the fund's turn lemma proves it) asks no grid point."""
    result = prove(preset, "insurance-fund-non-negative", Bounds(accounts=2, events=1, effort=4_000_000))
    assert result.verdict is Verdict.PROVED, result.reason
    assert not any("at prices" in q.name for q in result.queries)


def test_the_grid_is_asked_exact_first_so_the_share_does_not_move_the_story() -> None:
    """Each grid point's claim asked exact first (``_bounded(exact_first=True)``): the first point is
    refuted by the exact stage, and a question of 8M or 12M spends the same units finding it as one of
    10M (the purified third the portfolio asks first made the story come and go with the share)."""
    result = _found("insurance-fund-non-negative")
    [point] = [q for q in result.queries if q.name == "insurance-fund-non-negative at prices 2, 4"]
    assert point.result == "sat (exact, replayed)"
    for effort in (8_000_000, 12_000_000):
        # without the least move (the shrink after the story, which gets the rest of the purse and
        # which this test does not compare: 1.54 -> 0.65 s of CPU at 8M, session 28)
        other = prove(
            BITMEX, "insurance-fund-non-negative", Bounds(accounts=4, events=1, effort=effort), minimize=False
        )
        assert other.verdict is Verdict.REFUTED
        found = [q.units for q in other.queries if not q.name.startswith("minimize")]  # the shrink gets the rest
        assert found == [q.units for q in result.queries if not q.name.startswith("minimize")]


def test_claims_backed_asked_whole_at_k_3_searches_the_grid_first() -> None:
    """At K = 3 claims-backed is asked whole (its parts need an induction over moves, which bitmex has
    not: the fund below zero after a move is its design); whole, it searches the takeover's grid first
    too, and a one-move story is one of K = 3's (it was undecided within 20M units)."""
    result = prove(BITMEX, "claims-backed", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED, result.reason
    assert result.units < 2_000_000
    assert any(q.name.endswith("at prices 2, 4") for q in result.queries)
