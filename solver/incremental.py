"""The solver a large book's question is asked on: a z3 context of its own, and z3 told its logic.

With the z3 this project pins (z3-solver 5.4.1), a check of Binance's ``adl-price-fair`` at N = 8
ran for more than ten minutes past its resource limit and its timeout. The cause, read from z3's
source (docs/solver-notes.md#a-check-that-did-not-look-at-its-limits): z3's general set-up loads
its finite-set theory, whose first final check declares polymorphic functions, and from then on
the whole *context* has type variables; every later check on any solver of that context loads
the polymorphism plugin, which walks each asserted formula one at a time from scratch, polling
neither limit. At N = 8 a question holds 68,543 formulas over 429,611 terms and the walk takes
minutes; at N <= 4 (fewer than 9,000 formulas) a fraction of a second.

So a question about a book of more than :data:`SMALL_BOOK` traders is asked in a z3 context of its
own (``effort.question``: nothing there has declared type variables) and its incremental solvers
are told :data:`LOGIC`: z3 loads its arithmetic alone (which decides nonlinear terms too), the
finite sets never run, no check walks. Smaller books keep z3's own set-up, under which every table
and pinned figure was measured (told its logic, binance's principal-protected at N = 2, 3M units,
went from refuted to partly proved). The line is drawn on the book's size, an input: which set-up
a question gets never depends on the machine. Either way z3 answers the same formulas, unsat is a
proof and a model is replayed on the concrete engine before it is believed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import z3

from solvent.rules.ledger import InternalError
from solvent.solver import effort

#: a book of more traders than this is a large one (see the module docstring)
SMALL_BOOK = 4

#: the logic a large book's solvers are told: z3 loads its arithmetic alone (linear and nonlinear)
LOGIC = "QF_LIA"

_large: ContextVar[bool] = ContextVar("solvent_large_question", default=False)


def is_large(accounts: int) -> bool:
    """Whether a book of ``accounts`` traders is asked as a large one."""
    return accounts > SMALL_BOOK


@contextmanager
def _alone() -> Iterator[None]:
    with effort.question():
        token = _large.set(True)
        try:
            yield
        finally:
            _large.reset(token)


def asked(accounts: int):
    """The block asks a question about a book of ``accounts`` traders: a large one in a z3 context
    of its own, its incremental solvers told their logic; a small one as it is. Inside a large
    question already (its facts proved first in its context: ``solver.prove._fund_first``) the
    block stays in that context, so those facts can be given to the question; a small book's
    question is never asked there (it would be told the logic its figures were not measured with)."""
    if _large.get():
        if not is_large(accounts):
            raise InternalError(f"a question about {accounts} traders asked inside a large book's context")
        return nullcontext()
    return _alone() if is_large(accounts) else nullcontext()


def solver() -> z3.Solver:
    """A fresh solver for an incremental question (told its logic inside a large question)."""
    return effort.smt_core(LOGIC if _large.get() else None)


__all__ = ["LOGIC", "SMALL_BOOK", "asked", "is_large", "solver"]
