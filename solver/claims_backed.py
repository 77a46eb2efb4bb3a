"""``claims-backed`` decided by its parts: no-negative-equity's verdict and the system holders' own question.

``claims-backed`` says every holder that is not the venue, the clearing account or the liquidity
account has a non-negative value after the step: each trader (``catalog._value(...) >= 0``, the very
predicate of ``no-negative-equity``) and each system holder's cash (the insurance fund's, the fee
account's, the backstop vault's). Asked whole it was undecided on every ADL preset's N = 4, N = 8 and
K = 3 question (README "Every claim on every preset, N = 4"): z3 follows every trader's equity and
the fund's chain of turns in one query, where each half alone is decided by an argument of its own
(the traders' by no-negative-equity's all-N lemmas, the fund's by its turn lemma as facts).

So the claim is asked as the conjunction of two parts (docs/solver-notes.md#claims-backed-by-its-parts-issue-18):

1. **The parts equal the claim** (z3, once per question): on a free book of the question's shape
   (N traders, its markets and assets; every number free), ``claims-backed`` ⇔ ``no-negative-equity``
   ∧ :data:`SYSTEM`, the catalog's own predicates read on the same view. The view holds only the
   book after the step: a predicate that reads anything else (the entries, the book before) stops
   the check, and the claim is asked whole as before. Valid for every value of the book's numbers,
   so valid of the book any step leaves (its terms put for those numbers).
2. **The traders' part** is ``no-negative-equity``'s verdict: in ``solvent check``, its own answer
   from earlier in the same check (claims-backed is asked after it, in a fixed order:
   ``verdicts.proofs.LAST``); in ``solvent prove``, asked inside this question's purse, on the lemmas'
   book (two traders) where N is larger: an all-N verdict there covers N, any other says nothing of
   N and leaves the part undecided.
3. **The system holders' part** (:data:`SYSTEM`) is its own question at N, with the fund's turn
   lemma as facts where it applies (``fund_facts.FUND_CLAIMS``), and the non-negative transfers
   obligation beside it (claims-backed's own); or, where :func:`holders_every_n` holds, proved for
   every N, the transfers then asked at N alone, or for every N too under the socialized loss's
   cascade (:func:`transfers_every_n`).

Both parts proved: PROVED, the scope the narrower of the two (the traders' all-N assumption said).
A part refuted: its story replayed on the concrete engine against ``claims-backed`` itself; only a
replayed failure is REFUTED. Otherwise the parts say nothing and the whole question is asked with
what they left (``solver.prove``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import Invariant, Severity, StepView
from solvent.rules.arith import all_
from solvent.rules.book import Role
from solvent.rules.engine import after_sweep, before_turns, closing, liquidation_turn, opening, settle, transition
from solvent.rules.ledger import HAIRCUT_REASONS, Ctx, Guarded
from solvent.rules.outcomes import DeleverageAttempt
from solvent.solver import (
    cascade_holders,
    cascade_invariant,
    clock,
    fund_facts,
    gen_b_payer,
    gen_b_transfers,
    haircut_payer,
    payer_previous,
    queue_fills_lemma,
    start_mark,
    sweep_invariant,
)
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import LEMMA_TRADERS, _Checker, _Failed
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, takes_over
from solvent.solver.payer_lemma import applies as payer_applies
from solvent.solver.per_account import (
    _conjuncts,
    _decomposes,
    _one_event_frame,
    _own,
    _reads_only,
    _settled,
    integer_atoms,
)
from solvent.solver.refinement import replay
from solvent.solver.story import _nonnegative_anyway, symbolic_book
from solvent.solver.symbolic import transfer_obligations
from solvent.solver.verdicts import (
    TRANSFERS,
    Counterexample,
    ObligationResult,
    ProofResult,
    QueryStats,
    Verdict,
    combine,
)
from solvent.solver.z3_backend import is_z3

#: the claim asked by its parts
CLAIM = "claims-backed"
#: the sibling whose predicate is the claim's trader conjuncts
TRADERS = "no-negative-equity"
#: the holders neither a trader nor the venue, clearing or liquidity account
_NOT_HOLDERS = (Role.VENUE, Role.CLEARING, Role.LIQUIDITY)
#: the part's id (not in the catalog: a part of claims-backed, asked by it)
SYSTEM_ID = "claims-backed/system-holders"
#: the equivalence check's units at most (measured: 2-40 units on every bundled preset's N = 2 and
#: N = 4 book: the two sides share their terms, so z3's simplifier decides it)
EQUIVALENCE_UNITS = 200_000
#: where the traders' part is asked here too (``solvent prove``), it is kept at least this part of
#: the question (a quarter), the system holders' question asked first with the rest: a refutation
#: there (a fund paid below zero) is found with most of what the whole question had, and its build
#: grows with N where the traders' part, asked on two traders, does not (okx at N = 8: the system
#: holders 8.58M, 7.00M of it the build, no-negative-equity 2.74M: proved in 11.32M of 12M, where
#: half each left the build out of units); the traders' part gets all the system holders left
SYSTEM_SHARE = 4
#: the system holders' all-N argument (:func:`holders_every_n`) gets at most this part of their share
EVERY_N_SHARE = 8
#: what the system holders' all-N argument assumes, said in the verdict's scope
EVERY_N_ASSUMES = (
    "the phases around the turns write the system holders as on two traders (a holder's settlement reads only "
    f"its own account), and in each turn {ADL_FILLS_ONLY}"
)
#: the same where the backstop vault holds what it takes over and ADL closes at the previous mark
#: (``payer_previous.fits``: Hyperliquid): the vault's own call before the turns is one more call the
#: queue and the book serve, and the lots the vault holds are not the book's
#: (until session 22 it also said the queue and the book take the lots they hold opposite as the book alone
#: would, the rest closed to the vault: now a lemma, ``solver.queue_fills_lemma``, asked in :func:`_restored`)
EVERY_N_ASSUMES_PREVIOUS = (
    "the phases around the turns write the system holders as on two traders (a holder's settlement reads only "
    "its own account), and in the vault's own deleveraging and in each turn the bankrupt account (the vault or a "
    "trader) reads the other traders only through ADL's fills at the previous mark"
)


#: the same under percolator Gen B's waterfall (``_by_gen_b``: a per-lot charge of the opposing side with a
#: cascade and the write-off): each turn (its resolve, the charge, the cascade) on two traders
EVERY_N_ASSUMES_GEN_B = (
    "the phases around the turns write the system holders as on two traders (a holder's settlement reads only "
    "its own account), and each turn on Gen B (its resolve, the per-lot charge of the opposing side, the cascade "
    "and the write-off) writes them as the two-trader turn does: the fund pays at most what it holds above its "
    "floor and takes the charge's dust, the fee account and the vault what the turn's own trader gives them, the "
    "other traders' lots reaching the holders only through the charge's shares"
)


def _system_holders(view: StepView) -> Any:
    """Every holder that is not a trader (nor the venue, clearing or liquidity account) holds a
    non-negative cash balance after the step: the insurance fund, the fee account, the vault."""
    book = view.after
    return all_(a.cash_quote >= 0 for a in book.accounts if not a.is_trader and a.role not in _NOT_HOLDERS)


SYSTEM = Invariant(
    SYSTEM_ID,
    "claims-backed's system holders: the insurance fund, fee account and vault hold no negative cash balance",
    Severity.CRITICAL,
    _system_holders,
)

#: the fund's own claim, one of the system holders (at K > 1 it has an induction over events:
#: ``fund_facts.inducts``)
FUND = "insurance-fund-non-negative"
#: the other pools' part's id (not in the catalog: a part of the system holders, asked by them)
POOLS_ID = "claims-backed/other-pools"


def _other_pools(view: StepView) -> Any:
    """The system holders but the insurance fund: the fee account and the vault hold no negative cash."""
    book = view.after
    return all_(
        a.cash_quote >= 0
        for a in book.accounts
        if not a.is_trader and a.role not in (*_NOT_HOLDERS, Role.INSURANCE_FUND)
    )


POOLS = Invariant(
    POOLS_ID,
    "claims-backed's system holders but the insurance fund: the fee account and vault hold no negative cash balance",
    Severity.CRITICAL,
    _other_pools,
)


class _Unread:
    """A part of the step view the parts' predicates must not read (see :func:`equivalence`)."""

    def __getattr__(self, name: str) -> Any:
        raise _Failed(f"a predicate of {CLAIM} or its parts reads the step beyond the book after it ({name})")

    def __iter__(self) -> Any:
        raise _Failed(f"a predicate of {CLAIM} or its parts reads the step's entries")


def equivalence(policy: Any, bounds: Bounds, checker: _Checker) -> str:
    """``claims-backed`` ⇔ ``no-negative-equity`` ∧ :data:`SYSTEM` for every value of a free book of
    ``bounds``' shape (z3, exact), the catalog's own predicates read on a view that holds the book
    after the step only; :class:`_Failed` where it does not hold or a predicate reads more."""
    book, _ = symbolic_book(attrs.evolve(bounds, events=1))
    unread = _Unread()
    # each trader free to have been deferred to a later block or not (``StepView.deferred``, which both
    # sides read): the equivalence holds for every pattern of deferrals a step may note
    deferrals = tuple(Guarded(z3.Bool(f"deferred.{a.name}"), DeleverageAttempt(a.name, True)) for a in book.traders)
    view = StepView(policy, unread, unread, book, unread, deferrals)  # type: ignore[arg-type]
    whole, traders, system = (p(view) for p in (catalog.get(CLAIM).holds, catalog.get(TRADERS).holds, SYSTEM.holds))
    as_z3 = [z3.BoolVal(x) if type(x) is bool else x for x in (whole, traders, system)]
    name = f"{CLAIM} equals {TRADERS} and its system holders (every book of {bounds.accounts} traders)"
    return checker.valid(name, [], as_z3[0] == z3.And(as_z3[1], as_z3[2]), exact=True)


@attrs.frozen
class Parts:
    """What the parts answered: ``result`` the claim's verdict where they decide it (None: the
    whole question is asked, with ``queries``' units spent), and why they did not."""

    result: ProofResult | None
    queries: tuple[QueryStats, ...]
    reason: str
    #: the non-negative transfers obligation the system holders' question proved at N (claims-backed's
    #: own obligation, the same engine on the same bounds): kept where the claim is asked whole after
    transfers: ObligationResult | None = None


def covers(result: ProofResult, bounds: Bounds) -> bool:
    """Whether ``result``'s own claim obligation was proved on a scope that holds ``bounds``' books:
    every N or at least N traders, every K or at least K events, the same event kinds and prices."""
    own = next((o for o in result.obligations if o.obligation == result.invariant), None)
    scope = result.scope if own is None or own.scope is None else own.scope
    asked = scope_text(bounds)
    return (
        (own.verdict if own is not None else result.verdict) is Verdict.PROVED
        and (scope.accounts is None or scope.accounts >= bounds.accounts)
        and (scope.events is None or scope.events >= bounds.events)
        and (scope.kinds, scope.prices) == asked
    )


def scope_text(bounds: Bounds) -> tuple[tuple[str, ...], str]:
    from solvent.solver.prove import scope_of

    scope = scope_of(bounds)
    return scope.kinds, scope.prices


def by_parts(
    policy: Any,
    bounds: Bounds,
    units: int,
    ask: Callable[[str | Invariant, Bounds, bool], ProofResult],
    given: Mapping[str, ProofResult] | None = None,
) -> Parts:
    """``claims-backed`` within ``units`` by its parts (see the module docstring). ``ask(claim,
    bounds, transfers)`` is ``solver.prove``'s question (a fresh one, in its own purse);
    ``given``: answers a caller already has (``solvent check``'s, of the same bounds but effort)."""
    checker = _Checker(bounds, units=min(units, EQUIVALENCE_UNITS))
    try:
        equivalence(policy, bounds, checker)
    except _Failed as failed:
        return Parts(None, tuple(checker.queries), f"the parts were not asked: {failed.args[0]}")
    queries = list(checker.queries)
    left = units - sum(q.units for q in queries)
    traders = None if given is None else given.get(TRADERS)
    if traders is not None and traders.verdict in (Verdict.UNKNOWN, Verdict.PARTIAL) and traders.units < left:
        # check's own answer ran out within fewer units than this question holds: asked here, within this
        # purse, as solvent prove asks it (docs/solver-notes.md#claims-backed-asks-again-what-check-left-undecided-session-32)
        traders = None
    said = "from this check's own answer"
    if traders is not None:  # an answer the caller has: it decides whether the system part is asked
        stop = _traders_stop(policy, bounds, traders, tuple(queries), said)
        if stop is not None:
            return stop
    # the system holders at N: all that is left where the traders' answer is given, else three quarters
    share = left if traders is not None else left - left // SYSTEM_SHARE
    tried: list[QueryStats] = []  # the all-N argument's lemmas, where it was asked (counted either way)
    # at K > 1 only where the argument covers the moves (hyperliquid: the vault's restore, every holder over moves)
    every_n = bounds.events == 1 or _over_moves(policy, bounds)
    every = _every_n_lemmas(policy, bounds, share, tried) if every_n else None
    asked = len(checker.queries)
    by_fund = (
        _by_fund(policy, bounds, share, ask, checker) if every is None and fund_facts.inducts(FUND, bounds) else None
    )
    split = checker.queries[asked:]  # the split's own check (z3, a few units), counted before its parts
    split += tried
    if every is not None:
        # the system holders proved for every N by lemmas on two traders: what is left to ask of them is the
        # non-negative transfers at N, whose build grows with N and on which neither part's verdict rests;
        # the traders' part first, with all but those lemmas, and the transfers last, with what it left
        # (docs/solver-notes.md#hyperliquids-claims-backed-session-22)
        queries += split
        left -= _spent(split)
        if traders is None:
            traders, said, stop = _traders_here(policy, bounds, ask, left, queries)
            left -= traders.units
            if stop is not None:
                return stop
        system = _every_n(policy, bounds, every, left, per_count=any(q.name.startswith(PER_COUNT) for q in tried))
        queries += list(system.queries)
        left -= system.units
    else:
        system = by_fund or ask(SYSTEM, attrs.evolve(bounds, effort=max(share - _spent(split), 1)), True)
        queries += split + list(system.queries)
        left -= system.units + _spent(split)
    if system.verdict is Verdict.REFUTED:
        refuted = replayed(policy, bounds, system, tuple(queries))
        if refuted is not None:
            return Parts(refuted, tuple(queries), "")
    own = next((o for o in system.obligations if o.obligation == SYSTEM_ID), None)
    if own is None or own.verdict is not Verdict.PROVED:
        moved = next((o for o in system.obligations if o.obligation == TRANSFERS and o.verdict is Verdict.PROVED), None)
        return Parts(None, tuple(queries), f"the system holders' question undecided: {system.reason}", moved)
    if traders is None:  # asked here, with the rest: on the lemmas' book where N is larger
        traders, said, stop = _traders_here(policy, bounds, ask, left, queries)
        if stop is not None:
            moved = next(
                (o for o in system.obligations if o.obligation == TRANSFERS and o.verdict is Verdict.PROVED), None
            )
            return attrs.evolve(stop, transfers=moved if stop.result is None else None)
    t_own = next((o for o in traders.obligations if o.obligation == TRADERS), None)
    t_scope = traders.scope if t_own is None or t_own.scope is None else t_own.scope
    both = [a for a in (t_scope.assumes, own.scope.assumes) if a]
    # each said once: one part's that the other's contains (the cascade's holders restate the traders') is dropped
    said_by = [a for a in both if not any(a != b and a in b for b in both)]
    # every N only where both parts are proved for every N (else the question's N: the traders' part covers it)
    accounts = own.scope.accounts if t_scope.accounts is None else (own.scope.accounts or bounds.accounts)
    scope = attrs.evolve(own.scope, accounts=accounts, assumes="; ".join(dict.fromkeys(said_by)) or t_scope.assumes)
    claim = ObligationResult(CLAIM, Verdict.PROVED, "", scope)
    obligations = (claim, *(o for o in system.obligations if o.obligation != SYSTEM_ID))
    verdict, reason = combine(list(obligations))
    # the headline says every obligation's assumption where all are proved for every N (the transfers' own
    # where their all-N argument held: claims_backed.transfers_every_n), each said once
    heads = [
        scope.assumes,
        *(o.scope.assumes for o in obligations[1:] if o.scope is not None and o.scope.accounts is None),
    ]
    heads = [a for a in dict.fromkeys(heads) if a]
    head = attrs.evolve(scope, assumes="; ".join(a for a in heads if not any(a != b and a in b for b in heads)))
    method = (
        f"by its parts: {CLAIM} equals {TRADERS} and the system holders' cash (z3, valid on every book of "
        f"{bounds.accounts} traders); {TRADERS} proved ({t_scope.text}; {said}: {traders.method}); the system holders "
        f"proved ({own.scope.text}: {system.method})"
    )
    result = attrs.evolve(
        system,
        invariant=CLAIM,
        verdict=verdict,
        reason=reason,
        scope=head if scope.accounts is None else scope,
        obligations=obligations,
        method=method,
        queries=tuple(queries),
        lemmas=traders.lemmas + system.lemmas,
    )
    return Parts(result, tuple(queries), "")


def _by_fund(
    policy: Any,
    bounds: Bounds,
    units: int,
    ask: Callable[[str | Invariant, Bounds, bool], ProofResult],
    checker: _Checker,
) -> ProofResult | None:
    """At K > 1 mark moves, where the fund's claim has its induction over events
    (``fund_facts.inducts``): the system holders as the fund's claim (first, within half of
    ``units``) and the other pools' (:data:`POOLS`, with the transfers, within the rest), once z3
    shows the two together are the system holders' predicate on a free book. Asked whole, the system
    holders at N = 3, K = 3 ran out on OKX (11.1M units exact), where the fund's induction decides it
    and the fee account's question is small
    (docs/solver-notes.md#the-per-trader-claims-at-k--3-by-induction-session-20). A result shaped as
    the system holders' question's (its obligation :data:`SYSTEM_ID`); None where the split does not
    hold (the system holders are then asked whole, as before)."""
    book, _ = symbolic_book(attrs.evolve(bounds, events=1))
    unread = _Unread()
    view = StepView(policy, unread, unread, book, unread, unread)  # type: ignore[arg-type]
    try:
        whole, fund, pools = (
            z3.BoolVal(x) if type(x) is bool else x
            for x in (SYSTEM.holds(view), catalog.get(FUND).holds(view), POOLS.holds(view))
        )
        name = f"{SYSTEM_ID} equals {FUND} and the other pools (every book of {bounds.accounts} traders)"
        checker.valid(name, [], whole == z3.And(fund, pools), exact=True)
    except _Failed:
        return None
    units -= checker.queries[-1].units
    first = ask(FUND, attrs.evolve(bounds, effort=max(units // 2, 1)), False)
    asked = list(first.queries)
    own = next((o for o in first.obligations if o.obligation == FUND), None)
    if first.verdict is Verdict.REFUTED:
        return attrs.evolve(first, queries=tuple(asked))
    if own is None or own.verdict is not Verdict.PROVED:
        reason = f"{FUND}: {own.reason if own is not None else first.reason}"
        claim = ObligationResult(SYSTEM_ID, Verdict.UNKNOWN, reason, first.scope)
        return attrs.evolve(first, verdict=Verdict.UNKNOWN, reason=reason, obligations=(claim,), queries=tuple(asked))
    rest = ask(POOLS, attrs.evolve(bounds, effort=max(units - first.units, 1)), True)
    asked += list(rest.queries)
    if rest.verdict is Verdict.REFUTED or rest.verdict is Verdict.VACUOUS:
        return attrs.evolve(rest, queries=tuple(asked))
    pools_own = next((o for o in rest.obligations if o.obligation == POOLS_ID), None)
    proved = pools_own is not None and pools_own.verdict is Verdict.PROVED
    scope = pools_own.scope if proved and pools_own.scope is not None else rest.scope  # the narrower: N and K
    reason = "" if proved else f"{POOLS_ID}: {pools_own.reason if pools_own is not None else rest.reason}"
    claim = ObligationResult(SYSTEM_ID, Verdict.PROVED if proved else Verdict.UNKNOWN, reason, scope)
    obligations = (claim, *(o for o in rest.obligations if o.obligation != POOLS_ID))
    verdict, why = combine(list(obligations))
    method = (
        f"by the fund and the other pools ({name}, z3): {FUND} proved ({own.scope.text}: {first.method}); "
        f"the fee account and vault: {rest.method}"
    )
    return attrs.evolve(
        rest,
        invariant=SYSTEM_ID,
        verdict=verdict,
        reason=why,
        scope=scope,
        obligations=obligations,
        method=method,
        lemmas=first.lemmas + rest.lemmas,
        queries=tuple(asked),
    )


def _over_moves(policy: Any, bounds: Bounds) -> bool:
    """Whether the system holders' all-N argument is asked over K > 1 mark moves (its premise kept by
    each move, :func:`_moves_premise`): where the traders' part has its own induction over moves
    with the payer's coupling, at the previous mark (hyperliquid, ``payer_previous``) or on Bybit's
    start-mark premise (``solver.start_mark``)."""
    # or on the socialized loss's cascade (drift, mango-v4: the traders' part by the cascade invariant's
    # induction over moves, solver.cascade_invariant; its turn step here the cascade's, ``_by_cascade``)
    over = payer_previous.induction_fits(policy, bounds) or start_mark.fits(policy, bounds)
    # or on Gen A's haircut (the traders' part by the junior cover's induction over moves on percolator's
    # residual, solver.haircut_payer; its turn step here the holders' turn lemma, ``_by_haircut``)
    over = over or cascade_invariant.inducts(policy, bounds) or haircut_payer.inducts(policy, bounds)
    # or on Gen B's waterfall (the traders' part by the payer's bound's induction over moves, solver.gen_b_payer;
    # its turn step here the holders' turn lemma on Gen B's own turn, ``_by_gen_b``)
    return over or gen_b_payer.inducts(policy, bounds)


def holders_every_n(policy: Any, bounds: Bounds, checker: _Checker) -> tuple[str, ...]:
    """The system holders' cash at or above zero after one mark move for every N, by induction over
    the sweep's turns (each lemma z3, exact, on two traders; :class:`_Failed` where one does not hold
    or the question is not one this argument covers; docs/solver-notes.md#bybit-at-k--3-and-n--8-session-21):

    1. *decomposition* (``per_account._decomposes``): the step is opening, settle, before the turns,
       one liquidation turn per trader, after the sweep, closing; the phases around the turns touch
       no trader;
    2. *before the turns*: from the question's own assumptions on the holders (``pools non-negative``
       and what they may hold), every holder's cash is at or above zero after opening, settle and
       the phase before the turns, and each such term reads only that holder's own account and the
       market, so it is the same term on a book of any N;
    3. *each turn* (``fund_facts.HOLDERS_LEMMA``, on a free book of two traders, every number free;
       bob's turn by renaming): a turn that starts with every holder at or above zero ends with them
       there. On N traders a turn's waterfall reads the others only through ADL's fills, and the queue
       and the book take the bankrupt position as the book alone would (the payer's argument's own
       assumption, ``payer_lemma.ADL_FILLS_ONLY``), so the holders' cash after it is that of the
       two-trader turn whose other side is the book's;
    4. *after the sweep*: the phases after the turns write no entry to or from a holder.

    So the holders start at or above zero, the phases before the turns keep them there, each turn
    keeps them there and nothing after the turns writes them: after the step for every N. The
    question's start assumption "pools non-negative" is the induction's base. Only where the payer's
    argument fits (``payer_lemma.applies``: ADL at the bankruptcy price the only layer that charges
    traders, no pool holding lots the queue cannot reach): its assumption describes no other engine
    (a socialized loss per lot, a haircut or a clawback reads every trader in a turn). Or, under a
    socialized loss per lot with a cascade where the cascade invariant applies (Drift, Mango v4),
    step 3 is the socialized loss's own (``solver.cascade_holders``: the turn without the cascade and
    one iteration of the loop, each on three traders, the loop by induction over its iterations;
    docs/solver-notes.md#drifts-claims-backed-and-bybits-principal-protected-at-n--8-session-22).
    Or, under Gen A's haircut ratio where its junior cover's argument covers the policy (:func:`_by_haircut`),
    step 3 is the holders' turn lemma on two traders again, with the turn's entries to or from a holder
    checked to read no other trader, none a haircut share (:func:`_turn_writes_own`),
    and the decomposition's opening (the conversion at h) and closing each trader's own; over K moves where the
    junior cover inducts (``haircut_payer.inducts``)
    (docs/solver-notes.md#gen-as-claims-backed-for-every-n-session-25). Gen B's turn step (:func:`_gen_b_turns`)
    over K moves where its payer's bound inducts (``gen_b_payer.inducts``)
    (docs/solver-notes.md#gen-bs-claims-backed-over-moves-for-every-n-session-26)."""
    moves = bounds.events > 1 and _over_moves(policy, bounds) and not clock.reads_clock(policy)
    if (bounds.events != 1 and not moves) or bounds.accounts < LEMMA_TRADERS or not fund_facts.applies(bounds):
        raise _Failed(f"{SYSTEM_ID}: the all-N argument covers one mark move on a book of two traders or more")
    if bounds.assets or bounds.isolated:
        raise _Failed(f"{SYSTEM_ID}: the all-N argument covers a book without collateral assets or isolated positions")
    previous = payer_previous.fits(policy)  # hyperliquid: the vault holds what it takes over (its restore below)
    cascade = not previous and _by_cascade(policy, bounds)  # drift, mango-v4: the socialized loss's turn step
    # percolator Gen B: the fund's turn lemma on its own turn (with the cascade), the others' lots read through
    # the per-lot charge, whose payers are traders (docs/solver-notes.md#gen-bs-claims-backed-by-its-parts-session-25)
    gen_b = not previous and not cascade and _gen_b_turns(policy, bounds)
    haircut = not previous and not cascade and _by_haircut(policy, bounds)  # Gen A: the haircut writes no holder
    why = None if previous or cascade or gen_b or haircut else payer_applies(policy)
    if why is None and not cascade and takes_over(policy):  # bitmex: the takeover takes the fund below zero in a turn
        why = "its fund takes over what ADL leaves, below zero if need be (the holders are not kept at zero)"
    if why is not None:  # its assumption is the payer's: it describes only a policy that argument fits
        raise _Failed(f"{SYSTEM_ID}: the all-N argument assumes the payer's coupling (ADL's fills only): {why}")

    def fail(why: str) -> None:
        raise _Failed(why)

    small, book, slot = _one_event_frame(SYSTEM, attrs.evolve(bounds, events=1), fail, "system holders' all-N")
    names = fund_facts.holders(book, SYSTEM_ID)
    reads = (*(f"s0.{h}." for h in names), *(f"s0.{m.name}." for m in book.markets), "e1.")
    start = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds) if _reads_only(c, reads)]
    lemmas = []
    if moves:  # K mark moves: each from a book meeting the premise the start meets and each move keeps
        premise, kept = _moves_premise(policy, bounds, book, slot, names, checker, fail)
        lemmas += kept
    for variant in slot.variants:
        # Gen A's opening (the conversion at h) and closing (the re-base) change each trader from its own account,
        # the conversion's capital and lost part freed as numbers of that trader's (per_account._decomposes)
        lemmas.append(
            _decomposes(
                policy,
                book,
                variant.label,
                variant.event,
                fail,
                first_phase_charges=previous,
                each_own=gen_b or haircut,
                conversion_free=haircut,
            )
        )
        if previous:
            pre = [*(premise if moves else start), *_conjuncts(slot.field_bounds)]  # the move's price too
            lemmas += _restored(policy, book, variant, names, pre, reads, checker, fail)
            _after_sweep_writes_none(policy, book, variant, names, fail)
            continue
        ctx = _settled(policy, book, variant.event)
        cash = [ctx.book.account(h).cash_quote for h in names]
        foreign = [h for h, c in zip(names, cash, strict=True) if not _reads_only(c, reads)]
        if foreign:
            fail(f"{SYSTEM_ID}: before the turns, {foreign[0]}'s cash reads more than its own account and the market")
        lemmas.append(
            checker.valid(
                f"before the turns ({variant.label}): every system holder at or above zero",
                premise if moves else start,
                z3.And(*(c >= 0 for c in cash)),
                exact=True,
            )
        )
        _after_sweep_writes_none(policy, book, variant, names, fail, ctx)
    if haircut:  # Gen A: a turn's entries to or from a holder read no other trader (the haircut's shares none)
        lemmas.append(_turn_writes_own(policy, book, names, fail))
    exact = functools.partial(checker.valid, exact=True)
    if cascade:  # the turn without the cascade, then the loop (solver.cascade_holders), each on three traders
        turns = cascade_holders.turn_lemmas(policy, exact, SYSTEM_ID, used=checker.queries.append)
    else:
        facts = fund_facts.prove(
            policy,
            exact,
            SYSTEM_ID,
            small,
            renamed=lambda name, why: checker.queries.append(QueryStats(name, why, 0.0)),
            used=checker.queries.append,  # the pro-rata split lemmas behind the dust facts, paid once
            any_payers=gen_b,  # Gen B: each dust by its lemma for any number of payers, as its transfers'
        )
        if facts is None:
            fail(f"{SYSTEM_ID}: the turn lemma does not apply")
        turns = facts.lemmas
    restore = (
        "; the vault, which settlement may take below zero (it holds what it took over), worth ≥ 0 at the previous "
        "mark after settlement and brought back to or above zero by its own deleveraging, open interest balanced"
        if previous
        else ""
    )
    over = (
        f"; and by induction over the {bounds.events} mark moves: each starts from a book meeting {MOVES_PREMISE} (the "
        "start meets it, each move keeps it: the holders by this argument, the rest by the lemmas above), so the "
        "holders are at or above zero after each"
        if moves
        else ", one mark move"
    )
    return (
        *lemmas,
        *turns,
        "the system holders by induction over the sweep's turns: at or above zero at the start (the question's "
        f"assumption), after the phases before the turns{restore}, after each turn, and nothing after the turns "
        f"writes them: for every N{over}",
    )


#: what each mark move of a K-move question starts from, in the system holders' all-N argument
#: (:func:`_moves_premise`)
MOVES_PREMISE = (
    "the premise (every system holder's cash ≥ 0, the marks prices, open interest balanced among the traders, the "
    "book and the vault, no other account holding a position)"
)


def _moves_premise(
    policy: Any, bounds: Bounds, book: Any, slot: Any, names: list[str], checker: _Checker, fail: Callable[[str], None]
) -> tuple[list[Any], list[str]]:
    """The premise of the system holders' induction over K mark moves (:data:`MOVES_PREMISE`), on the
    two-trader ``book``, and its lemmas (each exact z3, each term checked to read only its own
    account and the market, so the same on a book of any N): the question's start meets it; a move
    from it leaves the marks prices and every account that is neither a trader, the book nor the
    vault without a position (its fills name none of them); and ``open-interest-balance``'s frame
    (every position after a move is before plus its fills, each fill adding to one account what it
    takes from another: Σ size stays 0, for every N). The holders' cash is the one-move argument's.
    ``(premise, lemmas)``."""
    from solvent.solver.compositional import _open_interest

    vaults = sweep_invariant.pools(policy, book)
    liquidity = book.role(Role.LIQUIDITY).name
    others = [a for a in book.accounts if not a.is_trader and a.name not in (liquidity, *vaults)]
    market = book.market
    premise = [
        market.mark_quote >= 1,
        market.previous_mark_quote >= 1,
        *(book.account(h).cash_quote >= 0 for h in names),
        *(a.size_lots == 0 for a in others),
    ]
    small = attrs.evolve(bounds, accounts=LEMMA_TRADERS, events=1)
    reads = (*(f"s0.{a.name}." for a in book.accounts if not a.is_trader), *(f"s0.{m.name}." for m in book.markets))
    start = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds) if _reads_only(c, reads)]
    lemmas = [
        checker.valid(
            f"the system holders over moves: the start meets {MOVES_PREMISE}", start, z3.And(*premise), exact=True
        )
    ]
    for variant in slot.variants:
        after = transition(policy, book, variant.event).book
        kept = [after.market.mark_quote >= 1, after.market.previous_mark_quote >= 1]
        kept += [after.account(a.name).size_lots == 0 for a in others]
        for a, term in zip(others, kept[2:], strict=True):
            if not _reads_only(term, (f"s0.{a.name}.", *(f"s0.{m.name}." for m in book.markets), "e1.")):
                fail(f"{SYSTEM_ID}: over moves, {a.name}'s position after a move reads more than its own account")
        lemmas.append(
            checker.valid(
                f"the system holders over moves ({variant.label}): a move keeps the marks prices and every account "
                "but the traders, the book and the vault without a position",
                [*premise, *_conjuncts(slot.field_bounds)],
                z3.And(*kept),
                exact=True,
            )
        )
    lemmas += _open_interest(policy, small, checker)
    return premise, lemmas


def _turn_writes_own(policy: Any, book: Any, names: list[str], fail: Callable[[str], None]) -> str:
    """Gen A's turn step (:func:`_by_haircut`), structural, on the two-trader ``book`` (every number
    free): in each trader's turn no entry to or from a holder is a haircut share (``HAIRCUT_REASONS``),
    and each reads (its amount and its guard) no other trader's account (its own, the holders', the
    order book's and the market's numbers only). The haircut's shares read every payer; a turn on N
    traders then writes the holders as its two-trader turn does from the same accounts
    (:data:`EVERY_N_ASSUMES_HAIRCUT`), and the turn lemma on two traders, every number free, stands for it."""
    traders = [a.name for a in book.traders]
    for trader in traders:
        others = tuple(p for o in traders if o != trader for p in _own(o))
        turn = liquidation_turn(policy, Ctx(book), trader)
        for g in turn.entries:
            t = g.item
            if t.source not in names and t.destination not in names:
                continue
            if t.reason in HAIRCUT_REASONS:
                fail(f"{SYSTEM_ID}: {trader}'s turn moves a haircut share {t.source} -> {t.destination}")
            if any(str(x).startswith(others) for term in (t.amount_quote, g.guard) for x in integer_atoms(term)):
                fail(f"{SYSTEM_ID}: in {trader}'s turn an entry {t.source} -> {t.destination} reads another trader")
    return (
        "each turn (two traders, every number free): no entry to or from a system holder is a haircut share or reads "
        "another trader's account"
    )


def _after_sweep_writes_none(
    policy: Any, book: Any, variant: Any, names: list[str], fail: Callable[[str], None], ctx: Any = None
) -> None:
    """Step 4 of :func:`holders_every_n`: the phases after the turns write no entry to or from a holder
    (on the two-trader book's terms; ``ctx``: the phases before the turns already run)."""
    swept = _settled(policy, book, variant.event) if ctx is None else ctx
    for trader in book.traders:
        swept = liquidation_turn(policy, swept, trader.name)
    n = len(swept.entries)
    after = closing(policy, after_sweep(policy, swept))
    written = [g.item for g in after.entries[n:] if g.item.source in names or g.item.destination in names]
    if written:
        fail(
            f"{SYSTEM_ID}: after the sweep ({variant.label}) an entry writes {written[0].source} -> {written[0].destination}"
        )


def _restored(
    policy: Any,
    book: Any,
    variant: Any,
    names: list[str],
    start: list[Any],
    reads: tuple[str, ...],
    checker: _Checker,
    fail: Callable[[str], None],
) -> list[str]:
    """Step 2 of :func:`holders_every_n` where the backstop vault holds what it takes over and ADL
    closes at the previous mark (``payer_previous.fits``: Hyperliquid). The vault's cash after
    settlement reads its position, so it may be below zero there; its own deleveraging
    (``engine.before_turns``) brings it back (docs/solver-notes.md#hyperliquids-claims-backed-session-22):

    a. *settlement* (z3, exact, two traders): from the question's own assumptions on the holders, the
       fund and the fee account are at or above zero after opening, settle and the vault's call, the
       vault is worth ≥ 0 at the previous mark after settlement (its cash before the move), no
       account's position moves, and the marks are prices (the move's within its bounds); each such term reads only that account's own fields and the market,
       so it is the same term on a book of any N (the start's "open interest balanced" and "only
       traders, the book and the vault hold positions" then hold of the settled book at any N);
    b. *the vault's restore* (``sweep_invariant.vault_restored``, z3, exact, two traders by the vault's
       four cases): worth ≥ 0 at the previous mark, open interest balanced, its own deleveraging leaves
       its cash ≥ 0. On N traders that call reads the traders only through ADL's fills at the previous
       mark (:data:`EVERY_N_ASSUMES_PREVIOUS`), and the queue and the book take the lots they hold
       opposite the vault as the book alone would (``solver.queue_fills_lemma``, proved for every N:
       the queue's fills add up to ``min(L, Σ eligible lots)``, the book takes ``min(L − X, B)``), so
       its cash after is that of a two-trader call whose other side is the book's: an instance of the
       lemma."""
    vaults = sweep_invariant.pools(policy, book)
    settled = settle(policy, opening(policy, book), variant.event).book
    worth = [sweep_invariant.worth(settled, v) for v in vaults]
    prices = [
        settled.market.mark_quote >= 1,
        settled.market.previous_mark_quote >= 1,
    ]  # the restore's and turns' premise
    sizes = [settled.account(a.name).size_lots for a in book.accounts]
    ctx = before_turns(policy, Ctx(settled))
    others = [h for h in names if h not in vaults]
    terms = [ctx.book.account(h).cash_quote for h in others] + worth
    foreign = [h for h, t in zip((*others, *vaults), terms, strict=True) if not _reads_only(t, reads)]
    if foreign:
        fail(f"{SYSTEM_ID}: before the turns, {foreign[0]} reads more than its own account and the market")
    market = tuple(f"s0.{m.name}." for m in book.markets)
    kept = []
    for a, size in zip(book.accounts, sizes, strict=True):
        if not _reads_only(size, (f"s0.{a.name}.", *market, "e1.")):
            fail(f"{SYSTEM_ID}: settling {a.name}'s position reads more than its own account and the market")
        kept.append(size == a.size_lots)
    cash = terms[: len(others)]
    lemmas = [
        checker.valid(
            f"before the turns ({variant.label}): the fund and the fee account at or above zero, the vault worth ≥ 0 "
            "at the previous mark after settlement, no position moved by settlement, the marks prices",
            start,
            z3.And(*(c >= 0 for c in cash), *(w >= 0 for w in worth), *kept, *prices),
            exact=True,
        )
    ]
    for vault in vaults:
        lemmas += [
            f"{name}: on N traders by {EVERY_N_ASSUMES_PREVIOUS}, and {queue_fills_lemma.PROVES}"
            for name in sweep_invariant.vault_restored(
                policy, functools.partial(checker.valid, exact=True), book, vault
            )
        ]
    if vaults:
        # the queue and the book close what they hold opposite the vault as the book alone would (any N)
        exact = functools.partial(checker.valid, exact=True)
        lemmas += queue_fills_lemma.lemma(policy, exact, fail, queue_fills_lemma.sizes(len(book.traders)))
    return lemmas


def _traders_here(
    policy: Any,
    bounds: Bounds,
    ask: Callable[[str | Invariant, Bounds, bool], ProofResult],
    units: int,
    queries: list[QueryStats],
) -> tuple[ProofResult, str, Parts | None]:
    """The traders' part asked within this question (``solvent prove``), within ``units``: on the
    lemmas' book where N is larger; its queries added to ``queries``. ``(answer, how it was asked,
    the parts' end where it does not leave the claim to the system holders)`` (:func:`_traders_stop`)."""
    n = min(bounds.accounts, LEMMA_TRADERS)
    traders = ask(TRADERS, attrs.evolve(bounds, accounts=n, effort=max(units, 1)), False)
    queries += [attrs.evolve(q, name=f"{q.name} ({TRADERS}, N = {n})") for q in traders.queries]
    said = f"asked within this question on {n} traders"
    return traders, said, _traders_stop(policy, bounds, traders, tuple(queries), said)


def _every_n_lemmas(policy: Any, bounds: Bounds, units: int, queries: list[QueryStats]) -> tuple[str, ...] | None:
    """:func:`holders_every_n` within an :data:`EVERY_N_SHARE` of ``units``: its lemmas, or None
    where the argument does not hold (its queries, spent either way, are added to ``queries``)."""
    checker = _Checker(bounds, units=max(units // EVERY_N_SHARE, 1))
    try:
        return holders_every_n(policy, bounds, checker)
    except _Failed:
        return None
    finally:
        queries += checker.queries


#: the name a pro-rata split lemma proved at one count of payers starts with (``pro_rata_lemma``): a turn
#: lemma whose dust facts rest on one is not for every N (a split on N traders has its own count)
PER_COUNT = "pro-rata split lemma ("


def _every_n(policy: Any, bounds: Bounds, lemmas: tuple[str, ...], units: int, per_count: bool = False) -> ProofResult:
    """The system holders' question answered by :func:`holders_every_n`'s ``lemmas`` and the
    non-negative transfers at N asked alone within ``units`` (a question built for them, without the
    claim's terms: bybit at N = 8 3,995,600 units against 4,474,000 with a claim); on the socialized
    loss's route the transfers for every N first (:func:`transfers_every_n`). ``per_count``: the
    argument's turn lemmas took dust facts from a split lemma proved at one count of payers (none of
    the bundled presets' routes do): the holders then at the question's N only."""
    from solvent.solver.prove import _then_transfers, scope_of

    assumes = every_n_assumes(policy, bounds)
    cascade = EVERY_N_ASSUMES_CASCADE in assumes
    on = "two traders, each turn's parts on three" if cascade else "two traders"
    # all N where the argument's every step is a lemma but what ``assumes`` says: the socialized loss's turn
    # step (its split's dust proved for any number of payers since session 23), the payer's (the fund's turn
    # lemma on two traders, ADL's fills only) and the vault's (its restore on two traders, the queue's fills
    # for every N), since session 23 (docs/solver-notes.md#the-payers-and-the-vaults-routes-all-n-session-23)
    scope = attrs.evolve(scope_of(bounds), assumes=assumes, **({} if per_count else {"accounts": None}))
    said = (
        f"for every N by induction over the sweep's turns (z3, exact, on {on}; {assumes}); "
        f"the non-negative transfers at N = {bounds.accounts}: "
    )
    claim = ObligationResult(SYSTEM_ID, Verdict.PROVED, "", scope)
    tried: tuple[QueryStats, ...] = ()
    if cascade:  # the transfers for every N too, by the same decomposition (their N-trader build grows fast)
        checker = _Checker(bounds, units=max(units, 1))
        try:
            held = transfers_every_n(policy, bounds, checker)
        except _Failed as failed:  # asked at N as before, with what the lemmas left
            tried, said = tuple(checker.queries), f"{said}(the all-N transfers: {failed.args[0]}) "
            units -= _spent(checker.queries)
        else:
            both = f"{assumes}; {TRANSFERS_ASSUMES}"
            transfers = ObligationResult(TRANSFERS, Verdict.PROVED, "", attrs.evolve(scope, assumes=both))
            method = (
                f"for every N by induction over the sweep's turns (z3, exact, on {on}; {assumes}); the non-negative "
                f"transfers for every N by the same induction (z3, exact, on {on}; {TRANSFERS_ASSUMES})"
            )
            return ProofResult(
                policy.name,
                SYSTEM_ID,
                Verdict.PROVED,
                scope,
                0.0,
                method,
                obligations=(claim, transfers),
                queries=tuple(checker.queries),
                lemmas=(*lemmas, *held),
                bounds=bounds,
            )
    return _then_transfers(
        policy, SYSTEM, bounds, claim, max(units, 1), said, lemmas=lemmas, scope=scope, queries=tried
    )


#: what the non-negative transfers' all-N argument assumes beside the system holders' (:func:`transfers_every_n`)
TRANSFERS_ASSUMES = (
    "the phases around the turns write each account's transfers as on two traders (each reads only that account, "
    f"the market and the move); {cascade_holders.TRANSFERS_ASSUMES}"
)


def _around_turns(
    policy: Any, small: Bounds, book: Any, slot: Any, checker: _Checker, fail: Callable[[str], None]
) -> list[str]:
    """Steps 1 and 3 of :func:`transfers_every_n` (and of ``gen_b_transfers``' argument) on the two-trader
    ``book``: each transfer before the turns reads only one account it names, the market and the move,
    and is non-negative by its shape or valid (z3, exact) from the start assumptions on that account;
    each transfer after the turns is non-negative by its shape. The lemmas; ``fail`` where one does not hold."""
    market = (*(f"s0.{m.name}." for m in book.markets), "e1.")
    start = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds)]
    lemmas = []
    for variant in slot.variants:
        ctx = _settled(policy, book, variant.event)
        own = []  # (account, obligation) of each transfer before the turns that is not non-negative by shape
        for entry in ctx.entries:
            if not (is_z3(entry.item.amount_quote) or is_z3(entry.guard)):
                continue  # a concrete transfer: the engine refuses a negative one at any N
            [obligation] = transfer_obligations(Ctx(book, entries=(entry,)))
            names = [n for n in (entry.item.source, entry.item.destination) if n in {a.name for a in book.accounts}]
            reads = [n for n in names if _reads_only(obligation, (f"s0.{n}.", *market))]
            if not reads:
                fail(
                    f"{TRANSFERS}: before the turns ({variant.label}) a transfer {entry.item.source} -> "
                    f"{entry.item.destination} reads more than one account it names, the market and the move"
                )
            if not _nonnegative_anyway(obligation):
                own.append((reads[0], obligation))
        for name, obligation in own:
            premise = [c for c in start if _reads_only(c, (f"s0.{name}.", *market))]
            lemmas.append(
                checker.valid(
                    f"before the turns ({variant.label}): {name}'s transfer moves a non-negative amount",
                    premise,
                    obligation,
                    exact=True,
                )
            )
        lemmas.append(
            f"before the turns ({variant.label}): each of the {len(ctx.entries)} transfers reads only an account it "
            f"names, the market and the move; {len(ctx.entries) - len(own)} non-negative by their shape for every input"
        )
        turned = ctx
        for trader in book.traders:
            turned = liquidation_turn(policy, turned, trader.name)
        n = len(turned.entries)
        after = closing(policy, after_sweep(policy, turned))
        for entry in after.entries[n:]:
            [obligation] = transfer_obligations(Ctx(book, entries=(entry,))) or [z3.BoolVal(True)]
            if not z3.is_true(obligation) and not _nonnegative_anyway(obligation):
                fail(
                    f"{TRANSFERS}: after the sweep ({variant.label}) a transfer {entry.item.source} -> "
                    f"{entry.item.destination} is not non-negative by its shape"
                )
    return lemmas


def transfers_every_n(policy: Any, bounds: Bounds, checker: _Checker) -> tuple[str, ...]:
    """The non-negative transfers (``verdicts.TRANSFERS``: every transfer of the step moves an amount
    ≥ 0) after one mark move for every N, on the socialized loss's route (:func:`_by_cascade`), by the
    system holders' decomposition (:func:`holders_every_n`, whose step 1 is the step's decomposition
    into its phases; docs/solver-notes.md#drifts-claims-backed-at-n--8-the-transfers-for-every-n-session-23):

    1. *the phases before the turns* (two traders): each transfer reads only one account it names, the
       market and the move, so it is the same term for that account on a book of any N, and its amount
       is non-negative by its shape for every input (``story._nonnegative_anyway``) or valid (z3, exact)
       from the question's own assumptions that read only that account, the market and the move;
    2. *each turn* (``cascade_holders.transfer_lemmas``, three traders, every number free): the turn
       without the cascade and one iteration of the loop move non-negative amounts from a book with
       every system holder at or above zero, which :func:`holders_every_n` proves before every turn
       and every iteration at any N;
    3. *after the sweep*: each transfer the phases after the turns write is non-negative by its shape
       for every input (none on Drift and Mango v4).

    :class:`_Failed` where a step does not hold (the transfers are then asked at N)."""
    if not _by_cascade(policy, bounds) or bounds.events != 1 or bounds.accounts <= LEMMA_TRADERS:
        raise _Failed(f"{TRANSFERS}: the all-N argument covers one mark move under a socialized loss with a cascade")

    def fail(why: str) -> None:
        raise _Failed(why)

    small, book, slot = _one_event_frame(SYSTEM, attrs.evolve(bounds, events=1), fail, "non-negative transfers' all-N")
    lemmas = _around_turns(policy, small, book, slot, checker, fail)
    exact = functools.partial(checker.valid, exact=True)
    turns = cascade_holders.transfer_lemmas(policy, exact, SYSTEM_ID, used=checker.queries.append)
    return (
        *lemmas,
        *turns,
        "the non-negative transfers by induction over the sweep's turns: before the turns as on two traders, in "
        "each turn by the turn's lemmas from the holders at or above zero, after the sweep by their shape: for "
        "every N, one mark move",
    )


def gen_b_transfers_every_n(policy: Any, bounds: Bounds, checker: _Checker) -> tuple[str, ...]:
    """The non-negative transfers after one mark move for every N under percolator Gen B's waterfall
    (``gen_b_transfers``: its module docstring; docs/solver-notes.md#gen-bs-non-negative-transfers-for-every-n-session-24):
    the step's phases (``per_account._decomposes``, opening and closing each trader's own), the transfers
    around the turns as :func:`transfers_every_n`'s (:func:`_around_turns`), and each turn's three runs
    on three traders (``gen_b_transfers.turn_lemmas``). :class:`_Failed` where a step does not hold."""
    why = gen_b_transfers.not_covered(policy, bounds)
    if why is not None:
        raise _Failed(f"{TRANSFERS}: {why}")

    def fail(why: str) -> None:
        raise _Failed(why)

    small, book, slot = _one_event_frame(SYSTEM, attrs.evolve(bounds, events=1), fail, "non-negative transfers' all-N")
    lemmas = [_decomposes(policy, book, v.label, v.event, fail, each_own=True) for v in slot.variants]
    lemmas += _around_turns(policy, small, book, slot, checker, fail)
    exact = functools.partial(checker.valid, exact=True)
    try:
        turns = gen_b_transfers.turn_lemmas(policy, exact, used=checker.queries.append, renamed=checker.queries.append)
    except ValueError as failed:
        raise _Failed(f"{TRANSFERS}: {failed.args[0]}") from None
    return (
        *lemmas,
        *turns,
        "the non-negative transfers by the step's phases: around the turns as on two traders, in each turn by its "
        "three runs' lemmas on three traders: for every N, one mark move",
    )


@attrs.frozen
class EveryNTransfers:
    """:func:`transfers_for_every_n`'s answer: the transfers obligation proved for every N (None where
    the argument did not hold), the queries it spent (counted either way), its lemmas, and why not."""

    obligation: ObligationResult | None
    queries: tuple[QueryStats, ...] = ()
    lemmas: tuple[str, ...] = ()
    why: str = ""
    #: the turn step's assumption, said in the verdict's method (:data:`TRANSFERS_EVERY_N`)
    said: str = TRANSFERS_ASSUMES

    @property
    def units(self) -> int:
        return sum(q.units for q in self.queries)


def transfers_route(policy: Any, bounds: Bounds) -> bool:
    """Whether :func:`transfers_for_every_n` is asked of a question (no units spent to tell): one mark
    move on a book larger than two traders, without collateral assets or isolated positions, under the
    socialized loss's cascade (Drift, Mango v4) or Gen B's waterfall (``gen_b_transfers``); elsewhere the
    transfers are asked at N as before."""
    one_move = bounds.events == 1 and bounds.accounts > LEMMA_TRADERS and not (bounds.assets or bounds.isolated)
    return one_move and fund_facts.applies(bounds) and (_by_cascade(policy, bounds) or _by_gen_b(policy, bounds))


def _by_gen_b(policy: Any, bounds: Bounds) -> bool:
    """Whether the transfers' turn step is Gen B's (``gen_b_transfers``), not the cascade holders'."""
    return not _by_cascade(policy, bounds) and gen_b_transfers.not_covered(policy, bounds) is None


def _gen_b_turns(policy: Any, bounds: Bounds) -> bool:
    """Whether the system holders' turn step is Gen B's (:func:`_by_gen_b` read at one move): over K moves too,
    where the holders' premise carries each move (:func:`_over_moves`, ``gen_b_payer.inducts``), as the
    cascade's and the haircut's turn steps are read (docs/solver-notes.md#gen-bs-claims-backed-over-moves-for-every-n-session-26)."""
    return _by_gen_b(policy, attrs.evolve(bounds, events=1))


def transfers_for_every_n(policy: Any, bounds: Bounds, units: int) -> EveryNTransfers:
    """The non-negative transfers for every N for any claim whose question asks them on the cascade's
    route (:func:`transfers_route`), within ``units``: the system holders' all-N argument
    (:func:`holders_every_n`: the premise of each turn's transfer lemmas, every system holder at or
    above zero before every turn and iteration at any N) and :func:`transfers_every_n`
    (docs/solver-notes.md#the-transfers-for-every-n-on-every-cascade-cell-session-23). The obligation's
    scope says both arguments' assumptions. On Gen B's waterfall (:func:`_by_gen_b`) the argument is
    :func:`gen_b_transfers_every_n` instead, with no premise on the holders, its scope saying
    ``gen_b_transfers.ASSUMES`` (docs/solver-notes.md#gen-bs-non-negative-transfers-for-every-n-session-24).
    Refused (no query) off the route; where a step does not
    hold, or a turn lemma rests on a split lemma proved at one count of payers (:data:`PER_COUNT`), no
    obligation: the caller asks the transfers at N with what is left."""
    from solvent.solver.prove import scope_of

    if not transfers_route(policy, bounds):
        return EveryNTransfers(
            None, why=f"{TRANSFERS}: the all-N argument covers one mark move under a socialized loss with a cascade"
        )
    checker = _Checker(bounds, units=max(units, 1))
    if _by_gen_b(policy, bounds):  # Gen B: its own turn step, no premise on the holders
        try:
            held = gen_b_transfers_every_n(policy, bounds, checker)
        except _Failed as failed:
            return EveryNTransfers(None, tuple(checker.queries), why=str(failed.args[0]))
        scope = attrs.evolve(scope_of(bounds), accounts=None, assumes=gen_b_transfers.ASSUMES)
        obligation = ObligationResult(TRANSFERS, Verdict.PROVED, "", scope)
        return EveryNTransfers(obligation, tuple(checker.queries), held, said=gen_b_transfers.ASSUMES)
    try:
        holders = holders_every_n(policy, bounds, checker)
        if any(q.name.startswith(PER_COUNT) for q in checker.queries):
            raise _Failed(f"{TRANSFERS}: a turn lemma's dust rests on a split lemma proved at one count of payers")
        held = transfers_every_n(policy, bounds, checker)
    except _Failed as failed:
        return EveryNTransfers(None, tuple(checker.queries), why=str(failed.args[0]))
    assumes = f"{every_n_assumes(policy, bounds)}; {TRANSFERS_ASSUMES}"
    scope = attrs.evolve(scope_of(bounds), accounts=None, assumes=assumes)
    obligation = ObligationResult(TRANSFERS, Verdict.PROVED, "", scope)
    return EveryNTransfers(obligation, tuple(checker.queries), (*holders, *held))


#: how a verdict says the transfers' all-N argument (:func:`transfers_for_every_n`)
TRANSFERS_EVERY_N = (
    "the non-negative transfers for every N by induction over the sweep's turns (z3, exact, on two traders, each "
    "turn's parts on three; {assumes})"
)


def _by_cascade(policy: Any, bounds: Bounds) -> bool:
    """Whether the turn step is the socialized loss's (``solver.cascade_holders``: a loss per lot with
    a cascade, Drift and Mango v4), not the payer's fund lemma."""
    # (its turn step is one move's, whatever K: over K moves the premise carries it, ``_over_moves``)
    return payer_applies(policy) is not None and cascade_holders.applies(policy, attrs.evolve(bounds, events=1)) is None


#: what the system holders' all-N argument assumes under a socialized loss per lot with a cascade
#: (:func:`_by_cascade`), after the phases around the turns
EVERY_N_ASSUMES_CASCADE = cascade_holders.ASSUMES


def _by_haircut(policy: Any, bounds: Bounds) -> bool:
    """Whether the turn step is the holders' turn lemma under Gen A's haircut ratio (``solver.haircut_payer``
    covers the policy at one move: the haircut the one layer charging traders, the penalty from capital, the
    exact split in book order): no pool pays a deficit, the haircut's shares move between the bankrupt trader
    and its payers, so a turn writes a holder only with what its own trader pays (the penalty)."""
    return (
        payer_applies(policy) is not None and haircut_payer.not_covered(policy, attrs.evolve(bounds, events=1)) is None
    )


#: what the system holders' all-N argument assumes under Gen A's haircut ratio (:func:`_by_haircut`)
EVERY_N_ASSUMES_HAIRCUT = (
    "the phases around the turns write the system holders as on two traders (a holder's settlement reads only its "
    "own account; the opening's conversion moves each lost part to the order book, not to a holder), and each turn "
    "on N traders writes them with the entries its two-trader turn writes them with (checked there: none is a haircut "
    "share or reads another trader's account; the haircut's shares, which read every payer, move between the "
    "bankrupt account and its payers)"
)


def every_n_assumes(policy: Any, bounds: Bounds) -> str:
    """What :func:`holders_every_n` assumes on ``policy``, said in the verdict's scope."""
    if payer_previous.fits(policy):
        return EVERY_N_ASSUMES_PREVIOUS
    if not _by_cascade(policy, bounds) and _gen_b_turns(policy, bounds):
        return EVERY_N_ASSUMES_GEN_B
    if _by_cascade(policy, bounds):
        return (
            "the phases around the turns write the system holders as on two traders (a holder's settlement reads "
            f"only its own account), and {EVERY_N_ASSUMES_CASCADE}"
        )
    if _by_haircut(policy, bounds):
        return EVERY_N_ASSUMES_HAIRCUT
    return EVERY_N_ASSUMES


def _spent(queries: list[QueryStats]) -> int:
    return sum(q.units for q in queries)


def undecided(policy: Any, bounds: Bounds, parts: Parts, seconds: float) -> ProofResult:
    """The claim undecided where its parts spent the whole question (nothing left to ask it whole),
    with the transfers obligation the system holders' question proved, if it did."""
    from solvent.solver.prove import scope_of

    scope = scope_of(bounds)
    reason = f"its parts spent its effort: {parts.reason}"
    claim = ObligationResult(CLAIM, Verdict.UNKNOWN, reason, scope)
    obligations = (claim,) if parts.transfers is None else (claim, parts.transfers)
    verdict, why = combine(list(obligations))
    return ProofResult(
        policy.name,
        CLAIM,
        verdict,
        scope,
        seconds,
        f"by its parts ({reason})",
        reason=why,
        obligations=obligations,
        queries=parts.queries,
        accepted=CLAIM in policy.accepts,
        bounds=bounds,
    )


def with_transfers(whole: ProofResult, parts: Parts) -> ProofResult:
    """The whole question's answer asked after the parts, its transfers obligation the one the
    system holders' question proved where the whole one (with what the parts left) did not decide it."""
    kept = parts.transfers
    mine = next((o for o in whole.obligations if o.obligation == TRANSFERS), None)
    if kept is None or mine is None or mine.verdict is not Verdict.UNKNOWN or whole.verdict is Verdict.VACUOUS:
        return whole
    obligations = tuple(kept if o is mine else o for o in whole.obligations)
    verdict, reason = combine(list(obligations))
    return attrs.evolve(whole, verdict=verdict, reason=reason, obligations=obligations)


def _traders_stop(
    policy: Any, bounds: Bounds, traders: ProofResult, queries: tuple[QueryStats, ...], said: str
) -> Parts | None:
    """What the traders' part ends with where it does not leave the claim to the system holders: its
    refutation replayed against the claim, or the parts undecided; None where it covers ``bounds``."""
    if traders.verdict is Verdict.REFUTED:
        refuted = replayed(policy, bounds, traders, queries)
        if refuted is not None:
            return Parts(refuted, queries, "")
    if covers(traders, bounds):
        return None
    why = traders.reason or f"its scope {traders.proved_scope.text} does not hold N = {bounds.accounts}"
    return Parts(None, queries, f"{TRADERS} ({said}) not proved here: {why}")


def replayed(policy: Any, bounds: Bounds, part: ProofResult, queries: tuple[QueryStats, ...]) -> ProofResult | None:
    """A part's refutation as ``claims-backed``'s: its story replayed on the concrete engine
    against the claim itself; None where the replay does not break it."""
    cx = part.counterexample
    if cx is None:
        return None
    claim = catalog.get(CLAIM)
    rep = replay(policy, claim, cx.story, bounds)
    if not rep.violates:
        return None
    from solvent.solver.prove import scope_of

    scope = scope_of(bounds)
    story = Counterexample(rep.story, rep.steps, rep.failed_at, CLAIM, rep.detail)
    return attrs.evolve(
        part,
        invariant=CLAIM,
        verdict=Verdict.REFUTED,
        reason=rep.detail,
        scope=scope,
        obligations=(ObligationResult(CLAIM, Verdict.REFUTED, rep.detail, scope),),
        counterexample=story,
        method=f"by its parts: {part.invariant} refuted, its story replayed against {CLAIM}; {part.method}",
        queries=queries,
    )


__all__ = [
    "CLAIM",
    "POOLS",
    "SYSTEM",
    "SYSTEM_ID",
    "TRADERS",
    "Parts",
    "by_parts",
    "covers",
    "equivalence",
    "replayed",
    "undecided",
    "with_transfers",
]
