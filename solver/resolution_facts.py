"""A claim about one bankruptcy's resolution, proved of the engine's ``resolve`` and given to the step's question as facts.

``adl-price-fair`` (an ADL'd winner pays the bankrupt account at most its lots times the fair gap)
and ``deficit-charged-once`` (a bankrupt account's deficit is covered exactly once, by the layers
and the residual, and it receives no more than they covered) speak of what one account's
``rules.bankruptcy.resolve`` does: its fills, its layers, its transfers. Inside the step's question
they were undecided on Bybit (docs/solver-notes.md#one-bankruptcys-resolution-as-facts): a fill is
two guarded transfers each way round (``positions.fill``: the buyer pays ``max(q·(P − M), 0)``, the
seller ``max(−q·(P − M), 0)``), so the step's sum for one account holds the transfers of its own
``resolve`` and those of the other trader's, where the two swap roles and the one bankrupt there
"pays" ``max(−q'·g', 0)``: 0 only through a product's sign (``q'·g' ≥ 0`` from ``q' ≥ 0`` and
``g' ≥ 0``), which the purified products do not carry.

So the claim is proved first of the engine's own ``resolve`` (the ADL lemma's way,
:mod:`solvent.solver.adl_lemma`): on a fresh two-trader book whose every number is free, with only
the mark a price (≥ 1, as every question assumes), a trader's ``resolve``

- moves no ADL transfer out of the bankrupt account (each ``ADL`` entry it is the source of is 0
  under its guard: the winners pay it, never the other way), and
- keeps the claim itself on that one call: the catalog's own predicate applied to the entries and
  outcomes of the call (one semantics, no second statement of the claim).

Where pools hold positions ADL's queue does not reach (BitMEX's fund, ``rules.liquidation.pools_holding``),
``adl-price-fair`` gets a third fact: the same lemma of the pools' own deleveraging before the turns
(``rules.pool_bankruptcy.deleverage_pools``, the pools the bankrupt accounts), instantiated on the
book that call starts from in the question's step (opened and settled), so each ADL call of the
step is covered (docs/solver-notes.md#bitmexs-price-with-the-resolution-facts).

Both are valid for every value, so each is instantiated (``payer_facts.instance``) on the book each
trader's ``resolve`` starts from in the question's sweep (``payer_facts.resolve_starts``) and added
to the question as a fact: the question keeps exactly its models, and a refutation is still a
replayed story. What is left for z3 is linear: the step's sums for one account are its own call's
(bounded by the fact, the call's guards conjoined with its turn's) plus the other call's, 0 by the
fact. Where a lemma does not hold (a mutated engine) no fact is given and the question is asked as
before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.arith import and_, when
from solvent.rules.bankruptcy import resolve
from solvent.rules.book import Book
from solvent.rules.collateral import convert_spot
from solvent.rules.engine import opening, settle
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import pools_holding, takeover_rule
from solvent.rules.policy import Policy
from solvent.rules.pool_bankruptcy import deleverage_pools
from solvent.solver import sweep_invariant
from solvent.solver.bounds import Bounds
from solvent.solver.case_split import recalled
from solvent.solver.fund_facts import _starts as fund_starts
from solvent.solver.payer_facts import Valid, _pairs, instance, resolve_starts
from solvent.solver.payer_lemma import applies
from solvent.solver.story import SlotRun, symbolic_book

#: the claims about one resolution whose question gets these facts
RESOLUTION_CLAIMS = ("deficit-charged-once", "adl-price-fair")
#: the lemma's name, with the claim and the bankrupt account after it
LEMMA = "one resolution: no ADL transfer leaves the bankrupt account, and the claim holds of the call"
#: said of a lemma the question proved already (``deficit-charged-once``'s all-N argument proves the
#: same formula first, ``solver.deficit_once``): no query
PROVED_BEFORE = (
    "proved earlier in this question (the all-N argument's lemma on the same call, the same z3 term): no query"
)


#: the claim whose call lemma rests on the sweep's invariant where ADL closes at the previous mark
ONCE = "deficit-charged-once"
#: the claim whose facts also cover the pools' own deleveraging (:data:`POOLS`)
PRICE = "adl-price-fair"
#: what the lemmas' line adds where the pools' call has a fact too
AND_POOLS = " and of the pools' own deleveraging"
#: the name :class:`ResolutionFacts` gives the pools' own deleveraging among its calls
POOLS = "the pools"


def call_policy(policy: Policy) -> Policy:
    """The policy a bankrupt trader's ``resolve`` runs under in the engine's turn: under a takeover
    threshold (``liquidation.takeover_below_ppm``, Hyperliquid) an account below zero is taken over
    by the backstop vault (``engine.liquidate``: ``takeover_rule``, the rest of its position closed
    to the vault), since below zero is below any share of a maintenance ≥ 0; the market rule's
    ``resolve`` is not reached (``solver.sweep_invariant.unreached_lemma``; the engine branches on
    below zero first and builds no other resolve, ``engine._below_zero_is_taken_over``). Else
    ``policy``."""
    if policy.liquidation.takeover_below_ppm is None:
        return policy
    return attrs.evolve(policy, liquidation=takeover_rule(policy.liquidation))


def fits(policy: Policy, claim_id: str) -> bool:
    """Whether these facts serve ``claim_id``'s question on ``policy``: where the payer's argument
    fits (one sweep, ADL at the bankrupt account's price the only layer that moves money between
    traders), and for ``adl-price-fair``, which does not need a bankrupt position taken whole, also
    where the queue may leave part of it: dYdX's overlap rule, and pools holding what ADL's queue
    does not reach (BitMEX's fund), whose own deleveraging is one more call, with a fact of its own."""
    if claim_id == PRICE:
        return applies(policy, whole=False) is None
    if sweep_invariant.applies(policy):  # Hyperliquid: the call's lemma with the sweep's invariant
        return applies(policy, whole=False, previous_mark=True) is None and not policy.adl.overlap_only
    # deficit-charged-once where pools hold what the queue does not reach too (BitMEX's fund: each
    # call's claim and the pools' own, docs/solver-notes.md#deficit-charged-once-for-every-n-and-k-issue-18),
    # not where the queue skips an offsetting account (dYdX: its per-fill walk)
    return applies(policy, whole=False) is None and not policy.adl.overlap_only


def resolution_question(policy: Policy, bankrupt: str, claim_id: str, accounts: int = 2) -> tuple[Book, list[Any], Any]:
    """The lemma on the engine's ``resolve`` for ``bankrupt`` on a fresh two-trader book (every
    number free, the mark a price): ``(book, premise, claim)``; for :data:`POOLS`, on the pools'
    own deleveraging (``deleverage_pools``), every pool holding a position a bankrupt account.
    ``accounts``: the book's traders (``solver.deficit_once`` asks the pools' call beside one)."""
    book, _ = symbolic_book(Bounds(accounts=accounts, events=1))
    if bankrupt == POOLS:
        out = deleverage_pools(policy, Ctx(book))
        bankrupts = {book.role(role).name for role in pools_holding(policy.liquidation)}
    else:
        out, bankrupts = resolve(call_policy(policy), Ctx(book), bankrupt), {bankrupt}
    reverse = [
        when(g.guard, g.item.amount_quote) == 0
        for g in out.entries
        if g.item.reason is Reason.ADL and g.item.source in bankrupts
    ]
    call = StepView(policy, book, None, out.book, out.entries, out.outcomes)
    claim = and_(*reverse, catalog.get(claim_id).holds(call))
    premise = [book.market.mark_quote >= 1]
    if claim_id == ONCE and sweep_invariant.applies(policy):
        # ADL at the previous mark: the bankrupt account worth ≥ 0 there (the sweep's invariant)
        premise += sweep_invariant.premise(book, tuple(sorted(bankrupts)))
    return book, premise, z3.BoolVal(claim) if type(claim) is bool else claim


@attrs.frozen
class ResolutionFacts:
    """The lemma, proved for each bankrupt account of the two-trader book (``formula`` is
    ``premise → claim``), ready to be instantiated on a question's terms."""

    calls: tuple[tuple[str, Book, Any], ...]
    lemmas: tuple[str, ...]
    #: where the call's lemma rests on the sweep's invariant (ADL at the previous mark): its facts
    sweep: sweep_invariant.SweepFacts | None = None

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """The lemma's instance at each trader's ``resolve`` in the sweep of the question's one mark
        move."""
        out = []
        for slot in runs[:1]:
            for run in slot.runs:
                if not isinstance(run.variant.event, MarkPrice):
                    continue
                event = run.variant.event
                if any(b == POOLS for b, _, _ in self.calls):  # the pools' call starts from the settled book
                    starts = settle(policy, opening(policy, book), event).book
                    out += [instance(f, list(_pairs(free, starts))) for b, free, f in self.calls if b == POOLS]
                for trader, starts in self._resolve_starts(policy, book, run):
                    out += [instance(f, list(_pairs(free, starts))) for b, free, f in self.calls if b == trader]
        if self.sweep is not None:
            out += self.sweep.instances(policy, book, runs)
        return out

    def _resolve_starts(self, policy: Policy, book: Book, run: Any) -> list[tuple[str, Book]]:
        """Each trader's resolve start in ``run``'s sweep: with the sweep's invariant, the turn
        starts the question's own sweep recorded (its spot converted, as ``liquidation_turn`` does:
        the same terms, the sweep not built a second time); else ``payer_facts.resolve_starts``."""
        if self.sweep is None:
            return list(resolve_starts(policy, book, run.variant.event))
        return [(t, convert_spot(policy.margin, Ctx(b), t).book) for t, b in fund_starts(policy, book, run)]


def prove(
    policy: Policy, valid: Valid, claim_id: str, said: Callable[[str, str], None] | None = None
) -> ResolutionFacts | None:
    """The lemma for ``claim_id`` on ``policy``, for each trader of the two-trader book, each proved
    by ``valid`` (exact z3, every number free; it raises where the lemma does not hold: no fact is
    given then). None where ADL does not close at the bankrupt account's price or the payer's
    argument does not fit (the policies of :mod:`solvent.solver.payer_facts`: one sweep, ADL the
    only layer that moves money between traders). A lemma this question proved already (the same
    formula, ``case_split.recalled``) is not asked again: ``said`` records it with no units."""
    if claim_id not in RESOLUTION_CLAIMS or not fits(policy, claim_id) or policy.adl is None:
        return None
    calls = []
    sweep = None
    if claim_id == ONCE and sweep_invariant.applies(policy):
        sweep = sweep_invariant.prove(
            policy, lambda name, premise, claim, exact=True: valid(name, premise, claim), said=said
        )
    pools = (POOLS,) if pools_holding(policy.liquidation) else ()
    for bankrupt in ("alice", "bob", *pools):
        free, premise, claim = resolution_question(policy, bankrupt, claim_id)
        formula = z3.Implies(z3.And(*premise), claim)
        name = f"{LEMMA} ({claim_id}, {bankrupt})"
        if said is not None and recalled(formula) == "unsat":
            said(name, PROVED_BEFORE)
        else:
            valid(name, premise, claim)
        calls.append((bankrupt, free, formula))
    lemmas = (
        f"{claim_id} of each trader's resolve{AND_POOLS if pools else ''} as a fact "
        "(z3, exact, every number free; instantiated on the question's terms), with no ADL transfer leaving the "
        "bankrupt account",
    )
    if sweep is not None:
        lemmas += (f"the bankrupt account worth ≥ 0 at the previous mark: {'; '.join(sweep.lemmas)}",)
    return ResolutionFacts(tuple(calls), lemmas, sweep)


__all__ = [
    "LEMMA",
    "POOLS",
    "PROVED_BEFORE",
    "RESOLUTION_CLAIMS",
    "ResolutionFacts",
    "call_policy",
    "fits",
    "prove",
    "resolution_question",
]
