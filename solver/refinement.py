"""Counterexample replay and refinement: the concrete engine is the judge of every z3 model.

:func:`replay` runs a decoded story through ``solvent.rules.engine.step`` (the concrete engine)
and says whether it starts inside the assumptions and breaks the obligation, and where. A model
of a *purified* query (``solvent.solver.linearize``) may be spurious; :func:`lemmas` then gives
linear facts, true of the exact products and quotients, that exclude it (incremental
linearization: tangent planes at the model point, and the quotient by the divisor's model value),
and the query is re-run.
"""

from __future__ import annotations

from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, StepView
from solvent.properties.scenarios import Story
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.ledger import InternalError
from solvent.rules.policy import Policy
from solvent.solver.assumptions import book_assumptions, move_within
from solvent.solver.bounds import Bounds
from solvent.solver.linearize import Product, Quotient
from solvent.solver.story import event_within, market_within
from solvent.solver.verdicts import TRANSFERS


@attrs.frozen
class Replay:
    """What the concrete engine made of a story.

    ``outside``: the names of assumptions the starting book breaks (a spurious model's book);
    ``steps``: the accepted steps, up to and including the failing one; ``failed_at``: index of
    the step that broke the obligation (None: it held); ``rejected``: why an event was refused.
    """

    story: Story
    steps: tuple[Step, ...]
    failed_at: int | None
    outside: tuple[str, ...] = ()
    rejected: str = ""
    detail: str = ""

    @property
    def violates(self) -> bool:
        return self.failed_at is not None and not self.outside


def replay(policy: Policy, invariant: Invariant | None, story: Story, bounds: Bounds) -> Replay:
    """Run ``story`` concretely; judge ``invariant`` (or, with ``None``, non-negative transfers).

    A negative transfer is refused by the concrete engine with ``InternalError``: for the
    transfers obligation that is the violation; for an invariant it stops the replay.
    """
    outside = tuple(a.name for a in book_assumptions(policy, story.book, bounds) if not a.holds)
    outside += tuple(
        f"event {i + 1} numbers within bounds" for i, e in enumerate(story.events) if not event_within(e, bounds)
    )
    if outside:
        return Replay(story, (), None, outside)
    book, steps = story.book, []
    for i, event in enumerate(story.events):
        if not market_within(event, bounds):
            return Replay(story, tuple(steps), None, (f"event {i + 1} in {', '.join(bounds.event_markets)}",))
        if not move_within(book, event, bounds):
            return Replay(
                story, tuple(steps), None, (f"event {i + 1} moves the mark at most {bounds.max_move_ppm} ppm",)
            )
        try:
            s = step(policy, book, event)
        except RejectedEvent as exc:
            return Replay(story, tuple(steps), None, rejected=f"event {i + 1} rejected: {exc.reason}")
        except InternalError as exc:
            if invariant is None:
                return Replay(_cut(story, i), tuple(steps), i, detail=str(exc))
            return Replay(story, tuple(steps), None, rejected=f"event {i + 1}: {exc}")
        steps.append(s)
        if invariant is not None and not invariant.holds(StepView.of(policy, s)):
            return Replay(_cut(story, i), tuple(steps), i, detail=f"{invariant.id} fails after event {i + 1}")
        book = s.after
    return Replay(story, tuple(steps), None)


def _cut(story: Story, index: int) -> Story:
    return attrs.evolve(story, events=story.events[: index + 1])


def obligation_name(invariant: Invariant | None) -> str:
    return TRANSFERS if invariant is None else invariant.id


# --- lemmas excluding a spurious model -------------------------------------------------------


def _value(model: z3.ModelRef, term: Any) -> int:
    return model.eval(term, model_completion=True).as_long()


def product_lemmas(item: Product, model: z3.ModelRef) -> list[z3.BoolRef]:
    """Tangent planes of ``p = a·b`` at the model point ``(a0, b0)``: exact truths, all linear.

    ``p − (a0·b + b0·a − a0·b0) = (a − a0)·(b − b0)``, whose sign is the product of the signs.
    """
    p, a, b = item.var, item.left, item.right
    a0, b0 = _value(model, a), _value(model, b)
    plane = a0 * b + b0 * a - a0 * b0
    return [
        z3.Implies(a == a0, p == a0 * b),
        z3.Implies(b == b0, p == b0 * a),
        z3.Implies(z3.Or(z3.And(a > a0, b > b0), z3.And(a < a0, b < b0)), p > plane),
        z3.Implies(z3.Or(z3.And(a > a0, b < b0), z3.And(a < a0, b > b0)), p < plane),
    ]


def quotient_lemmas(item: Quotient, model: z3.ModelRef) -> list[z3.BoolRef]:
    """``d = d0 → q = n div d0``: at the model's divisor the quotient is a division by a constant."""
    d0 = _value(model, item.divisor)
    if d0 == 0:
        return []
    return [z3.Implies(item.divisor == d0, item.var == item.numerator / d0)]


def lemmas(items: list[Product | Quotient], model: z3.ModelRef) -> list[z3.BoolRef]:
    """Linear facts that every violated definition in ``items`` contributes at this model."""
    out: list[z3.BoolRef] = []
    for item in items:
        out += product_lemmas(item, model) if isinstance(item, Product) else quotient_lemmas(item, model)
    return out


__all__ = ["Replay", "lemmas", "obligation_name", "replay"]
