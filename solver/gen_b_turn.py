"""Percolator Gen B's payer claims over a turn: the cascade's step, cut at its branches
(docs/solver-notes.md#gen-bs-turn-and-cascade-step-from-the-payers-pieces-session-24).

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

5. **the turn's branches** (term for term, :func:`turn_branches`): the first trader's turn with the
   cascade left out is the write-off on ``ite(triggered, ite(below, resolve alone, solvent close), book)``;
6. **the turn** (:func:`turn_lemma`): from the bound (the move the mark's, the trader, where a winner,
   at ``E − |s|·m`` at least its initial margin at the previous mark) and the instances of the resolve
   lemma, the solvent close's, 2's and the winner's (checked term for term against the one-trader
   book's), each branch's numbers generalized: the trader ends at or above 0, the bound is kept, a
   trader at or above 0 stays so, a winner's lots only shrink and its ``E − |s|·m`` does not fall.

7. **the loop** (:func:`loop_lemma`): the cascade after the first trader's resolve (that trader flat at
   or above 0) is, term for term, the iteration over the others once per other trader, each the free
   iteration's instance on the book it starts from; from 4 on each, each iteration's numbers
   generalized: the claims of 4;
8. **the turn with its cascade** (:func:`turn_lemma` with ``cascade``): 6 with the resolve's branch the
   loop after the resolve alone (``bankruptcy.resolve``'s last line), 7's instance on the resolve's book
   (term for term); the write-off after it finds the trader flat at or above 0;
9. **the sweep's turns** (:func:`sweep_lemma`): the three turns in book order, each the free turn's
   instance on the book it starts from (term for term), from 8's formula on each and the initial
   margin of fewer lots no more: from the bound with every winner at ``E − |s|·m ≥ IM(s)``, every
   trader ends at or above 0;
10. **the settlement's arithmetic** (:func:`start_lemma`): the settlement's claim per trader gives every
    trader's part of 9's premise.

The resolve lemma's instances for a branch other than the first trader's are ``side_payer``'s with that
trader the account acted on. ``solver.gen_b_payer`` asks every lemma here for each trader acted on,
on a free book of two traders (``side_payer.traders``), with the settlement's link, the step's other
phases and the route in ``prove`` (session 25)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

import solvent.rules.bankruptcy as bankruptcy
from solvent.rules.arith import abs_, ite
from solvent.rules.book import Book
from solvent.rules.engine import _close_solvent
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.solver import side_payer
from solvent.solver.bounds import Bounds
from solvent.solver.side_claims import balanced
from solvent.solver.side_payer import FREE, SIDES, _b, _bound, _same_book, _term, free_book
from solvent.solver.story import symbolic_book

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
    """2: the resolve (``side_payer.resolve_parts``' premise and charge fact) and the solvent close
    (``side_payer.solvent_close_parts``' premise) keep the fund at or above 0 and the book reachable."""
    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        name = book.traders[0].name if bankrupt is None else bankrupt
        premise, _, fact = side_payer.resolve_parts(policy, book, side, move, name)
        after = bankruptcy.resolve(policy, Ctx(book), name, alone=True).book
        for said, claim in keeps(policy, after):
            out.append(valid(f"the resolve of {name} ({label}): {said}", [*premise, fact], claim, exact=True))
        premise, _ = side_payer.solvent_close_parts(policy, book, side, move, name)
        premise.append(_b(book.market.mark_quote >= 1))  # the penalty, a share of the notional, not negative
        closed = _close_solvent(policy, Ctx(book), name).book
        for said, claim in keeps(policy, closed):
            out.append(valid(f"the solvent close of {name} ({label}): {said}", premise, claim, exact=True))
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


def _generalized(books: list[Book], tag: str) -> list[tuple[Any, Any]]:
    """Each book's non-constant numbers (:func:`_fields`) with a fresh variable ``<FREE><tag><k>.<j>``
    for each: a composition's query is asked with every branch's numbers free, so its validity for
    every value gives it for the engine's terms."""
    return [
        (t, z3.Int(f"{FREE}{tag}{k}.{j}"))
        for k, b in enumerate(books)
        for j, t in enumerate(_fields(b))
        if not z3.is_const(t)
    ]


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
        claim = _kept(policy, book, after, side, move)
        generalize = _generalized(books, "branch")
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


def turn_branches(policy: Policy, book: Book, name: str, cascade: bool = False) -> tuple[Any, Any, Book, Book, Book]:
    """5: ``name``'s turn with the cascade left out (``cascade_invariant.without_cascade``), cut at its
    branches, each checked term for term: the turn's book is the write-off (``bankruptcy.write_off``)
    on the book the trigger's branch leaves, which is ``ite(triggered, ite(below, resolve alone,
    solvent close), book)``; with ``cascade``, the turn itself, the resolve's branch the loop
    (``bankruptcy._cascade``) after the resolve alone. Returns (the trigger, the bankruptcy test, the
    resolve's book (the loop's with ``cascade``), the solvent close's, the turn's)."""
    from solvent.rules.engine import _close_solvent, _triggered, liquidate, liquidation_turn
    from solvent.solver.cascade_invariant import without_cascade

    alone = policy if cascade else without_cascade(policy)
    turn = liquidation_turn(alone, Ctx(book), name)
    triggered = _triggered(alone, Ctx(book), name)
    mid = Ctx(book).branch(triggered, lambda c: liquidate(alone, c, name))
    mid_book = mid.book
    written = bankruptcy.write_off(alone, mid, name).book
    if not _same_book(turn.book, written):
        raise ValueError(f"{name}'s turn is not the write-off after its trigger's branch")
    resolved = bankruptcy.resolve(policy, Ctx(book), name, alone=True)
    # with the cascade: the resolve alone, then the loop with the trader its chain (resolve's last line)
    resolved = bankruptcy._cascade(policy, resolved, (name,)).book if cascade else resolved.book
    closed = _close_solvent(alone, Ctx(book), name).book
    # the bankruptcy test ``_close_whole`` builds, read off the engine's own term (the trigger's branch
    # of the account's lots: ``If(triggered, If(below, resolved, closed), lots)``)
    lots = _term(mid_book.account(name).size_lots)
    if not (z3.is_app_of(lots, z3.Z3_OP_ITE) and z3.is_app_of(lots.arg(1), z3.Z3_OP_ITE)):
        raise ValueError(f"{name}'s liquidation does not branch on its bankruptcy")
    below = lots.arg(1).arg(0)
    if not _same_book(mid_book, ite(triggered, ite(below, resolved, closed), book)):
        raise ValueError(f"{name}'s liquidation is not a resolve alone below zero, else a solvent close")
    return triggered, below, resolved, closed, written


def turn_lemma(policy: Policy, valid: Valid, cascade: bool = False, acted: str | None = None) -> list[str]:
    """6: the first trader's turn without the cascade keeps the bound, from the instances of the
    resolve lemma, the solvent close's and the winner's (``side_payer``), each branch's numbers
    generalized: it ends at or above 0 (flat where it was liquidated), every other trader keeps the
    bound, a trader at or above 0 stays so, a winner's lots only shrink and its ``E − |s|·m`` does not
    fall. The move ``m`` is the mark's (``(previous − mark)·side``), at least 0; the first trader, where
    a winner, at ``E − |s|·m`` at least its initial margin at the previous mark (the winner's lemma's
    premise, which also asks ``m ≥ 1``: at ``m = 0``, where both sides' bounds are one, a trader on the
    winning side may be triggered at ``E = MM = 0`` and its close is the other side's solvent close
    lemma, read too)."""

    out = []
    for label, side in SIDES:
        book = free_book()
        name = book.traders[0].name if acted is None else acted
        x = book.account(name)
        mark = book.market.mark_quote
        move = _move()
        triggered, below, resolved, closed, written = turn_branches(policy, book, name, cascade)
        start = _turn_start(policy, book, side, move, name)
        looped = None
        if cascade:  # the resolve's book first, then the loop's from it (loop_lemma's instance)
            looped, resolved = resolved, bankruptcy.resolve(policy, Ctx(book), name, alone=True).book
        premise_w, claim_w = side_payer.winner_parts(policy, book, -side, name)
        one, _ = symbolic_book(Bounds(accounts=1, events=1))
        said_w, alone_w = side_payer.winner_parts(policy, one, -side)
        # the one-trader lemma's trader renamed to the acted one (its variables only)
        lone, here = one.traders[0], x
        renamed = [
            (_term(u), _term(v))
            for u, v in (
                (lone.size_lots, here.size_lots),
                (lone.cash_quote, here.cash_quote),
                (lone.cost_quote, here.cost_quote),
                (lone.principal_quote, here.principal_quote),
            )
            if not _term(u).eq(_term(v))
        ]
        proved_w = z3.Implies(z3.And(*said_w), alone_w)
        proved_w = z3.substitute(proved_w, *renamed) if renamed else proved_w
        if not z3.Implies(z3.And(*premise_w), claim_w).eq(proved_w):
            raise ValueError("the winner's fact on the turn's book is not the winner lemma's formula")
        premise_r, claims_r, _ = side_payer.resolve_parts(policy, book, side, move, name)
        premise_s, claims_s = side_payer.solvent_close_parts(policy, book, side, move, name)
        other_s, claims_o = side_payer.solvent_close_parts(policy, book, -side, move, name)
        facts = [
            z3.Implies(z3.And(*premise_r), z3.And(*(c for _, c in claims_r), *(c for _, c in keeps(policy, resolved)))),
            z3.Implies(z3.And(*premise_s), z3.And(*(c for _, c in claims_s))),
            z3.Implies(z3.And(*premise_s, _b(mark >= 1)), z3.And(*(c for _, c in keeps(policy, closed)))),
            # at m = 0 a trader on the winning side may be triggered (E = MM = 0): its solvent close is the
            # other side's lemma (both sides' bounds are one at m = 0)
            z3.Implies(z3.And(*other_s), z3.And(*(c for _, c in claims_o))),
            z3.Implies(z3.And(*other_s, _b(mark >= 1)), z3.And(*(c for _, c in keeps(policy, closed)))),
            # the winner's lemma (side_payer.winner_lemmas) on this trader, term for term: not triggered
            z3.Implies(z3.And(*premise_w), claim_w),
        ]
        branches_out = [resolved, closed]
        if looped is not None:
            facts.append(_loop_instance(policy, book, resolved, looped, side, move, name))
            branches_out.append(looped)
        after = written
        claim = [*_kept(policy, book, after, side, move), _b(after.account(name).cash_quote >= 0)]
        read = _turn_formula(policy, book, side, move, name)[0]
        if cascade and not z3.Implies(z3.And(*start), z3.And(*claim)).eq(read):
            raise ValueError("the turn's formula is not the one the sweep reads")
        generalize = _generalized(branches_out, "turn")
        asked = [z3.substitute(f, *generalize) for f in facts]
        whole = z3.substitute(z3.And(*claim), *generalize)
        out.append(
            valid(
                f"{name}'s turn {'with' if cascade else 'without'} the cascade ({label} losing): it ends at or above 0, "
                "the bound kept, a trader at or above 0 stays so, a winner's lots only shrink (from the resolve's, "
                f"the solvent close's{', the loop' if cascade else ''} and the winner's lemmas)",
                [*start, *asked],
                whole,
                exact=True,
            )
        )
    return out


def _kept(policy: Policy, before: Book, after: Book, side: int, move: Any) -> list[Any]:
    """The iteration's and the turn's claims of ``after`` from ``before``: the bound on ``after``, a
    trader at or above 0 stays so, a winner's lots only shrink (never past 0) and its ``E − |s|·m``
    does not fall, a flat trader is untouched, a loser's lots only shrink (never past 0)."""
    claim = list(invariant(policy, after, side, move))
    for a in before.traders:
        z = after.account(a.name)
        claim.append(z3.Implies(_b(a.cash_quote >= 0), _b(z.cash_quote >= 0)))
        lots, now = a.size_lots * side, z.size_lots * side
        shrink = z3.And(_b(now <= 0), _b(now >= lots), _b(z.cash_quote + now * move >= a.cash_quote + lots * move))
        claim.append(z3.Implies(_b(lots < 0), shrink))
        same = z3.And(_b(z.size_lots == a.size_lots), _b(z.cash_quote == a.cash_quote))
        claim.append(z3.Implies(_b(a.size_lots == 0), same))
        claim.append(z3.Implies(_b(lots > 0), z3.And(_b(now >= 0), _b(now <= lots))))
    return claim


def _pairs(free: Book, at: Book) -> list[tuple[Any, Any]]:
    """The substitution taking ``free``'s variables to ``at``'s terms (a lemma's instance on ``at``)."""
    out = []
    for a, b in zip(free.accounts, at.accounts, strict=True):
        for x, y in ((a.size_lots, b.size_lots), (a.cash_quote, b.cash_quote), (a.principal_quote, b.principal_quote)):
            x, y = _term(x), _term(y)
            if not x.eq(y):
                if not z3.is_const(x) or z3.is_int_value(x):
                    raise ValueError("the lemma's book is not free where the instance's differs")
                out.append((x, y))
    return out


def loop_lemma(policy: Policy, valid: Valid, chain: str | None = None) -> list[str]:
    """7: the cascade's loop after the first trader's resolve (``bankruptcy._cascade`` with that trader
    the chain: one iteration per other trader), from the bound with that trader flat at or above 0: its
    book is, term for term, the iteration over the others applied once per other trader, each
    iteration's book the instance of the iteration built on the free book (its variables taken to the
    book it starts from); with :func:`iteration_lemma` (over the others) as the fact on each, each
    iteration's numbers generalized: the bound kept, a trader at or above 0 stays so, a winner's lots
    only shrink and its ``E − |s|·m`` does not fall."""
    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        chain = book.traders[0].name if chain is None else chain
        others = [a.name for a in book.traders if a.name != chain]
        after = bankruptcy._cascade(policy, Ctx(book), (chain,)).book
        # the iteration on the free book, and its claim (proved by iteration_lemma over the others)
        one = branches(policy, book, others)[2]  # the book iteration_lemma(names=others) speaks of
        fact = z3.Implies(z3.And(*invariant(policy, book, side, move)), z3.And(*_kept(policy, book, one, side, move)))
        books, facts, at = [], [], book
        for _ in others:
            pairs = _pairs(book, at)
            nxt = bankruptcy._first_below(policy, Ctx(at), bankruptcy.sunk(policy, Ctx(at), others), ())[0].book
            for x, y in zip(one.accounts, nxt.accounts, strict=True):
                for u, v in ((x.size_lots, y.size_lots), (x.cash_quote, y.cash_quote)):
                    got = z3.substitute(_term(u), *pairs) if pairs else _term(u)
                    if not got.eq(_term(v)):
                        raise ValueError("an iteration of the loop is not the free iteration's instance")
            facts.append(z3.substitute(fact, *pairs) if pairs else fact)
            books.append(nxt)
            at = nxt
        if not _same_book(after, at):
            raise ValueError("the cascade's loop is not one iteration per trader outside its chain")
        generalize = _generalized(books, "loop")
        x = book.account(chain)
        start = [*invariant(policy, book, side, move), _b(x.size_lots == 0), _b(x.cash_quote >= 0)]
        claim = z3.And(*_kept(policy, book, after, side, move))
        out.append(
            valid(
                f"the cascade's loop after {chain}'s resolve ({label} losing): the bound kept, a trader at or above 0 "
                "stays so, a winner's lots only shrink (from the iteration's lemma on each iteration)",
                [*start, *(z3.substitute(f, *generalize) for f in facts)],
                z3.substitute(claim, *generalize),
                exact=True,
            )
        )
    return out


def _loop_instance(
    policy: Policy, book: Book, at: Book, looped: Book, side: int, move: Any, chain: str | None = None
) -> Any:
    """:func:`loop_lemma`'s formula (the free book's loop after ``chain``'s resolve, default its first
    trader's) instantiated on ``at`` (its variables taken to ``at``'s terms), checked term for term to
    build ``looped``."""
    chain = book.traders[0].name if chain is None else chain
    free = bankruptcy._cascade(policy, Ctx(book), (chain,)).book
    x = book.account(chain)
    start = [*invariant(policy, book, side, move), _b(x.size_lots == 0), _b(x.cash_quote >= 0)]
    formula = z3.Implies(z3.And(*start), z3.And(*_kept(policy, book, free, side, move)))
    pairs = _pairs(book, at)
    for a, b in zip(free.accounts, looped.accounts, strict=True):
        for u, v in ((a.size_lots, b.size_lots), (a.cash_quote, b.cash_quote)):
            if not z3.substitute(_term(u), *pairs).eq(_term(v)):
                raise ValueError("the turn's loop is not the loop lemma's instance on the resolve's book")
    return z3.substitute(formula, *pairs)


def _turn_formula(policy: Policy, book: Book, side: int, move: Any, name: str) -> tuple[Any, Book]:
    """:func:`turn_lemma`'s (with the cascade) formula for ``name`` acted on, its facts discharged
    (each an instance of a proved lemma): its premise implies its claim; and the turn's book."""
    from solvent.rules.engine import liquidation_turn

    after = liquidation_turn(policy, Ctx(book), name).book
    start = _turn_start(policy, book, side, move, name)
    claim = [*_kept(policy, book, after, side, move), _b(after.account(name).cash_quote >= 0)]
    return z3.Implies(z3.And(*start), z3.And(*claim)), after


def _turn_bound(policy: Policy, book: Book, side: int, move: Any) -> list[Any]:
    """:func:`_turn_start` without the acted trader's floor: the bound, the move the mark's, both marks at
    least 1 (reads no floor: :func:`maintenance_lemmas` hold at every margin of the bound)."""
    mark, previous = book.market.mark_quote, book.market.previous_mark_quote
    start = invariant(policy, book, side, move)
    return [*start, _b(move == (previous - mark) * side), _b(previous >= 1), _b(mark >= 1)]


def _turn_start(policy: Policy, book: Book, side: int, move: Any, name: str) -> list[Any]:
    """:func:`turn_lemma`'s premise: the bound, the move the mark's (it fell where longs lose, side 1,
    rose where shorts do), both marks at least 1, and ``name``, where a winner, at ``E − |s|·m`` at
    least its initial margin at the previous mark."""
    x = book.account(name)
    previous = book.market.previous_mark_quote
    start = _turn_bound(policy, book, side, move)
    im = side_payer.floor(policy, x.size_lots, previous)
    winner = _b(x.size_lots * side < 0)
    start.append(z3.Implies(winner, _b(x.cash_quote - abs_(x.size_lots) * move >= im)))
    return start


def sweep_lemma(policy: Policy, valid: Valid) -> list[str]:
    """9: the sweep's turns in book order (``engine.liquidation_turn`` for each trader, as
    ``engine.sweep`` runs them after ``before_turns``) on a free book of three traders, from the bound
    with every winner at ``E − |s|·m`` at least its initial margin at the previous mark: every trader ends
    at or above 0 (no-negative-equity over the traders). Each turn's book is, term for term, the free
    turn's instance on the book it starts from; :func:`turn_lemma`'s formula (with the cascade, that
    trader acted on) is the fact on each, and ``side_payer.winner_lemmas``' second lemma (the initial
    margin of fewer lots no more) on each winner's lots after each turn; each turn's numbers
    generalized."""
    from solvent.rules.engine import liquidation_turn

    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        previous = book.market.previous_mark_quote
        names = [a.name for a in book.traders]
        formulas = {n: _turn_formula(policy, book, side, move, n) for n in names}
        at, books, facts = book, [], []
        for n in names:
            pairs = _pairs(book, at)
            formula, free_after = formulas[n]
            nxt = liquidation_turn(policy, Ctx(at), n).book
            for u, v in zip(free_after.accounts, nxt.accounts, strict=True):
                for p, q in ((u.size_lots, v.size_lots), (u.cash_quote, v.cash_quote)):
                    got = z3.substitute(_term(p), *pairs) if pairs else _term(p)
                    if not got.eq(_term(q)):
                        raise ValueError(f"{n}'s turn in the sweep is not the turn lemma's instance")
            facts.append(z3.substitute(formula, *pairs) if pairs else formula)
            books.append(nxt)
            at = nxt
        # the initial margin of fewer lots on the same side no more (winner_lemmas' second), each
        # trader's lots after each turn against its lots at the start
        for a in book.traders:
            im = side_payer.floor(policy, a.size_lots, previous)
            for b in books:
                fewer = b.account(a.name).size_lots
                smaller = side_payer.floor(policy, fewer, previous)
                w = -side  # the winners' side
                facts.append(
                    z3.Implies(
                        z3.And(_b(previous >= 1), _b(fewer * w >= 0), _b(fewer * w <= a.size_lots * w)),
                        _b(smaller <= im),
                    )
                )
        generalize = _generalized(books, "sweep")
        start = _sweep_start(policy, book, side, move)
        claim = z3.And(*(_b(at.account(n).cash_quote >= 0) for n in names))
        out.append(
            valid(
                f"the sweep's turns in book order ({label} losing): every trader ends at or above 0 (from the turn "
                "lemma on each turn)",
                [*start, *(z3.substitute(f, *generalize) for f in facts)],
                z3.substitute(claim, *generalize),
                exact=True,
            )
        )
    return out


def _untriggered_loser(policy: Policy, book: Book, name: str, side: int) -> list[Any]:
    """:func:`maintenance_lemmas`' second premise: ``name`` on the losing side, not triggered at the mark."""
    from solvent.rules.engine import _triggered

    return [_losing(book, name, side), z3.Not(_b(_triggered(policy, Ctx(book), name)))]


def maintenance_lemmas(policy: Policy, valid: Valid, turn_policy: Policy | None = None) -> list[str]:
    """10: the premise over moves, what a turn leaves of "not liquidatable" (``engine._triggered`` at the new
    mark, the engine's own test), on the free book with the cascade, from :func:`_turn_bound` (the bound, no
    floor: the lemmas serve every margin of the bound): :func:`own_turn_lemma` and :func:`loser_kept_lemma`. A winner's part is
    :func:`sweep_lemma`'s (its floor kept through every turn) with ``side_payer.winner_lemmas``' first (a
    winner at its floor is not triggered)."""
    return own_turn_lemma(policy, valid, turn_policy) + loser_kept_lemma(policy, valid)


def own_turn_lemma(policy: Policy, valid: Valid, turn_policy: Policy | None = None) -> list[str]:
    """10a: the acted trader is not triggered after its own turn (closed whole at or below maintenance, or
    above it). ``turn_policy`` builds the turn with another policy (the mutants' hook; the claim reads
    ``policy``)."""
    from solvent.rules.engine import _triggered, liquidation_turn

    turn_policy = policy if turn_policy is None else turn_policy
    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        name = book.traders[0].name
        after = liquidation_turn(turn_policy, Ctx(book), name).book
        out.append(
            valid(
                f"{name}'s own turn with the cascade ({label} losing): not triggered after it at the new mark",
                _turn_bound(policy, book, side, move),
                z3.Not(_b(_triggered(policy, Ctx(after), name))),
                exact=True,
            )
        )
    return out


def loser_kept_lemma(policy: Policy, valid: Valid) -> list[str]:
    """10b: a trader on the losing side not triggered before another trader's turn is not triggered after
    it (the turn charges the other side; the cascade closes a loser whole)."""
    from solvent.rules.engine import _triggered, liquidation_turn

    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        name, other = book.traders[0].name, book.traders[1].name
        after = liquidation_turn(policy, Ctx(book), name).book
        start = _turn_bound(policy, book, side, move)
        out.append(
            valid(
                f"{other}, on the losing side and not triggered, through {name}'s turn with the cascade ({label} "
                "losing): not triggered after it",
                [*start, *_untriggered_loser(policy, book, other, side)],
                z3.Not(_b(_triggered(policy, Ctx(after), other))),
                exact=True,
            )
        )
    return out


def _sweep_start(policy: Policy, book: Book, side: int, move: Any) -> list[Any]:
    """:func:`sweep_lemma`'s premise: the bound, the move the mark's, both marks at least 1, every winner
    at ``E − |s|·m`` at least its initial margin at the previous mark."""
    previous = book.market.previous_mark_quote
    mark = book.market.mark_quote
    start = invariant(policy, book, side, move)
    start += [_b(move == (previous - mark) * side), _b(previous >= 1), _b(mark >= 1)]
    for a in book.traders:
        im = side_payer.floor(policy, a.size_lots, previous)
        start.append(
            z3.Implies(
                _b(a.size_lots * side < 0),
                _b(a.cash_quote - abs_(a.size_lots) * move >= im),
            )
        )
    return start


def start_lemma(policy: Policy, valid: Valid) -> list[str]:
    """10 (the settlement's arithmetic half): ``side_payer.settle_lemmas``' claim for every trader
    (``E − s·d`` at least its initial margin at the previous mark, ``d`` the new mark less the previous),
    both marks at least 1 and ``m = (previous − mark)·side ≥ 0``, give every trader's part of
    :func:`sweep_lemma`'s premise: a loser at ``E ≥ −|s|·m``, a winner at ``E ≥ |s|·m`` and
    ``E − |s|·m ≥ IM(s)``, a flat trader at or above 0 (the initial margin is at least 0). The book's
    part (reachable, the fund at or above 0) is Gen B's fund claim and ``side_claims.balanced``; the
    instance of the settlement's claim on the step's book (its ``before_turns``) is ``solver.gen_b_payer``'s."""
    move, out = _move(), []
    for label, side in SIDES:
        book = free_book()
        premise, claim = start_parts(policy, book, side, move)
        whole = _sweep_start(policy, book, side, move)
        if not all(any(c.eq(p) for p in whole) for c in claim):
            raise ValueError("a trader's part of the sweep's premise is not among its conjuncts")
        out.append(
            valid(
                f"the settlement's claim gives every trader's part of the sweep's premise ({label} losing)",
                premise,
                z3.And(*claim),
                exact=True,
            )
        )
    return out


def start_parts(policy: Policy, book: Book, side: int, move: Any) -> tuple[list[Any], list[Any]]:
    """:func:`start_lemma`'s premise and claims on ``book`` for ``side`` (``move`` its free ``m``)."""
    mark, previous = book.market.mark_quote, book.market.previous_mark_quote
    premise = [_b(previous >= 1), _b(mark >= 1), _b(move == (previous - mark) * side), _b(move >= 0)]
    claim = []
    for a in book.traders:
        im = side_payer.floor(policy, a.size_lots, previous)
        premise.append(_b(a.cash_quote - a.size_lots * (mark - previous) >= im))
        lots = a.size_lots * side
        claim += [
            z3.Implies(_b(lots > 0), _b(a.cash_quote >= -lots * move)),
            z3.Implies(_b(lots < 0), _b(a.cash_quote + lots * move >= 0)),
            z3.Implies(_b(a.size_lots == 0), _b(a.cash_quote >= 0)),
            z3.Implies(_b(lots < 0), _b(a.cash_quote - abs_(a.size_lots) * move >= im)),
        ]
    return premise, claim
