"""Percolator Gen B's insurance floor (issue 15): "Real bankruptcy losses MUST first consume the
Insurance Fund down to I_floor" (spec v11.31 §5.6; ``use_insurance_buffer`` spends ``I − I_floor``,
§4.11; docs/venues.md#percolator-generations). ``[[deficit]] layer = "insurance_fund"`` takes
``floor_quote``; the ``percolator-gen-b`` preset declares percolator's tests' default, 0.

The worked example is the README's stressed book on Gen B (tests/rules/test_fidelity_percolator.py):
the mark rises 100 → 120 and dave is bankrupt by 150; the fund holds 100. What the fund leaves goes
to the matured-profit haircut, as when no opposing position is left (``gen_b_haircut``; with the
longs there the preset charges them per lot: tests/rules/test_fidelity_percolator_side_index.py).

- No floor: the fund pays 100 and the matured-profit haircut 50.
- I_floor 40: the fund pays the 60 above it and the haircut 90; the fund keeps 40.
- I_floor 99: it pays 1. I_floor 100, the whole balance: it pays nothing and, being at its floor,
  is exhausted, so the haircut takes all 150 (waterfall-order holds: a fund at its floor is spent).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.rules import insurance_fund
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import LayerUsed
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import InsuranceFund
from tests.rules.test_fidelity_percolator import gen_b_haircut, stressed_book
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught


def policy(floor: int):
    gen_b = gen_b_haircut()  # the fund's remainder to h, as with no opposing position left
    layers = tuple(attrs.evolve(x, floor_quote=floor) if isinstance(x, InsuranceFund) else x for x in gen_b.deficit)
    return attrs.evolve(gen_b, deficit=layers)


def run(floor: int):
    s = step(policy(floor), stressed_book(bob_reserve=40, fund=100), MarkPrice(120))
    layers = [(o.layer, o.covered_quote, o.exhausted) for o in s.outcomes if isinstance(o, LayerUsed)]
    return layers, s.after.account("insurance_fund").cash_quote


def test_the_preset_declares_percolators_default() -> None:
    assert load_preset("percolator-gen-b").layer(InsuranceFund).floor_quote == 0


@pytest.mark.parametrize(
    ("floor", "fund_paid", "haircut", "kept"),
    [(0, 100, 50, 1), (40, 60, 90, 41), (99, 1, 149, 100), (100, 0, 150, 101)],
)
def test_the_fund_pays_down_to_its_floor(floor: int, fund_paid: int, haircut: int, kept: int) -> None:
    layers, fund = run(floor)
    assert layers == [("insurance_fund", fund_paid, True), ("haircut_ratio", haircut, True)]
    assert fund == kept  # the floor, and a quantum of the haircut's rounding dust where h rounds


def test_a_fund_at_its_floor_is_spent_for_the_waterfall_order() -> None:
    p = policy(100)
    s = step(p, stressed_book(bob_reserve=40, fund=100), MarkPrice(120))
    assert catalog.get("waterfall-order").holds(catalog.StepView.of(p, s)) is True


def test_a_floor_above_the_balance_pays_nothing() -> None:
    assert run(150) == ([("insurance_fund", 0, True), ("haircut_ratio", 150, True)], 101)


def _fee_pool_pays_what_it_has():
    """Drift's waterfall (fund, fee pool, socialized loss) with 100 in the fee pool: a pool pays what
    it holds, not all or nothing (pay_from's default, which only the insurance fund overrides)."""
    from solvent.rules.book import Role
    from tests.rules.test_fidelity_round_two import _drift, _drift_book

    b = _drift_book(390)
    i = b.index(b.role(Role.FEE_ACCOUNT).name)
    b = b.replace_account(i, attrs.evolve(b.accounts[i], cash_quote=100))
    b = attrs.evolve(b, net_deposits_quote=b.net_deposits_quote + 100)
    s = step(_drift(), b, MarkPrice(130))
    return [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]


def _all_or_nothing_at_the_deficit(fund: int):
    """dYdX's fund, all or nothing, holding exactly carl's deficit (999) or a quantum less."""
    from solvent.rules.book import Role
    from tests.rules.test_fidelity_dydx_deleveraging import MOVED, book
    from tests.rules.test_fidelity_dydx_deleveraging import policy as dydx

    b = book()
    i = b.index(b.role(Role.INSURANCE_FUND).name)
    b = b.replace_account(i, attrs.evolve(b.accounts[i], cash_quote=fund))
    b = attrs.evolve(b, net_deposits_quote=b.net_deposits_quote + fund)
    s = step(dydx(), b, MarkPrice(MOVED))
    return [(o.account, o.layer, o.covered_quote, o.exhausted) for o in s.outcomes if isinstance(o, LayerUsed)]


def observe():
    out = [*(run(f) for f in (0, 40, 99, 100, 150)), _fee_pool_pays_what_it_has()]
    return [*out, _all_or_nothing_at_the_deficit(999), _all_or_nothing_at_the_deficit(998)]


def test_every_mutant_of_pay_from_is_caught(monkeypatch) -> None:
    from solvent.rules import bankruptcy

    assert_every_mutant_is_caught(monkeypatch, insurance_fund, "pay_from", observe, at_least=2, importers=(bankruptcy,))
