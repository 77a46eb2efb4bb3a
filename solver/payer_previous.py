"""The payer's claims where ADL closes the winners at the previous mark and a vault takes positions over.

Hyperliquid (``[[deficit]] price = "previous_mark"``, ``takeover_below_ppm``): an account below two
thirds of maintenance is taken over by the backstop vault with its margin; its deficit is the
vault's to pay, and what the vault cannot pay is ADL's, which closes the opposing winners at the
*previous* mark (docs/venues.md#hyperliquid-liquidation). The vault also holds what it took over,
and below zero it is itself deleveraged before the traders' turns (``engine.before_turns``). So the
payer's argument of :mod:`solvent.solver.payer_lemma` (written for ADL at the bankrupt account's
price, with only traders and the book holding positions) needs three changes, each a lemma on the
engine's own functions (two traders or one, every number free, exact z3):

1. **The charge of a trader's resolve** is asked of the resolve the engine runs, under the takeover
   rule (``resolution_facts.call_policy``; ``sweep_invariant.unreached_lemma``: the market rule's
   resolve is not reached). At the previous mark a winner closed for ``q`` lots pays ``q·|ΔM|``,
   exactly what those lots gained, so the same bound ``0 ≤ g ≤ |ΔM|`` holds; the bankrupt account is
   on the losing side (below zero, from a margin-meeting settled start).
2. **The vault's own deleveraging charges traders** before the turns, so the contract starts from
   the settled book (without ``before_turns``) and the vault's call has its own charge lemma
   (``sweep_invariant.pools_charge_lemma``: within the same bound where the vault is worth ≥ 0 at the
   previous mark, which settlement gives it: its cash before the move, ≥ 0).
3. **The vault's lots.** Where the vault holds lots opposite a bankrupt account, the queue and the
   book do not hold the whole position: the rest is closed to the vault at the mark, short of the
   previous mark. That is the vault's to pay, out of its worth at the previous mark: the contract
   takes the vault fresh at the trader's turn but worth ≥ 0 there, holding with the book every lot
   opposite (``payer_lemma._rest_with_vault``; without the vault's worth z3 has a model, a trader left
   below zero). The vault's worth stays ≥ 0 through the sweep (``sweep_invariant.vault_kept``:
   its own deleveraging with open interest balanced, and each trader's turn where that trader is
   worth ≥ 0 at the previous mark at its turn, the sweep's invariant, whose lemmas are asked here too).

The verdict covers one mark move from a well-formed start (the invariant's start lemma reads the
initial margin). (docs/solver-notes.md#hyperliquids-payer-claims-session-21)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant
from solvent.rules.arith import sum_
from solvent.rules.bankruptcy import resolve
from solvent.rules.book import Book, Role
from solvent.rules.collateral import convert_spot
from solvent.rules.engine import opening, settle
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.margin import equity
from solvent.rules.policy import Policy
from solvent.rules.wellformed import StartMargin
from solvent.solver import induction, queue_fills_lemma, sweep_invariant
from solvent.solver.bounds import Bounds
from solvent.solver.fund_facts import _starts
from solvent.solver.payer_facts import CLOSED, PayerFacts, _pairs, instance
from solvent.solver.payer_lemma import (
    ARITHMETIC,
    FLOOR,
    PAYER_CLAIMS,
    SETTLED_GAIN,
    WITHIN_POSITION,
    Assumed,
    _adl_only,
    applies,
    arithmetic,
    charge_lemma,
    charge_question,
    floor_lemma,
    floor_question,
    payer_contract,
    starting,
)
from solvent.solver.per_account import _decomposes, _one_event_frame
from solvent.solver.resolution_facts import call_policy
from solvent.solver.story import SlotRun, symbolic_book
from solvent.solver.verdicts import QueryStats

#: what the all-N verdict assumes, said in its scope (the payer's ADL_FILLS_ONLY, at the previous mark)
#: (the queue and the book taking the lots they hold opposite as the book alone would, the rest closed to
#: the vault, was said here until session 22; it is now a lemma, ``solver.queue_fills_lemma``)
ASSUMES = (
    "each trader's step depends on the others only through the system accounts and ADL's fills at the previous "
    "mark (a payer served after others closing at the same gap); " + sweep_invariant.ASSUMES
)


def fits(policy: Policy) -> bool:
    """Whether this argument is the payer's on ``policy``: ADL at the previous mark, the backstop
    vault the only pool holding positions, nothing else charging traders."""
    return sweep_invariant.applies(policy) and applies(policy, previous_mark=True, vault=True) is None


def argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[..., str],
    fail: Callable[[str], None],
    record: Callable[[QueryStats], None] = lambda stats: None,
    assumed: Assumed = starting,
    contract: bool = True,
) -> list[str]:
    """The lemmas of the module docstring, or ``fail(reason)`` where the argument does not apply
    (``valid`` raises where a lemma does not hold). ``assumed``: a trader's own assumptions at
    ``bounds.start_margin`` (the induction's premise, :func:`induction_argument`). ``contract=False``:
    every lemma but the claim's own contract (what the premise kept rests on, :func:`premise_lemmas`)."""
    if contract and invariant.id not in PAYER_CLAIMS:
        fail(f"{invariant.id}: the payer's argument covers {', '.join(PAYER_CLAIMS)}")
    why = applies(policy, previous_mark=True, vault=True)
    if why is not None or not sweep_invariant.applies(policy):
        fail(
            f"{invariant.id}: the payer's argument at the previous mark does not apply: {why or 'not at the previous mark'}"
        )
    _, book, slot = _one_event_frame(invariant, bounds, fail, "payer's")
    variants = [(v.event, v.label) for v in slot.variants]
    for event, label in variants:
        if not isinstance(event, MarkPrice):
            fail(f"{invariant.id} on {label}: the payer's argument covers mark moves")
    lemmas = []
    for event, label in variants:
        lemmas.append(_decomposes(policy, book, label, event, fail, first_phase_charges=True))
        lemmas.append(_adl_only(policy, book, label, event, fail))
    # the contract first: the costliest lemma, and the one a mutant of the vault's lots breaks
    for event, label in variants if contract else ():
        lemmas.append(
            payer_contract(
                policy, invariant, label, event, slot.field_bounds, valid, bounds.start_margin, assumed, True
            )
        )
    lemmas += charge_lemma(call_policy(policy), valid, fail)
    lemmas += sweep_invariant.pools_charge_lemma(policy, valid)
    lemmas.append(floor_lemma(policy, valid, bounds.start_margin, assumed))

    # the invariants' lemmas the direct check's facts proved just before (the same formulas) are
    # recalled, not asked again (``case_split.recalled``: 0 units, said in the queries)
    def said(name: str, how: str) -> None:
        record(QueryStats(name, how, 0.0))

    margin = StartMargin(bounds.start_margin)
    lemmas += list(sweep_invariant.prove(policy, valid, fail, said, margin).lemmas)
    lemmas += sweep_invariant.vault_kept(policy, valid, said)[0]
    # what the queue and the book close of a bankrupt account at any N (it was assumed before session 22)
    lemmas += queue_fills_lemma.lemma(policy, valid, fail, queue_fills_lemma.sizes(bounds.accounts))
    lemmas.append(
        f"aggregate: the vault's call before the turns and each turn charge a winner only by fills at the previous "
        f"mark (what its lots gained); a loser is never served, so it meets the charge lemma's premise at its turn; "
        f"the vault is worth ≥ 0 at the previous mark at every turn; {invariant.id} is each trader's contract, for any N"
    )
    return lemmas


def induction_fits(policy: Policy, bounds: Bounds) -> bool:
    """Whether a K-event question (K > 1) is one :func:`induction_argument` may decide: mark moves on
    one market, no collateral asset, no isolated position, a policy this argument fits."""
    moves = set(bounds.event_kinds) == {"mark"} and bounds.markets == 1 and not bounds.assets and not bounds.isolated
    return bounds.events > 1 and moves and bounds.start_margin != induction.PREMISE and fits(policy)


#: what an all-N, any-K verdict by :func:`induction_argument` assumes beyond the one move's
INDUCTION_ASSUMES = (
    f"{induction.ASSUMES}, and the vault's cash ≥ 0 at each move's start (kept by each move: "
    "sweep_invariant.vault_cash_kept)"
)


def induction_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[..., str],
    fail: Callable[[str], None],
    record: Callable[[QueryStats], None],
    open_interest: Callable[[Bounds], list[str]],
) -> list[str]:
    """A payer's claim over K mark moves, by induction (``solver.induction``'s, at the previous mark):
    the premise P of each trader (worth ≥ 0: on Hyperliquid its cash, the fee to close 0), the vault's
    cash ≥ 0 and open interest balanced hold at the start and each move keeps them; from them each
    move keeps the claim (:func:`argument` with P as each trader's start and the sweep's start lemma
    read from P). The sweep's invariant then holds at every move: each trader's and the vault's worth
    at the previous mark after settlement is its cash before the move, ≥ 0."""
    if invariant.id not in PAYER_CLAIMS:
        fail(f"{invariant.id}: the induction over moves covers {', '.join(PAYER_CLAIMS)}")
    lemmas = premise_lemmas(policy, invariant, bounds, valid, fail, record, open_interest, claim=True)
    lemmas.append(
        f"induction over mark moves: the premise ({induction.SAYS}), the vault's cash ≥ 0 and open interest "
        f"balanced hold at the start and each move keeps them; from them each move keeps {invariant.id} (the "
        f"payer's argument at the previous mark), so {invariant.id} holds after every move, for any N and any K"
    )
    return lemmas


def premise_lemmas(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[..., str],
    fail: Callable[[str], None],
    record: Callable[[QueryStats], None],
    open_interest: Callable[[Bounds], list[str]],
    claim: bool = False,
) -> list[str]:
    """The induction's lemmas on the premise (:func:`induction_argument`): its start, each trader's
    premise kept (the payer's contract with it as the claim), the vault's cash kept, what those rest
    on (the one-move argument from the premise; with ``claim``, the claim's own contract too) and open
    interest after every move. So the sweep's invariant holds at every move's sweep: the base of
    ``deficit-charged-once``'s call lemma at any K (``compositional._deficit_once``)."""
    one = attrs.evolve(bounds, events=1, start_margin=induction.PREMISE)
    _, _, slot = _one_event_frame(invariant, one, fail, "induction's")
    if not all(isinstance(v.event, MarkPrice) for v in slot.variants):
        fail(f"{invariant.id}: the induction over moves covers mark moves (the payer's argument's events)")
    lemmas = [induction.start_lemma(policy, bounds, valid)]
    kept = induction.premise_claim(policy)  # P kept first: where it fails the rest is not asked
    for variant in slot.variants:
        lemmas.append(
            payer_contract(
                policy,
                kept,
                variant.label,
                variant.event,
                slot.field_bounds,
                valid,
                induction.PREMISE,
                induction.assumed,
                True,
            )
        )
    lemmas += sweep_invariant.vault_cash_kept(policy, valid)
    lemmas += argument(policy, invariant, one, valid, fail, record, induction.assumed, contract=claim)
    lemmas += open_interest(attrs.evolve(bounds, events=1))
    return lemmas


# --- the facts of the direct check on the lemmas' book ---------------------------------------


def closed_question(policy: Policy, bankrupt: str) -> tuple[Book, list[Any], Any]:
    """The bankrupt's side at the previous mark (``payer_facts.bankrupt_question`` for Hyperliquid):
    on a fresh two-trader book, a trader holding a position and below zero, worth ≥ 0 at the previous
    mark, the vault too, with open interest balanced among the traders, the book and the vault, ends
    the engine's ``resolve`` (under the takeover rule) with no cash and no position: the vault pays
    for the lots it holds opposite, and at the previous mark the rest bring the account its worth,
    which goes to the vault. Without the vault's worth z3 has a model (an empty vault holding lots
    opposite). ``(book, premise, claim)``."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    vaults = sweep_invariant.pools(policy, book)
    liquidity = book.role(Role.LIQUIDITY).name
    held = [a for a in book.accounts if a.is_trader or a.name in (liquidity, *vaults)]
    account = book.account(bankrupt)
    premise = [
        book.market.mark_quote >= 1,
        account.size_lots != 0,
        equity(policy.margin, account) < 0,
        sum_(a.size_lots for a in held) == 0,
        *(a.size_lots == 0 for a in book.accounts if a not in held),
        *sweep_invariant.premise(book, (bankrupt, *vaults)),
    ]
    after = resolve(call_policy(policy), Ctx(book), bankrupt).book.account(bankrupt)
    return book, premise, z3.And(after.cash_quote == 0, after.size_lots == 0)


@attrs.frozen
class PreviousMarkFacts(PayerFacts):
    """The payer's facts at the previous mark: the charge and the bankrupt's side asked of the
    takeover rule's ``resolve`` (instantiated at the turn starts the question's own sweep recorded),
    the sweep's invariant (each trader's worth at the previous mark) and the vault's (its worth kept
    ≥ 0 through the sweep), each on the books the question's sweep reached."""

    sweep: sweep_invariant.SweepFacts | None = None
    vault: tuple[tuple[str, Book, Any], ...] = ()

    def _resolve_starts(self, policy: Policy, book: Book, run: Any) -> Iterable[tuple[str, Book]]:
        return [(t, convert_spot(policy.margin, Ctx(b), t).book) for t, b in _starts(policy, book, run)]

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun], gaps: list[Any] | None = None) -> list[Any]:
        out = super().instances(policy, book, runs, gaps)
        if len(book.traders) != 2:
            return out
        if self.sweep is not None:
            out += self.sweep.instances(policy, book, runs)
        for slot in runs[:1]:
            for run in slot.runs:
                event = run.variant.event
                if not isinstance(event, MarkPrice):
                    continue
                settled = settle(policy, opening(policy, book), event).book
                out += [
                    instance(f, list(_pairs(free, settled)))
                    for who, free, f in self.vault
                    if who == sweep_invariant.PHASE
                ]
                for trader, start in _starts(policy, book, run):
                    out += [instance(f, list(_pairs(free, start))) for who, free, f in self.vault if who == trader]
        return out


def facts(
    policy: Policy,
    valid: Callable[[str, list[Any], Any], str],
    start_margin: str = "initial",
    said: Callable[[str, str], None] | None = None,
) -> PayerFacts | None:
    """The payer's facts for the direct check where this argument fits (else None): each proved by
    ``valid`` (exact z3, every number free; it raises where one does not hold: no fact is given)."""
    if not fits(policy):
        return None
    names = ("alice", "bob")
    taken = call_policy(policy)
    closed = []
    for bankrupt in names:
        free, premise, claim = closed_question(policy, bankrupt)
        valid(f"{CLOSED} ({bankrupt}, at the previous mark, the vault worth ≥ 0)", premise, claim)
        closed.append((bankrupt, free, z3.Implies(z3.And(*premise), claim)))
    charges = []
    for bankrupt, payer in ((names[0], names[1]), (names[1], names[0])):
        charge = charge_question(taken, bankrupt, payer)
        if charge.per_fill or charge.gap is None:
            return None
        premise = list(charge.premise)
        valid(
            f"payer's charge as a fact ({bankrupt} bankrupt, {payer} paying): its fill and gap",
            premise,
            z3.And(charge.fill, charge.bound),
        )
        charges.append((charge, z3.Implies(z3.And(*premise), z3.And(charge.fill, charge.bound))))
    steps = []
    for name in (ARITHMETIC, WITHIN_POSITION, SETTLED_GAIN):
        premise, claim, variables = arithmetic(name)
        valid(name, list(premise), claim)
        steps.append((name, z3.Implies(z3.And(*premise) if len(premise) > 1 else premise[0], claim), variables))
    floor_book, premise, claim = floor_question(policy, start_margin)
    valid(FLOOR, premise, claim)
    exact = lambda name, pre, claim, exact=True: valid(name, pre, claim)  # noqa: E731
    sweep = sweep_invariant.prove(policy, exact, said=said, margin=StartMargin(start_margin))
    _, vault = sweep_invariant.vault_kept(policy, exact, said)
    lemmas = (
        "the payer's lemmas at the previous mark as facts (z3, exact, every number free; instantiated on the "
        "question's terms): the charge of each payer at each trader's resolve under the takeover rule, "
        "q·g ≤ q·|ΔM| ≤ |S|·|ΔM| = S·ΔM, the bankrupt's side (worth ≥ 0 at the previous mark, the vault too: "
        "it ends at zero), each trader's margin floor, the sweep's invariant and the vault's worth kept",
    )
    floor = (floor_book, z3.Implies(z3.And(*premise), claim))
    return PreviousMarkFacts(tuple(charges), tuple(steps), floor, tuple(closed), lemmas, sweep=sweep, vault=vault)


__all__ = [
    "ASSUMES",
    "INDUCTION_ASSUMES",
    "PreviousMarkFacts",
    "argument",
    "closed_question",
    "facts",
    "fits",
    "induction_argument",
    "induction_fits",
    "premise_lemmas",
]
