"""A pool's own bankruptcy (``rules/pool_bankruptcy.py``) on both interpreters: the concrete
``step`` and z3's ``transition`` (every input a free variable pinned to its value) give the same
deleveraging of a depleted pool's position, in BitMEX's worked example for the insurance fund
(tests/rules/test_fidelity_fund_bankruptcy.py, with session 23's bound: at most its lots' loss in the move,
and session 24's funding event, which deleverages nothing) and the JELLY example for Hyperliquid's liquidator
vault (tests/rules/test_fidelity_vault_adl.py; session 27: the vault a funding payment takes below zero is
deleveraged at that sweep)."""

from __future__ import annotations

import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_fidelity_fund_bankruptcy as example
import tests.rules.test_fidelity_vault_adl as jelly
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice


def _held(policy, b):
    """The book after mark 994: the fund holding alice's 1,000 lots."""
    return run(policy, b, [MarkPrice(994)])[-1].after


CASES = {
    # depleted at 985: bob pays 4 a lot, the fund ends flat at 0
    "depleted": (example.BITMEX, lambda: example.book(1_000), (0, 0)),
    # exactly zero: it keeps holding, half goes to the book
    "at zero": (example.BITMEX, lambda: example.book(5_000), (0, 500)),
    # one quantum below: 1 a lot, the fund keeps 999 of rounding
    "one below": (example.BITMEX, lambda: example.book(4_999), (999, 0)),
    # two winners, closed whole
    "two winners": (example.BITMEX, lambda: example.book(1_000, bob=-600, carl=-400), (0, 0)),
    # the book exempt: a residual of 1,600
    "residual": (example.exempt_book(), lambda: example.book(1_000, bob=-600, resting=-400), (-1_600, 0)),
    # session 23, the fund deleveraged for at most its lots' loss in the move: at it (D = L = 9,000)
    "loss at the deficit": (example.BITMEX, lambda: example.book(-4_000), (0, 0)),
    # a quantum taken over before: closed for L, the fund keeps -1
    "a quantum beyond": (example.BITMEX, lambda: example.book(-4_001), (-1, 0)),
    # D = L - 1: 9 a lot, the fund keeps 1 of rounding
    "a quantum within": (example.BITMEX, lambda: example.book(-3_999), (1, 0)),
}

#: session 23's trigger: a fund at -6,000 holding 1,000 long, the mark after (its lots' loss 0, a gain, 1,000)
TRIGGER = {994: (-6_000, 500), 996: (-4_000, 500), 993: (-6_000, 0)}


@pytest.mark.parametrize("name", CASES)
def test_the_funds_bankruptcy_agrees_on_z3(name: str) -> None:
    policy, book, fund = CASES[name]
    got = pinned_step_agrees(policy, _held(policy, book()), MarkPrice(985)).got
    f = got.after.account("insurance_fund")
    assert (f.cash_quote, f.size_lots) == fund


@pytest.mark.parametrize("mark", TRIGGER)
def test_the_funds_trigger_agrees_on_z3(mark: int) -> None:
    got = pinned_step_agrees(example.BITMEX, _held(example.BITMEX, example.book(-10_000)), MarkPrice(mark)).got
    f = got.after.account("insurance_fund")
    assert (f.cash_quote, f.size_lots) == TRIGGER[mark]


@pytest.mark.parametrize("x", example.FUNDING_CASES)
def test_a_funding_sweep_agrees_on_z3(x: int) -> None:
    """Session 24: after the takeover at 994, funding at 500 ppm takes the fund to x − 497 (−1, 0, +1):
    not deleveraged on z3 either, bob paid exactly the 497 he receives."""
    held = _held(example.BITMEX, example.book(-4_000 + x))
    got = pinned_step_agrees(example.BITMEX, held, Funding(500)).got
    f = got.after.account("insurance_fund")
    assert (f.cash_quote, f.size_lots) == example.FUNDING_CASES[x][0]
    assert got.after.account("bob").cash_quote == held.account("bob").cash_quote + 497


VAULT_CASES = {
    # below zero: deleveraged at the previous mark, back to its balance before the move
    "vault below zero": (jelly.VAULT, (103_347_410, 0)),
    # exactly zero: it keeps holding
    "vault at zero": (435_449_910 - 3_347_410, (0, -jelly.WHALE)),
}


@pytest.mark.parametrize("name", VAULT_CASES)
def test_the_vaults_adl_agrees_on_z3(name: str) -> None:
    vault, expected = VAULT_CASES[name]
    held = run(jelly.HYPERLIQUID, jelly.book(vault), [MarkPrice(9_658)])[-1].after
    got = pinned_step_agrees(jelly.HYPERLIQUID, held, MarkPrice(20_000)).got
    v = got.after.account("backstop_vault")
    assert (v.cash_quote, v.size_lots) == expected


@pytest.mark.parametrize("x", (4_066, 4_067))
def test_the_vault_at_a_funding_sweep_agrees_on_z3(x: int) -> None:
    """Session 27: after the takeover at 9,658, funding at −10 ppm takes the vault to x − 4,067 (−1, 0): at
    −1 it is deleveraged at the funding sweep on z3 too, alice paying the 1 (per fill) and both closed; at 0
    it holds on, alice and bob paid exactly their funding (+1, as 0, is told on the concrete engine only:
    each z3 twin of the funding sweep takes about 1.5-2.4 s)."""
    held = run(jelly.HYPERLIQUID, jelly.book(x - jelly.TAKEN_OVER), [MarkPrice(9_658)])[-1].after
    got = pinned_step_agrees(jelly.HYPERLIQUID, held, Funding(-10)).got
    v = got.after.account("backstop_vault")
    assert (v.cash_quote, v.size_lots) == jelly.FUNDING_CASES[x][0]
    for name, received in jelly.RECEIVED.items():
        assert got.after.account(name).cash_quote == held.account(name).cash_quote + received - jelly.AT_SWEEP[x][name]


def test_the_vault_below_zero_where_its_lots_gained_agrees_on_z3() -> None:
    """At −100,000 holding the short (a residual's), the move its short gains 42,105 on leaves it holding
    at −57,895 on z3 too: at a mark move the trigger is its lots' loss (session 24's)."""
    got = pinned_step_agrees(jelly.HYPERLIQUID, jelly.below_zero(-jelly.WHALE), MarkPrice(9_657)).got
    v = got.after.account("backstop_vault")
    assert (v.cash_quote, v.size_lots) == (-57_895, -jelly.WHALE)
