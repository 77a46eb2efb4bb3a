"""Where a long judgement is: what runs now and how much of its budget is left, for whoever shows it.

The search and the prover announce each piece of work (the scan of every claim, a claim's
shrinking, a z3 question) with the budget it spends in that budget's own deterministic units
(examples, z3 resource units), never seconds. A front end listens with :func:`listening`
(``solvent check`` on a terminal draws it with ``rich``, in a CI log it prints plain lines:
``solvent.reports.progress``). Nothing listens by default, and then :func:`report` costs one
context-variable read: what is reported never changes what is judged.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs


@attrs.frozen
class Status:
    """One piece of work: ``stage`` (``search``, ``shrink``, ``z3``), ``item`` (an invariant, or
    ``16 claims``), and its budget in ``unit`` with ``spent`` of it used so far."""

    stage: str
    item: str = ""
    spent: int = 0
    budget: int = 0
    unit: str = ""

    @property
    def left(self) -> int:
        return max(0, self.budget - self.spent)


Listener = Callable[[Status], None]
_LISTENER: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("solvent_progress", default=None)


def report(stage: str, item: str = "", spent: int = 0, budget: int = 0, unit: str = "") -> None:
    """Tell the listener, if any, what runs now."""
    listener = _LISTENER.get()
    if listener is not None:
        listener(Status(stage, item, spent, budget, unit))


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with every :class:`Status` reported inside the block."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


__all__ = ["Status", "listening", "report"]
