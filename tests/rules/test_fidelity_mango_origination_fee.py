"""Mango v4's loan origination fee (``[[collateral]] loan_origination_fee_ppm``, rules/lending.py
``origination_fee``): ``Bank::withdraw_with_fee`` adds ``loan_origination_fee_rate × native_amount``
to the borrow and to ``collected_fees_native`` for the part of a withdrawal beyond the deposit
(programs/mango-v4/src/state/bank.rs, github.com/blockworks-foundation/mango-v4); the token group
of its tests registers 0.0005 (programs/mango-v4/tests/program_test/mango_setup.rs).

Mango keeps the fee as a fraction of a native unit (I80F48); the engine's borrow is whole quanta,
the fee rounded by ``rounding.fee`` (up by default). ``test_bankrupt_tokens_insurance_fund``
(programs/mango-v4/tests/cases/test_bankrupt_tokens.rs) borrows 50 of token 0 and asserts the
insurance vault pays ``borrow1_amount + 1`` for it: "the loan origination fees push the borrow
above 50.0 and cause this rounding" (50.025 paid as 51). Here the borrower's collateral is its
perp cash, which a mark gap wipes out, so its liquidation repays none of the borrow and the fund
buys all of it: 51 with the fee, 50 without.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.arith import Rounding
from solvent.rules.assets import Collateral
from solvent.rules.book import Asset, Role, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AssetDeposit, AssetWithdraw, Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import InsuranceFund, TokenLayer
from tests.rules.test_fidelity_lending import FLAT

RATE = 500  # 0.0005, the test group's loan_origination_fee_rate
FUND = Role.INSURANCE_FUND.value
FEES = Role.FEE_ACCOUNT.value


def policy(rate: int = RATE, rounding: Rounding = Rounding.CEIL) -> Policy:
    b1 = Collateral(
        "B1",
        600_000,
        800_000,
        lends=True,
        initial_liability_weight_ppm=1_400_000,  # the test group's init_liab_weight
        maintenance_liability_weight_ppm=1_200_000,
        loan_origination_fee_ppm=rate,
        bankruptcy=(TokenLayer.INSURANCE_FUND, TokenLayer.DEPOSIT_INDEX),
    )
    return Policy(
        "mango-origination", FLAT, deficit=(InsuranceFund(),), collateral=(b1,), rounding=RoundingRule(fee=rounding)
    )


def lent_book(policy: Policy, deposit: int = 100_000):
    """A vault depositing ``deposit`` of B1 (price 1) and cash, and the borrower with 200 of cash."""
    empty = new_book(market="PERP", mark_quote=1_000, traders=("vault", "liqee"), assets=(Asset("B1", 1),))
    events = [AssetDeposit("vault", "B1", deposit), Deposit("vault", 100_000), Deposit("liqee", 200)]
    return run(policy, empty, events)[-1].after


def fees_of(s) -> list[Transfer]:
    return [t for t in s.transfers if t.reason is Reason.LOAN_ORIGINATION_FEE]


class TestTheFeeOnANewBorrow:
    def test_50_borrowed_owe_51(self) -> None:
        """50 × 0.0005 = 0.025, rounded up to one quantum: the borrow is 51, the venue holds 1."""
        s = step(policy(), lent_book(policy()), AssetWithdraw("liqee", "B1", 50))
        assert fees_of(s) == [Transfer("liqee@B1", f"{FEES}@B1", 1, Reason.LOAN_ORIGINATION_FEE)]
        assert s.after.account("liqee").asset_balances == (-51,)
        assert s.after.account(FEES).asset_balances == (1,)
        assert s.after.assets[0].net_deposits == 100_000 - 50  # the fee never left the venue
        view = StepView.of(policy(), s)
        for claim in ("conservation", "spot-isolated", "principal-protected", "loss-bounded-by-collateral"):
            assert get(claim).holds(view), claim

    @pytest.mark.parametrize(
        ("amount", "rounding", "fee"),
        [
            (2_000, Rounding.CEIL, 1),  # 2,000 × 0.0005 = 1 exactly
            (2_001, Rounding.CEIL, 2),  # 1.0005, up
            (2_001, Rounding.FLOOR, 1),  # 1.0005, down: the rounding is the policy's
            (1_999, Rounding.FLOOR, 0),  # 0.9995, down to nothing
        ],
    )
    def test_the_fee_at_a_whole_quantum(self, amount: int, rounding: Rounding, fee: int) -> None:
        p = policy(rounding=rounding)
        start = attrs.evolve(lent_book(p), assets=(Asset("B1", 1, net_deposits=100_000),))
        liqee = attrs.evolve(start.account("liqee"), cash_quote=10_000)
        start = attrs.evolve(
            start.replace_account(start.index("liqee"), liqee), net_deposits_quote=start.net_deposits_quote + 9_800
        )
        s = step(p, start, AssetWithdraw("liqee", "B1", amount))
        assert sum(t.amount_quote for t in fees_of(s)) == fee
        assert s.after.account("liqee").asset_balances == (-(amount + fee),)

    def test_only_the_part_beyond_the_deposit_is_a_new_borrow(self) -> None:
        """A deposit of 30 and a withdrawal of 2,030: the fee is on the 2,000 borrowed, 1; a
        withdrawal within the deposit pays none; an account already borrowing pays on the whole."""
        p = policy()
        start = run(p, lent_book(p), [Deposit("liqee", 10_000), AssetDeposit("liqee", "B1", 30)])[-1].after
        s = step(p, start, AssetWithdraw("liqee", "B1", 2_030))
        assert sum(t.amount_quote for t in fees_of(s)) == 1
        assert fees_of(step(p, start, AssetWithdraw("liqee", "B1", 30))) == []
        again = step(p, s.after, AssetWithdraw("liqee", "B1", 2_001))
        assert sum(t.amount_quote for t in fees_of(again)) == 2
        assert again.after.account("liqee").asset_balances == (-2_001 - 2_003,)

    def test_initial_margin_counts_the_fee(self) -> None:
        """200 of cash and a long of 1 at 1,000 (initial margin 100) leave 100 for the borrow at
        liability weight 1.4: 71 + its fee of 1 weighs 100.8 and is refused, 70 + 1 weighs 99.4.
        Without the fee 71 (99.4) passes."""
        p = policy()
        start = step(p, lent_book(p), Trade("liqee", "vault", 1, 1_000)).after
        with pytest.raises(RejectedEvent, match="free margin"):
            step(p, start, AssetWithdraw("liqee", "B1", 71))
        assert step(p, start, AssetWithdraw("liqee", "B1", 70)).after.account("liqee").asset_balances == (-71,)
        assert step(policy(0), start, AssetWithdraw("liqee", "B1", 71)).after.account("liqee").asset_balances == (-71,)


class TestTheInsuranceVaultPaysTheFee:
    """The borrower's 200 of cash backs a long of 1 at 1,000 and a borrow of 50; the mark gaps to
    700, its cash goes below zero, so its liquidation buys back none of the borrow and the fund
    (1,051, as the test funds its insurance vault) buys what it owes of B1 at the oracle price."""

    @staticmethod
    def gap(rate: int):
        p = policy(rate)
        start = run(
            p,
            lent_book(p),
            [Deposit(FUND, 1_051), Trade("liqee", "vault", 1, 1_000), AssetWithdraw("liqee", "B1", 50)],
        )[-1].after
        return step(p, start, MarkPrice(700))

    def test_the_fund_pays_borrow1_amount_plus_one(self) -> None:
        s = self.gap(RATE)
        bought = [t for t in s.transfers if t.reason is Reason.INSURANCE_FUND and t.destination == "liqee@B1"]
        assert [t.amount_quote for t in bought] == [51]  # insurance_vault_before − borrow1_amount − 1
        assert s.after.account("liqee").asset_balances == (0,)

    def test_without_the_fee_it_pays_50(self) -> None:
        s = self.gap(0)
        bought = [t for t in s.transfers if t.reason is Reason.INSURANCE_FUND and t.destination == "liqee@B1"]
        assert [t.amount_quote for t in bought] == [50]


def test_z3_takes_the_same_fee() -> None:
    from tests.z3_step import z3_step_agrees

    p = policy()
    z3_step_agrees(p, lent_book(p), AssetWithdraw("liqee", "B1", 50))


def test_the_fee_is_written_when_set_needs_a_lent_asset_and_the_preset_states_0() -> None:
    from solvent.rules.loading import dumps_policy, loads_policy

    assert loads_policy(dumps_policy(policy())) == policy() and "loan_origination_fee_ppm = 500" in dumps_policy(
        policy()
    )
    assert "loan_origination_fee_ppm" not in dumps_policy(policy(0))
    with pytest.raises(ValueError, match="'loan_origination_fee_ppm' needs lends = true"):
        Collateral("C1", 600_000, 800_000, loan_origination_fee_ppm=RATE)
    assert [c.loan_origination_fee_ppm for c in load_preset("mango-v4").collateral] == [0, 0]


def test_z3_proves_conservation_for_every_n_and_spot_isolated_with_the_fee() -> None:
    """On a symbolic withdrawal of either sign of balance: per-asset conservation for all N (the
    fee is a ledger transfer inside the venue) and spot-isolated (a trader's own fee is its own
    change, as its interest is)."""
    from solvent.solver.bounds import Bounds
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    scope = Bounds(
        accounts=2, events=1, assets=1, event_kinds=("asset-withdraw",), asset_names=("B1",), effort=5_000_000
    )
    conservation = prove(policy(), "conservation", scope)
    assert conservation.verdict is Verdict.PROVED and "all N" in conservation.method, conservation
    assert prove(policy(), "spot-isolated", scope).verdict is Verdict.PROVED
