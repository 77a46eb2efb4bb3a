"""A story played on the concrete engine, and what a search says of a claim: without hypothesis.

:func:`replay` runs a story's events on the engine, :func:`first_violation` finds the first step
that breaks a claim, :func:`minimize` makes a failing story 1-minimal; :class:`SearchBudget`,
:class:`SearchResult` and :class:`SearchStats` are what a search is given and gives back. They are
here, not in :mod:`solvent.properties.search` (which re-exports them), so that what only replays
stories or reads a search's result (``solvent prove`` and ``solvent thresholds`` through
:mod:`solvent.properties.reachable` and ``solvent.solver.plain_book``, a check without a search,
the reports) does not import hypothesis: 0.2-0.3 s of CPU in every process that would
(docs/solver-notes.md#fixed-costs-processes-and-collection-session-28).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from random import Random
from typing import Any

import attrs

from solvent.properties.catalog import Invariant, StepView
from solvent.properties.scenarios import Story
from solvent.rules.engine import RejectedEvent, Step, run
from solvent.rules.events import Deposit, MarkPrice, SpotDeposit, Trade
from solvent.rules.outcomes import (
    AdlFill,
    Bankrupt,
    DebtCarried,
    DepositAbsorbed,
    LayerUsed,
    Liquidated,
    LoanExchanged,
    Residual,
    SettlementCut,
)
from solvent.rules.policy import Policy

#: Memos of the pure engine, so that hypothesis's shrinking (which replays many stories sharing a
#: prefix) does not run the same step twice: the steps ``strategies.play`` ran for its latest
#: stories (read by :func:`replay`); ``strategies`` keeps the step each (book, action) pair
#: resolved to. Keyed by the policy object's id, checked by identity.
_PLAYED: dict[Story, tuple[Policy, tuple[Step, ...]]] = {}
_MEMO_MAX = 4_096


def remember(memo: dict, key: object, value: object) -> None:
    """Keep ``value`` under ``key`` in a memo of at most 4,096 entries (emptied when full)."""
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value


def keep_played(policy: Policy, story: Story, steps: Sequence[Step]) -> None:
    """Remember the steps ``strategies.play`` ran for ``story`` under ``policy``."""
    remember(_PLAYED, story, (policy, tuple(steps)))


def played_steps(policy: Policy, story: Story) -> tuple[Step, ...] | None:
    """The steps ``strategies.play`` ran for ``story`` under ``policy`` (the same object), if still kept."""
    hit = _PLAYED.get(story)
    return hit[1] if hit is not None and hit[0] is policy else None


class Outcome(enum.Enum):
    FOUND = "found"
    NONE_FOUND = "none found"
    NOT_EXERCISED = "not exercised"


def _check_seed(_inst: Any, _attribute: Any, seed: int | None) -> None:
    if seed is not None and (type(seed) is not int or seed < 0):
        raise ValueError(f"'seed' must be a whole number >= 0: {seed!r}")


@attrs.frozen
class SearchBudget:
    """How hard to look: examples per invariant, story size, and which draws.

    ``seed`` None and ``derandomize`` (the CI default): the same stories every run, from
    hypothesis's derandomized stream. A ``seed``: the stories that seed draws, the same every run
    and different from another seed's (``solvent check --seed N``). Neither (``DEEP``): fresh draws
    each run, unless hypothesis's own seed is forced (``pytest --hypothesis-seed``)."""

    max_examples: int = 200
    max_traders: int = 3
    max_events: int = 8
    derandomize: bool = True
    seed: int | None = attrs.field(default=None, validator=_check_seed)

    def random(self) -> Random | None:
        """The random stream ``hypothesis.find`` draws from: the seed's, or None (the settings decide)."""
        return None if self.seed is None else Random(self.seed)

    def seeded(self, test: Any) -> Any:
        """A ``@given`` test drawing from this budget's seed (unchanged without one)."""
        if self.seed is None:
            return test
        import hypothesis  # a seeded search is running: hypothesis is loaded already

        return hypothesis.seed(self.seed)(test)


#: Claims whose path needs a trader that took a profit and went flat before a bankruptcy: their
#: search may also draw :class:`~solvent.properties.actions.TakeProfit` (a favourable move, then a
#: close of the whole position), a pair random actions rarely make.
TAKE_PROFIT_CLAIMS = frozenset({"flat-accounts-never-pay"})

CI = SearchBudget()
DEEP = SearchBudget(max_examples=5_000, max_events=12, derandomize=False)


@attrs.mutable
class SearchStats:
    """What the search did: examples, events, and which engine paths fired how often."""

    examples: int = 0
    events: int = 0
    exercised_steps: int = 0
    paths: Counter = attrs.field(factory=Counter)
    seconds_to_first: float | None = None
    #: the examples run up to and including the first failing one (None: none failed); the rest of
    #: ``examples`` is hypothesis's shrinking and the 1-minimizing pass
    examples_to_first: int | None = None
    seconds_total: float = 0.0
    #: the first story that broke the invariant during a scan (before shrinking)
    first_story: Story | None = None
    #: of ``seconds_total``, the part spent on this invariant alone where a scan judged several
    #: at once (its own judging plus an equal share of drawing and running the stories); None
    #: when the whole of ``seconds_total`` was this invariant's. A measurement only, as the others.
    seconds_own: float | None = None

    @property
    def seconds_spent(self) -> float:
        """Seconds spent on this invariant: its part of a shared scan, plus its own search."""
        return self.seconds_total if self.seconds_own is None else self.seconds_own

    def record(self, steps: Sequence[Step], exercised: int) -> None:
        self.examples += 1
        self.events += len(steps)
        self.exercised_steps += exercised
        for s in steps:
            self.paths[type(s.event).__name__] += 1
            for o in s.outcomes:
                self.paths.update(_path_names(o))


def _path_names(outcome: object) -> list[str]:
    if isinstance(outcome, LayerUsed):
        return [f"layer:{outcome.layer}"]
    if isinstance(outcome, AdlFill):
        return ["adl fill"] if outcome.lots else []
    names = {
        Liquidated: "liquidation",
        Bankrupt: "bankruptcy",
        DebtCarried: "debt carried",
        DepositAbsorbed: "deposit absorbed",
        LoanExchanged: "loan exchanged",
        Residual: "residual deficit",
        SettlementCut: "settlement deposit cut",
    }
    return [names[type(outcome)]] if type(outcome) in names else []


@attrs.frozen
class SearchResult:
    """One invariant's search: the minimal failing story (if any) and the statistics."""

    invariant: str
    outcome: Outcome
    stats: SearchStats
    story: Story | None = None
    step_index: int | None = None


def replay(policy: Policy, story: Story) -> list[Step] | None:
    """The story's steps on the concrete engine, or None if the policy rejects one of its events.

    A story the strategy just drew reuses the steps it ran to draw it (the engine is pure)."""
    played = played_steps(policy, story)
    if played is not None:
        return list(played)
    try:
        return run(policy, story.book, story.events)
    except RejectedEvent:
        return None


def first_violation(policy: Policy, invariant: Invariant, steps: Sequence[Step]) -> int | None:
    """Index of the first step that breaks the invariant."""
    for i, s in enumerate(steps):
        if not invariant.holds(StepView.of(policy, s)):
            return i
    return None


def fails(policy: Policy, invariant: Invariant, story: Story) -> bool:
    steps = replay(policy, story)
    return steps is not None and first_violation(policy, invariant, steps) is not None


def _mentions(event: object, name: str) -> bool:
    return name in {getattr(event, f, None) for f in ("account", "buyer", "seller")}


def _without_trader(story: Story, name: str) -> Story:
    """The story without the trader ``name``, its isolated positions (an isolated position is an
    account of the book whose owner must be one of its traders: docs/portfolio.md decision 3a) and
    every event naming any of them."""
    gone = {name} | {a.name for a in story.book.accounts if a.owner == name}
    accounts = tuple(a for a in story.book.accounts if a.name not in gone)
    events = tuple(e for e in story.events if not any(_mentions(e, n) for n in gone))
    return Story(attrs.evolve(story.book, accounts=accounts), events)


def _merged(story: Story) -> Iterator[Story]:
    """The story with two adjacent events folded into one: deposits to the same account, or trades
    between the same buyer and seller at the same price and taker (one event fewer, same flows)."""
    events = story.events
    for i in range(len(events) - 1):
        a, b = events[i], events[i + 1]
        if type(a) is not type(b):
            continue
        if isinstance(a, Deposit) and a.account == b.account:
            yield Story(
                story.book, events[:i] + (Deposit(a.account, a.amount_quote + b.amount_quote),) + events[i + 2 :]
            )
        if isinstance(a, Trade) and (a.buyer, a.seller, a.price_quote, a.taker) == (
            b.buyer,
            b.seller,
            b.price_quote,
            b.taker,
        ):
            yield Story(story.book, events[:i] + (attrs.evolve(a, lots=a.lots + b.lots),) + events[i + 2 :])


def _rebased(story: Story) -> Iterator[Story]:
    """The story with a mark move that only deposits precede folded into the starting mark."""
    for i, event in enumerate(story.events):
        if isinstance(event, MarkPrice):
            market = attrs.evolve(
                story.book.market, mark_quote=event.price_quote, previous_mark_quote=event.price_quote
            )
            yield Story(attrs.evolve(story.book, market=market), story.events[:i] + story.events[i + 1 :])
        if not isinstance(event, (Deposit, SpotDeposit)):
            return


def _gap_for(story: Story, i: int) -> Iterator[Story]:
    """The story without event ``i`` and with its last event, a mark move, twice as far: an event
    that only nudges an account past a threshold before the gap is a larger gap, one event fewer."""
    events = story.events
    last = events[-1]
    if i >= len(events) - 1 or not isinstance(last, MarkPrice):
        return
    previous = next(
        (e.price_quote for e in reversed(events[:-1]) if isinstance(e, MarkPrice)), story.book.market.mark_quote
    )
    further = last.price_quote + (last.price_quote - previous)
    if further > 0 and further != last.price_quote:
        yield Story(story.book, events[:i] + events[i + 1 : -1] + (MarkPrice(further),))


def _fewer(story: Story) -> Iterator[Story]:
    """Stories one account or one event shorter than ``story``, most reduced first."""
    if len(story.book.traders) > 1:
        yield from (_without_trader(story, a.name) for a in story.book.traders)
    yield from (Story(story.book, story.events[:i] + story.events[i + 1 :]) for i in range(len(story.events)))
    yield from _merged(story)
    yield from _rebased(story)
    for i in range(len(story.events) - 1):
        yield from _gap_for(story, i)


def minimize(still_fails: Callable[[Story], bool], story: Story) -> Story:
    """Make the story 1-minimal: drop single events and whole accounts while it still fails.

    Also folds two adjacent deposits (or trades of the same pair at one price) into one, a mark
    move made before any trade into the starting mark, and an event before a final gap into a gap
    twice as deep, while it still fails: one event fewer that hypothesis's shrinking, working on
    the drawn actions, can miss.
    """
    while True:
        smaller = next((candidate for candidate in _fewer(story) if still_fails(candidate)), None)
        if smaller is None:
            return story
        story = smaller


__all__ = [
    "CI",
    "DEEP",
    "TAKE_PROFIT_CLAIMS",
    "Outcome",
    "SearchBudget",
    "SearchResult",
    "SearchStats",
    "fails",
    "first_violation",
    "keep_played",
    "minimize",
    "played_steps",
    "remember",
    "replay",
]
