"""What a step built, recorded for the solver without changing the step.

A :class:`Recorder` is off by default; within ``with recorder.recorded() as seen:`` each
``recorder.note(value)`` the engine makes appends to ``seen``. The solver reads the engine's own
terms this way (``solver.haircut_payer`` the opening's conversion, ``solver.side_payer`` Gen B's
per-lot charges) instead of patching engine functions. A :class:`contextvars.ContextVar` holds the
list, so a recording is local to its thread and context and ends with its block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class Recorder:
    """One kind of term the engine can record (``name``: its context variable's)."""

    def __init__(self, name: str) -> None:
        self._seen: ContextVar[list[Any] | None] = ContextVar(name, default=None)

    @contextmanager
    def recorded(self) -> Iterator[list[Any]]:
        """Within the block, every :meth:`note` appends to the list yielded."""
        seen: list[Any] = []
        token = self._seen.set(seen)
        try:
            yield seen
        finally:
            self._seen.reset(token)

    def note(self, value: Any) -> None:
        """Append ``value`` where a block records (nothing otherwise: the step is unchanged)."""
        seen = self._seen.get()
        if seen is not None:
            seen.append(value)


__all__ = ["Recorder"]
