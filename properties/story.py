"""A story (a starting book and the events that follow) and a scenario (a named story generator).

The records every story source shares: the named stress scenarios (``solvent.properties.scenarios``),
the incident replays (``solvent.properties.incidents``), the search and the counterexample database.
They live apart from both scenario modules so that ``scenarios`` can register the incidents
explicitly (it imports ``incidents``, which needs only these records).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from solvent.rules.book import Book
from solvent.rules.events import Event
from solvent.rules.fields import python_repr
from solvent.rules.policy import Policy


@python_repr
@attrs.frozen
class Story:
    """A starting book and the events that follow."""

    book: Book
    events: tuple[Event, ...]


class ScenarioError(ValueError):
    """A scenario that cannot be told on this policy (it needs something the policy does not
    declare, e.g. a collateral asset); the message names what, and ``solvent check`` exits 2."""


class Untold(ScenarioError):
    """A scenario whose story this policy's own rules do not let unfold: an event refused while the
    story is told, or a step that leaves the book short of what the next part needs (a position the
    policy closed earlier than the story assumed). Not bad input: ``solvent check`` reports the
    scenario as not told, with this message, and judges the rest (``verdicts.check.run_scenario``)."""


@attrs.frozen
class Scenario:
    """A named, deterministic story generator."""

    name: str
    summary: str
    build: Callable[[Policy], Story] = attrs.field(repr=False)


__all__ = ["Scenario", "ScenarioError", "Story", "Untold"]
