"""The opposing side's shrink with its positions moved once (``positions.close_against``,
``moved_once``; percolator Gen B's ``side_index.close_against_side``) against the close whose two
branches each move both positions: the same step on random Gen B books, the same accounts for every
value on a free book (z3), and fewer build steps
(docs/solver-notes.md#the-opposing-sides-shrink-moved-once-issue-18). And the opposing lots a
bankruptcy reads twice on one book are read once (``side_index.opposing_lots``)."""

from __future__ import annotations

import random

import pytest
import z3

from solvent.rules import positions, side_index
from solvent.rules.book import new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.outcomes import Liquidated
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.symbolic import variable_book
from tests.cascade_books import random_book as _book


def _both_moves(ctx, name, counterparty, lots, price, reason):
    return positions.close_against(ctx, name, counterparty, lots, price, reason)


def test_the_same_step_on_random_books(monkeypatch) -> None:
    policy = load_preset("percolator-gen-b")
    rng = random.Random("shrink moved once")
    prices = (50, 70, 90, 95, 105, 110, 130, 150)
    cases = [(_book(rng, rng.choice((2, 3, 4))), MarkPrice(rng.choice(prices))) for _ in range(200)]
    once = [step(policy, book, event) for book, event in cases]
    monkeypatch.setattr(side_index, "close_against_once", _both_moves)
    assert [step(policy, book, event) for book, event in cases] == once

    # not vacuous: in many of them a trader not liquidated gave up lots to the shrink
    def shrunk(s) -> bool:
        liquidated = {o.account for o in s.outcomes if isinstance(o, Liquidated)}
        return any(
            a.size_lots != s.before.account(a.name).size_lots for a in s.after.traders if a.name not in liquidated
        )

    assert sum(map(shrunk, once)) >= 40


def _closed(moved_once: bool):
    book, _ = variable_book(new_book(mark_quote=100, traders=("alice", "bob")))
    lots, price = z3.Int("lots"), z3.Int("price")
    ctx = positions.close_against(
        Ctx(book), "alice", "bob", lots, price, Reason.LIQUIDATION_SLIPPAGE, moved_once=moved_once
    )
    return ctx.book, lots


@pytest.mark.parametrize("field", ["size_lots", "cost_quote", "cash_quote"])
def test_every_account_is_the_same_for_every_value(field: str) -> None:
    with effort.question():
        (once, lots), (twice, _) = _closed(True), _closed(False)
        solver = z3.Solver()
        solver.add(lots >= 0)
        solver.add(
            z3.Or([getattr(a, field) != getattr(b, field) for a, b in zip(once.accounts, twice.accounts, strict=True)])
        )
        assert solver.check() == z3.unsat


def test_the_opposing_lots_are_read_once_a_book() -> None:
    with effort.question():
        book, _ = variable_book(new_book(mark_quote=100, traders=("alice", "bob", "carol")))
        with effort.building(10**9) as meter:
            first = side_index.opposing_lots(book, "alice")
        with effort.building(10**9) as again:
            assert side_index.opposing_lots(book, "alice") == first
        assert meter.spent > 0 and again.spent == 0
        other, _ = variable_book(new_book(mark_quote=100, traders=("alice", "bob", "carol")))
        with effort.building(10**9) as meter:
            side_index.opposing_lots(other, "alice")  # another book: read again
            side_index.opposing_lots(other, "bob")  # another bankrupt account: read again
        assert meter.spent == 2 * first_cost(first)


def first_cost(lots) -> int:
    """Five steps a payer: the two sides' test (two ands and an or), ``when`` and ``abs``."""
    return 5 * len(lots) * effort.BUILD_STEP


def test_a_shrink_builds_fewer_steps() -> None:
    """One close of alice against bob on a free book: each branch moved both positions (4 moves of
    12 steps); moved once, 2 moves and the signed lots' ``ite``."""
    steps = {}
    for once in (True, False):
        with effort.question():
            with effort.building(10**9) as meter:
                _closed(once)
            steps[once] = meter.spent // effort.BUILD_STEP
    assert steps[True] < steps[False] - 20
