"""Nothing a question built is released before its answer is in (``solver.held_terms``).

z3 gives the number of a released term to the next term it makes, and orders sums by those
numbers; a reference held by another thread (Dask's sampling profiler keeps the frames of a task's
functions, and their locals, for a while) moved the moment terms were released, and with it the
shape of the question and its units. Inside ``effort.question()`` every release on the question's
context waits until the question is answered. docs/solver-notes.md#process-history.
"""

from __future__ import annotations

import ast
import collections
import inspect
import json
import sys
import threading

import pytest
import z3
import z3.z3 as api

from solvent.rules.presets import load_preset
from solvent.solver import effort, held_terms, pro_rata_lemma
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict
from tests.solver.test_effort import _plain, answered_in_a_fresh_process


def _number(term: z3.ExprRef) -> int:
    """The number z3 gave ``term`` in its context."""
    return z3.Z3_get_ast_id(term.ctx.ref(), term.as_ast())


def _frames_kept_for_five_steps(monkeypatch: pytest.MonkeyPatch) -> collections.deque:
    """A deterministic stand-in for a sampling profiler: each build step (``effort.check``) keeps
    its caller's frame, and with it that function's locals, alive for five more steps (a frame
    object outliving its call keeps the locals, CPython 3.11), then lets it go."""
    kept: collections.deque = collections.deque(maxlen=5)
    real = effort.check

    def check() -> None:
        kept.append(sys._getframe(1))
        real()

    monkeypatch.setattr(effort, "check", check)
    return kept


def test_a_question_whose_frames_are_held_elsewhere_answers_as_a_fresh_process(monkeypatch) -> None:
    """Backpack's conservation at N = 1 (the proof grid's cell, 5M units), asked in this long-lived
    process with the frame holder releasing the build's terms five steps late, equals a fresh
    process field for field: the queries, their units, the verdict. Without the held releases the
    holder moved it (345,420 units fresh, 312,987 with the holder, at d6ba716)."""
    bounds = {"accounts": 1, "events": 1, "effort": 5_000_000}
    kept = _frames_kept_for_five_steps(monkeypatch)
    here = _plain(prove("backpack", "conservation", Bounds(**bounds)))
    assert kept  # the holder was in the build's path
    monkeypatch.undo()
    fresh = answered_in_a_fresh_process("backpack", "conservation", **bounds)
    assert here["verdict"] == repr(Verdict.PROVED)
    assert json.loads(json.dumps(here)) == fresh


def _numbers(term: z3.ExprRef) -> set[int]:
    """The numbers of ``term`` and its arguments (what dropping it alone releases)."""
    return {_number(term), *(_number(a) for a in term.children())}


def test_a_release_inside_a_question_waits_until_it_is_answered() -> None:
    """A dropped term keeps its number while the question runs (the next terms get others), and
    gives it up when the question ends. Outside a question z3 reuses it at once (the control)."""
    context = z3.Context()
    dropped = z3.Int("a", context) + 1
    number = _number(dropped)
    del dropped
    assert _number(z3.Int("b", context) + 2) == number  # the control: z3 reuses a released number

    with effort.question():
        dropped = z3.Int("t") + 7
        numbers, waiting = _numbers(dropped), held_terms.waiting()
        del dropped
        assert held_terms.waiting()[-1] == waiting[-1] + 1  # the sum (t and 7 were held as it was built)
        later = z3.Int("u") + 9
        assert not _numbers(later) & numbers
    assert held_terms.waiting() == ()
    assert _numbers(z3.Int("v", later.ctx) + 11) & numbers  # released when it ended


def test_a_release_from_another_thread_waits_too() -> None:
    """The question's term dropped by another thread (as a profiler's thread lets go of a frame)
    waits like one dropped by the question's own thread."""
    with effort.question():
        box = [z3.Int("t") + 7]
        numbers, waiting = _numbers(box[0]), held_terms.waiting()
        thread = threading.Thread(target=box.clear)  # the thread drops the only reference
        thread.start()
        thread.join()
        assert not box and held_terms.waiting()[-1] == waiting[-1] + 1
        later = z3.Int("u") + 9
        assert not _numbers(later) & numbers
    assert _numbers(z3.Int("v", later.ctx) + 11) & numbers


def test_a_nested_question_releases_only_its_own_context() -> None:
    """A question inside another (``prove`` inside a threshold probe): at its end the inner one
    releases what was dropped in its context; what the outer one built and dropped meanwhile waits
    for the outer one's end."""
    with effort.question():
        outer = [z3.Int("outer") + 1]
        with effort.question():
            inner = [z3.Int("inner") + 2]
            (o, i) = held_terms.waiting()
            outer.clear()
            inner.clear()
            assert held_terms.waiting() == (o + 1, i + 1)
        assert held_terms.waiting() == (o + 1,)  # the inner ones done, the outer ones wait
    assert held_terms.waiting() == ()


def test_a_release_on_another_context_passes_straight_through() -> None:
    """A term of a context that is not the question's (built before it) is released at once."""
    other = z3.Context()
    keep = z3.Int("keep", other)
    dropped = z3.Int("a", other) + 1
    number = _number(dropped)
    with effort.question():
        del dropped
        assert held_terms.waiting() == (0,)
    assert _number(z3.Int("b", keep.ctx) + 2) == number


def test_every_release_the_installed_z3s_del_methods_call_is_held() -> None:
    """Every ``Z3_*`` call a ``__del__`` of the installed z3 Python API makes is a release this
    module holds, or one it names as not a term's (the context's own, the datatype constructors'):
    a z3 upgrade that adds or renames one fails here. And each is replaced in ``z3.z3``'s
    namespace, where the ``__del__`` methods look it up."""
    tree = ast.parse(inspect.getsource(api))
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__del__":
            called |= {
                c.func.id
                for c in ast.walk(node)
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id.startswith("Z3_")
            }
    assert len(called) > 10  # the parse found the API's __del__ methods
    assert called - set(held_terms.NOT_HELD) == set(held_terms.RELEASES)
    assert all(hasattr(getattr(api, name), "solvent_holds") for name in held_terms.RELEASES)


def test_a_solver_model_and_vector_dropped_in_a_question_wait_too() -> None:
    """Not only terms: a solver, its model, statistics and a term vector (each released by its
    own ``Z3_*_dec_ref``) dropped inside a question wait for it."""
    with effort.question():
        x = z3.Int("x")
        solver = z3.Solver()
        solver.add(x > 2)
        assert solver.check() == z3.sat
        objects = [solver.model(), solver.statistics(), solver.assertions(), solver]
        del solver
        (waiting,) = held_terms.waiting()
        objects.clear()
        assert held_terms.waiting() == (waiting + 4,)
    assert held_terms.waiting() == ()


def test_the_pro_rata_split_lemma_is_asked_as_a_question(monkeypatch) -> None:
    """The lemma, asked in a context of its own, is asked through ``effort.question()``, so its
    releases are held like any question's (and its units are the same whoever asks it first)."""
    asked: list[int] = []
    real = effort.question

    def counted():  # noqa: ANN202
        asked.append(len(held_terms._HOLDS))
        return real()

    monkeypatch.setattr(effort, "question", counted)
    pro_rata_lemma._verdict.cache_clear()
    try:
        lemma = pro_rata_lemma.split_lemma(load_preset("drift").rounding, 2)
    finally:
        pro_rata_lemma._verdict.cache_clear()
    assert asked == [0] and lemma.verdict is Verdict.PROVED


def test_a_question_that_never_asks_z3_makes_no_context() -> None:
    """Its context is made with its first term (making one costs z3 tens of milliseconds, and a
    stand-in probe asks nothing of z3), and is held from then on."""
    with effort.question():
        assert api._main_ctx is None
        dropped = z3.Int("t") + 7
        numbers = _numbers(dropped)
        del dropped
        assert held_terms.waiting()[-1] >= 1
        assert not _numbers(z3.Int("u") + 9) & numbers


def test_an_outer_question_that_makes_its_context_after_an_inner_one_holds_its_releases() -> None:
    """The outer question had no context when the inner one opened (it is made after the inner
    one's end); the outer one's releases still wait for it, and the inner one's are done at its end."""
    with effort.question():
        with effort.question():
            inner = [z3.Int("inner") + 2]
            inner.clear()
            assert held_terms.waiting()[0] == 0 and held_terms.waiting()[1] >= 1
        assert held_terms.waiting() == (0,)
        outer = [z3.Int("outer") + 1]
        numbers = _numbers(outer[0])
        thread = threading.Thread(target=outer.clear)
        thread.start()
        thread.join()
        assert held_terms.waiting()[0] >= 1
        assert not _numbers(z3.Int("later") + 3) & numbers
    assert held_terms.waiting() == ()


def test_a_release_by_the_collector_inside_the_lock_does_not_wait_on_itself() -> None:
    """Any allocation while the holds' lock is held (a tuple, an iterator) may run the cyclic
    collector, whose finalizers release z3 objects through the same lock on the same thread: the
    lock is re-entrant (a plain one hung a test worker). Checked without blocking first, so that a
    plain lock fails here instead of hanging."""
    import gc

    assert held_terms._LOCK.acquire(blocking=False)
    try:
        assert held_terms._LOCK.acquire(blocking=False)
        held_terms._LOCK.release()
    finally:
        held_terms._LOCK.release()
    cycle: list = [z3.Int("in_a_cycle") + 1]
    cycle.append(cycle)
    del cycle
    with held_terms._LOCK:
        assert gc.collect() > 0  # the finalizer releases the term through the lock held here
