"""Bybit's ADL price on the tick on both interpreters: the concrete ``step`` and z3's
``transition`` (every input a free variable pinned to its value) give the same fills, transfers and
books in the worked example (tests/rules/test_fidelity_bybit_adl_tick.py tells it)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_bybit_adl_tick as example
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import AdlFill

CASES = {
    "long rounded up": (True, example.book(), 985, 5),
    "short rounded down": (True, example.book(side=-1), 1_015, 5),
    "already on the tick": (True, example.book(alice_cash=20), 985, 5),
    "not on the tick without the field": (False, example.book(), 985, 3),
}


@pytest.mark.parametrize("name", CASES)
def test_the_tick_rounding_agrees_on_z3(name: str) -> None:
    on_tick, book, mark, gap = CASES[name]
    got = pinned_step_agrees(example.policy(on_tick), book, MarkPrice(mark)).got
    assert [o.gap_per_lot_quote for o in got.outcomes if isinstance(o, AdlFill) and o.lots] == [gap]
