"""A lent asset's rate curve on both interpreters (rules/rate_curve.py): the concrete ``step`` and
z3's ``transition`` (every input a free variable pinned to its value) give the same interest, the
same transfers and indices at and around each preset curve's kinks (tests/rules/test_rate_curve.py
tells the cases), and z3's proof side draws an interest step on a curve by its seconds."""

from __future__ import annotations

import attrs
import pytest
from test_engine_step import pinned_step_agrees

import tests.rules.test_rate_curve as example
from solvent.rules.events import InterestAccrual
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict

D = 10**12
CASES = {
    # Drift's optimum and first kink, one ppm of utilization either side
    "drift below the optimum": ("drift", "SOL", 699_999, example.YEAR),
    "drift at the optimum": ("drift", "SOL", 700_000, example.YEAR),
    "drift above the optimum": ("drift", "SOL", 700_001, example.YEAR),
    "drift at the first kink": ("drift", "SOL", 850_000, example.YEAR),
    "drift past the first kink": ("drift", "SOL", 850_001, example.YEAR),
    # Mango's util0 and util1
    "mango at util0": ("mango-v4", "USDC", 400_000, example.YEAR),
    "mango past util0": ("mango-v4", "USDC", 400_001, example.YEAR),
    "mango at util1": ("mango-v4", "USDC", 800_000, example.YEAR),
    # Backpack's hour at half utilization
    "backpack an hour": ("backpack", "SOL", 500_000, 3_600),
}


@pytest.mark.parametrize("name", CASES)
def test_the_curve_agrees_on_z3(name: str) -> None:
    preset, asset, utilization, seconds = CASES[name]
    start = example.book(asset, {"alice": D}, {"bob": utilization * D // 10**6})
    pinned_step_agrees(example.policy(preset, asset), start, InterestAccrual(asset, seconds=seconds))


@pytest.mark.parametrize("seconds", [3_600, example.YEAR])
def test_settlement_interest_agrees_on_z3(seconds: int) -> None:
    """Backpack's negative USDC is a borrow ([settlement_lending]): the step on the traders' cash."""
    from tests.rules.test_settlement_lending import BACKPACK, TestTheBorrowBearsInterest

    pinned_step_agrees(BACKPACK, TestTheBorrowBearsInterest.START, InterestAccrual("", seconds=seconds))


def test_a_proof_draws_an_interest_step_on_a_curve_by_its_seconds() -> None:
    drift = load_preset("drift")
    bounds = for_policy(Bounds(accounts=2, assets=1, event_kinds=("interest",), asset_names=("SOL",)), drift)
    assert bounds.curve_assets == ("SOL",)
    book, _ = symbolic_book(bounds)
    (slot,) = slots(book, bounds)
    assert [v.label for v in slot.variants] == ["interest on SOL by its curve"]
    (variant,) = slot.variants
    assert variant.event.rate_ppm is None and str(variant.event.seconds) == "e1.seconds"
    plain = attrs.evolve(drift, collateral=(attrs.evolve(drift.collateral[0], rate_curve=()),))
    assert for_policy(bounds, plain).curve_assets == ()
    # backpack lends its settlement cash too: a variant on it beside SOL's curve
    backpack = for_policy(bounds, load_preset("backpack"))
    assert backpack.curve_assets == ("SOL", "")
    (slot,) = slots(symbolic_book(backpack)[0], backpack)
    assert [v.label for v in slot.variants] == ["interest on SOL by its curve", "interest on settlement cash"]


@pytest.mark.deep
def test_conservation_per_asset_holds_for_every_n_with_interest_on_a_curve() -> None:
    """The small lending policy of tests/solver/test_lending_proof.py with Drift's curve on its lent
    asset: proved for all N in 20M units (13 s at load 12)."""
    from tests.solver.test_lending_proof import LENDING, SOL

    curve = load_preset("drift").collateral[0].rate_curve
    curved = attrs.evolve(LENDING, collateral=(attrs.evolve(SOL, rate_curve=curve),))
    kinds = ("interest", "asset-withdraw", "asset-deposit")
    bounds = Bounds(accounts=2, events=1, assets=1, event_kinds=kinds, effort=20_000_000, asset_names=("SOL",))
    result = prove(curved, "conservation", bounds)
    assert result.verdict is Verdict.PROVED, result
    assert "all N" in result.method
