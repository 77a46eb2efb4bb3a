"""Each invariant fails on a story built to break it and holds where the policy protects it."""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.scenarios import DEFAULT
from solvent.rules.book import Role, new_book
from solvent.rules.engine import run
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.ledger import HAIRCUT_REASONS, Guarded, Reason, Transfer
from solvent.rules.liquidation import LiquidationRule, Trigger
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Bankrupt, LayerUsed, Liquidated
from solvent.rules.policy import Policy
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    Clawback,
    DebtCarry,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Lender,
    Over,
    Ranking,
    SocializedLoss,
    VenueAbsorbs,
)
from solvent.verdicts.check import ClaimStatus, check_policy

TEN_X = MarginRule(tiers=(Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))  # 10x, MM 5%

WATERFALLS = {
    "fund-then-adl": (InsuranceFund(), Adl(ranking=Ranking.BINANCE)),
    "debt-carry-winners": (DebtCarry(),),
    "debt-carry-venue": (DebtCarry(lender=Lender.VENUE),),
    "fund-then-socialized-winners": (InsuranceFund(), SocializedLoss(over=Over.WINNERS)),
    "fund-then-socialized-oi": (InsuranceFund(), SocializedLoss(over=Over.OPEN_INTEREST)),
    "capped-fund-haircut-venue": (InsuranceFund(cap_quote=10), HaircutRatio(), VenueAbsorbs()),
    "clawback-venue": (Clawback(), VenueAbsorbs()),
    "fund-then-adl-at-mark": (InsuranceFund(), Adl(price=AdlPrice.MARK)),
    "no-waterfall": (),
}


def policy(deficit, **kw) -> Policy:
    return Policy(name="test", margin=TEN_X, deficit=deficit, **kw)


def failures(p: Policy, scenarios=None) -> dict[str, tuple[str, int]]:
    report = check_policy(p, scenarios=scenarios)
    return {
        v.invariant.id: (v.violation.scenario, v.violation.step_index)
        for v in report.verdicts
        if v.status is ClaimStatus.FAILS
    }


class TestAccountingAlwaysHolds:
    """Conservation, open-interest balance and single charging hold for every waterfall in every scenario."""

    @pytest.mark.parametrize("name", list(WATERFALLS))
    def test_accounting(self, name):
        report = check_policy(policy(WATERFALLS[name]))
        by_id = {v.invariant.id: v for v in report.verdicts}
        for inv in ("conservation", "open-interest-balance", "deficit-charged-once", "insurance-fund-non-negative"):
            assert by_id[inv].status is ClaimStatus.HELD, (inv, by_id[inv].violation)
        assert by_id["deficit-charged-once"].steps_exercised >= len(DEFAULT)
        assert not [r.name for r in report.runs if r.rejected]


class TestWhoPays:
    """The failing set of each waterfall is its documented trade-off, at the gap step."""

    def test_fund_then_adl_haircuts_winners_only(self):
        assert failures(policy(WATERFALLS["fund-then-adl"])) == {"no-haircut": ("gap-crash", 6)}

    def test_a_large_fund_means_no_haircut(self):
        assert failures(policy(WATERFALLS["fund-then-adl"]), ["gap-crash-funded"]) == {}

    def test_debt_carry_to_winners_swallows_the_next_deposit(self):
        got = failures(policy(WATERFALLS["debt-carry-winners"]))
        assert got["deposit-not-absorbed"] == ("deposit-after-liquidation", 7)
        assert set(got) == {"deposit-not-absorbed", "no-negative-equity", "claims-backed", "loss-bounded-by-collateral"}

    def test_debt_fronted_by_the_venue_keeps_the_book_whole(self):
        assert set(failures(policy(WATERFALLS["debt-carry-venue"]))) == {
            "deposit-not-absorbed",
            "loss-bounded-by-collateral",
        }

    def test_socialized_over_winners_charges_the_flat_winner(self):
        got = failures(policy(WATERFALLS["fund-then-socialized-winners"]))
        assert got == {"no-haircut": ("gap-crash", 6), "flat-accounts-never-pay": ("flat-winner", 9)}

    def test_socialized_over_open_interest_spares_flat_accounts(self):
        assert set(failures(policy(WATERFALLS["fund-then-socialized-oi"]))) == {"no-haircut"}

    def test_a_capped_fund_breaks_waterfall_order(self):
        assert "waterfall-order" in failures(policy(WATERFALLS["capped-fund-haircut-venue"]))

    def test_adl_at_mark_leaves_the_deficit_unpaid(self):
        assert "no-negative-equity" in failures(policy(WATERFALLS["fund-then-adl-at-mark"]))


class TestLiquidationBoundary:
    """The trigger claim follows the policy's declared trigger, at the boundary equity = maintenance.

    alice holds 10 lots; at a mark of 940 her maintenance margin is 470, and her equity is
    ``deposit − 600``: a deposit of 1,070 puts her exactly at maintenance, 1,069 one quantum below.
    """

    CLAIM = "liquidation-only-below-maintenance"

    def story(self, trigger: Trigger, deposit: int = 1_070):
        p = policy((InsuranceFund(),), liquidation=LiquidationRule(trigger=trigger))
        book = new_book(mark_quote=1_000, traders=("alice", "bob"))
        steps = run(
            p,
            book,
            [Deposit("alice", deposit), Deposit("bob", 10_000), Trade("alice", "bob", 10, 1_000), MarkPrice(940)],
        )
        return p, StepView.of(p, steps[-1])

    @staticmethod
    def liquidated(view: StepView) -> list[tuple[int, int]]:
        return [(g.item.equity_quote, g.item.maintenance_quote) for g in view.outcomes_of(Liquidated)]

    def test_at_or_below_liquidates_at_equality_and_keeps_its_claim(self):
        p, view = self.story(Trigger.AT_OR_BELOW_MAINTENANCE)
        assert self.liquidated(view) == [(470, 470)]
        assert view.after.account("alice").size_lots == 0
        assert catalog.get(self.CLAIM).exercised(view)
        assert catalog.get(self.CLAIM).holds(view)

    def test_below_does_not_liquidate_at_equality(self):
        p, view = self.story(Trigger.BELOW_MAINTENANCE)
        assert self.liquidated(view) == []
        assert view.after.account("alice").size_lots == 10
        assert catalog.get(self.CLAIM).holds(view)

    @pytest.mark.parametrize("trigger", list(Trigger))
    def test_one_quantum_below_is_liquidated_under_either_trigger(self, trigger):
        p, view = self.story(trigger, deposit=1_069)
        assert self.liquidated(view) == [(469, 470)]
        assert catalog.get(self.CLAIM).holds(view)

    @pytest.mark.parametrize(
        "trigger, equity, holds",
        [
            pytest.param(Trigger.BELOW_MAINTENANCE, 469, True, id="strict: below"),
            pytest.param(Trigger.BELOW_MAINTENANCE, 470, False, id="strict: at maintenance"),
            pytest.param(Trigger.AT_OR_BELOW_MAINTENANCE, 470, True, id="at-or-below: at maintenance"),
            pytest.param(Trigger.AT_OR_BELOW_MAINTENANCE, 471, False, id="at-or-below: one above"),
        ],
    )
    def test_a_liquidation_the_declared_trigger_does_not_allow_fails(self, trigger, equity, holds):
        """The engine never liquidates against its trigger, so these steps are built by hand: a
        liquidation recorded at ``equity`` against maintenance 470."""
        assert self.verdict(self.CLAIM_FN, trigger, equity) is holds

    CLAIM_FN = staticmethod(catalog.liquidation_only_below_maintenance)

    @staticmethod
    def verdict(predicate, trigger: Trigger, equity: int) -> bool:
        p, view = TestLiquidationBoundary().story(trigger, deposit=1_069)
        forged = tuple(
            attrs.evolve(g, item=attrs.evolve(g.item, equity_quote=equity)) if isinstance(g.item, Liquidated) else g
            for g in view.outcomes
        )
        return bool(predicate(attrs.evolve(view, outcomes=forged)))

    def test_every_one_token_mutation_of_the_claim_fails_a_boundary_case(self):
        """Mutation test: flip one comparison, one ``is``, one trigger name or one branch of the
        predicate's source; the four boundary cases above tell every mutant from the claim."""
        cases = [(t, e) for t in Trigger for e in (469, 470, 471)]
        expected = [self.verdict(self.CLAIM_FN, t, e) for t, e in cases]
        mutants = list(_mutants(catalog.liquidation_only_below_maintenance))
        assert len(mutants) >= 6, len(mutants)
        for label, mutant in mutants:
            got = [self.verdict(mutant, t, e) for t, e in cases]
            assert got != expected, f"mutant survives: {label}"


def _mutants(fn):
    """One-token mutants of ``fn``'s source: each comparison operator swapped for its neighbour,
    ``is`` for ``is not``, a trigger name for the other one, the conditional's branches swapped."""
    source = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(source)
    swaps = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Is: (ast.IsNot,)}
    names = {"AT_OR_BELOW_MAINTENANCE": "BELOW_MAINTENANCE", "BELOW_MAINTENANCE": "AT_OR_BELOW_MAINTENANCE"}
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                for new in swaps.get(type(op), ()):
                    sites.append((node, "ops", k, new()))
        elif isinstance(node, ast.Attribute) and node.attr in names:
            sites.append((node, "attr", None, names[node.attr]))
        elif isinstance(node, ast.IfExp):
            sites.append((node, "ifexp", None, None))
    for i, (node, what, k, new) in enumerate(sites):
        mutated = copy.deepcopy(tree)
        target = [n for n in ast.walk(mutated)][[n for n in ast.walk(tree)].index(node)]
        if what == "ops":
            target.ops[k] = new
            label = f"{type(node.ops[k]).__name__} -> {type(new).__name__}"
        elif what == "attr":
            target.attr = new
            label = f"{node.attr} -> {new}"
        else:
            target.body, target.orelse = target.orelse, target.body
            label = "conditional branches swapped"
        mutated.body[0].decorator_list = []
        namespace = dict(vars(catalog))
        exec(compile(ast.fix_missing_locations(mutated), f"<mutant {i}>", "exec"), namespace)
        yield f"line {node.lineno}: {label}", namespace[fn.__name__]


class TestCappedFund:
    """A fund that paid its per-bankruptcy cap is spent for the layer order; the winners are still
    not haircut while it holds money. alice's deficit is 10 (1 lot, 100 → 80, equity 10); the fund
    holds 1,000,000 and pays at most ``cap``."""

    CLAIM = "waterfall-order"

    def crash(self, deficit):
        p = policy(deficit)
        book = new_book(mark_quote=100, traders=("alice", "bob"))
        events = [
            Deposit("insurance_fund", 1_000_000),
            Deposit("fee_account", 1_000),
            Deposit("alice", 10),
            Deposit("bob", 100),
            Trade("alice", "bob", 1, 100),
            MarkPrice(80),
        ]
        view = StepView.of(p, run(p, book, events)[-1])
        layers = [(g.item.layer, g.item.covered_quote) for g in view.outcomes_of(LayerUsed)]
        return view, layers

    @pytest.mark.parametrize(
        "deficit",
        [(InsuranceFund(cap_quote=4), FeePool(), VenueAbsorbs()), (InsuranceFund(cap_quote=4), VenueAbsorbs())],
        ids=["fee-pool", "venue-absorbs"],
    )
    def test_venue_money_after_a_capped_fund_keeps_the_order(self, deficit):
        view, layers = self.crash(deficit)
        assert layers == [("insurance_fund", 4), (deficit[1].kind, 6)]
        assert view.after.role(Role.INSURANCE_FUND).cash_quote == 1_000_000 - 4
        assert catalog.get(self.CLAIM).exercised(view)
        assert catalog.get(self.CLAIM).holds(view)

    def test_a_fund_that_paid_less_than_its_cap_is_not_spent(self):
        """Forged: the fund paid 3 of a cap of 4 and kept money, yet the fee pool paid."""
        view, _ = self.crash((InsuranceFund(cap_quote=4), FeePool(), VenueAbsorbs()))
        forged = tuple(
            attrs.evolve(g, item=attrs.evolve(g.item, covered_quote=3))
            if isinstance(g.item, LayerUsed) and g.item.index == 0
            else g
            for g in view.outcomes
        )
        assert not catalog.get(self.CLAIM).holds(attrs.evolve(view, outcomes=forged))

    def test_a_cap_at_the_whole_deficit_needs_no_lower_layer(self):
        view, layers = self.crash((InsuranceFund(cap_quote=10), Adl()))
        assert layers == [("insurance_fund", 10)]
        assert catalog.get(self.CLAIM).holds(view)

    def test_adl_past_the_cap_while_the_fund_holds_money_fails(self):
        """binance-capped-fund's story: the winners pay 6 while the fund keeps 999,996."""
        view, layers = self.crash((InsuranceFund(cap_quote=4), Adl()))
        assert layers == [("insurance_fund", 4), ("adl", 6)]
        assert view.after.account("bob").cash_quote == 100 + 20 - 6
        assert not catalog.get(self.CLAIM).holds(view)

    def test_adl_after_an_uncapped_fund_ran_dry_holds(self):
        p = policy((InsuranceFund(), Adl()))
        book = new_book(mark_quote=100, traders=("alice", "bob"))
        events = [
            Deposit("insurance_fund", 4),
            Deposit("alice", 10),
            Deposit("bob", 100),
            Trade("alice", "bob", 1, 100),
            MarkPrice(80),
        ]
        view = StepView.of(p, run(p, book, events)[-1])
        assert [(g.item.layer, g.item.covered_quote) for g in view.outcomes_of(LayerUsed)] == [
            ("insurance_fund", 4),
            ("adl", 6),
        ]
        assert catalog.get(self.CLAIM).holds(view)


class TestPrincipalAttribution:
    """A haircut is charged only for what it took, in the order of the step's ledger.

    bob has principal 1,000 and equity 1,300 before the step: a profit of 300. The step's ledger is
    written by hand (the order is the point), alice is the bankrupt account.
    """

    CLAIM = "principal-protected"

    def view(self, *ledger: tuple[str, str, int, Reason], start: int = 1_300) -> StepView:
        p = policy((InsuranceFund(), Adl()))
        book = new_book(mark_quote=100, traders=("alice", "bob"))
        bob = attrs.evolve(book.account("bob"), cash_quote=start, principal_quote=1_000)
        before = book.replace_account(book.index("bob"), bob)
        transfers = tuple(Guarded(True, Transfer(src, dst, amount, reason)) for src, dst, amount, reason in ledger)
        cash = start + sum(a if dst == "bob" else -a if src == "bob" else 0 for src, dst, a, _ in ledger)
        after = before.replace_account(before.index("bob"), attrs.evolve(bob, cash_quote=cash))
        outcomes = (Guarded(True, Bankrupt("alice", 1_000)),)
        return StepView(p, before, MarkPrice(100), after, transfers, outcomes)

    def holds(self, *ledger, start: int = 1_300) -> bool:
        return bool(catalog.get(self.CLAIM).holds(self.view(*ledger, start=start)))

    ADL = ("bob", "alice", 300, Reason.ADL)
    PENALTY = ("bob", "insurance_fund", 50, Reason.LIQUIDATION_PENALTY)
    SLIPPAGE = ("bob", "liquidity", 20, Reason.LIQUIDATION_SLIPPAGE)

    def test_a_haircut_of_the_whole_profit_holds(self):
        assert self.holds(self.ADL)

    def test_one_quantum_beyond_the_profit_fails(self):
        assert not self.holds(("bob", "alice", 301, Reason.ADL))

    @pytest.mark.parametrize("reason", sorted(HAIRCUT_REASONS, key=lambda r: r.value))
    def test_every_haircut_reason_is_charged(self, reason):
        assert not self.holds(("bob", "alice", 301, reason))

    def test_the_payers_own_penalty_and_slippage_after_the_haircut_are_not_the_haircuts(self):
        view = self.view(self.ADL, self.PENALTY, self.SLIPPAGE)
        assert view.after.account("bob").cash_quote == 930  # below principal, by bob's own liquidation
        assert catalog.get(self.CLAIM).exercised(view)
        assert catalog.get(self.CLAIM).holds(view)

    def test_a_haircut_after_the_payers_own_losses_takes_principal(self):
        assert not self.holds(self.PENALTY, self.SLIPPAGE, self.ADL)

    def test_a_settlement_loss_before_the_haircut_spends_the_profit(self):
        assert not self.holds(("bob", "clearing", 1, Reason.SETTLEMENT), self.ADL)
        assert self.holds(("clearing", "bob", 1, Reason.SETTLEMENT), ("bob", "alice", 301, Reason.ADL))

    def test_a_payer_below_its_principal_is_protected_up_to_it_not_to_where_it_started(self):
        # bob starts at 900 (a mark-to-market loss of 100 of his 1,000): the step pays him 160 and
        # an ADL takes 60 back (he ends at his principal: holds) or 61 (one quantum of recovered
        # principal: fails), although either leaves him above where he started
        gain = ("clearing", "bob", 160, Reason.SETTLEMENT)
        assert self.holds(gain, ("bob", "alice", 60, Reason.ADL), start=900)
        assert not self.holds(gain, ("bob", "alice", 61, Reason.ADL), start=900)

    def test_the_bankrupt_account_is_not_a_payer(self):
        assert self.holds(("alice", "bob", 10, Reason.ADL))


class TestCatalog:
    """The catalog carries every id the core issue names, each with a claim."""

    def test_ids(self):
        required = {
            "conservation",
            "open-interest-balance",
            "no-negative-equity",
            "no-haircut",
            "waterfall-order",
            "insurance-fund-non-negative",
            "liquidation-only-below-maintenance",
            "adl-ranking-respected",
            "adl-price-fair",
            "deposit-not-absorbed",
            "spot-isolated",
            "principal-protected",
            "loss-bounded-by-collateral",
            "deficit-charged-once",
            "flat-accounts-never-pay",
        }
        assert required <= set(catalog.ids())
        assert all(i.claim.endswith(tuple("abcdefghijklmnopqrstuvwxyz)")) for i in catalog.CATALOG.values())

    def test_unknown_id_names_the_known_ones(self):
        with pytest.raises(KeyError, match=f"unknown invariant 'nope'; known: {', '.join(catalog.ids())}"):
            catalog.get("nope")

    def test_accepted_failures_do_not_fail_the_policy(self):
        report = check_policy(policy(WATERFALLS["fund-then-adl"]), accept=["no-haircut"])
        assert not report.failed
        assert {v.invariant.id: v.status for v in report.verdicts}["no-haircut"] is ClaimStatus.ACCEPTED


class TestRegressions:
    """Stories the planted-bug search found against the engine and the catalog, frozen."""

    def test_partial_adl_rounding_goes_to_the_fund(self):
        # carol is liquidated into the book first, so ADL meets only bob's 5 lots of alice's 10
        p = policy((InsuranceFund(), Adl()))
        book = new_book(mark_quote=1_000, traders=("alice", "bob", "carol"))
        events = [
            Deposit("liquidity", 10**9),
            Deposit("alice", 1_007),
            Deposit("bob", 10_000),
            Deposit("carol", 500),
            Trade("alice", "carol", 5, 1_000),
            Trade("alice", "bob", 5, 1_000),
            MarkPrice(1_060),
            MarkPrice(899),
        ]
        crash = run(p, book, events)[-1]
        assert crash.after.account("alice").cash_quote <= 0  # no windfall for the bankrupt account
        assert catalog.get("deficit-charged-once").holds(StepView.of(p, crash))

    def test_adl_price_fair_per_bankrupt_account(self):
        # alice and carol go bankrupt against the same winner in one step; each pays a fair 10
        p = policy((InsuranceFund(), Adl()))
        book = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
        events = [
            Deposit("alice", 10),
            Deposit("bob", 100),
            Deposit("carol", 10),
            Trade("alice", "bob", 1, 100),
            Trade("carol", "bob", 1, 100),
            MarkPrice(80),
        ]
        crash = run(p, book, events)[-1]
        assert catalog.get("adl-price-fair").holds(StepView.of(p, crash))

    def test_haircut_above_a_funded_insurance_fund_breaks_waterfall_order(self):
        p = policy((HaircutRatio(), InsuranceFund(), VenueAbsorbs()))
        book = new_book(mark_quote=100, traders=("alice", "bob"))
        events = [
            Deposit("insurance_fund", 1_000_000),
            Deposit("alice", 10),
            Deposit("bob", 100),
            Trade("alice", "bob", 1, 100),
            MarkPrice(80),
        ]
        crash = run(p, book, events)[-1]
        assert not catalog.get("waterfall-order").holds(StepView.of(p, crash))
        # the same waterfall in the safe order holds
        safe = policy((InsuranceFund(), HaircutRatio(), VenueAbsorbs()))
        assert catalog.get("waterfall-order").holds(StepView.of(safe, run(safe, book, events)[-1]))
