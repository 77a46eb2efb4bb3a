"""Collateral assets (issue 13, stage 2; docs/portfolio.md decision 2): balances in their own
quanta, priced on the book, counted as margin at the policy's weights, sold on liquidation.

Policy: flat 10x initial (10%), 5% maintenance, no fees, liquidation at mark with no penalty, an
insurance fund then ADL by book order, and one collateral asset USDe counted at 80% for initial
and 90% for maintenance margin. USDe is priced in quote quanta per USDe quantum (100 = par).
alice holds 1,000 USDe quanta and no cash: 80,000 of initial margin, 90,000 of maintenance value
at par; she buys 720 BTC lots at 1,000 (initial margin 72,000, maintenance 36,000), so at a
mark of 1,000 she is liquidated exactly when 900 × price < 36,000: below a USDe price of 40.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.properties.findings import story_from_data, story_to_data
from solvent.properties.scenarios import Story
from solvent.rules.assets import Collateral, account_value, collateral_value, margin_equity, sell_collateral
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AssetDeposit, AssetPrice, AssetWithdraw, Deposit, MarkPrice, Trade
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.liquidation import LiquidationRule, Order, Trigger
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Bankrupt, LayerUsed, Liquidated, LoanExchanged, Residual
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
USDE = Collateral("USDe", initial_weight_ppm=800_000, maintenance_weight_ppm=900_000, quantum="0.01 USDe")
POLICY = Policy("collateral", FLAT, deficit=(InsuranceFund(), Adl(Ranking.ORDER)), collateral=(USDE,))


def book() -> Book:
    return new_book(market="BTC", mark_quote=1_000, traders=("alice", "bob"), assets=(Asset("USDe", 100),))


def opened(lots: int = 720) -> Book:
    steps = run(
        POLICY,
        book(),
        [AssetDeposit("alice", "USDe", 1_000), Deposit("bob", 10_000_000), Trade("alice", "bob", lots, 1_000)],
    )
    return steps[-1].after


def holds(policy: Policy, s, claim: str) -> bool:
    return get(claim).holds(StepView.of(policy, s))


class TestBalances:
    def test_a_deposit_is_a_transfer_in_asset_quanta_and_counts_in_the_assets_net_deposits(self) -> None:
        s = step(POLICY, book(), AssetDeposit("alice", "USDe", 1_000))
        assert s.transfers == (Transfer("external", "alice@USDe", 1_000, Reason.ASSET_DEPOSIT),)
        assert s.after.account("alice").asset_balances == (1_000,)
        assert s.after.assets == (Asset("USDe", 100, net_deposits=1_000),)
        assert s.after.account("alice").cash_quote == 0 and s.after.net_deposits_quote == 0
        assert holds(POLICY, s, "conservation")

    def test_a_withdrawal_leaves_initial_margin_covered_to_the_quantum(self) -> None:
        b = opened(lots=720)  # initial margin 72,000: 900 quanta × 100 × 80% = 72,000 must stay
        s = step(POLICY, b, AssetWithdraw("alice", "USDe", 100))
        assert s.after.account("alice").asset_balances == (900,)
        assert s.after.assets[0].net_deposits == 900
        assert holds(POLICY, s, "conservation") and holds(POLICY, s, "spot-isolated")
        with pytest.raises(RejectedEvent, match="free margin"):
            step(POLICY, b, AssetWithdraw("alice", "USDe", 101))

    def test_unknown_asset_and_more_than_the_balance_are_rejected(self) -> None:
        with pytest.raises(RejectedEvent, match="unknown asset 'USDT'"):
            step(POLICY, book(), AssetDeposit("alice", "USDT", 1))
        with pytest.raises(RejectedEvent, match="the USDe balance"):
            step(POLICY, book(), AssetWithdraw("alice", "USDe", 1))

    def test_the_book_checks_one_balance_per_asset(self) -> None:
        b = book()
        with pytest.raises(ValueError, match="one balance per asset"):
            Book(b.market, b.accounts, assets=(*b.assets, Asset("wBETH", 5)))


class TestWeights:
    def test_value_is_balance_times_price_times_weight_floored_and_capped(self) -> None:
        alice = attrs.evolve(book().account("alice"), asset_balances=(333,))
        assets = (Asset("USDe", 7),)
        # 333 × 7 = 2,331; × 80% = 1,864.8 → 1,864; × 90% = 2,097.9 → 2,097
        assert collateral_value(POLICY, assets, alice, initial=True) == 1_864
        assert collateral_value(POLICY, assets, alice, initial=False) == 2_097
        capped = attrs.evolve(POLICY, collateral=(attrs.evolve(USDE, cap_quote=2_000),))
        assert collateral_value(capped, assets, alice, initial=False) == 2_000
        assert collateral_value(capped, assets, alice, initial=True) == 1_864
        assert account_value(POLICY, assets, alice) == 2_331
        isolated = attrs.evolve(alice, margin_mode=alice.margin_mode.ISOLATED)
        assert margin_equity(POLICY, assets, isolated) == 0

    def test_opening_uses_the_initial_weight_to_the_lot(self) -> None:
        assert opened(lots=800).account("alice").size_lots == 800  # IM 80,000 = 1,000 × 100 × 80%
        with pytest.raises(RejectedEvent, match="initial margin"):
            opened(lots=801)

    @pytest.mark.parametrize(
        ("trigger", "liquidated_at_40"), [(Trigger.BELOW_MAINTENANCE, False), (Trigger.AT_OR_BELOW_MAINTENANCE, True)]
    )
    def test_the_trigger_uses_the_maintenance_weight_at_the_boundary(
        self, trigger: Trigger, liquidated_at_40: bool
    ) -> None:
        policy = attrs.evolve(POLICY, liquidation=LiquidationRule(trigger=trigger))
        b = opened()
        at = step(policy, b, AssetPrice("USDe", 40))  # equity 1,000 × 40 × 90% = 36,000 = maintenance
        assert any(isinstance(o, Liquidated) for o in at.outcomes) is liquidated_at_40
        below = step(policy, b, AssetPrice("USDe", 39))  # 35,100 < 36,000
        (liq,) = [o for o in below.outcomes if isinstance(o, Liquidated)]
        assert (liq.equity_quote, liq.maintenance_quote) == (35_100, 36_000)
        assert below.after.account("alice").size_lots == 0
        # nothing owed at the mark it opened at: no collateral sold, the account keeps it all
        assert below.after.account("alice").asset_balances == (1_000,)

    def test_a_policy_without_the_asset_counts_none_of_it(self) -> None:
        bare = attrs.evolve(POLICY, collateral=())
        with pytest.raises(RejectedEvent, match="initial margin"):
            run(
                bare,
                book(),
                [AssetDeposit("alice", "USDe", 1_000), Deposit("bob", 10**7), Trade("alice", "bob", 1, 1_000)],
            )


class TestLiquidation:
    def moved(self) -> Book:
        """Mark 1,000 → 960: alice's cash is −28,800, backed by her USDe (a loan, not a loss)."""
        s = step(POLICY, opened(), MarkPrice(960))
        assert s.after.account("alice").cash_quote == -28_800
        assert not any(isinstance(o, Liquidated) for o in s.outcomes)
        for claim in ("no-negative-equity", "claims-backed", "loss-bounded-by-collateral", "conservation"):
            assert holds(POLICY, s, claim), claim
        return s.after

    def test_collateral_is_sold_at_the_oracle_price_as_far_as_the_account_owes(self) -> None:
        s = step(POLICY, self.moved(), AssetPrice("USDe", 30))  # 27,000 − 28,800 < maintenance
        alice = s.after.account("alice")
        # ⌈28,800 / 30⌉ = 960 quanta sold to the book for 28,800: cash back to 0, 40 quanta kept
        assert (alice.cash_quote, alice.asset_balances, alice.size_lots) == (0, (40,), 0)
        assert Transfer("alice@USDe", "liquidity@USDe", 960, Reason.COLLATERAL_SALE) in s.transfers
        assert Transfer("liquidity", "alice", 28_800, Reason.COLLATERAL_SALE) in s.transfers
        assert not any(isinstance(o, Bankrupt) for o in s.outcomes)
        for claim in ("conservation", "spot-isolated", "no-negative-equity", "liquidation-only-below-maintenance"):
            assert holds(POLICY, s, claim), claim

    def test_a_depeg_leaves_bad_debt_when_every_quantum_is_sold(self) -> None:
        s = step(POLICY, self.moved(), AssetPrice("USDe", 20))  # 1,000 × 20 = 20,000 < 28,800 owed
        assert Transfer("alice@USDe", "liquidity@USDe", 1_000, Reason.COLLATERAL_SALE) in s.transfers
        assert [o for o in s.outcomes if isinstance(o, Bankrupt)] == [Bankrupt("alice", 8_800)]
        assert s.after.account("alice").asset_balances == (0,)
        assert s.after.account("liquidity").asset_balances == (1_000,)
        assert holds(POLICY, s, "conservation") and holds(POLICY, s, "spot-isolated")

    def test_the_quanta_sold_round_up_so_the_sale_covers_what_is_owed(self) -> None:
        s = step(POLICY, self.moved(), AssetPrice("USDe", 31))  # 27,900 − 28,800 < maintenance
        # ⌈28,800 / 31⌉ = 930 (929.03…): 28,830 for the account, 30 more than owed, kept as cash
        assert Transfer("alice@USDe", "liquidity@USDe", 930, Reason.COLLATERAL_SALE) in s.transfers
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.asset_balances) == (30, (70,))
        assert not any(isinstance(o, Bankrupt) for o in s.outcomes)

    def test_several_assets_are_sold_in_the_books_order_as_far_as_owed(self) -> None:
        wbeth = Collateral("wBETH", initial_weight_ppm=500_000, maintenance_weight_ppm=600_000)
        policy = attrs.evolve(POLICY, collateral=(USDE, wbeth))
        b = new_book(
            market="BTC", mark_quote=1_000, traders=("alice", "bob"), assets=(Asset("USDe", 100), Asset("wBETH", 50))
        )
        events = [
            AssetDeposit("alice", "USDe", 100),  # 10,000 at par: 8,000 initial, 9,000 maintenance
            AssetDeposit("alice", "wBETH", 1_000),  # 50,000: 25,000 initial, 30,000 maintenance
            Deposit("bob", 10_000_000),
            Trade("alice", "bob", 300, 1_000),  # initial margin 30,000 of 33,000
            MarkPrice(900),  # −30,000 in cash: 9,000 + 30,000 − 30,000 = 9,000 < maintenance 13,500
        ]
        last = run(policy, b, events)[-1]
        sales = [t for t in last.transfers if t.reason is Reason.COLLATERAL_SALE]
        # owed 30,000: all 100 USDe (10,000) first, then ⌈20,000 / 50⌉ = 400 wBETH
        assert sales == [
            Transfer("alice@USDe", "liquidity@USDe", 100, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 10_000, Reason.COLLATERAL_SALE),
            Transfer("alice@wBETH", "liquidity@wBETH", 400, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 20_000, Reason.COLLATERAL_SALE),
        ]
        assert last.after.account("alice").asset_balances == (0, 600)
        assert last.after.account("alice").cash_quote == 0

    def test_a_sale_outside_the_accounts_own_liquidation_breaks_spot_isolated(self) -> None:
        s = step(POLICY, self.moved(), AssetPrice("USDe", 30))
        (liquidated,) = [o for o in s.outcomes if isinstance(o, Liquidated)]
        forged = attrs.evolve(s, outcomes=tuple(o for o in s.outcomes if o is not liquidated))
        assert not holds(POLICY, forged, "spot-isolated")


class TestFlatLoan:
    """alice closes her long at 960 at a loss: flat, cash −28,800, a loan backed by 1,000 USDe.
    Her collateral at the maintenance weight is 900 × price: the loan is due (loan-to-value 1)
    at a USDe price of 32, not at 33."""

    def flat(self) -> Book:
        s = step(POLICY, TestLiquidation().moved(), Trade("bob", "alice", 720, 960))
        alice = s.after.account("alice")
        assert (alice.size_lots, alice.cash_quote, alice.asset_balances) == (0, -28_800, (1_000,))
        return s.after

    def test_above_the_loan_nothing_is_sold(self) -> None:
        s = step(POLICY, self.flat(), AssetPrice("USDe", 33))  # 29,700 > 28,800
        assert not any(isinstance(o, LoanExchanged) for o in s.outcomes)
        assert s.after.account("alice").asset_balances == (1_000,)

    def test_at_the_loan_the_collateral_is_exchanged_as_far_as_owed(self) -> None:
        s = step(POLICY, self.flat(), AssetPrice("USDe", 32))  # 28,800 = 28,800: loan-to-value 1
        assert LoanExchanged("alice", 28_800) in s.outcomes
        assert Transfer("alice@USDe", "liquidity@USDe", 900, Reason.COLLATERAL_SALE) in s.transfers
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.asset_balances) == (0, (100,))
        for claim in ("spot-isolated", "conservation", "claims-backed", "no-negative-equity"):
            assert holds(POLICY, s, claim), claim

    def test_a_gap_below_the_loan_takes_what_is_unbacked_down_the_waterfall(self) -> None:
        s = step(POLICY, self.flat(), AssetPrice("USDe", 20))  # all 1,000 sold for 20,000
        assert s.after.account("alice").asset_balances == (0,)
        # 8,800 unbacked: the empty fund is asked, ADL has no position to close, the rest stays
        assert Bankrupt("alice", 8_800) in s.outcomes
        assert LayerUsed("alice", 0, "insurance_fund", 0, True) in s.outcomes
        assert LayerUsed("alice", 1, "adl", 0, True) in s.outcomes
        assert Residual("alice", 8_800) in s.outcomes
        assert s.after.account("alice").cash_quote == -8_800
        assert not holds(POLICY, s, "claims-backed")  # a real finding: nobody pays the 8,800
        for claim in ("conservation", "spot-isolated", "deficit-charged-once", "flat-accounts-never-pay"):
            assert holds(POLICY, s, claim), claim

    @pytest.mark.parametrize(("fund", "paid", "left"), [(8_800, 8_800, 0), (8_799, 8_799, 1)])
    def test_the_insurance_fund_pays_an_unbacked_loan_to_the_quantum(self, fund: int, paid: int, left: int) -> None:
        b = self.flat()
        fund_at = b.index("insurance_fund")
        b = b.replace_account(fund_at, attrs.evolve(b.accounts[fund_at], cash_quote=fund))
        b = b.with_fields(net_deposits_quote=b.net_deposits_quote + fund)
        s = step(POLICY, b, AssetPrice("USDe", 20))
        assert Transfer("insurance_fund", "alice", paid, Reason.INSURANCE_FUND) in s.transfers
        assert s.after.account("alice").cash_quote == -left
        assert holds(POLICY, s, "claims-backed") is (left == 0)
        assert (Residual("alice", left) in s.outcomes) is (left > 0)
        assert holds(POLICY, s, "conservation") and holds(POLICY, s, "deficit-charged-once")

    def test_a_loan_the_collateral_covers_never_reaches_the_waterfall(self) -> None:
        s = step(POLICY, self.flat(), AssetPrice("USDe", 29))  # 29,000 ≥ 28,800: 994 quanta sold
        assert not any(isinstance(o, (Bankrupt, LayerUsed)) for o in s.outcomes)
        assert s.after.account("alice").cash_quote == 26  # 994 × 29 = 28,826

    def test_an_unbacked_loan_is_resolved_once(self) -> None:
        first = step(POLICY, self.flat(), AssetPrice("USDe", 20))
        again = step(POLICY, first.after, AssetPrice("USDe", 19))
        assert not any(isinstance(o, (Bankrupt, LayerUsed, Residual)) for o in again.outcomes)


class TestFlatLoanOnZ3:
    """z3 runs the same flat-loan steps: the exchange, the waterfall it may reach, the discount."""

    @pytest.mark.parametrize(
        ("policy", "price", "fund"),
        [
            (POLICY, 33, 0),  # nothing due
            (POLICY, 32, 0),  # exchanged, covered
            (POLICY, 20, 0),  # unbacked: the empty fund, ADL reached, a residual
            (POLICY, 20, 8_799),  # the fund pays all but 1
            (attrs.evolve(POLICY, collateral=(attrs.evolve(USDE, sale_value_ppm=975_000),)), 29, 0),
        ],
        ids=repr,
    )
    def test_the_symbolic_engine_agrees(self, policy: Policy, price: int, fund: int) -> None:
        from tests.z3_step import z3_step_agrees

        concrete = TestFlatLoan().flat()
        if fund:
            at = concrete.index("insurance_fund")
            concrete = concrete.replace_account(at, attrs.evolve(concrete.accounts[at], cash_quote=fund))
            concrete = concrete.with_fields(net_deposits_quote=concrete.net_deposits_quote + fund)
        event = AssetPrice("USDe", price)
        z3_step_agrees(policy, concrete, event)


class TestConversionDiscount:
    """Binance's auto exchange converts at 97.5% ("20,000 BUSD / 97.5% = 20,513 BUSD of the BTC",
    binance.com/en/futures/trading-rules/perpetual/multi-asset-info): ``sale_value_ppm``."""

    POLICY = attrs.evolve(POLICY, collateral=(attrs.evolve(USDE, sale_value_ppm=975_000),))

    def test_binances_example_sells_20513_of_value_for_20000(self) -> None:
        b = new_book(market="BTC", mark_quote=1_000, traders=("alice", "bob"), assets=(Asset("BTC", 1),))
        btc = Collateral("BTC", initial_weight_ppm=950_000, maintenance_weight_ppm=950_000, sale_value_ppm=975_000)
        policy = attrs.evolve(POLICY, collateral=(btc,))
        b = run(policy, b, [AssetDeposit("alice", "BTC", 100_000)])[-1].after
        ctx = Ctx(b)
        ctx = sell_collateral(policy, ctx, "alice", 20_000)
        sold = [e.item for e in ctx.entries]
        # ⌈20,000 / 0.975⌉ = 20,513 quanta at 1 each; ⌊20,513 × 0.975⌋ = 20,000 credited
        assert sold == [
            Transfer("alice@BTC", "liquidity@BTC", 20_513, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 20_000, Reason.COLLATERAL_SALE),
        ]

    def test_a_liquidation_sells_at_the_discount_and_one_quantum_less_would_not_cover(self) -> None:
        s = step(self.POLICY, TestLiquidation().moved(), AssetPrice("USDe", 30))
        # owed 28,800 at 30 × 97.5% = 29.25 a quantum: ⌈28,800 / 29.25⌉ = 985 (984.6…)
        assert Transfer("alice@USDe", "liquidity@USDe", 985, Reason.COLLATERAL_SALE) in s.transfers
        # ⌊985 × 30 × 0.975⌋ = ⌊28,811.25⌋ = 28,811; 984 would give 28,782 < 28,800
        assert Transfer("liquidity", "alice", 28_811, Reason.COLLATERAL_SALE) in s.transfers
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.asset_balances) == (11, (15,))
        assert holds(self.POLICY, s, "conservation") and holds(self.POLICY, s, "spot-isolated")

    def test_the_discount_turns_a_covered_loan_into_bad_debt(self) -> None:
        # at 29 the oracle value 29,000 covers the 28,800 loan; at 97.5% it fetches 28,275
        s = step(self.POLICY, TestFlatLoan().flat(), AssetPrice("USDe", 29))
        assert Bankrupt("alice", 525) in s.outcomes
        assert holds(self.POLICY, s, "conservation")

    def test_the_field_loads_and_writes_only_when_set(self) -> None:
        text = dumps_policy(self.POLICY)
        assert "sale_value_ppm = 975000" in text
        assert loads_policy(text) == self.POLICY
        assert "sale_value_ppm" not in dumps_policy(POLICY)


class TestOneAsset:
    def test_a_book_without_assets_writes_as_before(self) -> None:
        story = Story(new_book(mark_quote=1_000), (Deposit("alice", 5),))
        data = story_to_data(story)
        assert "assets" not in data["book"]
        assert all("asset_balances" not in a for a in data["book"]["accounts"])
        assert story_from_data(data) == story

    def test_a_book_with_assets_replays_from_its_data(self) -> None:
        story = Story(book(), (AssetDeposit("alice", "USDe", 1_000), AssetPrice("USDe", 30)))
        data = story_to_data(story)
        assert data["book"]["assets"] == [{"name": "USDe", "price_quote": 100, "net_deposits": 0}]
        assert story_from_data(data) == story

    def test_a_policy_without_collateral_writes_as_before_and_one_with_reads_back(self) -> None:
        bare = Policy("x", FLAT)
        text = dumps_policy(bare)
        assert "[[collateral]]" not in text and "\ncollateral" not in text and "\ncollateral = " not in text
        assert loads_policy(dumps_policy(POLICY)) == POLICY


class TestOneSemantics:
    """z3 runs the same transition on the same book with collateral: every value agrees."""

    @pytest.mark.parametrize(
        ("start", "event"),
        [
            ("opened", AssetPrice("USDe", 40)),  # at the boundary: nobody liquidated
            ("opened", AssetPrice("USDe", 39)),  # liquidated, nothing owed, nothing sold
            ("moved", AssetPrice("USDe", 30)),  # part of the collateral sold
            ("moved", AssetPrice("USDe", 20)),  # all of it sold, bad debt down the waterfall
            ("moved", MarkPrice(900)),
            ("opened", AssetWithdraw("alice", "USDe", 100)),
            ("opened", AssetDeposit("bob", "USDe", 7)),
            ("flat", AssetPrice("USDe", 32)),  # a flat account's loan exchanged
        ],
        ids=repr,
    )
    def test_the_symbolic_engine_agrees(self, start: str, event) -> None:
        from tests.z3_step import z3_step_agrees

        concrete = {"opened": opened, "moved": TestLiquidation().moved, "flat": TestFlatLoan().flat}[start]()
        z3_step_agrees(POLICY, concrete, event)

    def test_asset_prices_and_balances_are_lifted_into_variables(self) -> None:
        import z3

        from solvent.solver.symbolic import variable_book

        lifted, made = variable_book(opened())
        assert {"USDe.price_quote", "USDe.net_deposits", "alice@USDe.balance"} <= {str(v) for v in made}
        assert z3.is_const(lifted.account("alice").asset_balances[0])
        assert z3.is_const(lifted.assets[0].price_quote)


class TestCollateralFirst:
    """``liquidation.order = "collateral_first"`` (Bybit's Unified Trading Account repays liabilities
    from assets before reducing positions): at a mark of 960 alice owes 28,800 in cash against her
    1,000 USDe and her maintenance is 720 × 960 × 5% = 34,560."""

    POLICY = attrs.evolve(POLICY, liquidation=LiquidationRule(order=Order.COLLATERAL_FIRST))

    def test_the_liability_is_repaid_from_collateral_and_the_position_stays_open(self) -> None:
        s = step(self.POLICY, TestLiquidation().moved(), AssetPrice("USDe", 70))  # 63,000 × 90% − 28,800 < 34,560
        assert any(isinstance(o, Liquidated) for o in s.outcomes)
        # ⌈28,800 / 70⌉ = 412 quanta for 28,840; then 40 + 588 × 70 × 90% = 37,084 ≥ 34,560: kept open
        assert [t for t in s.transfers if t.reason is Reason.COLLATERAL_SALE] == [
            Transfer("alice@USDe", "liquidity@USDe", 412, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 28_840, Reason.COLLATERAL_SALE),
        ]
        alice = s.after.account("alice")
        assert (alice.size_lots, alice.cash_quote, alice.asset_balances) == (720, 40, (588,))
        for claim in ("conservation", "spot-isolated", "liquidation-only-below-maintenance", "claims-backed"):
            assert holds(self.POLICY, s, claim), claim
        # all at once (the default) closes the position at the same price
        assert step(POLICY, TestLiquidation().moved(), AssetPrice("USDe", 70)).after.account("alice").size_lots == 0

    @pytest.mark.parametrize(("price", "kept"), [(68, 720), (67, 0)])
    def test_the_account_is_checked_again_after_the_sale(self, price: int, kept: int) -> None:
        # 68: 424 sold for 28,832, then 32 + ⌊576 × 68 × 90%⌋ = 35,283 ≥ 34,560: kept
        # 67: 430 sold for 28,810, then 10 + ⌊570 × 67 × 90%⌋ = 34,381 < 34,560: closed
        s = step(self.POLICY, TestLiquidation().moved(), AssetPrice("USDe", price))
        assert s.after.account("alice").size_lots == kept
        assert holds(self.POLICY, s, "conservation")

    def test_without_a_liability_nothing_is_sold_and_it_is_all_at_once(self) -> None:
        b = opened()  # cash 0 at the mark it opened at
        first, default = step(self.POLICY, b, AssetPrice("USDe", 39)), step(POLICY, b, AssetPrice("USDe", 39))
        assert first.transfers == default.transfers and first.after == default.after

    def test_the_symbolic_engine_agrees(self) -> None:
        from tests.z3_step import z3_step_agrees

        for price in (70, 67, 30):
            concrete, event = TestLiquidation().moved(), AssetPrice("USDe", price)
            z3_step_agrees(self.POLICY, concrete, event)

    def test_the_order_loads_by_name(self) -> None:
        text = dumps_policy(self.POLICY)
        assert 'order = "collateral_first"' in text and loads_policy(text) == self.POLICY
