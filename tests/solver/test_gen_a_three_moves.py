"""z3's own N = 3, K = 3 question on percolator-gen-a admits the three-move story of
tests/rules/test_percolator_gen_a_moves.py and refutes no-negative-equity on it
(docs/solver-notes.md#percolator-gen-as-payer-claims-over-moves-session-24).

The catalog's cell (20M units) is undecided: z3 does not find the story. Asked with the story's
start and marks pinned (the question's own assumptions kept: a well-formed start at initial margin,
the order book's cash at or above zero), the question is refuted and its counterexample replayed on
the concrete engine: so the story lies inside the cell's bounds. With the marks alone pinned (every
book value free) it is undecided within 20M (19,280,535 units, measured at 35729ef, load 11).
"""

from __future__ import annotations

import pytest
import z3

from solvent.properties.catalog import get
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

#: the story's start at the mark 100 (size, cash, principal, slope): t0, t3 and t4 of the concrete test
START = {
    "alice": (279, 2_800, 1_746, 10),
    "bob": (47, 1_032, 1_032, 0),
    "carol": (-154, 5_259, 792, 44),
}
MARKS = (100, 10_003, 4_999, 3_933)


def _pinned(query: StoryQuery) -> z3.BoolRef:
    conds = []
    for a in query.book.accounts:
        if a.name in START:
            size, cash, principal, slope = START[a.name]
            conds += [
                a.size_lots == size,
                a.cash_quote == cash,
                a.principal_quote == principal,
                a.reserve_slope_quote == slope,
            ]
        if a.name == "liquidity":
            conds += [a.size_lots == -172, a.cash_quote == 7_452, a.principal_quote == 7_452]
    return z3.And(*conds)


@pytest.mark.deep  # 8.5M units, about 10 s
def test_the_cells_question_with_the_story_pinned_is_refuted_and_replayed() -> None:
    claim = get("no-negative-equity")
    policy = load_preset("percolator-gen-a")
    with effort.question():
        query = StoryQuery(policy, claim, Bounds(accounts=3, events=3, effort=20_000_000), MARKS, obligations=(claim,))
        answer = query.check_obligation(claim, extra=_pinned(query))
    assert answer.verdict is Verdict.REFUTED
    story = answer.counterexample
    assert story is not None and story.step_index == 2
    last = story.steps[-1].after
    assert last.account("bob").cash_quote == -19  # the concrete test's t3
    assert last.account("liquidity").cash_quote == -14_458
