"""Each payer's piece asked first with the charges' gaps free (solver/query.py ``"abstracted"``,
solver/payer_direct.py), and claims-backed's direct check with the payer's facts.

Replacing a term by a fresh variable everywhere weakens a question: every model of the question is
a model of the weaker one with the variable set to the term's value, so unsat there is unsat here.
The other way round it says nothing (the variable need not equal its term), so the stage proves or
passes, never refutes. The terms are each charge's gap per lot, as the question's own terms: what
the payer's facts bound (``0 ≤ g ≤ |ΔM|``), and on Bybit the bankruptcy price with its fee to close
and two divisions, which z3's exact search spent most of the hard pieces on
(docs/solver-notes.md#the-gap-abstracted-issue-18).
"""

from __future__ import annotations

import pytest
import z3
from term_support import occurs

from solvent.properties import catalog
from solvent.rules.bankruptcy import resolve
from solvent.rules.ledger import Ctx
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import resolve_policy
from solvent.solver import payer_direct, payer_facts, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `bybit` (the question built once per z3 context): 5-6 s under load, built on both workers
#: (session 25)
pytestmark = pytest.mark.xdist_group("gap-abstracted")

TWO = Bounds(accounts=2, events=1, effort=20_000_000)

_BUILT: dict[int, tuple] = {}


@pytest.fixture
def bybit():
    """Bybit's claims-backed question at N = 2 with the payer's facts and the gaps to abstract,
    built once per z3 context."""
    key = id(z3.main_ctx())
    if key not in _BUILT:
        _BUILT.clear()
        policy = resolve_policy("bybit")
        cases = payer_direct.prepare(policy, TWO)
        assert cases is not None
        invariant = catalog.get("claims-backed")
        query = StoryQuery(
            policy,
            invariant,
            for_policy(TWO, policy),
            obligations=(invariant, None),
            lemma_facts=cases.instances,
            abstracted=cases.abstracted,
        )
        _BUILT[key] = (policy, cases, query)
    return _BUILT[key]


def test_each_abstracted_term_is_a_charges_gap_as_the_question_builds_it(bybit) -> None:
    """One gap per resolve of the sweep (alice's, bob paying; bob's, alice paying), each the gap
    per lot the engine's ``resolve`` records for that fill from the book it starts from, a term of
    a proved fact and of the payer's cash after the step; read off the build, not rebuilt."""
    policy, cases, query = bybit
    run = query.runs[0].runs[0]
    assert len(query.abstracted) == 2
    starts = dict(payer_facts.resolve_starts(policy, query.book, run.variant.event))
    for gap, (bankrupt, payer) in zip(query.abstracted, (("alice", "bob"), ("bob", "alice")), strict=True):
        fills = [o for o in resolve(policy, Ctx(starts[bankrupt]), bankrupt).outcomes if isinstance(o.item, AdlFill)]
        assert any(f.item.gap_per_lot_quote.eq(gap) for f in fills if f.item.winner == payer)
        assert any(occurs(gap, fact) for fact in query.facts)
        assert occurs(gap, run.ctx.book.account(payer).cash_quote)
    again = cases.facts.gaps(policy, query.book, query.runs)
    assert [g.get_id() for g in again] == [g.get_id() for g in query.abstracted]


def test_the_abstracted_question_holds_no_gap_and_its_model_is_no_story(bybit, monkeypatch) -> None:
    """What the child is asked has every gap replaced (a fresh variable in its place), and a
    model of it leaves the piece undecided: UNKNOWN, never REFUTED, and never PROVED."""
    _, _, query = bybit
    asked: list = []

    def sat(assertions, variables, units, safety_s):
        asked.extend(assertions)
        return wall.WallAnswer("sat", units=7)

    monkeypatch.setattr(wall, "check", sat)
    answer = query.check_staged(catalog.get("claims-backed"), [("abstracted", 1_000)])
    assert answer.verdict is Verdict.UNKNOWN and answer.counterexample is None
    assert answer.stats.result == "sat (exact, abstracted)" and answer.stats.units == 7
    assert asked and not any(occurs(g, a) for g in query.abstracted for a in asked)
    free = z3.Int("abstracted.1", asked[0].ctx)
    assert any(occurs(free, a) for a in asked)


def test_a_payers_piece_is_proved_with_its_gap_free(bybit) -> None:
    """alice's cash failing with neither account resolved: unsat with the gaps free (a piece that
    reads no gap's definition), within 1M units."""
    policy, _, query = bybit
    invariant = catalog.get("claims-backed")
    first = payer_direct._pieces(policy, query, invariant)[0]
    answer = query.check_staged(invariant, [("abstracted", 1_000_000)], first)
    assert answer.verdict is Verdict.PROVED, answer.stats
    assert answer.stats.result == "unsat (exact, abstracted)"


#: ``solvent check``'s second round on Bybit gives each of these about 8.4-8.9M units (README,
#: docs/solver-notes.md#the-gap-abstracted-issue-18); asked as check asks them
CHECK_ROUND_TWO = 8_400_000


@pytest.mark.deep  # three questions of 8.4M units: 15-20 s each at load 7-9
@pytest.mark.parametrize("claim", ["claims-backed", "no-negative-equity", "loss-bounded-by-collateral"])
def test_bybits_payer_claims_are_proved_within_checks_second_round(claim: str) -> None:
    result = prove(
        "bybit",
        claim,
        Bounds(accounts=2, events=1, effort=CHECK_ROUND_TWO),
        minimize=False,
        payer_first=False,
    )
    own = next(o for o in result.obligations if o.obligation == claim)
    assert own.verdict is Verdict.PROVED, result.summary()
    assert payer_direct.METHOD in result.method
    # its pieces at once, not after a whole purified query that never decided (payer_direct.PIECES_AT_ONCE);
    # claims-backed is asked by its parts since 2042821, its pieces in no-negative-equity's part
    # (8,357,896 units at f16bc44, docs/solver-notes.md#the-deep-suite-run-whole-session-27)
    asked = claim if claim != "claims-backed" else "no-negative-equity (no-negative-equity, N = 2)"
    assert any("pieces not asked whole" in q.result for q in result.queries if q.name == asked)


@pytest.mark.deep  # 7.6M units, 18 s at load 8
def test_binances_claims_backed_is_proved_with_the_payers_facts() -> None:
    result = prove(
        "binance", "claims-backed", Bounds(accounts=2, events=1, effort=10_000_000), minimize=False, payer_first=False
    )
    assert result.verdict is Verdict.PROVED, result.summary()
    assert payer_direct.METHOD in result.method
