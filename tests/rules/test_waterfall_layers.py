"""The default waterfall: one hand-built gap story per layer, its outcome computed by hand.

Money in whole dollars (one quantum = $1), mark in dollars per lot; margin 10% initial, 5%
maintenance. The base gap: alice deposits $100 and buys 10 lots at $100 from bob ($1,000); the mark
gaps to $80, so alice pays 10 × $20 = $200 and stands at −$100 (a $100 shortage) while bob gains $200.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from solvent.rules.book import new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import Deposit, MarkPrice, SpotDeposit, Trade, Withdraw
from solvent.rules.fees import FeeRule
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.liquidation import LiquidationRule
from solvent.rules.margin import MarginRule
from solvent.rules.outcomes import (
    AdlFill,
    Bankrupt,
    BookDeleveraged,
    DebtCarried,
    DepositAbsorbed,
    LayerUsed,
    Liquidated,
    Residual,
)
from solvent.rules.policy import Policy
from solvent.rules.rounding import ProRata, RoundingRule
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    BackstopVault,
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

DOWN = RoundingRule(pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER)


def gap(policy, *setup, crash=80, deposit=100):
    """Run the base gap story (with ``setup`` events first) and return the crash step."""
    events = [
        *setup,
        Deposit("alice", deposit),
        Deposit("bob", 1_000),
        Trade("alice", "bob", 10, 100),
        MarkPrice(crash),
    ]
    return run(policy, new_book(mark_quote=100), events)[-1]


def layer_transfers(s, *reasons):
    return [t for t in s.transfers if t.reason in reasons]


def used(s) -> list[LayerUsed]:
    return [o for o in s.outcomes if isinstance(o, LayerUsed)]


def residual(s) -> list[Residual]:
    return [o for o in s.outcomes if isinstance(o, Residual)]


def cash(s, name):
    return s.after.account(name).cash_quote


class TestInsuranceFund:
    """The fund pays up to its balance and, if capped, up to the cap per bankruptcy."""

    def test_fund_covers_the_gap(self, make_policy):
        s = gap(make_policy(deficit=[InsuranceFund()]), Deposit("insurance_fund", 150))
        # $100 shortage; fund $150 pays $100 and keeps $50 (not exhausted)
        assert s.outcomes == (
            Liquidated("alice", -100, 40, 10, 80),
            Bankrupt("alice", 100),
            LayerUsed("alice", 0, "insurance_fund", 100, False),
        )
        assert layer_transfers(s, Reason.INSURANCE_FUND) == [
            Transfer("insurance_fund", "alice", 100, Reason.INSURANCE_FUND)
        ]
        assert (cash(s, "alice"), cash(s, "insurance_fund"), s.after.account("alice").size_lots) == (0, 50, 0)
        assert s.after.account("liquidity").size_lots == 10  # closed into the book at mark

    def test_small_fund_is_exhausted_and_leaves_a_residual(self, make_policy):
        s = gap(make_policy(deficit=[InsuranceFund()]), Deposit("insurance_fund", 60))
        # fund $60 pays all it has; $40 of the $100 shortage is left on alice
        assert used(s) == [LayerUsed("alice", 0, "insurance_fund", 60, True)]
        assert residual(s) == [Residual("alice", 40)]
        assert (cash(s, "alice"), cash(s, "insurance_fund")) == (-40, 0)

    def test_cap_limits_the_fund_and_passes_the_rest_down(self, make_policy):
        s = gap(make_policy(deficit=[InsuranceFund(cap_quote=30), VenueAbsorbs()]), Deposit("insurance_fund", 150))
        # fund pays its $30 cap (keeps $120, not exhausted); the venue pays the other $70
        assert used(s) == [
            LayerUsed("alice", 0, "insurance_fund", 30, False),
            LayerUsed("alice", 1, "venue_absorbs", 70, True),
        ]
        assert (cash(s, "alice"), cash(s, "insurance_fund"), cash(s, "venue")) == (0, 120, -70)

    def test_an_empty_fund_is_recorded_as_asked_and_exhausted(self, make_policy):
        """A layer reached with a deficit is recorded even when it pays nothing: with two
        bankruptcies in one step, "ADL only after the fund is exhausted" stays checkable for the
        second account after the first drained the fund (a false waterfall-order failure z3 found
        on Binance once ADL reached the book)."""
        s = gap(make_policy(deficit=[InsuranceFund()]))
        assert used(s) == [LayerUsed("alice", 0, "insurance_fund", 0, True)] and residual(s) == [Residual("alice", 100)]


class TestBackstopVault:
    """The backstop vault pays up to its balance."""

    def test_vault_pays_what_it_has(self, make_policy):
        s = gap(make_policy(deficit=[BackstopVault(), VenueAbsorbs()]), Deposit("backstop_vault", 60))
        # vault $60 of the $100 shortage, exhausted; the venue the other $40
        assert used(s) == [
            LayerUsed("alice", 0, "backstop_vault", 60, True),
            LayerUsed("alice", 1, "venue_absorbs", 40, True),
        ]
        assert layer_transfers(s, Reason.BACKSTOP_VAULT) == [
            Transfer("backstop_vault", "alice", 60, Reason.BACKSTOP_VAULT)
        ]
        assert (cash(s, "alice"), cash(s, "backstop_vault"), cash(s, "venue")) == (0, 0, -40)


class TestFeePool:
    """The fees the venue collected pay, up to the fee account's balance."""

    def test_collected_fees_pay(self, make_policy):
        policy = make_policy(fees=FeeRule(taker_ppm=10_000), deficit=[FeePool(), VenueAbsorbs()])
        # alice pays a 1% taker fee on $1,000 = $10 into the fee account; $110 − $10 leaves $100, so −$100 at $80
        s = gap(policy, deposit=110)
        assert used(s) == [
            LayerUsed("alice", 0, "fee_pool", 10, True),
            LayerUsed("alice", 1, "venue_absorbs", 90, True),
        ]
        assert (cash(s, "alice"), cash(s, "fee_account"), cash(s, "venue")) == (0, 0, -90)


# --- ADL ---------------------------------------------------------------------------------------
#
# alice goes long 9 lots from three shorts at rising prices, then sells 4 to erin (a long, so never in
# alice's queue); the mark then gaps from $120 to $70. Events, $ after each:
#   deposits alice 110, bob 60, carol 100, dave 60, erin 5,000
#   bob sells 2 at $100; mark $110 (bob −20 → 40); carol sells 3 at $110; mark $120 (bob 20, carol 70)
#   dave sells 4 at $120; alice sells 4 to erin at $120 → alice long 5 with $180
#   mark $70: alice 180 − 5 × 50 = −$70 (shortage $70, 5 lots: fair gap ⌈70/5⌉ = $14 a lot, BP $84)
# The winners at $70 (UP = PnL since entry, N notional, E equity, WB = E − UP, MM = ⌈5% N⌉):
#   name   size entry |C|   E    UP   N    WB   MM
#   bob     −2  100   200  120   60  140   60    7
#   carol   −3  110   330  220  120  210  100   11
#   dave    −4  120   480  260  200  280   60   14

ADL_STORY = [
    Deposit("alice", 110), Deposit("bob", 60), Deposit("carol", 100), Deposit("dave", 60), Deposit("erin", 5_000),
    Trade("alice", "bob", 2, 100), MarkPrice(110), Trade("alice", "carol", 3, 110), MarkPrice(120),
    Trade("alice", "dave", 4, 120), Trade("erin", "alice", 4, 120),
]  # fmt: skip
WINNERS = {  # name: (size, |C|, E, UP, N, MM)
    "bob": (2, 200, 120, 60, 140, 7),
    "carol": (3, 330, 220, 120, 210, 11),
    "dave": (4, 480, 260, 200, 280, 14),
}
MARK = 70


def bitmex(size, cost, e, up, n, mm):
    """docs/venues.md#bitmex-adl: PnL% × EffLev if PnL% > 0 else PnL% ÷ EffLev; PnL% = UP/|C|, EffLev = N/E."""
    pnl_pct, eff_lev = Fraction(up, cost), Fraction(n, e)
    return pnl_pct * eff_lev if pnl_pct > 0 else pnl_pct / eff_lev


def binance(size, cost, e, up, n, mm):
    """docs/venues.md#binance-adl: max(0, UP)/max(1, WB) × MM/(WB + UP)."""
    wb = e - up
    return Fraction(max(0, up), max(1, wb)) * (Fraction(mm, wb + up) if wb + up > 0 else 0)


def hyperliquid(size, cost, e, up, n, mm):
    """docs/venues.md#hyperliquid-adl: (mark / entry) × (notional / account value), entry = |C| / size."""
    return Fraction(MARK, Fraction(cost, size)) * Fraction(n, e)


def greedy_fills(order, lots):
    """Whole positions first, in queue order, until the bankrupt size is used up."""
    fills = {}
    for name in order:
        fills[name] = min(lots, WINNERS[name][0])
        lots -= fills[name]
    return fills


class TestAdlRanking:
    """ADL walks the opposing queue in the policy's ranking order, whole positions first, at the bankruptcy price."""

    @pytest.mark.parametrize(
        "ranking, formula, order",
        [
            # bob 7/20 = 0.350, carol 42/121 ≈ 0.347, dave 35/78 ≈ 0.449
            pytest.param(Ranking.BITMEX, bitmex, ("dave", "bob", "carol"), id="bitmex: dave, bob, carol"),
            # bob 7/120 ≈ 0.058, carol 3/50 = 0.060, dave 7/39 ≈ 0.179
            pytest.param(Ranking.BINANCE, binance, ("dave", "carol", "bob"), id="binance: dave, carol, bob"),
            # bob 49/60 ≈ 0.817, carol 147/242 ≈ 0.607, dave 49/78 ≈ 0.628
            pytest.param(
                Ranking.HYPERLIQUID, hyperliquid, ("bob", "dave", "carol"), id="hyperliquid: bob, dave, carol"
            ),
            pytest.param(Ranking.ORDER, None, ("bob", "carol", "dave"), id="order: book order"),
        ],
    )
    def test_queue_order(self, make_policy, ranking, formula, order):
        if formula is not None:
            scores = {name: formula(*row) for name, row in WINNERS.items()}
            assert tuple(sorted(WINNERS, key=lambda name: -scores[name])) == order
        book = new_book(mark_quote=100, traders=("alice", "bob", "carol", "dave", "erin"))
        s = run(make_policy(deficit=[Adl(ranking=ranking)]), book, [*ADL_STORY, MarkPrice(MARK)])[-1]
        fills = {o.winner: o for o in s.outcomes if isinstance(o, AdlFill)}
        expected = greedy_fills(order, 5)
        assert {name: fills[name].lots for name in WINNERS} == expected
        if formula is not None:
            assert {name: Fraction(fills[name].score_num, fills[name].score_den) for name in WINNERS} == scores
        # erin is long like alice: listed, never eligible, never filled
        assert (fills["erin"].eligible, fills["erin"].lots) == (False, 0)
        # every ADL'd lot pays the $14 gap to alice; alice ends at exactly $0
        # (transfers are listed in book order, whatever the queue order)
        assert layer_transfers(s, Reason.ADL) == [
            Transfer(n, "alice", 14 * expected[n], Reason.ADL) for n in WINNERS if expected[n]
        ]
        assert used(s) == [LayerUsed("alice", 0, "adl", 70, True)]
        assert (cash(s, "alice"), s.after.account("alice").size_lots) == (0, 0)
        assert {name: s.after.account(name).size_lots for name in WINNERS} == {
            n: q - WINNERS[n][0] for n, q in expected.items()
        }


class TestAdlPrice:
    """At the bankruptcy price winners pay the gap; at mark they pay nothing and the deficit passes down."""

    def test_bankruptcy_price_dust_to_fund(self, make_policy):
        book = new_book(mark_quote=100)
        events = [Deposit("alice", 50), Deposit("bob", 1_000), Trade("alice", "bob", 3, 100), MarkPrice(80)]
        s = run(make_policy(deficit=[Adl()]), book, events)[-1]
        # alice $50 − 3 × $20 = −$10; gap ⌈$10 / 3⌉ = $4 a lot: bob pays $12, alice's $2 excess goes to the fund
        assert layer_transfers(s, Reason.ADL, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 12, Reason.ADL),
            Transfer("alice", "insurance_fund", 2, Reason.PRO_RATA_DUST),
        ]
        fill = next(o for o in s.outcomes if isinstance(o, AdlFill))
        assert (fill.lots, fill.gap_per_lot_quote, fill.fair_gap_per_lot_quote) == (3, 4, 4)
        assert (cash(s, "alice"), cash(s, "insurance_fund"), s.after.account("bob").size_lots) == (0, 2, 0)

    def test_mark_price_passes_the_deficit_down(self, make_policy):
        s = gap(make_policy(deficit=[Adl(price=AdlPrice.MARK), VenueAbsorbs()]))
        # bob is closed at $80 = mark and pays nothing; the $100 shortage goes to the venue
        fill = next(o for o in s.outcomes if isinstance(o, AdlFill))
        assert (fill.winner, fill.lots, fill.gap_per_lot_quote, fill.fair_gap_per_lot_quote) == ("bob", 10, 0, 10)
        assert layer_transfers(s, Reason.ADL) == []
        assert used(s) == [LayerUsed("alice", 0, "adl", 0, True), LayerUsed("alice", 1, "venue_absorbs", 100, True)]
        assert (cash(s, "bob"), cash(s, "venue"), s.after.account("bob").size_lots) == (1_200, -100, 0)

    @pytest.mark.parametrize(
        "setup, layers, crash",
        [
            # at $85 alice is at −$50; slippage ⌈5% × $85⌉ = $5 a lot makes the shortage $100 at the fill
            # price. The fund pays its $80 (alice +$30 at mark), then ADL runs with gap ⌈−30/10⌉ = −$3:
            # bob buys at $82 and is paid $30 of the fund's money.
            pytest.param(
                (Deposit("insurance_fund", 80),), [InsuranceFund(), Adl()], 85, id="fund paid the slippage part first"
            ),
            # at $93 alice still has +$30 ≥ 0 at mark (MM $47 → liquidated); slippage ⌈$4.65⌉ = $5 a lot
            # makes her "bankrupt" by $20 at the fill price; ADL runs with gap −$3 and pays bob her $30.
            pytest.param((), [Adl()], 93, id="equity at mark still positive"),
        ],
    )
    def test_adl_winners_never_receive(self, make_policy, setup, layers, crash):
        policy = make_policy(liquidation=LiquidationRule(slippage_ppm=50_000), deficit=layers)
        s = gap(policy, *setup, crash=crash)
        assert [t for t in layer_transfers(s, Reason.ADL) if t.destination != "alice"] == []


# --- pro-rata layers --------------------------------------------------------------------------
#
# alice ($200) buys 6 from bob at $100; mark $95 (alice 170, bob 230); alice buys 4 from carol at $95;
# mark gaps to $70: alice 170 − 10 × 25 = −$80 (an $80 shortage).
# bob: 230 + 6 × 25 = $380, profit over his $200 = $180; carol: 200 + 4 × 25 = $300, profit $100.

PRO_RATA_STORY = [
    Deposit("alice", 200), Deposit("bob", 200), Deposit("carol", 200),
    Trade("alice", "bob", 6, 100), MarkPrice(95), Trade("alice", "carol", 4, 95),
]  # fmt: skip


def pro_rata(policy, crash=70, *extra):
    book = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
    return run(policy, book, [*PRO_RATA_STORY, *extra, MarkPrice(crash)])[-1]


BACK_AT_PRINCIPAL = [
    Deposit("alice", 100), Deposit("bob", 1_000), Trade("alice", "bob", 10, 100),
    MarkPrice(130),  # alice +$300 → $400, bob −$300 → $700
    Withdraw("alice", 270),  # all of alice's free margin: $400 − IM $130
    MarkPrice(100),  # alice $130 − $300 = −$170; bob back to $1,000 = his principal: no profit
]  # fmt: skip


class TestSocializedLoss:
    """A socialized loss charges the whole remaining deficit pro rata to profit or to open interest."""

    def test_over_winners(self, make_policy):
        s = pro_rata(make_policy(deficit=[SocializedLoss(over=Over.WINNERS)]))
        # weights 180 : 100 (W = $280): bob ⌈80 × 180/280⌉ = ⌈51.43⌉ = $52, carol ⌈28.57⌉ = $29;
        # $81 charged for an $80 shortage: the $1 of dust goes to the fund
        assert layer_transfers(s, Reason.SOCIALIZED_LOSS, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 52, Reason.SOCIALIZED_LOSS),
            Transfer("carol", "alice", 29, Reason.SOCIALIZED_LOSS),
            Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
        ]
        assert used(s) == [LayerUsed("alice", 0, "socialized_loss", 80, True)]
        assert (cash(s, "alice"), cash(s, "bob"), cash(s, "carol"), cash(s, "insurance_fund")) == (0, 328, 271, 1)

    def test_over_open_interest(self, make_policy):
        s = pro_rata(make_policy(deficit=[SocializedLoss(over=Over.OPEN_INTEREST)]))
        # weights 6 : 4 lots: bob $48, carol $32, exact. The book held no position when alice went
        # bankrupt (her 10 lots are closed into it, but that nets inside the aggregate), so it pays nothing
        assert layer_transfers(s, Reason.SOCIALIZED_LOSS, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 48, Reason.SOCIALIZED_LOSS),
            Transfer("carol", "alice", 32, Reason.SOCIALIZED_LOSS),
        ]
        assert cash(s, "alice") == 0

    @pytest.mark.parametrize("over", [o for o in Over if o is not Over.OPPOSING_SIDE])
    def test_the_book_as_the_only_counterparty_pays(self, make_policy, over):
        """bob's long is liquidated into the book at $94, so alice's short has the book as its only
        counterparty; the mark gaps to $250 and she is $200 short. Before the book took part, no
        one had a weight (bob is flat and below his principal) and the $200 stayed on her account."""
        policy = make_policy(deficit=[SocializedLoss(over=over)])
        book = new_book(mark_quote=100, traders=("alice", "bob"))
        events = [
            Deposit("liquidity", 1_000), Deposit("alice", 100), Deposit("bob", 20), Trade("bob", "alice", 2, 100),
            MarkPrice(94),  # bob 20 − 12 = $8 < MM $10: closed into the book, solvent; alice $112
            MarkPrice(250),  # alice 112 − 2 × 156 = −$200; the book, long 2, gains $312
        ]  # fmt: skip
        s = run(policy, book, events)[-1]
        assert layer_transfers(s, Reason.SOCIALIZED_LOSS) == [
            Transfer("liquidity", "alice", 200, Reason.SOCIALIZED_LOSS)
        ]
        assert residual(s) == [] and cash(s, "alice") == 0

    def test_over_the_opposing_side_the_liquidated_lots_are_the_opposing_sides(self, make_policy):
        """The same story under ``over = "opposing_side"`` (percolator Gen B, rules/side_index.py):
        bob's solvent liquidation at $94 closes his 2 lots against alice, the whole opposing side,
        not into the book, so at $250 she holds nothing and nobody is bankrupt."""
        policy = make_policy(deficit=[SocializedLoss(over=Over.OPPOSING_SIDE)])
        events = [
            Deposit("liquidity", 1_000), Deposit("alice", 100), Deposit("bob", 20), Trade("bob", "alice", 2, 100),
            MarkPrice(94), MarkPrice(250),
        ]  # fmt: skip
        steps = run(policy, new_book(mark_quote=100, traders=("alice", "bob")), events)
        assert {a.name: a.size_lots for a in steps[-2].after.accounts if a.size_lots} == {}
        assert layer_transfers(steps[-1], Reason.SOCIALIZED_LOSS) == [] and residual(steps[-1]) == []
        assert cash(steps[-1], "alice") == 112

    def test_winners_back_at_principal_pay_nothing(self, make_policy):
        policy = make_policy(deficit=[SocializedLoss(over=Over.WINNERS), VenueAbsorbs()])
        s = run(policy, new_book(mark_quote=100), BACK_AT_PRINCIPAL)[-1]
        # no one has profit, so the layer charges nothing and the venue pays the $170
        assert layer_transfers(s, Reason.SOCIALIZED_LOSS) == []
        assert used(s) == [
            LayerUsed("alice", 0, "socialized_loss", 0, True),
            LayerUsed("alice", 1, "venue_absorbs", 170, True),
        ]
        assert (cash(s, "bob"), cash(s, "venue")) == (1_000, -170)


class TestProRataRounding:
    """Rounding up sends the dust to the fund; rounding down passes the remainder to the next layer."""

    def test_down_passes_remainder(self, make_policy):
        s = pro_rata(make_policy(rounding=DOWN, deficit=[SocializedLoss(), VenueAbsorbs()]))
        # bob ⌊51.43⌋ = $51, carol ⌊28.57⌋ = $28: $79 paid, the $1 remainder to the venue
        assert layer_transfers(s, Reason.SOCIALIZED_LOSS, Reason.PRO_RATA_DUST, Reason.VENUE_ABSORBS) == [
            Transfer("bob", "alice", 51, Reason.SOCIALIZED_LOSS),
            Transfer("carol", "alice", 28, Reason.SOCIALIZED_LOSS),
            Transfer("venue", "alice", 1, Reason.VENUE_ABSORBS),
        ]
        assert used(s) == [
            LayerUsed("alice", 0, "socialized_loss", 79, True),
            LayerUsed("alice", 1, "venue_absorbs", 1, True),
        ]
        assert (cash(s, "alice"), cash(s, "insurance_fund")) == (0, 0)

    def test_down_with_no_next_layer_is_a_residual(self, make_policy):
        s = pro_rata(make_policy(rounding=DOWN, deficit=[SocializedLoss()]))
        assert residual(s) == [Residual("alice", 1)] and cash(s, "alice") == -1


class TestHaircutRatio:
    """A haircut charges profit pro rata and never more than the profit: principal is senior."""

    def test_deficit_below_profit(self, make_policy):
        s = pro_rata(make_policy(deficit=[HaircutRatio()]))
        # $80 < profit $280: same shares as a socialized loss over winners, $52 + $29, $1 dust to the fund
        assert layer_transfers(s, Reason.HAIRCUT) == [
            Transfer("bob", "alice", 52, Reason.HAIRCUT),
            Transfer("carol", "alice", 29, Reason.HAIRCUT),
        ]
        assert cash(s, "alice") == 0

    def test_the_book_takes_part(self, make_policy):
        policy = make_policy(
            liquidation=LiquidationRule(slippage_ppm=400_000), deficit=[HaircutRatio(), VenueAbsorbs()]
        )
        s = pro_rata(policy)
        # slippage ⌈40% × $70⌉ = $28 a lot × 10 = $280 more: shortage $80 + $280 = $360. The book took
        # the $280 (its profit: it holds no principal); with bob's $180 and carol's $100, W = $560:
        # bob ⌈360 × 180/560⌉ = $116, carol ⌈64.29⌉ = $65, the book ⌈180⌉ = $180; $1 dust to the fund
        assert layer_transfers(s, Reason.HAIRCUT, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 116, Reason.HAIRCUT),
            Transfer("carol", "alice", 65, Reason.HAIRCUT),
            Transfer("liquidity", "alice", 180, Reason.HAIRCUT),
            Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
        ]
        assert used(s) == [LayerUsed("alice", 0, "haircut_ratio", 360, True)]

    def test_never_beyond_profit(self, make_policy):
        policy = make_policy(
            liquidation=LiquidationRule(slippage_ppm=100_000), deficit=[HaircutRatio(), VenueAbsorbs()]
        )
        s = run(policy, new_book(mark_quote=100), BACK_AT_PRINCIPAL)[-1]
        # alice is at −$170 at mark and her close into the book at $90 adds $100: shortage $270.
        # bob is back at his $1,000 principal (no profit); the book's profit is the $100 fill: the
        # haircut takes exactly that, and the venue pays the $170 no profit backs
        assert layer_transfers(s, Reason.HAIRCUT) == [Transfer("liquidity", "alice", 100, Reason.HAIRCUT)]
        assert used(s) == [
            LayerUsed("alice", 0, "haircut_ratio", 100, True),
            LayerUsed("alice", 1, "venue_absorbs", 170, True),
        ]
        assert (cash(s, "bob"), cash(s, "liquidity")) == (1_000, 0)

    def test_spot_deposit_is_not_profit(self, flat_margin):
        policy = Policy("spot", MarginRule(tiers=flat_margin.tiers, spot_collateral=True), deficit=(HaircutRatio(),))
        book = new_book(mark_quote=100, traders=("alice", "bob", "dave"))
        events = [
            SpotDeposit("dave", 1_000), Deposit("alice", 100), Deposit("bob", 1_000),
            Trade("alice", "bob", 10, 100), MarkPrice(70),
        ]  # fmt: skip
        s = run(policy, book, events)[-1]
        # alice −$200 at $70; bob's $300 profit covers it all. dave never traded: his $1,000 is
        # deposited capital, not profit, so he pays nothing and his spot stays whole.
        # (today: weights bob 300 : dave 1,000, dave pays ⌈$200 × 1000/1300⌉ = $154, taken from his spot)
        assert [t for t in s.transfers if t.source in ("dave", "dave.spot")] == []
        assert layer_transfers(s, Reason.HAIRCUT) == [Transfer("bob", "alice", 200, Reason.HAIRCUT)]
        assert s.after.account("dave").spot_quote == 1_000


class TestClawback:
    """A clawback takes back trading profit made in the current window, pro rata."""

    # window_events = 4: the window resets before events 4 and 8 (the book clock counts accepted events)
    CLAWBACK_STORY = [
        Deposit("alice", 300), Deposit("bob", 100), Deposit("carol", 100), Trade("alice", "bob", 5, 100),  # clock 0-3
        MarkPrice(90), Trade("alice", "carol", 5, 90), MarkPrice(90), MarkPrice(90),  # clock 4-7: bob +$50
        MarkPrice(60),  # clock 8: alice 250 − 10 × 30 = −$50; bob and carol +$150 each
    ]  # fmt: skip

    def run_story(self, policy):
        book = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
        return run(policy, book, self.CLAWBACK_STORY)[-1]

    def test_window_resets_after_window_events(self, make_policy):
        s = self.run_story(make_policy(deficit=[Clawback(window_events=4)]))
        # window PnL at clock 8: bob $150, carol $150 (bob's $50 from clock 4 is in the old window): $25 each
        assert layer_transfers(s, Reason.CLAWBACK, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 25, Reason.CLAWBACK),
            Transfer("carol", "alice", 25, Reason.CLAWBACK),
        ]

    def test_long_window_keeps_older_profit(self, make_policy):
        s = self.run_story(make_policy(deficit=[Clawback()]))
        # bob $200, carol $150 (W = $350): bob ⌈50 × 200/350⌉ = ⌈28.57⌉ = $29, carol ⌈21.43⌉ = $22; $1 dust
        assert layer_transfers(s, Reason.CLAWBACK, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 29, Reason.CLAWBACK),
            Transfer("carol", "alice", 22, Reason.CLAWBACK),
            Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
        ]

    def test_the_book_takes_part(self, make_policy):
        policy = make_policy(liquidation=LiquidationRule(slippage_ppm=200_000), deficit=[Clawback()])
        s = gap(policy, crash=85)
        # at $85 alice is at −$50; slippage ⌈20% × $85⌉ = $17 a lot adds $170 to the book: shortage
        # $220. Window PnL: bob $150, the book $170 (W = $320): bob ⌈220 × 150/320⌉ = $104, the
        # book ⌈116.9⌉ = $117; $1 dust to the fund
        assert layer_transfers(s, Reason.CLAWBACK, Reason.PRO_RATA_DUST) == [
            Transfer("bob", "alice", 104, Reason.CLAWBACK),
            Transfer("liquidity", "alice", 117, Reason.CLAWBACK),
            Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
        ]

    @pytest.mark.parametrize(
        "cap_at_profit, taken, residual_quote",
        [pytest.param(True, 200, 170, id="capped at window profit"), pytest.param(False, 370, 0, id="uncapped")],
    )
    def test_cap_at_profit(self, make_policy, cap_at_profit, taken, residual_quote):
        policy = make_policy(
            liquidation=LiquidationRule(slippage_ppm=200_000), deficit=[Clawback(cap_at_profit=cap_at_profit)]
        )
        s = run(policy, new_book(mark_quote=100), BACK_AT_PRINCIPAL)[-1]
        # alice is at −$170 at mark; her close into the book at $80 adds $200: shortage $370. bob's
        # window PnL is −$300 + $300 = 0; the book's is the $200 fill: capped, the $200 is taken and
        # $170 stays on alice; uncapped, the book pays it all
        assert layer_transfers(s, Reason.CLAWBACK) == [Transfer("liquidity", "alice", taken, Reason.CLAWBACK)]
        assert residual(s) == ([Residual("alice", residual_quote)] if residual_quote else [])
        assert cash(s, "alice") == -residual_quote


class TestDebtCarry:
    """Debt carry leaves the deficit owed: to the winners (negative balance) or to a fronting venue."""

    def test_winners_lender_keeps_the_balance_negative(self, make_policy):
        policy = make_policy(deficit=[DebtCarry()])
        s = gap(policy)
        assert s.outcomes[1:] == (
            Bankrupt("alice", 100),
            DebtCarried("alice", 100),
            LayerUsed("alice", 0, "debt_carry", 100, True),
        )
        assert residual(s) == [] and cash(s, "alice") == -100
        # a later $150 deposit first fills the $100 hole
        later = step(policy, s.after, Deposit("alice", 150))
        assert later.outcomes == (DepositAbsorbed("alice", 100),)
        assert later.transfers == (Transfer("external", "alice", 150, Reason.DEPOSIT),)
        assert later.after.account("alice").cash_quote == 50

    def test_venue_lender_fronts_and_is_repaid(self, make_policy):
        policy = make_policy(deficit=[DebtCarry(lender=Lender.VENUE)])
        s = gap(policy)
        # the venue pays the $100 in and records alice's $100 debt
        assert layer_transfers(s, Reason.DEBT_FRONTED) == [Transfer("venue", "alice", 100, Reason.DEBT_FRONTED)]
        assert s.outcomes[2:] == (DebtCarried("alice", 100), LayerUsed("alice", 0, "debt_carry", 100, True))
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.debt_quote, cash(s, "venue")) == (0, 100, -100)
        # $40 repays $40 of the debt; then $150 repays the last $60 and leaves $90 withdrawable
        part = step(policy, s.after, Deposit("alice", 40))
        assert part.outcomes == (DepositAbsorbed("alice", 40),)
        assert (part.after.account("alice").debt_quote, part.after.account("alice").cash_quote) == (60, 0)
        with pytest.raises(RejectedEvent) as info:
            step(policy, part.after, Withdraw("alice", 1))
        assert info.value.reason == "the account owes a debt; withdrawals wait until it is repaid"
        rest = step(policy, part.after, Deposit("alice", 150))
        assert rest.transfers == (
            Transfer("external", "alice", 150, Reason.DEPOSIT),
            Transfer("alice", "venue", 60, Reason.DEBT_REPAYMENT),
        )
        assert rest.outcomes == (DepositAbsorbed("alice", 60),)
        alice = rest.after.account("alice")
        assert (alice.cash_quote, alice.debt_quote, rest.after.account("venue").cash_quote) == (90, 0, 0)
        assert step(policy, rest.after, Withdraw("alice", 90)).after.account("alice").cash_quote == 0

    def test_winners_lender_must_repay_from_deposits(self):
        with pytest.raises(ValueError) as info:
            DebtCarry(deposits_repay_debt=False)
        assert str(info.value) == (
            "'deposits_repay_debt' must be true when lender = 'winners': the debt is the account's negative "
            "balance, so any deposit lands in it; use lender = 'venue' for a debt collected off the book: False"
        )


class TestVenueAbsorbs:
    """The venue pays the whole remaining deficit from its own capital."""

    def test_venue_pays_everything(self, make_policy):
        s = gap(make_policy(deficit=[VenueAbsorbs()]))
        assert layer_transfers(s, Reason.VENUE_ABSORBS) == [Transfer("venue", "alice", 100, Reason.VENUE_ABSORBS)]
        assert (cash(s, "alice"), cash(s, "venue"), cash(s, "bob")) == (0, -100, 1_200)


class TestResidual:
    """What no layer pays stays on the account as a residual."""

    def test_no_layers(self, make_policy):
        s = gap(make_policy())
        assert s.outcomes == (Liquidated("alice", -100, 40, 10, 80), Bankrupt("alice", 100), Residual("alice", 100))
        assert (cash(s, "alice"), s.after.account("alice").size_lots, s.after.account("liquidity").size_lots) == (
            -100,
            0,
            10,
        )


class TestLayerValidation:
    """A waterfall holds each layer once and nothing after a layer that takes everything."""

    @pytest.mark.parametrize(
        "layers, message",
        [
            pytest.param(
                [InsuranceFund(), InsuranceFund(cap_quote=5)],
                "'layer' must appear once in the waterfall: 'insurance_fund' again @ deficit[1]",
                id="insurance fund twice",
            ),
            pytest.param(
                [VenueAbsorbs(), InsuranceFund()],
                "'layer' 'insurance_fund' is unreachable: 'venue_absorbs' @ deficit[0] takes every remaining deficit; move it last @ deficit[1]",
                id="venue absorbs not last",
            ),
            pytest.param(
                [InsuranceFund(), DebtCarry(), HaircutRatio()],
                "'layer' 'haircut_ratio' is unreachable: 'debt_carry' @ deficit[1] takes every remaining deficit; move it last @ deficit[2]",
                id="debt carry not last",
            ),
            pytest.param(
                ["insurance_fund"],
                "'deficit' must hold waterfall layers: 'insurance_fund' @ deficit[0]",
                id="not a layer",
            ),
        ],
    )
    def test_rejected(self, flat_margin, layers, message):
        with pytest.raises(ValueError) as info:
            Policy("bad", flat_margin, deficit=layers)
        assert str(info.value) == message

    @pytest.mark.parametrize(
        "build, message",
        [
            pytest.param(lambda: InsuranceFund(cap_quote=0), "'cap_quote' must be >= 1: 0", id="fund cap 0"),
            pytest.param(lambda: Clawback(window_events=0), "'window_events' must be >= 1: 0", id="window 0"),
        ],
    )
    def test_layer_fields(self, build, message):
        with pytest.raises(ValueError) as info:
            build()
        assert str(info.value) == message


class TestAdlReachesTheBook:
    """The order book's resting liquidity stands for the rest of the market: after every opposing
    trader it is deleveraged at the same price (``Adl.book_last``, default), unless exempted.

    Story: alice ($50) buys 3 from bob ($31) at $100; at $110 bob (equity $1 < MM $17) is
    liquidated into the book, which now holds his short; at $80 alice is at 80 − 3 × 30 = −$10 and
    no trader is short any more.
    """

    EVENTS = [Deposit("alice", 50), Deposit("bob", 31), Trade("alice", "bob", 3, 100), MarkPrice(110), MarkPrice(80)]

    def test_the_book_is_deleveraged_when_no_trader_is_opposite(self, make_policy):
        s = run(make_policy(deficit=[Adl()]), new_book(mark_quote=100), self.EVENTS)[-1]
        # gap ⌈$10 / 3⌉ = $4 a lot: the book pays $12, alice's $2 excess goes to the fund
        assert layer_transfers(s, Reason.ADL, Reason.PRO_RATA_DUST) == [
            Transfer("liquidity", "alice", 12, Reason.ADL),
            Transfer("alice", "insurance_fund", 2, Reason.PRO_RATA_DUST),
        ]
        (book_fill,) = [o for o in s.outcomes if isinstance(o, BookDeleveraged)]
        assert (book_fill.bankrupt, book_fill.book, book_fill.lots, book_fill.gap_per_lot_quote) == (
            "alice",
            "liquidity",
            3,
            4,
        )
        assert (cash(s, "alice"), s.after.account("liquidity").size_lots) == (0, 0)

    def test_traders_come_first(self, make_policy):
        events = [
            Deposit("alice", 60),
            Deposit("bob", 31),
            Deposit("carol", 1_000),
            Trade("alice", "bob", 3, 100),
            Trade("alice", "carol", 1, 100),
            MarkPrice(110),
            MarkPrice(80),
        ]
        s = run(make_policy(deficit=[Adl()]), new_book(mark_quote=100, traders=("alice", "bob", "carol")), events)[-1]
        # alice 60 + 40 − 4 × 30 = −$20 on 4 lots: gap $5; carol's 1 lot first, then the book's 3
        assert layer_transfers(s, Reason.ADL) == [
            Transfer("carol", "alice", 5, Reason.ADL),
            Transfer("liquidity", "alice", 15, Reason.ADL),
        ]

    def test_an_exempt_book_leaves_the_deficit_to_the_next_layer(self, make_policy):
        s = run(make_policy(deficit=[Adl(book_last=False), VenueAbsorbs()]), new_book(mark_quote=100), self.EVENTS)[-1]
        assert layer_transfers(s, Reason.ADL) == []
        assert not [o for o in s.outcomes if isinstance(o, BookDeleveraged)]
        assert used(s)[-1] == LayerUsed("alice", 1, "venue_absorbs", 10, True)

    def test_book_last_must_be_a_boolean(self):
        from solvent.rules.loading import PolicyError, loads_policy

        text = 'name = "x"\n[margin]\ntiers = [{floor_notional_quote = 0, initial_ppm = 100000, maintenance_ppm = 50000}]\n[[deficit]]\nlayer = "adl"\nbook_last = "yes"\n'
        with pytest.raises(PolicyError, match="book_last"):
            loads_policy(text)
