"""Drift's liquidation sized to the margin shortage plus its buffer on both interpreters: the
concrete ``step`` and z3's ``transition`` (every input a free variable pinned to its value) give
the same step for Drift's worked examples, the preset's exact boundary, a mark whose 1% is not a
whole quantum, and a rate not above zero
(tests/rules/test_fidelity_drift_shortage.py)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_drift_collateral as collateral
import tests.rules.test_fidelity_drift_shortage as examples
from solvent.rules.events import MarkPrice

CASES = {
    "a 1% fee: 11,112 lots": (examples.example, 40_000_000, examples.LOTS, examples.MARK, 38_888),
    "the preset at maintenance plus buffer exactly": (
        lambda: examples.DRIFT,
        20_000_000,
        examples.LOTS,
        examples.MARK,
        20_000,
    ),
    "a price off the fee's grid": (examples.example, 40_000_000, examples.LOTS, 10_001, examples.LOTS - 11_128),
    "a rate of zero closes whole": (
        lambda: examples.example(mmr_ppm=100_000, buffer_ppm=0, fee_ppm=0, if_fee_ppm=100_000),
        2_000_000 - 1,
        2_000_000,
        10,
        0,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_sizing_agrees_on_z3(name: str) -> None:
    policy, cash, lots, mark, left = CASES[name]
    got = pinned_step_agrees(policy(), examples.book(cash, lots, mark), MarkPrice(mark)).got
    assert got.after.account("alice").size_lots == left


SPOT_CASES = {
    "a deposit stays under a partial order": (-70_000_000, collateral.ONE_SOL, 20_000, (collateral.ONE_SOL,)),
    "a borrow stays under a partial order": (130_000_000, -collateral.ONE_SOL, 20_000, (-collateral.ONE_SOL,)),
    "the last partial order": (10_000_500 - 90_000_000, collateral.ONE_SOL, 1, (collateral.ONE_SOL,)),
    "one quantum less: whole, 850 quanta sold": (10_000_499 - 90_000_000, collateral.ONE_SOL, 0, (150,)),
}


@pytest.mark.parametrize("name", SPOT_CASES)
def test_the_spot_balances_agree_on_z3(name: str) -> None:
    """tests/rules/test_fidelity_drift_collateral.py on z3: the branch between an order short of
    the whole position (no spot balance moves) and the whole close (collateral sold first)."""
    cash, sol, left, balances = SPOT_CASES[name]
    got = pinned_step_agrees(collateral.DRIFT, collateral.book(cash, sol), MarkPrice(collateral.MARK)).got
    assert got.after.account("alice").size_lots == left
    assert got.after.account("alice").asset_balances == balances
