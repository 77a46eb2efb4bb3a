"""claims-backed's system holders through a turn under a socialized loss per lot with a cascade
(Drift v2, Mango v4): the turn step of ``claims_backed.holders_every_n`` where the payer's coupling
(ADL's fills only) does not describe the engine.

``claims_backed.holders_every_n`` proves the system holders (the insurance fund, the fee account,
the vault) at or above zero after one mark move for every N, by induction over the sweep's turns.
Its turn step there is ``fund_facts.HOLDERS_LEMMA`` on two traders, which stands for a turn on N
traders only where the turn reads the others through ADL's fills (``payer_lemma.ADL_FILLS_ONLY``).
Under Drift's and Mango's socialized loss a resolution charges every open position per lot and the
cascade's loop resolves, in the same turn, every payer the charge sank below zero
(``rules.bankruptcy._cascade``). The turn step here is the socialized loss's own decomposition
(``cascade_invariant.ASSUMES``: the turn with the cascade is the turn without it followed, where it
resolved its trader, by the loop, one iteration per trader), each part a lemma on the engine's own
functions, z3 exact, on a free book of three traders (every number free, the mark a price):

1. **the turn without the cascade** (``engine.liquidation_turn`` on
   ``cascade_invariant.without_cascade(policy)``, the first trader's): every holder at or above zero
   before it is at or above zero after it (the pools pay at most what they hold above their floors,
   ``insurance_fund.pay_from``; the liquidation's penalty and the split's dust are paid *to* the fund);
2. **one iteration of the loop** (``bankruptcy._first_below`` on the engine's own test
   ``bankruptcy.sunk``): the same, whichever trader is the first sunk one, and with none sunk the
   book is unchanged;
3. **the loop, by induction over its iterations** (``_cascade`` runs at most one per trader outside
   the chain, each from the book the one before left): every holder stays at or above zero.

Each pro-rata split's dust ``Σ⌈T·wᵢ/W⌉ − T`` the turn or the iteration passes to the fund is given
as ``dust ≥ 0``, an instance of the dust lemma for any number of payers (``solver.dust_lemma``: one
payer's step on free values and an induction over the payers; ``pro_rata_lemma.Discharger`` with
``any_payers``), true of every value: the premise loses no book. A book of N traders has splits
over N payers; the same lemma covers them (until session 23 that was an assumption, the lemma asked
at the three-trader book's count). The same two runs answer the non-negative transfers' turn step (:func:`transfer_lemmas`, for
``claims_backed.transfers_every_n``): every transfer they write moves an amount ≥ 0, from the same premise.

Measured (docs/solver-notes.md#drifts-claims-backed-and-bybits-principal-protected-at-n--8-session-22,
docs/solver-notes.md#drifts-dust-lemma-for-any-number-of-payers-session-23): Drift 27,672 + 26,011
units, Mango 2,409 + 10,051, the dust lemma (any number of payers) 3,218 beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

from solvent.rules import bankruptcy
from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.solver import cascade_invariant, fund_facts
from solvent.solver.bounds import Bounds
from solvent.solver.dust_lemma import SHAPE_PAYERS
from solvent.solver.pro_rata_lemma import Discharger
from solvent.solver.story import symbolic_book
from solvent.solver.symbolic import transfer_obligations
from solvent.solver.verdicts import QueryStats, Verdict

#: the free book's traders: the cascade invariant's (its assumption speaks of a three-trader book)
TRADERS = cascade_invariant.TRADERS
#: what the turn step assumes of the engine, beside the cascade invariant's own assumption
#: (the split's dust is the dust lemma's, proved at or above 0 for any number of payers: :data:`DUST`;
#: until session 23 that was part of this assumption)
ASSUMES = (
    f"{cascade_invariant.ASSUMES}; a resolution writes the system holders as on three traders but for its "
    "split's rounding dust to the fund"
)
#: the dust lemma, said (its steps are the questions of ``solver.dust_lemma``)
DUST = (
    "the split's rounding dust to the fund is at or above 0 for any number of payers (z3, exact, on free values: "
    "the divisor positive, one payer's step S·D ≥ T·P → (S + ⌈T·w/D⌉)·D ≥ T·(P + w), the close S·D ≥ T·W → S ≥ T; "
    f"by induction over the payers; the engine's split read term for term as that chain at 1 to {SHAPE_PAYERS} payers "
    "and at each split the turn's lemmas read)"
)
#: the two lemmas' names (the trader's name after the first)
TURN = "the turn without the cascade ({trader}'s, {n} traders, every number free) keeps every system holder at or above zero"
ITERATION = (
    "one iteration of the cascade's loop ({n} traders, the engine's test: the first trader sunk below zero is "
    "resolved, or none and nothing changes) keeps every system holder at or above zero"
)
#: the loop's induction, said (no query: it is the iterations' lemma applied once per iteration)
LOOP = (
    "the cascade's loop, by induction over its iterations (at most one per trader outside the chain, each from "
    "the book the one before left): every system holder stays at or above zero"
)

Valid = Callable[[str, list[Any], Any], str]


def applies(policy: Policy, bounds: Bounds) -> str | None:
    """Why the turn step here does not describe ``policy``'s turn (None where it does): the cascade
    invariant's own conditions (``cascade_invariant.not_covered``)."""
    return cascade_invariant.not_covered(policy, bounds)


def _question(
    policy: Policy, build: Callable[[Book], Ctx], claim_id: str, paid: dict[Any, Any], transfers: bool = False
) -> tuple[list[Any], Any]:
    """(premise, claim) of a lemma on a fresh book of :data:`TRADERS` traders: the mark a price,
    every holder's cash at or above zero and each dust fact before ``build``'s run, every holder's
    cash at or above zero after it (``transfers``: every transfer the run writes moves a
    non-negative amount, ``symbolic.transfer_obligations``, the bounded question's own obligation)."""
    book, _ = symbolic_book(Bounds(accounts=TRADERS, events=1))
    kept = fund_facts.holders(book, claim_id)
    ctx = build(book)
    dust = Discharger(policy.rounding, paid, any_payers=True).facts([ctx])
    premise = [book.market.mark_quote >= 1, *(book.account(h).cash_quote >= 0 for h in kept), *dust]
    if transfers:
        return premise, z3.And(*transfer_obligations(ctx))
    return premise, z3.And(*(ctx.book.account(h).cash_quote >= 0 for h in kept))


def turn_question(
    policy: Policy, claim_id: str, paid: dict[Any, Any], transfers: bool = False
) -> tuple[list[Any], Any]:
    """Lemma 1's (premise, claim): the first trader's turn with the cascade left out (:func:`turn_run`)."""
    return _question(policy, lambda book: turn_run(policy, book), claim_id, paid, transfers)


def iteration_question(
    policy: Policy, claim_id: str, paid: dict[Any, Any], transfers: bool = False
) -> tuple[list[Any], Any]:
    """Lemma 2's (premise, claim): one iteration of the loop on the engine's own test (:func:`iteration_run`)."""
    return _question(policy, lambda book: iteration_run(policy, book), claim_id, paid, transfers)


def turn_run(policy: Policy, book: Book) -> Ctx:
    """The engine's run lemma 1 speaks of: ``book``'s first trader's turn with the cascade left out."""
    return liquidation_turn(cascade_invariant.without_cascade(policy), Ctx(book), book.traders[0].name)


def iteration_run(policy: Policy, book: Book) -> Ctx:
    """The engine's run lemma 2 speaks of: one iteration of the cascade's loop on the engine's own
    test (the first trader of ``book`` sunk below zero resolved, or none and nothing changes)."""
    names = [a.name for a in book.traders]
    ctx, _ = bankruptcy._first_below(policy, Ctx(book), bankruptcy.sunk(policy, Ctx(book), names), ())
    return ctx


def turn_lemmas(
    policy: Policy, valid: Valid, claim_id: str, used: Callable[[QueryStats], None] | None = None
) -> tuple[str, ...]:
    """Lemmas 1 and 2 (``valid`` raises where one does not hold or is not decided) and the loop's
    induction, said; the split lemmas behind the dust facts are paid once and told to ``used``."""
    paid: dict[Any, Any] = {}
    first = symbolic_book(Bounds(accounts=TRADERS, events=1))[0].traders[0].name
    try:
        turn = valid(TURN.format(trader=first, n=TRADERS), *turn_question(policy, claim_id, paid))
        iteration = valid(ITERATION.format(n=TRADERS), *iteration_question(policy, claim_id, paid))
    finally:  # the dust lemma the lemmas used, paid whether both held or not
        for split in paid.values() if used is not None else ():
            used(split.stats)
    dust = [DUST] if any(lemma.verdict is Verdict.PROVED for lemma in paid.values()) else []
    return (
        *dust,
        f"{turn} (z3, exact)",
        f"{iteration} (z3, exact)",
        LOOP,
        "each trader's turn is its turn without the cascade followed, where it resolved the trader, by the loop "
        f"(the cascade invariant's decomposition): every system holder at or above zero after it ({ASSUMES})",
    )


#: what the transfers' turn step assumes beside :data:`ASSUMES` (its lemmas' premise, every holder at or
#: above zero before the turn and before each iteration, is what :func:`turn_lemmas` proves at every N)
TRANSFERS_ASSUMES = (
    "a resolution's transfers are those of a three-trader resolution's, one share of its split per payer"
)
#: the transfers' lemmas' names
TRANSFERS_TURN = (
    "the turn without the cascade ({trader}'s, {n} traders, every number free, every system holder at or above zero "
    "before it) moves a non-negative amount in every transfer"
)
TRANSFERS_ITERATION = (
    "one iteration of the cascade's loop ({n} traders, every number free, every system holder at or above zero "
    "before it) moves a non-negative amount in every transfer"
)


def transfer_lemmas(
    policy: Policy, valid: Valid, claim_id: str, used: Callable[[QueryStats], None] | None = None
) -> tuple[str, ...]:
    """The non-negative transfers through a turn (docs/solver-notes.md#drifts-claims-backed-at-n--8-the-transfers-for-every-n-session-23):
    lemmas 1 and 2's runs, each transfer's ``guard → amount ≥ 0`` (the bounded question's own
    obligation, ``symbolic.transfer_obligations``) valid on the free three-trader book from the same
    premise (the mark a price, every holder at or above zero, the dust facts). The premise holds before
    every turn and every iteration of a step at any N: the holders' lemmas (:func:`turn_lemmas`) keep
    it. ``valid`` raises where one does not hold; the dust lemma is paid once and told to ``used``."""
    paid: dict[Any, Any] = {}
    first = symbolic_book(Bounds(accounts=TRADERS, events=1))[0].traders[0].name
    try:
        turn = valid(
            TRANSFERS_TURN.format(trader=first, n=TRADERS), *turn_question(policy, claim_id, paid, transfers=True)
        )
        iteration = valid(
            TRANSFERS_ITERATION.format(n=TRADERS), *iteration_question(policy, claim_id, paid, transfers=True)
        )
    finally:
        for split in paid.values() if used is not None else ():
            used(split.stats)
    return (
        f"{turn} (z3, exact)",
        f"{iteration} (z3, exact)",
        "each trader's turn is its turn without the cascade followed by the loop's iterations (the cascade invariant's "
        "decomposition), each from a book with every system holder at or above zero (the holders' lemmas): every "
        f"transfer of every turn non-negative ({ASSUMES}; {TRANSFERS_ASSUMES})",
    )


__all__ = [
    "ASSUMES",
    "DUST",
    "ITERATION",
    "LOOP",
    "TRADERS",
    "TRANSFERS_ASSUMES",
    "TRANSFERS_ITERATION",
    "TRANSFERS_TURN",
    "TURN",
    "applies",
    "iteration_run",
    "iteration_question",
    "transfer_lemmas",
    "turn_lemmas",
    "turn_question",
    "turn_run",
]
