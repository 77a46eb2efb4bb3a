"""The funding cap of tests/rules/test_funding_cap.py on z3 (session 26): the engine's own
requirement, read on a free rate, accepts exactly [−40,000, 40,000] on Hyperliquid; z3's
``transition`` pays a rate at the cap as the concrete step does; the prover's bounds
(``solver.bounds.for_policy``) narrow to the cap and never widen a smaller bound, and the verdict's
scope says the rates it covers."""

from __future__ import annotations

import attrs
import pytest
import z3
from test_engine_step import pinned_step_agrees

from solvent.rules.engine import step
from solvent.rules.events import Funding
from solvent.rules.presets import load_preset
from solvent.rules.settlement import FundingRule
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import fixed_text
from solvent.solver.symbolic import symbolic_requirements, variable_book, variable_event
from tests.rules.test_funding_cap import CAP, HYPERLIQUID, UNCAPPED, book


def accepted(policy, rate: int) -> z3.CheckSatResult:
    """Whether the engine's requirements on a free book and a free rate allow ``rate``."""
    vbook, _ = variable_book(book())
    vev, (r,) = variable_event(Funding(0))
    solver = z3.Solver()
    solver.set(rlimit=1_000_000)
    solver.add(*(req.holds for req in symbolic_requirements(policy, vbook, vev)), r == rate)
    return solver.check()


@pytest.mark.parametrize("sign", [1, -1], ids=["longs pay", "shorts pay"])
def test_z3_accepts_the_cap_and_not_one_ppm_beyond(sign: int) -> None:
    assert accepted(HYPERLIQUID, sign * CAP) == z3.sat
    assert accepted(HYPERLIQUID, sign * (CAP + 1)) == z3.unsat
    assert accepted(UNCAPPED, sign * (CAP + 1)) == z3.sat
    assert accepted(UNCAPPED, sign * 1_000_001) == z3.unsat


def test_a_payment_at_the_cap_agrees_on_z3() -> None:
    got = pinned_step_agrees(HYPERLIQUID, book(), Funding(-CAP)).got
    assert got.after == step(HYPERLIQUID, book(), Funding(-CAP)).after
    assert (got.after.account("alice").cash_quote, got.after.account("bob").cash_quote) == (104_000, 96_000)


def test_the_bounds_narrow_to_the_cap_and_never_widen() -> None:
    assert for_policy(Bounds(), HYPERLIQUID).max_rate_ppm == CAP
    assert for_policy(Bounds(max_rate_ppm=CAP + 1), HYPERLIQUID).max_rate_ppm == CAP
    assert for_policy(Bounds(max_rate_ppm=CAP), HYPERLIQUID).max_rate_ppm == CAP
    assert for_policy(Bounds(max_rate_ppm=CAP - 1), HYPERLIQUID).max_rate_ppm == CAP - 1
    assert for_policy(Bounds(), UNCAPPED).max_rate_ppm == 1_000_000
    assert for_policy(Bounds(), load_preset("binance")).max_rate_ppm == 1_000_000
    capped = attrs.evolve(UNCAPPED, funding=FundingRule(max_rate_ppm=1))
    assert for_policy(Bounds(), capped).max_rate_ppm == 1
    assert "funding rates within ±40,000 ppm" in fixed_text(for_policy(Bounds(), HYPERLIQUID))
