"""Percolator Gen B's payer claims over a turn: the cascade's step, cut at its branches
(docs/solver-notes.md#gen-bs-cascade-step-from-the-payers-pieces-session-24).

``solver.side_payer`` proves each per-call piece of the payer argument on the engine's own functions;
this module composes them, first over one iteration of the cascade's loop (``bankruptcy._first_below``
on the engine's own test ``bankruptcy.sunk``), as ``solver.cascade_invariant`` does on Drift, but cut
at the iteration's branches (z3 does not decide the iteration asked whole: unknown at 3M units a
claim). On a free book of :data:`side_payer.STEP_TRADERS` traders, each side of the move
(:data:`side_payer.SIDES`), every number free:

1. **a sunk trader is a loser below zero** (:func:`sunk_lemmas`): from the payer's bound (the
   invariant of ``side_payer``: the reachable book, the fund at or above 0, ``m ≥ 0``, a loser at
   ``E ≥ −|s|·m``, a winner at ``E ≥ |s|·m``, a flat trader at or above 0), the cascade's test on a
   trader gives it lots on the losing side and ``E < 0`` (a winner is at ``|s|·m ≥ 0``): the resolve
   lemma's premise on that trader;
2. **the resolve keeps the reachable book** (:func:`keeps_lemmas`): beside ``side_payer``'s resolve
   claims, the fund stays at or above 0 and the book stays reachable (open interest balanced, only
   the holders holding), so the bound is a premise the next iteration meets;
3. **the branches are the resolves** (term for term, no query, :func:`branches`): the iteration's book
   is, field for field, the ``ite`` chain over the tests in book order of each trader's branch, and each
   branch's book (``_bankrupt_in_turn``) is the one ``bankruptcy.resolve(alone=True)`` builds on the
   same book, which the resolve lemma speaks of;
4. **the iteration** (:func:`iteration_lemma`): from the bound and the instances of 1 and of the
   resolve lemma (``side_payer.resolve_parts``' claims with 2's) on each branch, every branch's
   numbers replaced by fresh ones (a generalization: valid for every value, so for the engine's), the
   iteration's book meets the bound again, a trader at or above 0 before it is at or above 0 after, and
   a winner's lots only shrink (never past 0) with its ``E − |s|·m`` not falling (so its initial margin
   at the previous mark, ``side_payer.winner_lemmas``' second lemma, does not rise).

The resolve lemma's instances for a branch other than the first trader's are ``side_payer``'s with that
trader the account acted on (its deep test). What is left (the turn, the sweep, the route in ``prove``)
the notes' section says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

import solvent.rules.bankruptcy as bankruptcy
from solvent.rules.arith import ite
from solvent.rules.book import Book
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.solver import side_payer
from solvent.solver.side_claims import balanced
from solvent.solver.side_payer import FREE, SIDES, _b, _bound, _same_book, _term, free_book

Valid = Callable[..., str]


def _move() -> Any:
    return z3.Int(f"{FREE}move")


def _losing(book: Book, name: str, side: int) -> Any:
    return _b(book.account(name).size_lots * side > 0)


def invariant(policy: Policy, book: Book, side: int, move: Any) -> list[Any]:
    """The payer's bound on ``book`` (``side_payer._bound`` without its account acted on)."""
    premise, _ = _bound(policy, book, side, move, book.traders[0].name)
    acted = _losing(book, book.traders[0].name, side)
    return [p for p in premise if not p.eq(acted)]


def keeps(policy: Policy, after: Book) -> list[tuple[str, Any]]:
    """What a resolve keeps of the reachable book: the fund at or above 0, the book reachable."""
    return [
        ("the fund at or above 0", _b(after.account("insurance_fund").cash_quote >= 0)),
        (
            "the book reachable (open interest balanced, only the holders holding)",
            z3.And(*map(_b, balanced(policy, after))),
        ),
    ]


def sunk_lemmas(policy: Policy, valid: Valid) -> list[str]:
    """1: from the bound, the cascade's test on a trader puts it on the losing side below zero."""
    book, move = free_book(), _move()
    out = []
    for label, side in SIDES:
        for name, test in bankruptcy.sunk(policy, Ctx(book), [a.name for a in book.traders]):
            claim = z3.And(_losing(book, name, side), _b(book.account(name).cash_quote < 0))
            said = f"a sunk trader ({name}, the {label} side losing) is a loser below zero"
            out.append(valid(said, [*invariant(policy, book, side, move), _b(test)], claim, exact=True))
    return out


def keeps_lemmas(policy: Policy, valid: Valid, bankrupt: str | None = None) -> list[str]:
    """2: the resolve (``side_payer.resolve_parts``' premise and charge fact) keeps the fund at or
    above 0 and the book reachable."""
    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        name = book.traders[0].name if bankrupt is None else bankrupt
        premise, _, fact = side_payer.resolve_parts(policy, book, side, move, name)
        after = bankruptcy.resolve(policy, Ctx(book), name, alone=True).book
        for said, claim in keeps(policy, after):
            out.append(valid(f"the resolve of {name} ({label}): {said}", [*premise, fact], claim, exact=True))
    return out


def branches(policy: Policy, book: Book, names: list[str]) -> tuple[list[tuple[str, Any]], list[Book], Book]:
    """3: the iteration on ``book`` over ``names`` (the cascade's test, ``_first_below``): its tests,
    each trader's branch book (checked term for term to be ``resolve(alone=True)``'s) and the
    iteration's book (checked term for term to be the ``ite`` chain of the branches)."""
    tests = bankruptcy.sunk(policy, Ctx(book), names)
    after = bankruptcy._first_below(policy, Ctx(book), tests, ())[0].book
    books = []
    for name, _ in tests:
        branch = bankruptcy._bankrupt_in_turn(policy, Ctx(book), name, (), alone=True).book
        if not _same_book(branch, bankruptcy.resolve(policy, Ctx(book), name, alone=True).book):
            raise ValueError(f"{name}'s branch of the cascade's iteration is not its resolve alone")
        books.append(branch)
    chain = book
    for (_, test), branch in reversed(list(zip(tests, books, strict=True))):
        chain = ite(test, branch, chain)
    if not _same_book(after, chain):
        raise ValueError("the cascade's iteration is not the chain of its branches in book order")
    return tests, books, after


def _fields(book: Book) -> list[Any]:
    return [_term(x) for a in book.accounts for x in (a.size_lots, a.cash_quote)]


def iteration_lemma(policy: Policy, valid: Valid, names: list[str] | None = None) -> list[str]:
    """4: one iteration of the cascade's loop over ``names`` (default every trader) keeps the bound,
    and a trader at or above 0 before it stays so, from the instances of 1, 2 and the resolve lemma
    on each branch, each branch's numbers generalized to fresh ones."""
    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        names_here = [a.name for a in book.traders] if names is None else names
        tests, books, after = branches(policy, book, names_here)
        start = invariant(policy, book, side, move)
        facts = []
        for (name, test), branch in zip(tests, books, strict=True):
            premise, claims, _ = side_payer.resolve_parts(policy, book, side, move, name)
            facts.append(
                z3.Implies(
                    z3.And(*start, _b(test)), z3.And(_losing(book, name, side), _b(book.account(name).cash_quote < 0))
                )
            )
            # the resolve lemma (with its charge fact discharged by the per-lot lemma's instance) and 2
            said = [c for _, c in claims] + [c for _, c in keeps(policy, branch)]
            facts.append(z3.Implies(z3.And(*premise), z3.And(*said)))
        claim = list(invariant(policy, after, side, move))
        for a in book.traders:
            z = after.account(a.name)
            claim.append(z3.Implies(_b(a.cash_quote >= 0), _b(z.cash_quote >= 0)))
            lots, now = a.size_lots * side, z.size_lots * side
            shrink = z3.And(_b(now <= 0), _b(now >= lots), _b(z.cash_quote + now * move >= a.cash_quote + lots * move))
            claim.append(z3.Implies(_b(lots < 0), shrink))
        generalize = []
        for k, branch in enumerate(books):
            for j, x in enumerate(_fields(branch)):
                if not z3.is_const(x):
                    generalize.append((x, z3.Int(f"{FREE}branch{k}.{j}")))
        # each branch's numbers free: the query's validity for every value gives it for the engine's terms
        asked = [z3.substitute(f, *generalize) for f in facts] if generalize else facts
        whole = z3.substitute(z3.And(*claim), *generalize) if generalize else z3.And(*claim)
        out.append(
            valid(
                f"the cascade's iteration over {', '.join(names_here)} ({label} losing): the bound kept, "
                "a trader at or above 0 stays so, a winner's lots only shrink and its E − |s|·m does not fall "
                "(from each branch's resolve lemma)",
                [*start, *asked],
                whole,
                exact=True,
            )
        )
    return out


__all__ = ["branches", "invariant", "iteration_lemma", "keeps", "keeps_lemmas", "sunk_lemmas"]
