"""No test leaves z3's global context replaced (tests/z3_context.py, the autouse fixture in
tests/conftest.py): the guard fails a block that does, puts the context back, and lets a question
(``effort.question``) and the process's first context pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3
import z3.z3 as api

from solvent.solver import effort
from tests.z3_context import ContextLeftReplaced, kept

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")


def test_a_block_that_leaves_a_fresh_context_fails_and_the_one_it_found_is_put_back() -> None:
    before = z3.Int("made_before")
    found = api._main_ctx
    with pytest.raises(ContextLeftReplaced, match="a probe left z3's global context .* replaced \\(another"):
        with kept("a probe"):
            effort.fresh_context()
            z3.Int("made_in_the_fresh_context")
    assert api._main_ctx is found
    assert (before + z3.Int("made_after") > 0).ctx is found  # terms before and after meet again


def test_a_block_that_leaves_no_context_fails_too() -> None:
    z3.Int("made_before")
    found = api._main_ctx
    with pytest.raises(ContextLeftReplaced, match="replaced \\(none"):
        with kept("a probe"):
            effort.fresh_context()
    assert api._main_ctx is found


def test_a_question_puts_the_callers_context_back_and_passes() -> None:
    before = z3.Int("made_before")
    with kept("a question"):
        with effort.question():
            inside = z3.Int("made_in_the_question")
            assert inside.ctx is not before.ctx
    assert api._main_ctx is before.ctx


def test_the_block_that_makes_the_processs_first_context_keeps_it() -> None:
    found = api._main_ctx
    api._main_ctx = None  # as a process that has made no term yet
    try:
        with kept("the first term"):
            made = z3.Int("the_first")
        assert api._main_ctx is made.ctx
    finally:
        api._main_ctx = found


def test_every_test_runs_inside_the_guard(pytester: pytest.Pytester) -> None:
    """The suite's conftest, on two tests: the one that leaves a fresh context behind errors at its
    teardown, named; the one after it finds the context its module's terms were made in."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        test_left="""
        import z3
        from solvent.solver import effort

        MADE_AT_IMPORT = z3.Int("x")

        def test_leaves_a_fresh_context():
            effort.fresh_context()
            z3.Int("y")

        def test_after_it():
            assert (MADE_AT_IMPORT + z3.Int("z") > 0) is not None
        """
    )
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:cacheprovider", "-m", "", "-o", "addopts=")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_leaves_a_fresh_context left z3's global context*replaced*"])
