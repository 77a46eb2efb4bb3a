"""``ProRata.EXACT_IN_ORDER`` on both interpreters: the engine's own ``pro_rata.charge`` built by z3
over free numbers (deficit and weights), each pinned to its value, gives the concrete split of
tests/rules/test_pro_rata_exact.py case by case (one semantics)."""

from __future__ import annotations

import pytest
import z3

import solvent.solver  # noqa: F401  (registers the symbolic backend)
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.pro_rata import charge
from tests.rules.test_pro_rata_exact import CASES, EXACT, NAMES, _book, shares


def symbolic_shares(deficit: int, weights: list[int], *, capped: bool = True) -> tuple[list[int], int]:
    """The same split built by z3 over free numbers, each pinned to its value, read back."""
    d = z3.Int("d")
    ws = [z3.Int(f"w{i}") for i in range(len(weights))]
    named = list(zip(NAMES, ws, strict=False))
    ctx, paid = charge(Ctx(_book(deficit)), EXACT, named, "alice", d, capped=capped, reason=Reason.HAIRCUT)
    solver = z3.Solver()
    solver.add(d == deficit, *(w == v for w, v in zip(ws, weights, strict=True)))
    assert solver.check() == z3.sat
    model = solver.model()
    got = {n: 0 for n, _ in named}
    for e in ctx.entries:
        guard = True if e.guard is True else z3.is_true(model.eval(e.guard, model_completion=True))
        if guard and e.item.reason is Reason.HAIRCUT:
            got[e.item.source] += model.eval(e.item.amount_quote, model_completion=True).as_long()
    return [got[n] for n, _ in named], model.eval(z3.IntVal(0) + paid, model_completion=True).as_long()


@pytest.mark.parametrize(("deficit", "weights", "expected"), CASES)
def test_z3_builds_the_same_split(deficit: int, weights: list[int], expected: list[int]) -> None:
    """Differential: the symbolic run, pinned, agrees with the concrete one."""
    assert symbolic_shares(deficit, weights) == (expected, sum(expected))
    assert shares(deficit, weights)[:2] == (expected, sum(expected))
