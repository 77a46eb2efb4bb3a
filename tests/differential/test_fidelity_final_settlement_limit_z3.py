"""dYdX v4's per-block deleveraging limit at final settlement on both interpreters: the concrete
``step`` and z3's ``transition`` (every input a free variable pinned to its value) give the same
``FinalSettlement`` step where the limit defers a bankrupt short and where it is reached exactly
(tests/rules/test_fidelity_final_settlement_limit.py, with a limit of 1: two bankrupt shorts, the
second deferred; one bankrupt short, deleveraged, the winner's entry past the limit)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_dydx_block_limit as examples
from solvent.rules.events import FinalSettlement


@pytest.mark.parametrize(("shorts", "left"), [(2, {"short01": -examples.LOTS}), (1, {})])
def test_the_limit_at_final_settlement_agrees_on_z3(shorts: int, left: dict) -> None:
    got = pinned_step_agrees(examples.limited(1), examples.shorts(shorts), FinalSettlement(examples.MOVED)).got
    assert {a.name: a.size_lots for a in got.after.traders if a.size_lots < 0} == left
