"""The payer's claims over K mark moves, by induction on a premise every move keeps.

``no-negative-equity`` and ``loss-bounded-by-collateral`` have an all-N argument for one mark move
(:mod:`solvent.solver.payer_lemma`): a trader's contract charged by ADL fills, from its own
assumptions, among them its margin at the start of the move. A later move starts from a book the
first one reached, where a trader may sit between maintenance and initial margin, so initial
margin is not kept; and "not liquidatable" alone is not enough (a flat trader is never
liquidatable, so it allowed a flat trader at cash −2: z3's refutation at once,
docs/solver-notes.md#no-negative-equity-and-loss-bounded-by-collateral-at-k--3-what-is-needed;
since session 25 a maintenance start also asks every trader worth at least zero).

The premise P of a trader, in exchange terms: **it is not liquidatable and worth at least zero**
(``StartMargin.SOLVENT``), with the rest of its own well-formedness (cost basis following its
position, its counts non-negative, no debt off the book where the policy lends none) and the
marks positive on the tick (``rules.wellformed.trader_conditions``). No value bound is in P: a
balance within ±10¹² quanta is the scope of the first book, not something a move keeps. The
argument (each lemma z3, exact, on the engine's own functions):

1. **Start.** A trader meeting the question's starting margin (initial, by default) meets P
   (one trader, its own assumptions).
2. **The claim from P.** The one-move payer's argument with P as each trader's start (its floor
   and its contract assume P and nothing of the value bounds): the claim holds after a mark move
   from any book whose traders meet P, for every N.
3. **P kept.** The payer's contract with P itself as the claim: one trader meeting P, charged by
   ADL fills before and after its own turn within the charge lemma (whose premise, the bankrupt
   account's margin floor, step 2's floor lemma proves from P), its turn run with the system
   accounts fresh, meets P after the move. A winner charged ``c ≤ r·|ΔM|`` for ``r`` lots keeps
   ``e₀ + (|s| − r)·|ΔM|``, at least its maintenance on ``|s| − r`` lots at the new mark where the
   requirement grows no faster than the lots' gain; z3 decides it on the policy's own tiers.
4. **Open interest** balances after every move (the position frame: each position moves by its
   fills, each fill by ``lots − lots``; ``compositional``'s own lemma), which the payer's argument
   assumes of the queue and the book at every move.

By induction over the moves: P holds at the start (1), every move keeps it for every trader (3,
each trader's P read off its own account, so for any N as the claim is), and every move's book
then meets step 2's premise, so the claim holds after every move, for any N and any K of mark
moves. The direct check ``solver.prove`` asks beside it is the one-event question on the lemmas'
book from a P start (``Extension.one_event_start``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, Severity, StepView
from solvent.rules.arith import all_
from solvent.rules.book import Book
from solvent.rules.events import MarkPrice
from solvent.rules.policy import Policy
from solvent.rules.wellformed import StartMargin, trader_conditions
from solvent.solver import ghost_start
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import GHOST_START, Bounds
from solvent.solver.payer_lemma import (
    PAYER_CLAIMS,
    applies,
    ghost_covers,
    payer_argument,
    payer_contract,
)
from solvent.solver.per_account import _conjuncts, _one_event_frame, _reads_only
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import QueryStats

#: the premise's start margin (``Bounds.start_margin``)
PREMISE = StartMargin.SOLVENT.value
#: what the premise says, in the verdict
SAYS = "every trader worth at least zero with its fee to close within it, and its own well-formedness"
#: what an all-N, any-K verdict by this argument assumes beyond the payer's argument's own
ASSUMES = f"induction over mark moves on the premise {SAYS}"


def says(ghost: bool) -> str:
    """What the premise says: :data:`SAYS`; where the queue may skip, each trader's part read at the
    ghost price and its part across accounts (``ghost_start.STEP_SAYS``, ``solver.ghost_step``)."""
    return ghost_start.STEP_SAYS if ghost else SAYS


def assumes(ghost: bool, limit: int | None = None) -> str:
    """What an all-N, any-K verdict by this argument assumes: :data:`ASSUMES`, with the ghost's premise;
    where the policy deleverages at most ``limit`` accounts a move (dYdX's block limit), the premise
    says that an account it defers meets it (session 22 assumed no account deferred; the step read
    against the ghost price covers it: ``solver.ghost_step``)."""
    if not ghost:
        return ASSUMES
    said = f"induction over mark moves on the premise {says(ghost)}"
    if limit is None:
        return said
    return (
        f"{said} (an account deferred by the limit of {limit} accounts deleveraged a move meets it: its step leaves "
        "it as settlement left it, and the move that resolves it charges each payer at most what its lots gained "
        "since P)"
    )


def limit(policy: Policy) -> int | None:
    """The accounts the policy deleverages at most a move (dYdX's block limit), or None."""
    return None if policy.adl is None else policy.adl.max_deleveraged_per_event


#: a trader's own condition P leaves out: the charge lemma says nothing of a payer's cost basis after
#: a fill (``payer_lemma._charged`` leaves it free), and no lemma of the argument needs it
NOT_KEPT = ("cost basis follows the position",)


def own(policy: Policy, book: Book, name: str, margin: StartMargin | None = StartMargin.SOLVENT) -> list[Any]:
    """P of trader ``name`` on ``book`` (its conjuncts): its own conditions of a well-formed book at
    ``margin`` (but :data:`NOT_KEPT`; None: no margin condition, ``solver.ghost_step``) and the marks
    positive on the tick; nothing of the value bounds."""
    conditions = trader_conditions(policy, book, name, margin=margin)
    return [c for cond in conditions if cond.name not in NOT_KEPT for c in _conjuncts(cond.holds)]


def assumed(policy: Policy, book: Book, _bounds: Bounds) -> list[Any]:
    """``payer_lemma.Assumed`` for a one-trader book: its trader's P, no value bound."""
    return [c for t in book.traders for c in own(policy, book, t.name)]


def premise_claim(policy: Policy) -> Invariant:
    """P after the step for every trader, as a claim a contract is asked of (not a catalog claim)."""

    def holds(view: StepView) -> Any:
        return all_(c for t in view.after.traders for c in own(view.policy, view.after, t.name))

    return Invariant("solvent-premise-kept", f"after a mark move, {SAYS}", Severity.HIGH, holds)


def start_lemma(policy: Policy, bounds: Bounds, valid: Callable[[str, list[Any], Any], str]) -> str:
    """Step 1: one trader meeting the question's starting book (its own assumptions at
    ``bounds.start_margin``) meets P."""
    one = Bounds(accounts=1, events=1, start_margin=bounds.start_margin)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    reads = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets))
    premise = [c for a in book_assumptions(policy, book, one) for c in _conjuncts(a.holds) if _reads_only(c, reads)]
    title = f"start: a trader meeting {bounds.start_margin} margin meets the premise ({SAYS})"
    valid(title, premise, z3.And(*own(policy, book, name)))
    return f"start ({bounds.start_margin} margin): each trader of the first book meets the premise"


def fits(policy: Policy, bounds: Bounds) -> bool:
    """Whether a K-event question (K > 1) on ``bounds`` is one the induction may decide: mark moves
    on one market, no collateral asset, no isolated position, a policy the payer's argument fits
    (``payer_lemma.applies``). ``solver.prove`` asks ``claims-backed`` by its parts there as at K = 1
    (its traders' part is no-negative-equity, which the induction covers)."""
    moves = set(bounds.event_kinds) == {"mark"} and bounds.markets == 1 and not bounds.assets and not bounds.isolated
    # where the fund takes over (BitMEX) too: its own deleveraging spreads at most its lots' loss in the
    # move (rules.pool_bankruptcy, session 23), a charge within the move from any fund, below zero
    # included (payer_lemma.pool_charge_question), so the premise needs nothing of the fund
    # (where the queue may skip, dYdX, the premise carries the ghost price across accounts: ``ghost``)
    plain = applies(policy) is None or ghost(policy, bounds)
    return bounds.events > 1 and moves and bounds.start_margin not in (PREMISE, GHOST_START) and plain


def ghost(policy: Policy, bounds: Bounds) -> bool:
    """Whether the induction's premise carries the ghost price across accounts (``solver.ghost_start``):
    the queue may skip (dYdX's overlap rule), which the ranking's ghost invariant covers within the
    question's bounds (``payer_lemma.ghost_covers``: mark moves from an initial-margin start)."""
    return ghost_covers(policy, bounds)


def start(policy: Policy, bounds: Bounds) -> str:
    """The start margin of the induction's step (its one-event book, checked directly): the premise,
    with the ghost price across accounts where :func:`ghost`."""
    return GHOST_START if ghost(policy, bounds) else PREMISE


def argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    record: Callable[[QueryStats], None],
    open_interest: Callable[[Bounds], list[str]],
) -> list[str]:
    """The lemmas of the module docstring, or ``fail(reason)`` (``valid`` raises where one does not
    hold): a payer's claim at K > 1 mark moves. ``open_interest``: the position frame's lemmas on
    the one-event book (``compositional._open_interest``)."""
    if invariant.id not in PAYER_CLAIMS:
        fail(f"{invariant.id}: the induction over moves covers {', '.join(PAYER_CLAIMS)}")
    if bounds.start_margin in (PREMISE, GHOST_START):
        fail(f"{invariant.id}: the question already starts from the premise: the one-move argument is its step")
    one = attrs.evolve(bounds, events=1, start_margin=PREMISE)
    _, book, slot = _one_event_frame(invariant, one, fail, "induction's")
    if not all(isinstance(v.event, MarkPrice) for v in slot.variants):
        fail(f"{invariant.id}: the induction over moves covers mark moves (the payer's argument's events)")
    skips = ghost(policy, bounds)  # the premise's ghost price across accounts (solver.ghost_start)
    if applies(policy) is not None and not skips:
        fail(f"{invariant.id}: the payer's argument covers ADL at the bankruptcy price: {applies(policy)}")
    if skips:  # dYdX: the step read against the ghost price, a deferred account within its premise
        return _at_ghost(policy, invariant, bounds, one, valid, fail, record, open_interest)
    lemmas = [start_lemma(policy, bounds, valid)]
    # the premise kept first: where it fails (a lemma's model) the claim's lemmas are not asked
    kept = premise_claim(policy)
    for variant in slot.variants:
        lemmas.append(
            payer_contract(policy, kept, variant.label, variant.event, slot.field_bounds, valid, PREMISE, assumed)
        )
    # with the ghost: its lemmas first (the start at the story's first mark, kept by every settlement, turn
    # and fill at the same price for every trader; the skip), so the queue and the book take a
    # bankrupt position whole at every move, as the contract above assumes
    lemmas += payer_argument(policy, invariant, one, valid, fail, record, assumed, ghost=skips)
    lemmas += open_interest(attrs.evolve(bounds, events=1))
    lemmas.append(
        f"induction over mark moves: the premise ({says(skips)}) holds at the start and each move keeps it for each "
        f"trader (its contract, any N{'; the ghost part by the ghost lemmas, at the same price for every trader' if skips else ''}); "
        f"from it each move keeps {invariant.id} (the payer's argument), so "
        f"{invariant.id} holds after every move, for any N and any K"
    )
    return lemmas


def _at_ghost(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    one: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    record: Callable[[QueryStats], None],
    open_interest: Callable[[Bounds], list[str]],
) -> list[str]:
    """:func:`argument` where the premise carries the ghost price across accounts (dYdX): the step read
    against the ghost price P (``solver.ghost_step``), whose premise an account deferred by the block
    limit meets, so no account need be left undeferred."""
    from solvent.solver import ghost_step  # it reads this module's premise's parts

    def read_at() -> list[str]:
        return ghost_step.lemmas(policy, invariant, one, valid, fail)

    # as the premise of each trader on its own: the start, the premise kept, then the claim
    lemmas = [ghost_step.start_lemma(policy, bounds, valid)]
    lemmas += ghost_step.kept(policy, invariant, one, valid, fail)
    lemmas += payer_argument(policy, invariant, one, valid, fail, record, assumed, ghost=True, read_at=read_at)
    lemmas += open_interest(attrs.evolve(bounds, events=1))
    lemmas.append(
        f"induction over mark moves: the premise ({ghost_step.SAYS}) holds at the start and each move keeps it for "
        "each trader (its contract at P, any N; the ghost part by the ghost lemmas at the same price for every "
        f"trader; an account the block limit defers as settlement left it); from it each move keeps {invariant.id} (the "
        f"payer's argument read against P), so {invariant.id} holds after every move, for any N and any K"
    )
    return lemmas


__all__ = [
    "ASSUMES",
    "PREMISE",
    "SAYS",
    "argument",
    "assumed",
    "assumes",
    "fits",
    "ghost",
    "limit",
    "own",
    "premise_claim",
    "says",
    "start",
    "start_lemma",
]
