"""dYdX v4's per-block deleveraging limit on both interpreters: the concrete ``step`` and z3's
``transition`` (every input a free variable pinned to its value) give the same step where the
limit defers an account, where it is reached exactly, and where the next block deleverages the
account it deferred (tests/rules/test_fidelity_dydx_block_limit.py, with a limit of 1 and 2)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_dydx_block_limit as examples
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice


def _deferred():
    return step(examples.limited(1), examples.shorts(2), MarkPrice(examples.MOVED)).after


CASES = {
    "one over the limit waits": (1, lambda: examples.shorts(2), {"short01": -examples.LOTS}),
    "exactly at the limit": (2, lambda: examples.shorts(2), {}),
    "the next block takes it": (1, _deferred, {}),
}


@pytest.mark.parametrize("name", CASES)
def test_the_limit_agrees_on_z3(name: str) -> None:
    limit, book, left = CASES[name]
    got = pinned_step_agrees(examples.limited(limit), book(), MarkPrice(examples.MOVED)).got
    assert {a.name: a.size_lots for a in got.after.traders if a.size_lots < 0} == left
