"""Liquidation: when the trigger fires, the fill price, partial steps, the penalty, and the three executions.

Money in whole dollars (one quantum = $1), mark in dollars per lot. The base story: alice deposits
$145 and buys 10 lots at $100 from bob (who has $10,000); margin is 10% initial, 5% maintenance.
At mark M alice's equity is $145 − 10 × ($100 − M) and her maintenance margin ⌈10 × M × 5%⌉.
"""

from __future__ import annotations

import pytest

from solvent.rules.arith import PPM
from solvent.rules.book import Role, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, SpotDeposit, Trade
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.liquidation import Execution, LiquidationRule, Recipient, Trigger, is_triggered, partial_lots
from solvent.rules.margin import MarginRule
from solvent.rules.outcomes import Bankrupt, Liquidated

SETTLE = Reason.SETTLEMENT


def long_book(policy, deposit=145, isolated=()):
    """alice long 10 at $100 against bob, with ``deposit`` dollars."""
    book = new_book(mark_quote=100, isolated=isolated)
    return run(policy, book, [Deposit("alice", deposit), Deposit("bob", 10_000), Trade("alice", "bob", 10, 100)])[
        -1
    ].after


def short_book(policy, deposit=145):
    """alice short 10 at $100 against bob."""
    book = new_book(mark_quote=100)
    return run(policy, book, [Deposit("alice", deposit), Deposit("bob", 10_000), Trade("bob", "alice", 10, 100)])[
        -1
    ].after


def liquidated(outcomes) -> list[str]:
    return [o.account for o in outcomes if isinstance(o, Liquidated)]


class TestTrigger:
    """The trigger fires for an account with a position whose equity is below (or at) maintenance."""

    @pytest.mark.parametrize(
        "trigger, equity, fires",
        [
            pytest.param(Trigger.BELOW_MAINTENANCE, 44, True, id="below: E < MM fires"),
            pytest.param(Trigger.BELOW_MAINTENANCE, 45, False, id="below: E = MM holds"),
            pytest.param(Trigger.AT_OR_BELOW_MAINTENANCE, 45, True, id="at-or-below: E = MM fires"),
            pytest.param(Trigger.AT_OR_BELOW_MAINTENANCE, 46, False, id="at-or-below: E > MM holds"),
        ],
    )
    def test_predicate(self, trigger, equity, fires):
        assert is_triggered(LiquidationRule(trigger=trigger), equity, 45, 10) is fires

    @pytest.mark.parametrize("trigger", list(Trigger), ids=[t.value for t in Trigger])
    def test_flat_account_never_fires(self, trigger):
        assert is_triggered(LiquidationRule(trigger=trigger), -100, 0, 0) is False

    @pytest.mark.parametrize(
        "trigger, fires",
        [
            pytest.param(Trigger.BELOW_MAINTENANCE, False, id="below"),
            pytest.param(Trigger.AT_OR_BELOW_MAINTENANCE, True, id="at-or-below"),
        ],
    )
    def test_equity_equal_to_maintenance(self, make_policy, trigger, fires):
        policy = make_policy(liquidation=LiquidationRule(trigger=trigger))
        s = step(policy, long_book(policy), MarkPrice(90))
        # at $90: equity $145 − $100 = $45; MM = 5% × $900 = $45
        alice = s.after.account("alice")
        if fires:
            assert s.outcomes == (Liquidated("alice", 45, 45, 10, 90),)
            assert (alice.cash_quote, alice.size_lots) == (45, 0)
        else:
            assert s.outcomes == ()
            assert (alice.cash_quote, alice.size_lots) == (45, 10)

    def test_spot_collateral_keeps_cross_account_alive(self, flat_margin, make_policy):
        policy = make_policy(margin=MarginRule(tiers=flat_margin.tiers, spot_collateral=True))
        book = run(policy, long_book(policy), [SpotDeposit("alice", 100)])[-1].after
        s = step(policy, book, MarkPrice(89))
        # cash $35 + spot $100 = $135 ≥ MM $45
        assert liquidated(s.outcomes) == []

    def test_spot_converted_only_as_far_as_needed(self, flat_margin, make_policy):
        policy = make_policy(margin=MarginRule(tiers=flat_margin.tiers, spot_collateral=True))
        book = run(policy, long_book(policy, deposit=100), [SpotDeposit("alice", 100)])[-1].after
        s = step(policy, book, MarkPrice(85))
        # cash $100 − $150 = −$50; spot $100 counts: equity $50 ≥ MM $43, not liquidated.
        # The sweep converts $50 of spot to bring cash back to $0 and leaves $50 of spot.
        assert s.transfers[-1] == Transfer("alice.spot", "alice", 50, Reason.COLLATERAL_CONVERSION)
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.spot_quote, alice.size_lots) == (0, 50, 10)
        assert liquidated(s.outcomes) == []

    def test_isolated_account_ignores_spot(self, flat_margin, make_policy):
        policy = make_policy(margin=MarginRule(tiers=flat_margin.tiers, spot_collateral=True))
        book = run(policy, long_book(policy, isolated=("alice",)), [SpotDeposit("alice", 100)])[-1].after
        s = step(policy, book, MarkPrice(89))
        # cash $35 < MM $45; the $100 spot does not count and is not touched
        assert liquidated(s.outcomes) == ["alice"]
        assert s.after.account("alice").spot_quote == 100


class TestMarketExecution:
    """A market close sells into the book (the liquidity account) at mark worsened by slippage."""

    def test_long_fill_below_mark_rounded_against_account(self, make_policy):
        policy = make_policy(liquidation=LiquidationRule(slippage_ppm=10_000))
        s = step(policy, long_book(policy), MarkPrice(89))
        # at $89: equity $35 < MM ⌈$44.5⌉ = $45. slip = ⌈1% × $89⌉ = ⌈$0.89⌉ = $1 → fill $88.
        assert s.transfers == (
            Transfer("alice", "clearing", 110, SETTLE),
            Transfer("clearing", "bob", 110, SETTLE),
            Transfer("alice", "liquidity", 10, Reason.LIQUIDATION_SLIPPAGE),  # 10 lots × $1
        )
        assert s.outcomes == (Liquidated("alice", 35, 45, 10, 88),)
        alice, book = s.after.account("alice"), s.after.account("liquidity")
        assert (alice.cash_quote, alice.size_lots, alice.cost_quote) == (25, 0, 0)
        assert (book.size_lots, book.cost_quote) == (10, 880)

    def test_short_fill_above_mark_rounded_against_account(self, make_policy):
        policy = make_policy(liquidation=LiquidationRule(slippage_ppm=10_000))
        s = step(policy, short_book(policy), MarkPrice(111))
        # at $111: equity $145 − $110 = $35 < MM ⌈$55.5⌉ = $56. slip = ⌈$1.11⌉ = $2 → fill $113.
        assert s.outcomes == (Liquidated("alice", 35, 56, -10, 113),)
        assert s.transfers[-1] == Transfer("alice", "liquidity", 20, Reason.LIQUIDATION_SLIPPAGE)
        assert (s.after.account("alice").cash_quote, s.after.account("liquidity").size_lots) == (15, -10)

    def test_partial_close_stops_when_back_above_maintenance(self, make_policy):
        policy = make_policy(liquidation=LiquidationRule(slippage_ppm=10_000, partial_close_ppm=500_000))
        s = step(policy, long_book(policy), MarkPrice(89))
        # close 5 of 10 at $88: equity $35 − $5 = $30 ≥ MM(5 lots) = ⌈$22.25⌉ = $23 → stop.
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.size_lots) == (30, 5)
        assert s.transfers[-1] == Transfer("alice", "liquidity", 5, Reason.LIQUIDATION_SLIPPAGE)

    def test_partial_close_continues_while_below(self, make_policy):
        policy = make_policy(liquidation=LiquidationRule(slippage_ppm=10_000, partial_close_ppm=500_000))
        s = step(policy, long_book(policy), MarkPrice(87))
        # at $87: equity $15 < MM $44; close 5 at $86 → $10 < MM(5 lots) $22 → close the other 5 → $5.
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.size_lots) == (5, 0)
        assert [t.amount_quote for t in s.transfers if t.reason is Reason.LIQUIDATION_SLIPPAGE] == [5, 5]

    @pytest.mark.parametrize(
        "size, ppm, lots",
        [
            pytest.param(3, 500_000, 2, id="half of 3 rounds up to 2"),
            pytest.param(-3, 500_000, 2, id="short: half of 3 rounds up to 2"),
            pytest.param(10, 1, 1, id="at least one lot"),
            pytest.param(10, PPM, 10, id="100% closes all"),
        ],
    )
    def test_partial_lots(self, size, ppm, lots):
        assert partial_lots(LiquidationRule(partial_close_ppm=ppm), size) == lots

    @pytest.mark.parametrize("recipient", list(Recipient), ids=[r.value for r in Recipient])
    def test_penalty_paid_to_recipient(self, make_policy, recipient):
        policy = make_policy(
            liquidation=LiquidationRule(slippage_ppm=10_000, penalty_ppm=10_000, penalty_recipient=recipient)
        )
        s = step(policy, long_book(policy), MarkPrice(89))
        # penalty 1% of closed notional 10 × $89 = $8.90 → $9 (fee rounding up); equity after the fill $25 → $16
        assert s.transfers[-1] == Transfer("alice", recipient.value, 9, Reason.LIQUIDATION_PENALTY)
        assert s.after.account("alice").cash_quote == 16

    @pytest.mark.parametrize("recipient", list(Recipient), ids=[r.value for r in Recipient])
    def test_penalty_capped_at_remaining_equity(self, make_policy, recipient):
        policy = make_policy(
            liquidation=LiquidationRule(slippage_ppm=10_000, penalty_ppm=100_000, penalty_recipient=recipient)
        )
        s = step(policy, long_book(policy), MarkPrice(89))
        # penalty 10% × $890 = $89, but only $25 is left after the fill: $25 is paid, alice ends at $0
        assert s.transfers[-1] == Transfer("alice", recipient.value, 25, Reason.LIQUIDATION_PENALTY)
        assert s.after.account("alice").cash_quote == 0

    def test_partial_penalty_never_leaves_account_negative(self, make_policy):
        policy = make_policy(
            liquidation=LiquidationRule(slippage_ppm=10_000, partial_close_ppm=500_000, penalty_ppm=100_000)
        )
        s = step(policy, long_book(policy, deposit=200), MarkPrice(84))
        # at $84: equity $40 < MM $42; slip $1/lot, so closing all costs $10 → $30 ≥ 0: not bankrupt.
        # step 1: 5 lots at $83 → $35; penalty 10% × $420 = $42 capped at $35 → $0; still below MM $21.
        # step 2: 5 lots at $83 → −$5, flat, and no waterfall runs (no Bankrupt outcome).
        assert not any(isinstance(o, Bankrupt) for o in s.outcomes)
        assert s.after.account("alice").cash_quote >= 0


class TestBankruptcyExecution:
    """The bankruptcy execution closes at mark and hands the remaining margin to the insurance fund."""

    def test_remaining_margin_to_fund(self, make_policy):
        rule = LiquidationRule(
            execution=Execution.BANKRUPTCY, penalty_ppm=10_000, penalty_recipient=Recipient.FEE_ACCOUNT
        )
        policy = make_policy(liquidation=rule)
        s = step(policy, long_book(policy), MarkPrice(89))
        # closed at $89 (no slippage): equity $35; penalty $9 to the fee account; the other $26 to the fund
        assert s.transfers[2:] == (
            Transfer("alice", "fee_account", 9, Reason.LIQUIDATION_PENALTY),
            Transfer("alice", "insurance_fund", 26, Reason.LIQUIDATION_SURPLUS),
        )
        assert s.outcomes == (Liquidated("alice", 35, 45, 10, 89),)
        assert (s.after.account("alice").cash_quote, s.after.account("liquidity").size_lots) == (0, 10)


class TestTakeover:
    """A takeover moves the position and the remaining margin to the backstop vault."""

    def test_position_and_margin_to_vault(self, make_policy):
        policy = make_policy(liquidation=LiquidationRule(execution=Execution.TAKEOVER))
        s = step(policy, long_book(policy), MarkPrice(89))
        vault = s.after.role(Role.BACKSTOP_VAULT)
        assert s.transfers[2:] == (Transfer("alice", "backstop_vault", 35, Reason.LIQUIDATION_SURPLUS),)
        assert (vault.size_lots, vault.cost_quote, vault.cash_quote) == (10, 890, 35)
        assert (s.after.account("alice").cash_quote, s.after.account("alice").size_lots) == (0, 0)
        assert s.after.account("liquidity").size_lots == 0


class TestRuleValidation:
    """A liquidation rule refuses settings that only a market close can honour."""

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            pytest.param(
                dict(execution=Execution.BANKRUPTCY, slippage_ppm=1),
                "'slippage_ppm' must be 0 when execution = 'bankruptcy' (only a market close has a fill price away from mark): 1",
                id="slippage with bankruptcy execution",
            ),
            pytest.param(
                dict(execution=Execution.TAKEOVER, partial_close_ppm=500_000),
                "'partial_close_ppm' must be 1000000 when execution = 'takeover' (a takeover moves the whole position): 500000",
                id="partial takeover",
            ),
            pytest.param(dict(slippage_ppm=PPM), "'slippage_ppm' must be <= 999999: 1000000", id="slippage 100%"),
            pytest.param(dict(partial_close_ppm=0), "'partial_close_ppm' must be >= 1: 0", id="partial 0"),
            pytest.param(
                dict(penalty_ppm=PPM + 1), "'penalty_ppm' must be <= 1000000: 1000001", id="penalty above 100%"
            ),
        ],
    )
    def test_rejected(self, kwargs, message):
        with pytest.raises(ValueError) as info:
            LiquidationRule(**kwargs)
        assert str(info.value) == message
