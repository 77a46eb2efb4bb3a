"""A claim the policy accepts as failing, over K > 1 events: its story searched on one event first.

Drift accepts ``spot-isolated`` (its trigger and bankruptcy count spot deposits: docs/venues.md#drift-v2).
The story is one trader over one move (found in 479,923-507,191 units, its claim exact first, as
its share is 0.6M-3M); the same book over three moves is undecided within 5M, so at N = 3, K = 3 (20M) the cell was undecided
where N = 4 and N = 8 at K = 1 refute it. ``solver.prove._small_scope_first`` now searches one event,
smallest book first, for such a claim where the smaller books at K did not refute it
(docs/solver-notes.md#accepted-claims-on-one-event-first-at-k--3-session-23).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.solver import effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import ONE_EVENT_SHARE, _accepted_on_one_event, _bounded, _small_scope_first, prove
from solvent.solver.verdicts import Verdict

CLAIM = "spot-isolated"
#: the one-event story's build on one trader (its z3 search 293,159-320,427 units by its share)
BUILD_UNITS = 186_764


def _drift(accepts: bool = True):  # noqa: ANN202
    policy = resolve_policy("drift")
    assert CLAIM in policy.accepts
    return policy if accepts else attrs.evolve(policy, accepts=tuple(c for c in policy.accepts if c != CLAIM))


def _one_trader_three_moves(policy) -> Bounds:  # noqa: ANN001
    return for_policy(Bounds(accounts=1, events=3, effort=1_000_000), policy)


def test_the_one_event_search_finds_the_story_of_one_move_within_its_share() -> None:
    policy = _drift()
    bounds = _one_trader_three_moves(policy)
    counts = []
    # the same share twice (units decide); a third ask at 3 × 1M (session 27 and before) asked the same
    # story again within a larger share: the share's bound is this one's, at the boundary the
    # story needs (479,923-507,191 units of 600,000)
    for units in (3 * 600_000, 3 * 600_000):
        found, spent = _accepted_on_one_event(policy, catalog.get(CLAIM), bounds, 1, units)
        assert found is not None and found.verdict is Verdict.REFUTED
        assert spent[0].name == "build" and spent[0].units == BUILD_UNITS
        counts.append(sum(q.units for q in spent))
        assert counts[-1] <= units // ONE_EVENT_SHARE
        story = found.counterexample.story
        assert len(story.events) == 1  # a story of one move: within K = 3
        assert found.counterexample.step_index == 0
    assert counts[0] == counts[1]  # units decide: the same share, the same count


def test_a_share_short_of_the_story_finds_nothing_and_counts_what_it_spent() -> None:
    policy = _drift()
    found, spent = _accepted_on_one_event(
        policy, catalog.get(CLAIM), _one_trader_three_moves(policy), 1, ONE_EVENT_SHARE * 300_000
    )
    assert found is None
    assert 0 < sum(q.units for q in spent) <= 300_000


def test_only_a_claim_the_policy_accepts_is_searched_on_one_event() -> None:
    """The mutant: the same claim on a drift that does not accept it asks the three-move question
    alone, which stays undecided within the same units (the search is the accepted claims' only)."""
    bounds = _one_trader_three_moves(_drift())
    # each a question of its own: what z3 spends must not depend on what this worker asked before (in
    # one xdist worker's order the second question was once refuted, in a fresh process it is partial)
    with effort.question():
        accepted = _small_scope_first(_drift(), catalog.get(CLAIM), bounds, units=1_800_000)
    assert accepted.verdict is Verdict.REFUTED
    assert accepted.units <= 600_000
    assert accepted.scope.accounts == 1 and accepted.scope.events == 3
    with effort.question():
        not_accepted = _small_scope_first(_drift(accepts=False), catalog.get(CLAIM), bounds, units=1_800_000)
    assert not_accepted.verdict is not Verdict.REFUTED


def test_one_event_asks_nothing_new() -> None:
    """At K = 1 the question is what it was: N's own pass alone, nothing searched before it."""
    policy = _drift()
    one = for_policy(Bounds(accounts=1, events=1, effort=1_000_000), policy)
    with effort.question():  # each a question of its own: units independent of what the process asked
        outcome = _small_scope_first(policy, catalog.get(CLAIM), one, units=1_000_000)
    with effort.question():
        alone = _bounded(policy, catalog.get(CLAIM), one, 1_000_000)
    assert outcome.verdict is Verdict.REFUTED and alone.verdict is Verdict.REFUTED
    assert outcome.units == alone.units


@pytest.mark.deep
def test_drift_spot_isolated_refuted_at_three_traders_and_three_moves() -> None:
    """The catalog's cell at N = 3, K = 3 (20M): undecided at eca22b5 (18,547,256 units), refuted now."""
    result = prove("drift", CLAIM, Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED
    assert result.units < 20_000_000
