"""z3's own N = 3, K = 3 question on percolator-gen-a, asked with the three-move story of
tests/rules/test_percolator_gen_a_moves.py pinned
(docs/solver-notes.md#percolator-gen-as-payer-claims-over-moves-session-24).

Helper gak3 (session 24) found the story with the vesting profit converted at face: the question
with the story's start and marks pinned (the question's own assumptions kept: a well-formed start at
initial margin, the order book's cash at or above zero) was refuted and its counterexample replayed
on the concrete engine (bob, the concrete test's t3, at −19). Since the conversion at h (spec v7
§6.2, ``haircut_ratio.convert``, helper gafix) the same pinned question is no longer refuted (it is
undecided within its 20M units); the face conversion restored as a mutant refutes it again, with
gak3's counterexample.
"""

from __future__ import annotations

import pytest
import z3

from solvent.properties.catalog import get
from solvent.rules import haircut_ratio
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict
from tests.rules.test_percolator_gen_a_moves import face

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


def _ask():
    claim = get("no-negative-equity")
    policy = load_preset("percolator-gen-a")
    with effort.question():
        query = StoryQuery(policy, claim, Bounds(accounts=3, events=3, effort=20_000_000), MARKS, obligations=(claim,))
        return query.check_obligation(claim, extra=_pinned(query))


@pytest.mark.deep  # a whole pinned question, about 60 s
def test_the_cells_question_with_the_story_pinned_is_not_refuted() -> None:
    # undecided within its 20M (the conversion's x × h_num / h_den is nonlinear); no counterexample,
    # where at face the same question is refuted (the mutant below); the concrete engine keeps every
    # claim on the story (tests/rules/test_percolator_gen_a_moves.py TestThreeMoves)
    answer = _ask()
    assert answer.verdict is not Verdict.REFUTED and answer.counterexample is None, answer


@pytest.mark.deep  # 8.5M units, about 10 s (gak3's measure, at face)
def test_mutant_face_conversion_is_refuted_and_replayed(monkeypatch) -> None:
    monkeypatch.setattr(haircut_ratio, "convert", face)
    answer = _ask()
    assert answer.verdict is Verdict.REFUTED
    story = answer.counterexample
    assert story is not None and story.step_index == 2
    last = story.steps[-1].after
    assert last.account("bob").cash_quote == -19  # the concrete test's t3
    assert last.account("liquidity").cash_quote == -14_458
