"""Deep stories: failures that need several events, found by z3 over K events from an ordinary book,
and by a search seeded with z3's answer.

The random search (``solvent.properties.search``) meets a failure that needs five or more events
rarely: a clawback that reaches principal needs deposits, a trade, a favourable move, the loser's
withdrawal and then the gap, and the derandomized search met it only after 4,456 examples.
Two ways reach such stories on purpose, both running the one engine and replaying every story on
it (nothing here is a second semantics):

- **Bounded model checking** (:func:`bounded_story`): z3 runs the engine symbolically over K event
  slots (``solvent.solver.story``) from a *funded* book (``Bounds.start = "funded"``,
  ``solvent.solver.assumptions.funded``: every account flat, its balance deposits only), for K = 1,
  2, ... up to ``DeepBudget.max_events``, first with trades and mark moves only, then with
  withdrawals and deposits too, then with spot deposits (``KINDS``). A refutation is a replayed story from an ordinary book; it is
  rewritten from the empty book (``solvent.properties.reachable.from_empty``: the deposits, then
  z3's events) and made 1-minimal like a searched story. Its origin reads ``z3 (K = 3)``. An
  unsat answer at K is a bounded fact about funded books (no story of K events of those kinds on N
  traders breaks the claim), never a proof of the claim.
- **Seeding** (:func:`seeded_search`): z3's one-event counterexample starts from a *state* (a
  well-formed book that may have a withdrawal history, a clawback window or a cost basis no
  deposits and trades give). Its book seeds a hypothesis search: the story starts with the
  deposits and trades at the mark that build what they can of that book
  (``reachable.opening``), then a drawn run of the search's own actions (moves, withdrawals,
  trades, ...), then z3's failing events with each mark move scaled to the mark the story has
  reached. Hypothesis shrinks it and ``search.minimize`` makes it 1-minimal; its origin reads
  ``search seeded by z3 (K = 1)``.

Every budget is a count: z3's units (``solvent.solver.effort``) per question and in all, search
examples for the seeded search. The same policy and budget give the same story on any machine.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from solvent.properties import actions as act
from solvent.properties import catalog
from solvent.properties.actions import LIQUIDITY_QUOTE
from solvent.properties.catalog import Invariant
from solvent.properties.played import (
    TAKE_PROFIT_CLAIMS,
    SearchBudget,
    SearchResult,
    fails,
    first_violation,
    minimize,
    replay,
)
from solvent.properties.reachable import from_empty, opening, opening_events
from solvent.properties.scenarios import Story
from solvent.rules.arith import Rounding, div
from solvent.rules.book import Book, on_tick
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.events import Deposit, Event, MarkPrice, Taker, Trade, Withdraw
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.effort import UNITS_PER_SECOND
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

if TYPE_CHECKING:
    from hypothesis import strategies as st

#: the event kinds each K is tried with, in order: the cheap questions first (trades and moves make
#: most stories), then money in and out too (a withdrawal before the gap, a deposit after it), then
#: spot deposits (a spot balance that backs margin, or is taken for a loss)
KINDS = (("trade", "mark"), ("trade", "mark", "withdraw", "deposit"), ("trade", "mark", "spot-deposit"))


@attrs.frozen
class DeepBudget:
    """How hard to look for a deep story, in counts only.

    ``max_events``: the longest run of events z3 is asked about (K = 1 … max_events);
    ``accounts``: traders in the symbolic book; ``effort``: units per question; ``total``: units
    for every question together (a question gets what is left when less than ``effort`` is);
    ``kinds``: the event kinds tried at each K, in order; ``examples``: the seeded search's
    examples (``0``: no seeded search)."""

    max_events: int = 3
    accounts: int = 2
    effort: int = 10 * UNITS_PER_SECOND
    total: int = 40 * UNITS_PER_SECOND
    kinds: tuple[tuple[str, ...], ...] = KINDS
    examples: int = 2_000


@attrs.frozen
class Attempt:
    """One bounded question: K events of these kinds from a funded book of ``accounts`` traders,
    what z3 said, its units. PROVED here means only "no such story within these bounds"."""

    events: int
    kinds: tuple[str, ...]
    verdict: Verdict
    units: int
    reason: str = ""
    accounts: int = 2

    @property
    def text(self) -> str:
        none = f"none from a funded book of {self.accounts} traders"
        said = {Verdict.REFUTED: "a story", Verdict.PROVED: none}.get(self.verdict, self.verdict.value)
        return f"K = {self.events} ({', '.join(self.kinds)}): {said}, {self.units:,} units"


@attrs.frozen
class DeepStory:
    """What the deep search found for one claim: a story from the empty book (or None), where it
    came from (``origin``), the bounded questions asked, and what it spent."""

    invariant: str
    story: Story | None
    step_index: int | None
    origin: str
    attempts: tuple[Attempt, ...] = ()
    units: int = 0
    examples: int = 0
    seconds: float = attrs.field(default=0.0, eq=False)

    @property
    def found(self) -> bool:
        return self.story is not None

    @property
    def events(self) -> int:
        """The story's events up to the failing one, the order book's depth deposit aside."""
        if self.story is None or self.step_index is None:
            return 0
        told = self.story.events[: self.step_index + 1]
        return sum(1 for e in told if not (isinstance(e, Deposit) and e.account == "liquidity"))


def _units(result: Any) -> int:
    return sum(q.units for q in result.queries)


def _one_minimal(policy: Policy, inv: Invariant, story: Story, failing: int) -> tuple[Story, int]:
    """The story cut after its failing event, then 1-minimal (``search.minimize``)."""
    cut = Story(story.book, story.events[: failing + 1])
    smallest = minimize(lambda s: fails(policy, inv, s), cut)
    steps = replay(policy, smallest)
    assert steps is not None, "a 1-minimal story replays: minimize keeps only failing ones"
    index = first_violation(policy, inv, steps)
    assert index is not None
    return smallest, index


def bounded_story(policy: Policy, invariant: Invariant | str, budget: DeepBudget = DeepBudget()) -> DeepStory:
    """Bounded model checking from a funded book: the shortest story (fewest events, then the
    cheaper kinds) z3 finds within the budget, rewritten from the empty book and 1-minimal; asked
    in a fresh process (:func:`_in_a_fresh_process`)."""
    inv = catalog.get(invariant) if isinstance(invariant, str) else invariant
    return _in_a_fresh_process(policy, inv, budget, False)[0]


def _bounded_story(policy: Policy, invariant: Invariant | str, budget: DeepBudget) -> DeepStory:
    """:func:`bounded_story` in this process."""
    inv = catalog.get(invariant) if isinstance(invariant, str) else invariant
    started = time.perf_counter()
    attempts: list[Attempt] = []
    spent = 0
    for k in range(1, budget.max_events + 1):
        for kinds in budget.kinds:
            left = budget.total - spent
            if left <= 0:
                return DeepStory(inv.id, None, None, "", tuple(attempts), spent, 0, time.perf_counter() - started)
            bounds = Bounds(
                accounts=budget.accounts, events=k, event_kinds=kinds, start="funded", effort=min(budget.effort, left)
            )
            result = prove(policy, inv, bounds, minimize=False, compositional=False, transfers=False)
            units = _units(result)
            spent += units
            attempts.append(Attempt(k, kinds, result.verdict, units, result.reason, budget.accounts))
            cx = result.counterexample
            if result.verdict is not Verdict.REFUTED or cx is None or cx.obligation != inv.id:
                continue
            story, failing = cx.story, cx.step_index
            built = from_empty(policy, inv, story, failing)
            if built is not None:
                story, failing = built.story, built.failing
            story, failing = _one_minimal(policy, inv, story, failing)
            return DeepStory(
                inv.id, story, failing, f"z3 (K = {k})", tuple(attempts), spent, 0, time.perf_counter() - started
            )
    return DeepStory(inv.id, None, None, "", tuple(attempts), spent, 0, time.perf_counter() - started)


# --- seeding the search with z3's end state ------------------------------------------------------


@attrs.frozen
class Seed:
    """A z3 counterexample as the search's starting point: the empty book, the events that build
    what they can of z3's starting book, and z3's events up to the failing one, each mark move as
    the ratio (new mark, mark before) it made in z3's story. ``profits``: the traders whose profit
    the opening builds by a round trip (:func:`profit_parts`), by name; ``losses``: those whose
    loss history it builds so (:func:`loss_parts`)."""

    book: Book
    opening: tuple[Event | _Cash, ...]
    tail: tuple[Event | tuple[int, int], ...]
    traders: int
    profits: tuple[str, ...] = ()
    losses: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, story: Story, failing: int, policy: Policy | None = None, invariant: Invariant | None = None
    ) -> Seed | None:
        """z3's state written as deposits and trades (``reachable.opening``). Given the policy and
        the claim, and when that opening followed by z3's events does not break the claim: the
        same with the profits of the fewest traders (:func:`profit_parts`; among as many, the
        first in the book's order) that make it break the claim, if any do; else the same with
        the profits and loss histories (:func:`loss_parts`) of the fewest traders."""
        plain = cls._of(story, failing, {})
        if plain is None or policy is None or invariant is None or _fails_as_written(policy, invariant, plain):
            return plain
        profits = _profits(story.book)
        every = profits | {n: -loss for n, loss in _losses(story.book).items() if n not in profits}
        for candidates in (profits, dict(sorted(every.items(), key=lambda kv: story.book.index(kv[0])))):
            for size in range(1, len(candidates) + 1):
                for names in itertools.combinations(candidates, size):
                    if candidates is not profits and all(n in profits for n in names):
                        continue  # asked with the profits alone
                    built = cls._of(story, failing, {n: candidates[n] for n in names})
                    if built is not None and _fails_as_written(policy, invariant, built):
                        return built
        return plain

    def fails_as_written(self, policy: Policy, invariant: Invariant) -> bool:
        """Its opening then z3's events, nothing drawn between, break the claim."""
        return _fails_as_written(policy, invariant, self)

    @classmethod
    def _of(cls, story: Story, failing: int, histories: dict[str, int]) -> Seed | None:
        """The seed with each trader of ``histories`` given its profit (a positive amount) or its
        loss history (a negative one) by a round trip."""
        plan = opening(story.book, with_maker=bool(histories))
        if plan is None:
            return None
        empty, deposits, trades = plan
        tail: list[Event | tuple[int, int]] = []
        mark = story.book.market.mark_quote
        for event in story.events[: failing + 1]:
            if isinstance(event, MarkPrice) and not event.market:
                tail.append((event.price_quote, mark))
                mark = event.price_quote
            else:
                tail.append(event)
        known = {a.name for a in story.book.accounts}
        maker = next((a.name for a in empty.traders if a.name not in known), None)
        if not histories or maker is None:
            head = opening_events(story.book, deposits, trades)
            return cls(empty, head, tuple(tail), len(empty.traders))
        profits = {n: v for n, v in histories.items() if v > 0}
        losses = {n: -v for n, v in histories.items() if v < 0}
        parts = profit_parts(story.book, profits, maker, deposits)
        parts += loss_parts(story.book, losses, maker, deposits)
        head = opening_events(story.book, deposits, ())  # the deposits, as the round trips set them
        return cls(empty, (*head, *parts, *trades), tuple(tail), len(empty.traders), tuple(profits), tuple(losses))


@attrs.frozen
class _Cash:
    """A part of a seed's opening: ``account``'s cash brought to ``cash_quote`` on the book it
    meets, by a withdrawal of what it holds above it (a deposit of what it lacks), so that what
    the round trip's fees took or a scaled deposit gave does not move the balance z3 chose."""

    account: str
    cash_quote: int
    #: False: only a deposit of what it lacks (a withdrawal would bring the principal down to the
    #: cash, and with it a loss history the round trip built)
    withdraw: bool = True


def _profits(book: Book) -> dict[str, int]:
    """Each trader's profit in z3's state that deposits and trades at the mark do not give: the
    larger of its window PnL and its cash over its principal, on the tick grid (a fill's PnL is
    lots × ticks); traders with none left out, and isolated positions (rebuilt by their owner)."""
    tick = book.market.tick_quote
    out = {}
    for a in book.traders:
        profit = max(a.window_pnl_quote, a.cash_quote - a.principal_quote, 0)
        profit -= profit % tick
        if profit > 0 and not a.owner:
            out[a.name] = profit
    return out


def profit_parts(book: Book, profits: dict[str, int], maker: str, deposits: dict[str, int]) -> tuple[Any, ...]:
    """The round trips that give each trader of ``profits`` its profit P as a venue would: it sells
    one lot to ``maker`` at the mark plus P, which pays it P against the mark (settle-to-mark:
    trading PnL, so window PnL too), and buys the lot back at the mark; then its cash is brought to
    z3's (:class:`_Cash`), so the part of the profit z3's state no longer holds reads as withdrawn.
    ``deposits`` is changed in place: the trader deposits at least one lot's notional (the trip's
    initial margin, at most the notional), and ``maker`` enough for every trip besides its own."""
    mark = book.market.mark_quote
    parts: list[Any] = []
    for name, profit in profits.items():
        cash = book.account(name).cash_quote
        deposits[name] = max(cash - profit, mark)
        deposits[maker] = deposits.get(maker, 0) + 2 * (mark + profit)  # the profit, margin and fees
        parts += [
            Trade(maker, name, 1, mark + profit, Taker.BUYER),
            Trade(name, maker, 1, mark, Taker.SELLER),
            _Cash(name, max(cash, 0)),
        ]
    return tuple(parts)


def _losses(book: Book) -> dict[str, int]:
    """Each trader's loss history in z3's state that deposits and trades at the mark do not give
    (they leave its principal at its cash): its principal above its cash, rounded up to the tick
    grid; traders with none left out, and isolated positions."""
    tick = book.market.tick_quote
    out = {}
    for a in book.traders:
        loss = a.principal_quote - max(a.cash_quote, 0)
        loss += -loss % tick
        if loss > 0 and not a.owner:
            out[a.name] = loss
    return out


def loss_parts(book: Book, losses: dict[str, int], maker: str, deposits: dict[str, int]) -> tuple[Any, ...]:
    """The round trips that give each trader of ``losses`` a loss history L (its principal L above
    its cash) as a venue would: it deposits its cash and L (at least one lot's notional and L, so
    that the trip's margin is covered), buys one lot from ``maker`` at the mark plus L, which costs
    it L against the mark (trading PnL, as :func:`profit_parts`' gain), and sells it back at the
    mark; then its cash is brought up to z3's by a deposit where a fee took some (never down: a
    withdrawal brings the principal down to the cash). ``maker`` is the taker of both fills (it
    pays their fees) and withdraws the L it gained, so the trip leaves it no profit.
    ``deposits`` is changed in place, as :func:`profit_parts` changes it."""
    mark = book.market.mark_quote
    parts: list[Any] = []
    for name, loss in losses.items():
        cash = max(book.account(name).cash_quote, 0)
        deposits[name] = max(cash, mark) + loss
        deposits[maker] = deposits.get(maker, 0) + 2 * mark  # margin for a lot, and the fees
        parts += [
            Trade(name, maker, 1, mark + loss, Taker.SELLER),
            Trade(maker, name, 1, mark, Taker.BUYER),
            Withdraw(maker, loss),
            _Cash(name, cash, withdraw=False),
        ]
    return tuple(parts)


def _fails_as_written(policy: Policy, inv: Invariant, seed: Seed) -> bool:
    """The seed's opening then z3's events, with nothing drawn between, break the claim."""
    return fails(policy, inv, _played(policy, seed.book, (*seed.opening, *seed.tail)))


def _played(policy: Policy, book: Book, parts: Sequence[Any]) -> Story:
    """Each part on the book it meets: a concrete event, a search action (resolved there) or a mark
    ratio (the mark scaled by it, on the tick grid); what the engine rejects or means nothing is
    dropped. The order book's depth is deposited first, as in every searched story."""
    steps: list[Step] = []
    current = book
    for part in (Deposit("liquidity", LIQUIDITY_QUOTE), *parts):
        if isinstance(part, _Cash):
            have = current.account(part.account).cash_quote
            event = (
                Withdraw(part.account, have - part.cash_quote)
                if have > part.cash_quote and part.withdraw
                else Deposit(part.account, part.cash_quote - have)
                if have < part.cash_quote
                else None
            )
        elif isinstance(part, tuple):
            mark, tick = current.market.mark_quote, current.market.tick_quote
            scaled = div(mark * part[0], part[1], rounding=Rounding.FLOOR)
            price = max(on_tick(scaled, tick, rounding=Rounding.FLOOR), tick)
            event = MarkPrice(price) if price != mark else None
        elif isinstance(part, Event):
            event = part
        else:
            event = act.resolve(policy, current, part)
        if event is None:
            continue
        try:
            s = step(policy, current, event)
        except RejectedEvent:
            continue
        steps.append(s)
        current = s.after
    return Story(book, tuple(s.event for s in steps))


def seeded_stories(
    policy: Policy, seed: Seed, max_events: int = 6, take_profits: bool = False
) -> st.SearchStrategy[Story]:
    """Stories from the seed's empty book: its opening deposits (each scaled by one drawn factor,
    so that hypothesis may trade z3's small balances for larger ones) and trades, up to
    ``max_events`` drawn actions of the search's own vocabulary (``take_profits`` as the search's
    own: ``search.TAKE_PROFIT_CLAIMS``), then z3's failing events. Shrinks toward the seed itself
    (factor 1, no drawn action)."""
    from hypothesis import strategies as st  # only where a search runs: not at import (``solvent check``)

    from solvent.properties.strategies import events

    traders = max(seed.traders, 2)

    @st.composite
    def draw(draw: Any) -> Story:
        scale = draw(st.integers(1, 10**6), label="deposit scale")
        opening_part = [
            Deposit(e.account, e.amount_quote * scale) if isinstance(e, Deposit) else e for e in seed.opening
        ]
        middle = draw(events(traders=traders, min_size=0, max_size=max_events, take_profits=take_profits))
        parts = [*opening_part, *(one for drawn in middle for one in act.steps_of(drawn)), *seed.tail]
        return _played(policy, seed.book, parts)

    return draw()


def seeded_search(
    policy: Policy, invariant: Invariant | str, seed: Seed, budget: SearchBudget, max_events: int = 6
) -> SearchResult:
    """The search (``search.search_with``: the same judging, pressure, shrinking and 1-minimizing)
    over :func:`seeded_stories`."""
    from solvent.properties.search import search_with

    inv = catalog.get(invariant) if isinstance(invariant, str) else invariant
    strategy = seeded_stories(policy, seed, max_events, take_profits=inv.id in TAKE_PROFIT_CLAIMS)
    return search_with(policy, inv, budget, strategy)


def one_step_seed(policy: Policy, inv: Invariant, budget: DeepBudget) -> tuple[Seed | None, int]:
    """z3's one-mark-move counterexample from a well-formed book (the state a seed starts from),
    and the units the question spent, asked in a fresh process (:func:`_in_a_fresh_process`)."""
    _, seed, units = _in_a_fresh_process(policy, inv, attrs.evolve(budget, total=0), True)
    return seed, units


def _one_step_seed(policy: Policy, inv: Invariant, budget: DeepBudget) -> tuple[Seed | None, int]:
    """:func:`one_step_seed` in this process: z3's state from every well-formed book; where that
    seed does not break the claim as written (:meth:`Seed.fails_as_written`), z3's state from a
    book where only the traders have traded (``Bounds.start = "traded"``), whose system accounts
    the opening writes exactly, kept if its seed does break the claim as written
    (docs/solver-notes.md#a-seeds-loss-history-built-issue-18)."""
    seed, units = _seed_from(policy, inv, budget, "well-formed")
    if seed is None or seed.fails_as_written(policy, inv):
        return seed, units
    traded, more = _seed_from(policy, inv, budget, "traded")
    if traded is not None and traded.fails_as_written(policy, inv):
        return traded, units + more
    return seed, units + more


def _seed_from(policy: Policy, inv: Invariant, budget: DeepBudget, start: str) -> tuple[Seed | None, int]:
    """z3's one-mark-move counterexample from a book of ``start`` (``Bounds.start``) as a seed, and
    the units the question spent."""
    bounds = Bounds(accounts=budget.accounts, events=1, event_kinds=("mark",), effort=budget.effort, start=start)
    result = prove(policy, inv, bounds, minimize=False, compositional=False, transfers=False)
    cx = result.counterexample
    if result.verdict is not Verdict.REFUTED or cx is None or cx.obligation != inv.id:
        return None, _units(result)
    return Seed.of(cx.story, cx.step_index, policy, inv), _units(result)


def _z3_part(
    policy: Policy, invariant: Invariant | str, budget: DeepBudget, want_seed: bool
) -> tuple[DeepStory, Seed | None, int]:
    """Bounded model checking, then (when it found nothing and ``want_seed``) z3's one-step seed."""
    inv = catalog.get(invariant) if isinstance(invariant, str) else invariant
    bounded = _bounded_story(policy, inv, budget)
    if bounded.found or not want_seed:
        return bounded, None, 0
    start, units = _one_step_seed(policy, inv, budget)
    return bounded, start, units


def _in_a_fresh_process(policy: Policy, inv: Invariant, budget: DeepBudget, want_seed: bool) -> Any:
    """:func:`_z3_part` in a fresh interpreter (``python -c``, not a fork): z3's models depend on
    the questions its process asked before (the same question asked twice in one process gave two
    different one-step counterexamples), so a deep story would depend on what else the process had
    run (the other claims, the other policies, the tests before it). A fresh process makes it a
    function of the policy, the claim and the budget. A claim registered in the caller's own code
    is unknown to a fresh process: it is asked here instead."""
    if not catalog.builtin(inv.id):
        return _z3_part(policy, inv, budget, want_seed)
    import pickle
    import subprocess
    import sys

    asked = pickle.dumps((policy, inv.id, budget, want_seed))
    code = "from solvent.solver.deep_stories import _answer_on_stdout; _answer_on_stdout()"
    done = subprocess.run([sys.executable, "-c", code], input=asked, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the deep-story z3 process failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return pickle.loads(done.stdout)


def _answer_on_stdout() -> None:
    """The fresh process's side of :func:`_in_a_fresh_process`: the question on stdin, the answer on
    stdout, both pickled."""
    import pickle
    import sys

    policy, inv_id, budget, want_seed = pickle.loads(sys.stdin.buffer.read())
    answer = _z3_part(policy, inv_id, budget, want_seed)
    sys.stdout.buffer.write(pickle.dumps(answer))


def deep_story(
    policy: Policy,
    invariant: Invariant | str,
    budget: DeepBudget = DeepBudget(),
    seed: int | None = None,
    start: Seed | None = None,
) -> DeepStory:
    """Bounded model checking first; if it finds nothing within its units, the search seeded with
    z3's one-step counterexample (``start`` when the caller has it, else asked here;
    ``budget.examples`` examples; ``seed``: its random stream, else derandomized). z3's part runs
    in fresh processes (:func:`_in_a_fresh_process`), the bounded questions in one, the seed's in
    another, so each is the answer :func:`bounded_story` and :func:`one_step_seed` give alone."""
    inv = catalog.get(invariant) if isinstance(invariant, str) else invariant
    started = time.perf_counter()
    bounded = attrs.evolve(bounded_story(policy, inv, budget), seconds=time.perf_counter() - started)
    if bounded.found or budget.examples <= 0:
        return bounded
    units = 0
    if start is None:
        start, units = one_step_seed(policy, inv, budget)
    spent = bounded.units + units
    if start is None:
        return attrs.evolve(bounded, units=spent, seconds=time.perf_counter() - started)
    search_budget = SearchBudget(max_examples=budget.examples, seed=seed)
    result = seeded_search(policy, inv, start, search_budget)
    return DeepStory(
        inv.id,
        result.story,
        result.step_index,
        "search seeded by z3 (K = 1)" if result.story is not None else "",
        bounded.attempts,
        spent,
        result.stats.examples,
        time.perf_counter() - started,
    )


__all__ = [
    "KINDS",
    "Attempt",
    "DeepBudget",
    "DeepStory",
    "Seed",
    "bounded_story",
    "deep_story",
    "loss_parts",
    "one_step_seed",
    "seeded_search",
    "seeded_stories",
]
