"""The induction's premise across accounts where ADL's queue may skip (dYdX): one shared ghost price.

The induction over mark moves (:mod:`solvent.solver.induction`) keeps a premise of each trader on
its own (``StartMargin.SOLVENT``: worth at least zero, its fee to close within it). Where the queue
skips an offsetting account a fill would leave riskier (dYdX's overlap rule), that premise does not
keep a bankrupt position whole: a candidate worth only 0 can be skipped (session 19's model), and
the bankrupt account then keeps lots and its deficit. What keeps it whole is the ranking's ghost
invariant (``adl_claims.worth_kept``): every trader flat or worth its initial margin at **one price
P shared by the whole book**, the mark the story started from. No trader's own account states it:
it is a premise across accounts, through the one P.

So the premise of the induction's step on such a policy is, for every trader, the solvent start
*and* the ghost invariant at a shared P (:data:`GHOST_START`, a value of ``Bounds.start_margin``):

- an initial-margin book meets it at its own mark, P = M₀ (``adl_claims.start_question``);
- every move keeps it at the same P for every trader, whatever N: a mark's settlement leaves each
  trader's worth at P as it was (``settle_question``), a trader's own liquidation turn keeps both
  traders of a two-trader book within it (``turn_question``), and in another trader's turn a trader
  is changed only by its fill of that walk (``traders_meet_by_adl``), which keeps it
  (``kept_parts``), each lemma z3 exact on the engine's own functions with every number free, P
  among them (``solver.payer_ghost.lemmas`` asks them);
- and the solvent part is kept by the payer's contract as for every other policy, once the queue
  and the book take a bankrupt position whole, which the ghost gives (``payer_ghost``'s skip lemma).

In a bounded question (the induction's step checked directly on the lemmas' book) P is one more
free variable, :data:`GHOST_MARK`, within the price bounds (the story's first mark is), bound by
the assumption :func:`assumption`; the payer's facts read the same P (``payer_facts``). A model's
book is checked against it with the model's P on the concrete book (:func:`holds`), beside the
book's own assumptions (``refinement.replay``), before it counts.
"""

from __future__ import annotations

from typing import Any

import z3

from solvent.rules.arith import and_
from solvent.rules.book import Book
from solvent.rules.policy import Policy
from solvent.solver.adl_claims import worth_kept
from solvent.solver.assumptions import Assumption
from solvent.solver.bounds import GHOST_START, Bounds

#: the question's ghost price, a free variable (one per question: every trader reads the same)
GHOST_MARK = "s0.ghost_mark"
#: the assumption's name
NAME = "a shared ghost price: every trader flat or worth its initial margin at it"
#: what the premise says, in a verdict
SAYS = (
    "every trader flat or worth its initial margin at one ghost price shared by the book (the mark the story "
    "started from)"
)

#: what the induction's premise says where it carries the ghost price (``solver.ghost_step``): each
#: trader's own part read at P, not at the mark, so an account the block limit defers meets it
STEP_SAYS = (
    "every trader worth at least zero at the ghost price P (E + S·(P − M) ≥ 0) with its own well-formedness, no "
    f"margin at the mark asked (an account the block limit defers is below zero there); and {SAYS}"
)


def price() -> Any:
    """The question's ghost price (the same z3 term wherever it is built in one context)."""
    return z3.Int(GHOST_MARK)


def within(policy: Policy, book: Book, ghost: Any) -> Any:
    """Every trader of ``book`` flat or worth its initial margin at ``ghost``, re-valued there from the
    book's mark (``adl_claims.worth_kept``)."""
    mark = book.market.mark_quote
    return and_(*(worth_kept(policy, a, mark, ghost) for a in book.traders))


def assumption(policy: Policy, book: Book, bounds: Bounds) -> Assumption:
    """The premise's part across accounts on a question's starting book: the ghost price within the
    price bounds and every trader within the ghost invariant at it."""
    ghost = price()
    return Assumption(NAME, and_(ghost >= bounds.min_price, ghost <= bounds.max_price, within(policy, book, ghost)))


def holds(policy: Policy, book: Book, bounds: Bounds, ghost: int) -> bool:
    """Whether a concrete ``book`` meets the premise's part across accounts at the price ``ghost``
    (a model's value of :data:`GHOST_MARK`)."""
    inside = bounds.min_price <= ghost <= bounds.max_price
    return bool(inside and within(policy, book, ghost) is True)


__all__ = ["GHOST_MARK", "GHOST_START", "NAME", "SAYS", "STEP_SAYS", "assumption", "holds", "price", "within"]
