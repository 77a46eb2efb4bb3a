"""The one function a simulation runs a path through: ``PathEngine``.

A path engine takes the policy, the empty book, the setup events (deposits and opening trades),
the mark events and the path's index, and returns :class:`Ran`: the path's :class:`PathOutcome`
and which engine produced it. :func:`exact` steps the exact engine (``solvent.rules.engine.step``)
event by event and reads each step's transfers and outcomes (:class:`~solvent.simulation.outcome.Tally`).
The fast engine (``solvent.simulation.fast``, numpy arrays over accounts) has the same signature
and returns the same outcome, field for field, handing every step it does not cover to the exact
engine and saying why; ``tests/simulation/test_sim_fast.py`` is its contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Event
from solvent.rules.policy import Policy
from solvent.simulation.outcome import PathOutcome, Tally
from solvent.simulation.population import Population
from solvent.simulation.scenario import UnrunnableScenario


class SetupRejected(UnrunnableScenario):
    """The policy refused an event that opens the book: the scenario cannot be run on it."""


class Ran(NamedTuple):
    """A path's outcome and the engine that produced it: ``fast`` (every step on the fast engine)
    or ``exact`` (some or all of them on the exact one); where a path asked of the fast engine ran
    steps on the exact one, why (``fallback``, shown in the report) and how many (``exact_steps``);
    ``whole_book``: the liquidations the fast engine ran on the whole book, a mechanism over other
    traders reached (the exact engine's own ``liquidate`` there, the step on the arrays), as
    (mechanism, count) pairs."""

    outcome: PathOutcome
    engine: str
    fallback: str | None = None
    exact_steps: int = 0
    whole_book: tuple[tuple[str, int], ...] = ()


PathEngine = Callable[[Policy, Population, Sequence[Event], int], Ran]


def exact(policy: Policy, population: Population, marks: Sequence[Event], index: int) -> Ran:
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
    return Ran(tally.finish(index, book, population.capped), "exact")


__all__ = ["PathEngine", "Ran", "SetupRejected", "exact"]
