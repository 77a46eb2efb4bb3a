"""z3's global context, kept across tests.

z3's Python API builds every term in the context held in the module global ``z3.z3._main_ctx``
(made with the first term), and a term of one context cannot meet a term of another ("context
mismatch"). A question (``solvent.solver.effort.question``) starts a fresh context and puts the
caller's back when its answer is in. A test that replaced the global context and did not put it
back (``effort.fresh_context()`` before a probe, as two threshold tests did until session 22)
left every later test on its worker in a context that is not the one its module's terms were
built in at import: they failed there, in another file, depending on the schedule. So every test
runs inside :func:`kept` (``tests/conftest.py``): a test that leaves the global context replaced
fails, named, and the context it found is put back for the tests after it. Tests import it as
``from tests.z3_context import kept``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import z3.z3 as api


class ContextLeftReplaced(AssertionError):
    """A block left z3's global context other than it found it."""


@contextmanager
def kept(what: str) -> Iterator[None]:
    """Run the block; where z3's global context was made before it and is another one (or none)
    after it, put the one it found back and raise :class:`ContextLeftReplaced` naming ``what``.
    A block that made the process's first context (none before it) keeps it: nothing built before
    it can mismatch."""
    before = api._main_ctx
    yield
    after = api._main_ctx
    if before is not None and after is not before:
        api._main_ctx = before
        raise ContextLeftReplaced(
            f"{what} left z3's global context (z3.z3._main_ctx) replaced ({'none' if after is None else 'another'} "
            "in place of the one it found): ask through solvent.solver.effort.question(), which puts the "
            "caller's context back, not fresh_context() alone (tests/z3_context.py)"
        )
