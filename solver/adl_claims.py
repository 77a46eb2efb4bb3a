"""ADL's two claims for every N: ``adl-ranking-respected`` and ``adl-price-fair`` by lemmas on one call.

Both claims speak only of what ADL records for one bankrupt account: its fills (``AdlFill``: the
lots, the gap paid, the fair gap, the winner's score and eligibility) and the ``ADL`` transfers
between the winner and the bankrupt account. Every such fill and transfer is made by one call of
the engine's ``rules.adl.deleverage``, reached from a trader's ``rules.bankruptcy.resolve`` (in its
liquidation turn) or from a pool's own deleveraging before the turns
(``rules.pool_bankruptcy.deleverage_pools``: BitMEX's fund, Hyperliquid's vault, holding what they
took over). Inside the step's question at N = 4 or 8 the N-trader build takes most of the units
and the claim runs out in each phase; asked of the one call, on a book whose every number is free,
each is decided in a fraction of a second (docs/solver-notes.md#the-adl-claims-for-every-n-by-lemmas-issue-18).

The argument, for the ranked queues that fill by rank (``rules.adl.queue_fills``: no sequential
fill, i.e. no ``gap_rounding = "per_fill"`` and no ``overlap_only``):

1. **The call's lemma** (z3, exact, every number free, the mark a price ≥ 1): the engine's own
   call (a trader's ``resolve``, and where the policy has pools holding what they take over, the
   pools' deleveraging) on a book of three candidates for the ranking (a pair and a third) and of
   two for the price (a candidate and one ahead of it), and the catalog's own predicate applied to
   the call's entries and outcomes (one semantics). For the ranking, each candidate's score is
   generalized to a free ratio num/den with den ≥ 1 (a sound generalization: the claim is then
   proved for every score, so for the engine's), and a second lemma proves every recorded
   denominator ≥ 1 for every value. For the price, the lemma also says that no ``ADL`` transfer
   leaves the bankrupt account (the winners pay it, never the other way) and that every ``ADL``
   entry names the call's bankrupt account.
2. **Why three (two) candidates cover every N.** The queue serves each candidate
   ``min(max(L − A, 0), lots)``, ``A`` the lots of the eligible candidates ranked ahead of it, each
   pair compared on its own. *Ranking*: for a pair a ahead of b, the lemma holding for every value
   of a third candidate's numbers says each other candidate that is ahead of a is ahead of b
   (make its lots large) and b is not ahead of a, so at any N, ``A_b ≥ A_a + lots_a`` and a
   served b leaves a served whole. *Price*: a fill's payment reads its own lots, the call's gap
   and fair gap; the one candidate ahead of it, its lots free, gives it every lots-ahead ``A``, so
   every served quantity ``[0, min(L, lots)]`` the queue can give it at any N.
3. **The step.** A step's ``ADL`` transfers from a winner to a bankrupt account come from that
   bankrupt account's call (every entry names the call's bankrupt account, none leaves it), and
   the ranking pairs fills of one bankrupt account: so the step's claim is the conjunction of its
   calls' claims, given one call per bankrupt account a step, in book order. That is checked on
   the engine's own step at three traders (:func:`one_call_a_step`: the records' names and order,
   and z3 for the guards where a call is built in more than one branch).

The lemmas quantify every number of the book the call starts from, so they hold at every step
of any number of events (no assumption on the starting book), which is why the verdict covers any
K. What they rest on is said in the scope (:data:`ASSUMES`): one call per bankrupt account a step,
whose queue treats every candidate alike at any N. Where a lemma does not hold (Hyperliquid's price
at the previous mark, a mutated ranking or fill), nothing is extended and the claim is asked at the
bounded N as before; ``solver.prove`` also asks it directly there (the all-N claim never rests on
the lemmas alone).

Where the queue walks its candidates in turn (dYdX's fill per fill and overlap rule, :func:`walks`),
the price is proved by induction over the walk instead (:func:`walk_lemmas`: the walk starts within
its invariant, and each candidate's turn from any state within it records a fair fill and keeps it;
:data:`ASSUMES_WALK`), and the ranking by a ghost invariant (:func:`walk_ranking_lemmas`): the walk skips an offsetting
account a fill would leave riskier, which no reachable book allows while every position holder stays
worth its initial margin at the mark the story started from (:func:`worth_kept`: true at the start,
kept by a mark's settlement, a trader's own turn and each fill of a walk; :data:`ASSUMES_GHOST`; mark
moves from initial margin only, else :data:`WALK_RANKING`;
docs/solver-notes.md#dydxs-walk-the-remaining-claims-session-20).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import Invariant, StepView
from solvent.rules import adl
from solvent.rules.arith import abs_, and_, max_, or_, when
from solvent.rules.bankruptcy import fee_to_close_rate, resolve
from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn, settle, transition
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.margin import account_initial_margin, equity
from solvent.rules.outcomes import AdlFill, DeleverageAttempt
from solvent.rules.policy import Policy
from solvent.rules.pool_bankruptcy import deleverage_pools
from solvent.rules.waterfall import GapRounding
from solvent.rules.wellformed import StartMargin, well_formed
from solvent.solver.bounds import GHOST_START, Bounds
from solvent.solver.story import slots, symbolic_book

#: the claims this argument covers
ADL_CLAIMS = ("adl-ranking-respected", "adl-price-fair")
RANKING, PRICE = ADL_CLAIMS
#: candidates in the lemma's call: a pair and a third for the ranking, one ahead of a fill for the price
CANDIDATES = {RANKING: 3, PRICE: 2}
#: candidates in a walk's call (:func:`walks`): the induction covers the turns, the call's lemma
#: ties them to ``deleverage`` (its start, its turns in book order, what it records)
WALK_CANDIDATES = 1
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each bankrupt account's ADL is one call of the engine's queue a step (a trader's resolve, a pool's own "
    "deleveraging; checked on the step at three traders), which treats every candidate alike at any N: a "
    "candidate's fill is its lots capped by what the candidates ranked ahead of it left, each pair compared on "
    "its own (rules.adl.queue_fills)"
)
#: what the all-N verdict assumes where the queue walks its candidates in turn (:func:`walks`)
ASSUMES_WALK = (
    "each bankrupt account's ADL is one call of the engine's walk a step (a trader's resolve, a pool's own "
    "deleveraging; checked on the step at three traders), which serves its candidates in turn, each from the lots "
    "left and the deficit still owed after the turns before it (rules.adl.walk_step)"
)
#: the verdict's method line for the ranked queues and for a walk
METHOD = (
    "compositional, all N, any K: the claim of one bankrupt account's ADL call (the engine's resolve, and a "
    "pool's own deleveraging), proved by z3 on a book of three candidates for the ranking and two for the "
    "price with every number free; the step's claim the conjunction of its calls'"
)
METHOD_WALK = (
    "compositional, all N, any K: the price of one bankrupt account's ADL walk by induction over its candidates "
    "(z3, every number free: the walk starts within its invariant, and each candidate's turn from any state within "
    "it records a fair fill and keeps it there), the call's lemma on one candidate; the step's claim the "
    "conjunction of its calls'"
)


#: the verdict's method line for the ranking of a walk (:func:`walk_ranking_lemmas`)
METHOD_WALK_RANKING = (
    "compositional, all N, any K: the ranking of one bankrupt account's ADL walk, by a ghost invariant (every "
    "position holder worth its initial margin at the mark the story started from: true at the start, kept by a "
    "mark's settlement, by a trader's own liquidation turn and by each fill of a walk) under which no candidate is "
    "skipped, so an earlier eligible candidate is taken whole before a later one is served (z3, every number "
    "free); the step's claim the conjunction of its calls'"
)


def assumes(policy: Policy, invariant_id: str = PRICE) -> str:
    """What the all-N verdict for ``invariant_id`` assumes of the engine on ``policy`` (``Scope.assumes``)."""
    if walks(policy) and invariant_id == RANKING:
        return f"{ASSUMES_WALK}; {ASSUMES_GHOST}"
    return ASSUMES_WALK if walks(policy) else ASSUMES


def method(policy: Policy, invariant_id: str = PRICE) -> str:
    """The all-N verdict's method line for ``invariant_id`` on ``policy``, with what it assumes."""
    if walks(policy) and invariant_id == RANKING:
        line = METHOD_WALK_RANKING
    else:
        line = METHOD_WALK if walks(policy) else METHOD
    return f"{line}; assumes {assumes(policy, invariant_id)}"


#: the prefix of the ranking lemma's free scores
FREE = "adlq."

Valid = Callable[..., str]


@attrs.frozen
class Call:
    """One ADL call of the engine on a free book: what it started from and what it did."""

    label: str
    book: Book
    ctx: Ctx
    bankrupts: tuple[str, ...]

    def view(self, policy: Policy) -> StepView:
        return StepView(policy, self.book, None, self.ctx.book, self.ctx.entries, self.ctx.outcomes)


def walks(policy: Policy) -> bool:
    """The policy's ADL walks its candidates in turn (``rules.adl.walk_step``: a gap rounded per
    fill, an offsetting account skipped where its fill would leave it riskier), so a fill depends
    on the fills before it, not on the lots ahead alone (dYdX v4)."""
    layer = policy.adl
    return layer is not None and (layer.gap_rounding is GapRounding.PER_FILL or layer.overlap_only)


#: why the ranking's argument does not apply to a walk (:func:`walks`) outside the ghost invariant's bounds
WALK_RANKING = (
    "its ADL walks the candidates in turn and skips an offsetting account whose fill would leave it riskier, so an "
    "eligible account earlier in the queue may be left whole while a later one is served (the ranking's lemma is "
    "refuted on a free book); the argument that no reachable book has such a skip (every position holder worth its "
    "initial margin at the mark the story started from) does not cover these bounds"
)
#: what the ranking's all-N verdict assumes on a walk (:func:`walk_ranking_lemmas`), beside :data:`ASSUMES_WALK`
ASSUMES_GHOST = (
    "a step changes a trader's account only by the mark's settlement, its own liquidation turn and its fills in "
    "other accounts' ADL walks (every transfer and fill between two traders an ADL one: checked on the step at three "
    "traders), so every position holder stays worth its initial margin at the mark the story started from"
)


def ghost_not_covered(bounds: Bounds) -> str | None:
    """Why the ranking's argument on a walk (:func:`walk_ranking_lemmas`) does not apply within
    ``bounds`` (None where it does): it rests on every position holder staying worth its initial
    margin at the mark the story started from, which a trade, funding or a withdrawal can break and
    a start at maintenance does not give."""
    if set(bounds.event_kinds) - {"mark"}:
        return "the ghost invariant is proved for mark moves only"
    # the induction's premise across accounts states it (solver.ghost_start)
    if bounds.start_margin not in ("initial", GHOST_START):
        return "the ghost invariant needs every trader to start at its initial margin"
    return None


def not_covered(policy: Policy, bounds: Bounds, invariant_id: str = RANKING) -> str | None:
    """Why the argument for ``invariant_id`` does not apply to ``policy`` within ``bounds`` (None
    where it does). A walk (:func:`walks`) is covered for the price, by induction over the walk
    (:func:`walk_lemmas`), not for the ranking."""
    layer = policy.adl
    if layer is None:
        return "the policy has no ADL layer"
    if walks(policy) and invariant_id != PRICE:
        ghost = ghost_not_covered(bounds)
        if ghost is not None:
            return f"{WALK_RANKING}: {ghost}"
    if bounds.markets != 1 or bounds.isolated or "final-settlement" in bounds.event_kinds:
        return "one market, no isolated positions and no final settlement only (one ADL call per bankrupt account)"
    return None


def calls(policy: Policy, bounds: Bounds, candidates: int) -> list[Call]:
    """The engine's ADL calls on a free book with ``candidates`` candidates: a trader's ``resolve``
    (the book's first trader, ``candidates`` others), and where the policy has pools holding what
    they take over, their own deleveraging (``candidates`` traders)."""
    shape = attrs.evolve(bounds, events=1)
    book, _ = symbolic_book(attrs.evolve(shape, accounts=candidates + 1))
    bankrupt = book.traders[0].name
    out = [
        Call(
            f"{bankrupt}'s resolve, {_candidates(candidates)}", book, resolve(policy, Ctx(book), bankrupt), (bankrupt,)
        )
    ]
    pools = pools_holding(policy.liquidation)
    if pools:
        book, _ = symbolic_book(attrs.evolve(shape, accounts=candidates))
        ctx = deleverage_pools(policy, Ctx(book))
        names = tuple(book.role(role).name for role in pools)
        out.append(Call(f"the pools' own deleveraging, {_candidates(candidates)}", book, ctx, names))
    return out


def _candidates(n: int) -> str:
    return f"{n} candidate{'' if n == 1 else 's'}"


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _adl_entries_named(call: Call, fail: Callable[[str], None]) -> None:
    """Every ``ADL`` entry of the call has one of its bankrupt accounts at one end (by name: the
    entries' names are concrete); else the argument does not apply."""
    stray = sorted(
        f"{e.item.source} -> {e.item.destination}"
        for e in call.ctx.entries
        if e.item.reason is Reason.ADL and not {e.item.source, e.item.destination} & set(call.bankrupts)
    )
    if stray:
        fail(f"{call.label}: ADL entries between two other accounts ({', '.join(stray)})")


#: traders in the step the calls are counted on (``one_call_a_step``)
STEP_TRADERS = 3


def one_call_a_step(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Checked on the engine's own step (``transition``, every event variant of the bounded kinds,
    :data:`STEP_TRADERS` free traders): each bankrupt account's ``AdlFill`` records are calls of
    one fill a candidate of its queue (every other trader; every trader for a pool) in book order,
    the order the ranking's tie-break reads (no solver: the records' names are concrete), each
    call's fills under one guard; where the engine builds an account's call in more than one branch
    (Hyperliquid's liquidation with and without the vault's takeover), z3 proves the branches'
    guards exclusive (``valid``), so a step runs one. Else the argument does not apply (``fail``)."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    traders = [a.name for a in book.traders]
    lemmas = []
    for slot in slots(book, one):
        for variant in slot.variants:
            fills = [g for g in transition(policy, book, variant.event).outcomes if isinstance(g.item, AdlFill)]
            for bankrupt in dict.fromkeys(g.item.bankrupt for g in fills):
                mine = [g for g in fills if g.item.bankrupt == bankrupt]
                expected = [t for t in traders if t != bankrupt]
                chunks = [mine[k : k + len(expected)] for k in range(0, len(mine), len(expected))]
                alike = all(
                    [g.item.winner for g in c] == expected and all(_same(g.guard, c[0].guard) for g in c)
                    for c in chunks
                )
                if not alike:
                    fail(
                        f"the step ({variant.label}, {STEP_TRADERS} traders) records {bankrupt}'s ADL fills for "
                        f"{', '.join(g.item.winner for g in mine)}: not calls of one fill a candidate in book order"
                    )
                for i in range(len(chunks)):
                    for j in range(i + 1, len(chunks)):
                        name = f"the step ({variant.label}): {bankrupt}'s ADL calls {i + 1} and {j + 1} of {len(chunks)} are exclusive"
                        lemmas.append(
                            valid(name, [], z3.Not(z3.And(_b(chunks[i][0].guard), _b(chunks[j][0].guard))), exact=True)
                        )
    return [
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders, the engine's transition): each "
        "bankrupt account's fills are one call's, one a candidate, in book order",
        *lemmas,
    ]


def _same(a: Any, b: Any) -> bool:
    """The same guard: the same Python value, or the same z3 term."""
    if z3.is_expr(a) and z3.is_expr(b):
        return a.eq(b)
    return a is b or (type(a) is bool and a == b)


def price_question(policy: Policy, call: Call) -> tuple[list[Any], Any]:
    """``(premise, claim)`` of the price lemma on ``call``: no ``ADL`` transfer leaves a bankrupt
    account, and the catalog's ``adl-price-fair`` holds of the call."""
    reverse = [
        when(g.guard, g.item.amount_quote) == 0
        for g in call.ctx.entries
        if g.item.reason is Reason.ADL and g.item.source in call.bankrupts
    ]
    claim = and_(*reverse, catalog.get(PRICE).holds(call.view(policy)))
    return [call.book.market.mark_quote >= 1], _b(claim)


def ranking_question(policy: Policy, call: Call) -> tuple[list[Any], Any, list[Any]]:
    """``(premise, claim, denominators)`` of the ranking lemma on ``call``: the catalog's
    ``adl-ranking-respected`` of the call with every recorded score replaced by a free ratio whose
    denominator is at least 1 (the premise), and the denominators the engine recorded (each proved
    at least 1 by its own lemma)."""
    claim = _b(catalog.get(RANKING).holds(call.view(policy)))
    premise, dens, pairs = [call.book.market.mark_quote >= 1], [], []
    for k, g in enumerate(call.view(policy).outcomes_of(AdlFill)):
        fill = g.item
        num, den = z3.Int(f"{FREE}num{k}"), z3.Int(f"{FREE}den{k}")
        pairs += [(t, v) for t, v in ((fill.score_num, num), (fill.score_den, den)) if z3.is_expr(t)]
        premise.append(den >= 1 if z3.is_expr(fill.score_den) else z3.BoolVal(fill.score_den >= 1))
        dens.append(fill.score_den)
    if pairs and z3.is_expr(claim):
        claim = z3.substitute(claim, *pairs)
    return premise, claim, dens


#: the prefix of the walk lemma's free state
WALK = "adlw."


@attrs.frozen
class WalkStep:
    """One candidate's turn of the walk (``rules.adl.walk_step``) on a free book of the bankrupt
    account and one candidate, from a free state: what the induction over the walk asks."""

    book: Book
    ctx: Ctx
    bankrupt: str
    start: tuple[Any, Any]  # the walk's start (``rules.adl.walk_start``): lots left, deficit owed
    state: tuple[Any, Any]  # the free state the candidate's turn starts from
    after: tuple[Any, Any]  # the state after it
    fair_gap: Any

    def view(self, policy: Policy) -> StepView:
        return StepView(policy, self.book, None, self.ctx.book, self.ctx.entries, self.ctx.outcomes)

    def within(self, state: tuple[Any, Any]) -> Any:
        """The walk's invariant: lots left ``r ≥ 0`` and what the fills still owe ``d ≥ 0``, with
        ``d ≤ r × max(F, 0)`` (F the fair gap: no more owed a lot than the fair gap) while lots
        are left (with none, no fill is made: a bankrupt account without a position)."""
        r, d = state
        return and_(r >= 0, d >= 0, or_(r == 0, d <= r * max_(self.fair_gap, 0)))


def walk_step(policy: Policy, bounds: Bounds) -> WalkStep:
    """The engine's walk on a free book (the bankrupt account the first trader, the candidate the
    second, every number free): its start, computed as ``deleverage`` does (``gaps_of``,
    ``walk_start``) from the bankrupt account's equity, and one candidate's turn (``walk_step``,
    ``record_fill``) from a free state ``(r, d)``."""
    layer = policy.adl
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=2, events=1))
    bankrupt, winner = book.traders[0], book.traders[1]
    rule, rounding, mark = policy.margin, policy.rounding, book.market.mark_quote
    size = bankrupt.size_lots
    own = equity(rule, bankrupt)
    ctx = Ctx(book)
    lots = abs_(size)
    fair_gap, gap, price = adl.gaps_of(
        ctx, layer, bankrupt.name, own, lots, fee_to_close_rate(policy), pools_holding(policy.liquidation)
    )
    entry = adl.entry_of(rule, rounding, layer, size, mark, 1, winner)
    state = (z3.Int(f"{WALK}remaining"), z3.Int(f"{WALK}deficit"))
    per_fill = adl.rounds_per_fill(ctx, layer)
    q, paid, *after = adl.walk_step(rule, rounding, layer, book, size, gap, entry, *state, per_fill)
    ctx = adl.record_fill(ctx, book, bankrupt.name, winner, entry, q, gap, fair_gap, price, paid, per_fill)
    start = adl.walk_start(own, lots)
    return WalkStep(book, ctx, bankrupt.name, start, state, tuple(after), fair_gap)


def walk_lemmas(policy: Policy, bounds: Bounds, valid: Valid) -> list[str]:
    """The price of a walk (:func:`walks`) by induction over the candidates: the walk starts within
    its invariant (:meth:`WalkStep.within`), and any candidate's turn from any state within it
    keeps it there, records a fill the catalog's ``adl-price-fair`` holds of, and moves no ``ADL``
    money out of the bankrupt account. Whatever the candidates before it did (served, skipped or
    ineligible), each fill of a walk of any length is then fair."""
    step = walk_step(policy, bounds)
    mark = step.book.market.mark_quote >= 1
    reverse = [
        when(g.guard, g.item.amount_quote) == 0
        for g in step.ctx.entries
        if g.item.reason is Reason.ADL and g.item.source == step.bankrupt
    ]
    turn = and_(*reverse, catalog.get(PRICE).holds(step.view(policy)), step.within(step.after))
    return [
        valid(
            f"{PRICE}: the walk starts within its invariant, every number free",
            [mark],
            _b(step.within(step.start)),
            exact=True,
        ),
        valid(
            f"{PRICE}: a candidate's turn of the walk from any state within its invariant records a fair fill, pays "
            "the bankrupt account nothing back and keeps the invariant, every number free",
            [mark, _b(step.within(step.state))],
            _b(turn),
            exact=True,
        ),
    ]


def skip_question(policy: Policy, bounds: Bounds, floor: bool = True) -> tuple[list[Any], Any]:
    """``(premise, claim)``: the walk's turn (``rules.adl.walk_step``) skips no candidate where the
    bankrupt account (below zero at the mark) and the candidate, re-valued at a common price P (a
    free ghost price: the mark the story started from), are worth at least 0 and at least the
    candidate's initial margin at P (``floor``; else 0), from a walk state that owes no more a lot
    than the deficit did (:class:`Ghost`): the turn with the overlap rule serves what the turn
    without it serves.

    Session 19's first lemma of the ranking's argument on dYdX; not asked by
    :func:`walk_ranking_lemmas` (1.96M units), whose two-turn lemma runs the earlier candidate's
    turn with the overlap rule itself (docs/solver-notes.md#dydxs-ranking-the-skip-and-a-ghost-price)."""
    g = Ghost.of(policy, bounds, 1)
    state = (z3.Int(f"{WALK}remaining"), z3.Int(f"{WALK}deficit"))
    # the lots served (a skip serves none and pays nothing: the lots decide the paid too)
    skipping = g.turn(0, state)[0]
    serving = g.turn(0, state, attrs.evolve(policy.adl, overlap_only=False))[0]
    candidate = g.candidates[0]
    worth = g.covered(candidate) if floor else g.worth(candidate) >= 0
    premise = [*g.premise(), worth, g.owes_no_more(state)]
    return [_b(p) for p in premise], _b(skipping == serving)


@attrs.frozen
class Ghost:
    """dYdX's walk on a free book of the bankrupt account and ``len(candidates)`` candidates, with
    a free ghost price P (the mark the story started from) and the walk's state owing no more a lot
    than the deficit did: the setting of the ranking's argument on a walk (:func:`walk_ranking_lemmas`)
    (docs/solver-notes.md#dydxs-ranking-the-skip-and-a-ghost-price)."""

    policy: Policy
    book: Book
    bankrupt: Any
    candidates: tuple[Any, ...]
    ghost: Any
    gaps: tuple[Any, Any, Any]  # fair gap, gap, price
    entries: tuple[Any, ...]

    @staticmethod
    def of(policy: Policy, bounds: Bounds, candidates: int) -> Ghost:
        book, _ = symbolic_book(attrs.evolve(bounds, accounts=candidates + 1, events=1))
        bankrupt, *others = book.traders
        rule, rounding, layer = policy.margin, policy.rounding, policy.adl
        own, size = equity(rule, bankrupt), bankrupt.size_lots
        gaps = adl.gaps_of(
            Ctx(book),
            layer,
            bankrupt.name,
            own,
            abs_(size),
            fee_to_close_rate(policy),
            pools_holding(policy.liquidation),
        )
        mark = book.market.mark_quote
        entries = tuple(adl.entry_of(rule, rounding, layer, size, mark, i + 1, a) for i, a in enumerate(others))
        return Ghost(policy, book, bankrupt, tuple(others), z3.Int(f"{WALK}ghost_mark"), gaps, entries)

    def worth(self, account: Any) -> Any:
        """The account re-valued at the ghost price: ``E + s × (P − M)``."""
        return equity(self.policy.margin, account) + account.size_lots * (self.ghost - self.book.market.mark_quote)

    def covered(self, account: Any) -> Any:
        """Worth at least its initial margin at the ghost price."""
        p = self.policy
        return self.worth(account) >= account_initial_margin(p.margin, p.rounding, account, self.ghost)

    def owes_no_more(self, state: tuple[Any, Any]) -> Any:
        """The walk's state owes no more a lot than the deficit did: ``d × L ≤ D × r``, ``0 ≤ r ≤ L``."""
        r, d = state
        lots = abs_(self.bankrupt.size_lots)
        owed = max_(-equity(self.policy.margin, self.bankrupt), 0)
        return and_(r >= 0, r <= lots, d >= 0, d * lots <= owed * r)

    def premise(self) -> list[Any]:
        """A price, the bankrupt account below zero at the mark and worth at least 0 at P."""
        own = equity(self.policy.margin, self.bankrupt)
        return [self.book.market.mark_quote >= 1, self.ghost >= 1, own < 0, self.worth(self.bankrupt) >= 0]

    def turn(self, k: int, state: tuple[Any, Any], layer: Any = None) -> tuple[Any, Any, Any, Any]:
        """Candidate ``k``'s turn of the walk from ``state`` (under ``layer``, default the policy's
        ADL layer): ``(q, paid, r', d')``."""
        p, size = self.policy, self.bankrupt.size_lots
        layer = p.adl if layer is None else layer
        per_fill = adl.rounds_per_fill(Ctx(self.book), layer)
        return adl.walk_step(
            p.margin, p.rounding, layer, self.book, size, self.gaps[1], self.entries[k], *state, per_fill
        )

    def record(self, ctx: Ctx, k: int, q: Any, paid: Any) -> Ctx:
        fair, gap, price = self.gaps
        per_fill = adl.rounds_per_fill(ctx, self.policy.adl)
        return adl.record_fill(
            ctx, self.book, self.bankrupt.name, self.candidates[k], self.entries[k], q, gap, fair, price, paid, per_fill
        )


def kept_question(policy: Policy, bounds: Bounds, long: bool) -> tuple[list[Any], Any]:
    """``(premise, claim)``: a candidate worth its initial margin at the ghost price stays so after
    its turn of the walk (``walk_step``, ``record_fill``), and the walk's state still owes no more a
    lot than the deficit did; for a bankrupt ``long`` account or a short one (asked apart: 0.13M and
    6.37M units, together undecided within 8M); the argument asks it by its parts (:func:`kept_parts`)."""
    g = Ghost.of(policy, bounds, 1)
    state = (z3.Int(f"{WALK}remaining"), z3.Int(f"{WALK}deficit"))
    q, paid, *after = g.turn(0, state)
    winner = g.record(Ctx(g.book), 0, q, paid).book.account(g.candidates[0].name)
    side = g.bankrupt.size_lots > 0 if long else g.bankrupt.size_lots < 0
    premise = [*g.premise(), side, g.covered(g.candidates[0]), g.owes_no_more(state)]
    return [_b(p) for p in premise], _b(and_(g.covered(winner), g.owes_no_more(tuple(after))))


def kept_parts(policy: Policy, bounds: Bounds, long: bool) -> list[tuple[str, list[Any], Any]]:
    """:func:`kept_question` asked by its two conjuncts, each ``(what, premise, claim)``: the winner
    still worth its initial margin at P, and the walk still owing no more a lot. Asked apart they
    cost 0.9-1.4M and 0.05-0.06M units; asked together a bankrupt short's took 6.37M."""
    g = Ghost.of(policy, bounds, 1)
    state = (z3.Int(f"{WALK}remaining"), z3.Int(f"{WALK}deficit"))
    q, paid, *after = g.turn(0, state)
    winner = g.record(Ctx(g.book), 0, q, paid).book.account(g.candidates[0].name)
    side = g.bankrupt.size_lots > 0 if long else g.bankrupt.size_lots < 0
    premise = [_b(p) for p in (*g.premise(), side, g.covered(g.candidates[0]), g.owes_no_more(state))]
    return [
        ("the winner still worth its initial margin at P", premise, _b(g.covered(winner))),
        ("the walk still owes no more a lot than the deficit did", premise, _b(g.owes_no_more(tuple(after)))),
    ]


def worth_kept(policy: Policy, account: Any, mark: Any, ghost: Any) -> Any:
    """The ghost invariant of one trader (:class:`Ghost`): it holds no position, or it is worth at
    least its initial margin at the ghost price, re-valued there from ``mark``: ``E + s (P − M)``."""
    p = policy
    worth = equity(p.margin, account) + account.size_lots * (ghost - mark)
    return or_(account.size_lots == 0, worth >= account_initial_margin(p.margin, p.rounding, account, ghost))


def _ghost_book(bounds: Bounds) -> tuple[Book, Any]:
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=LEMMA_BOOK, events=1))
    return book, z3.Int(f"{WALK}ghost_mark")


#: traders of the book the ghost invariant's step lemmas are asked on
LEMMA_BOOK = 2


def start_question(policy: Policy, bounds: Bounds) -> tuple[list[Any], Any]:
    """``(premise, claim)``: a well-formed book at initial margin (``rules.wellformed``, the
    question's start) has every trader within the ghost invariant at its own mark (P = M)."""
    book, _ = _ghost_book(bounds)
    mark = book.market.mark_quote
    premise = [mark >= 1, _b(well_formed(policy, book, margin=StartMargin.INITIAL))]
    return premise, _b(and_(*(worth_kept(policy, a, mark, mark) for a in book.traders)))


def settle_question(policy: Policy, bounds: Bounds) -> tuple[list[Any], Any]:
    """``(premise, claim)``: a mark move's settlement (the engine's ``settle``) leaves every
    trader's position and its worth at any ghost price as they were."""
    book, ghost = _ghost_book(bounds)
    new = z3.Int(f"{WALK}new_mark")
    after = settle(policy, Ctx(book), MarkPrice(new)).book
    mark = book.market.mark_quote
    kept = []
    for a in book.traders:
        b = after.account(a.name)
        worth = equity(policy.margin, a) + a.size_lots * (ghost - mark)
        kept += [b.size_lots == a.size_lots, equity(policy.margin, b) + b.size_lots * (ghost - new) == worth]
    return [mark >= 1, new >= 1, ghost >= 1], _b(and_(*kept))


def turn_question(policy: Policy, bounds: Bounds) -> tuple[list[Any], Any]:
    """``(premise, claim)``: the engine's liquidation turn of the first trader on a two-trader book
    (its liquidation, the fund, its ADL walk against the other) keeps both traders within the ghost
    invariant, and leaves the trader flat or as it stood."""
    book, ghost = _ghost_book(bounds)
    alice = book.traders[0]
    after = liquidation_turn(policy, Ctx(book), alice.name).book
    mark = book.market.mark_quote
    kept = [worth_kept(policy, after.account(a.name), mark, ghost) for a in book.traders]
    a2 = after.account(alice.name)
    same = and_(a2.size_lots == alice.size_lots, a2.cash_quote == alice.cash_quote, a2.cost_quote == alice.cost_quote)
    premise = [mark >= 1, ghost >= 1, *(_b(worth_kept(policy, a, mark, ghost)) for a in book.traders)]
    return premise, _b(and_(*kept, or_(a2.size_lots == 0, same)))


def ranking_walk_question(policy: Policy, bounds: Bounds, long: bool) -> tuple[list[Any], Any]:
    """``(premise, claim)``: the catalog's ``adl-ranking-respected`` of two turns of the walk, the
    earlier candidate worth its initial margin at the ghost price, the later one's turn from any
    state the turns between them can leave (fewer lots left, owing no more a lot than the deficit
    did), for a bankrupt ``long`` account or a short one (asked apart). The last lemma of the
    ranking's argument on a walk (:func:`walk_ranking_lemmas`)."""
    g = Ghost.of(policy, bounds, 2)
    first = (z3.Int(f"{WALK}remaining"), z3.Int(f"{WALK}deficit"))
    later = (z3.Int(f"{WALK}remaining_later"), z3.Int(f"{WALK}deficit_later"))
    qa, pa, left, _ = g.turn(0, first)
    qb, pb, _, _ = g.turn(1, later)
    ctx = g.record(g.record(Ctx(g.book), 0, qa, pa), 1, qb, pb)
    view = StepView(policy, g.book, None, ctx.book, ctx.entries, ctx.outcomes)
    premise = [*g.premise(), g.covered(g.candidates[0]), g.owes_no_more(first), g.owes_no_more(later)]
    premise += [later[0] <= left, g.bankrupt.size_lots > 0 if long else g.bankrupt.size_lots < 0]
    return [_b(p) for p in premise], _b(catalog.get(RANKING).holds(view))


def traders_meet_by_adl(policy: Policy, bounds: Bounds, fail: Callable[[str], None]) -> str:
    """Checked on the engine's own step (``transition``, every event variant of the bounded kinds,
    :data:`STEP_TRADERS` free traders), by name, no solver: every transfer and every fill between
    two traders is an ``ADL`` one, so a trader's account is changed in another trader's turn only by
    its fills of that trader's walk (``fail`` otherwise)."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    traders = {a.name for a in book.traders}
    for slot in slots(book, one):
        for variant in slot.variants:
            ctx = transition(policy, book, variant.event)
            pairs = [(g.item.source, g.item.destination, g.item.reason) for g in ctx.entries]
            pairs += [(g.item.buyer, g.item.seller, g.item.reason) for g in ctx.fills]
            stray = sorted({f"{a} -> {b} ({r.name})" for a, b, r in pairs if {a, b} <= traders and r is not Reason.ADL})
            if stray:
                fail(
                    f"the step ({variant.label}) moves money or lots between two traders outside ADL: {', '.join(stray)}"
                )
    return (
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders, the engine's transition): every transfer "
        "and fill between two traders is an ADL one"
    )


def walk_ranking_lemmas(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The ranking of a walk (:func:`walks`) by a ghost invariant (:func:`worth_kept`: every
    position holder worth at least its initial margin at the mark the story started from, P):

    - it holds at the start (:func:`start_question`), a mark's settlement keeps it
      (:func:`settle_question`), and a trader's own liquidation turn on a two-trader book keeps it
      and leaves the trader flat or as it stood (:func:`turn_question`);
    - in another trader's turn a trader is changed only by its fill of that walk
      (:func:`traders_meet_by_adl`), which keeps it, and keeps the walk owing no more a lot than the
      deficit did, from any state that does (:func:`kept_parts`, for a bankrupt long and a short);
    - so every candidate a walk reaches is flat (ineligible) or worth its margin at P, and the
      catalog's ranking holds of any two turns of the walk: the earlier candidate's, and the later
      one's from any state the turns between can leave (:func:`ranking_walk_question`).

    Each turn's state stays within what the lemmas quantify whatever the turns before it did, so
    the claim holds of a walk of any length, at every step of any story (any N and K)."""
    lemmas = [traders_meet_by_adl(policy, bounds, fail)]
    two = attrs.evolve(bounds, accounts=LEMMA_BOOK, events=1)
    three = attrs.evolve(bounds, accounts=3, events=1)
    for name, question in (
        ("a well-formed book at initial margin is within the ghost invariant at its own mark", start_question),
        ("a mark's settlement keeps every position and its worth at any ghost price", settle_question),
        (
            "a trader's own liquidation turn (two traders) keeps both within the ghost invariant and leaves it flat "
            "or as it stood",
            turn_question,
        ),
    ):
        premise, claim = question(policy, two)
        lemmas.append(valid(f"{RANKING}: {name}, every number free", premise, claim, exact=True))
    for long in (True, False):
        side = "a bankrupt long" if long else "a bankrupt short"
        for what, premise, claim in kept_parts(policy, two, long):
            lemmas.append(
                valid(
                    f"{RANKING}: a winner's turn of {side}'s walk: {what}, every number free",
                    premise,
                    claim,
                    exact=True,
                )
            )
    for long in (True, False):
        side = "a bankrupt long" if long else "a bankrupt short"
        premise, claim = ranking_walk_question(policy, three, long)
        lemmas.append(
            valid(
                f"{RANKING} of two turns of {side}'s walk, the earlier candidate within the ghost invariant, the later "
                "from any state the turns between can leave, every number free",
                premise,
                claim,
                exact=True,
            )
        )
    return lemmas


def argument(
    policy: Policy, invariant: Invariant, bounds: Bounds, valid: Valid, fail: Callable[[str], None]
) -> list[str]:
    """The all-N argument for ``invariant`` (one of :data:`ADL_CLAIMS`) on ``policy``: its lemmas'
    names, each proved by ``valid`` (exact z3; it raises where a lemma does not hold), or
    ``fail`` (it raises) where the argument does not apply (see the module)."""
    reason = not_covered(policy, bounds, invariant.id)
    if reason is not None:
        fail(reason)
    lemmas = one_call_a_step(policy, bounds, valid, fail)
    walk = walks(policy)
    if walk and invariant.id == PRICE:
        lemmas += walk_lemmas(policy, bounds, valid)
    elif walk:
        lemmas += walk_ranking_lemmas(policy, bounds, valid, fail)
    for call in calls(policy, bounds, WALK_CANDIDATES if walk else CANDIDATES[invariant.id]):
        if not any(True for _ in call.view(policy).outcomes_of(AdlFill)):
            fail(f"{call.label}: the call records no ADL fill")
        if walk and invariant.id == RANKING:
            continue  # the walk's turns are the lemmas' (above); the call records them in book order
        if invariant.id == PRICE:
            _adl_entries_named(call, fail)
            premise, claim = price_question(policy, call)
            lemmas.append(
                valid(
                    f"{PRICE} of {call.label}, every number free; no ADL transfer leaves the bankrupt account",
                    premise,
                    claim,
                    exact=True,
                )
            )
            continue
        premise, claim, dens = ranking_question(policy, call)
        lemmas.append(
            valid(f"{RANKING} of {call.label}, every number free, every score a free ratio", premise, claim, exact=True)
        )
        lemmas.append(
            valid(
                f"{RANKING}: each score's denominator ≥ 1 in {call.label}, every number free",
                premise[:1],
                _b(and_(*(d >= 1 for d in dens))),
                exact=True,
            )
        )
    if invariant.id == PRICE and walk:
        lemmas.append(
            "the step: every ADL transfer is made by its bankrupt account's one call and names that account; the "
            "call walks its candidates in turn (rules.adl.walk_step), each turn from the state the turns before it "
            "left, which stays within the walk's invariant, so each fill is fair at any N"
        )
    elif invariant.id == PRICE:
        lemmas.append(
            "the step: every ADL transfer is made by its bankrupt account's one call and names that account; "
            "a fill's payment reads its own lots, which the candidate ahead of it, its lots free, covers at any N"
        )
    elif walk:
        lemmas.append(
            "the step: the ranking pairs fills of one bankrupt account's one call, its walk in book order; every "
            "candidate it reaches is flat or within the ghost invariant (kept from the start by every settlement, "
            "turn and fill), and each turn starts from a state the turns before it left, so at any N an earlier "
            "eligible candidate is taken whole before a later one is served"
        )
    else:
        lemmas.append(
            "the step: the ranking pairs fills of one bankrupt account's one call; a third candidate ahead of a "
            "is ahead of b at any lots, so at any N the lots ahead of b cover a's and a's own"
        )
    return lemmas


def deferred_resolve(policy: Policy) -> tuple[Any, Any, StepView]:
    """``(book, out, view)``: the engine's ``resolve`` of alice on a free two-trader book, with the
    policy's limit of accounts ADL deleverages an event (``rules.deleveraging_limit``) at 1 and one
    attempt (bob's) made before hers, so the branch ``attempts ≥ limit`` is the one taken; ``view``
    reads the step for the catalog's claims. Shared by ``deficit_once.deferred_lemma`` and
    ``payer_ghost.deferred_question`` (the same terms in the same order)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    limited = attrs.evolve(
        policy,
        deficit=tuple(attrs.evolve(d, max_deleveraged_per_event=1) if d is policy.adl else d for d in policy.deficit),
    )
    ctx = Ctx(book).note(DeleverageAttempt("bob", False))
    out = resolve(limited, ctx, "alice")
    return book, out, StepView(limited, book, None, out.book, out.entries, out.outcomes)


__all__ = [
    "ADL_CLAIMS",
    "STEP_TRADERS",
    "ASSUMES",
    "ASSUMES_WALK",
    "WALK_CANDIDATES",
    "WalkStep",
    "CANDIDATES",
    "Call",
    "argument",
    "assumes",
    "calls",
    "not_covered",
    "method",
    "one_call_a_step",
    "price_question",
    "Ghost",
    "kept_question",
    "ranking_question",
    "ranking_walk_question",
    "skip_question",
    "walk_lemmas",
    "walk_ranking_lemmas",
    "walk_step",
    "worth_kept",
    "kept_parts",
    "start_question",
    "settle_question",
    "turn_question",
    "traders_meet_by_adl",
    "ghost_not_covered",
    "ASSUMES_GHOST",
    "METHOD_WALK_RANKING",
    "walks",
    "deferred_resolve",
]
