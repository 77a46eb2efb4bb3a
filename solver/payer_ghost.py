"""dYdX's payer claims: the payer's argument where the queue may skip, by the ranking's ghost invariant.

The payer's argument (:mod:`solvent.solver.payer_lemma`) needs ADL's queue and the book to take a
bankrupt account's whole position at its price, as the book alone would (its ``ADL_FILLS_ONLY``).
dYdX v4's queue skips an offsetting account that a fill would leave riskier (the overlap rule,
``rules.adl.overlaps``), so on a free book a position need not be taken whole, and the argument
did not apply (``payer_lemma.applies``). The ranking's argument on dYdX's walk
(``adl_claims.walk_ranking_lemmas``, docs/solver-notes.md#the-ranking-by-a-ghost-invariant) proves
that every position holder stays worth its initial margin at the mark the story started from, P
(the ghost invariant); and a candidate within it, from a walk state owing no more a lot than the
deficit did, is served what the walk without the overlap rule would serve it
(``adl_claims.skip_question``). So no candidate a walk reaches is skipped: each eligible candidate
gives ``min(left, lots)`` in book order, the book takes the rest last, and with open interest
balanced (every lot opposite a bankrupt account held by a trader or the book) nothing is left. A
walk's last fill takes what is left, so it pays what is still owed (the walk's invariant: owed
``d ≥ 0``, ``adl_claims.walk_lemmas``), and the fills pay the account's deficit in all, as one
fill of the book would: the bankrupt account ends where the payer's contract puts it.

The lemmas here are that part; the rest is the payer's argument as on Binance (the charge per fill,
the floor, the contract), asked after them (docs/solver-notes.md#dydxs-payer-claims-session-21).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.arith import abs_, and_, or_, when
from solvent.rules.book import Book
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.policy import Policy
from solvent.solver import adl_claims, effort
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

Valid = Callable[..., str]

#: what the payer's all-N verdict assumes on dYdX beside the payer's own ``ADL_FILLS_ONLY``
ASSUMES = (
    "every position holder stays worth its initial margin at the mark the story started from (the ranking's ghost "
    "invariant: a step changes a trader's account only by the mark's settlement, its own liquidation turn and its "
    "fills in other accounts' ADL walks, checked on the step at three traders), so the overlap rule skips no "
    "candidate a walk reaches"
)

#: the skip lemma's name, by the bankrupt account's side (``adl_claims.skip_question``)
SKIP = "no skip: a candidate within the ghost invariant is served as without the overlap rule"


def skips(policy: Policy) -> bool:
    """Whether the policy's ADL queue may skip an offsetting account (dYdX's overlap rule)."""
    return policy.adl is not None and policy.adl.overlap_only


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def ghost_premise(policy: Policy, book: Book, bankrupt: str) -> list[Any]:
    """On a free book of one event, the ghost invariant at the mark before the move (the ghost
    price P, the story's start at K = 1): every trader but ``bankrupt`` within it (flat, or worth
    its initial margin at P), ``bankrupt`` worth at least 0 at P."""
    market = book.market
    ghost, mark = market.previous_mark_quote, market.mark_quote
    own = book.account(bankrupt)
    worth = equity(policy.margin, own) + own.size_lots * (ghost - mark)
    others = [adl_claims.worth_kept(policy, a, mark, ghost) for a in book.traders if a.name != bankrupt]
    return [ghost >= 1, worth >= 0, *(_b(o) for o in others)]


#: the skip lemmas proved in the question being asked: (policy, formulas) (:func:`forget`)
_PROVED: list[tuple[Policy, tuple[Any, ...]]] = []


def forget() -> None:
    """Start a question with no skip lemma remembered (``solver.prove`` at each question's start):
    what one question proved is reused within it only, so its units never depend on an earlier one."""
    _PROVED.clear()
    _TURNS.clear()


def skip_lemmas(policy: Policy, valid: Valid) -> tuple[Any, ...]:
    """``adl_claims.skip_question`` on a free two-trader book (the bankrupt account first, the
    candidate second, any walk state owing no more a lot than the deficit did), proved for a
    bankrupt long and a bankrupt short apart, and apart whether the walk asks the candidate for its
    whole position or part of it (0.24M, 0.04M, 0.06M and 0.04M units on dydx-v4, in any order;
    by side alone 0.07-2.4M as the question's history went, and 1.96M asked whole): each proved
    formula ``premise → claim``. Proved once a question: the all-N
    argument's and the direct check's facts are the same formulas (the second use asks nothing)."""
    for proved, formulas in _PROVED:
        if proved is policy:
            return formulas
    for i in range(len(SKIP_CASES)):
        with effort.question():  # each case in a fresh z3 context: its units whatever was built before
            name, premise, claim = _skip_cases(policy)[i]
            valid(name, premise, claim)
    out = skip_formulas(policy)
    _PROVED.append((policy, out))
    return out


#: the turn lemma proved in the question being asked (:func:`turn_lemma`; :func:`forget` clears it)
_TURNS: list[Policy] = []


def turn_lemma(policy: Policy, valid: Valid) -> str:
    """``adl_claims.turn_question`` (a trader's own liquidation turn on a two-trader book keeps both
    within the ghost invariant and leaves it flat or as it stood), proved once a question: the
    all-N argument asks it, the direct check's facts use its formula (:func:`turn_formula`)."""
    name = (
        "payer's ghost: a trader's own liquidation turn (two traders) keeps both within the ghost invariant and "
        "leaves it flat or as it stood, every number free"
    )
    if any(p is policy for p in _TURNS):
        return name
    premise, claim = adl_claims.turn_question(policy, Bounds(accounts=adl_claims.LEMMA_BOOK, events=1))
    said = valid(name, premise, claim, exact=True)
    _TURNS.append(policy)
    return said


def turn_proved(policy: Policy) -> bool:
    """Whether :func:`turn_lemma` was proved in this question."""
    return any(p is policy for p in _TURNS)


def turn_formula(policy: Policy) -> tuple[Book, Any]:
    """:func:`turn_lemma`'s free book and formula ``premise → claim``, built in the current z3 context
    (its ghost price ``adlw.ghost_mark``); nothing asked."""
    bounds = Bounds(accounts=adl_claims.LEMMA_BOOK, events=1)
    premise, claim = adl_claims.turn_question(policy, bounds)
    book, _ = symbolic_book(bounds)
    return book, z3.Implies(z3.And(*premise), claim)


def skip_formulas(policy: Policy) -> tuple[Any, ...]:
    """The skip lemma's cases as formulas ``premise → claim``, built in the current z3 context (a
    formula :func:`skip_lemmas` proved valid is valid wherever it is built); nothing asked."""
    return tuple(z3.Implies(z3.And(*premise), claim) for _, premise, claim in _skip_cases(policy))


#: the skip lemma's four cases: the bankrupt account's side × the walk asking the candidate for its
#: whole position or part of it
SKIP_CASES = (
    ("a bankrupt long", "its whole position"),
    ("a bankrupt long", "part of its position"),
    ("a bankrupt short", "its whole position"),
    ("a bankrupt short", "part of its position"),
)


def _skip_cases(policy: Policy) -> list[tuple[str, list[Any], Any]]:
    """The skip question's cases (:data:`SKIP_CASES`), each ``(name, premise, claim)``."""
    two = Bounds(accounts=2, events=1)
    ghost = adl_claims.Ghost.of(policy, two, 1)
    premise, claim = adl_claims.skip_question(policy, two)
    size = ghost.bankrupt.size_lots
    left, lots = z3.Int(f"{adl_claims.WALK}remaining"), abs_(ghost.candidates[0].size_lots)
    sides = {"a bankrupt long": size > 0, "a bankrupt short": size < 0}
    parts = {"its whole position": left >= lots, "part of its position": left < lots}
    return [
        (
            f"{SKIP} ({side}, the candidate asked for {part}), every number free",
            [*premise, sides[side], parts[part]],
            claim,
        )
        for side, part in SKIP_CASES
    ]


def deferred_question(policy: Policy) -> tuple[list[Any], Any]:
    """``(premise, claim)``: the ``resolve`` of a bankrupt account past the event's limit of accounts
    deleveraged (``rules.deleveraging_limit``: the limit at 1, one attempt made before it, the branch
    ``attempts ≥ limit``) moves no ADL money and leaves the other trader as it stood, and the account
    ends flat (the fund paid its deficit whole) or noted deferred, which the payer's claims skip
    (``StepView.deferred``), every number free."""
    book, out, view = adl_claims.deferred_resolve(policy)
    bob, after = book.account("bob"), out.book.account("bob")
    claim = and_(
        *(when(g.guard, g.item.amount_quote) == 0 for g in out.entries if g.item.reason is Reason.ADL),
        after.cash_quote == bob.cash_quote,
        after.size_lots == bob.size_lots,
        or_(out.book.account("alice").size_lots == 0, view.deferred("alice")),
    )
    alice = book.account("alice")
    below = equity(policy.margin, alice) < 0
    return [book.market.mark_quote >= 1, alice.size_lots != 0, below], _b(claim)


def lemmas(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The lemmas of the module docstring (each exact z3, every number free; ``fail`` where the
    argument does not apply): the ghost invariant kept by every step (start, settlement, a trader's
    own turn, a winner's fill), the skip, the walk's invariant, one call a step, the deferral."""
    forget()  # the argument proves its lemmas itself; the direct check's facts after it reuse them
    out = [adl_claims.traders_meet_by_adl(policy, bounds, fail)]
    out += adl_claims.one_call_a_step(policy, bounds, valid, fail)
    two = attrs.evolve(bounds, accounts=adl_claims.LEMMA_BOOK, events=1)
    for name, question in (
        (
            "a well-formed book at initial margin is within the ghost invariant at its own mark",
            adl_claims.start_question,
        ),
        ("a mark's settlement keeps every position and its worth at any ghost price", adl_claims.settle_question),
    ):
        premise, claim = question(policy, two)
        out.append(valid(f"payer's ghost: {name}, every number free", premise, claim, exact=True))
    out.append(turn_lemma(policy, valid))
    for long in (True, False):
        side = "a bankrupt long" if long else "a bankrupt short"
        for what, premise, claim in adl_claims.kept_parts(policy, two, long):
            out.append(
                valid(
                    f"payer's ghost: a winner's turn of {side}'s walk: {what}, every number free",
                    premise,
                    claim,
                    exact=True,
                )
            )
    skip_lemmas(policy, lambda name, premise, claim: out.append(valid(name, premise, claim, exact=True)))
    out += adl_claims.walk_lemmas(policy, bounds, valid)
    premise, claim = deferred_question(policy)
    out.append(
        valid(
            "a deferred account's resolve (past the event's limit of accounts deleveraged: the limit at 1, one attempt "
            "before it) is noted deferred and moves no ADL money, every number free",
            premise,
            claim,
            exact=True,
        )
    )
    out.append(
        "the whole position: every candidate a walk reaches is flat (ineligible) or within the ghost invariant, so "
        "it is served min(left, lots) in book order, the book takes the rest last, and with open interest balanced "
        "nothing is left; the last fill pays what is still owed (owed ≥ 0: the walk's invariant), so the fills pay "
        "the deficit in all, as the book alone would; a deferred account is skipped by the claim and charges nobody"
    )
    return out


__all__ = [
    "ASSUMES",
    "SKIP",
    "SKIP_CASES",
    "deferred_question",
    "forget",
    "ghost_premise",
    "lemmas",
    "skip_formulas",
    "skip_lemmas",
    "skips",
    "turn_formula",
    "turn_lemma",
    "turn_proved",
]
