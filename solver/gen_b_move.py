"""Percolator Gen B's premise over moves, kept by a whole mark move
(docs/solver-notes.md#gen-bs-premise-over-a-whole-move-session-26).

``solver.gen_b_payer``'s induction over mark moves asks the one-move argument again for every later move
from a premise the move before must leave: ``side_payer.OVER_MOVES``, the well-formed book's conditions the
argument reads (its settlement's and turns' start's queries are the only ones that read the start; each
piece reads both marks at least 1), nothing more (``side_payer.premise_over_moves``). Each is kept by a
whole move (opening, settle, the turns with their cascade, after_sweep, closing), on the engine's own
functions:

- **not liquidatable, worth at least zero**: ``gen_b_turn.maintenance_lemmas`` (a trader's own turn, a loser
  through another's), the sweep's kept floor with ``side_payer.winner_lemmas`` (a winner), the claim itself
  (every trader ends the sweep at or above 0); the close keeps each trader's cash
  (``gen_b_payer._close``) and every position (:func:`close_lemma`), so the trigger reads the same numbers;
- **the fund at or above 0, open interest balanced, only the holders holding**: at the turns' start
  (``gen_b_payer.turns_start_parts``), through each turn (the payer's bound, which holds them, kept by
  ``gen_b_turn``'s turn lemma), and through the close (:func:`close_lemma`);
- **the marks positive and on the tick, the fee account and the backstop vault untouched** (the rest of
  "pools non-negative"): :func:`step_lemmas`, the engine's ``transition`` whole on the lemmas' book, from the
  premise without its margin conditions (the first move's start, at the initial margin, meets that too).

The well-formed book's other conditions (the question's bounds on balances and prices, conservation, the
clearing account, and the trader's ``margin=None`` conditions: counts, no debt, cost basis, reserves with
slopes, principal at most equity, a flat account's principal its equity) are read by none of the argument's
lemmas, so the premise over moves does not hold them. For the record, what a move does to the trader's
``margin=None`` conditions (:func:`margin_none_lemmas`, not asked by the route): the close re-bases principal,
so "principal at most ``max(E, 0)``" and "a flat account's principal equals ``max(E, 0)``" hold after every
move from any state (the close's numbers free, as ``gen_b_principal``'s 3); counts and no debt are kept
(the step whole, from the premise and the condition before)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.book import Book, Role
from solvent.rules.engine import after_sweep, closing, transition
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.rules.wellformed import MARKS, POOLS, conditions, trader_conditions
from solvent.solver import gen_b_principal, side_payer
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import _b, _conjuncts
from solvent.solver.story import slots, symbolic_book

Valid = Callable[..., str]
#: the free book's traders (``solver.gen_b_payer``'s lemmas' book)
TRADERS = 2
#: the trader's ``margin=None`` conditions the close re-establishes from any state (``wellformed``'s names)
CLOSE_REBASES = (
    "losses settled into capital (principal at most equity)",
    "a flat account's matured profit is capital (principal equals equity)",
)
#: the trader's ``margin=None`` conditions a whole move keeps, each from the premise and itself before
STEP_KEEPS = ("spot, principal, withdrawals and debts non-negative", "no debt owed off the book")


def _untouched_pools() -> tuple[Role, ...]:
    """The pools besides the insurance fund (``wellformed.POOLS``): a Gen B mark move leaves their cash."""
    return tuple(r for r in POOLS if r is not Role.INSURANCE_FUND)


def close_parts(policy: Policy) -> tuple[Book, Any]:
    """:func:`close_lemma`'s free book and claim: after the last turn, ``after_sweep`` and ``closing`` leave
    every account's position, every pool's cash and the marks as they were."""
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    book = closing(policy, after_sweep(policy, Ctx(free))).book
    same = [book.account(a.name).size_lots == a.size_lots for a in free.accounts]
    same += [book.role(r).cash_quote == free.role(r).cash_quote for r in POOLS]
    same += [book.market.mark_quote == free.market.mark_quote]
    same += [book.market.previous_mark_quote == free.market.previous_mark_quote]
    return free, z3.And(*map(_b, same))


def close_lemma(policy: Policy, ask: Valid) -> list[str]:
    """The close keeps what the turns left of the premise: every position, every pool's cash, the marks
    (every number free)."""
    _, claim = close_parts(policy)
    name = (
        f"the close ({TRADERS} traders): after_sweep and closing keep every position, every pool's cash and the marks"
    )
    return [ask(name, [], claim)]


def _step_premises(policy: Policy, bounds: Bounds) -> list[tuple[str, Book, list[Any], Book]]:
    """Per variant of the move on a free book of :data:`TRADERS` traders: its label, the free book, the
    premise over moves but its margin conditions (``side_payer.OVER_MOVES_MARGIN``: so the first move's start, at
    the initial margin, meets it too) with the event's bounds, and the book the engine's ``transition`` leaves."""
    one = attrs.evolve(bounds, accounts=TRADERS, events=1, event_kinds=("mark",))
    book, _ = symbolic_book(one)
    out = []
    for slot in slots(book, one):
        with side_payer.premise_over_moves():
            held = [
                a for a in side_payer.start_assumptions(policy, book, one) if a.name not in side_payer.OVER_MOVES_MARGIN
            ]
        premise = [c for a in held for c in _conjuncts(a.holds)]
        premise += _conjuncts(slot.field_bounds)
        for variant in slot.variants:
            out.append((variant.label, book, premise, transition(policy, book, variant.event).book))
    return out


def step_parts(policy: Policy, bounds: Bounds) -> list[tuple[str, list[Any], Any]]:
    """:func:`step_lemmas`' queries: ``(said, premise, claim)``."""
    out = []
    for label, book, premise, end in _step_premises(policy, bounds):
        marks = next(c.holds for c in conditions(policy, end, margin=None) if c.name == MARKS)
        out.append((f"the move ({label}, {TRADERS} traders): {MARKS} after it", premise, _b(marks)))
        for r in _untouched_pools():
            same = end.role(r).cash_quote == book.role(r).cash_quote
            out.append((f"the move ({label}, {TRADERS} traders): the {r.value}'s cash untouched", premise, _b(same)))
    return out


def step_lemmas(policy: Policy, bounds: Bounds, ask: Valid) -> list[str]:
    """The premise's parts the turns' lemmas do not speak of, kept by the whole move from the premise (without
    its margin conditions): the marks positive and on the tick, the pools besides the fund untouched."""
    return [ask(said, premise, claim) for said, premise, claim in step_parts(policy, bounds)]


def move_lemmas(policy: Policy, bounds: Bounds, ask: Valid) -> list[str]:
    """What :func:`solver.gen_b_payer._over_moves` asks beside ``gen_b_turn.maintenance_lemmas``."""
    return close_lemma(policy, ask) + step_lemmas(policy, bounds, ask)


def _rebased(policy: Policy, book: Book, name: str) -> list[tuple[str, Any]]:
    """:data:`CLOSE_REBASES`' conditions on ``name`` in ``book`` (the step's; ``wellformed``'s own terms)."""
    held = trader_conditions(policy, book, name, margin=None)
    out = [(f"{name}: {c.name} after the step", _b(c.holds)) for c in held if c.name in CLOSE_REBASES]
    if len(out) != len(CLOSE_REBASES):
        raise ValueError("a condition the close re-bases is not among the well-formed book's")
    return out


def rebased_parts(policy: Policy, bounds: Bounds, fail: Callable[[str], None]) -> list[tuple[str, list[Any], Any]]:
    """:data:`CLOSE_REBASES` after the step, the numbers the close reads free (``gen_b_principal.step_parts``):
    ``(said, premise, claim)``, no premise."""
    out = []
    for label, _, claims in gen_b_principal.step_parts(policy, bounds, fail, claims_of=_rebased):
        out += [(f"the close ({label}, the numbers it reads free): {said}", [], c) for said, c in claims]
    return out


def kept_parts(policy: Policy, bounds: Bounds, before: bool = True) -> list[tuple[str, list[Any], Any]]:
    """:data:`STEP_KEEPS` after the step, from the premise (as :func:`step_parts`') and each before (``before``
    False: without it, the mutants' hook): ``(said, premise, claim)``."""
    out = []
    for label, book, premise, end in _step_premises(policy, bounds):
        for a in book.traders:
            held = {c.name: c.holds for c in trader_conditions(policy, book, a.name, margin=None)}
            for c in trader_conditions(policy, end, a.name, margin=None):
                if c.name in STEP_KEEPS:
                    said = f"the move ({label}): {a.name}'s {c.name} kept"
                    out.append((said, [*premise, *(_conjuncts(held[c.name]) if before else [])], _b(c.holds)))
    return out


def margin_none_lemmas(policy: Policy, bounds: Bounds, ask: Valid, fail: Callable[[str], None]) -> list[str]:
    """For the record (the premise over moves holds none of them): the trader's ``margin=None`` conditions a
    whole move keeps, :data:`CLOSE_REBASES` from any state (:func:`rebased_parts`), :data:`STEP_KEEPS` from the
    premise and themselves before (:func:`kept_parts`)."""
    parts = rebased_parts(policy, bounds, fail) + kept_parts(policy, bounds)
    return [ask(said, premise, claim) for said, premise, claim in parts]


__all__ = [
    "CLOSE_REBASES",
    "STEP_KEEPS",
    "TRADERS",
    "close_lemma",
    "close_parts",
    "kept_parts",
    "margin_none_lemmas",
    "rebased_parts",
    "move_lemmas",
    "step_lemmas",
    "step_parts",
]
