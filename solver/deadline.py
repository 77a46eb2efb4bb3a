"""A cooperative deadline for building a proof question (the symbolic run and its linearization).

The per-question timeout (``Bounds.timeout_ms``) covers building a question as well as z3's check
of it: at N = 16 the engine's symbolic liquidation sweep alone takes seconds, and a user who asks
for a 5 s answer must get one in about 5 s. :func:`building` sets the deadline for the code inside
it; :func:`check` raises :class:`BuildTimeout` once it has passed, and does nothing outside
:func:`building`. The build calls it at natural points: every operation the z3 backend interprets
(so within each account of the engine's liquidation sweep, without touching the engine), every
event slot and variant, and every few hundred nodes a linearizer pass rewrites.

Nothing is killed: the exception unwinds the pure build, and ``solvent.solver.prove`` reports the
question undecided with :attr:`BuildTimeout.reason` (never proved). The deadline lives in a
``ContextVar``, so concurrent builds in other threads or tasks keep their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs


@attrs.frozen
class _Limit:
    started: float
    at: float
    timeout_ms: int


_current: ContextVar[_Limit | None] = ContextVar("solvent_build_deadline", default=None)


class BuildTimeout(Exception):
    """Building a question did not finish within its timeout (an undecided question, not an error)."""

    def __init__(self, timeout_ms: int, seconds: float) -> None:
        self.timeout_ms, self.seconds = timeout_ms, seconds
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """The reason an undecided verdict gives, e.g. "building the question took longer than the 5 s timeout"."""
        return f"building the question took longer than the {timeout_text(self.timeout_ms)} timeout, stopped after {self.seconds:.2f} s"


def timeout_text(timeout_ms: int) -> str:
    """``5000`` → ``"5 s"``, ``250`` → ``"0.25 s"``."""
    return f"{timeout_ms / 1000:g} s"


@contextmanager
def building(timeout_ms: int) -> Iterator[None]:
    """Within the block, :func:`check` raises :class:`BuildTimeout` after ``timeout_ms``."""
    now = time.perf_counter()
    token = _current.set(_Limit(now, now + timeout_ms / 1000, timeout_ms))
    try:
        yield
    finally:
        _current.reset(token)


def check() -> None:
    """Raise :class:`BuildTimeout` if the current build's deadline has passed (no-op outside a build)."""
    limit = _current.get()
    if limit is None:
        return
    now = time.perf_counter()
    if now > limit.at:
        raise BuildTimeout(limit.timeout_ms, now - limit.started)


__all__ = ["BuildTimeout", "building", "check", "timeout_text"]
