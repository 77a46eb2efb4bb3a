"""Drift keeps one unit in its insurance fund: ``resolve_perp_bankruptcy`` pays
``min(loss, IF_vault_balance − 1, quote_max_insurance − quote_settled_insurance)``, "subtract 1 so
insurance_fund_vault_balance always stays >= 1" (programs/drift/src/controller/liquidation.rs,
github.com/drift-labs/protocol-v2; docs/venues.md#drift-v2-bankruptcy). The ``drift`` preset says
so with ``floor_quote = 1`` on its insurance-fund layer (rules/insurance_fund.py ``pay_from``).

The book is the worked example of tests/rules/test_fidelity_round_two.py (``TestDriftSocializedLoss``):
the mark gaps 100 → 130 and bob's deficit is 2,200. Only the fund's balance changes here.

- A fund of 2,201 (deficit + 1) pays the deficit whole and keeps its one quantum; nothing is
  socialized.
- A fund of 2,200 (exactly the deficit) pays 2,199; the last quantum goes down the waterfall: the
  fee pool is empty, so 1 is socialized over the 220 open lots (each share rounded up to 1 for the
  three holders, the dust of 2 to the fund).
"""

from __future__ import annotations

import attrs

from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import LayerUsed
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import InsuranceFund
from tests.rules.test_fidelity_round_two import _drift_book, _evolve

DEFICIT = 2_200


def run(fund: int):
    book = _evolve(_drift_book(390), insurance_fund={"cash_quote": fund})
    s = step(load_preset("drift"), book, MarkPrice(130))
    layers = [(o.layer, o.covered_quote, o.exhausted) for o in s.outcomes if isinstance(o, LayerUsed)]
    social = {t.source: t.amount_quote for t in s.transfers if t.reason.value == "socialized loss"}
    return layers, social, s.after.account("insurance_fund").cash_quote


def test_the_preset_keeps_one_quantum_in_the_fund() -> None:
    assert load_preset("drift").layer(InsuranceFund).floor_quote == 1


def test_a_fund_of_the_deficit_plus_one_pays_it_whole() -> None:
    layers, social, fund = run(DEFICIT + 1)
    assert layers == [("insurance_fund", DEFICIT, True)]  # down to its floor: spent
    assert social == {}
    assert fund == 1


def test_a_fund_of_exactly_the_deficit_passes_the_last_quantum_down() -> None:
    layers, social, fund = run(DEFICIT)
    assert layers == [
        ("insurance_fund", DEFICIT - 1, True),
        ("fee_pool", 0, True),
        ("socialized_loss", 1, True),
    ]
    assert social == {"alice": 1, "carol": 1, "liquidity": 1}  # ⌈1 × lots / 220⌉ each
    assert fund == 1 + 2  # its floor and the pro-rata dust


def test_without_the_floor_the_same_fund_pays_the_deficit_whole() -> None:
    """The control: the preset's layer at floor 0 (what it declared before) empties the fund."""
    drift = load_preset("drift")
    layers = tuple(attrs.evolve(x, floor_quote=0) if isinstance(x, InsuranceFund) else x for x in drift.deficit)
    book = _evolve(_drift_book(390), insurance_fund={"cash_quote": DEFICIT})
    s = step(attrs.evolve(drift, deficit=layers), book, MarkPrice(130))
    assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [("insurance_fund", DEFICIT)]
    assert s.after.account("insurance_fund").cash_quote == 0
