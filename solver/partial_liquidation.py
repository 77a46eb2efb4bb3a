"""The extra bad debt partial liquidation adds over a cascade of mark moves.

A venue that liquidates a large position in parts (Hyperliquid sends 20% of a position above
100k USDC per order, docs/venues.md#hyperliquid-liquidation; Backpack closes half per step,
``partial_close_ppm``) leaves the rest of the position open after a liquidation. If the mark
keeps moving, that rest can go bankrupt in a later move, where closing the whole position at the
first liquidation would have left no position to go bankrupt. The question asked here is how much
bad debt that adds, at most, as a share of the open interest:

    over every book of N traders and every cascade of K mark moves of at most ``move_ppm`` each,
    the bad debt the policy leaves (Σ of every ``Bankrupt.deficit_quote`` the engine records: what
    enters the waterfall) less the bad debt the same policy with whole liquidation leaves on the
    same book and moves (:func:`whole_liquidation`), at most ``bound`` ppm of the long open
    interest's notional at the starting mark.

Both sides are the engine's own ``transition`` (``solvent.rules.engine``), run twice on one
symbolic book and one set of symbolic moves (a product of the two runs, one z3 query): the two
policies differ only in their liquidation's partial-close fields. A proof is unsat of the exact
(nonlinear) query in a child process within the probe's units (``solvent.solver.wall``); a model
is decoded into a concrete story, both policies replay it on the concrete engine, and the extra
bad debt is recomputed there: a model that does not replay as a violation is a disagreement
between z3 and the engine (:class:`~solvent.solver.verdicts.SpuriousCounterexample`), never a
refutation.

The threshold (``solvent.solver.thresholds``, question ``partial-liquidation-extra-bad-debt``)
is the smallest such bound: proved at it, and a replayed story one ppm below it in which partial
liquidation adds more.

**By lemmas, where one order covers the shortage** (Drift's ``shortage_buffer_ppm``; one trader,
two moves: :func:`by_lemmas`). The product query of the two runs over both moves stayed undecided
within 30M units on Drift at 0 ppm; it is cut after the first move into five one-step questions
on the engine's own ``transition``, each small:

- **L1** (the first move, both runs, from the probe's starting books): the partial run leaves no
  more bad debt than the whole one (``d₁ᵖ ≤ d₁ʷ``); both marks after it lie in the price bounds
  and are equal; where the trader's position is the same after both runs the two books are equal
  in every field, and where it differs the partial run's trader is *left holding*
  (:func:`left_holding`: its margin shortage with the buffer, the engine's own
  ``shortage_quote``, at most :data:`SHORTAGE_SLACK` quanta, and its equity not negative).
- **L2** (one move, the policy, from *any* book whose traders are left holding and whose mark lies
  in the price bounds): no bad debt.
- **L3** (one move, both runs, from *any* book whose mark lies in the price bounds): the partial run
  leaves no more bad debt than the whole one, and the whole one none below zero.

Together: if the books after the first move are equal, L3 on them gives ``d₂ᵖ ≤ d₂ʷ``; if not,
the partial run's trader is left holding, so L2 gives ``d₂ᵖ = 0`` and L3 on the whole run's book
``d₂ʷ ≥ 0``. With L1, ``d₁ᵖ + d₂ᵖ ≤ d₁ʷ + d₂ʷ``: partial liquidation adds no bad debt, so the claim
holds at every bound ≥ 0. Each lemma's premises are the product query's (the second move bounded
against the mark before it, accepted by both policies); L2 and L3 speak of every book, so nothing
about the book after the first move is assumed that L1 does not prove. Only for one trader (a
second trader's book after the first move is neither equal in both runs nor left holding) and two
moves (after a second partial order the trader is left holding, but one that was only above
maintenance is not: a third move can bankrupt it where whole liquidation left nothing open).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, Severity
from solvent.properties.scenarios import Story
from solvent.rules.arith import PPM, abs_, all_, sum_, when
from solvent.rules.assets import margin_equity
from solvent.rules.book import Book
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.fields import data_fields
from solvent.rules.ledger import InternalError
from solvent.rules.liquidation import shortage_quote
from solvent.rules.margin import account_maintenance
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.solver import effort, wall
from solvent.solver.assumptions import book_assumptions, long_open_interest, move_within
from solvent.solver.bounds import Bounds
from solvent.solver.effort import OutOfEffort
from solvent.solver.refinement import replay
from solvent.solver.story import decode, event_variables, run, slots, symbolic_book
from solvent.solver.symbolic import variable_book
from solvent.solver.verdicts import Counterexample, ProofResult, QueryStats, SpuriousCounterexample, Verdict

#: The claim's id in proofs and stories.
CLAIM_ID = "partial-liquidation-extra-bad-debt-within"


def partial_applies(policy: Policy) -> str:
    """ "" where the policy's liquidation can leave part of a position open (``partial_close_ppm``
    below 100%, one order of ``partial_share_ppm`` above ``partial_above_notional_quote``, or one
    order sized to the margin shortage plus ``shortage_buffer_ppm``); otherwise why the question
    does not apply."""
    rule = policy.liquidation
    if (
        rule.partial_close_ppm < PPM
        or rule.partial_above_notional_quote is not None
        or rule.shortage_buffer_ppm is not None
    ):
        return ""
    return "the policy closes the whole position in every liquidation"


def whole_liquidation(policy: Policy) -> Policy:
    """The same policy with every liquidation closing the whole position within its event: the
    partial-close fields at their whole-position values, everything else unchanged."""
    rule = attrs.evolve(
        policy.liquidation,
        partial_close_ppm=PPM,
        partial_above_notional_quote=None,
        partial_share_ppm=PPM,
        shortage_buffer_ppm=None,
    )
    return attrs.evolve(policy, liquidation=rule, name=f"{policy.name} (whole liquidation)")


def bad_debt(outcomes: Any) -> Any:
    """The bad debt of one step: Σ of the deficits its bankrupt accounts bring into the waterfall
    (``Bankrupt.deficit_quote``, each under its guard on a symbolic step)."""
    return sum_(when(g.guard, g.item.deficit_quote) for g in outcomes if isinstance(g.item, Bankrupt))


def _concrete_bad_debt(policy: Policy, story: Story) -> tuple[int, tuple[Any, ...]]:
    """The story's bad debt under ``policy`` on the concrete engine (Σ over its steps) and the steps."""
    book, steps, total = story.book, [], 0
    for event in story.events:
        s = step(policy, book, event)
        steps.append(s)
        total += sum(o.deficit_quote for o in s.outcomes if isinstance(o, Bankrupt))
        book = s.after
    return total, tuple(steps)


@attrs.frozen
class Extra:
    """A story's extra bad debt: under the policy, under whole liquidation, and the long open
    interest's notional at its starting mark (the share's denominator)."""

    partial_quote: int
    whole_quote: int
    open_interest_quote: int

    @property
    def extra_quote(self) -> int:
        return self.partial_quote - self.whole_quote

    def breaks(self, bound_ppm: int) -> bool:
        """The extra bad debt is more than ``bound_ppm`` of the open interest."""
        return self.extra_quote * PPM > bound_ppm * self.open_interest_quote

    def largest_broken(self) -> int | None:
        """The largest bound (ppm) this story breaks, or None (it breaks none from 0)."""
        if self.extra_quote <= 0:
            return None
        if self.open_interest_quote == 0:
            return PPM
        return min(-(-self.extra_quote * PPM // self.open_interest_quote) - 1, PPM)


def extra_of(policy: Policy, story: Story) -> Extra:
    """What partial liquidation adds on one concrete story (both policies on the concrete engine)."""
    partial, _ = _concrete_bad_debt(policy, story)
    whole, _ = _concrete_bad_debt(whole_liquidation(policy), story)
    return Extra(partial, whole, long_open_interest(policy, story.book))


def claim(bound_ppm: int) -> Invariant:
    """The claim at one bound, for the threshold's words and ids. It compares two runs of a whole
    story, so it is judged by :func:`decide` and :func:`extra_of`, never on one step. Its words name
    no number, as the vault's (``thresholds.vault_loss_within``): a threshold prints the claim of its
    range's safe end beside the answer, and "at most 1,000,000 ppm" beside "all, even 0 ppm" read as
    a contradiction."""

    def one_step(view: Any) -> Any:
        raise TypeError(f"{CLAIM_ID} compares two runs of a story: judge it with extra_of")

    return Invariant(
        CLAIM_ID,
        "over the cascade, partial liquidation adds at most the bound's share of the long open interest's "
        "notional in bad debt to what whole liquidation leaves",
        Severity.MEDIUM,
        one_step,
    )


@attrs.frozen
class CascadeQuery:
    """The product query: one symbolic book and K symbolic moves, run under the policy and under
    :func:`whole_liquidation`, with the assumptions a threshold probe makes (the book's, each
    event's numbers, each move at most ``bounds.max_move_ppm``, every event accepted by both)."""

    book: Any
    slots: tuple[Any, ...]
    assumptions: tuple[Any, ...]
    partial_quote: Any
    whole_quote: Any
    open_interest_quote: Any
    inputs: tuple[Any, ...]
    build_units: int
    #: every trader's position after the first move is the same under both policies (the partial
    #: order left nothing open that whole liquidation closed): the case split of :func:`decide`
    first_alike: Any = True

    @classmethod
    def build(cls, policy: Policy, bounds: Bounds, prices: Sequence[int] = ()) -> CascadeQuery:
        """``prices``: the starting mark followed by each move's mark, fixed (a point of
        :func:`grid_points`); none: every mark a variable within the bounds."""
        with effort.building(bounds.effort) as meter:
            book, variables = symbolic_book(bounds, prices[0] if prices else None)
            story_slots = slots(book, bounds, prices[1:])
            partial = run(policy, book, story_slots)
            whole = run(whole_liquidation(policy), book, story_slots)
            held = [a.holds for a in book_assumptions(policy, book, bounds)]
            held += [s.field_bounds for s in story_slots]
            for runs in (partial, whole):
                held += [r.accepted() for r in runs]
            for r in partial:
                held += [
                    z3.Implies(_b(r.slot.chosen(v)), _b(move_within(r.before, vr.variant.event, bounds)))
                    for v, vr in enumerate(r.runs)
                ]

            def total(runs: Any) -> Any:
                return sum_(
                    when(r.slot.chosen(v), bad_debt(vr.ctx.outcomes)) for r in runs for v, vr in enumerate(r.runs)
                )

            inputs = tuple(variables + event_variables(story_slots))
            inputs += tuple(s.choice for s in story_slots if s.choice is not None)
            alike = all_(
                p.size_lots == w.size_lots
                for p, w in zip(partial[0].after.traders, whole[0].after.traders, strict=True)
            )
            return cls(
                book,
                tuple(story_slots),
                tuple(_b(h) for h in held),
                total(partial),
                total(whole),
                long_open_interest(policy, book),
                inputs,
                meter.spent,
                alike,
            )

    def violation(self, bound_ppm: int) -> Any:
        """Partial liquidation adds more than ``bound_ppm`` of the open interest."""
        return (self.partial_quote - self.whole_quote) * PPM > bound_ppm * self.open_interest_quote


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


# --- by lemmas: the cascade cut after its first move ------------------------------------------

#: How far below its maintenance plus buffer Drift's sized order may leave an account, in quanta:
#: the order's lots are the least that cover the shortage, and only the rounding up of the
#: maintenance (one quantum) and of the penalty (one) and the buffer's rounding down (one) stand
#: between (``rules.liquidation.shortage_lots``)
SHORTAGE_SLACK = 3


def _holding_parts(policy: Policy, book: Book) -> list[Any]:
    """:func:`left_holding`'s conditions, two a trader (asked one by one in L1)."""
    rule, market = policy.liquidation, book.market
    out = []
    for a in book.traders:
        e = margin_equity(policy, book.assets, a)
        mm = account_maintenance(
            policy.margin, policy.rounding, a, market.mark_quote, book.more_markets, policy.more_margins
        )
        notional = abs_(a.size_lots) * market.mark_quote
        out += [shortage_quote(rule, e, mm, notional) <= SHORTAGE_SLACK, e >= 0]
    return out


def left_holding(policy: Policy, book: Book) -> Any:
    """Every trader of ``book`` is left holding: its margin shortage with the buffer (the engine's
    ``shortage_quote``: maintenance plus the buffer's share of its notional, less its equity) at
    most :data:`SHORTAGE_SLACK` quanta, and its equity not negative. What Drift's sized order
    leaves (``rules.liquidation.shortage_lots``); one market, no collateral assets."""
    return all_(_holding_parts(policy, book))


def books_equal(a: Any, b: Any) -> Any:
    """Every data field of two books (or records, or tuples of them) equal, the structural ones
    the same (else False)."""
    if isinstance(a, z3.ExprRef) or isinstance(b, z3.ExprRef):
        return a == b
    if attrs.has(type(a)):
        if type(a) is not type(b):
            return False
        return all_(books_equal(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, tuple):
        return len(a) == len(b) and all_(books_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


#: The product query is asked whole first within this share (1/n) of its units; left undecided,
#: it is asked by cases on the first move (:attr:`CascadeQuery.first_alike`) with the rest.
#: Hyperliquid at 33,250 ppm: whole, 14.8M units to prove; by cases, 0.1M (every position alike)
#: and 3.4M (one kept open); its refutation at 33,249 is found whole in 1.9M, and not within 15M
#: in the case that holds it, so the whole query goes first
WHOLE_SHARE = 4
ALIKE = "every position after the first move as whole liquidation leaves it"
KEPT_OPEN = "a position kept open by the partial order after the first move"

#: :func:`decide` asks the lemmas first, each within at most this share (1/n) of a probe's units
#: and all within half of them (Drift at 0 ppm: 2.2M units in all, the costliest lemma 1.0M,
#: against 30M / 4 = 7.5M); where they do not prove it, the product query has what they left
LEMMA_SHARE = 4
#: the method's words on a proof by :func:`by_lemmas`
BY_LEMMAS = (
    "by lemmas on one move each: the first move leaves equal books, or the partial run's trader at its "
    "maintenance plus buffer, from which a move brings no bad debt; on any book partial adds none"
)


def lemmas_apply(policy: Policy, bounds: Bounds) -> bool:
    """:func:`by_lemmas` speaks of one order sized to the shortage (``shortage_buffer_ppm``), one
    trader, two mark moves, one market and no collateral assets."""
    return (
        policy.liquidation.shortage_buffer_ppm is not None
        and bounds.accounts == 1
        and bounds.events == 2
        and tuple(bounds.event_kinds) == ("mark",)
        and len(bounds.market_names) == 1
        and not bounds.collateral_names
    )


@attrs.frozen
class _Move:
    """One mark move from ``book`` under each policy: the bad debt of each and the book after."""

    held: tuple[Any, ...]
    inputs: tuple[Any, ...]
    bad_debt: tuple[Any, ...]
    after: tuple[Book, ...]


def _one_move(policies: Sequence[Policy], book: Book, variables: Sequence[Any], bounds: Bounds) -> _Move:
    """One mark slot (``bounds`` with one event) from ``book``, run under each policy: its numbers
    bounded, accepted by every policy, within the move bound of ``book``'s mark (the product
    query's premises on each event)."""
    one = attrs.evolve(bounds, events=1)
    story_slots = slots(book, one)
    runs = [run(p, book, story_slots) for p in policies]
    held = [s.field_bounds for s in story_slots]
    held += [r.accepted() for rs in runs for r in rs]
    held += [
        z3.Implies(_b(r.slot.chosen(v)), _b(move_within(r.before, vr.variant.event, one)))
        for r in runs[0]
        for v, vr in enumerate(r.runs)
    ]
    debts = tuple(
        sum_(when(r.slot.chosen(v), bad_debt(vr.ctx.outcomes)) for r in rs for v, vr in enumerate(r.runs))
        for rs in runs
    )
    inputs = tuple(variables) + tuple(event_variables(story_slots))
    inputs += tuple(s.choice for s in story_slots if s.choice is not None)
    return _Move(tuple(_b(h) for h in held), inputs, debts, tuple(rs[-1].after for rs in runs))


def _mark_within(book: Book, bounds: Bounds) -> Any:
    mark = book.market.mark_quote
    return z3.And(mark >= bounds.min_price, mark <= bounds.max_price)


def _zeroed(x: Any) -> Any:
    """``x`` (a book, record or tuple of them) with every data field that is a term set to 0: its
    structure (names, roles, the clock, absent fields) with the numbers left for
    ``variable_book`` to make fresh."""
    if attrs.has(type(x)):
        data = set(data_fields(type(x)))
        changes = {}
        for f in attrs.fields(type(x)):
            if not f.init:
                continue
            v = getattr(x, f.name)
            if f.name in data and isinstance(v, z3.ExprRef):
                changes[f.name] = 0
            elif attrs.has(type(v)) or isinstance(v, tuple):
                changes[f.name] = _zeroed(v)
        return attrs.evolve(x, **changes)
    if isinstance(x, tuple):
        return tuple(0 if isinstance(v, z3.ExprRef) else _zeroed(v) for v in x)
    return x


def by_lemmas(policy: Policy, bounds: Bounds, units: int, total: int) -> tuple[bool, list[QueryStats], str]:
    """Partial liquidation adds no bad debt over the two moves (so the claim holds at every bound
    ≥ 0), proved by the lemmas of the module's docstring, each within at most ``units`` (its
    building included) and all within ``total``: whether all were proved, each check's stats, and
    why not. Call within ``effort.question()``. Only where :func:`lemmas_apply`."""
    whole = whole_liquidation(policy)
    stats: list[QueryStats] = []

    def ask(name: str, premises: Sequence[Any], goal: Any, inputs: Sequence[Any], build: int) -> bool:
        left = min(units, total - sum(q.units for q in stats)) - build
        if left <= 0:
            stats.append(QueryStats(name, "not asked (the lemmas' units ran out)", 0.0, units=build))
            return False
        answer = wall.check([*premises, z3.Not(_b(goal))], inputs, left, bounds.safety_net)
        stats.append(QueryStats(name, answer.result, answer.seconds, units=answer.units + build))
        return answer.result == "unsat"

    with effort.building(units) as meter:
        book, variables = symbolic_book(bounds)
        start = [_b(a.holds) for a in book_assumptions(policy, book, bounds)]
        first = _one_move((policy, whole), book, variables, bounds)
    premises = [*start, *first.held]
    witness = wall.check(premises, first.inputs, max(units - meter.spent, 1), bounds.safety_net)
    stats.append(
        QueryStats("L1 premises (a witness)", witness.result, witness.seconds, units=witness.units + meter.spent)
    )
    if witness.result != "sat":
        return False, stats, f"the premises of the first move: {witness.result} (no witness)"
    (partial_debt, whole_debt), (after_p, after_w) = first.bad_debt, first.after
    shape = _zeroed(after_p)
    if shape != _zeroed(after_w):
        return False, stats, "the books after the first move differ in structure"
    size_p, size_w = after_p.traders[0].size_lots, after_w.traders[0].size_lots
    marks = z3.And(_mark_within(after_p, bounds), after_p.market.mark_quote == after_w.market.mark_quote)
    parts = _holding_parts(policy, after_p)
    lemmas = [
        ("L1 partial adds no bad debt on the first move", premises, partial_debt <= whole_debt),
        ("L1 marks after the first move in bounds and equal", premises, marks),
        (
            "L1 same position after both runs: the same book",
            [*premises, size_p == size_w],
            books_equal(after_p, after_w),
        ),
        *(
            (
                f"L1 a position kept by the partial order: left holding ({i + 1}/{len(parts)})",
                [*premises, size_p != size_w],
                part,
            )
            for i, part in enumerate(parts)
        ),
    ]
    for name, held, goal in lemmas:
        if not ask(name, held, goal, first.inputs, 0):
            return False, stats, f"{name}: {stats[-1].result}"
    # the second move from any book of that structure (``variable_book``: every number fresh)
    with effort.building(units) as meter:
        x, xs = variable_book(shape, prefix="x.")
        second = _one_move((policy,), x, xs, bounds)
    premises = [_b(left_holding(policy, x)), _mark_within(x, bounds), *second.held]
    if not ask("L2 left holding: no bad debt in a move", premises, second.bad_debt[0] == 0, second.inputs, meter.spent):
        return False, stats, f"L2: {stats[-1].result}"
    with effort.building(units) as meter:
        y, ys = variable_book(shape, prefix="y.")
        both = _one_move((policy, whole), y, ys, bounds)
        alone = _one_move((whole,), y, ys, bounds)
    partial_debt, whole_debt = both.bad_debt
    if not ask(
        "L3 any book: partial adds no bad debt in a move",
        [_mark_within(y, bounds), *both.held],
        partial_debt <= whole_debt,
        both.inputs,
        meter.spent,
    ):
        return False, stats, f"L3: {stats[-1].result}"
    if not ask(
        "L3 any book: whole liquidation's bad debt is not negative",
        [_mark_within(y, bounds), *alone.held],
        alone.bad_debt[0] >= 0,
        alone.inputs,
        0,
    ):
        return False, stats, f"L3: {stats[-1].result}"
    return True, stats, ""


# --- the refutation searched first on a price grid ---------------------------------------------

#: The starting mark of the grid's stories: 10⁶ quanta, where a move of x ppm of it is x quanta,
#: exactly (no rounding between the move bound and the move)
GRID_MARK = PPM
#: A probe searches its refutation on the grid (:func:`grid_points`) first, within this share (1/n)
#: of its units, each point with what the points before it left. Every mark fixed, ``size × price``
#: is linear: Hyperliquid at 33,249 ppm, the first point's story in 0.40M units (its build 1.14M),
#: where the product query over every mark, asked as the search asks it (a question), was undecided
#: within 30M; at 33,250 the four points are unsat in 0.46-0.78M each
#: (docs/solver-notes.md#hyperliquids-extra-bad-debt-exact-again-session-23)
GRID_SHARE = 4


def grid_points(bounds: Bounds) -> list[tuple[int, ...]]:
    """The marks of the grid's stories: :data:`GRID_MARK` first, then each move the largest within
    ``bounds.max_move_ppm`` of the mark before it (``⌊p·g/10⁶⌋`` quanta), up or down. Every move
    the same way first, up then down (a cascade is a run of moves one way, and what a partial order
    leaves open is bankrupt only by a move against it), then the mixed ones in
    ``itertools.product``'s order. Only points whose every mark lies in the price bounds; none
    without a move bound, with an event other than a mark, or on more than one market."""
    g = bounds.max_move_ppm
    if (
        g is None
        or tuple(bounds.event_kinds) != ("mark",)
        or len(bounds.market_names) != 1
        or not bounds.min_price <= GRID_MARK <= bounds.max_price
    ):
        return []
    ways = sorted(itertools.product((1, -1), repeat=bounds.events), key=lambda way: len(set(way)) > 1)
    out = []
    for way in ways:
        marks = [GRID_MARK]
        for direction in way:
            marks.append(marks[-1] + direction * (marks[-1] * g // PPM))
        if all(bounds.min_price <= m <= bounds.max_price for m in marks):
            out.append(tuple(marks))
    return out


def _marks_text(prices: Sequence[int]) -> str:
    return "marks " + " → ".join(f"{p:,}" for p in prices)


def on_grid(
    policy: Policy, bound_ppm: int, bounds: Bounds, units: int
) -> tuple[Counterexample | None, list[QueryStats], tuple[int, ...]]:
    """A story breaking the bound on one of :func:`grid_points` (the product query built with its
    marks fixed, exact, each point with what the points before it left of ``units``, building
    included), replayed on the concrete engine (:func:`confirm`); the stats of every check; the
    point's marks. No story there says nothing about the bound. Call within ``effort.question()``."""
    stats: list[QueryStats] = []
    for prices in grid_points(bounds):
        left = units - sum(q.units for q in stats)
        if left <= 0:
            break
        started = time.perf_counter()
        try:
            query = CascadeQuery.build(policy, attrs.evolve(bounds, effort=left), prices)
        except OutOfEffort as stop:
            stats.append(QueryStats(f"build ({_marks_text(prices)})", "out of effort", 0.0, units=stop.limit))
            break
        stats.append(
            QueryStats(
                f"build ({_marks_text(prices)})", "built", time.perf_counter() - started, units=query.build_units
            )
        )
        left -= query.build_units
        if left <= 0:
            break
        goal = [*query.assumptions, query.violation(bound_ppm)]
        answer = wall.check(goal, query.inputs, left, bounds.safety_net)
        stats.append(
            QueryStats(
                f"{CLAIM_ID} ({_marks_text(prices)})", f"{answer.result} (exact)", answer.seconds, units=answer.units
            )
        )
        if answer.result == "sat":
            story = decode(query.book, query.slots, wall.evaluator(answer.values, query.inputs))
            return confirm(policy, bound_ppm, story, bounds), stats, prices
    return None, stats, ()


def decide(policy: Policy, bound_ppm: int, bounds: Bounds) -> tuple[ProofResult, None]:
    """One probe at ``bound_ppm``: PROVED (unsat of the exact product query), REFUTED (a model
    replayed on the concrete engine under both policies and breaking the bound there), or UNKNOWN
    within ``bounds.effort`` units (building included). Conflicting assumptions are VACUOUS."""
    from solvent.solver.prove import BOUNDED, scope_of

    started = time.perf_counter()
    scope = scope_of(bounds)
    base = ProofResult(policy.name, CLAIM_ID, Verdict.UNKNOWN, scope, 0.0, BOUNDED + "; two runs (partial, whole)")
    first: tuple[QueryStats, ...] = ()
    if bound_ppm >= 0 and lemmas_apply(policy, bounds):
        proved, stats_by_lemmas, why = by_lemmas(policy, bounds, bounds.effort // LEMMA_SHARE, bounds.effort // 2)
        first = tuple(stats_by_lemmas)
        if proved:
            return attrs.evolve(
                base,
                verdict=Verdict.PROVED,
                method=BOUNDED + "; " + BY_LEMMAS,
                seconds=time.perf_counter() - started,
                queries=first,
            ), None
        base = attrs.evolve(base, reason=f"by lemmas: {why}")
    # the refutation searched first on the price grid, within a share of what is left
    found, grid_stats, marks = on_grid(
        policy, bound_ppm, bounds, max(bounds.effort - sum(q.units for q in first), 1) // GRID_SHARE
    )
    first += tuple(grid_stats)
    if found is not None:
        return attrs.evolve(
            base,
            verdict=Verdict.REFUTED,
            reason="",
            method=f"{base.method}; refuted on a price grid ({_marks_text(marks)})",
            seconds=time.perf_counter() - started,
            queries=first,
            counterexample=found,
        ), None
    spent = sum(q.units for q in first)
    try:
        query = CascadeQuery.build(policy, attrs.evolve(bounds, effort=max(bounds.effort - spent, 1)))
    except OutOfEffort as stop:
        return attrs.evolve(
            base, reason=stop.reason, queries=(*first, QueryStats("build", "out of effort", 0.0, units=stop.limit))
        ), None
    built = QueryStats("build", "built", time.perf_counter() - started, units=query.build_units)
    units = max(bounds.effort - spent - query.build_units, 1)
    goal = [*query.assumptions, query.violation(bound_ppm)]
    answer = wall.check(goal, query.inputs, max(units // WHOLE_SHARE, 1), bounds.safety_net)
    asked = [QueryStats(CLAIM_ID, f"{answer.result} (exact)", answer.seconds, units=answer.units)]
    if answer.result == "unknown" and type(query.first_alike) is not bool:
        # by cases on the first move: every position as whole liquidation leaves it, or one kept
        # open (Hyperliquid at 33,250 ppm: 0.1M and 3.4M units, where the whole query took 14.8M)
        for case, held in ((ALIKE, query.first_alike), (KEPT_OPEN, z3.Not(query.first_alike))):
            left = units - sum(q.units for q in asked)
            if left <= 0:
                break
            answer = wall.check([*goal, held], query.inputs, left, bounds.safety_net)
            asked.append(
                QueryStats(f"{CLAIM_ID} ({case})", f"{answer.result} (exact)", answer.seconds, units=answer.units)
            )
            if answer.result != "unsat":
                break
    done = attrs.evolve(base, seconds=time.perf_counter() - started, queries=(*first, built, *asked))
    if answer.result == "unsat":
        # the assumptions alone must have a model, or "unsat" would prove nothing
        witness = wall.check(list(query.assumptions), query.inputs, units, bounds.safety_net)
        done = attrs.evolve(
            done,
            queries=(*done.queries, QueryStats("assumptions", witness.result, witness.seconds, units=witness.units)),
        )
        if witness.result == "unsat":
            return attrs.evolve(done, verdict=Verdict.VACUOUS, reason="the assumptions conflict"), None
        return attrs.evolve(done, verdict=Verdict.PROVED), None
    if answer.result != "sat":
        return attrs.evolve(done, reason=f"unknown (exact): {answer.reason}"), None
    story = decode(query.book, query.slots, wall.evaluator(answer.values, query.inputs))
    cx = confirm(policy, bound_ppm, story, bounds)
    return attrs.evolve(done, verdict=Verdict.REFUTED, counterexample=cx), None


def confirm(policy: Policy, bound_ppm: int, story: Story, bounds: Bounds) -> Counterexample:
    """The story of an exact model, replayed: within the bounds, accepted under both policies, and
    breaking the bound on the concrete engine; otherwise z3 and the engine disagree (raised)."""
    inside = replay(policy, None, story, bounds)
    problem = ", ".join(inside.outside) or inside.rejected or inside.detail
    extra = None
    if not problem:
        try:
            extra = extra_of(policy, story)
        except (RejectedEvent, InternalError) as exc:
            problem = f"the concrete engine refused it: {exc}"
    if extra is None or not extra.breaks(bound_ppm):
        raise SpuriousCounterexample(
            f"z3 found an exact model for {CLAIM_ID!r} at {bound_ppm:,} ppm that the concrete engine does not "
            f"confirm ({problem or f'extra bad debt {extra.extra_quote} within the bound'})\n"
            f"policy: {policy.name}\nstory: {story!r}"
        )
    _, steps = _concrete_bad_debt(policy, story)
    detail = (
        f"partial liquidation leaves {extra.partial_quote:,} quanta of bad debt over {len(story.events)} moves, "
        f"whole liquidation {extra.whole_quote:,}: {extra.extra_quote:,} more, against a long open interest "
        f"of {extra.open_interest_quote:,}"
    )
    return Counterexample(story, steps, len(steps) - 1, CLAIM_ID, detail)


__all__ = [
    "CLAIM_ID",
    "CascadeQuery",
    "Extra",
    "bad_debt",
    "claim",
    "confirm",
    "decide",
    "extra_of",
    "grid_points",
    "on_grid",
    "partial_applies",
    "whole_liquidation",
]
