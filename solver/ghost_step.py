"""dYdX's payer claims at K > 1 with accounts deferred by the block limit: the step read against P.

The induction over mark moves (:mod:`solvent.solver.induction`) on dYdX (session 22) kept a premise
of each trader, worth at least zero at the mark with its fee to close (``StartMargin.SOLVENT``), and
across accounts one ghost price P (:mod:`solvent.solver.ghost_start`), and read the payer's charge
against the move, ``|M − M₀|``. An account deferred by the block limit of 10
(``rules.deleveraging_limit``: on a book of more than 10 traders) keeps its position, below zero,
into the next move: outside the solvent premise, so the verdict assumed no account deferred.

Here the move's argument is read against P instead of the mark before the move (route 2 of
docs/solver-notes.md#dydx-at-k--3-session-22). The premise of each trader is its own
well-formedness without a margin condition, and worth at least zero at P (``E + S·(P − M) ≥ 0``,
which a flat trader's equity is), beside the ghost invariant across accounts at P (every trader
flat or worth its initial margin at P). A deferred account meets it: its step, a mark's
settlement and its own turn with the limit reached, leaves it as settlement left it
(:func:`deferred_step_question`), and settlement keeps its worth at P. Each lemma is z3, exact, on
the engine's own functions with every number free, P among them:

1. **Start**: a trader at the question's starting margin meets its part at P = its mark.
2. **The ghost kept** (``payer_ghost.lemmas``: settlement, a trader's own turn, a winner's fill,
   the skip, the walk), and a **deferred step** (settlement, then its turn with the limit reached)
   keeps it too and the account's own part, leaving it as settlement left it or flat at or above
   zero, the other trader as settlement left it.
3. **The floor at P**: a trader within the ghost holding a position is worth ``e₀ = E + S·(P − M) ≥ 0``
   at P with its fee to close at P within it: the charge lemma's premise read at P, for an account
   the sweep resolves (it holds a position: the engine's trigger reads its open lots) at its turn,
   whatever fills it paid before (the ghost is kept by each).
4. **The charge at P** (the engine's ``resolve``, two traders): from that premise, a payer's
   position shrinks by ``q`` lots, its cash by at most ``q·|M − P|`` (per fill: the first fill's
   share, then ``payer_lemma._ratio_lemma``), nothing for a trader off the winning side of P.
5. **The contract at P** (one trader, its own part of the premise and the ghost at P, charged so
   before and after its own turn): the claim holds for it after the move, and its part of the
   premise holds again (at the new mark, the same P).

A bankrupt account owes at most ``|S|·|M − P|`` (it was worth ≥ 0 at P) and a winner opposite gained
``|s|·|M − P|`` since P on its initial margin at P, so a payer charged at most that a lot keeps its
worth at P, whatever moves came between: the deferred account's deficit at the move that resolves
it is one more bankrupt account's of that move. At K = 1, P is the mark before the move; this
module is asked only by the induction's step (K > 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, Severity, StepView
from solvent.rules.arith import PPM, abs_, all_, and_, or_
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn, settle
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.margin import equity
from solvent.rules.outcomes import DeleverageAttempt
from solvent.rules.policy import Policy
from solvent.solver import adl_claims, effort, ghost_start, induction
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.payer_lemma import _ratio_lemma, charge_question, payer_contract
from solvent.solver.per_account import _conjuncts, _one_event_frame, _reads_only
from solvent.solver.story import symbolic_book

Valid = Callable[..., str]

#: the lemmas' ghost price (a free variable; every lemma reads it as the same P)
GHOST = "payer.ghost_mark"
#: what the premise says, in a verdict (its part across accounts with it)
SAYS = ghost_start.STEP_SAYS


def price() -> Any:
    """The lemmas' ghost price P."""
    return z3.Int(GHOST)


def worth(policy: Policy, account: Any, mark: Any, ghost: Any) -> Any:
    """``account`` re-valued at ``ghost`` from ``mark``: ``E + S·(P − M)`` (``adl_claims.worth_kept``'s)."""
    return equity(policy.margin, account) + account.size_lots * (ghost - mark)


def own(policy: Policy, book: Book, name: str, ghost: Any) -> list[Any]:
    """Trader ``name``'s own part of the premise on ``book`` (conjuncts): its well-formedness with no
    margin condition (``induction.own``, but its ``NOT_KEPT``), the marks positive on the tick, and
    worth ≥ 0 at ``ghost``."""
    return [
        *induction.own(policy, book, name, margin=None),
        worth(policy, book.account(name), book.market.mark_quote, ghost) >= 0,
    ]


def within(policy: Policy, book: Book, name: str, ghost: Any) -> Any:
    """Trader ``name`` within the ghost invariant at ``ghost`` (``adl_claims.worth_kept``)."""
    return adl_claims.worth_kept(policy, book.account(name), book.market.mark_quote, ghost)


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def premise_claim(policy: Policy, ghost: Any) -> Invariant:
    """Every trader's own part of the premise after the step, at the same P, but an account the step
    deferred (read at the step that resolves it, as the payer's claims read it): a claim a contract
    is asked of (not a catalog claim)."""

    def holds(view: StepView) -> Any:
        return all_(
            or_(view.deferred(t.name), all_(own(view.policy, view.after, t.name, ghost))) for t in view.after.traders
        )

    return Invariant("ghost-premise-kept", f"after a mark move, {SAYS}", Severity.HIGH, holds)


def start_lemma(policy: Policy, bounds: Bounds, valid: Valid) -> str:
    """Step 1: one trader meeting the question's starting book (its own assumptions at
    ``bounds.start_margin``) meets its part of the premise at P = the book's mark."""
    one = Bounds(accounts=1, events=1, start_margin=bounds.start_margin)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    reads = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets))
    premise = [c for a in book_assumptions(policy, book, one) for c in _conjuncts(a.holds) if _reads_only(c, reads)]
    claim = z3.And(*own(policy, book, name, book.market.mark_quote))
    valid(
        f"start at P: a trader meeting {bounds.start_margin} margin meets its part of the premise at its mark",
        premise,
        claim,
    )
    return f"start ({bounds.start_margin} margin): each trader of the first book meets its part of the premise at P = its mark"


def deferred_step_question(policy: Policy) -> tuple[list[Any], Any]:
    """``(premise, claim)``: a mark's settlement, then the engine's liquidation turn of alice on a free
    two-trader book with the policy's limit of accounts deleveraged a move at 1 and one attempt
    (bob's) made before hers, so the limit is reached (``adl_claims.deferred_resolve``'s setting,
    through the whole turn): from both within the ghost invariant at a free P and alice within her
    own part of the premise (:func:`own`), both stay within the ghost, alice ends as settlement left
    her or flat at or above zero, within her own part again, and bob as settlement left him, every
    number free (the new mark positive and on the tick: the event's requirement)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    limited = attrs.evolve(
        policy,
        deficit=tuple(attrs.evolve(d, max_deleveraged_per_event=1) if d is policy.adl else d for d in policy.deficit),
    )
    ghost, new = price(), z3.Int("payer.deferred.new_mark")
    settled = settle(policy, Ctx(book), MarkPrice(new))
    alice, bob = settled.book.account("alice"), settled.book.account("bob")
    after = liquidation_turn(limited, settled.note(DeleverageAttempt("bob", False)), "alice").book
    a2, b2 = after.account("alice"), after.account("bob")
    stood = and_(a2.size_lots == alice.size_lots, a2.cash_quote == alice.cash_quote, a2.cost_quote == alice.cost_quote)
    flat = and_(a2.size_lots == 0, equity(policy.margin, a2) >= 0)
    kept = and_(b2.size_lots == bob.size_lots, b2.cash_quote == bob.cash_quote, b2.cost_quote == bob.cost_quote)
    mark = book.market.mark_quote
    premise = [mark >= 1, new >= 1, ghost >= 1, *(_b(within(policy, book, t.name, ghost)) for t in book.traders)]
    premise += [_b(c) for c in own(policy, book, "alice", ghost)]
    within_after = [within(policy, after, t.name, ghost) for t in book.traders]
    claim = and_(*within_after, or_(stood, flat), kept, *own(policy, after, "alice", ghost))
    return premise, _b(claim)


def floor_question(policy: Policy) -> tuple[list[Any], Any]:
    """Step 3 on a free one-trader book: within the ghost invariant at P, the trader is flat, or its
    worth at P, ``e₀ = E + S·(P − M)``, is at least zero with its fee to close at P inside it
    (``e₀ × 10⁶ ≥ f × |S| × P``): the charge lemma's settled premise with M₀ read as P."""
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    [name] = [a.name for a in book.traders]
    account, ghost = book.account(name), price()
    e0 = worth(policy, account, book.market.mark_quote, ghost)
    size = account.size_lots
    claim = or_(size == 0, and_(e0 >= 0, e0 * PPM >= fee_to_close_rate(policy) * abs_(size) * ghost))
    return [book.market.mark_quote >= 1, ghost >= 1, _b(within(policy, book, name, ghost))], _b(claim)


def charge_lemmas(policy: Policy, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Steps 3 and 4: the floor at P and the engine's ``resolve`` charging a payer within ``|M − P|`` a lot."""
    premise, claim = floor_question(policy)
    out = [
        valid(
            "floor at P: a trader within the ghost invariant is worth ≥ 0 at P with its fee to close there",
            premise,
            claim,
        )
    ]
    charge = charge_question(policy, ref=price())
    if not charge.per_fill:
        fail("the step read against the ghost price is built for dYdX's per-fill gaps")
    premise = list(charge.premise)
    out.append(
        valid(
            "payer's charge at P: a fill shrinks the payer's position toward zero and takes only its cash, none "
            "off the winning side of P",
            premise,
            charge.fill,
        )
    )
    out.append(valid("payer's charge at P: its first fill pays at most its lots times |M − P|", premise, charge.bound))
    out.append(_ratio_lemma(valid))
    return out


def contracts(
    policy: Policy,
    invariant: Invariant,
    claims: list[Invariant],
    one: Bounds,
    valid: Valid,
    fail: Callable[[str], None],
) -> list[str]:
    """Step 5: the contract at P for each of ``claims`` (the premise's own part kept,
    :func:`premise_claim`, or the claim), each mark variant of the one-event bounds ``one`` (the
    induction's step, framed for ``invariant``)."""
    _, _, slot = _one_event_frame(invariant, one, fail, "step's")
    variants = [(v.event, v.label) for v in slot.variants]
    ghost = price()

    def assumed(p: Policy, book: Book, _bounds: Bounds) -> list[Any]:
        # what reads the trader's own numbers only (the contract keeps those); what reads P: ``at_ghost``
        return [c for t in book.traders for c in induction.own(p, book, t.name, margin=None)]

    def at_ghost(book: Book) -> list[Any]:
        mark = book.market.mark_quote
        own_worth = [worth(policy, t, mark, ghost) >= 0 for t in book.traders]
        return [ghost >= 1, *own_worth, *(_b(within(policy, book, t.name, ghost)) for t in book.traders)]

    out = []
    for claim in claims:
        for event, label in variants:
            out.append(
                payer_contract(
                    policy,
                    claim,
                    label,
                    event,
                    slot.field_bounds,
                    valid,
                    one.start_margin,
                    assumed,
                    ghost=(ghost, at_ghost),
                )
            )
    return out


def kept(policy: Policy, invariant: Invariant, one: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Step 5 for the premise's own part (:func:`premise_claim` at the lemmas' P), asked first, as
    the induction asks its premise kept before its claim (where it fails the claim is not asked)."""
    return contracts(policy, invariant, [premise_claim(policy, price())], one, valid, fail)


def lemmas(policy: Policy, invariant: Invariant, one: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The deferred step, steps 3-5 for the claim and the aggregate (the ghost's own lemmas are
    ``payer_ghost.lemmas``, asked before these by ``payer_lemma.payer_argument``)."""
    with effort.question():  # a z3 context of its own: the question's context as the claim's lemmas leave it
        out = [_deferred_step(policy, valid)]
    out += charge_lemmas(policy, valid, fail)
    out += contracts(policy, invariant, [invariant], one, valid, fail)
    out.append(AGGREGATE.format(claim=invariant.id))
    return out


def _deferred_step(policy: Policy, valid: Valid) -> str:
    question = deferred_step_question(policy)
    return valid(
        "a deferred account's step (a mark's settlement, then its turn with the limit of accounts deleveraged "
        "reached: at 1, one attempt before it) keeps both traders within the ghost invariant and the account "
        "within its own part of the premise, leaves it as settlement left it or flat at or above zero and the "
        "other as settlement left it, every number free",
        *question,
        exact=True,
    )


#: the aggregate of the step read against P (``{claim}``: the claim's id)
AGGREGATE = (
    "aggregate at P: every trader is within the ghost invariant at every turn (the ghost lemmas, a deferred step "
    "too), so an account the sweep resolves meets the charge lemma's premise read at P (the floor at P), and every "
    "fill charges its payer at most its lots times |M − P|, nothing off the winning side of P; each trader's end is "
    "its contract at P: {claim}, and its part of the premise again; an account the step defers is skipped by the "
    "claim, stays within the ghost and its own part as settlement left it, and is resolved at a later move as a "
    "bankrupt account within them"
)


__all__ = [
    "AGGREGATE",
    "GHOST",
    "SAYS",
    "charge_lemmas",
    "contracts",
    "deferred_step_question",
    "floor_question",
    "kept",
    "lemmas",
    "own",
    "premise_claim",
    "price",
    "start_lemma",
    "within",
    "worth",
]
