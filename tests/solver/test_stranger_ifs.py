"""The one walk over the ``If``s whose condition reads another trader (``waterfall_claims.stranger_ifs``),
shared by ``waterfall_claims.conditions_freed`` and ``deficit_socialized.totals_freed`` since session 21
(docs/solver-notes.md#two-refactors-units-unchanged-session-21).

The order of the walk names the free variables (``weighs0.0``, ``total0``, ...), and those names are
terms whose numbers order z3's sums: a walk in another order moves every unit count these lemmas
spend. These tests pin the order on a small hand-built term (a stack: the last child walked first)
and what each caller frees.
"""

from __future__ import annotations

from types import SimpleNamespace

import z3
from z3.z3util import get_vars

from solvent.solver import deficit_socialized, waterfall_claims

CALL = SimpleNamespace(
    bankrupts=("alice",),
    book=SimpleNamespace(traders=[SimpleNamespace(name=n) for n in ("alice", "bob", "carol")]),
)


def _cash() -> tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef]:
    """Alice's, Bob's and Carol's cash, built when a test runs: in z3's context of the moment, the
    one the walks' fresh variables are made in (terms built at import stay in the context of that
    moment, which an earlier test in the worker may have replaced: a sort mismatch in ``substitute``)."""
    a, b, c = (z3.Int(f"s0.{n}.cash") for n in ("alice", "bob", "carol"))
    return a, b, c


def _term() -> z3.ArithRef:
    """Bob's If holds Carol's in its then-branch; a second If on Carol beside it, and one on Alice (own)."""
    a, b, c = _cash()
    inner = z3.If(c > 0, a, a + 1)
    return z3.If(b > 0, inner, a - 1) + z3.If(a > 0, a, 0) + z3.If(c + b > 3, a * 2, a * 3)


def _conditions(into: bool) -> list[str]:
    return [str(t.arg(0)) for t in waterfall_claims.stranger_ifs(CALL, _term(), into_conditions=into)]


def test_the_walk_is_a_stack_the_last_child_first_and_alices_own_if_is_not_a_strangers() -> None:
    # the sum's children pushed in order: the last (C + B > 3) is walked first, then Alice's If (not
    # yielded: it reads no other trader), then Bob's, whose then-branch holds Carol's
    assert _conditions(False) == ["s0.carol.cash + s0.bob.cash > 3", "s0.bob.cash > 0", "s0.carol.cash > 0"]
    assert _conditions(True) == _conditions(False)  # no If inside these conditions


def test_conditions_freed_names_each_condition_in_the_walks_order() -> None:
    a, _, _ = _cash()
    freed = waterfall_claims.conditions_freed(CALL, _term(), 0)
    names = {str(c) for c in get_vars(freed)}
    assert {f"{waterfall_claims.FREE}weighs0.{k}" for k in range(3)} <= names
    assert "s0.bob.cash" not in names and "s0.carol.cash" not in names
    # the first condition walked (C + B > 3) is weighs0.0, Bob's weighs0.1, Carol's weighs0.2
    assert _condition_of(freed, a * 2) == f"{waterfall_claims.FREE}weighs0.0"
    assert _condition_of(freed, a - 1) == f"{waterfall_claims.FREE}weighs0.1"
    assert _condition_of(freed, a + 1) == f"{waterfall_claims.FREE}weighs0.2"


def _condition_of(term: z3.ExprRef, otherwise: z3.ExprRef) -> str:
    """The condition of the If in ``term`` one of whose branches is ``otherwise``."""
    todo = [term]
    while todo:
        t = todo.pop()
        if z3.is_app_of(t, z3.Z3_OP_ITE) and (t.arg(1).eq(otherwise) or t.arg(2).eq(otherwise)):
            return str(t.arg(0))
        todo.extend(t.children())
    raise AssertionError(f"no If with {otherwise}")


def test_totals_freed_walks_into_a_condition_and_frees_its_sides() -> None:
    a, b, c = _cash()
    total = b + c
    inside = z3.If(a - z3.If(total > 0, a, 0) > 0, a, 0)  # a total inside a condition is its own
    freed = deficit_socialized.totals_freed(CALL, inside)
    names = {str(c) for c in get_vars(freed)}
    assert f"{deficit_socialized.FREE}total0" in names and not names & {"s0.bob.cash", "s0.carol.cash"}
    assert [str(t.arg(0)) for t in waterfall_claims.stranger_ifs(CALL, inside, into_conditions=True)] == [
        str(inside.arg(0)),
        str(total > 0),
    ]
    # walking only the branches, the If inside the condition is never reached
    assert len(list(waterfall_claims.stranger_ifs(CALL, inside, into_conditions=False))) == 1
