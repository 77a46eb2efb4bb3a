"""The insurance fund holding a taken-over position (``liquidation.fund_unwind_ppm``) on both
interpreters: the concrete ``step`` and z3's ``transition`` (every input a free variable pinned to
its value) give the same takeover, the same settlement of what the fund holds and the same unwind
into the book, in BitMEX's worked example (tests/rules/test_fidelity_fund_holds.py tells it)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_fund_holds as example
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice


def _held(unwind_ppm: int | None, *marks: int):
    """The book after ``marks``: the fund holding what it took over at the first."""
    return run(example.policy(unwind_ppm), example.book(), [MarkPrice(m) for m in marks])[-1].after


CASES = {
    # alice below maintenance at 994: the fund takes her 1,000 lots and the 4,000 left
    "taken over at 994": (500_000, lambda: example.book(), MarkPrice(994), 1_000),
    # gapped to 980: the fund pays her deficit, then takes the position
    "bankrupt at 980": (500_000, lambda: example.book(), MarkPrice(980), 1_000),
    # held through 985: settled, then half sent to the book
    "held to 985": (500_000, lambda: _held(500_000, 994), MarkPrice(985), 500),
    # one lot at least
    "one lot at 1 ppm": (1, lambda: _held(1, 994), MarkPrice(985), 999),
    # funding on what it holds, and the funding sweep unwinds too
    "funding": (500_000, lambda: _held(500_000, 994), Funding(1_000), 500),
    # without the field the takeover closes at once
    "without the field": (None, lambda: example.book(), MarkPrice(994), 0),
}


@pytest.mark.parametrize("name", CASES)
def test_the_fund_holds_agrees_on_z3(name: str) -> None:
    unwind, book, event, held = CASES[name]
    got = pinned_step_agrees(example.policy(unwind), book(), event).got
    assert got.after.account("insurance_fund").size_lots == held
