"""The ledger frame as proved facts (solver/frames.py) and conservation's direct check asked
conjunct by conjunct with them (solver/query.py, FRAMED): BitMEX's direct check at N = 2 took
16.8M units without them, more than a question inside `solvent check` has."""

from __future__ import annotations

import pytest
import z3

from solvent.properties import catalog
from solvent.rules.engine import transition
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.case_split import identity_holds
from solvent.solver.effort import question
from solvent.solver.frames import frame, moved
from solvent.solver.query import StoryQuery
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict


def _mark_step(preset: str):
    policy = load_preset(preset)
    bounds = for_policy(Bounds(accounts=2, events=1), policy)
    book, _ = symbolic_book(bounds)
    (slot,) = slots(book, bounds)
    return policy, book, transition(policy, book, slot.variants[0].event)


def test_every_balance_of_bitmex_mark_step_is_its_frame() -> None:
    """Eight accounts' cash and spot and net deposits: 17 equations, each proved, within 1M units."""
    with question():
        _, book, ctx = _mark_step("bitmex")
        found = frame(book, ctx, 1_000_000)
    assert (found.asked, found.held) == (17, 17)
    assert 0 < found.units < 1_000_000
    assert len(found.facts) == 17


def test_a_frame_one_quantum_off_is_not_a_fact() -> None:
    """The fund's cash against its entries plus 1, or with one of its entries left out: the
    identity does not hold, so the equation is never handed to a question."""
    with question():
        _, book, ctx = _mark_step("bitmex")
        fund = "insurance_fund"
        after, before = ctx.book.account(fund).cash_quote, book.account(fund).cash_quote
        exact = z3.simplify(after - before - moved(ctx, fund))
        assert identity_holds(exact, 1_000_000).result == "unsat"
        assert identity_holds(z3.simplify(exact - 1), 1_000_000).result == "sat"
        entries = [e for e in ctx.entries if fund in (e.item.source, e.item.destination)]
        assert entries
        first = entries[0]
        guard = z3.BoolVal(first.guard) if type(first.guard) is bool else first.guard
        its = z3.If(guard, first.item.amount_quote, 0) * (1 if first.item.destination == fund else -1)
        assert identity_holds(z3.simplify(after - before - (moved(ctx, fund) - its)), 1_000_000).result == "sat"


def test_bitmex_conservation_is_proved_directly_at_n_2_within_3m_units() -> None:
    """The direct check (the whole bounded question at N = 2) within 3M units, frame included:
    its clearing account's balances first, then the whole obligation with them as facts."""
    policy = load_preset("bitmex")
    invariant = catalog.get("conservation")
    bounds = for_policy(Bounds(accounts=2, events=1, effort=3_000_000), policy)
    with question():
        query = StoryQuery(policy, invariant, bounds, obligations=(invariant,))
        assert query.facts and len(query.parts["conservation"]) == 3
        answer = query.check_obligation(invariant)
    assert answer.verdict is Verdict.PROVED, answer.reason
    assert "conjuncts, each with the frame" in answer.stats.result
    assert query.build_units + answer.stats.units <= 3_000_000


@pytest.mark.deep
def test_hyperliquid_conservation_is_proved_directly_at_n_2_within_20m_units() -> None:
    """Undecided at 20M units without the frame (the totals need the clearing account empty after
    the move, which z3 did not find inside the whole question); with it, proved at 20M spending
    under 8M (deep: the frame's splits alone take 2.3M units)."""
    policy = load_preset("hyperliquid")
    invariant = catalog.get("conservation")
    bounds = for_policy(Bounds(accounts=2, events=1, effort=20_000_000), policy)
    with question():
        query = StoryQuery(policy, invariant, bounds, obligations=(invariant,))
        answer = query.check_obligation(invariant)
    assert answer.verdict is Verdict.PROVED, answer.reason
    assert query.build_units + answer.stats.units <= 8_000_000
