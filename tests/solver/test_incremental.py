"""A large book's question is asked in a z3 context of its own on a solver told its logic
(``solvent.solver.incremental``; docs/solver-notes.md#a-check-that-did-not-look-at-its-limits)."""

from __future__ import annotations

import pytest
import z3

from solvent.solver import incremental
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict


def _context() -> object:
    return z3.z3._main_ctx


@pytest.mark.parametrize(("accounts", "large"), [(1, False), (4, False), (5, True), (8, True)])
def test_a_large_book_is_one_of_more_than_four_traders(accounts: int, large: bool) -> None:
    assert incremental.is_large(accounts) is large


def test_a_small_books_question_keeps_the_callers_context_and_z3s_own_set_up(monkeypatch) -> None:
    told: list[str] = []
    monkeypatch.setattr(z3, "SolverFor", lambda logic: told.append(logic) or z3.Solver())
    x = z3.Int("x")
    outside = _context()
    with incremental.asked(4):
        assert _context() is outside
        solver = incremental.solver()
        solver.add(x > 1)  # a term of the caller's context: usable here
        assert solver.check() == z3.sat
    assert told == []


def test_a_large_books_question_gets_a_context_of_its_own_and_its_logic(monkeypatch) -> None:
    told: list[str] = []
    real = z3.SolverFor
    monkeypatch.setattr(z3, "SolverFor", lambda logic: told.append(logic) or real(logic))
    z3.Int("x")  # the caller's context exists
    outside = _context()
    with incremental.asked(5):
        inside = _context()
        assert inside is not outside
        solver = incremental.solver()
        y = z3.Int("y")
        solver.add(y * y == 49, y > 0)  # the logic's arithmetic decides the nonlinear terms too
        assert solver.check() == z3.sat and solver.model()[y].as_long() == 7
    assert told == [incremental.LOGIC]
    assert _context() is outside  # the caller's context is back
    assert not incremental._large.get()


@pytest.mark.deep  # N = 8: about 16 s at load 12; before the rule one check ran past 10 minutes
def test_binance_adl_price_fair_at_eight_traders_answers_within_its_units() -> None:
    result = prove("binance", "adl-price-fair", Bounds(accounts=8, effort=12_000_000), minimize=False)
    assert result.verdict is Verdict.PARTIAL  # the transfers proved, the claim out of its units
    assert result.units == 11_497_881
