"""Lending (issue 13, stage 4; docs/portfolio.md decision 6): a lent asset's balances may go below
zero (a borrow weighed with the liability weight), interest is a per-event index step paid as
transfers, a liquidated borrower repays at the oracle price, and what it cannot repay goes down
the asset's own waterfall (insurance fund, deposit index, lender ADL).

Policy: flat 10x initial, 5% maintenance, no fees; SOL is collateral at 80% initial / 90%
maintenance asset weight and 125% initial / 110% maintenance liability weight, lent, with the
insurance fund then the deposit index behind its borrows. SOL is priced in quote quanta per SOL
quantum (100 to start). carol deposits 1,000 SOL, alice 500; bob deposits 10,000 cash and borrows
60 SOL (at most 10,000 / (100 × 1.25) = 80); the insurance fund holds 1,000.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.arith import Rounding
from solvent.rules.assets import Collateral
from solvent.rules.book import INDEX_ONE, Asset, Book, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AssetDeposit, AssetPrice, AssetWithdraw, Deposit, InterestAccrual
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import LoanExchanged
from solvent.rules.policy import Policy
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking, TokenLayer

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
SOL = Collateral(
    "SOL",
    initial_weight_ppm=800_000,
    maintenance_weight_ppm=900_000,
    lends=True,
    initial_liability_weight_ppm=1_250_000,
    maintenance_liability_weight_ppm=1_100_000,
    bankruptcy=(TokenLayer.INSURANCE_FUND, TokenLayer.DEPOSIT_INDEX),
)
POLICY = Policy("lending", FLAT, deficit=(InsuranceFund(), Adl(Ranking.ORDER)), collateral=(SOL,))
ADL_POLICY = attrs.evolve(POLICY, collateral=(attrs.evolve(SOL, bankruptcy=(TokenLayer.LENDER_ADL,)),))


def funded() -> Book:
    book = new_book(market="BTC", mark_quote=1_000, traders=("alice", "bob", "carol"), assets=(Asset("SOL", 100),))
    events = [
        AssetDeposit("carol", "SOL", 1_000),
        AssetDeposit("alice", "SOL", 500),
        Deposit("bob", 10_000),
        Deposit("insurance_fund", 1_000),
    ]
    return run(POLICY, book, events)[-1].after


def borrowed(policy: Policy = POLICY) -> Book:
    """bob borrowed 60 SOL, then one interest step of 12.5%: he owes 68."""
    return run(policy, funded(), [AssetWithdraw("bob", "SOL", 60), InterestAccrual("SOL", 125_000)])[-1].after


def holds(policy: Policy, s, claim: str) -> bool:
    return get(claim).holds(StepView.of(policy, s))


class TestBorrowing:
    def test_a_borrow_up_to_the_initial_liability_weight_is_accepted_and_one_quantum_more_is_not(self) -> None:
        # free margin = 10,000 − 80 × 100 × 1.25 = 0
        s = step(POLICY, funded(), AssetWithdraw("bob", "SOL", 80))
        assert s.after.account("bob").asset_balances == (-80,)
        assert s.transfers == (Transfer("bob@SOL", "external", 80, Reason.ASSET_WITHDRAWAL),)
        assert s.after.assets[0].net_deposits == 1_420
        with pytest.raises(RejectedEvent, match="free margin"):
            step(POLICY, funded(), AssetWithdraw("bob", "SOL", 81))

    def test_a_borrow_reaches_no_further_than_the_asset_the_venue_holds(self) -> None:
        rich = step(POLICY, funded(), Deposit("bob", 10_000_000)).after
        step(POLICY, rich, AssetWithdraw("bob", "SOL", 1_500))  # every quantum the venue holds
        with pytest.raises(RejectedEvent, match="the venue holds"):
            step(POLICY, rich, AssetWithdraw("bob", "SOL", 1_501))

    def test_an_asset_that_is_not_lent_is_never_borrowed(self) -> None:
        plain = attrs.evolve(POLICY, collateral=(attrs.evolve(SOL, lends=False, bankruptcy=()),))
        with pytest.raises(RejectedEvent, match="the SOL balance"):
            step(plain, funded(), AssetWithdraw("bob", "SOL", 1))
        with pytest.raises(RejectedEvent, match="does not lend SOL"):
            step(plain, funded(), InterestAccrual("SOL", 1_000))

    def test_a_deposit_into_a_borrow_repays_it(self) -> None:
        s = step(POLICY, borrowed(), AssetDeposit("bob", "SOL", 68))
        assert s.after.account("bob").asset_balances == (0,)


class TestInterest:
    def test_an_index_step_is_a_transfer_per_borrower_and_depositor(self) -> None:
        s = step(POLICY, step(POLICY, funded(), AssetWithdraw("bob", "SOL", 60)).after, InterestAccrual("SOL", 125_000))
        # bob pays ⌈60 × 12.5%⌉ = 8; carol ⌊8 × 1,000 / 1,500⌋ = 5, alice ⌊8 × 500 / 1,500⌋ = 2; 1 kept
        assert s.transfers == (
            Transfer("bob@SOL", "fee_account@SOL", 8, Reason.INTEREST),
            Transfer("fee_account@SOL", "alice@SOL", 2, Reason.INTEREST),
            Transfer("fee_account@SOL", "carol@SOL", 5, Reason.INTEREST),
        )
        assert [a.asset_balances[0] for a in s.after.traders] == [502, -68, 1_005]
        assert s.after.account("fee_account").asset_balances == (1,)
        sol = s.after.assets[0]
        assert sol.borrow_index == INDEX_ONE + INDEX_ONE // 8  # 1.125
        assert sol.deposit_index == INDEX_ONE + INDEX_ONE * 7 // 1_500  # 7 of 1,500 paid out
        assert holds(POLICY, s, "conservation") and holds(POLICY, s, "spot-isolated")

    def test_the_venue_keeps_its_share_and_rounds_the_borrower_up(self) -> None:
        fee = attrs.evolve(POLICY, collateral=(attrs.evolve(SOL, interest_fee_ppm=100_000),))
        s = step(fee, step(fee, funded(), AssetWithdraw("bob", "SOL", 60)).after, InterestAccrual("SOL", 250_000))
        # 15 paid, the venue's ⌊1.5⌋ = 1; of 14, carol ⌊9.33⌋ = 9 and alice ⌊4.67⌋ = 4; 2 kept
        assert [a.asset_balances[0] for a in s.after.traders] == [504, -75, 1_009]
        assert s.after.account("fee_account").asset_balances == (2,)
        down = attrs.evolve(fee, rounding=RoundingRule(interest=Rounding.FLOOR))
        s = step(down, step(down, funded(), AssetWithdraw("bob", "SOL", 61)).after, InterestAccrual("SOL", 125_000))
        assert s.after.account("bob").asset_balances == (-68,)  # ⌊7.625⌋ = 7, where ceil pays 8


class TestLiquidation:
    def test_a_flat_borrower_is_liquidated_once_the_borrow_at_its_maintenance_weight_reaches_its_equity(
        self,
    ) -> None:
        # 68 × 133 × 1.1 = 9,948.4 < 10,000: nothing; at 134, 10,023.2 > 10,000: repaid whole
        assert step(POLICY, borrowed(), AssetPrice("SOL", 133)).transfers == ()
        s = step(POLICY, borrowed(), AssetPrice("SOL", 134))
        assert s.transfers == (
            Transfer("liquidity@SOL", "bob@SOL", 68, Reason.BORROW_REPAYMENT),
            Transfer("bob", "liquidity", 9_112, Reason.BORROW_REPAYMENT),
        )
        assert s.outcomes == (LoanExchanged("bob", 9_112 - 10_000),)
        assert s.after.account("bob").cash_quote == 888
        assert holds(POLICY, s, "spot-isolated") and holds(POLICY, s, "principal-protected")

    def test_an_unpaid_borrow_goes_to_the_fund_then_onto_the_deposit_index(self) -> None:
        s = step(POLICY, borrowed(), AssetPrice("SOL", 200))
        # bob's 10,000 buys back 50; the fund's 1,000 buys 5; 13 left over deposits of 1,507:
        # carol ⌈13 × 1,005 / 1,507⌉ = 9, alice ⌈13 × 502 / 1,507⌉ = 5, the extra 1 to the fund
        assert s.transfers == (
            Transfer("liquidity@SOL", "bob@SOL", 50, Reason.BORROW_REPAYMENT),
            Transfer("bob", "liquidity", 10_000, Reason.BORROW_REPAYMENT),
            Transfer("insurance_fund", "liquidity", 1_000, Reason.INSURANCE_FUND),
            Transfer("liquidity@SOL", "bob@SOL", 5, Reason.INSURANCE_FUND),
            Transfer("alice@SOL", "bob@SOL", 5, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("carol@SOL", "bob@SOL", 9, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("bob@SOL", "insurance_fund@SOL", 1, Reason.PRO_RATA_DUST),
        )
        assert [a.asset_balances[0] for a in s.after.traders] == [497, 0, 996]
        before = borrowed().assets[0].deposit_index
        assert s.after.assets[0].deposit_index == before - -(-before * 13 // 1_507)  # cut by ⌈13/1,507⌉
        # the depositors paid a borrower's loss: neither spot-isolated nor principal-protected holds
        assert not holds(POLICY, s, "spot-isolated")
        assert not holds(POLICY, s, "principal-protected")
        assert holds(POLICY, s, "conservation")

    def test_without_layers_the_unpaid_borrow_stays_the_venues(self) -> None:
        bare = attrs.evolve(POLICY, collateral=(attrs.evolve(SOL, bankruptcy=()),))
        s = step(bare, borrowed(bare), AssetPrice("SOL", 200))
        assert s.after.account("bob").asset_balances == (-18,)
        assert holds(bare, s, "spot-isolated") and holds(bare, s, "conservation")

    def test_backpacks_lender_adl_pays_lenders_the_usd_value(self) -> None:
        s = step(ADL_POLICY, borrowed(ADL_POLICY), AssetPrice("SOL", 200))
        # 18 missing: carol gives ⌈18 × 1,005 / 1,507⌉ = 13 and gets 2,600; alice 6 for 1,200
        assert [t for t in s.transfers if t.reason is Reason.LENDER_ADL] == [
            Transfer("alice@SOL", "bob@SOL", 6, Reason.LENDER_ADL),
            Transfer("bob", "alice", 1_200, Reason.LENDER_ADL),
            Transfer("carol@SOL", "bob@SOL", 13, Reason.LENDER_ADL),
            Transfer("bob", "carol", 2_600, Reason.LENDER_ADL),
        ]
        assert s.after.account("bob").cash_quote == -3_800
        assert not holds(ADL_POLICY, s, "spot-isolated")  # the lenders' SOL was taken
        assert holds(ADL_POLICY, s, "principal-protected")  # at its oracle value, in USDC
        assert not holds(ADL_POLICY, s, "claims-backed")  # what they were paid is bob's debt


class TestPolicyText:
    def test_lending_keys_round_trip_and_a_table_that_lends_nothing_is_written_as_before(self) -> None:
        text = dumps_policy(POLICY)
        assert "lends = true" in text and 'bankruptcy = [\n    "insurance_fund",\n    "deposit_index",\n]' in text
        assert loads_policy(text) == POLICY
        plain = attrs.evolve(POLICY, collateral=(Collateral("SOL", 800_000, 900_000),))
        assert "lends" not in dumps_policy(plain) and "liability" not in dumps_policy(plain)
        assert "interest" not in dumps_policy(plain) and "deposit_loss" not in dumps_policy(plain)

    def test_a_bankruptcy_layer_on_an_asset_that_is_not_lent_is_refused(self) -> None:
        with pytest.raises(ValueError, match="'bankruptcy' needs lends = true"):
            Collateral("SOL", 800_000, 900_000, bankruptcy=(TokenLayer.DEPOSIT_INDEX,))
        with pytest.raises(ValueError, match="'initial_liability_weight_ppm' must be >="):
            Collateral(
                "SOL",
                800_000,
                900_000,
                lends=True,
                initial_liability_weight_ppm=1_050_000,
                maintenance_liability_weight_ppm=1_100_000,
            )


class TestOneSemantics:
    """z3 runs the same transition on the same lending book: every value agrees."""

    @pytest.mark.parametrize(
        ("policy", "start", "event"),
        [
            ("deposit_index", "funded", AssetWithdraw("bob", "SOL", 80)),
            ("deposit_index", "lent", InterestAccrual("SOL", 125_000)),
            ("deposit_index", "borrowed", AssetPrice("SOL", 133)),
            ("deposit_index", "borrowed", AssetPrice("SOL", 134)),
            ("deposit_index", "borrowed", AssetPrice("SOL", 200)),
            ("lender_adl", "borrowed", AssetPrice("SOL", 200)),
        ],
        ids=repr,
    )
    def test_the_symbolic_engine_agrees(self, policy: str, start: str, event) -> None:
        from tests.z3_step import z3_step_agrees

        p = {"deposit_index": POLICY, "lender_adl": ADL_POLICY}[policy]
        lent = step(p, funded(), AssetWithdraw("bob", "SOL", 60)).after
        concrete = {"funded": funded(), "lent": lent, "borrowed": borrowed(p)}[start]
        z3_step_agrees(p, concrete, event)
