"""A debt the venue fronts stays on a flat trader at cash 0: the well-formed rule, kept by every event.

``rules.wellformed`` starts every book (z3's, the search's, the scenarios') with a debt the venue
fronted owed only by a trader, flat in every market at cash 0 (``wellformed.FRONTED_DEBT``, where
``wellformed.debt_owed_flat``). A start fact is honest only if the engine keeps it: otherwise it
would hide a story a venue can reach. :func:`kept` asks z3, for each event the question's kinds
draw, whether a book satisfying every well-formed condition but margin (``margin=None``: the book
in the middle of a story, after moves a venue does not refuse) can end, after that event accepted
by the engine (its requirements before and after), with the rule broken. Every answer ``unsat`` is
the one-event induction: the rule holds at the empty book (no debt) and no accepted event breaks
it, so every book a history reaches satisfies it. Exact (no purification): the engine's own
``transition``, ``requirements`` and ``post_requirements`` on a symbolic book.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import z3

from solvent.rules.arith import all_
from solvent.rules.book import Book
from solvent.rules.engine import post_requirements, requirements, transition
from solvent.rules.policy import Policy
from solvent.rules.wellformed import FRONTED_DEBT, conditions
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.effort import question, safety_net_s, solve
from solvent.solver.story import slots, symbolic_book
from solvent.solver.symbolic import evaluate, under_model

#: the value bounds a kept question assumes of the book before (``assumptions.book_assumptions``'s)
BOUNDED = ("prices within bounds", "balances within bounds", "net deposits within bounds")


@attrs.frozen
class Kept:
    """One event's question: its variant's label, z3's answer (``unsat``: the event keeps the
    rule), the units it spent, and on ``sat`` the book before and after the model names."""

    label: str
    result: str
    units: int
    before: Book | None = None
    after: Book | None = None


def _b(x: object) -> z3.BoolRef:
    return z3.BoolVal(x) if isinstance(x, bool) else x  # type: ignore[return-value]


def rule(policy: Policy, book: Book) -> object:
    """The rule on ``book`` (True where the policy does not state it)."""
    found = [c.holds for c in conditions(policy, book, margin=None) if c.name == FRONTED_DEBT]
    return all_(found)


def kept(policy: Policy, bounds: Bounds, units: int = 5_000_000, labels: Sequence[str] = ()) -> list[Kept]:
    """For each event variant of ``bounds``' one slot (``labels``: those only), whether an accepted
    event can take a well-formed book (``margin=None``, within the value bounds) to one that breaks
    the rule; each question within ``units`` of z3's counter."""
    bounds = for_policy(attrs.evolve(bounds, events=1), policy)
    out = []
    with question():
        book, _ = symbolic_book(bounds)
        before = [a.holds for a in book_assumptions(policy, book, bounds) if a.name in BOUNDED]
        before += [c.holds for c in conditions(policy, book, margin=None)]
        (slot,) = slots(book, bounds)
        for variant in slot.variants:
            if labels and variant.label not in labels:
                continue
            ctx = transition(policy, book, variant.event)
            accepted = [r.holds for r in requirements(policy, book, variant.event)]
            accepted += [r.holds for r in post_requirements(policy, book, ctx.book, variant.event)]
            solver = z3.Solver()
            solver.add(*(_b(x) for x in (*before, slot.field_bounds, *accepted)))
            solver.add(z3.Not(_b(rule(policy, ctx.book))))
            solved = solve(solver, units, safety_net_s(units))
            if solved.result != "sat":
                out.append(Kept(variant.label, solved.result, solved.units))
                continue
            model = under_model(solver.model())
            out.append(Kept(variant.label, "sat", solved.units, evaluate(book, model), evaluate(ctx.book, model)))
    return out


__all__ = ["BOUNDED", "Kept", "kept", "rule"]
