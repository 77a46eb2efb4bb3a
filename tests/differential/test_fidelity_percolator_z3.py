"""percolator's generations on both interpreters: the concrete ``step`` and z3's ``transition``
(every input a free variable pinned to its value) give the same step at each worked example of
tests/rules/test_fidelity_percolator.py: Gen A's quarter haircut and its warm-up window, Gen B's
reserve out of the haircut's reach, its fund first, a loss taking the reserve, the reserve
maturing at the window's end and a flat account's matured profit converting."""

from __future__ import annotations

import attrs
import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_percolator as examples
from solvent.rules.events import MarkPrice
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Release


def _flat_alice():
    book = examples.stressed_book(bob_reserve=40)
    i = book.index("alice")
    return book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=0, cost_quote=0))


CASES = {
    "gen a: h is a quarter": (lambda: load_preset("percolator-gen-a"), lambda: examples.TestGenerationA().book(), 120),
    "gen a: the window's last event vests": (
        lambda: examples._with("percolator-gen-a", warmup_events=2),
        lambda: examples.stressed_book(clock=1),
        100,
    ),
    "gen b: the reserve is out of reach": (
        examples.gen_b_haircut,  # the fund's remainder to h, as with no opposing position left
        lambda: examples.stressed_book(bob_reserve=40, fund=0),
        120,
    ),
    "gen b: the fund pays first": (
        lambda: load_preset("percolator-gen-b"),
        lambda: examples.stressed_book(bob_reserve=40, fund=100),
        120,
    ),
    "gen b: a loss takes the reserve, then capital": (
        lambda: load_preset("percolator-gen-b"),
        lambda: examples.stressed_book(bob_reserve=40),
        70,
    ),
    "gen b: the reserve matures at the window's end": (
        lambda: examples._with("percolator-gen-b", warmup_events=2, release=Release.WINDOW_END),
        lambda: examples.stressed_book(bob_reserve=40, clock=1),
        100,
    ),
    "gen b: a flat account's matured profit converts": (lambda: load_preset("percolator-gen-b"), _flat_alice, 100),
}


#: bob's reserve after the step (Gen B keeps it as his window PnL), as the concrete examples state it
RESERVE = {
    "gen b: the reserve is out of reach": 62,
    "gen b: a loss takes the reserve, then capital": 0,
    "gen b: the reserve matures at the window's end": 0,
    "gen b: a flat account's matured profit converts": 39,  # 1 released as the event opened
}


@pytest.mark.parametrize("name", CASES)
def test_the_worked_example_agrees_on_z3(name: str) -> None:
    policy, book, mark = CASES[name]
    got = pinned_step_agrees(policy(), book(), MarkPrice(mark)).got
    if name in RESERVE:
        assert got.after.account("bob").window_pnl_quote == RESERVE[name]
