"""``prove(policy, invariant_id, bounds)``: z3 proves or refutes an invariant over the engine itself.

The engine is not re-modelled: a symbolic book of ``bounds.accounts`` traders (every number a z3
variable) and ``bounds.events`` event slots are run through ``solvent.rules.engine.transition``
(``solvent.solver.story``); the policy stays concrete. Each bounded proof asks, in order:

1. **Vacuity.** Are the assumptions (``solvent.solver.assumptions``: a well-formed,
   margin-compliant book; every event accepted by the engine's own requirements) satisfiable? If
   not, the verdict is VACUOUS and names the conflicting assumptions. A witness must replay.
2. **The invariant.** Can it fail after some accepted event? Unsat is PROVED; a model is turned
   into a concrete book and events and replayed on ``solvent.rules.engine.step``; only a replayed
   failure is REFUTED.
3. **Non-negative transfers.** Can any transfer move a negative amount? (An engine bug: it would
   reverse who pays whom while every total still balances.) Checked the same way.

Refutations are searched on 1, 2 and 3 traders first (cheap; a counterexample on fewer traders is
one within the bounds), then N itself is decided, and a refutation is shrunk to the least total
magnitude. Where two state quantities multiply (``size × price``, ``share × weight / total``) each
question is a portfolio (``solvent.solver.query``): purified linear queries with refinement
(``solvent.solver.linearize``), then z3's exact nonlinear arithmetic under a hard wall-clock
limit. ``Bounds.price_grid`` instead fixes every price to grid points (one linear query per
combination; the verdict then covers only those prices).

A question's effort (``Bounds.effort``, in deterministic units: ``solvent.solver.effort``) covers
building it too (the symbolic run and its linearization, charged per build step): a build that
needs more leaves the question UNKNOWN with that reason ("building the question needed more than
its 5M units"), and z3 gets only the units the build left. No budget here is counted in seconds,
so the same question gets the same verdict on any machine, loaded or idle.

Where an invariant has an all-N argument (``solvent.solver.compositional``: conservation,
open-interest balance), its lemmas extend the invariant to every N and every number of events
of the bounded kinds; the bounded queries still ask the invariant itself, so an all-N verdict
rests on the lemmas *and* a direct check at N (a direct refutation after the lemmas held is an
:class:`~solvent.solver.verdicts.InconsistentProof`, a bug in Solvent). Where the direct check at N
is undecided, or (a payer's claim at N > 2 whose facts fit: ``_lemmas_book_first``) asked only on
the lemmas' book, it is the check on the lemmas' two-trader book, the same symbolic book the lemmas
speak of. The result states the scope of each obligation.

Guarantees: PROVED only when every query was unsat; REFUTED only with a story the concrete engine
fails on; an exact model the engine does not confirm raises
:class:`~solvent.solver.verdicts.SpuriousCounterexample`.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from solvent.properties import catalog
from solvent.properties.catalog import Invariant
from solvent.rules.policy import Policy
from solvent.rules.presets import resolve_policy
from solvent.solver import (
    cascade_facts,
    cascade_invariant,
    case_split,
    claims_backed,
    deficit_once,
    effort,
    fund_facts,
    gen_b_payer,
    haircut_payer,
    incremental,
    induction,
    kind_split,
    payer_direct,
    payer_ghost,
    payer_previous,
    resolution_facts,
    side_deficit,
    side_fund,
    waterfall_claims,
)
from solvent.solver.bounds import ASSET_KINDS, FUNDING, Bounds, for_policy
from solvent.solver.effort import OutOfEffort
from solvent.solver.fund_facts import FUND_CLAIMS
from solvent.solver.payer_lemma import PAYER_CLAIMS, applies, takes_over
from solvent.solver.payer_lemma import fits as payer_fits
from solvent.solver.payer_lemma import ghost_covers as payer_ghost_covers
from solvent.solver.per_account import EACH_TRADER, ONE_ACCOUNT, TURNS_ALIKE, still_refuted, with_inert_assets
from solvent.solver.query import EXACT_FIRST_SHARE, Answer, StoryQuery
from solvent.solver.refinement import obligation_name, replay
from solvent.solver.resolution_facts import RESOLUTION_CLAIMS
from solvent.solver.verdicts import (
    TRANSFERS,
    TRIVIALLY,
    Counterexample,
    InconsistentProof,
    ObligationResult,
    ProofResult,
    QueryStats,
    Scope,
    ScopeAnswer,
    Verdict,
    combine,
)

BOUNDED = "bounded: the engine run symbolically on every book of N traders and K events"
PURIFIED = "; products and quotients purified (sound over-approximation) with counterexample-guided refinement"
GRID = "; prices fixed to grid points (linear)"
#: the flat cases get at most this part of what the lemmas left of a question (``_answered``)
FLAT_SHARE = 8
#: the part of what the all-N lemmas left that the transfers' all-N argument gets on the cascade's route
#: (``claims_backed.transfers_for_every_n``: drift's about 240K units of 10M)
EVERY_N_TRANSFERS_SHARE = 4
#: claims about each account on its own (a refutation replays with flat, empty traders added):
#: where no all-N argument held on a book larger than the lemmas' (or at K > 1), the smaller books
#: are searched smallest first, one event first, with a third of the question
#: (docs/solver-notes.md#a-refutation-on-the-fewest-traders-first-session-19)
SMALLEST_FIRST = (*EACH_TRADER, *ONE_ACCOUNT, "no-haircut")
#: per-trader claims whose direct check on a book smaller than its lemmas' (``_lemmas_after``: the
#: isolated scope's one trader and its isolated position) asks the claim's exact query first, within
#: half of the claim's units (``StoryQuery.check_obligation``'s ``exact_first``), the purified
#: refinement after it with the rest: there the purified phase stalls (bybit's loss-bounded-by-collateral:
#: six refinement rounds, 2.57M units, no proof) where the exact query is unsat in about 1M, so the
#: portfolio's order (a third purified, then the exact with half of what is left) left it undecided at
#: check's 10M; first, bybit's claim is proved within its first-round share
#: (docs/solver-notes.md#the-isolated-scopes-exact-query-first-session-33)
ISOLATED_EXACT_FIRST = ("no-negative-equity", "loss-bounded-by-collateral")
#: how ``solvent check`` asks every claim within its allotment (``verdicts.proofs``), and ``solvent
#: prove --as-check`` asks one (``simulation.grids.ProofCell.as_check``): the bounded check first, the
#: payers' all-N argument only after it proved the claim at N (where it alone can change the verdict),
#: and the story z3 found not shrunk (check tells it at its least move, ``solver.smallest_move``).
#: One definition, so a Reproduce line that asks it tells check's story (docs/solver-notes.md#reproduce-lines-ask-checks-own-question-session-35)
AS_CHECK = MappingProxyType({"minimize": False, "payer_first": False})
FLAT_CASES = (
    "bounded by flat cases: the claim fails only where some trader is flat, so the engine's transition "
    "is asked once per trader with that trader's size and cost a concrete 0 (z3, exact), on every book of N traders"
)


def prove(
    policy: Policy | str,
    invariant_id: str | Invariant,
    bounds: Bounds | None = None,
    *,
    minimize: bool = True,
    compositional: bool = True,
    transfers: bool = True,
    payer_first: bool = True,
    given: Mapping[str, ProofResult] | None = None,
    accepted_grid: bool = False,
) -> ProofResult:
    """Prove or refute ``invariant_id`` for ``policy`` within ``bounds`` (see the module docstring).

    ``invariant_id`` is a catalog id, or an :class:`~solvent.properties.catalog.Invariant` that is
    not in the catalog (a threshold question's claim, ``solvent.solver.thresholds``).

    ``minimize``: on REFUTED, shrink the counterexample to the least total magnitude (the
    small-scope search already found the fewest traders). ``compositional``: where the invariant
    has an all-N argument (``solvent.solver.compositional``) its lemmas extend the direct bounded
    proof to every N. ``transfers``: also
    prove that no transfer moves a negative amount (an engine-level obligation; a threshold probe,
    which asks about one claim only, leaves it out). ``payer_first``: where ADL couples the traders,
    try the payer's all-N argument (``solver.payer_lemma``) before the bounded check; with False
    it is tried only after the direct check proved the claim at N, the one case in which it can
    change the verdict (``solvent check``, whose budget is shared among the claims). ``given``: other
    claims' answers on the same bounds that this one may rest on (``solvent check``'s, for
    ``claims-backed``'s parts: ``solver.claims_backed``); without them such a part is asked here.
    ``accepted_grid``: a claim the policy accepts as failing is first searched for its story on
    N's own book on the grid's doubling and halving, one event, within a third
    (:func:`_accepted_on_grid`; ``solvent check``'s second round asks so).
    """
    with effort.question():  # the answer is the same whatever this process asked z3 before

        def answered(p: Policy | str, claim: str | Invariant, book: Bounds | None) -> ProofResult:
            return _answered(p, claim, book, minimize, compositional, transfers, payer_first, given)

        return (
            _accepted_on_grid(policy, invariant_id, bounds, answered)
            if accepted_grid
            else answered(policy, invariant_id, bounds)
        )


def _accepted_on_grid(
    policy: Policy | str,
    invariant_id: str | Invariant,
    bounds: Bounds | None,
    answered: Callable[[Policy | str, str | Invariant, Bounds | None], ProofResult],
) -> ProofResult:
    """:func:`prove` with ``accepted_grid``: where ``invariant_id`` is a claim ``policy`` accepts as
    failing (its venue documents the story) and the question is one event on a book without collateral
    assets whose bounds hold the grid, the story is searched first on N's own book with the mark and the
    move's price on :data:`GRID_FIRST` (:func:`_on_grid`, a linear question, for a refutation only),
    on one trader first and up to N, within :data:`GRID_SHARE` of the units together; a story there is
    replayed and is one of ``bounds``; anything
    else says nothing, and the question is asked as without the flag (``answered``: :func:`_answered`
    with the question's options) with what the grid left. The same
    search the smaller books of a larger question get (:func:`_small_scope_first`), on check's own
    book: percolator Gen A's flat-accounts-never-pay at N = 2 was undecided at 10M units asked whole,
    and is refuted on the grid in 3.06M (docs/solver-notes.md#accepted-claims-on-checks-own-book-on-the-grid-session-32)."""
    policy = resolve_policy(policy) if isinstance(policy, str) else policy
    bounds = for_policy(Bounds() if bounds is None else bounds, policy)
    invariant = invariant_id if isinstance(invariant_id, Invariant) else catalog.get(invariant_id)
    if (
        invariant.id not in policy.accepts
        or bounds.events != 1
        or bounds.assets
        or bounds.price_grid
        or GRID_FIRST[-1] * bounds.min_price > bounds.max_price
    ):
        return answered(policy, invariant, bounds)
    started = time.perf_counter()
    share = bounds.effort // GRID_SHARE
    searched: tuple[QueryStats, ...] = ()
    smallest = 2 if set(bounds.event_kinds) <= {"trade"} else 1
    for n in range(smallest, bounds.accounts + 1):
        # smallest book first, as the smaller books of a larger question: a story on fewer traders is one
        # of these bounds, and the least move of a one-trader story is what check then tells it at
        # (solver.smallest_move); each book a question of its own
        left = share - _units(searched)
        if left <= 0:
            break
        with effort.question():
            found = _on_grid(policy, invariant, attrs.evolve(bounds, accounts=n), left)
        if found.verdict is Verdict.REFUTED:
            return attrs.evolve(
                _refuted_within(found, bounds),
                queries=searched + found.queries,
                seconds=time.perf_counter() - started,
                accepted=True,
                grid_first=True,
                bounds=bounds,
            )
        searched += found.queries
    rest = answered(policy, invariant, _within(bounds, bounds.effort - _units(searched)))
    return attrs.evolve(
        rest,
        queries=searched + rest.queries,
        method=f"{rest.method}; its story searched first on the grid (none found within {_units(searched):,} units)",
        seconds=time.perf_counter() - started,
        bounds=bounds,
    )


def _answered(
    policy: Policy | str,
    invariant_id: str | Invariant,
    bounds: Bounds | None,
    minimize: bool,
    compositional: bool,
    transfers: bool,
    payer_first: bool,
    given: Mapping[str, ProofResult] | None = None,
    parts: bool = True,
) -> ProofResult:
    """:func:`prove`'s work, inside its own question (a fresh z3 context). ``parts``: a claim asked
    by its parts first (``claims-backed``) is asked so; False once they were."""
    from solvent.solver import compositional as comp

    started = time.perf_counter()
    case_split.forget()  # a frame split in this call may be reused within it, never across calls
    payer_ghost.forget()  # so may a skip lemma (dYdX's payer claims)
    policy = resolve_policy(policy) if isinstance(policy, str) else policy
    bounds = for_policy(Bounds() if bounds is None else bounds, policy)
    if bounds.assets and not bounds.asset_names:  # the policy's collateral first, so its weights apply
        bounds = attrs.evolve(bounds, asset_names=tuple(c.name for c in policy.collateral))
    invariant = invariant_id if isinstance(invariant_id, Invariant) else catalog.get(invariant_id)
    split = kind_split.kinds(invariant.id, bounds, policy)
    if len(split) > 1:
        # one event of several kinds: each kind's question of its own, joined as margin scopes are
        # (docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27)
        by_kind = [
            ScopeAnswer(
                kind_split.label(kinds),
                prove(
                    policy,
                    invariant,
                    attrs.evolve(bounds, event_kinds=kinds),
                    minimize=minimize,
                    compositional=compositional,
                    transfers=transfers,
                    payer_first=payer_first,
                    given=given,
                ),
            )
            for kinds in split
        ]
        return attrs.evolve(
            kind_split.joined_by_kind(by_kind, scope_of(bounds)),
            seconds=time.perf_counter() - started,
            accepted=invariant.id in policy.accepts,
            bounds=bounds,
        )
    by_parts_at_k = bounds.events == 1 or induction.fits(policy, bounds)  # nne for any K there (solver.induction)
    # hyperliquid's too: nne by the induction at the previous mark, the system holders over moves (claims_backed)
    by_parts_at_k = by_parts_at_k or payer_previous.induction_fits(policy, bounds)
    # drift's and mango-v4's too: nne by the cascade invariant's induction over moves (solver.cascade_invariant)
    by_parts_at_k = by_parts_at_k or cascade_invariant.inducts(policy, bounds)
    # percolator Gen A's too: nne by the junior cover's induction over moves (solver.haircut_payer)
    by_parts_at_k = by_parts_at_k or haircut_payer.inducts(policy, bounds)
    # percolator Gen B's too: nne by the payer's bound's induction over moves (solver.gen_b_payer)
    by_parts_at_k = by_parts_at_k or gen_b_payer.inducts(policy, bounds)
    if parts and compositional and invariant.id == claims_backed.CLAIM and by_parts_at_k:
        # no-negative-equity's verdict and the system holders' question first; undecided, the whole
        # question with what they left (docs/solver-notes.md#claims-backed-by-its-parts-issue-18)
        def ask(claim: str | Invariant, book: Bounds, obligations: bool) -> ProofResult:
            return prove(
                policy, claim, book, minimize=False, transfers=obligations and transfers, payer_first=payer_first
            )

        first: tuple[QueryStats, ...] = ()
        if kind_split.grid_first(policy, invariant.id, bounds):
            # the vault's own ADL at a funding sweep: its story first, on the smallest book at a still mark,
            # a trader's (the traders' part, which the parts ask only after the system holders), replayed
            # against the claim itself (asked whole there z3 did not find it within 3M units)
            traders = catalog.get(claims_backed.TRADERS)
            found = _funding_story_first(policy, traders, bounds, 1, bounds.effort // TAKEOVER_SHARE)
            first = found.queries
            refuted = claims_backed.replayed(policy, bounds, found, first)
            if found.verdict is Verdict.REFUTED and refuted is not None:
                return attrs.evolve(
                    refuted,
                    seconds=time.perf_counter() - started,
                    accepted=invariant.id in policy.accepts,
                    bounds=bounds,
                )
        split = claims_backed.by_parts(policy, bounds, bounds.effort - _units(first), ask, given)
        split = attrs.evolve(split, queries=first + split.queries)
        if split.result is not None:
            return attrs.evolve(
                split.result,
                queries=first + split.result.queries,
                seconds=time.perf_counter() - started,
                accepted=invariant.id in policy.accepts,
                bounds=bounds,
            )
        left = bounds.effort - _units(split.queries)
        if left <= 0:  # the parts spent the purse: undecided, as they left it
            return claims_backed.undecided(policy, bounds, split, time.perf_counter() - started)
        whole = _answered(
            policy, invariant, _within(bounds, left), minimize, compositional, transfers, payer_first, parts=False
        )
        return attrs.evolve(
            claims_backed.with_transfers(whole, split),
            method=f"{whole.method}; asked whole after its parts ({split.reason})",
            queries=split.queries + whole.queries,
            seconds=time.perf_counter() - started,
            bounds=bounds,
        )
    if compositional and bounds.accounts > comp.LEMMA_TRADERS and _lemmas_book_fits(policy, invariant, bounds):
        # the payer's all-N route first: the lemmas' book's own question, then N with what it left
        # (docs/solver-notes.md#the-lemmas-book-first-at-n--4-and-8-issue-18); deficit-charged-once's
        # the same way where its all-N argument applies (docs/solver-notes.md#deficit-charged-once-for-every-n-and-k-issue-18)
        outcome = _lemmas_book_first(policy, invariant, bounds, minimize, transfers)
        return attrs.evolve(
            outcome, seconds=time.perf_counter() - started, accepted=invariant.id in policy.accepts, bounds=bounds
        )
    # one purse: every part of the question is given at most what the parts before it left
    # (docs/solver-notes.md#a-questions-effort-is-one-purse); the all-N lemmas at most half
    total = bounds.effort
    # (not where the overlap rule is covered by the ghost: its all-N argument first proves the skip
    # lemma the facts then reuse, docs/solver-notes.md#dydxs-payer-claims-session-21)
    ghost_first = invariant.id in (*PAYER_CLAIMS, *payer_direct.BESIDE_PAYER) and payer_ghost_covers(policy, bounds)
    if ghost_first and bounds.accounts == comp.LEMMA_TRADERS:
        payer_first = True  # check's order too (it asks the direct check first elsewhere)
    if (
        payer_first
        and bounds.accounts == comp.LEMMA_TRADERS
        and _payer_fits(policy, invariant, bounds)
        and not ghost_first
    ):
        # on the lemmas' own book the payer's facts decide the direct check: it first, the all-N argument
        # after a proof with what it left, as check asks
        # (docs/solver-notes.md#the-direct-check-first-on-the-lemmas-book)
        payer_first = False
    # a book smaller than the lemmas' (the isolated margin scope's one trader and its isolated
    # position, where the lemmas' book holds two traders beside it: three trading accounts) asks
    # its direct check first, with every unit, and the all-N argument after a proof, with what
    # it left (docs/solver-notes.md#the-isolated-scopes-direct-check-first-issue-13-item-21)
    later = compositional and _lemmas_after(bounds, comp.LEMMA_TRADERS)
    extension = (
        _attempt(policy, invariant, bounds, payer_first, total // 2, alone=ghost_first)
        if compositional and not later
        else None
    )
    lemmas = () if extension is None else extension.queries
    # the payer's lemmas as facts speak of the lemmas' two-trader book: proved only where asked there
    # (the fund's turn lemma is proved on a book of N traders: asked at every N)
    at_n = bounds.accounts == comp.LEMMA_TRADERS or invariant.id in FUND_CLAIMS
    cases = functools.partial(_payer_cases, policy, invariant) if at_n else None
    # an all-N argument that held at a larger N keeps half of N's own share for its check on the
    # lemmas' book, in case N's is undecided (``_on_lemma_book``); one that covers any K (an
    # induction over events) does so at a larger K too: its lemmas' book is then one event long
    held = isinstance(extension, comp.Extension) and (
        bounds.accounts > comp.LEMMA_TRADERS or (extension.every_k and bounds.events > 1)
    )
    smaller: dict[int, ProofResult] = {}
    facts = functools.partial(_payer_cases, policy, invariant)
    # an induction over events at K > 1 rests on the one-event question on the lemmas' book: asked
    # first, within half of what the lemmas left, and the question at N and K gets all the rest
    # (docs/solver-notes.md#the-one-event-book-first-issue-18): where it proved the claim, the
    # K-event question asks the transfers alone (the claim's verdict cannot move); where it did
    # not, each got half, as when it was asked last
    one_event = None
    # on the cascade's route at one move (drift, mango-v4), the transfers for every N first: where they
    # hold, the claim's direct check is asked on the lemmas' book alone (its all-N argument held) and
    # nothing is built at N (docs/solver-notes.md#the-transfers-for-every-n-on-every-cascade-cell-session-23)
    every = None
    if held and transfers and bounds.events == 1:
        every = _every_n_transfers(policy, bounds, (total - _units(lemmas)) // EVERY_N_TRANSFERS_SHARE)
    if every is not None and every.obligation is None:  # spent: counted with the argument's lemmas
        extension = attrs.evolve(extension, queries=extension.queries + every.queries)
        lemmas, every = extension.queries, None
    if every is not None:
        one_event = _one_event_first(
            policy, invariant, bounds, comp.LEMMA_TRADERS, facts, (total - _units(lemmas) - every.units) // 2
        )
        held = False
    elif held and extension.every_k and bounds.events > 1:
        one_event = _one_event_first(
            policy,
            invariant,
            bounds,
            comp.LEMMA_TRADERS,
            facts,
            (total - _units(lemmas)) // 2,
            extension.one_event_start,  # an induction on a premise: checked from it (solver.induction)
        )
        held = False  # nothing more held back for the lemmas' book: it was asked
    flat = None
    flat_lemma = isinstance(extension, comp.Extension) and extension.assumes == TURNS_ALIKE
    # (and where the direct check comes first, on the isolated scope's book: its cases are a bounded
    # check of their own, drift's four 62K units in all where the whole claim needed more than 1.4M)
    if (flat_lemma or later) and invariant.id == comp.FLAT and bounds.accounts <= comp.LEMMA_TRADERS:
        # the flat-trader argument held: the direct check at N asked by its flat cases first, within
        # an eighth of what the lemmas left, so that where a case is not decided the bounded question
        # has what it had; on the lemmas' book only: at N = 4 a case costs 1-3M units and more (drift
        # without an asset: alice's 3.0M, bob's undecided), where the bounded question at N and on
        # the lemmas' book decides (docs/solver-notes.md#flat-accounts-never-pay-by-cases)
        flat = comp.flat_by_cases(policy, invariant, bounds, (total - _units(lemmas)) // FLAT_SHARE)
    cased = () if flat is None else flat.queries  # the direct check's: counted in its outcome
    if later and invariant.id in comp.FRAMED:
        # where the direct check comes first on a book whose turns read the step's earlier
        # resolutions (drift's isolated scope): the frame it reads proved by the engine's phases on
        # its own book first, within half, so its frames recall them (counted in its outcome)
        # (docs/solver-notes.md#conservation-and-open-interest-on-checks-asset-books-session-31)
        framed = comp.question_frames(policy, invariant.id, bounds, total // 2)
        cased = framed + cased
    else:
        framed = ()
    # not where an induction's one-event book was asked first (there as before)
    turned = None
    first = None  # N's own pass, asked with the fund's facts where its turn lemma held first
    if one_event is not None:
        pass
    elif cases is not None and invariant.id in FUND_CLAIMS and fund_facts.applies(bounds):
        # the fund's turn lemma first, within the quarter a search of smaller books would get: where
        # it holds, N's own pass (every smaller book's story is one of N's, empty traders added)
        # asks the claim with its facts and the rest of the units, and no smaller book is searched;
        # where it does not, the search as before with what it left, and no fact
        # (docs/solver-notes.md#the-fund-turn-by-turn-on-a-lending-book-issue-18); on a large book
        # the lemma is proved in N's own z3 context, where its facts are used (``_fund_first``)
        first, cased = _fund_first(policy, invariant, bounds, total - _units(lemmas), transfers)
        cases = None
    elif cases is not None and invariant.id in PAYER_CLAIMS and bounds.accounts == comp.LEMMA_TRADERS:
        # the payer's facts the same way, on their own book (where they apply: else nothing asked)
        # (docs/solver-notes.md#the-payers-facts-first-issue-18)
        # (the cascade's turn facts within half: drift's three parts take 1.89M units, more than the quarter
        # its 8.75M leaves them after the lemmas, docs/solver-notes.md#drifts-direct-check-session-21)
        one = attrs.evolve(bounds, events=1)
        # (and Gen B's payer bound: its facts are the argument's formulas, recalled where it held before them)
        cascade = cascade_facts.fits(policy, one, invariant.id) or gen_b_payer.fits(policy, one, invariant.id)
        cascade = cascade and bounds.events == 1
        turned = cases(_within(bounds, (total - _units(lemmas)) // (2 if cascade else 4)))
        turned = None if turned[0] is None and not turned[1] else turned
    if turned is not None:
        cased, cases = turned[1], (lambda _b, proved=turned: (proved[0], ())) if turned[0] is not None else None
    # the one-event book's queries are spent whichever branch follows (beside the flat cases', where
    # both were asked: flat-accounts-never-pay on two traders over K > 1 events)
    ahead = () if one_event is None else one_event.queries
    ahead = ahead if every is None else every.queries + ahead  # the transfers' argument's
    if every is not None and _proved(one_event, invariant.id):
        claim = ObligationResult(invariant.id, Verdict.UNKNOWN, EVERY_N_TRANSFERS_FIRST, scope_of(bounds))
        outcome = _beside_every_n_transfers(policy, invariant, bounds, claim, attrs.evolve(every, queries=()), "")
        outcome = attrs.evolve(outcome, scope=scope_of(bounds))
        cased = ahead + cased
    elif one_event is not None and every is None and _proved(one_event, invariant.id):
        rest = total - _units(lemmas) - _units(ahead) - _units(cased)
        outcome = _transfers_at_k(policy, invariant, bounds, one_event, rest, transfers, cases)
        cased = ahead + cased
    elif flat is not None and flat.held:
        left = total - _units(lemmas) - _units(ahead) - _units(cased)
        outcome = _by_flat_cases(policy, invariant, bounds, flat, left, transfers)
        cased = ahead + cased
    elif first is not None:
        outcome = first
    elif turned is not None and turned[0] is not None:
        outcome = _bounded(
            policy, invariant, bounds, total - _units(lemmas) - _units(cased), transfers=transfers, cases=cases
        )
    else:
        outcome = _small_scope_first(
            policy,
            invariant,
            bounds,
            units=total - _units(lemmas) - _units(cased) - _units(ahead),
            transfers=transfers,
            smaller=smaller,
            cases=cases,
            hold_back=comp.LEMMA_TRADERS if held else None,
            lemmas_held=isinstance(extension, comp.Extension),
            smallest_first=invariant.id in SMALLEST_FIRST
            and not isinstance(extension, comp.Extension)
            and not later
            and (bounds.accounts > comp.LEMMA_TRADERS or bounds.events > 1),
            # a claim about one resolution: its lemma's facts are cheap and decide the lemmas' book
            # within its quarter (docs/solver-notes.md#the-adl-claims-for-every-n-by-lemmas-issue-18)
            book_cases=facts if held and invariant.id in RESOLUTION_CLAIMS else None,
            # the fund's cash where its takeover may take it below zero: that story first, on a grid
            takeover_grid=invariant.id in (*FUND_CLAIMS, claims_backed.CLAIM) and takes_over(policy),
            # the vault's own ADL at a funding sweep: that story first, at a still mark
            funding_grid=kind_split.grid_first(policy, invariant.id, bounds),
            # Gen B's per-call claims on the lemmas' own book, their argument held: the exact phase first
            exact_first=isinstance(extension, comp.Extension)
            and bounds.accounts == comp.LEMMA_TRADERS
            and _gen_b_per_call(policy, invariant, bounds)
            # (and deficit-charged-once over funding alone on hyperliquid: N's own question, exact first, alone)
            or kind_split.exact_alone(policy, invariant.id, bounds)
            # (and a per-trader claim on the isolated scope's one-trader book: its exact query first)
            or (later and invariant.id in ISOLATED_EXACT_FIRST),
            alone=kind_split.exact_alone(policy, invariant.id, bounds),
        )
        cased = ahead + cased  # counted in the direct check's outcome, beside any cases before
    outcome = attrs.evolve(outcome, queries=cased + outcome.queries)
    direct = _obligation(outcome, invariant.id).verdict
    if isinstance(extension, comp.Attempt) and not payer_first and direct is Verdict.PROVED:
        left = total - _units(lemmas) - outcome.units
        if left > 0:  # proved at N: the payer's lemmas may extend it, within what is left
            first = extension.queries  # the first attempt's units were spent too
            extension = comp.attempt(policy, invariant, bounds, units=left)
            extension = attrs.evolve(extension, queries=first + extension.queries)
    short = False
    if later and direct is Verdict.PROVED and total - _units(lemmas) - outcome.units > 0:
        # the all-N argument asks the frame again on the lemmas' book, which holds the question's
        # book and more: with less left than that frame cost on the question's own book it is not
        # asked (docs/solver-notes.md#the-after-proof-argument-not-asked-below-its-frames-cost-session-31)
        short = _below_frames(total - outcome.units, framed)
        if not short:
            extension = comp.attempt(policy, invariant, bounds, units=total - outcome.units)
    lemmas = () if extension is None else extension.queries
    if outcome.verdict is Verdict.REFUTED and minimize:
        outcome = _minimized(policy, invariant, bounds, outcome, total - _units(lemmas) - outcome.units)
    if outcome.verdict is Verdict.REFUTED and invariant.id in (*EACH_TRADER, *ONE_ACCOUNT):
        outcome = _refuted_for_larger_books(policy, invariant, outcome)
    if isinstance(extension, comp.Extension):
        left = total - _units(lemmas) - outcome.units
        k = 1 if extension.every_k else bounds.events  # an induction over events is checked on one
        if one_event is not None:  # the lemmas' book was asked first: its answer, proved or not
            small = one_event if _obligation(outcome, invariant.id).verdict is Verdict.UNKNOWN else None
        else:
            small = _on_lemma_book(policy, invariant, bounds, outcome, smaller, comp.LEMMA_TRADERS, facts, left, k)
        said = outcome.lemmas + (small.lemmas if small is not None else ())  # the facts, where used
        outcome = _extended(outcome, invariant, extension, small)
        outcome = attrs.evolve(outcome, lemmas=outcome.lemmas + said)
        moved = _obligation(outcome, TRANSFERS).scope
        if every is not None and moved is not None and moved.accounts is None and outcome.scope.accounts is None:
            # the headline says the transfers' all-N assumption beside the claim's, each once
            outcome = attrs.evolve(
                outcome, scope=attrs.evolve(outcome.scope, assumes=_said_once(outcome.scope.assumes, moved.assumes))
            )
    elif isinstance(extension, comp.Attempt):  # bounded only; the lemmas' work is counted and said
        outcome = attrs.evolve(
            outcome,
            method=f"{outcome.method}; the all-N argument {'did not hold' if extension.applies else 'does not apply'} ({extension.failed})",
            queries=extension.queries + outcome.queries,
        )
    elif short:
        left = total - outcome.units
        outcome = attrs.evolve(
            outcome, method=f"{outcome.method}; {BELOW_FRAMES} ({left:,} units left, its frame {_units(framed):,})"
        )
    elif later and invariant.id in comp.ARGUMENTS:  # the direct check first did not prove it
        outcome = attrs.evolve(outcome, method=f"{outcome.method}; {LEMMAS_NOT_ASKED}")
    return attrs.evolve(
        outcome, seconds=time.perf_counter() - started, accepted=invariant.id in policy.accepts, bounds=bounds
    )


def _below_frames(left: int, framed: Sequence[QueryStats]) -> bool:
    """Whether ``left`` units, what a direct proof on a book smaller than its lemmas' left, are fewer
    than the frame it read cost on that book (``compositional.question_frames``'s queries, none
    elsewhere): the all-N argument asks that frame again, by the same phases, on the lemmas' book,
    which holds the question's accounts and two traders more, so it is not asked with less; the
    units stay with the claims after it (drift's isolated conservation: 493,257 left, its frame
    688,000; docs/solver-notes.md#the-after-proof-argument-not-asked-below-its-frames-cost-session-31)."""
    return left < _units(framed)


def _attempt(policy: Policy, invariant: Invariant, bounds: Bounds, payer: bool, units: int, alone: bool) -> Any:
    """``compositional.attempt``; ``alone``: in a z3 context of its own (``effort.question``), so
    the direct check built after it spends what it would without it (dYdX's payer claims, where the
    argument is asked first: docs/solver-notes.md#dydxs-payer-claims-session-21). Its answer is
    plain data (names and units), so nothing of its context is needed after it."""
    from solvent.solver import compositional as comp

    if not alone:
        return comp.attempt(policy, invariant, bounds, payer=payer, units=units)
    with effort.question():
        return comp.attempt(policy, invariant, bounds, payer=payer, units=units)


#: the part of a larger book's question (N > 2) kept for N where the payer's all-N route is asked
#: first on the lemmas' book (``_lemmas_book_first``): an eighth; that question gets the rest
AT_N_SHARE = 8


def _lemmas_book_first(
    policy: Policy, invariant: Invariant, bounds: Bounds, minimize: bool, transfers: bool
) -> ProofResult:
    """A payer's claim on a book larger than the lemmas' (N > 2) where the payer's facts fit: the
    question of the lemmas' two-trader book first, as ``prove`` asks it there (its own z3 context,
    the direct check with the payer's facts first, the all-N argument after a proof: the same
    terms and units), within all but an eighth of the purse, without the transfers obligation (it
    is N's own). Then:

    - proved for every N there: the claim holds at N (N's books are among every N's); N asks the
      non-negative transfers alone with what is left (the claim's verdict cannot move: a direct
      refutation at N would be a bug in Solvent, never a verdict, the cross-check given up as
      ``_transfers_at_k`` gives it up at K);
    - refuted there: a story on two traders is one within N's bounds (as the small-scope search
      reports it), said to hold for every larger book where it replays so;
    - otherwise (undecided, or proved at N = 2 with the all-N argument not held): N's own bounded
      question with what is left, the lemmas' book's answer said in its reason.

    (docs/solver-notes.md#the-lemmas-book-first-at-n--4-and-8-issue-18)"""
    from solvent.solver import compositional as comp

    total = bounds.effort
    n = comp.LEMMA_TRADERS
    book = attrs.evolve(bounds, accounts=n, effort=max(total - total // AT_N_SHARE, 1))
    small = prove(policy, invariant, book, minimize=minimize, transfers=False)
    asked = tuple(_tag_scope(q, n) for q in small.queries)
    left = total - small.units
    own = _obligation(small, invariant.id)
    if own.verdict is Verdict.REFUTED:
        refuted = attrs.evolve(
            small,
            scope=scope_of(bounds),
            obligations=tuple(
                attrs.evolve(o, scope=scope_of(bounds)) if o.verdict is Verdict.REFUTED else o
                for o in small.obligations
            ),
            queries=asked,
        )
        return _refuted_for_larger_books(policy, invariant, refuted)
    every_n = own.verdict is Verdict.PROVED and own.scope is not None and own.scope.accounts is None
    first = f"the lemmas' book (N = {n}) asked first"
    if every_n:
        claim = ObligationResult(invariant.id, Verdict.PROVED, own.reason, own.scope)
        method = f"{small.method}; {first}, where the claim is proved for every N; at N = {bounds.accounts}"
        if not transfers:
            return attrs.evolve(small, obligations=(claim,), queries=asked, method=f"{method} nothing more asked")
        return _then_transfers(
            policy,
            invariant,
            bounds,
            claim,
            max(left, 0),
            f"{method} the non-negative transfers only: ",
            lemmas=small.lemmas,
            queries=asked,
            scope=own.scope,
        )
    said = own.reason or f"proved at N ≤ {n} only: {small.method}"
    outcome = _bounded(policy, invariant, bounds, max(left, 0), transfers=transfers)
    at_n = _obligation(outcome, invariant.id)
    if at_n.verdict is Verdict.UNKNOWN:
        at_n = attrs.evolve(at_n, reason=f"{at_n.reason}; {first}: {said}")
    obligations = tuple(at_n if o.obligation == invariant.id else o for o in outcome.obligations)
    verdict, reason = combine(list(obligations)) if obligations else (outcome.verdict, outcome.reason)
    return attrs.evolve(
        outcome,
        verdict=verdict if outcome.verdict is not Verdict.VACUOUS else outcome.verdict,
        reason=reason if outcome.verdict is not Verdict.VACUOUS else outcome.reason,
        obligations=obligations,
        method=f"{outcome.method}; {first}: {said}",
        queries=asked + outcome.queries,
    )


#: why a book smaller than its lemmas' has no all-N verdict where its direct check was not proved
LEMMAS_NOT_ASKED = "the all-N argument not asked: on a book smaller than its lemmas' it is asked after a direct proof, with what that left"

#: why a direct proof on such a book has no all-N attempt after it where what it left is less than
#: the frame it read cost on the question's own book (the argument asks that frame on a larger book)
BELOW_FRAMES = "the all-N argument not asked: less left than the frame it reads cost on this smaller book"


def _fund_first(
    policy: Policy, invariant: Invariant, bounds: Bounds, units: int, transfers: bool
) -> tuple[ProofResult | None, tuple[QueryStats, ...]]:
    """The fund's turn lemma (``solver.fund_facts``) proved within a quarter of ``units`` (half on one
    trader, where no smaller book is searched:
    docs/solver-notes.md#units-counted-on-every-path-and-the-isolated-scopes-facts-session-20) and, where
    it held, N's own pass asked with its facts and the rest: ``(that pass, the lemma's queries)``;
    ``(None, the lemma's queries)`` where it did not (the caller then searches as before, no fact).

    On a large book (``incremental.is_large``) both run in the one z3 context of N's question,
    its solvers told their logic (``incremental.asked``; ``_bounded``, asked inside it, stays in it):
    a fact is a term of the context it was proved in, and only there can it be given to a question.
    Only N's own question and the facts it needs go there; smaller books and the all-N lemmas keep
    z3's default set-up. On a small book nothing changes: the same calls in the same order
    (docs/solver-notes.md#a-check-that-did-not-look-at-its-limits)."""
    with incremental.asked(bounds.accounts):
        # a quarter, what a search of smaller books would get; on one trader, where no smaller book
        # is searched, half (what ``_bounded`` gives its facts): the isolated scope's book
        share = units // 2 if bounds.accounts == 1 else units // 4
        proved, queries = payer_direct.prepared(policy, _within(bounds, share), invariant.id)
        if proved is None:
            return None, queries
        if fund_facts.inducts(invariant.id, bounds):  # K > 1: the claim by induction over events first
            held, queries = _fund_induction(policy, invariant, bounds, proved, units // FUND_INDUCTION_SHARE, queries)
            if held is not None:
                return _fund_transfers(policy, invariant, bounds, held, units - _units(queries), transfers), queries
        outcome = _bounded(
            policy, invariant, bounds, units - _units(queries), transfers=transfers, cases=lambda _b: (proved, ())
        )
    return outcome, queries


#: the fund's turn lemma and its induction over events get at most this part of the fund's question
#: at K > 1 (``_fund_first``): a one-step build per event (0.63M at N = 3) does not fit a quarter
#: where claims-backed asks the fund's claim within half of its share (okx at N = 3, K = 3)
FUND_INDUCTION_SHARE = 2

#: the method line of the fund's claim proved by induction over events (``_fund_induction``)
FUND_INDUCTION = (
    "by induction over the K = {k} events at N = {n}: the fund's turn lemma as facts, the claim and its premise kept "
    "by one accepted mark move at each event's clock from any book meeting {kept}, which the starting book meets "
    "(z3, exact)"
)
#: ... where the step was proved at clocks that stand for every clock (``fund_facts.clocks``): any K
FUND_INDUCTION_ANY_K = (
    "by induction over any number of events at N = {n}: the fund's turn lemma as facts, the claim and its premise "
    "kept by one accepted mark move at every clock ({at}) from any book meeting {kept}, which the starting book meets "
    "(z3, exact)"
)


def _fund_induction(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    proved: payer_direct.ByCases,
    units: int,
    queries: tuple[QueryStats, ...],
) -> tuple[fund_facts.Induction | None, tuple[QueryStats, ...]]:
    """``fund_facts.induction`` within what the turn lemma left of ``units`` (its one-step build,
    then its two queries within what the build left): its lemmas where both held, else
    None; the queries so far and its own
    (docs/solver-notes.md#bitmexs-payer-facts-and-the-last-bybit-and-okx-cells-session-20)."""
    from solvent.solver.compositional import _Checker, _Failed

    left = units - _units(queries)
    if left <= 0:
        return None, queries
    checker = _Checker(bounds, left)

    def built(spent: int, result: str) -> None:  # the one-step book's build, counted as a query's units are
        checker.queries.append(
            QueryStats("the fund's induction over events: its one-step build", result, 0.0, units=spent)
        )

    def held(name: str, premise: list[Any], claim: Any) -> bool:  # a step beyond the question's clocks
        try:
            checker.valid(name, premise, claim, exact=True)
        except _Failed:
            return False
        return True

    try:
        lemmas = fund_facts.induction(
            policy,
            invariant,
            bounds,
            proved.facts,
            lambda n, premise, claim: checker.valid(n, premise, claim, exact=True),
            lambda: checker.left,
            built,
            held,
        )
    except OutOfEffort as stop:
        stopped = QueryStats(
            "the fund's induction over events: its one-step build", "out of effort", 0.0, units=stop.limit
        )
        return None, (*queries, *checker.queries, stopped)
    except _Failed:
        return None, (*queries, *checker.queries)
    return lemmas, (*queries, *checker.queries)


def _fund_transfers(
    policy: Policy, invariant: Invariant, bounds: Bounds, held: fund_facts.Induction, units: int, transfers: bool
) -> ProofResult:
    """The fund's claim proved at N and K by ``held`` (its induction over the K events; over any
    number where its step was proved at clocks that stand for every clock, ``fund_facts.clocks``:
    the claim's scope any K); the non-negative transfers asked at N and K within ``units`` (a
    question built for them alone, as ``_transfers_at_k`` asks them)."""
    scope = scope_of(bounds)
    asked, every_k = fund_facts.clocks(policy, bounds)[0], held.every_k
    if every_k:  # the step at every clock's representatives: the claim after any number of events
        scope = attrs.evolve(scope, events=None)
        at = "clock 0, every clock's" if len(asked) == 1 else f"clocks 0..{asked[-1]}, every clock's"
        method = FUND_INDUCTION_ANY_K.format(n=bounds.accounts, at=at, kept=fund_facts.KEPT)
    else:
        method = FUND_INDUCTION.format(k=bounds.events, n=bounds.accounts, kept=fund_facts.KEPT)
    claim = ObligationResult(invariant.id, Verdict.PROVED, "", scope)
    if not transfers:
        return ProofResult(
            policy.name, invariant.id, Verdict.PROVED, scope, 0.0, method, obligations=(claim,), lemmas=held.lines
        )
    said = f"{method}; the non-negative transfers at N = {bounds.accounts}, K = {bounds.events}: "
    wider = scope if every_k else None  # the headline takes the transfers' N and K (reports.proof_text)
    return _then_transfers(policy, invariant, bounds, claim, max(units, 1), said, lemmas=held.lines, scope=wider)


def _by_flat_cases(
    policy: Policy, invariant: Invariant, bounds: Bounds, flat: Any, units: int, transfers: bool
) -> ProofResult:
    """``flat-accounts-never-pay`` proved at N by its flat cases (``compositional.flat_by_cases``):
    the claim's obligation PROVED at N, and the transfers asked as the bounded question asks them
    (a question built for them alone), within ``units``."""
    claim = ObligationResult(invariant.id, Verdict.PROVED, TRIVIALLY if flat.trivial else "", scope_of(bounds))
    method = f"{FLAT_CASES} ({'; '.join(flat.lemmas)})"
    if not transfers:
        return ProofResult(
            policy.name, invariant.id, Verdict.PROVED, scope_of(bounds), 0.0, method, obligations=(claim,)
        )
    return _then_transfers(policy, invariant, bounds, claim, units, f"{method}; the transfers: ")


def _then_transfers(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    claim: ObligationResult,
    units: int,
    said: str,
    *,
    lemmas: tuple[str, ...] = (),
    queries: tuple[QueryStats, ...] = (),
    scope: Scope | None = None,
) -> ProofResult:
    """The claim's obligation decided already (``claim``: by the lemmas' book, the fund's induction,
    the flat cases); the non-negative transfers asked at ``bounds`` within ``units``, in a question
    built for them alone. The answer is that question's with ``claim`` beside its obligations, its
    method ``said`` followed by the question's, ``lemmas`` and ``queries`` (what was asked before)
    ahead of its own, and ``scope`` where given. A vacuous question stands as it is, with
    ``queries`` ahead of its own. Where ``claim`` is proved for every N on the cascade's route
    (``claims_backed.transfers_route``), the transfers for every N first (``claims_backed.transfers_for_every_n``):
    held, nothing is built at N; else asked at N as before with what they left."""
    if claim.verdict is Verdict.PROVED and claim.scope is not None and claim.scope.accounts is None:
        every = _every_n_transfers(policy, bounds, units)
        if every is not None and every.obligation is not None:
            return _beside_every_n_transfers(
                policy, invariant, bounds, claim, every, said, lemmas=lemmas, queries=queries, scope=scope
            )
        if every is not None:
            queries, units = queries + every.queries, units - every.units
            said = f"{said}(the all-N transfers: {every.why}) "
    rest = _bounded(policy, invariant, bounds, units, transfers=True, claim=False)
    if rest.verdict is Verdict.VACUOUS:
        return attrs.evolve(rest, queries=queries + rest.queries)
    obligations = (claim, *rest.obligations)
    verdict, reason = combine(list(obligations))
    return attrs.evolve(
        rest,
        verdict=verdict,
        reason=reason,
        obligations=obligations,
        method=f"{said}{rest.method}",
        lemmas=lemmas + rest.lemmas,
        queries=queries + rest.queries,
        **({} if scope is None else {"scope": scope}),
    )


def _every_n_transfers(policy: Policy, bounds: Bounds, units: int) -> claims_backed.EveryNTransfers | None:
    """``claims_backed.transfers_for_every_n`` within ``units`` where the question is on its route
    (None elsewhere: nothing asked, the transfers at N as before, every unit as before)."""
    if not claims_backed.transfers_route(policy, bounds):
        return None
    return claims_backed.transfers_for_every_n(policy, bounds, units)


def _beside_every_n_transfers(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    claim: ObligationResult,
    every: claims_backed.EveryNTransfers,
    said: str,
    *,
    lemmas: tuple[str, ...] = (),
    queries: tuple[QueryStats, ...] = (),
    scope: Scope | None = None,
) -> ProofResult:
    """``claim`` beside the transfers proved for every N (``every``): the answer's scope is the claim's
    (or ``scope``), its assumption said with the transfers' (each once)."""
    assert every.obligation is not None and every.obligation.scope is not None
    obligations = (claim, every.obligation)
    verdict, reason = combine(list(obligations))
    head = scope or claim.scope or scope_of(bounds)
    head = attrs.evolve(head, assumes=_said_once(head.assumes, every.obligation.scope.assumes))
    method = f"{said}{claims_backed.TRANSFERS_EVERY_N.format(assumes=every.said)}"
    return ProofResult(
        policy.name,
        invariant.id,
        verdict,
        head,
        0.0,
        method,
        reason=reason,
        obligations=obligations,
        queries=queries + every.queries,
        lemmas=lemmas + every.lemmas,
        bounds=bounds,
    )


def _said_once(*assumes: str) -> str:
    """The assumptions joined, each said once (one that another contains dropped)."""
    said = [a for a in dict.fromkeys(assumes) if a]
    return "; ".join(a for a in said if not any(a != b and a in b for b in said))


def _lemmas_after(bounds: Bounds, traders: int) -> bool:
    """Whether the question's book is smaller than the one its all-N lemmas are checked on: an
    isolated position's book of fewer than ``traders`` (``compositional.LEMMA_TRADERS``: the lemmas'
    book holds that many traders beside the isolated position, so one more trading account than
    the question's). Its direct check is then asked first; the all-N-book questions of every
    all-cross book are asked as before."""
    return bool(bounds.isolated) and bounds.accounts < traders


def _units(queries: Iterable[QueryStats]) -> int:
    """The units ``queries`` spent."""
    return sum(q.units for q in queries)


def _within(bounds: Bounds, units: int) -> Bounds:
    """``bounds`` with an effort of ``units`` (at least 1), for one part of a question."""
    return attrs.evolve(bounds, effort=max(units, 1))


def _payer_cases(
    policy: Policy, invariant: Invariant, bounds: Bounds
) -> tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]:
    """For a payer's claim (or ``claims-backed``, whose trader conjuncts are no-negative-equity's:
    ``payer_direct.BESIDE_PAYER``) on one mark move where the payer's argument fits the policy, its lemmas
    proved again as facts for the direct check on the two-trader book (``solver.payer_direct``;
    for a claim about one resolution, its own lemma on ``resolve``: ``solver.resolution_facts``),
    within ``bounds.effort``, and their queries (counted whether they held or not); None elsewhere,
    or where a lemma does not hold (the check is then asked as before). The facts are proved for
    every value, so they serve the direct check whether or not the all-N argument was asked
    (``solvent check`` asks it only once the claim is proved at N)."""
    if invariant.id in FUND_CLAIMS:  # a lemma on each turn of the question's own N traders, in a small share
        small = _within(bounds, bounds.effort // fund_facts.SHARE)  # at every move's turns (any K)
        return payer_direct.prepared(policy, small, invariant.id) if fund_facts.applies(bounds) else (None, ())
    lemmas_book = attrs.evolve(bounds, accounts=2, events=1)
    if bounds.events == 1 and cascade_facts.fits(policy, lemmas_book, invariant.id):  # each turn with the cascade
        return payer_direct.prepared(policy, lemmas_book, invariant.id)
    if bounds.events == 1 and haircut_payer.fits(policy, lemmas_book, invariant.id):  # Gen A's junior cover, by turns
        return payer_direct.prepared(policy, lemmas_book, invariant.id)
    if bounds.events == 1 and gen_b_payer.fits(policy, lemmas_book, invariant.id):  # Gen B's payer bound, by turns
        return payer_direct.prepared(policy, lemmas_book, invariant.id)
    asked = (*PAYER_CLAIMS, *payer_direct.BESIDE_PAYER, *RESOLUTION_CLAIMS)
    if invariant.id not in asked or not _payer_fits(policy, invariant, bounds, asked):
        return None, ()
    return payer_direct.prepared(policy, attrs.evolve(bounds, accounts=2, events=1), invariant.id)


def _payer_fits(policy: Policy, invariant: Invariant, bounds: Bounds, claims: tuple[str, ...] = PAYER_CLAIMS) -> bool:
    """Whether the payer's facts serve ``invariant``'s direct check (one of ``claims``): one mark
    move on one market, no collateral asset, no isolated position, a policy the payer's argument fits."""
    one_move = bounds.events == 1 and set(bounds.event_kinds) == {"mark"} and bounds.markets == 1
    one_move = one_move and not bounds.assets and not bounds.isolated
    if invariant.id in RESOLUTION_CLAIMS:  # a pool's own deleveraging has a fact of its own there
        return invariant.id in claims and one_move and resolution_facts.fits(policy, invariant.id)
    # dYdX's overlap rule covered by the ghost invariant: for the payer's claims (and claims-backed
    # beside them) only (docs/solver-notes.md#dydxs-payer-claims-session-21)
    payers = (*PAYER_CLAIMS, *payer_direct.BESIDE_PAYER)
    fits = payer_fits(policy, bounds) if invariant.id in payers else applies(policy) is None
    # ADL at the previous mark, the vault holding what it takes over (solver.payer_previous)
    fits = fits or payer_previous.fits(policy)
    return invariant.id in claims and one_move and fits


def _gen_b_per_call(policy: Policy, invariant: Invariant, bounds: Bounds) -> bool:
    """Whether ``invariant`` is one of percolator Gen B's per-call claims (``deficit-charged-once``,
    ``waterfall-order``: their all-N argument by the sweep's turns, ``solver.side_deficit``) asked on
    one event: at N > 2 the lemmas' book is asked first (``_lemmas_book_first``), and there the claim's
    direct check asks the exact query first, the phase that decides it (1,125,006 units for
    deficit-charged-once, where the purified phase before it spent 2.4M undecided)
    (docs/solver-notes.md#gen-bs-per-call-claims-on-the-lemmas-book-first-session-23)."""
    return (
        invariant.id in (deficit_once.CLAIM, waterfall_claims.CLAIM)
        and bounds.events == 1
        and side_deficit.deficit_not_covered(policy, bounds) is None
    )


def _lemmas_book_fits(policy: Policy, invariant: Invariant, bounds: Bounds) -> bool:
    """Whether ``_lemmas_book_first`` asks ``invariant`` at N > 2: a payer's claim whose facts fit,
    or ``deficit-charged-once`` where its resolution facts fit and its all-N argument applies
    (``solver.deficit_once``: the lemmas' book proves it for every N, so N asks the transfers alone)."""
    if _gen_b_per_call(policy, invariant, bounds):
        # percolator Gen B's per-call claims, by the sweep's turns: the lemmas' book proves them for every
        # N, so N asks the transfers alone (docs/solver-notes.md#gen-bs-per-call-claims-on-the-lemmas-book-first-session-23)
        return True
    if invariant.id == deficit_once.CLAIM:
        claims = (deficit_once.CLAIM,)
        return _payer_fits(policy, invariant, bounds, claims) and deficit_once.not_covered(policy, bounds) is None
    if invariant.id == side_fund.CLAIM and side_fund.not_covered(policy, bounds) is None:
        # percolator Gen B's fund, entry by entry: the lemmas' book proves it for every N
        # (docs/solver-notes.md#percolator-gen-bs-cells-session-21), so N asks the transfers alone
        return True
    if bounds.events == 1 and gen_b_payer.fits(policy, attrs.evolve(bounds, accounts=2), invariant.id):
        # Gen B's payer claims with the payer's bound as facts: the lemmas' book proves them for every N
        # (docs/solver-notes.md#gen-bs-payer-claims-wired-into-prove-session-25), so N asks the transfers alone
        return True
    if bounds.events == 1 and haircut_payer.fits(policy, attrs.evolve(bounds, accounts=2), invariant.id):
        # Gen A's payer claims with each turn's facts: the lemmas' book proves them for every N
        # (docs/solver-notes.md#percolator-gen-as-payer-claims-for-every-n-session-22), so N asks the transfers alone
        return True
    if bounds.events == 1 and cascade_facts.fits(policy, attrs.evolve(bounds, accounts=2), invariant.id):
        # the cascade invariant's claims with each turn's facts (drift, mango-v4): the lemmas' book proves
        # them for every N (docs/solver-notes.md#drifts-direct-check-session-21), so N asks the transfers alone
        return True
    return _payer_fits(policy, invariant, bounds)


def _refuted_for_larger_books(policy: Policy, invariant: Invariant, outcome: ProofResult) -> ProofResult:
    """A per-account claim refuted on n traders, said to fail on every larger book where its story
    with flat, empty traders added replays failing at the same step (each size up to 8 replayed on
    the concrete engine; an account with nothing takes no part in a step)."""
    cx = outcome.counterexample
    if cx is None or cx.obligation != invariant.id:
        return outcome
    n = len(cx.story.book.traders)
    reached = still_refuted(policy, invariant, cx.story, cx.step_index)
    if reached <= n:
        return outcome
    note = (
        f"refuted for every N ≥ {n}: the story with flat, empty traders added breaks it at the same step, "
        f"replayed on the concrete engine at each N up to {reached}"
    )
    return attrs.evolve(outcome, method=f"{outcome.method}; {note}")


def _proved(outcome: ProofResult | None, name: str) -> bool:
    return outcome is not None and _obligation(outcome, name).verdict is Verdict.PROVED


def _obligation(outcome: ProofResult, name: str) -> ObligationResult:
    return next((o for o in outcome.obligations if o.obligation == name), ObligationResult(name, outcome.verdict))


def _on_lemma_book(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    outcome: ProofResult,
    smaller: dict[int, ProofResult],
    n: int,
    cases: Callable[[Bounds], tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]],
    units: int,
    events: int | None = None,
) -> ProofResult | None:
    """The invariant checked directly on the lemmas' book, ``n`` traders and ``events`` events
    (default: the question's own K; 1 for an argument that covers any K by induction over events,
    the book a one-event question's all-N verdict is checked on), when the question's book is larger
    and the check there was undecided: the small-scope pass's answer if it proved it (its queries
    are already counted), else the question asked again there with the ``units`` the question has
    left (one more question: its queries are added to ``outcome``'s by ``_extended``)."""
    events = bounds.events if events is None else events
    larger = bounds.accounts > n or bounds.events > events
    if not larger or _obligation(outcome, invariant.id).verdict is not Verdict.UNKNOWN:
        return None
    quick = smaller.get(n) if bounds.accounts > n else None
    if quick is not None and _obligation(quick, invariant.id).verdict is Verdict.PROVED:
        return quick
    if units <= 0:
        return None
    book = attrs.evolve(bounds, accounts=n, events=events)
    again = _bounded(policy, invariant, book, units, transfers=False, cases=cases)
    k = events if events != bounds.events else None
    return attrs.evolve(again, queries=tuple(_tag_scope(q, n, k) for q in again.queries))


#: the reason a claim proved first on the one-event book is not asked at N and K (``_transfers_at_k``)
ON_ONE_EVENT = "not asked at K events: the one-event question on the lemmas' book proved it first"
#: the reason a claim proved first on the lemmas' book is not asked at N where the transfers are proved for every N
EVERY_N_TRANSFERS_FIRST = "not asked at N: the non-negative transfers proved for every N, the lemmas' book proved it"


def _transfers_at_k(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    one_event: ProofResult,
    units: int,
    transfers: bool,
    cases: Callable[[Bounds], tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]] | None,
) -> ProofResult:
    """The question at N and K once the one-event question on the lemmas' book proved the claim
    its all-N, any-K argument covers: the transfers obligation alone within ``units`` (a question
    built for it, as ``_by_flat_cases`` asks it), the claim's obligation left to ``_extended`` with
    :data:`ON_ONE_EVENT` (asked again at K it could only spend units: a refutation there would be a
    bug in Solvent, never a verdict). Without ``transfers`` nothing more is asked."""
    claim = ObligationResult(invariant.id, Verdict.UNKNOWN, ON_ONE_EVENT, scope_of(bounds))
    if transfers:
        rest = _bounded(policy, invariant, bounds, units, transfers=True, claim=False, cases=cases)
        if rest.verdict is Verdict.VACUOUS:
            return rest
    else:
        rest = attrs.evolve(one_event, queries=(), lemmas=(), counterexample=None, witness=None)
    obligations = (claim, *(rest.obligations if transfers else ()))
    verdict, reason = combine(list(obligations))
    return attrs.evolve(rest, verdict=verdict, reason=reason, obligations=obligations, scope=scope_of(bounds))


def _one_event_first(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    n: int,
    cases: Callable[[Bounds], tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]],
    units: int,
    start_margin: str | None = None,
) -> ProofResult:
    """The claim asked on the lemmas' book of one event (``n`` traders, K = 1) within ``units``,
    before a K-event question whose all-N argument covers any K: the direct check that argument's
    verdict rests on (``_extended``), as ``_on_lemma_book`` would ask it after. The transfers
    obligation is the question's own, asked at N and K only. Its queries are named for that book.
    ``start_margin``: where the argument is an induction on a premise each event keeps
    (``solver.induction``), the book starts from that premise, the step the induction repeats."""
    book = attrs.evolve(bounds, accounts=n, events=1)
    if start_margin is not None:
        book = attrs.evolve(book, start_margin=start_margin)
    asked = _bounded(policy, invariant, book, units, transfers=False, cases=cases)
    return attrs.evolve(asked, queries=tuple(_tag_scope(q, n, 1) for q in asked.queries))


def _tag_scope(stats: QueryStats, n: int, k: int | None = None) -> QueryStats:
    return attrs.evolve(stats, name=f"{stats.name} (on the lemmas' book, {_book_text(n, k)})")


def _book_text(n: int | None, k: int | None = None) -> str:
    """ "N = n", and ", K = k" where the lemmas' book is shorter than the question's."""
    return f"N = {n}" + ("" if k is None else f", K = {k}")


def _extended(
    outcome: ProofResult, invariant: Invariant, extension: Any, on_lemma_book: ProofResult | None = None
) -> ProofResult:
    """The invariant proved for all N (and, by induction, any K of these kinds) by its lemmas *and*
    by a direct bounded check: the all-N claim never rests on the lemmas alone.

    - the direct check at N proved it: PROVED for every N;
    - the direct check at N was undecided, but the one on the lemmas' own book size
      (``on_lemma_book``: the small-scope pass at ``compositional.LEMMA_TRADERS`` traders, asked
      when N is larger) proved it: PROVED for every N, saying so. The lemmas and the direct check
      then speak about the same symbolic book; a larger N adds nothing the lemmas do not cover,
      and an undecided question at N must not make an all-N claim weaker than it is at N = 2;
    - both undecided: UNKNOWN (the lemmas held, but the claim is not reported beyond what was
      checked directly);
    - a direct check refuted it with a replayed story: the lemmas said it cannot fail, so the
      argument itself is broken: :class:`InconsistentProof`, never a verdict.
    """
    if outcome.verdict is Verdict.VACUOUS:
        return outcome
    direct = _obligation(outcome, invariant.id)
    if direct.verdict is Verdict.REFUTED:
        raise InconsistentProof(
            f"{outcome.policy}: the all-N argument for {invariant.id} held "
            f"({len(extension.lemmas)} lemmas) but the direct bounded check refuted it with a replayed story: "
            f"{direct.reason or 'see the counterexample'}"
        )
    scope = attrs.evolve(
        outcome.scope,
        accounts=None,
        # an induction covers any K, unless its lemmas were asked at the question's clocks only
        # (a policy that reads the book's clock: solver.clock)
        events=(getattr(extension, "events", None) if extension.every_k else outcome.scope.events),
        assumes=extension.assumes,
    )
    # the lemmas' book asked again: its queries counted whatever it answered (a small-scope pass's
    # answer is in ``outcome``'s already)
    queries = () if on_lemma_book is None else tuple(q for q in on_lemma_book.queries if q not in outcome.queries)
    small = None if on_lemma_book is None else _obligation(on_lemma_book, invariant.id)
    checked = f"and the invariant checked directly: {outcome.method}"
    if direct.verdict is Verdict.PROVED:
        said = direct.reason
        if said.startswith(TRIVIALLY) and not getattr(extension, "trivial_extends", True):
            # trivially true on a book too small for what the claim reads: the lemmas prove it beyond
            said, checked = "", f"{checked} (trivially there: {TRIVIALLY[len('trivially: ') :]})"
        claim = ObligationResult(invariant.id, Verdict.PROVED, said, scope)
    elif small is not None and small.verdict is Verdict.PROVED:
        lemma_book, at = _books(outcome, on_lemma_book)
        # a claim that cannot fail where the argument held (solver.frame_claims) stays trivially true
        vacuous = getattr(extension, "vacuous", False) and small.reason.startswith(TRIVIALLY)
        claim = ObligationResult(invariant.id, Verdict.PROVED, small.reason if vacuous else "", scope)
        checked = (
            f"and the invariant checked directly on the lemmas' book ({lemma_book}); "
            f"at {at} the direct check was undecided ({direct.reason})"
        )
        if direct.reason == EVERY_N_TRANSFERS_FIRST:
            checked = (
                f"and the invariant checked directly on the lemmas' book ({lemma_book}), asked first; at {at} "
                f"nothing built: {outcome.method}"
            )
        if direct.reason == ON_ONE_EVENT:
            start = getattr(extension, "one_event_start", None)
            checked = (
                f"and the invariant checked directly on the lemmas' book ({lemma_book}"
                + (f", its traders starting {start}: the induction's step" if start else "")
                + f"), asked first; at {at} the non-negative transfers only"
            )
    else:
        at = _books(outcome, on_lemma_book)[1] if on_lemma_book is not None else f"N = {outcome.scope.accounts}"
        reason = f"the all-N lemmas held, but the direct check at {at} was undecided: {direct.reason}"
        if small is not None:
            reason += f"; on the lemmas' book ({_books(outcome, on_lemma_book)[0]}) too: {small.reason}"
        claim = ObligationResult(invariant.id, Verdict.UNKNOWN, reason, outcome.scope)
        scope = outcome.scope
    obligations = (claim,) + tuple(o for o in outcome.obligations if o.obligation != invariant.id)
    verdict, reason = combine(list(obligations))
    return attrs.evolve(
        outcome,
        verdict=verdict,
        reason=reason,
        scope=scope,
        obligations=obligations,
        method=f"{extension.method}; {checked}",
        lemmas=extension.lemmas,
        queries=extension.queries + outcome.queries + queries,
    )


def _books(outcome: ProofResult, on_lemma_book: ProofResult) -> tuple[str, str]:
    """The lemmas' book and the question's, as a verdict names them: "N = 2" and "N = 4", with
    each one's K where the lemmas' book is shorter (an induction over events checked on one)."""
    small, big = on_lemma_book.scope, outcome.scope
    if small.events == big.events:
        return _book_text(small.accounts), _book_text(big.accounts)
    return _book_text(small.accounts, small.events), _book_text(big.accounts, big.events)


def scope_of(bounds: Bounds) -> Scope:
    """The scope a bounded verdict covers."""
    if bounds.price_grid:
        prices = f"prices in {{{', '.join(str(p) for p in bounds.price_grid)}}}"
    else:
        prices = f"prices {bounds.min_price}..{bounds.max_price}"
    kinds = bounds.event_kinds
    if bounds.event_markets:  # the events of a market in those markets only (a threshold across markets)
        where = " in " + ", ".join(bounds.event_markets)
        kinds = tuple(k + where if k in MARKET_KINDS else k for k in kinds)
    return Scope(bounds.accounts, bounds.events, kinds, prices, fixed_text(bounds))


#: the event kinds that act on one market (``Bounds.event_markets`` narrows them)
MARKET_KINDS = ("mark", "funding", "trade", "final-settlement")


def fixed_text(bounds: Bounds) -> str:
    """What every book and event of a proof share, beyond the scope line: the values the symbolic
    book holds fixed (``solver.story.symbolic_book`` starts from ``new_book``), the bounds on its
    numbers, and that a K-event proof covers only sequences whose K events are all accepted."""
    tiers = "its [[market]] table's tiers" if bounds.market_labels else "the policy's tiers"
    markets = (
        f"{bounds.markets} markets ({', '.join(bounds.market_names)}), each on {tiers}, " if bounds.markets > 1 else ""
    )
    if bounds.assets:
        markets += f"{bounds.assets} collateral asset{'s' if bounds.assets > 1 else ''} ({', '.join(bounds.collateral_names)}), "
    margined = "every trader cross-margined"
    if bounds.isolated:
        held = ", ".join(f"{owner}'s in {market}" for owner, market in bounds.isolated_positions)
        margined = f"isolated positions ({held}) on their own margin, every other position cross-margined"
    return (
        f"{markets}the clock at 0, a tick of 1 quantum, {margined}; |balances| ≤ {bounds.max_quote:,} "
        f"quanta, |positions| ≤ {bounds.max_lots:,} lots, funding rates within ±{bounds.max_rate_ppm:,} ppm; "
        "sequences whose events are all accepted"
    )


# --- the bounded proof ---------------------------------------------------------------------------


def _small_scope_first(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    *,
    units: int,
    transfers: bool = True,
    smaller: dict[int, ProofResult] | None = None,
    cases: Callable[[Bounds], tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]] | None = None,
    hold_back: int | None = None,
    lemmas_held: bool = False,
    book_cases: Callable[[Bounds], tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]] | None = None,
    smallest_first: bool = False,
    takeover_grid: bool = False,
    funding_grid: bool = False,
    exact_first: bool = False,
    alone: bool = False,
) -> ProofResult:
    """Refute on 1, 2, 3 traders first (cheap, and every measured counterexample lived there,
    docs/solver-notes.md#small-scope), then decide N itself, all within ``units``: the smaller books
    share a quarter of them (each its fair share of what is left of that quarter), N's own pass
    gets the rest (half of it with ``hold_back``, the lemmas' book size, unless the pass on that
    book proved the claim: the other half is kept for asking it there again, ``_on_lemma_book``), the
    payer's facts (``cases``, on the lemmas' book) within half of N's share. A refutation on fewer
    traders is a refutation within the bounds; a proof on fewer traders says nothing about N, so
    only N's own proof is reported (``smaller``, when given, receives each smaller N's outcome: an
    all-N argument may use one, ``_extended``).

    ``lemmas_held``: the claim's all-N lemmas held, so a smaller book has no refutation to give (one
    would be a bug in Solvent, which the direct check at N still catches: ``_extended``); only the
    lemmas' book is asked first (``hold_back``, where N is larger: ``_on_lemma_book`` reads its
    proof), and N's own pass gets the rest (docs/solver-notes.md#no-refutation-search-where-the-lemmas-held);
    ``book_cases``: the facts that pass on the lemmas' book is asked with.

    ``smallest_first``: a claim about each account on its own (:data:`SMALLEST_FIRST`) with no all-N
    argument, on a book larger than the lemmas' or over K > 1 events: the smaller books share a third
    of ``units``, asked smallest first, each with all the ones before it left, and at K > 1 each size
    on one event before K (a story of fewer events is one within the bounds, as one of fewer
    traders is); N's own pass gets the rest. Each book of that search is a question of its own
    (``effort.question``), its claim asked exact first (``StoryQuery.check_obligation``'s
    ``exact_first``): a story is then found at the same count whatever the search's share above it
    (bybit's principal-protected: 949,352 units at N = 4, N = 8 and N = 3 over K = 3 alike).

    ``takeover_grid``: a claim on the fund's cash where the fund takes over what ADL leaves, below
    zero if need be (``payer_lemma.takes_over``: bitmex's ``insurance-fund-non-negative`` and
    ``claims-backed``'s system holders): the takeover's story is searched first on the smallest book,
    one event, on the grid's doubling and halving (:func:`_on_grid`), within :data:`TAKEOVER_SHARE`
    of ``units`` (docs/solver-notes.md#bitmexs-four-cells-at-n--4-session-22).

    ``funding_grid``: a claim whose story is a funding sweep's where the backstop vault is deleveraged
    there (``kind_split.grid_first``): that story searched first on the smallest book at a still mark
    (:func:`_funding_story_first`).

    ``exact_first``: N's own pass asks the claim exact first (``_bounded``'s), where that is the phase
    that decides it (``_gen_b_per_call``, ``kind_split.exact_alone``).

    ``alone``: no smaller book is searched first, and N's own pass asks the claim exact with every unit
    the build and the transfers leave (``kind_split.exact_alone``: its exact query needs more than half)."""
    earlier: list[QueryStats] = []
    smallest = 2 if set(bounds.event_kinds) <= {"trade"} else 1
    if takeover_grid and not bounds.price_grid and GRID_FIRST[-1] * bounds.min_price <= bounds.max_price:
        one = attrs.evolve(bounds, accounts=smallest, events=1)
        found = _on_grid(policy, invariant, one, units // TAKEOVER_SHARE, exact_first=True)
        if found.verdict is Verdict.REFUTED:
            return attrs.evolve(_refuted_within(found, bounds), queries=found.queries)
        earlier += found.queries
    if funding_grid:
        found = _funding_story_first(policy, invariant, bounds, smallest, units // TAKEOVER_SHARE)
        if found.verdict is Verdict.REFUTED:
            return attrs.evolve(_refuted_within(found, bounds), queries=tuple(earlier) + found.queries)
        earlier += found.queries
    quarter = units // (3 if smallest_first else 4)  # a search for a cheap refutation, not a proof
    sizes = [] if alone else [n for n in (1, 2, 3) if smallest <= n < bounds.accounts]
    if lemmas_held:
        sizes = [n for n in sizes if n == hold_back]
    elif bounds.assets:
        # the smallest book without its collateral assets first, within the quarter (the books
        # with them share what it left): a story there, the assets added back with no balance, is
        # one of these bounds (docs/solver-notes.md#a-refutation-searched-without-the-asset-first);
        # a claim the policy accepts as failing within half, its claim asked exact first (its venue
        # documents the story: drift's no-haircut and waterfall-order on the isolated scope, out of
        # the quarter purified first, docs/solver-notes.md#asset-price-events-in-checks-questions-session-30)
        accepted = invariant.id in policy.accepts
        share = units // ACCEPTED_WITHOUT_ASSETS_SHARE if accepted else quarter
        found, spent = _without_assets(policy, invariant, bounds, smallest, share, exact_first=accepted)
        earlier += spent
        if found is not None:
            return found
    books = [attrs.evolve(bounds, accounts=n) for n in sizes]
    if smallest_first and bounds.events > 1:
        books = [attrs.evolve(bounds, accounts=n, events=1) for n in (*sizes, bounds.accounts)] + books
    unproved: list[Bounds] = []  # the one-event smaller books where the claim was not proved
    for k, book in enumerate(books):
        n = book.accounts
        quick = (quarter - _units(earlier)) // (1 if smallest_first else len(books) - k)
        if quick <= 0:
            continue
        given = book_cases if n == hold_back else None
        if smallest_first:
            # each smaller book a question of its own (a fresh z3 context), its claim asked exact first:
            # its answer a function of the book and its units, not of the books asked before it, so a
            # story is found at the same count whatever N's question gives the search above it, at
            # any N and K (docs/solver-notes.md#drifts-claims-backed-and-bybits-principal-protected-at-n--8-session-22)
            with effort.question():
                outcome = _bounded(policy, invariant, book, quick, transfers=transfers, cases=given, exact_first=True)
        else:
            outcome = _bounded(policy, invariant, book, quick, transfers=transfers, cases=given)
        earlier += outcome.queries
        if smaller is not None and book.events == bounds.events:
            smaller[n] = outcome
        if outcome.verdict is Verdict.REFUTED:
            # every book searched before it counted too (``earlier`` holds this one's queries last)
            return attrs.evolve(_refuted_within(outcome, bounds), queries=tuple(earlier))
        if book.events == 1 and _obligation(outcome, invariant.id).verdict is not Verdict.PROVED:
            unproved.append(book)
    if smallest_first and invariant.id in policy.accepts and not bounds.price_grid:
        # a claim the policy accepts as failing, not refuted on the smaller books: its story searched
        # there on two prices, a linear question, within a third of what N's own pass would get
        # (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20)
        share = (units - _units(earlier)) // GRID_SHARE
        spent = _units(earlier)
        for book in unproved:
            left = share - (_units(earlier) - spent)
            if left <= 0 or GRID_FIRST[-1] * book.min_price > book.max_price:
                continue
            found = _on_grid(policy, invariant, book, left)
            if found.verdict is Verdict.REFUTED:  # counted with every smaller book's search before it
                return attrs.evolve(_refuted_within(found, bounds), queries=tuple(earlier) + found.queries)
            earlier += found.queries
    if not smallest_first and not lemmas_held and bounds.events > 1 and invariant.id in policy.accepts:
        # a claim the policy accepts as failing, over K > 1 events, not refuted on the smaller books at K:
        # its story searched on one event, smallest book first up to N, within a third of what N's own
        # pass would get (a story of fewer events is one within the bounds); each book a question of its
        # own, its claim exact first, for a refutation only (docs/solver-notes.md#accepted-claims-on-one-event-first-at-k--3-session-23)
        found, spent = _accepted_on_one_event(policy, invariant, bounds, smallest, units - _units(earlier))
        if found is not None:
            return attrs.evolve(_refuted_within(found, bounds), queries=tuple(earlier) + spent)
        earlier += spent
    own = units - _units(earlier)
    kept = None if hold_back is None else (smaller or {}).get(hold_back)
    if hold_back is not None and (kept is None or _obligation(kept, invariant.id).verdict is not Verdict.PROVED):
        own -= own // 2
    whole = {"exact_share": 1} if alone else {}  # the claim's whole share to its exact query (else the default)
    outcome = _bounded(
        policy, invariant, bounds, own, transfers=transfers, cases=cases, exact_first=exact_first, **whole
    )
    return attrs.evolve(outcome, queries=tuple(earlier) + outcome.queries)


#: the part of what N's own pass would get that the one-event search of a claim the policy accepts
#: as failing takes at K > 1 (``_accepted_on_one_event``): a third
ONE_EVENT_SHARE = 3


def _accepted_on_one_event(
    policy: Policy, invariant: Invariant, bounds: Bounds, smallest: int, units: int
) -> tuple[ProofResult | None, tuple[QueryStats, ...]]:
    """A story of a claim the policy accepts as failing (``policy.accepts``), searched on one event on
    each book from ``smallest`` traders up to ``bounds.accounts``, smallest first, each with what the
    ones before it left of ``units // ONE_EVENT_SHARE``: a story of one event is a story within
    ``bounds`` (K > 1), as one of fewer traders is. Each book a question of its own (a fresh z3
    context), its claim asked exact first and no transfers (a refutation only, as on ``_on_grid``):
    its count a function of the book and its share alone (z3's search is not the same at every share:
    the one-trader story below 479,923 units at a share of 0.6M, 507,191 at 1M). The REFUTED result on the book
    that found one (its story replayed on the concrete engine, as every refutation is), or None; the
    queries asked, counted whatever they found. Drift's ``spot-isolated`` at N = 3, K = 3: its
    one-trader story of one move is found so, where the same book over three moves is undecided
    within 5M (docs/solver-notes.md#accepted-claims-on-one-event-first-at-k--3-session-23)."""
    share = units // ONE_EVENT_SHARE
    spent: list[QueryStats] = []
    for n in range(smallest, bounds.accounts + 1):
        left = share - _units(spent)
        if left <= 0:
            break
        with effort.question():
            found = _bounded(
                policy, invariant, attrs.evolve(bounds, accounts=n, events=1), left, transfers=False, exact_first=True
            )
        spent += found.queries
        if found.verdict is Verdict.REFUTED:
            return found, tuple(spent)
    return None, tuple(spent)


def _refuted_within(outcome: ProofResult, bounds: Bounds) -> ProofResult:
    """A refutation on fewer traders (or on a price grid) is one within ``bounds``; an obligation
    proved (or left undecided) there keeps the smaller book's scope: it says nothing of N itself."""
    return attrs.evolve(
        outcome,
        scope=scope_of(bounds),
        obligations=tuple(
            attrs.evolve(o, scope=scope_of(bounds)) if o.verdict is Verdict.REFUTED else o for o in outcome.obligations
        ),
    )


#: the prices (multiples of the bounds' least price) of the grid a claim the policy accepts as failing
#: is searched on, on the smaller books where it was not decided: a move that halves or doubles the mark
GRID_FIRST = (2, 4)
#: the part of what N's own pass would get that the grid's search takes: a third
GRID_SHARE = 3
#: the part of a question the fund's takeover story is searched in first, on the smallest book's grid
#: (``_small_scope_first``'s ``takeover_grid``): a third
TAKEOVER_SHARE = 3
#: the largest size and balance of the funding story's search at a still mark (``_funding_story_first``):
#: a small box, where z3's exact search finds the vault's rounding story at N = 1 (a story in it is one
#: of any larger bounds)
STILL_BOX = 1_000
#: the part of a question on a book with collateral assets that the search without them takes for a
#: claim the policy accepts as failing (``_small_scope_first``, ``_without_assets``): a half, its claim
#: asked exact first (other claims: the smaller books' quarter)
ACCEPTED_WITHOUT_ASSETS_SHARE = 2


def _on_grid(policy: Policy, invariant: Invariant, book: Bounds, units: int, exact_first: bool = False) -> ProofResult:
    """``invariant`` asked on ``book`` (one event) with the book's mark and the move's price on
    :data:`GRID_FIRST`, a doubling then a halving (a linear question: the products of sizes and
    prices are sums), for a refutation only (no transfers): a story there is a story of ``book``
    (its prices within the bounds), replayed on the concrete engine; anything else says nothing.
    For the claims a policy accepts as failing (its venue documents the story), where the search on
    the smaller books is for a refutation only (``smallest_first``) and did not find it: Drift's
    principal-protected at N = 2 was undecided within 10M units of the purified and exact question,
    and is refuted on the grid in 0.6M (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20).
    ``exact_first``: each point's claim asked exact first (``_bounded``'s)."""
    low, high = (p * book.min_price for p in GRID_FIRST)
    moves = ((low, high), (high, low))
    grid = attrs.evolve(book, price_grid=(low, high))
    return _bounded(policy, invariant, grid, units, transfers=False, points=moves, exact_first=exact_first)


def _funding_story_first(
    policy: Policy, invariant: Invariant, bounds: Bounds, smallest: int, units: int
) -> ProofResult:
    """``invariant`` asked on the smallest book of ``bounds``, one funding payment, with the mark at
    :data:`GRID_FIRST`'s larger point and every size and balance within :data:`STILL_BOX`, its claim exact
    first, within ``units``, for a refutation only (no transfers), as a
    question of its own (a fresh z3 context): ``kind_split.grid_first``'s story, the vault's own ADL at a
    funding sweep charging a trader beyond its funding. A story there is a story of ``bounds`` (its
    numbers within them), replayed on the concrete engine; anything else says nothing (a result with no
    verdict of ``bounds``' own: only its refutation is read). At N = 1 on hyperliquid
    no-negative-equity and loss-bounded-by-collateral are undecided within 10M units at a free mark
    (the payment multiplies a free size by a free rate) and refuted here in 678,581 and 678,985 units
    (docs/solver-notes.md#hyperliquids-funding-parts-session-31)."""
    mark = GRID_FIRST[-1] * bounds.min_price
    one = attrs.evolve(
        bounds,
        accounts=smallest,
        events=1,
        event_kinds=(FUNDING,),
        price_grid=(mark,) if mark <= bounds.max_price else (bounds.min_price,),
        max_lots=min(bounds.max_lots, STILL_BOX),
        max_quote=min(bounds.max_quote, STILL_BOX),
    )
    with effort.question():  # its units whatever was asked before it in the process
        return _bounded(policy, invariant, one, units, transfers=False, exact_first=True)


def _without_assets(
    policy: Policy, invariant: Invariant, bounds: Bounds, accounts: int, units: int, exact_first: bool = False
) -> tuple[ProofResult | None, tuple[QueryStats, ...]]:
    """A refutation of ``invariant`` searched on ``bounds`` at ``accounts`` traders with no
    collateral asset on the book (and no event acting on one), within ``units``: a refutation on
    fewer traders is one within ``bounds``, and its scope. Its story is then written on the asset book,
    every account holding none of each asset (net deposits 0, the lowest price the bounds allow,
    the lending indices at one), and replayed there on the concrete engine. A REFUTED result within
    ``bounds`` where that replay breaks the claim; else None (nothing is said: the asset book is
    asked as before). The queries are counted whatever they found. ``exact_first``: the claim asked
    exact first (``_bounded``'s: a story found at the same count whatever the share)."""
    kinds = tuple(k for k in bounds.event_kinds if k not in ASSET_KINDS)
    if not kinds or units <= 0:
        return None, ()
    bare = attrs.evolve(
        bounds,
        accounts=accounts,
        assets=0,
        asset_names=(),
        curve_assets=(),
        event_kinds=kinds,
        settlement_covered=True,  # the asset book's settlement assumption, so its story replays inside it
    )
    outcome = _bounded(policy, invariant, bare, units, transfers=False, exact_first=exact_first)
    cx = outcome.counterexample
    if outcome.verdict is not Verdict.REFUTED or cx is None:
        return None, outcome.queries
    story = with_inert_assets(cx.story, bounds.collateral_names, bounds.min_price)
    rep = replay(policy, invariant, story, bounds)
    if not rep.violates:
        return None, outcome.queries
    lifted = Counterexample(rep.story, rep.steps, rep.failed_at, invariant.id, rep.detail)
    scope = scope_of(bounds)
    claim = ObligationResult(invariant.id, Verdict.REFUTED, rep.detail, scope)
    method = (
        f"{outcome.method}; found on the book without its collateral assets, then replayed with them held by no account"
    )
    result = attrs.evolve(
        outcome, scope=scope, obligations=(claim,), counterexample=lifted, method=method, reason=rep.detail
    )
    return result, outcome.queries


def _grid_points(bounds: Bounds, slot_has_price: list[bool]) -> Iterator[tuple[int | None, ...]]:
    if not bounds.price_grid:
        yield ()
        return
    choices = [bounds.price_grid] + [bounds.price_grid if has else (None,) for has in slot_has_price]
    yield from itertools.product(*choices)


def _slot_prices(bounds: Bounds) -> list[bool]:
    return [any(k in ("mark", "trade") for k in bounds.event_kinds) for _ in range(bounds.events)]


def _bounded(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    units: int | None = None,
    *,
    transfers: bool = True,
    cases: Callable[[Bounds], tuple[payer_direct.ByCases | None, tuple[QueryStats, ...]]] | None = None,
    claim: bool = True,
    points: Sequence[tuple[int | None, ...]] | None = None,
    exact_first: bool = False,
    exact_share: int = EXACT_FIRST_SHARE,
) -> ProofResult:
    """The bounded question within ``units`` (default ``bounds.effort``), every part within what
    the parts before it left: the payer's lemmas as facts (``cases``: proved within half, then each
    obligation asked piece by piece, ``solver.payer_direct``), then each price-grid point its fair
    share of the rest; in one point the build, the witness, the claim (all but an eighth of what
    is left when the transfers follow it) and the transfers (what is left). ``claim=False``: the
    transfers alone (the claim decided otherwise, ``_by_flat_cases``). ``points``: the grid's points to
    ask, where not every one of ``bounds.price_grid``'s (``_on_grid_first``). ``exact_first``: the claim
    asked exact first (``StoryQuery.check_obligation``'s: no refinement round before the exact stage,
    so a story is found at the same count whatever the share: the smaller books' search, and the fund's
    takeover on bitmex's grid, ``TAKEOVER_SHARE``); ``exact_share``: its part of the claim's units (1: all,
    ``kind_split.exact_alone``'s). A question about a large book is asked in a z3
    context of its own, its solvers told their logic (``solver.incremental``)."""
    with incremental.asked(bounds.accounts):
        units = bounds.effort if units is None else units
        checked = ((invariant,) if claim else ()) + ((None,) if transfers else ())
        per_obligation: dict[str, list[Answer]] = {obligation_name(o): [] for o in checked}
        witnesses: list[Answer] = []
        by_cases, queries = (None, ()) if cases is None else cases(_within(bounds, units // 2))
        queries = list(queries)
        facts = None if by_cases is None else by_cases.instances
        abstracted = None if by_cases is None else by_cases.abstracted
        linear = True
        names: tuple[str, ...] = ()
        points = list(_grid_points(bounds, _slot_prices(bounds)) if points is None else points)
        for k, prices in enumerate(points):
            share = (units - _units(queries)) // (len(points) - k)
            if share <= 0:
                for name, answers in per_obligation.items():
                    answers.append(Answer(Verdict.UNKNOWN, QueryStats(name, "out of effort", 0.0), _SPENT))
                continue
            try:
                query = StoryQuery(
                    policy,
                    invariant,
                    _within(bounds, share),
                    prices,
                    obligations=checked,
                    lemma_facts=facts,
                    abstracted=abstracted,
                )
            except OutOfEffort as stop:
                queries.append(QueryStats(f"build {_point(prices)}".strip(), "out of effort", 0.0, units=stop.limit))
                reason = stop.reason
                if share < bounds.effort:  # a part of the question: its effort, and what was left for this part
                    reason = (
                        f"building the question needed more than its {effort.units_text(bounds.effort)} "
                        f"({effort.units_text(share)} of it left for N = {bounds.accounts}; {stop.steps:,} build steps)"
                    )
                for name, answers in per_obligation.items():
                    answers.append(Answer(Verdict.UNKNOWN, QueryStats(name, "out of effort (building)", 0.0), reason))
                continue
            queries.append(
                QueryStats(f"build {_point(prices)}".strip(), "built", query.build_seconds, units=query.build_units)
            )
            # the split lemmas' units are the build's, charged there: listed, not counted twice
            queries += [_counted_in_build(q) for q in query.split_lemmas.stats]
            linear = linear and query.exact
            names = names or tuple(a.name for a in query.assumptions)
            left = share - query.build_units
            witness = query.check_assumptions(units=left) if left > 0 else _not_asked("assumptions")
            left -= witness.stats.units
            witnesses.append(witness)
            queries.append(_tag(witness.stats, prices))
            if witness.verdict is not Verdict.WITNESSED:
                continue
            for obligation in checked:
                given = left - left // 8 if obligation is invariant and len(checked) > 1 else left
                if given <= 0:
                    answer = _not_asked(obligation_name(obligation))
                elif by_cases is None:
                    first = exact_first and obligation is invariant  # the claim's story, not the transfers'
                    answer = query.check_obligation(obligation, units=given, exact_first=first, exact_share=exact_share)
                else:
                    answer = by_cases.check(query, obligation, units=given)
                left -= answer.stats.units
                queries.append(_tag(answer.stats, prices))
                per_obligation[answer.stats.name].append(answer)
                if answer.verdict is Verdict.REFUTED:
                    break
            if any(a.verdict is Verdict.REFUTED for answers in per_obligation.values() for a in answers):
                break
        method = BOUNDED + (GRID if bounds.price_grid else "" if linear else PURIFIED)
        method += by_cases.method if by_cases is not None else ""
        base = ProofResult(
            policy=policy.name,
            invariant=invariant.id,
            verdict=Verdict.UNKNOWN,
            scope=scope_of(bounds),
            seconds=0.0,
            method=method,
            queries=tuple(queries),
            assumptions=names,
            lemmas=() if by_cases is None else by_cases.facts.lemmas,
        )
        vacuous = [w for w in witnesses if w.verdict is Verdict.VACUOUS]
        if witnesses and len(vacuous) == len(witnesses):
            return attrs.evolve(
                base, verdict=Verdict.VACUOUS, reason=vacuous[0].reason, conflicting=vacuous[0].conflicting
            )
        unknown_witness = [w for w in witnesses if w.verdict is Verdict.UNKNOWN]
        results = [
            attrs.evolve(_fold(name, answers, unknown_witness), scope=scope_of(bounds))
            for name, answers in per_obligation.items()
        ]
        verdict, reason = combine(results)
        refuted = next(
            (a for answers in per_obligation.values() for a in answers if a.verdict is Verdict.REFUTED), None
        )
        witness = next((w.replay.story for w in witnesses if w.replay is not None), None)
        return attrs.evolve(
            base,
            verdict=verdict,
            reason=reason,
            obligations=tuple(results),
            counterexample=refuted.counterexample if refuted else None,
            witness=witness,
        )


#: why a part of a question was not asked
_SPENT = "its effort was spent by the parts of the question before it"


def _not_asked(name: str) -> Answer:
    """An obligation (or the witness) the question had no units left for: undecided, not asked."""
    return Answer(Verdict.UNKNOWN, QueryStats(name, "out of effort (not asked)", 0.0), _SPENT)


def _counted_in_build(stats: QueryStats) -> QueryStats:
    """A split lemma's record, its units shown in the result but counted in the build's."""
    if not stats.units:
        return stats
    return attrs.evolve(stats, result=f"{stats.result}; its {stats.units:,} units counted in the build", units=0)


def _fold(name: str, answers: list[Answer], unknown_witness: list[Answer]) -> ObligationResult:
    refuted = [a for a in answers if a.verdict is Verdict.REFUTED]
    if refuted:
        return ObligationResult(name, Verdict.REFUTED, refuted[0].reason)
    unknown = [a for a in answers if a.verdict is Verdict.UNKNOWN] + unknown_witness
    if unknown:
        reason = unknown[0].reason if unknown[0] in answers else f"assumptions: {unknown[0].reason}"
        return ObligationResult(name, Verdict.UNKNOWN, reason)
    if answers and all(a.stats.result == "unsat (no symbolic case)" for a in answers):
        return ObligationResult(name, Verdict.PROVED, TRIVIALLY)
    return ObligationResult(name, Verdict.PROVED)


def _point(prices: tuple[int | None, ...]) -> str:
    return "" if not prices else "at prices " + ", ".join("-" if p is None else str(p) for p in prices)


def _tag(stats: QueryStats, prices: tuple[int | None, ...]) -> QueryStats:
    return attrs.evolve(stats, name=f"{stats.name} {_point(prices)}".strip()) if prices else stats


# --- minimal counterexamples -------------------------------------------------------------------


def _minimized(policy: Policy, invariant: Invariant, bounds: Bounds, outcome: ProofResult, units: int) -> ProofResult:
    """The same refutation with the least total magnitude Σ|x| of the book's and events' numbers,
    on as many traders as the refuting story has (the small-scope search found the fewest), within
    what the question left (``units``), at most a quarter of its effort and 10M: the question
    built again, the refutation found again and the bisection, each counted."""
    failing = invariant if outcome.counterexample.obligation == invariant.id else None
    n = max(len(outcome.counterexample.story.book.traders), 1)
    # on as many events too, where the search found it on one event first (``smallest_first``)
    k = min(len(outcome.counterexample.story.events), bounds.events) or bounds.events
    smaller = attrs.evolve(bounds, accounts=n, events=k)
    budget = min(bounds.effort // 4, 10 * effort.UNITS_PER_SECOND, units)
    asked: list[QueryStats] = []
    for prices in _grid_points(smaller, _slot_prices(smaller)):
        if budget - _units(asked) <= 0:
            break  # the refutation stands as found; only its shrinking is skipped
        try:
            query = StoryQuery(
                policy, invariant, _within(smaller, budget - _units(asked)), prices, obligations=(failing,)
            )
        except OutOfEffort as stop:
            asked.append(
                QueryStats(f"minimize: build {_point(prices)}".strip(), "out of effort", 0.0, units=stop.limit)
            )
            continue
        asked.append(
            QueryStats(
                f"minimize: build {_point(prices)}".strip(), "built", query.build_seconds, units=query.build_units
            )
        )
        answer = query.check_obligation(failing, units=budget - _units(asked))
        asked.append(attrs.evolve(answer.stats, name=f"minimize: {answer.stats.name}"))
        if answer.verdict is not Verdict.REFUTED or budget - _units(asked) <= 0:
            continue
        least, proved, used = query.smaller(failing, answer, budget - _units(asked))
        note = "least Σ|x|" if proved else "smallest Σ|x| found within its effort"
        detail = f"{least.counterexample.detail} ({n} trader{'s' if n > 1 else ''}, {note})"
        cx = attrs.evolve(least.counterexample, detail=detail)
        asked.append(attrs.evolve(least.stats, name=f"minimize: {least.stats.name}", units=used))
        return attrs.evolve(outcome, counterexample=cx, queries=outcome.queries + tuple(asked))
    return attrs.evolve(outcome, queries=outcome.queries + tuple(asked))


__all__ = ["AS_CHECK", "prove", "scope_of"]
