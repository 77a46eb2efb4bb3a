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
- Backpack: "For borrow and lend, ADL pays lenders the USD value instead of the token: a lender of
  1 BTC at $100,000 receives $100,000 USDC" (support.backpack.exchange/technical-docs/borrow-and-lend/risks,
  docs/venues.md#backpack-liquidation).
"""

from __future__ import annotations

from solvent.properties.catalog import StepView, get
from solvent.rules.assets import Collateral
from solvent.rules.book import INDEX_ONE, SYSTEM_ROLES, Account, Asset, Book, Market, Role
from solvent.rules.engine import step
from solvent.rules.events import AssetPrice
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
