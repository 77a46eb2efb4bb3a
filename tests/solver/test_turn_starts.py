"""The fund's turn lemma instantiated on the books the step's own sweep reached (``rules.engine.turn_starts_recorded``,
``solver.story``'s ``VariantRun.turn_starts``), not on the sweep built a second time (``fund_facts.turn_starts``):
the same terms, fewer build steps (docs/solver-notes.md#the-funds-turn-lemma-inside-a-large-books-context-session-18)."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.rules import engine
from solvent.rules.book import new_book
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.presets import resolve_policy
from solvent.solver import effort, fund_facts, payer_direct
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_facts import _pairs
from solvent.solver.query import StoryQuery

FUND = catalog.get("insurance-fund-non-negative")


def _same(free, a, b) -> bool:
    """Every variable of the lemma's free book maps to the same z3 term on ``a`` as on ``b``."""
    left, right = list(_pairs(free, a)), list(_pairs(free, b))
    return len(left) == len(right) and all(x.eq(y) for (_, x), (_, y) in zip(left, right, strict=True))


@pytest.mark.parametrize(
    ("preset", "bounds"),
    [
        ("bybit", Bounds(accounts=3, events=1, effort=20_000_000)),
        ("binance", Bounds(accounts=2, events=2, effort=20_000_000)),
        ("drift", Bounds(accounts=2, events=1, effort=20_000_000, assets=1, event_kinds=("mark", "asset-price"))),
    ],
)
def test_each_recorded_turn_start_is_the_book_the_sweep_built_again_would_reach(preset: str, bounds: Bounds) -> None:
    """On each run of each slot (a K = 2 question's second move from the book the first left; an
    oracle move on a lending book) the recorded turns are the traders in book order, and every
    variable of the lemma's free book maps to the very z3 term that ``fund_facts.turn_starts``
    reaches by settling and running the turns again: the instances are the ones they were. A
    record taken after each turn instead of before it fails this."""
    with effort.question():
        policy = resolve_policy(preset)
        bounds = for_policy(bounds, policy)
        cases, _ = payer_direct.prepared(policy, bounds, FUND.id)
        assert cases is not None
        query = StoryQuery(policy, FUND, bounds, obligations=(FUND,), lemma_facts=cases.instances)
        compared = 0
        for k, slot in enumerate(query.runs):
            before = query.book if k == 0 else slot.before
            for run in slot.runs:
                again = list(fund_facts.turn_starts(policy, before, run.variant.event))
                assert [t for t, _ in run.turn_starts] == [t for t, _ in again] == [a.name for a in before.traders]
                for (_, recorded), (_, built) in zip(run.turn_starts, again, strict=True):
                    assert _same(cases.facts.book, recorded, built)
                    compared += 1
        assert compared == bounds.accounts * sum(len(s.runs) for s in query.runs)


def test_the_instances_build_no_step_of_their_own() -> None:
    """Instantiating the lemma on a built question charges no build step (it built the settlement
    and every turn again before: on okx at N = 8, 2.94M of the 7.00M build); a run without a
    recorded sweep falls back to building it (the same books)."""
    with effort.question():
        policy = resolve_policy("okx")
        bounds = for_policy(Bounds(accounts=3, events=1, effort=20_000_000), policy)
        cases, _ = payer_direct.prepared(policy, bounds, FUND.id)
        assert cases is not None
        query = StoryQuery(policy, FUND, bounds, obligations=(FUND,))
        with effort.building(10**9) as meter:
            facts = cases.instances(query.book, query.runs)
        assert meter.spent == 0 and len(facts) == 3
        bare = [attrs.evolve(s, runs=tuple(attrs.evolve(r, turn_starts=()) for r in s.runs)) for s in query.runs]
        with effort.building(10**9) as meter:
            again = cases.instances(query.book, bare)
        assert meter.spent > 0
        assert all(a.eq(b) for a, b in zip(facts, again, strict=True))


def test_recording_the_turns_leaves_the_step_as_it_is() -> None:
    """A concrete mark move that liquidates alice (long 10 lots at 100 with 50 of cash, the mark
    to 90) and bob's opposite side: the same step with and without the record, and the record one
    entry per trader in book order, the first the settled book's (alice's mark-to-market loss
    taken, her position still open), the second the book alice's liquidation left."""
    policy = resolve_policy("okx")
    book = new_book(mark_quote=100, traders=("alice", "bob"))
    for name, size, cash in (("alice", 10, 50), ("bob", -10, 10_000)):
        i = book.index(name)
        book = book.replace_account(
            i, attrs.evolve(book.accounts[i], size_lots=size, cost_quote=size * 100, cash_quote=cash)
        )
    event = MarkPrice(90)
    plain = engine.transition(policy, book, event)
    with engine.turn_starts_recorded() as seen:
        recorded = engine.transition(policy, book, event)
    assert recorded.book == plain.book and recorded.entries == plain.entries
    assert [t for t, _ in seen] == ["alice", "bob"]
    (_, first), (_, second) = seen
    assert first.account("alice").size_lots == 10
    assert second == engine.liquidation_turn(policy, Ctx(first), "alice").book
    assert second.account("alice").size_lots != 10  # her turn liquidated her
