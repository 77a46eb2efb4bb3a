"""Bankruptcy: the deficit and the waterfall that pays it (solvent.rules.bankruptcy), called directly.

The deficit is measured at the execution price: R = max(0, −(E − |S| × slip)), slip = ⌈M ×
slippage_ppm / 1e6⌉ (docs/model.md#liquidation-and-the-deficit). Layers run in order, each
reducing R by what it pays; ADL runs only for an account below zero at mark (dYdX requires TNC < 0,
docs/venues.md#dydx-v4-deleveraging); a layer reached with a deficit left is recorded even when it
paid nothing; what no layer pays is a residual. Spot collateral is converted first (Backpack,
docs/venues.md#backpack-settlement-and-borrowing), never an isolated account's.

The book: mark 80 after a gap from 100; alice long 10 from 100 (cost 1,000); bob short 10 with
principal 1,000 and cash 1,200 (profit 200). Margin 10% / 5%.
"""

from __future__ import annotations

import attrs

from solvent.rules.bankruptcy import close_into_book, remaining_deficit, resolve
from solvent.rules.book import Book, new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.liquidation import LiquidationRule
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import AdlFill, Bankrupt, DebtCarried, LayerUsed, Residual
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, DebtCarry, InsuranceFund, Lender, SocializedLoss, VenueAbsorbs

RULE = MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),))
SLIP_1 = LiquidationRule(slippage_ppm=10_000)  # ⌈80 × 1%⌉ = ⌈0.8⌉ = 1 quantum per lot


def _policy(*deficit, liquidation: LiquidationRule = LiquidationRule(), spot: bool = False) -> Policy:
    return Policy("test", margin=attrs.evolve(RULE, spot_collateral=spot), liquidation=liquidation, deficit=deficit)


def _book(alice_cash: int = -100, fund: int = 0, *, size: int = 10, spot: int = 0, isolated: bool = False) -> Book:
    book = new_book(mark_quote=80, isolated=("alice",) if isolated else ())
    fields = {
        "alice": {"cash_quote": alice_cash, "spot_quote": spot, "size_lots": size, "cost_quote": size * 100},
        "bob": {"cash_quote": 1_200, "principal_quote": 1_000, "size_lots": -size, "cost_quote": -size * 100},
        "insurance_fund": {"cash_quote": fund},
    }
    for name, values in fields.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **values))
    return book


def _resolve(policy: Policy, book: Book) -> Ctx:
    return resolve(policy, Ctx(book), "alice")


def _outcomes(ctx: Ctx, *kinds: type) -> list:
    return [o.item for o in ctx.outcomes if not kinds or isinstance(o.item, kinds)]


def _cash(ctx: Ctx, *names: str) -> tuple[int, ...]:
    return tuple(ctx.book.account(n).cash_quote for n in names)


class TestRemainingDeficit:
    def test_without_slippage_it_is_minus_the_equity(self) -> None:
        assert remaining_deficit(_policy(), Ctx(_book(-100)), "alice") == 100

    def test_slippage_on_the_open_lots(self) -> None:
        # E 5, 10 lots × slip 1: max(0, −(5 − 10)) = 5
        assert remaining_deficit(_policy(liquidation=SLIP_1), Ctx(_book(5)), "alice") == 5

    def test_equity_equal_to_the_slippage_is_no_deficit(self) -> None:
        # cash 10 = 10 × 1: exactly 0; one quantum less: 1; one more: still 0 (never negative)
        deficits = [remaining_deficit(_policy(liquidation=SLIP_1), Ctx(_book(c)), "alice") for c in (9, 10, 11)]
        assert deficits == [1, 0, 0]

    def test_a_short_pays_slippage_on_its_lots_too(self) -> None:
        # |−10| × 1 = 10: max(0, −(5 − 10)) = 5, as for the long
        assert remaining_deficit(_policy(liquidation=SLIP_1), Ctx(_book(5, size=-10)), "alice") == 5

    def test_cross_spot_counts_isolated_spot_does_not(self) -> None:
        # cross under spot collateral: E = −100 + 30 = −70; isolated: E = −100
        assert remaining_deficit(_policy(spot=True), Ctx(_book(-100, spot=30)), "alice") == 70
        assert remaining_deficit(_policy(spot=True), Ctx(_book(-100, spot=30, isolated=True)), "alice") == 100


class TestCloseIntoBook:
    def test_closes_at_the_fill_price(self) -> None:
        # the book buys alice's 10 lots at 80 − 1 = 79: alice pays 10 × 1
        ctx = close_into_book(_policy(liquidation=SLIP_1), Ctx(_book(0)), "alice")
        assert [e.item for e in ctx.entries] == [Transfer("alice", "liquidity", 10, Reason.LIQUIDATION_SLIPPAGE)]
        assert (ctx.book.account("alice").size_lots, ctx.book.account("liquidity").size_lots) == (0, 10)


class TestResolve:
    def test_the_fund_pays_and_is_not_exhausted(self) -> None:
        # R 100, fund 150 pays 100 and keeps 50; no ADL layer: the position is closed into the book
        ctx = _resolve(_policy(InsuranceFund()), _book(-100, fund=150))
        assert _outcomes(ctx) == [Bankrupt("alice", 100), LayerUsed("alice", 0, "insurance_fund", 100, False)]
        assert _cash(ctx, "alice", "insurance_fund") == (0, 50) and ctx.book.account("liquidity").size_lots == 10

    def test_a_fund_of_exactly_the_deficit_is_exhausted_with_no_residual(self) -> None:
        ctx = _resolve(_policy(InsuranceFund()), _book(-100, fund=100))
        assert _outcomes(ctx) == [Bankrupt("alice", 100), LayerUsed("alice", 0, "insurance_fund", 100, True)]

    def test_one_quantum_short_is_a_residual_of_one(self) -> None:
        ctx = _resolve(_policy(InsuranceFund()), _book(-100, fund=99))
        assert _outcomes(ctx, LayerUsed, Residual) == [
            LayerUsed("alice", 0, "insurance_fund", 99, True),
            Residual("alice", 1),
        ]

    def test_an_empty_fund_is_recorded_as_asked(self) -> None:
        ctx = _resolve(_policy(InsuranceFund()), _book(-100, fund=0))
        assert _outcomes(ctx, LayerUsed, Residual) == [
            LayerUsed("alice", 0, "insurance_fund", 0, True),
            Residual("alice", 100),
        ]

    def test_no_deficit_records_no_layer(self) -> None:
        # cash 0: R = 0; the fund is asked for nothing and not recorded
        ctx = _resolve(_policy(InsuranceFund()), _book(0, fund=150))
        assert _outcomes(ctx) == [Bankrupt("alice", 0)]

    def test_an_empty_waterfall_leaves_the_whole_residual(self) -> None:
        ctx = _resolve(_policy(), _book(-100))
        assert _outcomes(ctx) == [Bankrupt("alice", 100), Residual("alice", 100)]
        assert ctx.book.account("alice").size_lots == 0

    def test_layers_run_in_order(self) -> None:
        # fund 30 cap → venue 70
        ctx = _resolve(_policy(InsuranceFund(cap_quote=30), VenueAbsorbs()), _book(-100, fund=150))
        assert _outcomes(ctx, LayerUsed) == [
            LayerUsed("alice", 0, "insurance_fund", 30, False),
            LayerUsed("alice", 1, "venue_absorbs", 70, True),
        ]
        assert _cash(ctx, "alice", "insurance_fund", "venue") == (0, 120, -70)

    def test_the_fund_then_a_socialized_loss(self) -> None:
        # fund 60; the other 40 charged to bob, the only one with profit (200): 40 × 200/200
        ctx = _resolve(_policy(InsuranceFund(), SocializedLoss()), _book(-100, fund=60))
        assert _outcomes(ctx, LayerUsed) == [
            LayerUsed("alice", 0, "insurance_fund", 60, True),
            LayerUsed("alice", 1, "socialized_loss", 40, True),
        ]
        assert _cash(ctx, "alice", "bob") == (0, 1_160)

    def test_debt_carried_to_the_winners(self) -> None:
        ctx = _resolve(_policy(DebtCarry()), _book(-100))
        assert _outcomes(ctx, DebtCarried, LayerUsed, Residual) == [
            DebtCarried("alice", 100),
            LayerUsed("alice", 0, "debt_carry", 100, True),
        ]
        assert _cash(ctx, "alice") == (-100,)

    def test_debt_fronted_by_the_venue(self) -> None:
        # the venue pays 100 in and alice owes it off the book
        ctx = _resolve(_policy(DebtCarry(lender=Lender.VENUE, deposits_repay_debt=False)), _book(-100))
        assert _cash(ctx, "alice", "venue") == (0, -100) and ctx.book.account("alice").debt_quote == 100


class TestAdlOnlyBelowZeroAtMark:
    def test_equity_zero_at_mark_is_closed_into_the_book(self) -> None:
        # cash 0, slip 1: R = 10, all slippage; E at mark = 0 is not < 0: no ADL, the book takes it
        # at 79 (alice −10): covered = 10 − 10 = 0, a residual of 10
        ctx = _resolve(_policy(Adl(), liquidation=SLIP_1), _book(0))
        assert _outcomes(ctx, AdlFill) == []
        assert _outcomes(ctx, LayerUsed, Residual) == [LayerUsed("alice", 0, "adl", 0, True), Residual("alice", 10)]

    def test_one_quantum_below_zero_runs_adl(self) -> None:
        # cash −1: R = 11; g = ⌈1/10⌉ = 1, bob buys 10 at 81 paying 10; alice −1 + 10 = 9 → fund;
        # covered = 11 − 0
        ctx = _resolve(_policy(Adl(), liquidation=SLIP_1), _book(-1))
        assert [f.lots for f in _outcomes(ctx, AdlFill)] == [10]
        assert _outcomes(ctx, LayerUsed, Residual) == [LayerUsed("alice", 0, "adl", 11, True)]
        assert _cash(ctx, "alice", "bob", "insurance_fund") == (0, 1_190, 9)


class TestSpotFirst:
    def test_cross_spot_is_converted_before_the_deficit_is_measured(self) -> None:
        # cash −100, spot 30: 30 converted (cash −70, spot 0), R = 70
        ctx = _resolve(_policy(spot=True), _book(-100, spot=30))
        assert _outcomes(ctx) == [Bankrupt("alice", 70), Residual("alice", 70)]
        assert (ctx.book.account("alice").cash_quote, ctx.book.account("alice").spot_quote) == (-70, 0)
        assert [e.item for e in ctx.entries][0] == Transfer("alice.spot", "alice", 30, Reason.COLLATERAL_CONVERSION)

    def test_isolated_spot_is_not(self) -> None:
        ctx = _resolve(_policy(spot=True), _book(-100, spot=30, isolated=True))
        assert _outcomes(ctx) == [Bankrupt("alice", 100), Residual("alice", 100)]
        assert ctx.book.account("alice").spot_quote == 30


def test_largest_value() -> None:
    # exact: a 2**62 deficit, a fund of 2**62 + 1 pays it and keeps 1
    ctx = _resolve(_policy(InsuranceFund()), _book(-(2**62), fund=2**62 + 1))
    assert _outcomes(ctx, LayerUsed) == [LayerUsed("alice", 0, "insurance_fund", 2**62, False)]
