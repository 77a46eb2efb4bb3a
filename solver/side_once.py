"""Each account's waterfall reached at most once a step on percolator Gen B, by the sweep's turns.

``deficit-charged-once`` and ``waterfall-order`` are proved per call of the waterfall
(``solver.side_deficit``, ``solver.waterfall_claims``); what carries a call's claim to the step is
that each account is resolved at most once a step. Asked of the whole step at three traders, z3 does
not decide it on Gen B (session 21: 2M units a pair undecided, 51.9M spent on the 30 pairs): Gen B
closes a bankrupt or liquidated position against the opposing side pro rata
(``side_index.close_against_side``), and that the bankrupt account ends flat rests on
``Σ ⌊wᵢ·q/OI⌋ ≤ q``, a sum of quotients z3 does not see through inside the step's terms.

The reason is structural: a resolve leaves its account flat, the trigger and the cascade's test ask
for a position, and no close of another account gives a flat account one. Argued by the sweep's
turns (``rules.engine.liquidation_turn``), each lemma on the engine's own functions from a free book
of :data:`STEP_TRADERS` traders, exact:

1. **The close** (``side_index.close_against_side``, every number free): closing ``q = |s|`` lots of
   an account leaves it flat, and every trader flat before it is flat after.
2. **A turn** of each trader ``T``, for each account ``X`` (the turn's own build, the close's
   instances on the books each of its closes started from given as premises: each is lemma 1 on
   that book, so true):
   a. ``X``'s records in the turn are pairwise exclusive (one call of the waterfall a turn);
   b. where any record of ``X`` in the turn holds, ``X`` is flat at the turn's end;
   c. where ``X`` is flat at the turn's start, no record of ``X`` holds but its write-off's (the
      turn's own trader's, below), and it is flat at the end.
3. **The step** (the engine's ``transition`` at :data:`STEP_TRADERS` traders, every event variant
   of the bounded kinds, checked on its build, no solver): every record of the step is made inside
   one of the sweep's turns, each turn starts from the book the turn before it left, and each turn
   builds the very records and sizes (term for term) that the turn run alone from that book builds,
   so lemma 2 on a free book speaks of it.

4. **The write-off** (percolator's §7.3, ``bankruptcy.write_off_turn``, session 23): each turn ends
   with its own trader's write-off, a flat account's one resolution, made only where the step has no
   ``Bankrupt`` record of it so far. On the step's build (as 3): one a turn, its own trader's, one
   call; and (z3, exact, on the step's own terms at :data:`STEP_TRADERS` traders) each write-off
   record of ``X`` and any record of ``X`` made before it never both hold.

So a record of ``X`` in turn ``i`` leaves ``X`` flat (2b), flat at the start of every later turn
(2c), where no record of ``X`` holds but a write-off's, which 4 excludes: with 2a, ``X``'s records in a
step are pairwise exclusive.
The records are ``Bankrupt`` outcomes (``deficit-charged-once``) or the runs of ``LayerUsed``
records (``waterfall-order``, as ``waterfall_claims.one_call_a_step`` groups them).

docs/solver-notes.md#percolator-gen-bs-remaining-cells-session-22.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import z3

import solvent.rules.bankruptcy as bankruptcy
import solvent.rules.engine as engine
from solvent.rules import side_index
from solvent.rules.arith import abs_, or_
from solvent.rules.book import Book
from solvent.rules.engine import transition
from solvent.rules.ledger import Ctx, Guarded
from solvent.rules.outcomes import Bankrupt, LayerUsed
from solvent.rules.policy import Policy
from solvent.solver import payer_facts, waterfall_claims
from solvent.solver.bounds import Bounds
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import QueryStats

#: traders of the free book the lemmas and the step are asked on (as ``deficit_once.STEP_TRADERS``)
STEP_TRADERS = 3
#: the prefix of the turn lemmas' free flags (a trader resolved before its turn)
FREE = "sonce."
#: what the all-N verdicts say of the step (``Scope.assumes``' first part)
SAID = (
    "each account's waterfall reached at most once a step (checked on the step at three traders by its "
    "turns: a resolve leaves its account flat, a flat account is neither triggered nor in the cascade, "
    "and no close of another account gives it a position; the write-off of a flat account below zero at "
    "the end of its turn, its one resolution, is made only where none was made before it)"
)

Valid = Callable[..., str]
#: a turn's records, grouped: ``(account, guard)`` for each call's records (:func:`bankrupts`, :func:`runs`)
Groups = Callable[[Sequence[Any]], list[tuple[str, Any]]]


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def bankrupts(outcomes: Sequence[Any]) -> list[tuple[str, Any]]:
    """Each ``Bankrupt`` outcome: its account and guard (one a call of the waterfall)."""
    return [(g.item.account, _b(g.guard)) for g in outcomes if isinstance(g.item, Bankrupt)]


def runs(outcomes: Sequence[Any]) -> list[tuple[str, Any]]:
    """Each account's ``LayerUsed`` records split into runs of increasing layer index, one run a
    call (``waterfall_claims.call_runs``, as ``one_call_a_step`` groups them): its account and the
    run's guard."""
    records = [g for g in outcomes if isinstance(g.item, LayerUsed)]
    grouped = waterfall_claims.call_runs(records)
    return [(account, _b(or_(*(g.guard for g in run)))) for account, found in grouped.items() for run in found]


@contextmanager
def closes_recorded() -> Iterator[list[tuple[Book, str, Any, Book]]]:
    """Within the block, each call of ``side_index.close_against_side`` the engine makes (a
    bankrupt position's close, a solvent liquidation's) is appended to the list yielded as
    ``(book before, account, lots, book after)``; the engine's own function is called as before."""
    seen: list[tuple[Book, str, Any, Book]] = []
    close = side_index.close_against_side

    def recorded(ctx: Ctx, name: str, lots: Any, price: Any) -> Ctx:
        before = ctx.book
        out = close(ctx, name, lots, price)
        seen.append((before, name, lots, out.book))
        return out

    patched = [m for m in (bankruptcy, engine) if getattr(m, "close_against_side", None) is close]
    for m in patched:
        m.close_against_side = recorded  # type: ignore[attr-defined]
    try:
        yield seen
    finally:
        for m in patched:
            m.close_against_side = close  # type: ignore[attr-defined]


def _flat(book: Book, name: str) -> Any:
    return _b(book.account(name).size_lots == 0)


def close_facts(book: Book, name: str) -> Any:
    """Lemma 1's claim on ``book`` for ``name``: its ``q = |s|`` lots closed against the opposing side
    at any price leave it flat, and every trader flat before is flat after (the order book takes
    what the traders do not: it is not a trader). The traders' conjuncts in turn order (``name``
    first, the others in book order), so that a later trader's claim is the first's with the
    accounts renamed (``payer_facts.in_turn_order``), the same z3 term."""
    price = z3.Int("close.price")
    out = side_index.close_against_side(Ctx(book), name, abs_(book.account(name).size_lots), price)
    order = [name, *(a.name for a in book.traders if a.name != name)]
    kept = [z3.Implies(_flat(book, a), _flat(out.book, a)) for a in order]
    return z3.And(_flat(out.book, name), *kept)


#: said of a close lemma that is the first trader's with the accounts renamed (no query asked)
RENAMED = "an instance of {first}'s, the accounts renamed in book order (the same z3 term): no query"


def _renamed(valid: Valid, name: str, first: str) -> str:
    """Lemma 1 for a later trader proved by renaming the first's (a substitution of variables into a
    valid formula: valid): listed among the argument's queries with no units, where ``valid`` is a
    checker's (``compositional._Checker.valid``: its ``queries``), and its name returned as a proved
    lemma's is (docs/solver-notes.md#a-turn-lemma-proved-once-for-every-trader)."""
    queries = getattr(getattr(valid, "__self__", None), "queries", None)
    if isinstance(queries, list):
        queries.append(QueryStats(name, RENAMED.format(first=first), 0.0))
    return name


def instances(calls: Sequence[tuple[Book, str, Any, Book]]) -> list[Any]:
    """Lemma 1 on each recorded close's own books: true, so a premise of a turn's lemmas (a close of
    an account lemma 1 was not asked of, not a trader, gives none)."""
    out = []
    for before, name, lots, after in calls:
        if name not in {a.name for a in before.traders}:
            continue
        out.append(z3.Implies(_b(lots == abs_(before.account(name).size_lots)), _flat(after, name)))
        out += [z3.Implies(_flat(before, a.name), _flat(after, a.name)) for a in before.traders]
    return out


def turn_lemmas(policy: Policy, bounds: Bounds, groups: Groups, valid: Valid, what: str) -> list[str]:
    """Lemmas 1 and 2 (see the module) on a free book of :data:`STEP_TRADERS` traders."""
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=STEP_TRADERS, events=1))
    names = [a.name for a in book.traders]
    lemmas = []
    first = close_facts(book, names[0])
    for name in names:
        said = (
            f"the close of {name}'s position against the opposing side (side_index.close_against_side), every "
            "number free, at any price: its |s| lots leave it flat, and every flat trader stays flat"
        )
        claim = close_facts(book, name)
        if name != names[0] and payer_facts.renamed(first, payer_facts.in_turn_order(names, name)).eq(claim):
            lemmas.append(_renamed(valid, said, names[0]))  # the first's, renamed: no query
        else:
            lemmas.append(valid(said, [], claim, exact=True))
    for turn in names:
        # the step's records of the turn's trader before it, as its write-off reads them: one free flag
        before = (Guarded(z3.Bool(f"{FREE}{turn}.resolved_before"), Bankrupt(turn, 0)),)
        with closes_recorded() as calls, write_offs_recorded() as offs:
            out = engine.liquidation_turn(policy, Ctx(book, outcomes=before), turn)
        facts = instances(calls)
        found = groups(out.outcomes[len(before) :])
        off = _ids(off for _, _, _, added in offs for off in groups(added))
        for name in names:
            mine = [g for account, g in found if account == name]
            swept = [g for g in mine if _b(g).get_id() not in off]
            if len(mine) > 1:
                apart = z3.And(*(z3.Not(z3.And(x, y)) for x, y in itertools.combinations(mine, 2)))
                lemmas.append(valid(f"{turn}'s turn: {name}'s {what} pairwise exclusive", [], apart, exact=True))
            if mine:
                flat = z3.Implies(z3.Or(*mine), _flat(out.book, name))
                lemmas.append(valid(f"{turn}'s turn: {name}'s {what} leave it flat", facts, flat, exact=True))
            kept = z3.And(*(z3.Not(g) for g in swept), _flat(out.book, name))
            but = " but its write-off's" if len(swept) < len(mine) else ""
            lemmas.append(
                valid(
                    f"{turn}'s turn from {name} flat: no {what} of {name}{but}, and it stays flat",
                    [*facts, _flat(book, name)],
                    kept,
                    exact=True,
                )
            )
    return lemmas


def _bankrupt_of(outcomes: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    """Of a step's outcomes, ``name``'s ``Bankrupt`` records (what its write-off reads), in order."""
    return tuple(g for g in outcomes if isinstance(g.item, Bankrupt) and g.item.account == name)


def _ids(found: Any) -> set[int]:
    """The z3 term ids of ``found``'s guards (``(account, guard)`` pairs)."""
    return {_b(guard).get_id() for _, guard in found}


@contextmanager
def turns_recorded() -> Iterator[list[tuple[str, Book, Book, tuple[Any, ...], tuple[Any, ...]]]]:
    """Within the block, each call of the engine's ``liquidation_turn`` is appended to the list
    yielded as ``(its trader, book it started from, book it left, outcomes it added, the step's
    outcomes before it)``."""
    seen: list[tuple[str, Book, Book, tuple[Any, ...], tuple[Any, ...]]] = []
    turn = engine.liquidation_turn

    def recorded(policy: Policy, ctx: Ctx, name: str) -> Ctx:
        before, prior = ctx.book, ctx.outcomes
        out = turn(policy, ctx, name)
        seen.append((name, before, out.book, out.outcomes[len(prior) :], prior))
        return out

    engine.liquidation_turn = recorded  # type: ignore[assignment]
    try:
        yield seen
    finally:
        engine.liquidation_turn = turn  # type: ignore[assignment]


@contextmanager
def write_offs_recorded() -> Iterator[list[tuple[str, Book, Book, tuple[Any, ...]]]]:
    """Within the block, each call of the engine's ``bankruptcy.write_off_turn`` is appended to the
    list yielded as ``(its trader, book it started from, book it left, outcomes it added)``."""
    seen: list[tuple[str, Book, Book, tuple[Any, ...]]] = []
    turn = bankruptcy.write_off_turn

    def recorded(policy: Policy, ctx: Ctx, name: str) -> Ctx:
        before, count = ctx.book, len(ctx.outcomes)
        out = turn(policy, ctx, name)
        seen.append((name, before, out.book, out.outcomes[count:]))
        return out

    bankruptcy.write_off_turn = recorded  # type: ignore[assignment]
    try:
        yield seen
    finally:
        bankruptcy.write_off_turn = turn  # type: ignore[assignment]


def _write_offs_checked(
    label: str,
    turns: list[tuple[str, Book, Book, tuple[Any, ...], tuple[Any, ...]]],
    offs: list[tuple[str, Book, Book, tuple[Any, ...]]],
    outcomes: tuple[Any, ...],
    groups: Groups,
    fail: Callable[[str], None],
    apart: list[tuple[str, Any, Any]] | None,
) -> None:
    """Lemma 4's build part on one step (see the module): one write-off a turn, its own trader's, at
    most one call; and where ``apart`` is given, for each write-off record of an account, the
    disjunction of that account's records made before it in the step (lemma 4's question)."""
    if len(offs) != len(turns) or any(o[0] != t[0] for o, t in zip(offs, turns, strict=False)):
        fail(f"the step ({label}): the write-offs are not one a turn, each its own trader's")
    for name, _start, _end, added in offs:
        found = groups(added)
        if any(account != name for account, _ in found) or len(found) > 1:
            fail(f"the step ({label}): {name}'s write-off records another call than its own one")
        if apart is None or not found or not added:
            continue
        first = next(k for k, g in enumerate(outcomes) if g is added[0])
        earlier = [g for account, g in groups(outcomes[:first]) if account == name]
        if earlier:
            apart.append((f"{label}: {name}", z3.Or(*earlier), found[0][1]))


def step_check(
    policy: Policy,
    bounds: Bounds,
    groups: Groups,
    fail: Callable[[str], None],
    what: str,
    apart: list[tuple[str, Any, Any]] | None = None,
) -> str:
    """Lemma 3 (see the module): on the engine's step at :data:`STEP_TRADERS` traders, every event
    variant of the bounded kinds, each of ``groups``' records is made inside one of the sweep's
    turns, and each turn starts from the book the turn before it left (no solver); the write-offs
    one a turn, each its own trader's one call (lemma 4's build part). ``apart``, where given,
    receives for each variant and write-off record ``(what, the disjunction of its account's records
    made before it, its guard)``: lemma 4's question (:func:`write_off_lemmas`)."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    for slot in slots(book, one):
        for variant in slot.variants:
            with turns_recorded() as turns, write_offs_recorded() as offs:
                ctx = transition(policy, book, variant.event)
            made: list[Any] = []
            for k, (name, start, end, added, prior) in enumerate(turns):
                if k and start is not turns[k - 1][2]:
                    fail(f"the step ({variant.label}): a turn does not start from the book the turn before it left")
                # the turn is the lemmas' turn on the book it started from: the same records and sizes, term
                # for term, as the turn run alone from that book and the step's records before it (it reads
                # nothing of the step but the book and, for its write-off, its trader's Bankrupt records:
                # the lemmas' turn reads those as one free flag, "resolved before", of which they are a value)
                read = _bankrupt_of(prior, name)
                alone = engine.liquidation_turn(policy, Ctx(start, outcomes=read), name)
                if _by_account(groups(alone.outcomes[len(read) :])) != _by_account(groups(added)) or any(
                    not _same(alone.book.account(a.name).size_lots, end.account(a.name).size_lots)
                    for a in start.traders
                ):
                    fail(
                        f"the step ({variant.label}): {name}'s turn is not its turn alone from the book it started from"
                    )
                made += groups(added)
            if _by_account(groups(ctx.outcomes)) != _by_account(made):
                fail(f"the step ({variant.label}): a {what.rstrip('s')} is made outside the sweep's turns")
            _write_offs_checked(variant.label, turns, offs, ctx.outcomes, groups, fail, apart)
    return (
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders, the engine's transition): every "
        f"{what.rstrip('s')} is made in a sweep's turn, each turn from the book the turn before left; a write-off "
        "ends each turn, its own trader's one call"
    )


def _same(x: Any, y: Any) -> bool:
    """Whether two numbers are the same term (or the same int)."""
    return x.eq(y) if z3.is_expr(x) and z3.is_expr(y) else (not z3.is_expr(x) and not z3.is_expr(y) and x == y)


def _by_account(found: list[tuple[str, Any]]) -> dict[str, list[int]]:
    """Each account's guards, in order, as z3's term ids (one term, one id)."""
    out: dict[str, list[int]] = {}
    for account, guard in found:
        out.setdefault(account, []).append(_b(guard).get_id())
    return out


def write_off_lemmas(apart: list[tuple[str, Any, Any]], valid: Valid, what: str) -> list[str]:
    """Lemma 4's question (see the module) on each of :func:`step_check`'s pairs: an account's sweep
    records and its write-off record never both hold (the write-off's test reads the step's
    ``Bankrupt`` records of it), exact, on the step's own terms."""
    return [
        valid(
            f"the step ({label})'s write-off: none of its {what} before it and its write-off both hold",
            [],
            z3.Not(z3.And(swept, _b(off))),
            exact=True,
        )
        for label, swept, off in apart
    ]


def at_most_once(
    policy: Policy, bounds: Bounds, groups: Groups, valid: Valid, fail: Callable[[str], None], what: str
) -> list[str]:
    """The module's argument: each account's ``groups`` records pairwise exclusive in a step."""
    apart: list[tuple[str, Any, Any]] = []
    lemmas = [step_check(policy, bounds, groups, fail, what, apart)]
    lemmas += write_off_lemmas(apart, valid, what)
    lemmas += turn_lemmas(policy, bounds, groups, valid, what)
    lemmas.append(
        f"so each account's {what} in a step are pairwise exclusive: one in turn i leaves it flat, flat at every "
        "later turn's start, where it has none but its write-off's, which is made only where none was made before"
    )
    return lemmas


__all__ = [
    "SAID",
    "STEP_TRADERS",
    "at_most_once",
    "bankrupts",
    "close_facts",
    "closes_recorded",
    "instances",
    "runs",
    "step_check",
    "turn_lemmas",
    "turns_recorded",
    "write_off_lemmas",
    "write_offs_recorded",
]
