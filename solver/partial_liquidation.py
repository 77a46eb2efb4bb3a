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
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, Severity
from solvent.properties.scenarios import Story
from solvent.rules.arith import PPM, sum_, when
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.ledger import InternalError
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.solver import effort, wall
from solvent.solver.assumptions import book_assumptions, long_open_interest, move_within
from solvent.solver.bounds import Bounds
from solvent.solver.effort import OutOfEffort
from solvent.solver.refinement import replay
from solvent.solver.story import decode, event_variables, run, slots, symbolic_book
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
    story, so it is judged by :func:`decide` and :func:`extra_of`, never on one step."""

    def one_step(view: Any) -> Any:
        raise TypeError(f"{CLAIM_ID} compares two runs of a story: judge it with extra_of")

    return Invariant(
        CLAIM_ID,
        f"over the cascade, partial liquidation adds at most {bound_ppm:,} ppm of the long open interest's "
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

    @classmethod
    def build(cls, policy: Policy, bounds: Bounds) -> CascadeQuery:
        with effort.building(bounds.effort) as meter:
            book, variables = symbolic_book(bounds)
            story_slots = slots(book, bounds)
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
            return cls(
                book,
                tuple(story_slots),
                tuple(_b(h) for h in held),
                total(partial),
                total(whole),
                long_open_interest(policy, book),
                inputs,
                meter.spent,
            )

    def violation(self, bound_ppm: int) -> Any:
        """Partial liquidation adds more than ``bound_ppm`` of the open interest."""
        return (self.partial_quote - self.whole_quote) * PPM > bound_ppm * self.open_interest_quote


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def decide(policy: Policy, bound_ppm: int, bounds: Bounds) -> tuple[ProofResult, None]:
    """One probe at ``bound_ppm``: PROVED (unsat of the exact product query), REFUTED (a model
    replayed on the concrete engine under both policies and breaking the bound there), or UNKNOWN
    within ``bounds.effort`` units (building included). Conflicting assumptions are VACUOUS."""
    from solvent.solver.prove import BOUNDED, scope_of

    started = time.perf_counter()
    scope = scope_of(bounds)
    base = ProofResult(policy.name, CLAIM_ID, Verdict.UNKNOWN, scope, 0.0, BOUNDED + "; two runs (partial, whole)")
    try:
        query = CascadeQuery.build(policy, bounds)
    except OutOfEffort as stop:
        return attrs.evolve(
            base, reason=stop.reason, queries=(QueryStats("build", "out of effort", 0.0, units=stop.limit),)
        ), None
    built = QueryStats("build", "built", time.perf_counter() - started, units=query.build_units)
    units = max(bounds.effort - query.build_units, 1)
    answer = wall.check([*query.assumptions, query.violation(bound_ppm)], query.inputs, units, bounds.safety_net)
    stats = QueryStats(CLAIM_ID, f"{answer.result} (exact)", answer.seconds, units=answer.units)
    done = attrs.evolve(base, seconds=time.perf_counter() - started, queries=(built, stats))
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
    "partial_applies",
    "whole_liquidation",
]
