"""Every planted bug found by the deep-story search (solver/deep_stories.py) at its default budget.

``deep_story``: z3 over K ≤ 3 events from a funded book, then the search seeded with z3's one-step
state (benchmarks/bench_planted.py --deep-stories: 13 by z3 at K <= 3, four by the seeded search
at its first example, z3's state written as deposits, trades and, where it needs one, a trader's
profit or loss history built by a round trip; ``haircut-last-layer``'s from z3's second, "traded"
seed, docs/solver-notes.md#a-seeds-loss-history-built-issue-18). Each story starts from the empty
book, replays, first fails at its last event, is 1-minimal, and keeps the claim (or cannot happen)
once the planted field is fixed (``test_planted.fixed``). About 40 s a policy where z3 finds nothing
and the seeded search must, so these run with ``-m deep``; the default suite runs one of each kind
of answer (tests/solver/test_deep_stories.py).
"""

from __future__ import annotations

import functools

import pytest
from test_planted import PLANTED, PolicyFile, fixed

from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.properties.search import fails, first_violation, replay
from solvent.solver.deep_stories import DeepBudget, DeepStory, deep_story

#: what the planted set needs (benchmarks/bench_planted.py --deep-stories): no more
MAX_EVENTS = 8
BY_STEM = {p.stem: p for p in PLANTED}
#: found in one measurement and not in another after engine changes moved the seeded search's draws
#: (z3 leaves K >= 2 undecided on it): not strict, the search is sensitive to every draw. Empty since
#: haircut-last-layer's seed fails as written (its "traded" seed, bob's loss history built): every
#: planted bug is found at the seeded search's first example or by z3
FRAGILE: dict[str, str] = {}


def _param(plant: PolicyFile) -> object:
    marks = [pytest.mark.xfail(strict=False, reason=FRAGILE[plant.stem])] if plant.stem in FRAGILE else []
    return pytest.param(plant, marks=marks, id=plant.stem)


@functools.cache
def found(stem: str) -> DeepStory:
    plant = BY_STEM[stem]
    return deep_story(plant.policy, plant.expect, DeepBudget())


@pytest.mark.deep
@pytest.mark.parametrize("plant", [_param(p) for p in PLANTED])
def test_found_from_the_empty_book_and_repaired_by_the_fix(plant: PolicyFile) -> None:
    result = found(plant.stem)
    assert result.found, (result.origin, [a.text for a in result.attempts], result.examples)
    assert result.origin.startswith(("z3 (K = ", "search seeded by z3"))
    story, inv = result.story, catalog.get(plant.expect)
    assert all(a.size_lots == 0 for a in story.book.accounts)  # positions come from its own trades
    steps = replay(plant.policy, story)
    assert steps is not None and first_violation(plant.policy, inv, steps) == result.step_index == len(steps) - 1
    for i in range(len(story.events)):
        assert not fails(plant.policy, inv, Story(story.book, story.events[:i] + story.events[i + 1 :]))
    assert result.events <= MAX_EVENTS
    # the fix keeps the claim on the same story, or makes the story impossible (spot that no longer
    # backs margin cannot open the position the seeded story opens with spot alone)
    repaired = replay(fixed(plant), story)
    assert repaired is None or first_violation(fixed(plant), inv, repaired) is None
