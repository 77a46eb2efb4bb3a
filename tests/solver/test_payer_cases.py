"""The payer's contract asked in the cases of the trader's own turn (``payer_lemma.turn_cases``):
resolved; liquidated, not resolved; not liquidated, read off the guards of the ``Liquidated`` and
``Bankrupt`` outcomes the engine notes. Asked whole, the same question cost z3 1.0-7.1M units on
Bybit as its terms' order moved
(docs/solver-notes.md#the-payers-contract-after-a140d5a-cheaper-session-28). The cases cover every
book, each is asked, and a one-token mutant of the contract's premises is caught in the case it
concerns.
"""

from __future__ import annotations

import functools

import pytest
import z3

from solvent.properties import catalog
from solvent.rules.arith import abs_
from solvent.rules.book import Role
from solvent.rules.engine import liquidation_turn
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional as comp
from solvent.solver import effort, payer_lemma
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_lemma import LIQUIDATED_ONLY, NOT_LIQUIDATED, RESOLVED, turn_cases
from solvent.solver.per_account import _one_event_frame, _settled, _with_fresh_system
from solvent.solver.story import symbolic_book

OKX = resolve_policy("okx")
NNE = catalog.get("no-negative-equity")


def _contract() -> list[tuple[str, str]]:
    """OKX's no-negative-equity contract on its mark move, exact as the argument asks it: each
    case's name suffix and answer (a model or an undecided case stops it, as ``valid`` raises)."""
    checker = comp._Checker(Bounds(accounts=2, events=1, effort=2_000_000))
    with effort.question():
        bounds = for_policy(Bounds(accounts=2, events=1), OKX)
        _, _, slot = _one_event_frame(NNE, bounds, pytest.fail, "payer's")
        [variant] = slot.variants
        try:
            payer_lemma.payer_contract(
                OKX, NNE, variant.label, variant.event, slot.field_bounds, functools.partial(checker.valid, exact=True)
            )
        except comp._Failed:
            pass
    return [(q.name.rsplit(" (", 1)[1].rstrip(")"), q.result) for q in checker.queries]


def test_the_cases_cover_every_book_and_each_is_a_case_of_the_engines_own_guards() -> None:
    """On a one-trader turn, the three cases' conditions: their disjunction is valid (every book is
    in one), and each names the engine's own guard (no condition written here)."""
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=1, events=1))
        _, _, slot = _one_event_frame(NNE, for_policy(Bounds(accounts=2, events=1), OKX), pytest.fail, "payer's")
        ctx = _with_fresh_system(_settled(OKX, book, slot.variants[0].event))
        noted = len(ctx.outcomes)
        ctx = liquidation_turn(OKX, ctx, "alice")
        cases = turn_cases(ctx.outcomes[noted:], "alice")
        assert [suffix for suffix, _ in cases] == [f" ({RESOLVED})", f" ({LIQUIDATED_ONLY})", f" ({NOT_LIQUIDATED})"]
        # each condition is a guard the engine noted, or its negation
        guards = [g.guard for g in ctx.outcomes[noted:] if z3.is_expr(g.guard)]
        named = {c.arg(0) if z3.is_not(c) else c for _, condition in cases for c in condition}
        assert all(any(c.eq(g) for g in guards) for c in named) and len(named) == 2
        # the guards as free Booleans: the cases' disjunction is a tautology, whatever they are
        free = [(c, z3.Bool(f"case{i}")) for i, c in enumerate(named)]
        solver = z3.Solver()
        solver.add(z3.Not(z3.Or([z3.substitute(z3.And(condition), *free) for _, condition in cases])))
        assert solver.check() == z3.unsat


def test_a_turn_that_notes_nothing_is_asked_whole() -> None:
    assert turn_cases((), "alice") == [("", [])]


def test_the_contract_holds_in_each_case() -> None:
    assert _contract() == [(RESOLVED, "unsat"), (LIQUIDATED_ONLY, "unsat"), (NOT_LIQUIDATED, "unsat")]


def test_the_rest_of_the_market_one_lot_short_gives_the_resolved_case_a_model(monkeypatch) -> None:
    """One token in the contract's premise (the book holds at least the trader's lots opposite,
    ``abs_(book) >= abs_(size)``, read as ``abs_(book) + 1``): a bankrupt trader with a lot nobody
    takes is left below zero, a model of the resolved case."""

    def one_short(ctx, name):  # noqa: ANN001, ANN202
        size = ctx.account(name).size_lots
        book = ctx.account(ctx.system(Role.LIQUIDITY)).size_lots
        return z3.And(size * book <= 0, abs_(book) + 1 >= abs_(size))

    monkeypatch.setattr(payer_lemma, "_rest_of_market", one_short)
    assert _contract() == [(RESOLVED, "sat")]


def test_a_charge_one_lot_over_its_move_gives_a_later_case_a_model(monkeypatch) -> None:
    """One token in the charge the contract allows (``c ≤ r·|ΔM|`` read as ``c ≤ (r + 1)·|ΔM|``, a
    winner charged one lot's move more than its lots gained): the resolved and the liquidated
    cases still hold, and the case where the trader is not liquidated has a model (a winner of one
    lot charged its move twice over)."""
    real = payer_lemma._charged

    def one_lot_over(ctx, name, prefix, d, move, free=False):  # noqa: ANN001, ANN202
        before = ctx.account(name)
        charged, _ = real(ctx, name, prefix, d, move, free=True)
        after = charged.account(name)
        s = before.size_lots
        r = abs_(s) - abs_(after.size_lots)
        c = before.cash_quote - after.cash_quote
        bound = z3.And(
            s * after.size_lots >= 0,
            r >= 0,
            c >= 0,
            c <= (r + 1) * move,
            z3.Implies(s * d <= 0, c == 0),
            z3.Implies(s * d < 0, r == 0),
        )
        return charged, bound

    monkeypatch.setattr(payer_lemma, "_charged", one_lot_over)
    asked = _contract()
    assert asked == [(RESOLVED, "unsat"), (LIQUIDATED_ONLY, "unsat"), (NOT_LIQUIDATED, "sat")]
