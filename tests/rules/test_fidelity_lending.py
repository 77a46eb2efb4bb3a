"""Fidelity of the lending loss layers (issue 13; rules/lending.py): each venue's own published
numbers for an unpaid borrow, run through the engine (an oracle event whose sweep liquidates the
borrower), not through a formula function.

- Drift: ``calculate_cumulative_deposit_interest_delta_to_resolve_bankruptcy``'s test
  ``non_zero_total_deposits`` (github.com/drift-labs/protocol-v2 at 01c0b68,
  programs/drift/src/math/liquidation/tests.rs): a loss of 11 USDC over 120 USDC of deposits
  with the cumulative deposit interest at 1.0 (``SPOT_CUMULATIVE_INTEREST_PRECISION`` = 1e10)
  moves it by 916,666,667 (``safe_div_ceil``, programs/drift/src/math/liquidation.rs).
- Mango v4: ``test_bankrupt_tokens_socialize_loss`` (github.com/blockworks-foundation/mango-v4,
  programs/mango-v4/tests/cases/test_bankrupt_tokens.rs): after the borrower's collateral is
  liquidated its borrow of token 1 is −350 + 1000 / 20 / 1.02 + 20 / 20 / 1.02 = −300 (the test's
  own arithmetic; the 2% liquidation fee behind it is not modelled, so the book starts there), and
  ``TokenLiqBankruptcy`` leaves the only depositor at its position before plus −300; the borrow
  is wiped.
- Mango v4's token liquidation fee: the same test from its start (the 2% fee of its test group,
  mango_setup.rs ``liquidation_fee: 0.02``): the liqee's collateral buys back 1,000 / 20 / 1.02 +
  20 / 20 / 1.02 = 50 of the borrow of 350, leaving the 300 above.
- Backpack: "For borrow and lend, ADL pays lenders the USD value instead of the token: a lender of
  1 BTC at $100,000 receives $100,000 USDC" (support.backpack.exchange/technical-docs/borrow-and-lend/risks,
  docs/venues.md#backpack-liquidation).
"""

from __future__ import annotations

import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.assets import Collateral
from solvent.rules.book import INDEX_ONE, SYSTEM_ROLES, Account, Asset, Book, Market, Role, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import AssetDeposit, AssetPrice, AssetWithdraw
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.waterfall import InsuranceFund, TokenLayer

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
USDC = 1_000_000  # quanta of 0.000001 USDC, the settlement quantum too (price 1)


def lent(name: str, layer: TokenLayer, weight: int = 1_000_000) -> Collateral:
    return Collateral(name, weight, weight, lends=True, bankruptcy=(layer,))


def book(asset: Asset, balances: dict[str, int]) -> Book:
    """A book whose traders hold ``balances`` of ``asset`` and no cash or position."""
    traders = tuple(Account(name, asset_balances=(b,)) for name, b in balances.items())
    system = tuple(Account(r.value, role=r, asset_balances=(0,)) for r in SYSTEM_ROLES)
    asset = Asset(asset.name, asset.price_quote, net_deposits=sum(balances.values()))
    return Book(Market("PERP", 1_000), traders + system, assets=(asset,))


class TestDriftDepositIndex:
    POLICY = Policy(
        "drift-token", FLAT, deficit=(InsuranceFund(),), collateral=(lent("USDC", TokenLayer.DEPOSIT_INDEX),)
    )

    def test_a_loss_of_11_over_120_of_deposits_cuts_the_index_by_916666667(self) -> None:
        start = book(Asset("USDC", 1), {"alice": 80 * USDC, "carol": 40 * USDC, "bob": -11 * USDC})
        s = step(self.POLICY, start, AssetPrice("USDC", 1))
        assert s.after.assets[0].deposit_index == INDEX_ONE - 916_666_667
        # the depositors pay the 11 USDC pro rata, each share rounded up, the extra quantum to the fund
        assert [t for t in s.transfers if t.reason is Reason.DEPOSIT_INDEX_LOSS] == [
            Transfer("alice@USDC", "bob@USDC", 7_333_334, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("carol@USDC", "bob@USDC", 3_666_667, Reason.DEPOSIT_INDEX_LOSS),
        ]
        assert s.after.account("bob").asset_balances == (0,)
        assert s.after.account(Role.INSURANCE_FUND.value).asset_balances == (1,)
        assert not get("principal-protected").holds(StepView.of(self.POLICY, s))
        assert get("conservation").holds(StepView.of(self.POLICY, s))


class TestMangoTokenBankruptcy:
    POLICY = Policy(
        "mango-token", FLAT, deficit=(InsuranceFund(),), collateral=(lent("TOKEN1", TokenLayer.DEPOSIT_INDEX),)
    )

    def test_the_only_depositor_pays_the_whole_unpaid_borrow_of_300(self) -> None:
        vault = 100_020 - 50  # its deposits in the two banks, less what it paid as liquidator
        start = book(Asset("TOKEN1", 20), {"vault": vault, "liqee": -300})
        s = step(self.POLICY, start, AssetPrice("TOKEN1", 20))
        assert s.after.account("vault").asset_balances == (vault - 300,)
        assert s.after.account("liqee").asset_balances == (0,)  # the borrow is wiped
        assert s.after.assets[0].deposit_index == INDEX_ONE - -(-INDEX_ONE * 300 // vault)


class TestMangoTokenLiquidationFee:
    """test_bankrupt_tokens_socialize_loss from its start, through the engine: the liqee deposits
    1,000 of collateral token 1 and 20 of token 2 (price 1) and borrows 350 of token B1 and 50 of
    B2; B1's oracle goes to 20; its collateral is liquidated against B1 at the liquidation fee of
    the test group (0.02, mango_setup.rs): −350 + 1,000 / 20 / 1.02 + 20 / 20 / 1.02 = −300 (the
    test's own arithmetic), which the vault, the only depositor, then pays through B1's deposit
    index, and B2's 50 through B2's (``vault_amount − borrow2_amount``). The liquidator is the
    book here (the test's is the vault account)."""

    @staticmethod
    def policy(fee: int) -> Policy:
        def token(name: str) -> Collateral:
            return Collateral(
                name,
                600_000,
                800_000,
                lends=True,
                initial_liability_weight_ppm=1_400_000,
                maintenance_liability_weight_ppm=1_200_000,
                liquidation_fee_ppm=fee,
                bankruptcy=(TokenLayer.INSURANCE_FUND, TokenLayer.DEPOSIT_INDEX),
            )

        collateral = (token("B1"), token("B2"), Collateral("C1", 600_000, 800_000), Collateral("C2", 600_000, 800_000))
        return Policy("mango-tokens", FLAT, deficit=(InsuranceFund(),), collateral=collateral)

    @staticmethod
    def start(policy: Policy) -> Book:
        assets = tuple(Asset(n, 1) for n in ("B1", "B2", "C1", "C2"))
        empty = new_book(market="PERP", mark_quote=1_000, traders=("vault", "liqee"), assets=assets)
        events = [
            AssetDeposit("vault", "B1", 100_020),  # vault_amount, and the 20 in bank 0
            AssetDeposit("vault", "B2", 100_000),
            AssetDeposit("liqee", "C1", 1_000),
            AssetDeposit("liqee", "C2", 20),
            AssetWithdraw("liqee", "B1", 350),
            AssetWithdraw("liqee", "B2", 50),
        ]
        return run(policy, empty, events)[-1].after

    def test_the_borrow_left_is_300_and_the_vault_pays_it(self) -> None:
        policy = self.policy(20_000)
        s = step(policy, self.start(policy), AssetPrice("B1", 20))
        repaid = [t for t in s.transfers if t.reason is Reason.BORROW_REPAYMENT]
        assert [(t.source, t.destination, t.amount_quote) for t in repaid if t.amount_quote] == [
            ("liquidity@B1", "liqee@B1", 50),  # 1,020 / (20 × 1.02)
            ("liqee", "liquidity", 1_020),
        ]
        paid = {t.source: t.amount_quote for t in s.transfers if t.reason is Reason.DEPOSIT_INDEX_LOSS}
        assert paid == {"vault@B1": 300, "vault@B2": 50}
        assert s.after.account("vault").asset_balances[:2] == (100_020 - 300, 100_000 - 50)
        assert s.after.account("liqee").asset_balances == (0, 0, 0, 0)

    def test_without_the_fee_the_liqee_buys_back_51_and_the_vault_pays_299(self) -> None:
        policy = self.policy(0)
        s = step(policy, self.start(policy), AssetPrice("B1", 20))
        paid = {t.source: t.amount_quote for t in s.transfers if t.reason is Reason.DEPOSIT_INDEX_LOSS}
        assert paid == {"vault@B1": 299, "vault@B2": 50}


class TestBackpackLenderAdl:
    POLICY = Policy("backpack-lend", FLAT, deficit=(InsuranceFund(),), collateral=(lent("BTC", TokenLayer.LENDER_ADL),))

    def test_a_lender_of_1_btc_at_100000_receives_100000_usdc(self) -> None:
        sats = 100_000_000  # one BTC in quanta of 0.00000001 BTC
        price = 100_000 * USDC // sats  # USDC quanta per BTC quantum at $100,000
        start = book(Asset("BTC", price), {"lender": sats, "borrower": -sats})
        s = step(self.POLICY, start, AssetPrice("BTC", price))
        assert [t for t in s.transfers if t.reason is Reason.LENDER_ADL] == [
            Transfer("lender@BTC", "borrower@BTC", sats, Reason.LENDER_ADL),
            Transfer("borrower", "lender", 100_000 * USDC, Reason.LENDER_ADL),
        ]
        assert s.after.account("lender").cash_quote == 100_000 * USDC
        assert get("principal-protected").holds(StepView.of(self.POLICY, s))  # paid in USD terms
        assert not get("spot-isolated").holds(StepView.of(self.POLICY, s))  # but the BTC is gone


def test_the_token_liquidation_fee_agrees_on_z3_and_needs_a_lent_asset() -> None:
    from solvent.rules.loading import dumps_policy, loads_policy
    from tests.z3_step import z3_step_agrees

    fee = TestMangoTokenLiquidationFee
    policy = fee.policy(20_000)
    start, event = fee.start(policy), AssetPrice("B1", 20)
    z3_step_agrees(policy, start, event)
    assert loads_policy(dumps_policy(policy)) == policy and "liquidation_fee_ppm = 20000" in dumps_policy(policy)
    assert "liquidation_fee_ppm" not in dumps_policy(fee.policy(0))
    with pytest.raises(ValueError, match="'liquidation_fee_ppm' needs lends = true"):
        Collateral("C1", 600_000, 800_000, liquidation_fee_ppm=20_000)
