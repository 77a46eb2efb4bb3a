"""Percolator Gen B's non-negative transfers for every N: each transfer written by one settlement's, one
turn's, one cascade resolution's or one write-off's code, each piece a lemma on the engine's own functions.

The non-negative transfers (``verdicts.TRANSFERS``: every transfer of the step moves an amount ≥ 0) are
asked at N by the bounded question, whose build grows fast with N under Gen B's cascade (at N = 4 the
transfers alone took 4.59M units to build, at N = 8 more than 9.6M). ``claims_backed.transfers_every_n``
proves them for every N on Drift's and Mango v4's route only (``cascade_holders``: a socialized loss per
lot last in the waterfall, whose turn step the holders' lemmas cover). Gen B's waterfall is the fund
above its floor, the per-lot charge of the opposing side (``side_index.charge_k_up``, with a cascade:
spec v11.31 §5.6, §7.2), the haircut over matured profit (§3.3), and at the end of each trader's turn
the write-off of a flat account below zero (§7.3, ``bankruptcy.write_off_turn``). The argument
(docs/solver-notes.md#gen-bs-non-negative-transfers-for-every-n-session-24):

1. *the step's phases* (``per_account._decomposes`` with ``each_own``, two traders): opening, settle, the
   phase before the turns, one liquidation turn per trader in book order, after the sweep, closing;
   opening and closing change each trader from its own account alone;
2. *around the turns* (``claims_backed._around_turns``, two traders): each transfer before the turns
   reads only one account it names, the market and the move (the same term for that account on a book
   of any N) and is non-negative by its shape or valid from the start assumptions on that account;
   each transfer after the turns is non-negative by its shape;
3. *each turn* is, in the engine's order, the trader's turn with the cascade left out (its liquidation
   and resolution down the waterfall: ``engine.liquidation_turn`` on
   ``cascade_invariant.without_cascade``), then the cascade's iterations, each the resolution of the
   first trader the engine's test finds sunk (``bankruptcy._first_below`` on ``bankruptcy.sunk``),
   then the trader's write-off (``bankruptcy.write_off_turn``). Each of the three, on a free book of
   three traders (every number free, the mark a price; the write-off's "resolved before" read on no
   records, its widest guard), writes only transfers of a non-negative amount: z3, exact, for the
   first trader, and for the others by renaming the accounts in book order where that gives the same
   term (``payer_facts.in_turn_order``, no query), else asked;
4. *the splits' dust*: each split's dust to the fund (the haircut's pro-rata split, the side index's
   ``k_up`` charge) is a premise ``dust ≥ 0`` given by a lemma for any number of payers
   (``dust_lemma.dust_lemma``, ``dust_lemma.side_dust_lemma``), each dust transfer of the three runs
   checked to be one of them.

What it assumes (:data:`ASSUMES`, said in the verdict's scope): that a turn, a cascade resolution and a
write-off on N traders write the transfers of the three-trader runs', one share of each split per payer
(the shares are one term each, ``c(T, wᵢ, D)`` or ``⌈wᵢ·ΔK/10⁶⌉``, the dust lemmas read term for term at
1 to 8 payers). No premise on the pools: the fund pays at most what it holds above its floor, the
haircut at most the payers' matured profit, whatever their signs before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

from solvent.rules import bankruptcy
from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Over, SocializedLoss
from solvent.solver import cascade_invariant, payer_facts
from solvent.solver.bounds import Bounds
from solvent.solver.pro_rata_lemma import Discharger
from solvent.solver.side_once import RENAMED
from solvent.solver.story import symbolic_book
from solvent.solver.symbolic import transfer_obligations
from solvent.solver.verdicts import QueryStats

#: the free book's traders (as the cascade's lemmas: a trader, one before it and one after it in book order)
TRADERS = cascade_invariant.TRADERS
#: what the argument assumes, said in the verdict's scope
ASSUMES = (
    "on N traders a turn with the cascade left out, a cascade's resolution and a write-off write the transfers "
    f"of the {TRADERS}-trader runs', one share of each split per payer (the phases around the turns as on two "
    "traders, each transfer reading only that account, the market and the move)"
)
#: the three runs' lemmas (the trader's name, the free book's traders)
TURN = (
    "{trader}'s turn with the cascade left out (its liquidation, its resolution down the fund, the side charge "
    "and the haircut, and its write-off; {n} traders, every number free) moves a non-negative amount in every "
    "transfer"
)
CASCADE = (
    "the cascade's resolution of {trader} (the first trader the engine's test finds sunk: liquidated and resolved "
    "alone; {n} traders, every number free) moves a non-negative amount in every transfer"
)
WRITE_OFF = (
    "{trader}'s write-off (§7.3: flat and below zero, not resolved before; {n} traders, every number free) moves "
    "a non-negative amount in every transfer"
)
#: the argument's conclusion, said
SAID = (
    "each trader's turn is its turn with the cascade left out, the cascade's resolutions, then its write-off (the "
    "engine's order): every transfer of every turn non-negative, each split's dust by the dust lemmas for any "
    "number of payers"
)

Valid = Callable[[str, list[Any], Any], str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not describe ``policy``'s question (None where it does): one mark move on a
    book larger than two traders without collateral assets or isolated positions, under Gen B's waterfall
    (a flat account's write-off, a per-lot charge of the opposing side with a cascade, no ADL)."""
    if bounds.events != 1 or bounds.accounts <= 2 or bounds.assets or bounds.isolated:
        return "the argument covers one mark move on a book of more than two traders, no assets or isolated positions"
    return waterfall_not_covered(policy)


def waterfall_not_covered(policy: Policy) -> str | None:
    """Why ``policy``'s waterfall is not Gen B's (None where it is): a write-off of flat accounts, a
    per-lot charge of the opposing side with a cascade, and no ADL, PnL-to-pool ADL or fee to close."""
    layer = policy.layer(SocializedLoss)
    if (
        not bankruptcy.writes_off_flat(policy)
        or layer is None
        or not layer.cascade
        or layer.over is not Over.OPPOSING_SIDE
    ):
        return (
            "not Gen B's waterfall (a write-off of flat accounts, a per-lot charge of the opposing side with a cascade)"
        )
    if policy.adl is not None or policy.pnl_to_pool_adl is not None or policy.liquidation.fee_to_close:
        return "an ADL, a PnL-to-pool ADL or a fee to close beside the waterfall"
    return None


def _turn(policy: Policy, book: Book, name: str) -> Ctx:
    return liquidation_turn(cascade_invariant.without_cascade(policy), Ctx(book), name)


def _cascade(policy: Policy, book: Book, name: str) -> Ctx:
    ctx = Ctx(book)
    below = [x for x in bankruptcy.sunk(policy, ctx, [a.name for a in book.traders]) if x[0] == name]
    return bankruptcy._first_below(policy, ctx, below, ())[0]


def _write_off(policy: Policy, book: Book, name: str) -> Ctx:
    return bankruptcy.write_off_turn(policy, Ctx(book), name)


RUNS = ((TURN, _turn), (CASCADE, _cascade), (WRITE_OFF, _write_off))


def question(
    policy: Policy, run: Callable[[Policy, Book, str], Ctx], book: Book, name: str, paid: dict[Any, Any]
) -> tuple[list[Any], Any]:
    """(premise, claim) of one run's lemma on ``book``: the mark a price and each split's dust fact (the
    dust lemmas for any number of payers) before ``run``'s run for ``name``; every transfer it writes
    moves a non-negative amount (``symbolic.transfer_obligations``, the bounded question's own).
    :class:`ValueError` where a dust transfer of the run is not covered by a lemma for any number of payers."""
    ctx = run(policy, book, name)
    discharger = Discharger(policy.rounding, paid, any_payers=True)
    dust = discharger.facts([ctx])
    for e in ctx.entries:
        if e.item.reason is Reason.PRO_RATA_DUST and z3.is_expr(e.item.amount_quote):
            if not discharger.covers(e.item.amount_quote):
                raise ValueError(
                    f"a split's dust to the fund in {name}'s run is not a dust lemma's for any number of payers"
                )
    return [book.market.mark_quote >= 1, *dust], z3.And(*transfer_obligations(ctx))


def turn_lemmas(
    policy: Policy,
    valid: Valid,
    used: Callable[[QueryStats], None] | None = None,
    renamed: Callable[[QueryStats], None] | None = None,
) -> tuple[str, ...]:
    """Step 3's lemmas (``valid`` raises where one does not hold or is not decided), each run for every
    trader of the free book (the first asked, the others by renaming where the same term, told to
    ``renamed`` with no units); the dust lemmas behind the facts paid once and told to ``used``.
    :class:`ValueError` as :func:`question`."""
    book, _ = symbolic_book(Bounds(accounts=TRADERS, events=1))
    names = [a.name for a in book.traders]
    paid: dict[Any, Any] = {}
    lemmas = []
    try:
        for said, run in RUNS:
            first = None
            for name in names:
                premise, claim = question(policy, run, book, name, paid)
                formula = z3.Implies(z3.And(*premise), claim)
                label = said.format(trader=name, n=TRADERS)
                if first is not None and payer_facts.renamed(first, payer_facts.in_turn_order(names, name)).eq(formula):
                    if renamed is not None:
                        renamed(QueryStats(label, RENAMED.format(first=names[0]), 0.0))
                    lemmas.append(f"{label} ({RENAMED.format(first=names[0])})")
                else:
                    lemmas.append(f"{valid(label, premise, claim)} (z3, exact)")
                first = formula if first is None else first
    finally:
        for lemma in paid.values() if used is not None else ():
            used(lemma.stats)
    dust = [lemma.name for lemma in paid.values()]
    return (*dust, *lemmas, f"{SAID} ({ASSUMES})")


__all__ = [
    "ASSUMES",
    "CASCADE",
    "RUNS",
    "SAID",
    "TRADERS",
    "TURN",
    "WRITE_OFF",
    "not_covered",
    "question",
    "turn_lemmas",
    "waterfall_not_covered",
]
