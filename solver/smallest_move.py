"""The smallest move: a z3 counterexample told at the least mark move that still breaks its claim.

z3 refutes a claim with whatever model it meets first: a mark moving from 7,004 to 3 quanta, a
trader long 999,144 lots. True, replayed, and dismissed by any risk committee, who wants to know
how *large* a move it takes. A search story is shrunk before it is shown; so is a z3 story whose
failing event is one mark move (:func:`smallest_move`):

1. **The least move, with a proof below it.** A bisection over the move bound (the safe-move
   question's machinery, ``solvent.solver.thresholds``: each probe is z3 on every book of the
   story's number of traders and one mark move of at most ``m`` ppm of the mark before it, either
   way, starting marks from :data:`~solvent.solver.thresholds.DEFAULT_MIN_PRICE`). A refuted
   probe is a replayed story; a proved one says no book breaks the claim with a move that small.
   Refuted at ``m`` and proved at ``m − 1``: the claim *needs a move of at least m*. The move bound
   only narrows the books, so the safe moves form an interval and the bisection is exact.
2. **At the policy's own scale.** The story is asked again with its starting mark fixed at the
   price the named scenarios start from (``properties.scenarios.MARK``, as a lot value) and the
   move bound found, then shrunk to the least total magnitude Σ|x| of its numbers (to a power of
   ten): small positions and balances at a familiar price. Where that price admits no such story
   (a rounding at that mark), the story found by the bisection stands, and says so.
3. **The least move from that book.** On the concrete engine, the mark event is moved back
   tick by tick (a bisection on the tick count, in the story's direction) to the smallest move
   from the story's own book that still breaks the claim; one tick less does not.

Every story shown was replayed on the concrete engine by the step that produced it, and the final
one is replayed once more: a story the engine does not confirm raises
:class:`~solvent.solver.verdicts.SpuriousCounterexample` (a bug in Solvent, never a verdict).

Budgets are counts (:class:`MoveBudget`: probes, units per probe, units in all), never seconds,
so the same story is told on any machine. What the bisection could not decide is said: a
move proved safe and one refuted with undecided moves between, or no proof below at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import attrs

from solvent.properties.catalog import Invariant
from solvent.properties.scenarios import Story
from solvent.rules.arith import PPM
from solvent.rules.book import Book
from solvent.rules.events import MarkPrice
from solvent.rules.policy import Policy
from solvent.solver import effort
from solvent.solver.assumptions import mark_move_ppm
from solvent.solver.bounds import Bounds
from solvent.solver.effort import UNITS_PER_SECOND, OutOfEffort
from solvent.solver.plain_book import (
    beyond_scale,
    breaks,
    least_ticks,
    scale_bounds,
    scale_mark,
    tidy,
    told_plainly,
)
from solvent.solver.prove import BOUNDED, PURIFIED, scope_of
from solvent.solver.query import StoryQuery
from solvent.solver.refinement import replay
from solvent.solver.thresholds import (
    DEFAULT_MIN_PRICE,
    Bisection,
    Direction,
    Probe,
    Question,
    Setup,
    ThresholdStatus,
    _probe,
    _reached,
    staged_then_cells,
    stages,
)
from solvent.solver.verdicts import Counterexample, ProofResult, SpuriousCounterexample, Verdict


@attrs.frozen
class MoveBudget:
    """How much one story's minimization may spend: ``probes`` proof attempts of at most
    ``probe_units`` each, ``total`` units in all (the bisection stops before a probe could pass
    it), and ``shrink_units`` for the story at the policy's scale. Counts only."""

    probes: int = 22
    probe_units: int = 5 * UNITS_PER_SECOND
    total: int = 24 * UNITS_PER_SECOND
    shrink_units: int = 2 * UNITS_PER_SECOND


#: The budget ``solvent check`` and ``solvent prove`` give each story: one budget, so a check's
#: Reproduce line (``solvent prove ...``) tells the story at the least move check told it at. Until
#: session 34 prove gave its one story 24 probes and 40M, and six of the gallery's commands said more
#: about the least move than their page, or told another story (tests/test_gallery_commands.py;
#: docs/solver-notes.md#the-gallerys-printed-commands-run-session-34). The numbers are check's
#: (``verdicts.proofs.CHECK_MOVES``, measured there).
DEFAULT_BUDGET = MoveBudget()


@attrs.frozen
class SmallestMove:
    """What the minimization of one z3 story found (see the module docstring).

    ``move_ppm``: the least move bound at which a replayed story still breaks the claim;
    ``proved_ppm``: the largest at which z3 proved no book of the scope breaks it (None: none
    proved). EXACT when adjacent: the claim needs a move of at least ``move_ppm``.
    ``story_move_ppm``: the shown story's own move (⌈|Δ| · 10⁶ / mark⌉), the least from its book.
    """

    invariant: str
    status: ThresholdStatus
    move_ppm: int
    proved_ppm: int | None
    story_move_ppm: int
    original_ppm: int
    accounts: int
    min_price: int
    max_price: int
    #: the story starts at the policy's own scale (the scenarios' starting mark)
    at_scale: bool
    counterexample: Counterexample
    probes: int
    units: int
    seconds: float = attrs.field(default=0.0, eq=False)
    #: the story's book is the bisection's (False: z3's own story told plainly, :func:`_plainly`,
    #: where no probe was refuted)
    bisected: bool = True
    #: where the story told plainly stays beyond the policy's scale: the scale's bounds on which z3
    #: proved no book breaks the claim (:func:`_at_scale_question`), in words; "" where not proved
    none_at_scale: str = ""

    @property
    def exact(self) -> bool:
        return self.status is ThresholdStatus.EXACT

    @property
    def text(self) -> str:
        """One line a person reads: "needs a move of at least 1.0001% (10,001 ppm): ..."."""
        traders = f"{self.accounts} trader{'s' if self.accounts > 1 else ''}"
        scope = f"any book of {traders}, starting marks {self.min_price:,}..{self.max_price:,} quanta"
        if self.status is ThresholdStatus.NONE:
            head = f"breaks with no move at all (z3 found a story at {_pct(self.move_ppm)})"
        elif self.exact and self.proved_ppm == 0:
            head = (
                f"breaks with any move: one of {_pct(self.move_ppm)} ({self.move_ppm:,} ppm of the mark) already does, "
                f"and z3 proved it holds only when the mark does not move ({scope})"
            )
        elif self.exact:
            head = (
                f"needs a move of at least {_pct(self.move_ppm)} ({self.move_ppm:,} ppm of the mark): z3 proved that "
                f"no move of at most {self.proved_ppm:,} ppm breaks it ({scope})"
            )
        elif self.proved_ppm is not None and self.proved_ppm > 0:
            head = (
                f"breaks with a move of {_pct(self.move_ppm)}; z3 proved that no move of at most "
                f"{_pct(self.proved_ppm)} does ({scope}); undecided in between within its effort"
            )
        else:
            head = f"breaks with a move of {_pct(self.move_ppm)}; no smaller move was proved safe within its effort"
            if self.proved_ppm == 0:
                head += " (z3 proved only that the claim holds when the mark does not move)"
        where = (
            "at the policy's own scale"
            if self.at_scale
            else "at the mark the bisection found"
            if self.bisected
            else "at the mark z3 found, not at the policy's scale"
        )
        story = f"this story moves the mark {_pct(self.story_move_ppm)} {where}, the least from its book (one tick less does not break it)"
        if self.none_at_scale:  # said first: why the story's numbers are what they are
            return f"fails only beyond the policy's scale: z3 proved that no book at it breaks the claim ({self.none_at_scale}); {head}; {story}"
        return f"{head}; {story}"

    def to_data(self) -> dict[str, Any]:
        """The JSON form (reports' ``smallest_move``)."""
        return {
            "invariant": self.invariant,
            "status": self.status.value,
            "needs_move_ppm": self.move_ppm if self.exact else None,
            "refuted_at_ppm": self.move_ppm,
            "proved_at_ppm": self.proved_ppm,
            "story_move_ppm": self.story_move_ppm,
            "original_move_ppm": self.original_ppm,
            "accounts": self.accounts,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "at_scale": self.at_scale,
            "none_at_scale": self.none_at_scale or None,
            "probes": self.probes,
            "units": self.units,
            "text": self.text,
        }


def _pct(ppm: int) -> str:
    value = Fraction(ppm, 10_000)
    if value.denominator == 1:
        return f"{value.numerator:,}%"
    return f"{float(value):,.4f}".rstrip("0").rstrip(".") + "%"


def move_ppm(story: Story, index: int = 0) -> int | None:
    """⌈|p′ − p| · 10⁶ / p⌉ of the story's mark event ``index`` (None if it is not a mark move)."""
    event = story.events[index] if index < len(story.events) else None
    if not isinstance(event, MarkPrice):
        return None
    return mark_move_ppm(story.book, event)


def applies(cx: Counterexample | None, invariant: Invariant) -> bool:
    """A story this module minimizes: the invariant's own refutation by one mark move, on a book
    of one market (a book of several is told as z3 found it: the move, its market and the
    scaling here speak of one mark; docs/portfolio.md)."""
    return (
        cx is not None
        and cx.obligation == invariant.id
        and cx.step_index == 0
        and len(cx.story.events) == 1
        and isinstance(cx.story.events[0], MarkPrice)
        and not cx.story.book.more_markets
    )


def smallest_move(
    policy: Policy,
    invariant: Invariant,
    cx: Counterexample,
    bounds: Bounds | None = None,
    budget: MoveBudget = DEFAULT_BUDGET,
) -> SmallestMove | None:
    """The least move that breaks ``invariant`` and the story told at it (module docstring), or
    None when ``cx`` is not a one-mark-move refutation of ``invariant``. Where the bisection refuted
    no move bound within the budget, z3's own story told plainly on the concrete engine (:func:`_plainly`). ``bounds``: the proof's (its balance and position bounds are
    kept; the traders are the story's, the prices from ``DEFAULT_MIN_PRICE``)."""
    if not applies(cx, invariant):
        return None
    started = time.perf_counter()
    bounds = Bounds() if bounds is None else bounds
    n = max(len(cx.story.book.traders), 1)
    scope = attrs.evolve(
        bounds,
        accounts=n,
        events=1,
        event_kinds=("mark",),
        effort=min(budget.probe_units, bounds.effort),
        min_price=max(bounds.min_price, DEFAULT_MIN_PRICE),
        max_move_ppm=None,
    )
    original = move_ppm(cx.story)
    state, spent = _bisect(policy, invariant, scope, cx, budget)  # each probe is its own question
    if state.refuted is None:
        return _plainly(policy, invariant, cx, scope, state, spent, started, budget)
    found, found_cx = state.refuted
    with effort.question():  # the same story in any process, whatever ran before
        shown, at_scale, shrink = _at_scale(policy, invariant, scope, found, budget)
    spent += shrink
    story = shown.story if shown is not None else found_cx.story
    story = attrs.evolve(story, events=story.events[:1])
    check_bounds = attrs.evolve(scope, max_move_ppm=None, min_price=1)
    story = least_ticks(policy, invariant, tidy(policy, invariant, story, check_bounds), check_bounds)
    final = _confirmed(policy, invariant, story, check_bounds, "smallest-move")
    proved = state.proved[0] if state.proved else None
    shown_ppm = move_ppm(final.story) or 0
    within = shown_ppm < found and breaks(policy, invariant, final.story, attrs.evolve(scope, max_move_ppm=shown_ppm))
    found, status = refuted_at(found, proved, shown_ppm, state.status, within=within)
    result = SmallestMove(
        invariant=invariant.id,
        status=status,
        move_ppm=found,
        proved_ppm=proved,
        story_move_ppm=shown_ppm,
        original_ppm=original or 0,
        accounts=n,
        min_price=scope.min_price,
        max_price=scope.max_price,
        at_scale=at_scale,
        counterexample=Counterexample(final.story, final.steps, final.failed_at, invariant.id, ""),
        probes=len(state.probes),
        units=spent,
        seconds=time.perf_counter() - started,
    )
    detail = f"{final.detail}; {result.text}"
    return attrs.evolve(result, counterexample=attrs.evolve(result.counterexample, detail=detail, move=result))


def refuted_at(
    found: int, proved: int | None, shown: int, status: ThresholdStatus, *, within: bool
) -> tuple[int, ThresholdStatus]:
    """The least move a replayed story is known to break the claim with, and what is then known.

    ``found``: the least probe bound the bisection refuted; ``proved``: the largest it proved safe
    (None: none); ``shown``: the move of the story told, replayed on the engine (its least ticks from
    its own book), which may be smaller (a tick bisection from its book lands between two probes;
    a story moved to the policy's own scale, where a tick is a smaller part of the mark). A smaller
    story's move is what the line says breaks the claim ("breaks with a move of 0.01%", not the probe's
    1.0192% beside a story of 0.01%: BitMEX's no-haircut, session 35), but not below a move z3 proved
    safe: the proof speaks of its scope's books, and a story outside them (its move leaves the
    probes' price range: the scale's mark is their least price) neither contradicts it nor makes
    the answer exact. EXACT only where the story is one of the scope's books (``within``) and its
    move is the next ppm above the proof."""
    if shown >= found or (proved is not None and shown <= proved):
        return found, status
    exact = within and proved is not None and shown == proved + 1
    return shown, ThresholdStatus.EXACT if exact else status


def _confirmed(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds, what: str) -> Any:
    """The concrete engine's replay of the story to be shown, which must break ``invariant`` within
    ``bounds``; otherwise :class:`SpuriousCounterexample` (a bug in Solvent, never a verdict)."""
    final = replay(policy, invariant, story, bounds)
    if not final.violates:
        raise SpuriousCounterexample(
            f"the {what} story for {invariant.id!r} does not break it on the concrete engine "
            f"({', '.join(final.outside) or final.rejected or 'the claim holds on replay'})\n"
            f"policy: {policy.name}\nstory: {story!r}"
        )
    return final


def _plainly(
    policy: Policy,
    invariant: Invariant,
    cx: Counterexample,
    scope: Bounds,
    state: Any,
    spent: int,
    started: float,
    budget: MoveBudget = DEFAULT_BUDGET,
) -> SmallestMove:
    """z3's own story told on a plain book at the policy's scale on the concrete engine alone
    (``plain_book.told_plainly``), where the bisection refuted no probe within its budget: a story
    found on check's grid (percolator Gen A's flat account paying a haircut, a mark of 4 quanta and
    10¹² of principal as z3 left them) is still shown with a plain book and its least move from that
    book. What z3 proved below stays said; a move the bisection never refuted is not called the
    least: UNKNOWN, or BOUNDED above a proved move, EXACT only where the story's move is the next
    ppm above it. Where that story stays beyond the policy's scale, z3 is asked once more on the
    scale's books (:func:`_at_scale_question`): a story found there is told instead, and a proof
    that none exists is said beside this one (drift's waterfall-order needs a deficit above its
    fund's USDC 100,000 cap, a thousand times the largest notional at its scale)."""
    check_bounds = attrs.evolve(scope, max_move_ppm=None, min_price=1)
    story = told_plainly(policy, invariant, attrs.evolve(cx.story, events=cx.story.events[:1]), check_bounds)
    final = _confirmed(policy, invariant, story, check_bounds, "plainly told")
    none_at_scale = ""
    if beyond_scale(policy, final.story.book) and spent < budget.total:
        verdict, found, asked, units = _at_scale_question(
            policy, invariant, scope, min(budget.probe_units, budget.total - spent)
        )
        spent += units
        if verdict is Verdict.REFUTED and found is not None:
            story = told_plainly(policy, invariant, found, check_bounds)
            final = _confirmed(policy, invariant, story, check_bounds, "at-scale")
        elif verdict is Verdict.PROVED:
            none_at_scale = asked
    shown = move_ppm(final.story) or 0
    proved = state.proved[0] if state.proved else None
    # the bisection's proof speaks of its scope's books (starting marks from its least price): it is
    # said beside this story only when the story is one of them
    if (
        proved is None
        or proved >= shown
        or shown > PPM  # beyond any move bound the probes asked (a mark more than doubled)
        or not breaks(policy, invariant, final.story, attrs.evolve(scope, max_move_ppm=shown))
    ):
        status, proved = ThresholdStatus.UNKNOWN, None
    else:
        status = ThresholdStatus.EXACT if shown == proved + 1 else ThresholdStatus.BOUNDED
    result = SmallestMove(
        invariant=invariant.id,
        status=status,
        move_ppm=shown,
        proved_ppm=proved,
        story_move_ppm=shown,
        original_ppm=move_ppm(cx.story) or 0,
        accounts=max(len(cx.story.book.traders), 1),
        min_price=scope.min_price,
        max_price=scope.max_price,
        at_scale=not any("the mark" in why for why in beyond_scale(policy, final.story.book)),
        counterexample=Counterexample(final.story, final.steps, final.failed_at, invariant.id, ""),
        probes=len(state.probes),
        units=spent,
        seconds=time.perf_counter() - started,
        bisected=False,
        none_at_scale=none_at_scale,
    )
    detail = f"{final.detail}; {result.text}"
    return attrs.evolve(result, counterexample=attrs.evolve(result.counterexample, detail=detail, move=result))


def _at_scale_question(
    policy: Policy, invariant: Invariant, scope: Bounds, units: int
) -> tuple[Verdict, Story | None, str, int]:
    """z3 on every book of ``scope``'s traders and one mark move at the policy's own scale
    (``plain_book.scale_bounds``, the books ``beyond_scale`` finds nothing in: starting marks and
    prices within 100 times the policy's mark either way, positions of at most 100 lots, balances of at
    most that many lots' notional at the top of that range), within ``units``: its verdict, a
    refutation's story (its first event), those bounds in words, and the units spent. Proved: the
    claim fails only beyond the policy's scale."""
    bounds = attrs.evolve(scale_bounds(policy, scope), max_move_ppm=None, effort=units)
    traders = f"{bounds.accounts} trader{'s' if bounds.accounts > 1 else ''}"
    asked = (
        f"any book of {traders}, prices {bounds.min_price:,}..{bounds.max_price:,} quanta, at most {bounds.max_lots:,} lots, "
        f"balances within ±{bounds.max_quote:,} quanta"
    )
    with effort.question():  # the same answer in any process, whatever ran before
        try:
            query = StoryQuery(policy, invariant, bounds, obligations=(invariant,))
        except OutOfEffort:
            return Verdict.UNKNOWN, None, asked, units
        answer = query.check_staged(invariant, stages(query.solve_units))
    spent = query.build_units + answer.stats.units
    cx = answer.counterexample
    story = None if cx is None else attrs.evolve(cx.story, events=cx.story.events[:1])
    return answer.verdict, story, asked, spent


def tellable(result: ProofResult, invariant: Invariant) -> bool:
    """Whether :func:`told_at_least_move` tells ``result`` at its least move when given a budget: a
    one-mark-move refutation of ``invariant`` over a price range (not a grid) reaching the least
    price the probes start from. A Reproduce line asks ``--no-least-move`` where such a story was
    told as z3 found it (``check --no-least-move``, ``reports.story``)."""
    bounds = result.bounds
    return (
        result.verdict is Verdict.REFUTED
        and applies(result.counterexample, invariant)
        and bounds is not None
        and not bounds.price_grid
        and bounds.max_price >= DEFAULT_MIN_PRICE
    )


def told_at_least_move(
    policy: Policy, invariant: Invariant, result: ProofResult, budget: MoveBudget | None = DEFAULT_BUDGET
) -> ProofResult:
    """``result`` with its counterexample told at the least move (:func:`smallest_move`), when it
    is a one-mark-move refutation of ``invariant`` over a price range (not a grid) and ``budget``
    is given; otherwise ``result`` unchanged. The minimization's units are the counterexample's
    ``move.units``, not the proof's."""
    if budget is None or not tellable(result, invariant):
        return result
    cx = result.counterexample
    moved = smallest_move(policy, invariant, cx, result.bounds, budget)
    if moved is None:
        return result
    # the proof's own units stay what the proof spent (check's budget counts them); the
    # minimization's are its own, in ``moved.units``
    return attrs.evolve(result, counterexample=moved.counterexample)


def _question(invariant: Invariant) -> Question:
    def setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
        return Setup(policy, invariant, attrs.evolve(bounds, max_move_ppm=value, event_kinds=("mark",)))

    return Question(
        "smallest-move",
        f"smallest move that breaks {invariant.id}",
        Direction.LARGEST,
        True,
        low=lambda p: 0,
        high=lambda p: PPM,
        setup=setup,
        hints=lambda p, b: [],
        reach=lambda p, story: move_ppm(story),
    )


def _bisect(
    policy: Policy, invariant: Invariant, scope: Bounds, cx: Counterexample, budget: MoveBudget
) -> tuple[Bisection, int]:
    """The bisection over the move bound: first the least move from z3's own book (concrete, and
    a refutation z3 confirms at once when the book lies within the scope), one ppm less, no move at
    all, and the largest move; then halving between the safest refuted and the riskiest proved
    move, within the budget's probes and units.

    One query serves every probe (:class:`_MoveProbes`): the story is built and its assumptions
    witnessed once, and each probe adds its move bound as a constraint. Where no story of the
    scope with an unmoved mark is witnessed (so a bound might leave no book at all), each probe
    is its own question as a threshold's is (``thresholds._probe``)."""
    question = _question(invariant)
    state = Bisection.over(question, policy, budget.probes)
    from_book = move_ppm(least_ticks(policy, invariant, cx.story, attrs.evolve(scope, min_price=1))) or PPM
    with effort.question():  # one z3 context for the whole bisection: the same units in any process
        probes = _MoveProbes.build(policy, invariant, scope)
        if probes is not None:
            return _bisect_with(question, state, from_book, budget, probes.spent, probes.per_probe, probes.probe)
    sizes: dict[int, int] = {}

    def fresh(state: Bisection, value: int) -> Bisection:
        return _probe(question, policy, scope, state, value, sizes)

    return _bisect_with(question, state, from_book, budget, 0, scope.effort, fresh)


def _bisect_with(
    question: Question,
    state: Bisection,
    from_book: int,
    budget: MoveBudget,
    spent: int,
    per_probe: int,
    probe: Callable[[Bisection, int], Bisection],
) -> tuple[Bisection, int]:
    """The probes of :func:`_bisect`, each by ``probe`` (at most ``per_probe`` units), after
    ``spent`` units; a probe is made only while it cannot take the total past the budget's."""

    def affordable() -> bool:
        return not state.exhausted and spent + per_probe <= budget.total

    for value in (from_book, from_book - 1, 0, PPM):
        if not affordable():
            break
        if 0 <= value <= PPM and not state.decided(value):
            state = probe(state, value)
            spent += state.probes[-1].units
    while affordable() and (value := state.next_value()) is not None:
        state = probe(state, value)
        spent += state.probes[-1].units
    return state, spent


@attrs.frozen
class _MoveProbes:
    """The bisection's probes on one query: ``query`` is the story of the scope with no move bound
    (built, and its assumptions witnessed, once: ``spent`` units), and a probe at ``m`` asks it
    with :meth:`StoryQuery.moves_within` ``(m)`` conjoined, the formula the scope's
    ``max_move_ppm = m`` assumes, on the same engine terms. The bound only narrows the books; a
    story with the mark unmoved is witnessed within every bound (checked on the engine at build),
    so a probe's "proved" is never vacuous. Each probe has ``per_probe`` units, what a fresh
    query's checks would have after its build and witness."""

    policy: Policy
    invariant: Invariant
    scope: Bounds
    query: StoryQuery
    spent: int
    per_probe: int

    @classmethod
    def build(cls, policy: Policy, invariant: Invariant, scope: Bounds) -> _MoveProbes | None:
        """The query, or None where it cannot be built within the scope's effort or no story with
        an unmoved mark is witnessed (then each probe is its own question)."""
        try:
            query = StoryQuery(policy, invariant, scope, obligations=(invariant,))
        except OutOfEffort:
            return None
        witness = query.check_assumptions()
        if witness.verdict is not Verdict.WITNESSED or witness.replay is None:
            return None
        story = witness.replay.story
        unmoved = attrs.evolve(story, events=tuple(_unmoved(story.book, e) for e in story.events))
        still = replay(policy, None, unmoved, attrs.evolve(scope, max_move_ppm=0))
        if still.outside or still.rejected or (len(still.steps) < len(unmoved.events) and still.failed_at is None):
            return None
        spent = query.build_units + witness.stats.units
        return cls(policy, invariant, scope, query, spent, query.solve_units - witness.stats.units)

    def probe(self, state: Bisection, value: int) -> Bisection:
        """``state`` after the probe at ``value`` (as ``thresholds._probe`` records one): a
        refutation's story is replayed within the probe's own bounds (its move bound included),
        then carried as far toward safety as it still breaks the claim."""
        question = _question(self.invariant)
        s = question.setup(self.policy, value, self.scope)
        t0 = time.perf_counter()
        self.query.solver.push()  # the probe's refinement lemmas go with it: each probe asks the built query afresh
        try:
            answer, queries, note = staged_then_cells(self.query, s, self.per_probe, self.query.moves_within(value))
        finally:
            self.query.solver.pop()
        cx = answer.counterexample
        if answer.verdict is Verdict.REFUTED and cx is not None:
            confirmed = replay(self.policy, self.invariant, cx.story, s.bounds)
            if not confirmed.violates:
                raise SpuriousCounterexample(
                    f"z3's story for {self.invariant.id!r} within a move of {value:,} ppm does not break it on the "
                    f"concrete engine within that move ({', '.join(confirmed.outside) or confirmed.rejected or 'the claim holds on replay'})\n"
                    f"policy: {self.policy.name}\nstory: {cx.story!r}"
                )
        seconds = time.perf_counter() - t0
        result = ProofResult(
            self.policy.name,
            self.invariant.id,
            answer.verdict,
            scope_of(s.bounds),
            seconds,
            BOUNDED + ("" if self.query.exact else PURIFIED) + note,
            reason="" if answer.verdict is Verdict.PROVED else answer.reason,
            counterexample=cx,
            queries=tuple(queries),
            bounds=s.bounds,
        )
        probe = Probe(value, answer.verdict, seconds, result.reason[:200], units=result.units)
        reached = None
        if answer.verdict is Verdict.REFUTED and cx is not None:
            reached = _reached(question, self.policy, value, cx, self.scope, state.safer, state.limit)
        return state.record(probe, result, reached=reached)


def _unmoved(book: Book, event: Any) -> Any:
    """``event`` with the mark kept where it is (a mark event to its market's mark in ``book``)."""
    if not isinstance(event, MarkPrice):
        return event
    return MarkPrice(book.market_named(event.market).mark_quote, market=event.market)


def _at_scale(
    policy: Policy, invariant: Invariant, scope: Bounds, move: int, budget: MoveBudget
) -> tuple[Any, bool, int]:
    """A replayed story starting at the policy's own scale (:func:`scale_mark`) whose move is as
    near ``move`` ppm as that mark's ticks allow, shrunk to the least Σ|x| to a power of ten within
    ``budget.shrink_units``; whether one was found there (None otherwise); the units spent.

    At a mark of 10,000 quanta a tick is 100 ppm, so the least move of the bisection may not be a
    whole number of ticks there, and a rounding at that mark may need a little more: the most
    ticks within ``move`` are asked first, then one tick more, 1% more, 10% more and twice as
    many, each within one probe's units, until half the budget's total is spent."""
    import z3

    mark = scale_mark(policy)
    try:
        query = StoryQuery(policy, invariant, attrs.evolve(scope, min_price=1), (mark, None), obligations=(invariant,))
    except OutOfEffort:
        return None, False, 0
    spent = query.build_units
    price = query.slots[0].variants[0].event.price_quote
    base = move * mark // PPM  # the most ticks within ``move``
    tries = sorted({base, base + 1, -(-base * 101 // 100), -(-base * 11 // 10), 2 * base + 2})
    answer, within = None, None
    for ticks in tries:
        if spent >= budget.total // 2:  # the rest of the budget is the bisection's, not this search's
            break
        within = z3.And(price >= mark - ticks, price <= mark + ticks)
        answer = query.check_staged(invariant, stages(min(scope.effort, query.solve_units)), extra=within)
        spent += answer.stats.units
        if answer.verdict is Verdict.REFUTED:
            break
    if answer is None or answer.verdict is not Verdict.REFUTED or answer.counterexample is None or answer.size is None:
        return None, False, spent
    best, low, high, used = answer.counterexample, 0, len(str(answer.size)), 0
    while low < high and used < budget.shrink_units:
        middle = (low + high) // 2
        smaller = z3.And(within, query.size <= 10**middle)
        trial = query.check_staged(invariant, [("purified", budget.shrink_units - used)], extra=smaller)
        used += trial.stats.units
        if trial.verdict is Verdict.REFUTED and trial.counterexample is not None and trial.size is not None:
            best, high = trial.counterexample, min(middle, len(str(trial.size)))
        else:
            low = middle + 1
    return best, True, spent + used


__all__ = [
    "DEFAULT_BUDGET",
    "MoveBudget",
    "SmallestMove",
    "applies",
    "least_ticks",
    "move_ppm",
    "refuted_at",
    "scale_mark",
    "smallest_move",
    "tellable",
    "tidy",
    "told_at_least_move",
]
