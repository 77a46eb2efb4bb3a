"""A z3 story told from an empty book: the events that build its starting book, then its own.

z3 answers with a state: a book of balances and positions and the event that breaks the claim.
Issue 18 asks that a person be shown how a venue gets there, "a starting book reachable from an
empty one by deposits and trades (shown as those events)". Three routes are tried, the first that
reaches the story's book and breaks the claim at z3's own event kept:

1. deposits and trades at the story's own mark (``properties.reachable.from_empty``);
2. the positions opened on one side at an earlier mark, with the margin a trade needs, then one move
   to the story's mark (:func:`opened_first`, ``plain_book.opened_before_a_move``): a trader z3 left
   only just above maintenance, which no trade at the mark opens;
3. a history of trades and moves against each trader that needs one (``solver.history.with_history``:
   a loss below its principal, both sides moved against, a system account's position taken over).

Where none does, the story is told as z3's state. ``solvent check`` and ``solvent prove`` tell a
z3 story by this one function, so the command a finding prints to show its story again shows the
same events (docs/solver-notes.md#stories-told-from-an-empty-book-through-a-history-issue-18).
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.properties.catalog import Invariant
from solvent.properties.played import first_violation, replay
from solvent.properties.reachable import Built, from_empty
from solvent.properties.scenarios import Story
from solvent.rules.policy import Policy
from solvent.solver.history import with_history
from solvent.solver.plain_book import opened_before_a_move
from solvent.solver.verdicts import Counterexample


def told_from_empty(policy: Policy, invariant: Invariant, cx: Any, bounds: Any) -> Built | None:
    """``cx`` (a story breaking ``invariant`` at ``cx.step_index``) told from an empty book by the
    first route that reaches it (the module docstring), or None where none does. ``bounds``: the
    proof's, within which the book reached must break the claim (None: the first route only)."""
    built = from_empty(policy, invariant, cx.story, cx.step_index) or opened_first(policy, invariant, cx, bounds)
    if built is None and bounds is not None:
        built = with_history(policy, invariant, cx.story, cx.step_index, bounds)
    return built


def opened_first(policy: Policy, invariant: Invariant, cx: Any, bounds: Any) -> Built | None:
    """A one-mark-move z3 story whose book deposits and trades at its own mark do not reach (a trader
    only above maintenance, which no trade at the mark opens: its initial margin is not met) told
    from an empty book as the positions opened at an earlier mark with the margin a trade needs, then
    one move to the story's mark, then the story's move (``plain_book.opened_before_a_move``, the
    path a threshold's story takes); None where that does not reach it either. The book reached
    breaks the claim at the same event within the proof's ``bounds``, replayed here once more."""
    if bounds is None or cx.step_index != 0 or len(cx.story.events) != 1:
        return None
    plain = opened_before_a_move(policy, invariant, cx.story, bounds)
    if plain is None or plain.empty is None:
        return None
    story = Story(plain.empty, plain.opening + plain.story.events)
    steps = replay(policy, story)
    failing = len(plain.opening)
    if steps is None or first_violation(policy, invariant, steps) != failing:
        return None
    return Built(story, failing, failing, tuple(steps))


def told(policy: Policy, invariant: Invariant, cx: Counterexample, bounds: Any) -> Counterexample:
    """``cx`` told from an empty book where a route reaches it (:func:`told_from_empty`,
    :func:`as_counterexample`), else ``cx`` as z3 found it: how ``solvent check`` and ``solvent
    prove`` both tell a z3 story."""
    built = told_from_empty(policy, invariant, cx, bounds)
    return cx if built is None else as_counterexample(cx, built)


def as_counterexample(cx: Counterexample, built: Built) -> Counterexample:
    """``cx`` told by ``built``: its events from the empty book, the steps the engine ran, the
    failing step's index, and its detail saying that step and what came before it ("fails after
    event 9 (z3's event 1, after 8 that build its book from an empty one)"; what follows the first
    "; " kept: the least move's line)."""
    _, sep, rest = cx.detail.partition("; ")
    before = f"{built.prefix} that build{'s' if built.prefix == 1 else ''} its book from an empty one"
    detail = f"{cx.obligation} fails after event {built.failing + 1} (z3's event {cx.step_index + 1}, after {before})"
    detail += sep + rest if sep else ""
    return attrs.evolve(
        cx, story=built.story, steps=built.steps[: built.failing + 1], step_index=built.failing, detail=detail
    )


__all__ = ["as_counterexample", "opened_first", "told", "told_from_empty"]
