"""The sweep's step as the all-N arguments of a turn read it (``solver.cascade_invariant``,
``solver.haircut_claims``): which questions such an argument covers, the engine's transition taken
apart into its phases with one turn per trader, and an exact lemma's query.

Both arguments prove a claim of each trader's turn (three free traders, every number free) and carry
it over the step by the order of the turns, so both need the same two things of the question and
of the engine: one event that is a mark move or a funding payment on one market, no collateral
asset, no isolated position (:func:`not_one_step`); the engine's ``transition`` equal, term for
term, to ``opening``, ``settle``, ``before_turns``, one ``liquidation_turn`` per trader in book
order, ``after_sweep`` and ``closing`` (:func:`phases`, which keeps what each argument reads
between them). Written once here, so that a change to what the step is changes both arguments.
(docs/solver-notes.md#clean-ups-units-unchanged-session-22)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from solvent.rules.book import Book
from solvent.rules.engine import after_sweep, before_turns, closing, liquidation_turn, opening, settle, transition
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import _same

#: the deficit layers that pay from their own balance (and so read no other trader)
POOLS = ("insurance_fund", "backstop_vault", "fee_pool")
#: the event kinds the step's decomposition covers (the sweep's)
KINDS = ("mark", "funding")


def not_one_step(bounds: Bounds) -> str | None:
    """Why ``bounds`` ask more than one step of the sweep the arguments cover (None where they do not)."""
    if bounds.events != 1 or not set(bounds.event_kinds) <= set(KINDS):
        return "one mark move or funding payment (the sweep's step) only"
    if bounds.markets != 1 or bounds.isolated or bounds.assets:
        return "one market, no collateral asset and no isolated position only"
    return None


@attrs.frozen
class Phases:
    """One event's run through the sweep's phases, built in the engine's order: what the arguments
    read between them (a step's context may not be read once the next is made from it, so the books
    and counts are taken as the run passes)."""

    #: the book after ``opening``, ``settle`` and ``before_turns``, where the turns start
    first: Book
    #: the entries made before the first turn
    first_entries: int
    #: each trader's turn start, in book order: the book then, and how many entries came before it
    starts: tuple[tuple[Book, int], ...]
    #: the book after the last trader's turn
    turned: Book
    #: the entries made up to the end of the last turn
    turned_entries: int
    #: after ``after_sweep`` and ``closing``: the step's end, the engine's ``transition``
    end: Ctx


def phases(policy: Policy, book: Book, variant: Any, traders: Sequence[str], fail: Callable[[str], None]) -> Phases:
    """``variant``'s event run on ``book`` phase by phase, a turn for each of ``traders`` in that order;
    ``fail`` where the engine's ``transition`` is not that run (its book, entries and outcomes, the
    same terms)."""
    ctx = before_turns(policy, settle(policy, opening(policy, book), variant.event))
    first = ctx.book, len(ctx.entries)
    starts = []
    for name in traders:
        starts.append((ctx.book, len(ctx.entries)))
        ctx = liquidation_turn(policy, ctx, name)
    turned = ctx.book, len(ctx.entries)
    ctx = closing(policy, after_sweep(policy, ctx))
    whole = transition(policy, book, variant.event)
    if not (_same(whole.book, ctx.book) and _same(whole.entries, ctx.entries) and _same(whole.outcomes, ctx.outcomes)):
        fail(f"the step ({variant.label}): the engine's transition is not the sweep's phases with a turn per trader")
    return Phases(*first, tuple(starts), *turned, ctx)


__all__ = ["KINDS", "POOLS", "Phases", "not_one_step", "phases"]
