"""Drift keeps one unit in a spot market's insurance fund too: ``resolve_spot_bankruptcy`` pays
``if_payment = min(borrow_amount, insurance_fund_vault_balance − 1)`` ("subtract 1 so
insurance_fund_vault_balance always stays >= 1") and socializes ``borrow_amount − if_payment``
through the deposit index (programs/drift/src/controller/liquidation.rs,
github.com/drift-labs/protocol-v2 at e88cc47; docs/venues.md#drift-v2-bankruptcy). Solvent states
it as ``[[collateral]] fund_floor_quote`` (rules/lending.py ``_fund_buys``); the perp side's floor
is tests/rules/test_fidelity_drift_fund_floor.py.

The book is Drift's own deposit-index example (``non_zero_total_deposits``,
programs/drift/src/math/liquidation/tests.rs, as in tests/rules/test_fidelity_lending.py): 120 USDC
deposited (alice 80, carol 40) and bob's borrow of 11 USDC that nothing of his repays, USDC lent at
price 1 with Drift's waterfall (fund, then deposit index). Only the fund's cash changes.

- A fund of 11 USDC + 1 quantum (borrow + 1) buys the whole borrow and keeps its one quantum;
  no depositor pays, the deposit index stays at 1.0.
- A fund of exactly 11 USDC pays all but one quantum; that one is socialized: each depositor's
  share ⌈1 × d / 120 USDC⌉ is 1 (the extra quantum to the fund), the index falls by
  ⌈1e10 × 1 / 120e6⌉ = 84 (Drift's ``safe_div_ceil``).
- Floor 0 (the control): the same fund pays the borrow whole.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.assets import Collateral
from solvent.rules.book import INDEX_ONE, Asset, Book, Role
from solvent.rules.engine import step
from solvent.rules.events import AssetPrice
from solvent.rules.ledger import Reason
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import InsuranceFund, TokenLayer
from tests.rules.test_fidelity_lending import FLAT, USDC, book

BORROW = 11 * USDC
WATERFALL = (TokenLayer.INSURANCE_FUND, TokenLayer.DEPOSIT_INDEX)


def policy(floor: int) -> Policy:
    usdc = Collateral("USDC", PPM, PPM, lends=True, bankruptcy=WATERFALL, fund_floor_quote=floor)
    return Policy("drift-spot", FLAT, deficit=(InsuranceFund(),), collateral=(usdc,))


PPM = 1_000_000
FUND = Role.INSURANCE_FUND.value


def with_fund(b: Book, fund: int) -> Book:
    """``b`` with ``fund`` quanta of cash in the insurance fund, counted in the net deposits."""
    i = b.index(FUND)
    b = b.replace_account(i, attrs.evolve(b.accounts[i], cash_quote=fund))
    return attrs.evolve(b, net_deposits_quote=b.net_deposits_quote + fund)


def start(fund: int) -> Book:
    return with_fund(book(Asset("USDC", 1), {"alice": 80 * USDC, "carol": 40 * USDC, "bob": -BORROW}), fund)


def run(fund: int, floor: int = 1):
    s = step(policy(floor), start(fund), AssetPrice("USDC", 1))
    by_fund = sum(t.amount_quote for t in s.transfers if t.reason is Reason.INSURANCE_FUND and t.source == FUND)
    social = {t.source: t.amount_quote for t in s.transfers if t.reason is Reason.DEPOSIT_INDEX_LOSS}
    return s, by_fund, social


def test_the_preset_keeps_one_quote_quantum_back_from_its_spot_fund() -> None:
    (sol,) = load_preset("drift").collateral
    assert sol.fund_floor_quote == 1 and sol.bankruptcy == WATERFALL


def test_a_fund_of_the_borrow_plus_one_pays_it_whole() -> None:
    s, paid, social = run(BORROW + 1)
    assert paid == BORROW
    assert social == {}
    assert s.after.account(FUND).cash_quote == 1
    assert s.after.account("bob").asset_balances == (0,)
    assert s.after.assets[0].deposit_index == INDEX_ONE


def test_a_fund_of_exactly_the_borrow_socializes_the_last_quantum() -> None:
    s, paid, social = run(BORROW)
    assert paid == BORROW - 1
    assert social == {"alice@USDC": 1, "carol@USDC": 1}  # ⌈1 × d / 120 USDC⌉ each
    assert s.after.account(FUND).cash_quote == 1
    assert s.after.account(FUND).asset_balances == (1,)  # the pro-rata dust
    assert s.after.account("bob").asset_balances == (0,)
    assert s.after.assets[0].deposit_index == INDEX_ONE - 84


def test_without_the_floor_the_same_fund_pays_the_borrow_whole() -> None:
    s, paid, social = run(BORROW, floor=0)
    assert (paid, social, s.after.account(FUND).cash_quote) == (BORROW, {}, 0)


def test_the_preset_floor_on_sol_at_its_oracle_price() -> None:
    """The ``drift`` preset's SOL (100,000 quote quanta a quantum at $100): a fund worth the
    borrow exactly buys one quantum less; one quote quantum more buys it whole."""
    drift = load_preset("drift")
    price, borrow = 100_000, 7
    b = book(Asset("SOL", price), {"alice": 30, "bob": -borrow})
    for fund, bought in ((borrow * price, borrow - 1), (borrow * price + 1, borrow)):
        s = step(drift, with_fund(b, fund), AssetPrice("SOL", price))
        got = [t.amount_quote for t in s.transfers if t.reason is Reason.INSURANCE_FUND and t.source == "liquidity@SOL"]
        assert got == [bought]
        assert s.after.account("alice").asset_balances == (30 - (borrow - bought),)


@pytest.mark.parametrize("fund", [BORROW, BORROW + 1])
def test_z3_runs_the_same_floor(fund: int) -> None:
    from tests.z3_step import z3_step_agrees

    z3_step_agrees(policy(1), start(fund), AssetPrice("USDC", 1))


def test_the_floor_is_written_when_set_and_needs_the_fund_layer() -> None:
    from solvent.rules.loading import dumps_policy, loads_policy

    assert loads_policy(dumps_policy(policy(1))) == policy(1) and "fund_floor_quote = 1" in dumps_policy(policy(1))
    assert "fund_floor_quote" not in dumps_policy(policy(0))
    with pytest.raises(ValueError, match="'fund_floor_quote' needs \"insurance_fund\" in bankruptcy"):
        Collateral("USDC", PPM, PPM, lends=True, bankruptcy=(TokenLayer.DEPOSIT_INDEX,), fund_floor_quote=1)
