"""A proof question's effort, counted in deterministic units, never in seconds.

A verdict (and the exit code that follows from it) must depend only on the policy, the options
and Solvent's version, not on how busy the machine is. So every budget that decides whether z3
proves, refutes or gives up is counted in **units**:

- z3's own resource counter (its ``rlimit``): the solver charges a unit for its internal steps;
  the same query on the same z3 build spends the same units whatever else the machine runs.
- Building a question (the engine's symbolic run and its linearization) is Solvent's own Python:
  each *build step* (every operation the z3 backend interprets, every event slot and variant,
  every few hundred nodes a linearizer pass rewrites) is charged :data:`BUILD_STEP` units, so a
  question has one budget for building and solving, and a build that would outlast it stops at
  the same step on any machine (:class:`OutOfEffort`).

:data:`UNITS_PER_SECOND` is what the reference machine did (``benchmarks/bench_effort.py`` measures
it): it sizes the defaults and lets help texts say "about N s", and is never used to decide.

A wall-clock **safety net** remains, so that a z3 tactic that stops counting (its nonlinear
arithmetic does not always look at its limits, ``docs/solver-notes.md``) cannot hang a run: the
answer it cuts short is UNKNOWN with a reason that says the safety net fired and that this answer,
unlike the others, depends on the machine. :func:`safety_net_s` sets it generously (ten times the
reference time, at least a minute), so on any sane machine it never fires before the units run out.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs
import z3

from solvent.solver import held_terms

#: z3 resource units per second of solving on the reference machine (2 cores, idle); sizes the
#: defaults and the "about N s" in help texts, never a verdict.
UNITS_PER_SECOND = 1_000_000

#: units charged per build step: on the reference machine a build step costs about as much time
#: as z3 spends on this many units (about 2,000-4,000 steps per second were measured)
BUILD_STEP = 400

#: the wall-clock safety net is this many times a question's reference time...
SAFETY_FACTOR = 10
#: ...and at least this many seconds
SAFETY_MIN_S = 60.0

#: the largest budget an option accepts (z3 takes an unsigned 32-bit rlimit per check; a build
#: that large would run for days): 4 x 10^9 units
MAX_UNITS = 4_000_000_000


def seconds_to_units(seconds: float) -> int:
    """The units the reference machine spends in ``seconds`` (for defaults and conversions)."""
    return max(int(seconds * UNITS_PER_SECOND), 1)


def units_text(units: int) -> str:
    """``30_000_000`` → ``"30M units"``; ``2_500`` → ``"2,500 units"``."""
    if units >= 1_000_000 and units % 1_000_000 == 0:
        return f"{units // 1_000_000:,}M units"
    if units >= 1_000_000:
        return f"{units / 1_000_000:.3g}M units"
    return f"{units:,} units"


def safety_net_s(units: int) -> float:
    """The wall-clock safety net for a question of ``units`` (see the module docstring)."""
    return max(SAFETY_MIN_S, SAFETY_FACTOR * units / UNITS_PER_SECOND)


@attrs.define
class Meter:
    """Units spent so far on one question, against its limit."""

    limit: int
    spent: int = 0

    @property
    def left(self) -> int:
        return max(self.limit - self.spent, 0)


_current: ContextVar[Meter | None] = ContextVar("solvent_effort_meter", default=None)


@attrs.define
class Tally:
    """Every unit charged while :func:`tallied` was open: each z3 check asked outside a build (its
    resource count), and each outermost build's steps (a build that ran out counted at its limit, as
    its record says; a check or a lemma inside a build is charged to the build). A question's
    result lists its queries; their units must add up to this (docs/solver-notes.md#units-counted-on-every-path-and-the-isolated-scopes-facts-session-20)."""

    units: int = 0


_tally: ContextVar[Tally | None] = ContextVar("solvent_effort_tally", default=None)


@contextmanager
def tallied() -> Iterator[Tally]:
    """Within the block, every unit charged is added up in the :class:`Tally` it yields (a check
    that no path of a question drops the queries it spent)."""
    tally = Tally()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)


def _count(units: int) -> None:
    """Count ``units`` spent outside any build (inside one they are the build's, charged to it)."""
    tally = _tally.get()
    if tally is not None and _current.get() is None:
        tally.units += units


def count(units: int) -> None:
    """Count ``units`` spent other than by this process's z3 checks and builds: a check in a child
    process (``solver.wall``: its own tally is the child's), Solvent's own case splits
    (``solver.case_split``, a build step a split)."""
    _count(units)


class OutOfEffort(Exception):
    """Building a question needed more units than its budget (an undecided question, not an error)."""

    def __init__(self, limit: int, steps: int) -> None:
        self.limit, self.steps = limit, steps
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """The reason an undecided verdict gives."""
        return f"building the question needed more than its {units_text(self.limit)} ({self.steps:,} build steps)"


@contextmanager
def building(limit: int, *, counted: bool = True) -> Iterator[Meter]:
    """Within the block, :func:`check` charges each build step and raises :class:`OutOfEffort`
    once the steps cost more than ``limit`` units. ``counted=False``: a meter of its own whose steps
    no question pays as such (a process-wide lemma's first asking: the questions that use it are
    charged its fixed units, :func:`charge`)."""
    meter = Meter(limit)
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)
        if counted:
            _count(min(meter.spent, meter.limit))  # counted where this build is the outermost


def check() -> None:
    """Charge one build step to the current build; raise :class:`OutOfEffort` past its limit
    (no-op outside :func:`building`)."""
    meter = _current.get()
    if meter is None:
        return
    meter.spent += BUILD_STEP
    if meter.spent > meter.limit:
        raise OutOfEffort(meter.limit, meter.spent // BUILD_STEP)


def charge(units: int) -> None:
    """Charge ``units`` of Solvent's own work (counted by the caller in build steps, or a proved
    lemma's fixed units) to the current build, as :func:`check` charges one step; raise
    :class:`OutOfEffort` past its limit. Outside :func:`building` only tallied (:func:`tallied`):
    the caller lists them in a query of its own."""
    meter = _current.get()
    if meter is None:
        _count(units)  # outside a build: spent all the same (its caller lists it)
        return
    meter.spent += units
    if meter.spent > meter.limit:
        raise OutOfEffort(meter.limit, meter.spent // BUILD_STEP)


def left() -> int | None:
    """The units the current build has left (None outside :func:`building`)."""
    meter = _current.get()
    return None if meter is None else meter.left


def fresh_context() -> None:
    """Start the next question in a new z3 context.

    z3 keeps state in its context between questions (terms already built, simplifier caches), and
    a question's units depend on it: the same question asked after others spent 108,376 units
    where in a fresh process it spent 123,549. A verdict near its limit could then depend on what
    ran before it in the process (a pytest run, a notebook, the gallery). So every question starts
    from z3's context as a fresh process has it (:func:`question`, which ``solver.prove.prove``,
    every threshold probe and every invariant ``check`` asks through); its answer is then the same
    whatever ran before. z3's Python API keeps its default context in the module global
    ``z3.z3._main_ctx`` and builds a new one when that is ``None``. A z3 term built before the
    reset cannot be mixed with one built after ("context mismatch"): :func:`question` puts the
    caller's context back when the answer is in, and answers are plain data (integers, stories).
    """
    import z3.z3 as api

    if not hasattr(api, "_main_ctx"):  # pragma: no cover - a z3 release that moved it fails tests/test_api.py
        raise RuntimeError("z3's Python API no longer has z3.z3._main_ctx: a fresh context per question cannot be made")
    api._main_ctx = None


def _current_context() -> object:
    import z3.z3 as api

    return api._main_ctx


def _restore_context(ctx: object) -> None:
    import z3.z3 as api

    api._main_ctx = ctx


@contextmanager
def question() -> Iterator[None]:
    """One question, asked as a fresh process would ask it: a fresh z3 context
    (:func:`fresh_context`) and no cyclic garbage collection until it is answered; then the
    caller's own context back, so terms the caller built before stay usable (a question asked
    inside another, as ``prove`` inside a threshold probe, leaves the outer one's terms valid).

    z3 numbers its terms and reuses the number of a term that was freed; its simplifier orders
    sums by those numbers, so the shape of a simplified term, and the units a query spends, can
    depend on *when* a term was freed. Python frees most objects at once, but objects in reference
    cycles only when the cyclic collector runs, and when it runs depends on everything the process
    allocated before (a pytest run frees at other moments than a one-shot command). Measured: the
    same question spent 4,566 units in one process and 5,059 in another until the collector was
    held off. So the collector waits until the answer is in; the young garbage of earlier work
    (generations 0 and 1: what the work just before left) is collected first.

    Not a full collection: what the question's answer depends on is that nothing is freed *while*
    it runs, and with the collector held nothing is, whatever older garbage is left (it belongs to
    earlier questions' contexts, whose term numbers are not the fresh context's). A full
    collection traverses every object of the process: in a long pytest worker 0.1-1 s a question,
    and ``threshold`` asks 20-odd (a stand-in bisection with no z3 at all took 17-25 s of the
    suite); the old generation is collected by Python's own schedule between questions.

    Reference counts can free terms too, at moments another thread sets (a sampling profiler that
    held a returned function's frame, and with it that function's terms, lets go of it): so every
    release the z3 Python API makes on the question's context, from any thread, waits until the
    answer is in (:mod:`solvent.solver.held_terms`), and is done, in order, as the question ends.
    """
    with _ONE_AT_A_TIME:
        if not _ASKING:  # inside another question the collector is already held: its garbage waits
            gc.collect(1)
        caller = _current_context()
        fresh_context()
        was_enabled = gc.isenabled()
        gc.disable()
        _ASKING.append(caller)
        try:
            with held_terms.held(caller):
                yield
        finally:
            _ASKING.pop()
            _restore_context(caller)
            if was_enabled:
                gc.enable()


def asking() -> bool:
    """Whether a question is being asked in this process (:func:`question`)."""
    return bool(_ASKING)


@contextmanager
def own_question() -> Iterator[None]:
    """The block is a question of its own (:func:`question`) unless it runs inside one, where it
    is a part of that question and changes nothing. For the solver's public entry points that a
    caller may use directly, outside ``prove`` (``compositional.attempt``: a test, a benchmark's
    ``--each-trader`` table): outside a question they would build their terms in the process's
    shared z3 context, whose state depends on everything the process asked before (Drift's
    per-liquidation lemma spent 10,260 units alone and 10,357 after three other presets' in one
    process; docs/solver-notes.md#units-independent-of-process-history-session-21). Inside a
    question (``prove``) their units are the question's, as before. (The lock first: with it held,
    a question being asked is this thread's, never another thread's it would build into.)"""
    with _ONE_AT_A_TIME:
        if _ASKING:
            yield
            return
        with question():
            yield


#: One question at a time in a process. z3's Python API keeps the context every term is built in
#: in one module global (``z3.z3._main_ctx``), and the collector switch is the process's: two
#: questions asked at once from two threads (a Dask worker runs as many tasks at once as it has
#: threads, several by default) would build their terms in one context and free each other's
#: garbage, so each one's units, and a verdict near its limit, would depend on the other.
#: Re-entrant: a question asked inside another (``prove`` inside a threshold probe) is the same
#: thread's.
_ONE_AT_A_TIME = threading.RLock()


#: the questions being asked, outermost first (a question inside another: ``prove`` inside a
#: ``check`` question or a grid cell); only the outermost collects the young garbage before it, as the
#: front ends did before ``prove`` asked as a question of its own (a full collection cost 20-100
#: ms in a large process, and ``check`` asks a question per claim)
_ASKING: list[object] = []


def smt_core(logic: str | None = None) -> z3.Solver:
    """A new solver whose every check z3 answers with its SMT core, never with its own strategy for
    the goal's logic; told ``logic`` where given (``solver.incremental``'s large books). Every check
    Solvent asks is on one, and :func:`solve` asks it in incremental mode.

    Why: z3's default solver (``z3.Solver()``) asked once, without a ``push``, hands its goal to the
    strategy z3 picks for the goal's logic, and those strategies read the wall clock: for nonlinear
    integer goals (QF_NIA) z3 tries its SMT core for 2,000 ms, then nlsat for 3,000 ms, then the SMT
    core again (``try_for`` in z3's ``qfnia_tactic.cpp``); linear goals that are integer programs or
    fully bounded get 2,000-15,000 ms attempts (``qflia_tactic.cpp``), real ones 5,000-10,000 ms
    (``qfnra_tactic.cpp``). Where an attempt is cut by its clock depends on how busy the machine is,
    so the units spent, and a verdict near its limit, did too: the same query (the same SMT-LIB text,
    the same term numbers) spent 19.9-20.7M units, or ran out at 30M, between processes
    (docs/solver-notes.md#the-same-question-the-same-units-in-every-process-session-28). In
    incremental mode (after a ``push``, or with tracked assumptions) the solver asks its SMT core,
    whose only clock is the safety net (:func:`solve`'s ``timeout``); it would still fall back to
    that strategy where the core answers unknown for a reason other than its limits, unless told
    not to (``solver2_unknown`` 0: the unknown is the answer)."""
    solver = z3.SolverFor(logic) if logic is not None else z3.Solver()
    solver.set("solver2_unknown", 0)
    return solver


def incremental_mode(solver: z3.Solver) -> None:
    """Put a solver never pushed in incremental mode (an empty scope; its assertions stay where they
    are), so that z3 answers its check with its SMT core, never with its strategy for the goal's
    logic, whose attempts the wall clock cuts (:func:`smt_core`). :func:`solve` does it before
    every check; a solver already pushed (a query's, the exact child's) is left as it is."""
    if solver.num_scopes() == 0:
        solver.push()


def spent_so_far(solver: z3.Solver) -> int:
    """z3's resource counter for the solver's context (it only grows)."""
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0


@attrs.frozen
class Solved:
    """One z3 check: its result, the units it spent, and which limit stopped it (if any)."""

    result: str  # "sat", "unsat" or "unknown"
    units: int
    #: "" (z3 answered), "effort" (the units ran out), "safety net" (the wall clock), or z3's own reason
    stopped_by: str = ""
    seconds: float = 0.0

    @property
    def reason(self) -> str:
        """Why an unknown is unknown, in words."""
        if self.stopped_by == "effort":
            return f"its effort ran out ({units_text(self.units)})"
        if self.stopped_by == "safety net":
            return safety_net_reason(self.seconds)
        return f"z3: {self.stopped_by}"


def safety_net_reason(seconds: float) -> str:
    return (
        f"stopped by the wall-clock safety net after {seconds:.0f} s before its effort was spent "
        "(this answer depends on the machine's speed; lower the effort or raise the safety net)"
    )


def solve(solver: z3.Solver, units: int, safety_s: float) -> Solved:
    """``solver.check()`` within ``units`` of z3's resource counter and the safety net."""
    units = min(max(int(units), 1), MAX_UNITS)  # rlimit 0 would mean "no limit"
    incremental_mode(solver)
    solver.set(rlimit=units)
    solver.set(timeout=max(int(min(safety_s, 2**31 / 1000) * 1000), 1))
    before = spent_so_far(solver)
    started = time.perf_counter()
    result = solver.check()
    seconds = time.perf_counter() - started
    spent = spent_so_far(solver) - before
    _count(spent)
    if result == z3.sat:
        return Solved("sat", spent, "", seconds)
    if result == z3.unsat:
        return Solved("unsat", spent, "", seconds)
    return Solved("unknown", spent, stopped_by(solver.reason_unknown(), spent, units, seconds, safety_s), seconds)


def stopped_by(reason: str, spent: int, units: int, seconds: float, safety_s: float) -> str:
    """Which limit an unknown answer hit: the units are checked first (deterministic), the wall
    clock only when the units were not spent."""
    if spent >= units or "resource" in reason:
        return "effort"
    if reason in ("timeout", "canceled") and seconds >= safety_s * 0.95:
        return "safety net"
    return reason or "unknown"


__all__ = [
    "BUILD_STEP",
    "MAX_UNITS",
    "Meter",
    "OutOfEffort",
    "Solved",
    "Tally",
    "UNITS_PER_SECOND",
    "asking",
    "building",
    "charge",
    "check",
    "count",
    "fresh_context",
    "left",
    "own_question",
    "question",
    "safety_net_s",
    "seconds_to_units",
    "incremental_mode",
    "smt_core",
    "solve",
    "spent_so_far",
    "tallied",
    "units_text",
]
