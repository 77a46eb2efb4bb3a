"""The one function a simulation runs a path through: ``PathEngine``.

A path engine takes the policy, the empty book, the setup events (deposits and opening trades),
the mark events and what the book drew, and returns the path's :class:`PathOutcome`. The default,
:func:`exact`, steps the exact engine (``solvent.rules.engine.step``) event by event and reads
each step's transfers and outcomes (:class:`~solvent.simulation.outcome.Tally`). A faster engine
(vectorized over accounts or paths) plugs in here with the same signature and must return the
same outcome, field for field; a differential test against :func:`exact` is its contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Event
from solvent.rules.policy import Policy
from solvent.simulation.outcome import PathOutcome, Tally
from solvent.simulation.population import Population
from solvent.simulation.scenario import UnrunnableScenario


class SetupRejected(UnrunnableScenario):
    """The policy refused an event that opens the book: the scenario cannot be run on it."""


PathEngine = Callable[[Policy, Population, Sequence[Event], int], PathOutcome]


def exact(policy: Policy, population: Population, marks: Sequence[Event], index: int) -> PathOutcome:
    """Path ``index`` on the exact engine: the setup, then every mark event, read as it runs."""
    book = population.book
    for event in population.setup:
        try:
            book = step(policy, book, event).after
        except RejectedEvent as exc:
            raise SetupRejected(
                f"path {index}: the policy refuses an opening event: {exc.reason} ({event!r})"
            ) from None
    tally = Tally(policy, population.deposits_quote)
    tally.start(book)
    offset = len(population.setup)
    for i, event in enumerate(marks):
        s = step(policy, book, event)
        tally.add(offset + i, s)
        book = s.after
    return tally.finish(index, book, population.capped)


__all__ = ["PathEngine", "SetupRejected", "exact"]
