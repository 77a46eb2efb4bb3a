"""A one-event question over mark moves and funding payments, asked one event kind at a time.

At K = 1 a question over several event kinds asks the claim after *one* event that is any of
them: it holds for the kinds together exactly where it holds for each kind's events alone (a
story is one book and one event, of one kind). So the claim over ``mark, funding`` is decided by
the claim over the other kinds (mark moves, with margin moves on a book with an isolated position)
and the claim over funding payments, each a question of its own with its own arguments: the payer's
argument for mark moves (``solver.payer_lemma``, ``solver.payer_previous``: mark moves only), the
per-call lemmas of ``solver.deficit_once`` for each kind. Asked in one question, the two kinds'
terms sit in one z3 search and neither argument applies (every direct check ran out:
docs/solver-notes.md#funding-questions-on-hyperliquid-session-26).

The verdict over the kinds is :func:`solvent.solver.verdicts.joined`'s, as over margin scopes:
proved only where each kind's question is (for every N only where each is), refuted where either
is, with that question's replayed story, whose one event is of the kinds asked. Each kind's
question is asked as its own question (a fresh z3 context), within the question's whole effort,
as each margin scope is: so each part's answer is, to the unit, the one the same bounds with that
kind alone give (docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27).

Only where it is exact and where it was measured to decide: one event (at K > 1 a story mixes
kinds, and the claim over the mix is an induction's, not the parts'), the kinds including funding
and at least one other, and the claims ``CLAIMS`` (each a predicate of one step). conservation
too since session 27 (helper fundgrid): its all-N argument is lemmas per event kind (each kind's
frame equations and flows, from any state) and their aggregate, the same lemmas whether the kinds
are asked together or apart; asked together since the backstop vault is deleveraged at a funding
sweep (``rules.pool_bankruptcy.bankrupt_by``) the direct check's search over both kinds ran out
(docs/solver-notes.md#conservation-on-mark-and-funding-by-event-kind-session-27).
"""

from __future__ import annotations

import attrs

from solvent.rules.liquidation import pools_holding
from solvent.rules.policy import Policy
from solvent.rules.pool_bankruptcy import without_move
from solvent.solver import deficit_once
from solvent.solver.bounds import FUNDING, Bounds
from solvent.solver.verdicts import (
    ObligationResult,
    ProofResult,
    Scope,
    ScopeAnswer,
    Verdict,
    joined,
    part_text,
    scoped_verdict,
)

#: the claims asked by kind: each a predicate of one step, undecided over both kinds in one question
#: (conservation: since the vault's deleveraging at a funding sweep, session 27)
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "deficit-charged-once", "conservation")
#: the claims of ``CLAIMS`` asked by kind only where the engine deleverages the backstop vault at a
#: funding sweep (:func:`vault_deleveraged_at_funding`): elsewhere their one question decides
WHERE_THE_VAULT = ("conservation",)


def vault_deleveraged_at_funding(policy: Policy | None) -> bool:
    """Whether the engine's own deleveraging of the pools (``rules.pool_bankruptcy.deleverage_pools``)
    can deleverage the backstop vault at a funding sweep on ``policy``: an ADL layer, and the vault
    among the pools that hold what they take over (``rules.liquidation.pools_holding``), whose
    trigger there is ``bankrupt_by``'s (its lots, not a move). Since session 28 that is the pool's own layer's
    ``deleveraged_without_move`` (``pool_bankruptcy.without_move``: the vault's by default, and a fund
    whose policy sets it, which is deleveraged there the same way)."""
    if policy is None or policy.adl is None:
        return False
    return any(without_move(policy, role) for role in pools_holding(policy.liquidation))


#: the claims whose story at a funding sweep is searched first at a still mark (:func:`grid_first`):
#: each trader's balance after the step (the payer claims), and claims-backed, which holds them too
GRID_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")


def grid_first(policy: Policy | None, claim: str, bounds: Bounds) -> bool:
    """Whether ``claim`` within ``bounds`` searches its story first on the smallest book, one funding
    payment, at a still mark on the grid in a small box (``solver.prove._funding_story_first``): a claim
    of :data:`GRID_CLAIMS`, asked over funding payments on a policy whose backstop vault is deleveraged
    at a funding sweep (:func:`vault_deleveraged_at_funding`), one event. There a funding payment of a few
    quanta takes the vault below zero, and its own ADL at the bankruptcy price, rounded up per fill,
    charges a trader opposite more than the funding it received: at 1 quantum of margin, below zero
    (docs/solver-notes.md#hyperliquids-funding-parts-session-31). At a free mark z3 did not find that
    story within 10M units at N = 1 (the payment multiplies a free size by a free rate); at a fixed mark
    in the box it does, in under 0.7M. A story there is a story of ``bounds``, replayed on the engine;
    none found says nothing."""
    return (
        claim in GRID_CLAIMS
        and bounds.events == 1
        and FUNDING in bounds.event_kinds
        and not bounds.price_grid
        and vault_deleveraged_at_funding(policy)
    )


#: the claims whose question over funding alone is asked at N exact first, with the whole effort
#: (:func:`exact_alone`)
EXACT_CLAIMS = ("deficit-charged-once",)


def exact_alone(policy: Policy | None, claim: str, bounds: Bounds) -> bool:
    """Whether ``claim``'s question within ``bounds`` is asked at N itself, exact first, with the whole
    effort (``solver.prove._small_scope_first``'s ``exact_first`` and ``alone``: no search of smaller
    books first): a claim of :data:`EXACT_CLAIMS` over funding payments alone, one event, on a policy
    whose backstop vault is deleveraged at a funding sweep (:func:`vault_deleveraged_at_funding`),
    where its all-N argument does not cover the sweep (``solver.deficit_once.not_moved``). The smaller
    books' search is for a refutation, and N's own question holds each of their stories (flat traders
    added); the exact query is what decides it: on hyperliquid's all-cross books at N = 3 the portfolio
    (a third purified, then exact with half of the rest) ran out at 10M units, and the exact query asked
    first is unsat in 3,813,552 (it gave up with 3.36M); at N = 2 in 1,246,364
    (docs/solver-notes.md#hyperliquids-funding-parts-session-31)."""
    return (
        claim in EXACT_CLAIMS
        and bounds.events == 1
        and tuple(bounds.event_kinds) == (FUNDING,)
        and vault_deleveraged_at_funding(policy)
        and deficit_once.not_moved(policy) is not None
    )


def kinds(claim: str, bounds: Bounds, policy: Policy | None = None) -> tuple[tuple[str, ...], ...]:
    """The event kinds of each question ``claim`` within ``bounds`` is asked as: the kinds but
    funding, then funding alone, where the split applies (see the module docstring; a claim of
    :data:`WHERE_THE_VAULT` only on a ``policy`` whose vault is deleveraged at a funding sweep, on
    all-cross books);
    else one question, ``bounds``' own kinds."""
    rest = tuple(k for k in bounds.event_kinds if k != FUNDING)
    if claim not in CLAIMS or bounds.events != 1 or FUNDING not in bounds.event_kinds or not rest:
        return (tuple(bounds.event_kinds),)
    if claim in WHERE_THE_VAULT and (bounds.isolated or not vault_deleveraged_at_funding(policy)):
        # all-cross books only: on hyperliquid's isolated scope conservation over mark, funding and
        # margin is proved in one question (8,998,264 units at N = 2) and its funding part alone is
        # not (the frame lemma P on funding out of its share, then the direct check out)
        return (tuple(bounds.event_kinds),)
    return (rest, (FUNDING,))


def label(kinds: tuple[str, ...]) -> str:
    """How a report names the events one part covers."""
    return f"{', '.join(kinds)} events"


def weakest(scopes: list[Scope], whole: Scope) -> Scope:
    """What every one of ``scopes`` covers, over ``whole``'s kinds: every N only where each covers
    every N (their assumptions, each once), else the fewest traders any covers; any K only where
    each covers any K."""
    every = all(s.accounts is None for s in scopes)
    accounts = None if every else min(s.accounts for s in scopes if s.accounts is not None)
    events = None if all(s.events is None for s in scopes) else min(s.events for s in scopes if s.events is not None)
    assumes = "; ".join(dict.fromkeys(s.assumes for s in scopes if s.assumes)) if every else ""
    return attrs.evolve(whole, accounts=accounts, events=events, assumes=assumes)


def joined_by_kind(parts: list[ScopeAnswer], whole: Scope) -> ProofResult:
    """The verdict over the kinds' questions (``verdicts.joined``: refuted where one is, with its
    story; proved only where each is), its scope and each obligation's the weakest of the parts'
    (:func:`weakest`), so the headline never says more than each kind's question proved."""
    result = joined(parts)
    results = [p.result for p in parts]
    names = list(dict.fromkeys(o.obligation for r in results for o in r.obligations))
    obligations = []
    for name in names:
        own = [next((o for o in r.obligations if o.obligation == name), None) for r in results]
        asked = [o for o in own if o is not None]
        verdict = scoped_verdict([o.verdict for o in asked])
        verdict = Verdict.UNKNOWN if verdict is Verdict.PARTIAL else verdict  # an obligation is proved or not
        scopes = [o.scope for o in asked if o.scope is not None]
        reason = "; ".join(
            part_text(p.label, o.verdict, o.reason)
            for p, o in zip(parts, own, strict=True)
            if o is not None and verdict is not Verdict.PROVED
        )
        scope = weakest(scopes, whole) if scopes and len(scopes) == len(asked) else None
        obligations.append(ObligationResult(name, verdict, reason if reason else asked[0].reason, scope))
    return attrs.evolve(result, scope=weakest([r.scope for r in results], whole), obligations=tuple(obligations))


__all__ = [
    "CLAIMS",
    "EXACT_CLAIMS",
    "GRID_CLAIMS",
    "WHERE_THE_VAULT",
    "exact_alone",
    "grid_first",
    "joined_by_kind",
    "kinds",
    "label",
    "vault_deleveraged_at_funding",
    "weakest",
]
