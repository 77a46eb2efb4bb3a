"""Percolator Gen B's payer lemma: a trader opposite a bankrupt one pays only for the lots it gives up,
and at most the move on each lot (docs/solver-notes.md#gen-bs-payer-lemma-per-lot-session-24).

Gen B closes a bankrupt position of ``q = |s|`` lots against the opposing side (``side_index.lots_taken``:
each holder gives up ``t_i`` lots, the exact split of ``q`` by its lots) and charges the deficit ``D``
the fund left by those lots (``side_index.charge_per_lot``, ``k_up``): ``ΔK = ⌈D·SCALE/OI⌉`` over the
lots taken (``OI = Σ t_i``, at least ``q``), each holder ``⌈t_i·ΔK/SCALE⌉``. Where the bankrupt
account's deficit is at most ``m`` a lot (``D ≤ q·m``: an account at or above zero before a move of
``m`` a lot, its lots kept), each trader pays at most ``m·t_i``. Asked of the engine's own build on a
free book of :data:`STEP_TRADERS` traders and the order book, every number free (``D`` and ``m`` too),
each lemma exact; z3 does not decide the claim whole (unknown within 30M units: ``t_i·ΔK`` and the two
quotients), so it is cut at the engine's own ``ΔK`` term (the first quotient ``charge_k_up`` builds,
recorded as the engine builds it, :func:`delta_k_recorded`):

1. **the lots taken** (``lots_taken``): each trader's ``t_i`` is at least 0 (and at most its opposing
   lots where the open interest covers ``q``);
2. **the charge per lot** (``charge_per_lot``): from ``0 ≤ D ≤ q·m``, the engine's ``ΔK ≤ m·SCALE``;
3. **a payer's share**: each trader's charge, the engine's term with its ``t_i`` and ``ΔK`` as free
   numbers (``t ≥ 0``, ``k ≤ m·SCALE``), is at most ``m·t``.

3 is valid for every ``t`` and ``k``, so for the engine's own terms, which 1 and 2 put within its
premises (asked last, from their instances: each trader's charge is at most ``m`` times the lots it
gives up, and a trader that gives up none pays nothing).

4. **The resolve** (``bankruptcy.resolve(alone=True)``: the cascade's call, and the turn's own before
   its cascade), each side of the bankrupt position (:data:`SIDES`), from a reachable book
   (``side_claims.balanced``, the fund at or above 0), ``m ≥ 0``, every loser (the
   bankrupt account too) at ``E ≥ −|s|·m``, every winner at ``E ≥ |s|·m``, every flat trader at or
   above 0, and the claim of 1-3 on the charge the resolve makes (an instance of the proved formula,
   checked term for term): the bankrupt account ends flat at or above 0, a winner's lots only shrink
   and its ``E − |s|·m`` does not fall, every account on the bankrupt side or flat is untouched.

That is the per-call half of the payer argument for Gen B's four payer claims (no-negative-equity,
loss-bounded-by-collateral, principal-protected, claims-backed); ``solver.gen_b_turn`` composes the
sweep from it and ``solver.gen_b_payer`` asks the whole on ``prove``'s path (session 25: the first two
claims), on a free book of two traders (:func:`traders`; the module's default is three).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import attrs
import z3

import solvent.rules.bankruptcy as bankruptcy
import solvent.rules.margin as margin_rules
import solvent.rules.side_index as side_index
import solvent.rules.socialized_loss as socialized_loss
from solvent.rules.arith import abs_, sum_
from solvent.rules.book import Book
from solvent.rules.engine import _close_solvent, _triggered
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.side_index import SCALE
from solvent.solver.bounds import Bounds
from solvent.solver.side_claims import balanced
from solvent.solver.story import symbolic_book

#: traders of the free book the lemmas are asked on (the bankrupt account is the first)
STEP_TRADERS = 3
#: the free numbers' prefix
FREE = "spayer."

Valid = Callable[..., str]


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _term(x: Any) -> Any:
    return x if isinstance(x, z3.ExprRef) else z3.IntVal(x)


#: each ``k_up`` charge's ``ΔK`` recorded as the engine builds it (``rules.side_index``'s hook, a
#: ContextVar: the engine's own function runs as it does, nothing patched)
delta_k_recorded = side_index.delta_k_recorded


def _charged(ctx: Ctx, name: str) -> Any:
    """What ``name`` pays the bankrupt account by the per-lot charge (its guarded transfers)."""
    return sum_(
        z3.If(_b(g.guard), _term(g.item.amount_quote), 0)
        for g in ctx.entries
        if g.item.reason is Reason.SOCIALIZED_LOSS and g.item.source == name
    )


def _reads(term: Any, var: Any) -> bool:
    """Whether ``term`` has ``var`` among its subterms."""
    seen, todo = set(), [term]
    while todo:
        t = todo.pop()
        if t.eq(var):
            return True
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        todo.extend(t.children())
    return False


#: the free book's traders where :func:`traders` set them (default :data:`STEP_TRADERS`)
_traders: ContextVar[int] = ContextVar("solvent_side_payer_traders", default=STEP_TRADERS)


@contextmanager
def traders(n: int) -> Iterator[None]:
    """Within the block, every lemma of this module and of ``solver.gen_b_turn`` is asked on a free book
    of ``n`` traders (``solver.gen_b_payer``'s two-trader book; the module's default is three)."""
    token = _traders.set(n)
    try:
        yield
    finally:
        _traders.reset(token)


#: the bound's margin where :func:`bound_margin` set it: "initial" (one move from a well-formed start, the
#: default) or "maintenance" (the induction over moves: every trader with a position above its maintenance)
_margin: ContextVar[str] = ContextVar("solvent_side_payer_margin", default="initial")
#: the bound's margins (:func:`bound_margin`)
MARGINS = ("initial", "maintenance")


@contextmanager
def bound_margin(which: str) -> Iterator[None]:
    """Within the block, the payer's bound reads each winner's ``E − |s|·m`` against :func:`floor` at
    ``which`` (:data:`MARGINS`): its initial margin at the previous mark, or one quantum above its
    maintenance margin there (``equity_at_or_below_maintenance`` triggers: not liquidatable is above it)."""
    if which not in MARGINS:
        raise ValueError(f"the bound's margin is one of {MARGINS}, not {which!r}")
    token = _margin.set(which)
    try:
        yield
    finally:
        _margin.reset(token)


def margin_of(bounds: Bounds) -> str:
    """The bound's margin for a question within ``bounds``: at a maintenance start its maintenance, else its
    initial margin."""
    return "maintenance" if bounds.start_margin == "maintenance" else "initial"


#: the well-formed book's conditions (``wellformed``'s names) the premise over moves holds: the ones the one-move
#: argument reads (its settlement's and turns' start's queries, the only ones reading the start, and the pieces'
#: marks at least 1), each kept by a whole move (``solver.gen_b_move``;
#: docs/solver-notes.md#gen-bs-premise-over-a-whole-move-session-26)
#: its margin conditions (``wellformed.covers_margin`` at maintenance and worth at least zero): what the first move's
#: start (the question's, at the initial margin) need not meet
OVER_MOVES_MARGIN = ("traders not liquidatable (above maintenance)", "traders worth at least zero")
OVER_MOVES = (
    "marks positive and on the tick",
    "only traders and the order book (and a taking-over vault) hold positions",
    "open interest balanced",
    "pools non-negative",
    *OVER_MOVES_MARGIN,
)
#: whether the start's premise is :data:`OVER_MOVES` (:func:`premise_over_moves`)
_over_moves: ContextVar[bool] = ContextVar("solvent_side_payer_over_moves", default=False)


@contextmanager
def premise_over_moves() -> Iterator[None]:
    """Within the block, the start's premise (:func:`start_assumptions`) is :data:`OVER_MOVES` alone: the
    induction's later moves start from what a move is proved to keep, nothing more."""
    token = _over_moves.set(True)
    try:
        yield
    finally:
        _over_moves.reset(token)


def start_assumptions(policy: Policy, book: Book, bounds: Bounds) -> list[Any]:
    """The question's named assumptions on ``book`` (``assumptions.book_assumptions``), or within
    :func:`premise_over_moves` only the well-formed conditions of :data:`OVER_MOVES` (the question's bounds on
    balances and prices, which a move need not keep, dropped too)."""
    from solvent.solver.assumptions import book_assumptions

    held = book_assumptions(policy, book, bounds)
    if not _over_moves.get():
        return held
    kept = [a for a in held if a.name in OVER_MOVES]
    if len(kept) != len(OVER_MOVES):
        raise ValueError("the premise over moves names a condition the well-formed book does not hold")
    return kept


def floor(policy: Policy, size_lots: Any, price: Any) -> Any:
    """What a winner's ``E − |s|·m`` is at least under :func:`bound_margin`: ``IM(s)`` at ``price``
    (``margin.initial_margin``), or ``MM(s) + 1`` (``margin.maintenance_margin``: above it, by one quantum) with a
    position and 0 without."""
    if _margin.get() == "maintenance":  # (a flat trader's: 0, worth at least zero; its maintenance margin is 0)
        above = z3.If(_b(size_lots == 0), 0, 1)
        return margin_rules.maintenance_margin(policy.margin, policy.rounding, size_lots, price) + above
    # (read off the module at each call, as the pieces did: a mutant of the engine's margin reaches the bound)
    return margin_rules.initial_margin(policy.margin, policy.rounding, size_lots, price)


def floor_said() -> str:
    """:func:`floor` in words, under :func:`bound_margin`."""
    if _margin.get() == "maintenance":
        return "above its maintenance margin (a flat trader at or above 0)"
    return "at least its initial margin"


def free_book(bounds: Bounds | None = None) -> Book:
    """A free book of :data:`STEP_TRADERS` traders (or :func:`traders`' count; every number a variable)."""
    book, _ = symbolic_book(Bounds(accounts=_traders.get(), events=1) if bounds is None else bounds)
    return book


def lemmas(policy: Policy, valid: Valid, book: Book | None = None, bankrupt: str | None = None) -> list[str]:
    """The module's three lemmas on ``book`` (default :func:`free_book`), its first trader bankrupt:
    ``valid(name, premise, claim, exact=True)`` for each (it raises where one does not hold or is not
    decided). Returns their names."""
    book = free_book() if book is None else book
    bankrupt = book.traders[0].name if bankrupt is None else bankrupt
    payers = [a.name for a in book.traders if a.name != bankrupt]
    q = abs_(book.account(bankrupt).size_lots)
    move, deficit = z3.Int(f"{FREE}move"), z3.Int(f"{FREE}deficit")
    taken = dict(side_index.lots_taken(book, bankrupt, q))
    with delta_k_recorded() as quotients:
        ctx, _ = socialized_loss.charge_per_lot(Ctx(book), policy.rounding, bankrupt, deficit, book)
    if not quotients:
        raise ValueError("the per-lot charge built no quotient (not k_up's ΔK)")
    delta_k = quotients[0]
    opposing = dict(side_index.opposing_lots(book, bankrupt))
    oi = sum_(opposing.values())
    out = []
    for name in payers:
        t = _term(taken[name])
        said = f"the lots taken from {name} closing {bankrupt}'s q = |s| (side_index.lots_taken)"
        out.append(valid(f"{said}: at least 0", [], _b(t >= 0), exact=True))
        out.append(
            valid(
                f"{said}: at most its opposing lots where they cover q",
                [_b(q <= oi)],
                _b(t <= _term(opposing[name])),
                exact=True,
            )
        )
    premise = [move >= 0, deficit >= 0, deficit <= q * move]
    out.append(
        valid(
            f"the per-lot charge of {bankrupt}'s deficit D ≤ q·m (charge_per_lot): ΔK ≤ m·{SCALE:,}",
            premise,
            _b(_term(delta_k) <= move * SCALE),
            exact=True,
        )
    )
    k = z3.Int(f"{FREE}delta_k")
    for name in payers:
        t = z3.Int(f"{FREE}taken.{name}")
        share = z3.substitute(_charged(ctx, name), (_term(delta_k), k), (_term(taken[name]), t))
        if not _reads(share, k):
            raise ValueError(f"{name}'s share does not read the charge's ΔK: not charge_k_up's build")
        out.append(
            valid(
                f"{name}'s share of the per-lot charge, its lots taken t and ΔK free (t ≥ 0, ΔK ≤ m·{SCALE:,}): "
                "at most m·t",
                [move >= 0, t >= 0, k <= move * SCALE],
                _b(share <= move * t),
                exact=True,
            )
        )
    composite = charge_fact(book, bankrupt, deficit, move, ctx.entries)
    proved = [
        *(_b(_term(taken[n]) >= 0) for n in payers),
        *(z3.Implies(_b(q <= oi), _b(_term(taken[n]) <= _term(opposing[n]))) for n in payers),
        z3.Implies(z3.And(*map(_b, premise)), _b(_term(delta_k) <= move * SCALE)),
    ]
    for name in payers:
        t = z3.Int(f"{FREE}taken.{name}")
        share = z3.substitute(_charged(ctx, name), (_term(delta_k), k), (_term(taken[name]), t))
        formula = z3.Implies(z3.And(move >= 0, t >= 0, k <= move * SCALE), _b(share <= move * t))
        proved.append(z3.substitute(formula, (k, _term(delta_k)), (t, _term(taken[name]))))
    out.append(
        valid(
            f"the per-lot charge of {bankrupt}'s deficit: each trader pays at most m a lot it gives up "
            "(the lemmas above, instantiated on the engine's terms)",
            proved,
            composite,
            exact=True,
        )
    )
    return out


def charge_fact(book: Book, bankrupt: str, deficit: Any, move: Any, entries: Any) -> Any:
    """The per-lot claim on one call of the charge: where ``0 ≤ D ≤ q·m`` (``m ≥ 0``), each trader
    other than ``bankrupt`` pays (its ``SOCIALIZED_LOSS`` transfers among ``entries``) at most
    ``m·t`` for the ``t`` lots taken from it, ``t ≥ 0``, and ``t`` at most its opposing lots where
    they cover ``q``."""
    q = abs_(book.account(bankrupt).size_lots)
    taken = dict(side_index.lots_taken(book, bankrupt, q))
    opposing = dict(side_index.opposing_lots(book, bankrupt))
    oi = sum_(opposing.values())
    parts = []
    for a in book.traders:
        if a.name == bankrupt:
            continue
        t = _term(taken[a.name])
        paid = sum_(
            _term(g.item.amount_quote)
            for g in entries
            if g.item.reason is Reason.SOCIALIZED_LOSS and g.item.source == a.name
        )
        parts += [_b(paid <= move * t), _b(t >= 0), z3.Implies(_b(q <= oi), _b(t <= _term(opposing[a.name])))]
    return z3.Implies(z3.And(_b(move >= 0), _b(deficit >= 0), _b(deficit <= q * move)), z3.And(*parts))


#: each call of the per-lot charge recorded as ``(book at the bankruptcy, bankrupt, D, its entries)``
#: (``rules.side_index``'s hook, a ContextVar: the engine's own function runs as it does, nothing patched)
charges_recorded = side_index.charges_recorded


#: the sides a bankrupt position may be on: long (the mark fell) and short (it rose)
SIDES = (("long", 1), ("short", -1))


def _same_book(a: Book, b: Book) -> bool:
    return all(
        _term(x.size_lots).eq(_term(y.size_lots)) and _term(x.cash_quote).eq(_term(y.cash_quote))
        for x, y in zip(a.accounts, b.accounts, strict=True)
    )


def _bound(policy: Policy, book: Book, side: int, move: Any, acted: str) -> tuple[list[Any], Callable[[Any], Any]]:
    """The payer's bound on ``book`` with its first trader on the losing ``side`` (1 long, -1 short):
    the reachable book (``side_claims.balanced``), the fund at or above 0 (Gen B's fund claim, proved
    for every N and any K), the move ``m ≥ 0``, every loser at ``E ≥ −|s|·m``, every winner at ``E ≥ |s|·m``, every flat trader at
    or above 0; and ``lots`` (an account's lots, above 0 on the losing side)."""

    def lots(a: Any) -> Any:
        return a.size_lots * side

    x = book.account(acted)
    premise = [
        move >= 0,
        *map(_b, balanced(policy, book)),
        _b(book.account("insurance_fund").cash_quote >= 0),
        _b(lots(x) > 0),
    ]
    for a in book.traders:
        premise += [
            z3.Implies(_b(lots(a) > 0), _b(a.cash_quote >= -lots(a) * move)),
            z3.Implies(_b(lots(a) < 0), _b(a.cash_quote + lots(a) * move >= 0)),
            z3.Implies(_b(a.size_lots == 0), _b(a.cash_quote >= 0)),
        ]
    return premise, lots


def resolve_parts(
    policy: Policy, book: Book, side: int, move: Any, bankrupt: str | None = None
) -> tuple[list[Any], list[tuple[str, Any]], Any]:
    """The resolve's premise, claims and its charge's fact (:func:`charge_fact` on the call the
    resolve makes), for ``book``'s first trader bankrupt on ``side`` (1 long, -1 short), alone
    (``bankruptcy.resolve(alone=True)``: the cascade's call; the turn's is the same call, then the
    cascade)."""
    bankrupt = book.traders[0].name if bankrupt is None else bankrupt
    with charges_recorded() as calls:
        after = bankruptcy.resolve(policy, Ctx(book), bankrupt, alone=True).book
    if len(calls) != 1 or calls[0][1] != bankrupt or not _same_book(calls[0][0], book):
        raise ValueError("the resolve's per-lot charge is not one call on the book at its bankruptcy")
    at, _, deficit, entries = calls[0]
    fact = charge_fact(at, bankrupt, deficit, move, entries)

    premise, lots = _bound(policy, book, side, move, bankrupt)
    premise += [_b(book.account(bankrupt).cash_quote < 0)]
    z = after.account(bankrupt)
    claims = [(f"{bankrupt} ends flat at or above 0", z3.And(_b(z.size_lots == 0), _b(z.cash_quote >= 0)))]
    for a in [a for a in book.traders if a.name != bankrupt]:
        z = after.account(a.name)
        kept = z3.And(
            _b(lots(z) <= 0),
            _b(lots(z) >= lots(a)),
            _b(z.cash_quote + lots(z) * move >= a.cash_quote + lots(a) * move),
        )
        claims.append(
            (
                f"{a.name} opposite: its lots only shrink and its equity less m a lot does not fall",
                z3.Implies(_b(lots(a) < 0), kept),
            )
        )
        same = z3.And(_b(z.size_lots == a.size_lots), _b(z.cash_quote == a.cash_quote))
        claims.append((f"{a.name} on {bankrupt}'s side or flat: untouched", z3.Implies(_b(lots(a) >= 0), same)))
    return premise, claims, fact


def _instance_of_lemma(policy: Policy, book: Book, fact: Any, deficit: Any, move: Any, bankrupt: str) -> bool:
    """Whether ``fact`` (the resolve's charge's claim) is :func:`lemmas`' last formula on ``book``
    with its free ``D`` replaced by the resolve's own deficit term: an instance of a proved formula
    (term for term, no query)."""
    ctx, _ = socialized_loss.charge_per_lot(Ctx(book), policy.rounding, bankrupt, deficit, book)
    proved = charge_fact(book, bankrupt, deficit, move, ctx.entries)
    premise = fact.arg(0)  # 0 ≤ D ≤ q·m: D is the resolve's term
    term = premise.arg(1).arg(0)
    return bool(z3.substitute(proved, (deficit, term)).eq(fact))


def resolve_lemmas(
    policy: Policy, valid: Valid, sides: tuple[tuple[str, int], ...] = SIDES, bankrupt: str | None = None
) -> list[str]:
    """A bankrupt account's resolve alone (its fund, its close against the opposing side, the per-lot
    charge, the haircut) on a free book of :data:`STEP_TRADERS` traders, from a reachable book (open
    interest balanced, only the holders holding, the fund at or above 0), the move ``m ≥ 0``, the bankrupt account on the losing side with ``E ≥ −|s|·m``, every other
    loser likewise, every winner ``E ≥ |s|·m``, every flat trader at or above 0; the charge's fact
    (:func:`charge_fact`, proved by :func:`lemmas`) given: the bankrupt account ends flat at or above
    0, a winner's lots only shrink and its ``E − |s|·m`` does not fall, every other account untouched.
    Each side of the bankrupt position its own lemmas."""
    out = []
    move, deficit = z3.Int(f"{FREE}move"), z3.Int(f"{FREE}deficit")
    for label, side in sides:
        book = free_book()
        name = book.traders[0].name if bankrupt is None else bankrupt
        premise, claims, fact = resolve_parts(policy, book, side, move, name)
        if not _instance_of_lemma(policy, book, fact, deficit, move, name):
            raise ValueError("the resolve's charge fact is not the per-lot lemma's formula on its deficit")
        for name, claim in claims:
            out.append(
                valid(f"the resolve of a {label} bankrupt position: {name}", [*premise, fact], claim, exact=True)
            )
    return out


def winner_lemmas(policy: Policy, valid: Valid) -> list[str]:
    """A winner is never triggered (``engine._triggered``, the sweep's own test), each side: on a free
    book of one trader, the mark moved by ``m ≥ 1`` from the previous mark (at least 1) in the
    trader's favour, its ``E − |s|·m`` at least its initial margin at the previous mark
    (``margin.initial_margin``: a well-formed start's ``E₀``, which every charge keeps, each lowering
    ``E`` by at most ``m`` a lot it takes). And that bound is kept as the lots shrink: the initial
    margin of fewer lots on the same side is no more."""
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    a = book.account(book.traders[0].name)
    previous = book.market.previous_mark_quote
    fewer = z3.Int(f"{FREE}fewer_lots")
    out = []
    for label, side in SIDES:
        premise, claim = winner_parts(policy, book, side)
        im = floor(policy, a.size_lots, previous)
        out.append(
            valid(
                f"a {label} winner with E − |s|·m at least its initial margin: not triggered",
                premise,
                claim,
                exact=True,
            )
        )
        smaller = floor(policy, fewer, previous)
        out.append(
            valid(
                f"the initial margin of fewer {label} lots is no more",
                [_b(previous >= 1), _b(fewer * side >= 0), _b(fewer * side <= a.size_lots * side)],
                _b(smaller <= im),
                exact=True,
            )
        )
    return out


def winner_parts(policy: Policy, book: Book, side: int, name: str | None = None) -> tuple[list[Any], Any]:
    """:func:`winner_lemmas`' first lemma on ``book``'s trader ``name`` (default its first), the mark moved
    in its favour on ``side`` (1: up, a long winning; -1: down, a short): premise and claim (not
    triggered)."""
    a = book.account(book.traders[0].name if name is None else name)
    mark, previous = book.market.mark_quote, book.market.previous_mark_quote
    move = (mark - previous) * side
    im = floor(policy, a.size_lots, previous)
    premise = [
        _b(previous >= 1),
        _b(mark >= 1),
        _b(move >= 1),
        _b(a.size_lots * side > 0),
        _b(a.cash_quote - abs_(a.size_lots) * move >= im),
    ]
    return premise, z3.Not(_b(_triggered(policy, Ctx(book), a.name)))


def solvent_close_lemmas(
    policy: Policy, valid: Valid, sides: tuple[tuple[str, int], ...] = SIDES, acted: str | None = None
) -> list[str]:
    """A loser's solvent liquidation (``engine._close_solvent``: its position closed against the
    opposing side, its penalty capped at its equity) on a free book of :data:`STEP_TRADERS` traders,
    from the reachable book's premises and the payer's bound of :func:`resolve_lemmas`, the account at
    or above 0: it ends flat at or above 0, a winner's lots only shrink with its cash kept, every
    account on its side or flat is untouched."""
    move = z3.Int(f"{FREE}move")
    out = []
    for label, side in sides:
        book = free_book()
        premise, claims = solvent_close_parts(policy, book, side, move, acted)
        for said, claim in claims:
            out.append(valid(f"the solvent close of a {label} loser: {said}", premise, claim, exact=True))
    return out


def solvent_close_parts(
    policy: Policy, book: Book, side: int, move: Any, acted: str | None = None
) -> tuple[list[Any], list[tuple[str, Any]]]:
    """:func:`solvent_close_lemmas`' premise and claims on ``book``, ``acted`` (default its first
    trader) on the losing ``side``."""
    name = book.traders[0].name if acted is None else acted
    after = _close_solvent(policy, Ctx(book), name).book
    premise, _ = _bound(policy, book, side, move, name)
    premise.append(_b(book.account(name).cash_quote >= 0))
    z = after.account(name)
    claims = [(f"{name} ends flat at or above 0", z3.And(_b(z.size_lots == 0), _b(z.cash_quote >= 0)))]
    for a in [a for a in book.traders if a.name != name]:
        z = after.account(a.name)
        lots, now = a.size_lots * side, z.size_lots * side
        kept = z3.And(_b(now <= 0), _b(now >= lots), _b(z.cash_quote == a.cash_quote))
        claims.append((f"{a.name} opposite: its lots only shrink, its cash kept", z3.Implies(_b(lots < 0), kept)))
        same = z3.And(_b(z.size_lots == a.size_lots), _b(z.cash_quote == a.cash_quote))
        claims.append((f"{a.name} on {name}'s side or flat: untouched", z3.Implies(_b(lots >= 0), same)))
    return premise, claims


def write_off_lemma(policy: Policy, valid: Valid) -> list[str]:
    """The turn's write-off (``bankruptcy.write_off``, spec v11.11 §7.3) of a flat trader at or above 0
    changes nothing: on a free book of :data:`STEP_TRADERS` traders, every account's cash and lots
    kept (the payer's bound leaves no flat trader below zero, so it never fires)."""
    book = free_book()
    name = book.traders[0].name
    after = bankruptcy.write_off(policy, Ctx(book), name).book
    x = book.account(name)
    kept = z3.And(
        *(
            z3.And(_b(z.size_lots == a.size_lots), _b(z.cash_quote == a.cash_quote))
            for a, z in zip(book.accounts, after.accounts, strict=True)
        )
    )
    premise = [_b(x.size_lots == 0), _b(x.cash_quote >= 0)]
    return [valid(f"the write-off of {name} flat at or above 0: every account kept", premise, kept, exact=True)]


def settle_lemmas(policy: Policy, bounds: Bounds, valid: Valid) -> list[str]:
    """The settlement (``opening``, ``settle``, ``before_turns``: ``per_account._settled``) of one mark
    move on a free book of two traders, each account's claims from the question's assumptions that
    read only that account, the market and the event (so each is the same lemma for an account of a
    book of any N; a claim that reads another account is never proved): with ``d`` the move (the new
    mark less the previous), every trader's ``E − s·d`` is at least its initial margin at the previous
    mark (a loser's ``E ≥ −|s|·m``, a winner's ``E − |s|·m ≥ IM``, a flat trader's ``E ≥ 0``: the
    payer's bound at the first turn), and its position kept."""
    out = []
    for label, _, _, parts in settle_parts(policy, bounds):
        for said, premise, claim in parts:
            out.append(valid(f"settlement ({label}): {said}", premise, claim, exact=True))
    return out


def settle_parts(policy: Policy, bounds: Bounds) -> list[tuple[str, Any, Book, list[tuple[str, list[Any], Any]]]]:
    """:func:`settle_lemmas`' queries: per variant of the move, its label, its free event, the free book
    and each claim's ``(said, premise, claim)``."""
    from solvent.solver.per_account import _conjuncts, _own, _reads_only, _settled, _shared
    from solvent.solver.story import slots

    one = attrs.evolve(bounds, accounts=2, events=1, event_kinds=("mark",))
    book, _ = symbolic_book(one)
    out = []
    for slot in slots(book, one):
        for variant in slot.variants:
            whole = [c for a in start_assumptions(policy, book, one) for c in _conjuncts(a.holds)]
            whole += _conjuncts(slot.field_bounds)
            settled = _settled(policy, book, variant.event).book
            move = settled.market.mark_quote - settled.market.previous_mark_quote
            parts = []
            for a in settled.traders:
                own = (*_own(a.name), *_shared(book), "e1.")
                premise = [c for c in whole if _reads_only(c, own)]
                im = floor(policy, a.size_lots, settled.market.previous_mark_quote)
                claims = [
                    (
                        f"{a.name}'s E − s·d {floor_said()} at the previous mark",
                        a.cash_quote - a.size_lots * move >= im,
                    ),
                    (f"{a.name}'s position kept", a.size_lots == book.account(a.name).size_lots),
                ]
                for said, claim in claims:
                    if not _reads_only(_b(claim), own):
                        raise ValueError(f"{said}: its settlement reads another account")
                    parts.append((said, premise, _b(claim)))
            out.append((variant.label, variant.event, book, parts))
    return out


__all__ = [
    "FREE",
    "OVER_MOVES",
    "OVER_MOVES_MARGIN",
    "SIDES",
    "STEP_TRADERS",
    "charge_fact",
    "charges_recorded",
    "delta_k_recorded",
    "free_book",
    "lemmas",
    "premise_over_moves",
    "resolve_lemmas",
    "resolve_parts",
    "settle_lemmas",
    "settle_parts",
    "solvent_close_lemmas",
    "solvent_close_parts",
    "start_assumptions",
    "traders",
    "winner_lemmas",
    "winner_parts",
    "write_off_lemma",
]
