"""The search: hypothesis looks for the smallest story that breaks one invariant of a policy.

For each invariant, ``hypothesis.find`` draws stories (``strategies.stories``), runs them on the
concrete engine, judges the invariant after every step and pushes with ``target()`` toward larger
bad debt and larger haircuts. A story found is shrunk by hypothesis, then made 1-minimal by
:func:`minimize`: removing any one event, or any one account with all its events, no longer
fails. Statistics say how many examples ran, which engine paths fired, and whether the claim's
own path was ever exercised: a claim never exercised is reported as "not exercised", not passed.

Search says "none found", never "none exists" (that is the solver's job).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterable, Iterator, MutableSet, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, settings, target
from hypothesis.errors import NoSuchExample

from solvent.properties import catalog, draw_literals, progress
from solvent.properties.catalog import Invariant, StepView
from solvent.properties.played import (
    CI,
    DEEP,
    TAKE_PROFIT_CLAIMS,
    Outcome,
    SearchBudget,
    SearchResult,
    SearchStats,
    fails,
    first_violation,
    minimize,
    replay,
)
from solvent.properties.scenarios import Story
from solvent.properties.strategies import stories
from solvent.rules.engine import Step
from solvent.rules.ledger import HAIRCUT_REASONS
from solvent.rules.lending import lends_any
from solvent.rules.margin import equity
from solvent.rules.policy import Policy


def _pressure(policy: Policy, steps: Sequence[Step]) -> tuple[int, int]:
    """Bad debt (Σ negative equity) and haircuts paid, in quote quanta, for ``target()``."""
    after = steps[-1].after if steps else None
    bad_debt = 0 if after is None else sum(max(-equity(policy.margin, a), 0) for a in after.traders)
    haircut = sum(t.amount_quote for s in steps for t in s.transfers if t.reason in HAIRCUT_REASONS)
    return bad_debt, haircut


#: The packages whose integer literals the search's draws may use, as frozen in
#: :mod:`solvent.properties.draw_literals`: the engine's rules (tier floors, rates, the scenarios'
#: marks, PPM) and the search's own strategies. Not the reports, the command line, the solver or
#: the simulation: an edit there must not change which stories a seed draws (a new literal in the
#: money formatting once made the search miss a planted bug it had found).
SEARCH_PACKAGES = ("solvent.properties", "solvent.rules")


@functools.cache
def _solvent_constants(lends: bool = True) -> Any:
    """The literal pool the search's draws use (None where this hypothesis has no such pool): the
    integers frozen in :mod:`solvent.properties.draw_literals`, in hypothesis's order:
    ``BEFORE_LENDING`` without ``lends`` (a policy that lends nothing draws as before lending),
    ``WITH_LENDING`` with it (a lending policy draws as at 30f97e6), so a literal added to the
    rules since moves no draw.

    Only the integers: hypothesis takes a literal from the pool of the type it is drawing, and the
    search's strategies draw integers only (no text, floats or bytes), so the other pools are
    left empty. They used to be read from the source of :data:`SEARCH_PACKAGES` (65 modules
    parsed: 1.1 s at load 5 in every process that searched, in every ``solvent check`` and every
    subprocess of the test suite), which changed no draw."""
    try:
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - other hypothesis versions
        return None
    return Constants(integers=_InOrder(draw_literals.WITH_LENDING if lends else draw_literals.BEFORE_LENDING))


class _InOrder(MutableSet):
    """A set that iterates in the order its members were given (hypothesis picks a literal by its
    place in the pool's iteration, so the place is part of what a seed draws)."""

    def __init__(self, members: Iterable[Any] = ()) -> None:
        self._members = dict.fromkeys(members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __iter__(self) -> Iterator[Any]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: Any) -> None:
        self._members[member] = None

    def discard(self, member: Any) -> None:
        self._members.pop(member, None)


@contextlib.contextmanager
def same_draws_in_any_process(policy: Policy | None = None) -> Iterator[None]:
    """Hypothesis (6.131 on) mixes integer literals found in every local module loaded in
    ``sys.modules`` into its draws, so under one seed the stories drawn depended on which modules
    happened to be imported (a test run, a plugin, the CLI's imports). For the length of a search
    that pool is pinned to the literals of the engine's rules and the search's strategies
    (:data:`SEARCH_PACKAGES`), in a fixed order: a seed then means the same stories in any process
    running this version of Solvent, and an edit to the reports or the command line does not
    change them. (Pinning it
    empty instead cost real power: the round-trip-neutral searches on backpack and drift found
    nothing at the CI budget, and found their stories with Solvent's literals.) Where hypothesis
    has no such pool (older or newer internals) this does nothing; a finding's exact replay is
    its saved JSON file either way.

    With a ``policy`` that lends nothing the integers are ``draw_literals.BEFORE_LENDING``, so its
    stories are drawn exactly as before lending; with one that lends (or without a policy),
    ``draw_literals.WITH_LENDING``: either way a literal added to the rules moves no draw."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - other hypothesis versions
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    pool = _solvent_constants(policy is None or lends_any(policy))
    if original is None or cache is None or not hasattr(cache, "cache") or pool is None:  # pragma: no cover
        yield
        return
    cache.cache.clear()
    providers._get_local_constants = lambda: pool
    try:
        with shrinking_without_a_clock():
            yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


#: What a search's shrinking may take in seconds: in effect no limit, so that only hypothesis's
#: count of successful shrinks (``MAX_SHRINKS``, 500) ends it.
SHRINK_SECONDS = 10**9


@contextlib.contextmanager
def shrinking_without_a_clock() -> Iterator[None]:
    """Hypothesis stops shrinking a failure after ``MAX_SHRINKING_SECONDS`` (300 s) of wall time
    and shows the story it has by then (hypothesis/internal/conjecture/engine.py: "make it
    monkeypatchable, for the rare users who need to keep on shrinking"). On a loaded machine a
    long shrink would then end earlier than on an idle one and print another story: the story a
    check shows would depend on machine load. For the length of a search the limit is
    :data:`SHRINK_SECONDS`, so the shrink ends where its own counted limit (500 successful
    shrinks) or its fixpoint ends it, on any machine. Where hypothesis has no such constant this
    does nothing."""
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # pragma: no cover - other hypothesis versions
        yield
        return
    original = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if original is None:  # pragma: no cover - other hypothesis versions
        yield
        return
    engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = original


def search_settings(budget: SearchBudget, *, shrink: bool = True) -> settings:
    """Hypothesis settings for one search: no example database (findings files replay instead),
    no deadline, no explain phase (docs/solver-notes.md#no-explain-phase: it dominated time to report).

    Built on the active hypothesis profile, whose other settings (verbosity, backend, ...) apply;
    these are overridden, because a verdict must be a function of the policy and the options:
    ``max_examples`` (the budget's, ``--examples``), ``derandomize`` (the budget's; a seed is
    ``--seed``), ``database``, ``deadline``, ``phases``, the health checks and
    ``report_multiple_bugs`` (docs/model.md, hypothesis's two clocks)."""
    phases = (Phase.generate, Phase.target, Phase.shrink) if shrink else (Phase.generate, Phase.target)
    return settings(
        max_examples=budget.max_examples,
        database=None,
        derandomize=budget.derandomize,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        # generation ends at the first failure: with more than one bug reported, hypothesis keeps
        # generating after it until 10 s of wall time have passed (engine.should_generate_more),
        # so a loaded machine would shrink another failure. ``find`` (every search) forces this
        # already; said here so that it holds whatever a release does to ``find``
        report_multiple_bugs=False,
    )


def collateral_assets(policy: Policy) -> int:
    """How many collateral assets the search's books hold: one per ``[[collateral]]`` table of the
    policy, at most 3 (none for a policy without: its stories are drawn as before)."""
    return min(len(policy.collateral), 3)


def search(policy: Policy, invariant: Invariant | str, budget: SearchBudget = CI) -> SearchResult:
    """Look for the smallest story that breaks ``invariant``; say what was tried if none is found."""
    inv = catalog.get(invariant) if isinstance(invariant, str) else invariant
    take_profits = inv.id in TAKE_PROFIT_CLAIMS
    strategy = stories(
        policy,
        max_traders=budget.max_traders,
        max_events=budget.max_events,
        take_profits=take_profits,
        assets=collateral_assets(policy),
    )
    return search_with(policy, inv, budget, strategy)


def search_with(policy: Policy, inv: Invariant, budget: SearchBudget, strategy: Any) -> SearchResult:
    """:func:`search` over another strategy of stories (a seeded one: ``solvent.solver.deep_stories``):
    the same judging, pressure, budget, shrinking and 1-minimizing."""
    stats = SearchStats()
    start = time.perf_counter()

    def breaks(story: Story) -> bool:
        progress.report("search", inv.id, stats.examples, budget.max_examples, "examples")
        steps = replay(policy, story) or []
        exercised = sum(bool(inv.exercised(StepView.of(policy, s))) for s in steps)
        stats.record(steps, exercised)
        bad_debt, haircut = _pressure(policy, steps)
        target(float(bad_debt), label="bad debt")  # float only at hypothesis's edge
        target(float(haircut), label="haircut")
        failed = first_violation(policy, inv, steps) is not None
        if failed and stats.seconds_to_first is None:
            stats.seconds_to_first = time.perf_counter() - start
            stats.examples_to_first = stats.examples
        return failed

    config = search_settings(budget)
    try:
        with same_draws_in_any_process(policy):
            found = find(strategy, breaks, settings=config, random=budget.random())
    except NoSuchExample:
        stats.seconds_total = time.perf_counter() - start
        outcome = Outcome.NONE_FOUND if stats.exercised_steps else Outcome.NOT_EXERCISED
        return SearchResult(inv.id, outcome, stats)
    minimal = minimize(lambda s: fails(policy, inv, s), found)
    steps = replay(policy, minimal)
    assert steps is not None
    stats.seconds_total = time.perf_counter() - start
    return SearchResult(inv.id, Outcome.FOUND, stats, minimal, first_violation(policy, inv, steps))


def scan(policy: Policy, invariants: Sequence[Invariant], budget: SearchBudget = CI) -> dict[str, SearchStats]:
    """One pass of ``budget.max_examples`` stories judged against every invariant at once.

    Returns per-invariant statistics; ``seconds_to_first`` is set for the invariants some story
    broke. Cheaper than one search per invariant: the stories are drawn and run once.
    """
    stats = {inv.id: SearchStats() for inv in invariants}
    own = dict.fromkeys(stats, 0.0)
    start = time.perf_counter()

    @search_settings(budget, shrink=False)
    @given(
        stories(policy, max_traders=budget.max_traders, max_events=budget.max_events, assets=collateral_assets(policy))
    )
    def run_one(story: Story) -> None:
        done = next(iter(stats.values())).examples if stats else 0
        progress.report("search", f"{len(invariants)} claims", done, budget.max_examples, "examples")
        steps = replay(policy, story) or []
        views = [StepView.of(policy, s) for s in steps]
        bad_debt, haircut = _pressure(policy, steps)
        target(float(bad_debt), label="bad debt")  # float only at hypothesis's edge
        target(float(haircut), label="haircut")
        for inv in invariants:
            judging = time.perf_counter()
            st = stats[inv.id]
            st.record(steps, sum(bool(inv.exercised(v)) for v in views))
            if st.seconds_to_first is None and not all(inv.holds(v) for v in views):
                st.seconds_to_first = time.perf_counter() - start
                st.examples_to_first = st.examples
                st.first_story = story
            own[inv.id] += time.perf_counter() - judging

    with same_draws_in_any_process(policy):
        budget.seeded(run_one)()
    elapsed = time.perf_counter() - start
    shared = max(0.0, elapsed - sum(own.values())) / max(1, len(stats))
    for inv_id, st in stats.items():
        st.seconds_total = elapsed
        st.seconds_own = shared + own[inv_id]
    return stats


def _add_scan(stats: SearchStats, scanned: SearchStats) -> None:
    """Count the scan's examples and time into a search's statistics; the scan ran first."""
    stats.examples += scanned.examples
    stats.events += scanned.events
    stats.exercised_steps += scanned.exercised_steps
    stats.paths.update(scanned.paths)
    stats.seconds_own = stats.seconds_spent + scanned.seconds_spent
    if scanned.seconds_to_first is not None:
        stats.seconds_to_first = scanned.seconds_to_first
        stats.examples_to_first = scanned.examples_to_first
    elif stats.seconds_to_first is not None:
        stats.seconds_to_first += scanned.seconds_total
        stats.examples_to_first = (stats.examples_to_first or 0) + scanned.examples
    stats.seconds_total += scanned.seconds_total


def search_all(
    policy: Policy, invariants: Sequence[str] | None = None, budget: SearchBudget = CI
) -> list[SearchResult]:
    """Scan every invariant (or the named ones) in one pass, then shrink a story for each that broke.

    A claim in ``TAKE_PROFIT_CLAIMS`` the scan did not break gets its own search, which also draws
    take-profit actions (the scan does not, so as not to dilute every other claim's draws): its
    statistics then add that search's examples to the scan's.
    """
    chosen = [catalog.get(i) for i in (invariants or catalog.ids())]
    scanned = scan(policy, chosen, budget)
    results = []
    for inv in chosen:
        st = scanned[inv.id]
        if st.seconds_to_first is None and inv.id not in TAKE_PROFIT_CLAIMS:
            outcome = Outcome.NONE_FOUND if st.exercised_steps else Outcome.NOT_EXERCISED
            results.append(SearchResult(inv.id, outcome, st))
            continue
        found = search(policy, inv, budget)
        if found.story is None and st.first_story is not None:
            # the shrinking search did not meet it again: minimize the scan's own story instead
            story = minimize(lambda s, inv=inv: fails(policy, inv, s), st.first_story)
            steps = replay(policy, story)
            assert steps is not None
            found = SearchResult(inv.id, Outcome.FOUND, found.stats, story, first_violation(policy, inv, steps))
        _add_scan(found.stats, st)
        if found.story is None:  # a take-profit claim neither the scan nor its own search broke
            outcome = Outcome.NONE_FOUND if found.stats.exercised_steps else Outcome.NOT_EXERCISED
            found = SearchResult(inv.id, outcome, found.stats)
        results.append(found)
    return results


__all__ = [
    "CI",
    "DEEP",
    "Outcome",
    "SearchBudget",
    "SearchResult",
    "SearchStats",
    "fails",
    "first_violation",
    "minimize",
    "replay",
    "search",
    "search_all",
    "search_with",
]
