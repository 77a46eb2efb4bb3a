"""Proofs inside ``solvent check``: the invariants z3 decides quickly, within an effort budget.

``solvent check`` judges every invariant on scenarios and by search; that evidence says "held",
never "proved". :func:`prove_within` adds z3's verdicts where they come cheaply: each invariant is
asked on every book of ``accounts`` traders and one mark move (the liquidation sweep and the
whole waterfall), with the invariants that have an all-N argument first (conservation,
open-interest balance). The units are shared in two rounds (``solvent.verdicts.allotment``): in
the first, each invariant gets at most ``per_question`` units (building the question included)
and at most its fair share of the units left (what is left divided by the invariants not yet
asked), so that every invariant is asked before the budget is spent, and a question that decides
early leaves its unspent units to the ones after it; in the second, what the first round left
goes to the invariants it left undecided, in the same order, each asked again where its fair
share of the rest is larger than what it had.

Every budget is in deterministic units (``solvent.solver.effort``), and what a question spent is
counted in the same units, so which invariants are asked, with how much, and what z3 answers is
the same on an idle and on a loaded machine.

A policy that declares both margin modes has two margin scopes (``solvent.solver.margin_scopes``):
every claim is asked on all-cross books and on books with an isolated position, each scope its own
allotment of ``total`` (docs/portfolio.md decision 3d), and the claim's verdict joins the two
(``solvent.solver.verdicts.joined``: proved only where both are, refuted where either is).

What comes back is each :class:`~solvent.solver.verdicts.ProofResult` as it is (an invariant asked
twice: its second answer): PROVED with its scope, REFUTED with a counterexample the concrete
engine replayed, UNKNOWN/PARTIAL with the reason. An invariant the budget did not reach has no
result at all (it is not "unknown": it was not asked).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from solvent.properties import catalog, progress
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.effort import MAX_UNITS, UNITS_PER_SECOND, question
from solvent.solver.margin_scopes import ALL_CROSS, LABELS, SCOPES, margin_scopes, scope_bounds, without_modes
from solvent.solver.smallest_move import DEFAULT_BUDGET, MoveBudget
from solvent.solver.verdicts import ProofResult, ScopeAnswer, Verdict, joined
from solvent.verdicts.allotment import Allotment, allot

#: The minimization of each z3 story inside ``solvent check``: 22 probes (no move and the largest,
#: then a bisection over 10⁶ ppm takes 20 halvings) of at most 5M units, 24M in all, the budget
#: ``solvent prove`` gives its story too (``smallest_move.DEFAULT_BUDGET``, since session 34: a
#: Reproduce line tells check's story). Measured: an exact answer
#: takes 7-18 probes and 6-13M units (hyperliquid's no-haircut 12.3M, binance's 8.5M) when z3's
#: first story moves the mark less than 100% (its least move from its own book is probed first);
#: with 2M per probe most near-boundary probes were left undecided (hyperliquid's no-haircut and
#: adl-price-fair only bounded), and with 4M bybit's 10,001 ppm still was (bounded between 10,000
#: and 10,002). 20 probes were not enough where z3's first story moves it more (bybit without
#: fees since the held releases: 6 to 2,077 quanta): the two ends and 18 halvings left it bounded
#: between 10,000 and 10,002 in 7.9M units (docs/solver-notes.md#process-history).
CHECK_MOVES = DEFAULT_BUDGET

#: Invariants whose all-N argument costs lemmas (``solvent.solver.compositional``): asked first, while
#: the budget is whole. ``deposit-not-absorbed`` and the per-trader claims (no-negative-equity,
#: loss-bounded-by-collateral, principal-protected, flat-accounts-never-pay) have all-N arguments
#: too (``solver.per_account``): one cheap query an event where it applies (broker-reg-t's
#: no-negative-equity: under 0.1M units), none where a layer couples the traders, so they keep
#: their place in the catalog order; so does liquidation-only-below-maintenance, whose lemma gets
#: at most a quarter of its question's effort.
FIRST = ("conservation", "open-interest-balance")

#: Invariants asked after every other, in this order: ``claims-backed`` rests on no-negative-equity's
#: answer from the same check (``solvent.solver.claims_backed``), so it is asked once that answer is
#: in, in each round; a fixed order, so which answer it rests on does not depend on the claims asked
#: (docs/solver-notes.md#claims-backed-by-its-parts-issue-18).
LAST = ("claims-backed",)

#: the verdicts that decide a claim; any other (undecided, partly proved) makes it a candidate for
#: the second round (``verdicts.allotment``)
DECIDED = frozenset({Verdict.PROVED, Verdict.REFUTED, Verdict.VACUOUS})


def _units(_inst: object, attribute: attrs.Attribute, value: int) -> None:
    if type(value) is not int:
        raise ValueError(f"'{attribute.name}' must be an integer number of units: {value!r}")
    if not 0 <= value <= MAX_UNITS:
        raise ValueError(f"'{attribute.name}' must be between 0 and {MAX_UNITS:,} units: {value}")


@attrs.frozen
class ProofBudget:
    """How much proving ``solvent check`` may do per policy, in units (``solvent.solver.effort``):
    ``total`` for the policy, for each of its margin scopes (``solvent.solver.margin_scopes``: two
    where it declares both modes, decision 3d) (60M: about a minute on the reference machine; with the 20 claims of
    the catalog each gets at least 3M, enough for z3 to refute the capped fund's waterfall order in
    ``examples/binance-capped-fund.toml``), at most ``per_question`` for one invariant."""

    total: int = attrs.field(default=60 * UNITS_PER_SECOND, validator=_units)
    per_question: int = attrs.field(default=10 * UNITS_PER_SECOND, validator=_units)
    accounts: int = 2
    #: how far each z3 story of one mark move is minimized (``solvent.solver.smallest_move``; None:
    #: shown as z3 found it). Its own units, beside ``total``: which claims are asked, and with how
    #: much, does not depend on how many stories z3 found.
    moves: MoveBudget | None = CHECK_MOVES
    #: the margin scopes to ask (``solvent.solver.margin_scopes.SCOPES``, ``--margin-scopes``);
    #: empty: every scope the policy has
    scopes: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        if self.per_question < 1:
            raise ValueError(f"'per_question' must be >= 1 unit: {self.per_question}")
        unknown = [s for s in self.scopes if s not in SCOPES]
        if unknown:
            raise ValueError(f"'scopes' must name margin scopes ({', '.join(SCOPES)}): {unknown[0]!r}")


def asked_scopes(policy: Policy, budget: ProofBudget) -> tuple[str, ...]:
    """The margin scopes ``solvent check`` asks on ``policy``: its own
    (``solvent.solver.margin_scopes``), or those of them ``budget.scopes`` names (a ``KeyError``
    naming the policy's scopes where it names none of them)."""
    scopes = margin_scopes(policy)
    if not budget.scopes:
        return scopes
    chosen = tuple(s for s in scopes if s in budget.scopes)
    if not chosen:
        raise KeyError(
            f"{policy.name}: --margin-scopes {','.join(budget.scopes)} names none of the policy's margin scopes "
            f"({', '.join(scopes)}; a policy has an isolated scope where its [margin] modes allow isolated margin)"
        )
    return chosen


def prove_within(policy: Policy, invariant_ids: Sequence[str], budget: ProofBudget) -> dict[str, ProofResult]:
    """z3's verdict for as many of ``invariant_ids`` as the budget allows (see the module docstring)."""
    return proved_and_allotted(policy, invariant_ids, budget)[0]


def proved_and_allotted(
    policy: Policy, invariant_ids: Sequence[str], budget: ProofBudget
) -> tuple[dict[str, ProofResult], tuple[Allotment, ...]]:
    """:func:`prove_within`'s verdicts, and every question it asked (``verdicts.allotment``).

    A policy of two margin scopes (``solvent.solver.margin_scopes``: it declares both modes) has
    its claims asked on each, one allotment per scope of ``budget.total`` (the all-cross books
    first, so their questions, verdicts and units are those of the same policy without its modes
    declared; docs/portfolio.md decision 3d), and each claim's verdict joins its scopes' answers
    (``solvent.solver.verdicts.joined``: proved only where every scope is, refuted where either is)."""
    scopes, own = asked_scopes(policy, budget), margin_scopes(policy)
    answers: dict[str, list[ScopeAnswer]] = {}
    asked: list[Allotment] = []
    for k, scope in enumerate(scopes):
        out, allotted = _one_scope(policy, invariant_ids, budget, scope, own, k * budget.total, len(scopes))
        for claim, result in out.items():
            answers.setdefault(claim, []).append(ScopeAnswer(LABELS[scope], result))
        asked += [attrs.evolve(a, scope=scope) for a in allotted] if len(own) > 1 else allotted
    for claim, parts in answers.items():
        if len(parts) < len(scopes) and _on_every_scope(policy, claim, scopes):
            # a scope whose budget ran out before it: never "proved"
            parts[:] = [
                next((p for p in parts if p.label == LABELS[s]), None) or _not_asked(policy, claim, budget, s, own)
                for s in scopes
            ]
    return {claim: joined(parts) for claim, parts in answers.items()}, tuple(asked)


def _on_every_scope(policy: Policy, claim: str, scopes: tuple[str, ...]) -> bool:
    """Whether ``claim`` is asked on each of ``scopes`` (a claim about isolated positions only is
    not asked on all-cross books)."""
    return ALL_CROSS not in scopes or claim not in catalog.CATALOG or catalog.get(claim).applies(without_modes(policy))


def _not_asked(policy: Policy, claim: str, budget: ProofBudget, scope: str, scopes: tuple[str, ...]) -> ScopeAnswer:
    """The answer of a scope whose allotment was spent before it reached ``claim``: undecided, 0 units."""
    from solvent.solver.bounds import for_policy
    from solvent.solver.prove import scope_of

    bounds = for_policy(scope_bounds(Bounds(accounts=budget.accounts, events=1, effort=1), scope, scopes), policy)
    result = ProofResult(
        policy.name,
        claim,
        Verdict.UNKNOWN,
        scope_of(bounds),
        0.0,
        "not asked",
        reason=f"not asked: the {budget.total:,} units of this scope were spent before it",
    )
    return ScopeAnswer(LABELS[scope], result)


def _one_scope(
    policy: Policy,
    invariant_ids: Sequence[str],
    budget: ProofBudget,
    scope: str,
    scopes: tuple[str, ...],
    before: int,
    asking: int,
) -> tuple[dict[str, ProofResult], tuple[Allotment, ...]]:
    """Every claim's answer on ``scope``, one of the policy's ``scopes``, within ``budget.total``
    (``before``: the units the scopes asked before it spent, and ``asking`` the scopes asked, for
    the progress line only)."""
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.solver.prove import AS_CHECK, prove

    if scope == ALL_CROSS and len(scopes) > 1:
        # what the policy without its modes asks, question for question (a claim about isolated
        # positions only is asked on the isolated scope alone)
        plain = without_modes(policy)
        invariant_ids = [i for i in invariant_ids if i not in catalog.CATALOG or catalog.get(i).applies(plain)]
    middle = [i for i in invariant_ids if i not in FIRST and i not in LAST]
    order = [i for i in FIRST if i in invariant_ids] + middle + [i for i in LAST if i in invariant_ids]
    out: dict[str, ProofResult] = {}
    spent = 0
    where = f" ({LABELS[scope]})" if asking > 1 else ""

    def ask(invariant_id: str, units: int) -> tuple[bool, int]:
        nonlocal spent
        bounds = Bounds(accounts=budget.accounts, events=1, effort=units)
        if policy.collateral:
            # its first collateral asset on the book, and an oracle move of it beside the mark's: one
            # asset only, as every further one adds a product per account to each margin term
            # (conservation with mark and asset-price events is undecided at 10M units already at
            # one asset, N = 2; docs/portfolio.md); the search draws every asset (up to 3)
            bounds = attrs.evolve(bounds, assets=1, event_kinds=("mark", "asset-price"))
        # all-cross, or the first trader's position isolated in a market that allows it with a
        # margin move beside the other events (docs/portfolio.md 3a, 3d)
        bounds = scope_bounds(bounds, scope, scopes)
        again = " (again, with what the first round left)" if invariant_id in out else ""
        progress.report("z3", invariant_id + where + again, before + spent, budget.total * asking, "units")
        with question():  # each answer independent of the questions asked before it
            # the answers so far, of these bounds: what a claim asked by its parts may rest on
            # the second round: a claim the policy accepts as failing searched first on the grid at N
            # (solver.prove._accepted_on_grid), where asking the same question again found no story
            result = prove(
                policy,
                invariant_id,
                bounds,
                given=dict(out),
                accepted_grid=bool(again),
                **AS_CHECK,
            )
        spent += result.units
        out[invariant_id] = result
        return result.verdict in DECIDED, result.units

    asked = allot(order, budget.total, budget.per_question, ask)
    return out, asked


__all__ = [
    "CHECK_MOVES",
    "DECIDED",
    "FIRST",
    "LAST",
    "ProofBudget",
    "asked_scopes",
    "proved_and_allotted",
    "prove_within",
]
