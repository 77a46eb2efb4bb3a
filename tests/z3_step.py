"""One semantics, checked: z3's step equals the concrete step.

The engine is written once (solvent/rules); the solver runs the same functions on z3 terms
(``solvent.solver.symbolic``). These helpers run one event both ways, every input a constant and
the z3 side read back by ``z3.simplify`` (``constant_step``), and assert that the book after, the
transfers and the outcomes are the same values with the same reprs, so an ``int`` never stands
in for a ``bool``. Tests import them as ``from tests.z3_step import ...``.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.book import Book
from solvent.rules.engine import transition
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.solver.symbolic import Evaluated, constant_step


def assert_same(symbolic: Any, concrete: Any, what: str) -> None:
    """Equal values with equal reprs (so an ``int`` never stands in for a ``bool`` or the reverse)."""
    assert symbolic == concrete, f"{what} differ:\nz3:       {symbolic!r}\nconcrete: {concrete!r}"
    assert repr(symbolic) == repr(concrete), f"{what} differ in type:\nz3:       {symbolic!r}\nconcrete: {concrete!r}"


def assert_same_transition(got: Evaluated, expected: Ctx) -> None:
    """z3's step read back (``got``) has the concrete transition's book after, transfers and outcomes."""
    assert_same(got.after, expected.book, "books after")
    assert_same(got.transfers, tuple(e.item for e in expected.entries), "transfers")
    assert_same(got.outcomes, tuple(o.item for o in expected.outcomes), "outcomes")


def z3_step_agrees(policy: Policy, book: Book, event: Any) -> tuple[Evaluated, Ctx]:
    """Run ``event`` on ``book`` through the concrete engine and through z3 with constant inputs,
    assert they agree (:func:`assert_same_transition`); both results, for further claims."""
    expected = transition(policy, book, event)
    got = constant_step(policy, book, event)
    assert_same_transition(got, expected)
    return got, expected
