"""The vault's own deleveraging at a funding payment brings it back to zero (session 27, helper vaultfund;
docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event, again";
docs/solver-notes.md#hyperliquids-vault-at-a-funding-payment-session-27).

On z3, over every two-trader book within the question's bounds (its assumptions, the funding event's
acceptance, the rate within Hyperliquid's ±40,000 ppm): after the payment and the pools' own deleveraging
(``engine.before_turns``, the phase before the traders' turns) the backstop vault's cash is at or above
zero. The vault below zero holding lots is closed whole at its bankruptcy price per fill, the queue then
the book taking every lot it holds (open interest balanced), so the fills bring exactly its deficit. The
funding-payment half of what the system holders' all-N argument reads of the vault at a mark move (its
restore, ``solver.claims_backed._restored``); not wired into that argument (its traders' part,
no-negative-equity on funding, has no argument). Under session 24's rule (the vault deleveraged only where
its lots lost in the step's move) z3 finds the vault below zero at once.
"""

from __future__ import annotations

import pytest
import z3

from solvent.rules import pool_bankruptcy
from solvent.rules.engine import before_turns, opening, requirements, settle
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import _conjuncts
from solvent.solver.story import slots, symbolic_book

HYPERLIQUID = load_preset("hyperliquid")
#: z3's resource limit. Asked in non-incremental mode the lemma spent 19.9-20.7M units, or ran out at 30M,
#: between processes (z3's strategy for nonlinear goals cuts its attempts by the wall clock); asked as every
#: check is now, on z3's SMT core (``effort.smt_core``, ``effort.solve`` in incremental mode), it spends
#: 4,654,573 in every process and after other questions (12-15 s at load 5)
#: (docs/solver-notes.md#the-same-question-the-same-units-in-every-process-session-28)
LIMIT = 30_000_000
#: the lemma's units, the same in every process
UNITS = 4_654_573


def _after_the_vaults_call() -> effort.Solved:
    """Whether some two-trader book within the bounds leaves the vault below zero after a funding
    payment and the phase before the turns (a model of the premise and the claim's negation)."""
    with effort.question():
        bounds = for_policy(Bounds(accounts=2, events=1, event_kinds=("funding",), isolated=0), HYPERLIQUID)
        book, _ = symbolic_book(bounds)
        (slot,) = slots(book, bounds)
        event = slot.variants[0].event
        ctx = before_turns(HYPERLIQUID, settle(HYPERLIQUID, opening(HYPERLIQUID, book), event))
        premise = [c for a in book_assumptions(HYPERLIQUID, book, bounds) for c in _conjuncts(a.holds)]
        premise += [c for r in requirements(HYPERLIQUID, book, event) for c in _conjuncts(r.holds)]
        premise += _conjuncts(slot.field_bounds)
        solver = effort.smt_core()
        solver.add(*premise)
        solver.add(z3.Not(ctx.book.account("backstop_vault").cash_quote >= 0))
        return effort.solve(solver, LIMIT, effort.safety_net_s(LIMIT))


@pytest.mark.deep  # 12-15 s at load 5: the lemma whole, its count; its mutant below stays default
def test_after_a_funding_payment_the_vaults_own_deleveraging_leaves_it_at_or_above_zero() -> None:
    solved = _after_the_vaults_call()
    assert (solved.result, solved.units) == ("unsat", UNITS)


def test_under_session_24s_rule_the_vault_is_left_below_zero(monkeypatch) -> None:
    """The named mutant: the vault deleveraged only where its lots lost in the step's move, so never at
    a funding payment; z3 finds a book at once (one was the vault short 16 at 1,000,000,000 on 14,000,
    paying 16,000 at −1 ppm), in 6,559 units in every process."""
    monkeypatch.setattr(
        pool_bankruptcy, "bankrupt_by", lambda ctx, pool, without_move: pool_bankruptcy.lots_lose(ctx, pool)
    )
    solved = _after_the_vaults_call()
    assert (solved.result, solved.units) == ("sat", 6_559)
