"""Nothing a question built is released before its answer is in.

z3 numbers its terms and gives the number of a released term to the next one it makes (its id
generator keeps a free list); its simplifier orders sums by those numbers, so the shape of a query,
and the units it spends, depend on *when* terms were released while it was built. Python releases
a z3 object in its ``__del__`` (``Z3_dec_ref`` and its kin), as soon as its last reference goes,
and a reference can be held by something that has nothing to do with the question: a sampling
profiler that keeps the frame of a function after it returned (Dask's worker samples every 10 ms,
``distributed.worker.profile``; CPython 3.11 keeps a returned function's locals in its frame
object) releases that function's terms when it lets go of the frame, at a moment the clock sets
and from its own thread. Measured (docs/solver-notes.md#process-history): backpack's conservation
at N = 1 spent 312,207 units in a fresh process and 325,382 with a stand-in that keeps the frame
of each build step alive for five more steps; with a sampling thread 348,650.

So inside :func:`solvent.solver.effort.question` every release the z3 Python API makes on the
question's context (:data:`RELEASES`: every ``Z3_*_dec_ref`` its ``__del__`` methods call) is
recorded instead of done, from whatever thread, and all are done in the order they came when the
question ends, while its context is alive. A term made in a question then never gets the number
of one Python released in it: z3 reuses only the numbers of what z3 releases itself, at the same
points on every run. Releases on any other context pass straight through; a question asked inside
another holds and releases only its own context's (the outer one's wait for the outer one).

This also keeps z3's reference counts on the question's context from being changed by a second
thread while the question's thread is inside z3 (ctypes releases the GIL), which z3 does not
support. The cost is memory: what a question dropped is kept until its answer is in (Binance's
no-negative-equity at N = 4, 10M units: peak RSS in docs/solver-notes.md#process-history).

The releases are replaced once, in ``z3.z3``'s namespace (the ``__del__`` methods look their
``Z3_*_dec_ref`` up there when they run); ``tests/solver/test_held_terms.py`` reads the installed
z3's ``__del__`` methods and fails when one calls a release this module does not hold.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import z3.z3 as api

#: every ``Z3_*_dec_ref`` a ``__del__`` of z3's Python API (``z3/z3.py``, z3 5.4.1) calls: terms
#: (``AstRef``: sorts, declarations, expressions, patterns, quantifiers), parameters and their
#: descriptions, goals, term vectors and maps, function entries and interpretations, models,
#: statistics, solvers, fixedpoints, optimizers, tactic results, simplifiers, tactics, probes,
#: parser contexts
RELEASES: tuple[str, ...] = (
    "Z3_dec_ref",
    "Z3_params_dec_ref",
    "Z3_param_descrs_dec_ref",
    "Z3_goal_dec_ref",
    "Z3_ast_vector_dec_ref",
    "Z3_ast_map_dec_ref",
    "Z3_func_entry_dec_ref",
    "Z3_func_interp_dec_ref",
    "Z3_model_dec_ref",
    "Z3_stats_dec_ref",
    "Z3_solver_dec_ref",
    "Z3_fixedpoint_dec_ref",
    "Z3_optimize_dec_ref",
    "Z3_apply_result_dec_ref",
    "Z3_simplifier_dec_ref",
    "Z3_tactic_dec_ref",
    "Z3_probe_dec_ref",
    "Z3_parser_context_dec_ref",
)

#: calls a z3 ``__del__`` makes that are not a release of something a question built, passed
#: through: the context's own deletion (it outlives its question: the question keeps it until its
#: releases are done) and the datatype constructors' (scratch objects of ``CreateDatatypes``, no
#: term numbers; Solvent declares no datatypes)
NOT_HELD: tuple[str, ...] = ("Z3_del_context", "Z3_del_constructor", "Z3_del_constructor_list")


def _address(ctx: Any) -> int | None:
    """The C address of a context as a ``__del__`` passes it (``Context.ref()``, a ctypes pointer)."""
    return getattr(ctx, "value", ctx)


@attrs.define(eq=False)
class _Hold:
    """One question's held releases: its context, once it has one (kept alive until they are
    done), and, in order, the releases asked on it."""

    context: api.Context | None = None
    address: int | None = None
    releases: list[tuple[Callable[..., Any], Any, Any]] = attrs.field(factory=list)
    open: bool = True

    def bind(self, context: api.Context | None) -> None:
        """The question's context is ``context`` (if it has none yet and ``context`` is one)."""
        if self.context is None and context is not None:
            self.context, self.address = context, _address(context.ref())


#: the questions holding releases, outermost first
_HOLDS: list[_Hold] = []
#: guards the holds, a hold's list and its ``open`` between the question's thread and any thread a
#: release comes from. Re-entrant: any allocation inside it (a tuple, an iterator) may run the
#: cyclic collector, whose finalizers release z3 objects through this same lock on the same thread
#: (a plain lock deadlocked there: a test building terms outside a question, the collector on)
_LOCK = threading.RLock()


def _unlocked_in_the_child() -> None:
    """A forked child (``solver.wall``'s exact check) gets a lock of its own: another thread of
    the parent may have held it at the fork, and that thread is not in the child to let it go."""
    global _LOCK
    _LOCK = threading.RLock()


os.register_at_fork(after_in_child=_unlocked_in_the_child)


def _holding(release: Callable[..., Any]) -> Callable[..., Any]:
    # Every z3 object a question builds and drops comes through here (hundreds of thousands in a
    # lemma file), so the path is kept short (session 29: a tenth of a lemma test's Python):
    # no question asked, the release is done at once, as under the lock (a question opened by
    # another thread a moment later is ordered after it either way); the innermost question's
    # context bound once, when it has none yet (``_Hold.bind`` does nothing after that).
    holds = _HOLDS

    def held(ctx: Any, handle: Any) -> None:
        if not holds:
            release(ctx, handle)
            return
        address = getattr(ctx, "value", ctx)  # _address, inlined
        with _LOCK:
            if holds:  # the innermost question's context is z3's current one, once it is made
                innermost = holds[-1]
                if innermost.context is None:
                    innermost.bind(api._main_ctx)
            for hold in reversed(holds):
                if hold.address == address and hold.open:
                    hold.releases.append((release, ctx, handle))
                    return
        release(ctx, handle)

    held.solvent_holds = release  # type: ignore[attr-defined]
    return held


def install() -> None:
    """Replace each of :data:`RELEASES` in ``z3.z3``'s namespace by one that holds it inside a
    question (once: installing again changes nothing)."""
    for name in RELEASES:
        release = getattr(api, name)
        if not hasattr(release, "solvent_holds"):
            setattr(api, name, _holding(release))


@contextmanager
def held(enclosing: api.Context | None) -> Iterator[None]:
    """Within the block, a question: releases on the context z3 makes current in it (from any
    thread) wait; at its end z3's current context is ``enclosing`` again (the one current before
    the question, which the caller had put aside) and the releases are done in the order they
    came, while the question's context is alive.

    The question's context is made when its first term is (``z3.z3.main_ctx``), not here: making
    one costs z3 tens of milliseconds, and a question that never asks z3 (a stand-in probe) makes
    none. So a question knows its context when a release comes and z3's current context is one
    (only a term of it can be released), or when a question opens inside it (``enclosing`` is
    then its context, if it has made one). Both happen under the lock, as does putting
    ``enclosing`` back at the end, so a release never meets the moment between a question's end
    and its caller's context put back."""
    install()
    hold = _Hold()
    with _LOCK:
        if _HOLDS:
            _HOLDS[-1].bind(enclosing)
        _HOLDS.append(hold)
    try:
        yield
    finally:
        with _LOCK:
            hold.bind(api._main_ctx)
            _HOLDS.remove(hold)
            hold.open = False
            waiting, hold.releases = hold.releases, []
            api._main_ctx = enclosing
        for release, ctx, handle in waiting:
            release(ctx, handle)


def waiting() -> tuple[int, ...]:
    """How many releases each question being asked holds, outermost first (for tests and
    measurements)."""
    with _LOCK:
        return tuple(len(h.releases) for h in _HOLDS)


install()

__all__ = ["NOT_HELD", "RELEASES", "held", "install", "waiting"]
