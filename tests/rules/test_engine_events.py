"""Events on the concrete engine: what each one pays, to whom, and what it refuses.

Money is in whole dollars here (one quote quantum = $1); the mark is in dollars per lot. Every
rejection asserts the whole message and that the input book is unchanged (``step`` is pure).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.arith import Rounding
from solvent.rules.book import Book, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.fees import FeeRule
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.outcomes import DepositAbsorbed
from solvent.rules.rounding import FundingRounding, RoundingRule


def after(policy, book: Book, *events) -> Book:
    """The book after applying the events in order."""
    return run(policy, book, events)[-1].after if events else book


def cash(book: Book) -> dict[str, int]:
    return {a.name: a.cash_quote for a in book.accounts}


def assert_rejected(policy, book: Book, event, message: str, frozen_copy) -> None:
    """The event raises ``RejectedEvent`` with exactly ``message`` and the book is left as it was."""
    snapshot = frozen_copy(book)
    with pytest.raises(RejectedEvent) as info:
        step(policy, book, event)
    assert str(info.value) == f"{event!r} rejected: {message}"
    assert info.value.event == event and info.value.reason == message
    assert book == snapshot


class TestDeposit:
    """A deposit moves money from outside to the account's cash and raises its principal."""

    def test_credits_cash_principal_and_net_deposits(self, make_policy):
        policy = make_policy()
        s = step(policy, new_book(mark_quote=100), Deposit("alice", 250))  # $250 in
        alice = s.after.account("alice")
        assert s.transfers == (Transfer("external", "alice", 250, Reason.DEPOSIT),)
        assert (alice.cash_quote, alice.principal_quote, s.after.net_deposits_quote, s.after.clock) == (
            250,
            250,
            250,
            1,
        )
        assert s.outcomes == ()

    def test_insurance_fund_top_up_is_a_deposit(self, make_policy):
        s = step(make_policy(), new_book(mark_quote=100), Deposit("insurance_fund", 40))
        assert s.after.account("insurance_fund").cash_quote == 40 and s.after.net_deposits_quote == 40

    def test_deposit_into_negative_balance_is_absorbed(self, make_policy):
        policy = make_policy()  # no waterfall: a deficit stays on the account
        events = [Deposit("alice", 100), Deposit("bob", 1_000), Trade("alice", "bob", 10, 100), MarkPrice(80)]
        book = run(policy, new_book(mark_quote=100), events)[-1].after
        assert book.account("alice").cash_quote == -100  # alice paid 10 × $20 from $100
        s = step(policy, book, Deposit("alice", 130))
        assert s.outcomes == (DepositAbsorbed("alice", 100),)
        assert s.after.account("alice").cash_quote == 30

    @pytest.mark.parametrize(
        "event, message",
        [
            pytest.param(Deposit("alice", 0), "amount_quote must be > 0", id="zero amount"),
            pytest.param(Deposit("alice", -5), "amount_quote must be > 0", id="negative amount"),
            pytest.param(
                Deposit("zed", 5),
                "unknown account 'zed'; the book has ['alice', 'backstop_vault', 'bob', 'clearing', "
                "'fee_account', 'insurance_fund', 'liquidity', 'venue']",
                id="unknown account",
            ),
            pytest.param(
                Deposit("clearing", 5),
                "'clearing' is the clearing account; nothing trades or deposits there",
                id="clearing account",
            ),
        ],
    )
    def test_rejected(self, make_policy, frozen_copy, event, message):
        assert_rejected(make_policy(), new_book(mark_quote=100), event, message, frozen_copy)


class TestSpotDeposit:
    """A spot deposit lands in the spot balance, kept apart from margin cash."""

    def test_credits_spot_only(self, make_policy):
        s = step(make_policy(), new_book(mark_quote=100), SpotDeposit("alice", 70))
        alice = s.after.account("alice")
        assert s.transfers == (Transfer("external", "alice.spot", 70, Reason.SPOT_DEPOSIT),)
        assert (alice.cash_quote, alice.spot_quote, s.after.net_deposits_quote) == (0, 70, 70)

    @pytest.mark.parametrize(
        "event, message",
        [
            pytest.param(SpotDeposit("alice", 0), "amount_quote must be > 0", id="zero amount"),
            pytest.param(
                SpotDeposit("clearing", 5),
                "'clearing' is the clearing account; nothing trades or deposits there",
                id="clearing account",
            ),
        ],
    )
    def test_rejected(self, make_policy, frozen_copy, event, message):
        assert_rejected(make_policy(), new_book(mark_quote=100), event, message, frozen_copy)


class TestWithdraw:
    """A withdrawal takes cash out, only from free margin (equity − initial margin) and never while in debt."""

    @pytest.fixture
    def long_book(self, make_policy):
        # alice: $100 in, long 5 lots at $100 → IM = 10% × $500 = $50, free margin $50.
        return after(
            make_policy(),
            new_book(mark_quote=100),
            Deposit("alice", 100),
            Deposit("bob", 1_000),
            Trade("alice", "bob", 5, 100),
        )

    def test_withdraw_all_free_margin(self, make_policy, long_book):
        s = step(make_policy(), long_book, Withdraw("alice", 50))
        alice = s.after.account("alice")
        assert s.transfers == (Transfer("alice", "external", 50, Reason.WITHDRAWAL),)
        assert (alice.cash_quote, alice.withdrawn_quote, alice.principal_quote) == (50, 50, 50)
        assert s.after.net_deposits_quote == long_book.net_deposits_quote - 50

    def test_withdrawing_profit_keeps_principal(self, make_policy):
        book = after(
            make_policy(),
            new_book(mark_quote=100),
            Deposit("alice", 100),
            Deposit("bob", 1_000),
            Trade("alice", "bob", 1, 100),
            MarkPrice(130),
        )
        # alice +$30 profit; IM at 130 = $13, free = $117; withdrawing the $30 profit leaves principal $100
        alice = step(make_policy(), book, Withdraw("alice", 30)).after.account("alice")
        assert (alice.cash_quote, alice.principal_quote) == (100, 100)

    @pytest.mark.parametrize(
        "amount, message",
        [
            pytest.param(0, "amount_quote must be > 0", id="zero amount"),
            pytest.param(
                51, "amount_quote must be <= free margin (equity - initial margin)", id="$1 above free margin"
            ),
            pytest.param(101, "amount_quote must be <= the cash balance", id="$1 above cash"),
        ],
    )
    def test_rejected(self, make_policy, frozen_copy, long_book, amount, message):
        assert_rejected(make_policy(), long_book, Withdraw("alice", amount), message, frozen_copy)

    def test_debt_blocks_withdrawal(self, make_policy, frozen_copy):
        book = after(make_policy(), new_book(mark_quote=100), Deposit("alice", 100))
        i = book.index("alice")
        book = book.replace_account(i, attrs.evolve(book.accounts[i], debt_quote=5))  # owes $5 to a lender
        assert_rejected(
            make_policy(),
            book,
            Withdraw("alice", 10),
            "the account owes a debt; withdrawals wait until it is repaid",
            frozen_copy,
        )

    def test_system_account_cannot_withdraw(self, make_policy, frozen_copy):
        book = after(make_policy(), new_book(mark_quote=100), Deposit("insurance_fund", 100))
        assert_rejected(
            make_policy(),
            book,
            Withdraw("insurance_fund", 10),
            "'insurance_fund' is the insurance_fund account, not a trader",
            frozen_copy,
        )


class TestTrade:
    """A trade moves lots at a price; the price's distance from mark is paid at once; fees follow."""

    @pytest.fixture
    def funded(self, make_policy):
        return after(make_policy(), new_book(mark_quote=100), Deposit("alice", 1_000), Deposit("bob", 1_000))

    def test_price_vs_mark_and_fees(self, make_policy, funded):
        fees = FeeRule(taker_ppm=1_000, maker_ppm=500, insurance_share_ppm=500_000)
        s = step(make_policy(fees=fees), funded, Trade("alice", "bob", 10, 103))
        # alice buys 10 at $103 with mark $100: pays 10 × $3 = $30 to bob now, then holds at mark.
        # taker fee 0.1% of $1,030 = $1.03 → $2 (up); the fund's half is ⌊$1⌋ = $1, the fee account gets $1.
        # maker fee 0.05% of $1,030 = $0.515 → $1; the fund's half ⌊$0.5⌋ = $0, so no transfer to it.
        assert s.transfers == (
            Transfer("alice", "bob", 30, Reason.TRADE_PRICE),
            Transfer("alice", "insurance_fund", 1, Reason.TRADING_FEE),
            Transfer("alice", "fee_account", 1, Reason.TRADING_FEE),
            Transfer("bob", "fee_account", 1, Reason.TRADING_FEE),
        )
        a, b = s.after.account("alice"), s.after.account("bob")
        assert (a.cash_quote, a.size_lots, a.cost_quote) == (968, 10, 1_030)
        assert (b.cash_quote, b.size_lots, b.cost_quote) == (1_029, -10, -1_030)

    def test_seller_can_be_taker(self, make_policy, funded):
        s = step(make_policy(fees=FeeRule(taker_ppm=1_000)), funded, Trade("alice", "bob", 10, 97, taker=Taker.SELLER))
        # bob sells at $97 below mark $100: bob pays 10 × $3 = $30; taker fee 0.1% of $970 = $0.97 → $1
        assert s.transfers == (
            Transfer("bob", "alice", 30, Reason.TRADE_PRICE),
            Transfer("bob", "fee_account", 1, Reason.TRADING_FEE),
        )

    def test_fee_rounding_is_the_policy_s(self, make_policy, funded):
        s = step(
            make_policy(fees=FeeRule(taker_ppm=1_000), rounding=RoundingRule(fee=Rounding.FLOOR)),
            funded,
            Trade("alice", "bob", 10, 103),
        )
        # $1.03 rounded down = $1
        assert s.transfers[-1] == Transfer("alice", "fee_account", 1, Reason.TRADING_FEE)

    @pytest.mark.parametrize(
        "sell_lots, price, size, cost",
        [
            pytest.param(4, 100, 6, 600, id="reduce: cost scaled by 6/10"),
            pytest.param(3, 100, 7, 700, id="reduce: cost scaled by 7/10"),
            pytest.param(14, 102, -4, -408, id="cross zero: cost restarts at the trade price"),
            pytest.param(10, 100, 0, 0, id="close: no cost left"),
        ],
    )
    def test_cost_basis(self, make_policy, funded, sell_lots, price, size, cost):
        book = step(make_policy(), funded, Trade("alice", "bob", 10, 100)).after  # alice long 10, cost $1,000
        alice = step(make_policy(), book, Trade("bob", "alice", sell_lots, price)).after.account("alice")
        assert (alice.size_lots, alice.cost_quote) == (size, cost)

    def test_exactly_initial_margin_is_enough(self, make_policy):
        book = after(make_policy(), new_book(mark_quote=100), Deposit("alice", 100), Deposit("bob", 1_000))
        s = step(make_policy(), book, Trade("alice", "bob", 10, 100))  # IM = 10% × $1,000 = $100 = equity
        assert s.after.account("alice").size_lots == 10

    def test_initial_margin_rejection(self, make_policy, frozen_copy):
        policy = make_policy(fees=FeeRule(taker_ppm=1_000))
        book = after(policy, new_book(mark_quote=100), Deposit("alice", 100), Deposit("bob", 1_000))
        # the $1 taker fee leaves $99 < IM $100
        assert_rejected(
            policy,
            book,
            Trade("alice", "bob", 10, 100),
            "alice would hold less than initial margin after the trade",
            frozen_copy,
        )

    def test_seller_initial_margin_rejection(self, make_policy, frozen_copy):
        book = after(make_policy(), new_book(mark_quote=100), Deposit("alice", 1_000), Deposit("bob", 99))
        assert_rejected(
            make_policy(),
            book,
            Trade("alice", "bob", 10, 100),
            "bob would hold less than initial margin after the trade",
            frozen_copy,
        )

    @pytest.fixture
    def under_initial(self, make_policy):
        # alice: $100 in, long 10 at $100, mark → $95: equity $50 < IM $95 but > MM $48 (not liquidated)
        return after(
            make_policy(),
            new_book(mark_quote=100),
            Deposit("alice", 100),
            Deposit("bob", 1_000),
            Trade("alice", "bob", 10, 100),
            MarkPrice(95),
        )

    def test_reduce_only_allowed_below_initial_margin(self, make_policy, under_initial):
        s = step(make_policy(), under_initial, Trade("bob", "alice", 5, 95))
        assert s.after.account("alice").size_lots == 5

    def test_adding_below_initial_margin_rejected(self, make_policy, frozen_copy, under_initial):
        assert_rejected(
            make_policy(),
            under_initial,
            Trade("alice", "bob", 1, 95),
            "alice would hold less than initial margin after the trade",
            frozen_copy,
        )

    def test_flipping_side_needs_initial_margin(self, make_policy, frozen_copy, under_initial):
        # long 10 → short 10: a fresh 10-lot short opened with equity $50 < IM $95
        assert_rejected(
            make_policy(),
            under_initial,
            Trade("bob", "alice", 20, 95),
            "alice would hold less than initial margin after the trade",
            frozen_copy,
        )

    def test_reducing_trade_cannot_leave_negative_equity(self, make_policy, frozen_copy):
        policy = make_policy()
        book = after(
            policy,
            new_book(mark_quote=100),
            Deposit("alice", 200),
            Deposit("bob", 10_000),
            Trade("alice", "bob", 10, 100),
        )
        snapshot = frozen_copy(book)
        # alice sells her 10 lots at $50 with mark $100: she would pay 10 × $50 = $500 from $200 → −$300, flat
        with pytest.raises(RejectedEvent):
            step(policy, book, Trade("bob", "alice", 10, 50))
        assert book == snapshot

    @pytest.mark.parametrize(
        "event, message",
        [
            pytest.param(Trade("alice", "bob", 0, 100), "lots must be > 0", id="zero lots"),
            pytest.param(Trade("alice", "bob", 1, 0), "price_quote must be > 0", id="zero price"),
            pytest.param(Trade("alice", "bob", 0, 0), "lots must be > 0", id="first failing requirement is reported"),
            pytest.param(
                Trade("alice", "alice", 1, 100), "buyer and seller are the same account 'alice'", id="self trade"
            ),
            pytest.param(
                Trade("alice", "liquidity", 1, 100),
                "'liquidity' is the liquidity account, not a trader",
                id="system account",
            ),
            pytest.param(
                Trade("alice", "clearing", 1, 100),
                "'clearing' is the clearing account; nothing trades or deposits there",
                id="clearing account",
            ),
        ],
    )
    def test_rejected(self, make_policy, frozen_copy, funded, event, message):
        assert_rejected(make_policy(), funded, event, message, frozen_copy)

    def test_price_off_tick_rejected(self, make_policy, frozen_copy):
        book = after(
            make_policy(), new_book(mark_quote=100, tick_quote=5), Deposit("alice", 1_000), Deposit("bob", 1_000)
        )
        assert_rejected(
            make_policy(),
            book,
            Trade("alice", "bob", 1, 102),
            "price_quote must be a multiple of the tick 5",
            frozen_copy,
        )


class TestMarkPrice:
    """A mark move pays every position's PnL in cash through the clearing account, which ends at zero."""

    @pytest.fixture
    def three(self, make_policy):
        # alice long 3, bob short 1, carol short 2, all at $100 with $1,000 each
        return after(
            make_policy(),
            new_book(mark_quote=100, traders=("alice", "bob", "carol")),
            Deposit("alice", 1_000), Deposit("bob", 1_000), Deposit("carol", 1_000),
            Trade("alice", "bob", 1, 100), Trade("alice", "carol", 2, 100),
        )  # fmt: skip

    def test_settlement_is_zero_sum_through_clearing(self, make_policy, three):
        s = step(make_policy(), three, MarkPrice(97))
        # Δ = −$3: alice pays 3 × $3 = $9 to clearing; clearing pays bob $3 and carol $6.
        assert s.transfers == (
            Transfer("alice", "clearing", 9, Reason.SETTLEMENT),
            Transfer("clearing", "bob", 3, Reason.SETTLEMENT),
            Transfer("clearing", "carol", 6, Reason.SETTLEMENT),
        )
        assert cash(s.after) == cash(three) | {"alice": 991, "bob": 1_003, "carol": 1_006}
        assert s.after.account("clearing").cash_quote == 0 and s.after.market.mark_quote == 97

    def test_unchanged_mark_moves_nothing(self, make_policy, three):
        s = step(make_policy(), three, MarkPrice(100))
        assert s.transfers == () and cash(s.after) == cash(three)

    def test_cost_basis_is_kept_for_pnl_since_entry(self, make_policy, three):
        alice = step(make_policy(), three, MarkPrice(97)).after.account("alice")
        assert (alice.size_lots, alice.cost_quote) == (3, 300)

    @pytest.mark.parametrize(
        "event, message",
        [
            pytest.param(MarkPrice(0), "price_quote must be > 0", id="zero price"),
            pytest.param(MarkPrice(-4), "price_quote must be > 0", id="negative price"),
        ],
    )
    def test_rejected(self, make_policy, frozen_copy, three, event, message):
        assert_rejected(make_policy(), three, event, message, frozen_copy)

    def test_off_tick_rejected(self, make_policy, frozen_copy):
        assert_rejected(
            make_policy(),
            new_book(mark_quote=100, tick_quote=5),
            MarkPrice(97),
            "price_quote must be a multiple of the tick 5",
            frozen_copy,
        )


class TestFunding:
    """Funding rounds each account on its own as ``rounding.funding`` says (default: payers up,
    receivers down, the rounding dust to the fee account)."""

    @pytest.fixture
    def three(self, make_policy):
        # mark $1,001; alice long 3, bob short 1, carol short 2
        return after(
            make_policy(),
            new_book(mark_quote=1_001, traders=("alice", "bob", "carol")),
            Deposit("alice", 10_000), Deposit("bob", 10_000), Deposit("carol", 10_000),
            Trade("alice", "bob", 1, 1_001), Trade("alice", "carol", 2, 1_001),
        )  # fmt: skip

    def test_positive_rate_longs_pay(self, make_policy, three):
        s = step(make_policy(), three, Funding(1_234))
        # 0.1234% of notional: alice owes 3 × $1,001 × 0.001234 = $3.705702 → $4 (up);
        # bob is owed $1.235234 → $1, carol $2.470468 → $2 (down); dust $4 − $3 = $1 to the fee account.
        assert s.transfers == (
            Transfer("alice", "clearing", 4, Reason.FUNDING),
            Transfer("clearing", "bob", 1, Reason.FUNDING),
            Transfer("clearing", "carol", 2, Reason.FUNDING),
            Transfer("clearing", "fee_account", 1, Reason.FUNDING_DUST),
        )
        assert s.after.account("clearing").cash_quote == 0

    def test_negative_rate_shorts_pay(self, make_policy, three):
        s = step(make_policy(), three, Funding(-1_234))
        # bob pays $1.235234 → $2, carol $2.470468 → $3; alice receives $3.705702 → $3; dust $2
        assert s.transfers == (
            Transfer("bob", "clearing", 2, Reason.FUNDING),
            Transfer("carol", "clearing", 3, Reason.FUNDING),
            Transfer("clearing", "alice", 3, Reason.FUNDING),
            Transfer("clearing", "fee_account", 2, Reason.FUNDING_DUST),
        )
        assert s.after.account("clearing").cash_quote == 0

    def test_exact_funding_leaves_no_dust(self, make_policy):
        book = after(
            make_policy(),
            new_book(mark_quote=100),
            Deposit("alice", 1_000),
            Deposit("bob", 1_000),
            Trade("alice", "bob", 10, 100),
        )
        s = step(make_policy(), book, Funding(10_000))  # 1% of $1,000 = $10 exactly
        assert s.transfers == (
            Transfer("alice", "clearing", 10, Reason.FUNDING),
            Transfer("clearing", "bob", 10, Reason.FUNDING),
        )

    def test_dust_to_the_insurance_fund(self, make_policy, three):
        p = make_policy(rounding=RoundingRule(funding=FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND))
        s = step(p, three, Funding(1_234))
        # the same amounts as with the default: alice pays $4, bob gets $1, carol $2; the $1 dust to the fund
        assert s.transfers[-1] == Transfer("clearing", "insurance_fund", 1, Reason.FUNDING_DUST)
        assert s.transfers[:3] == (
            Transfer("alice", "clearing", 4, Reason.FUNDING),
            Transfer("clearing", "bob", 1, Reason.FUNDING),
            Transfer("clearing", "carol", 2, Reason.FUNDING),
        )
        assert s.after.account("clearing").cash_quote == 0

    def test_payers_down_the_fee_account_pays_the_shortfall(self, make_policy, three):
        p = make_policy(rounding=RoundingRule(funding=FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT))
        s = step(p, three, Funding(1_234))
        # alice owes $3.705702 → $3 (down); bob is owed $1.235234 → $2, carol $2.470468 → $3 (up):
        # the fee account puts in the $5 − $3 = $2 the payers do not cover, and goes below zero
        assert s.transfers == (
            Transfer("alice", "clearing", 3, Reason.FUNDING),
            Transfer("fee_account", "clearing", 2, Reason.FUNDING_DUST),
            Transfer("clearing", "bob", 2, Reason.FUNDING),
            Transfer("clearing", "carol", 3, Reason.FUNDING),
        )
        assert s.after.account("clearing").cash_quote == 0
        assert s.after.account("fee_account").cash_quote == -2

    @pytest.mark.parametrize("rate", [1_000_001, -1_000_001], ids=["above +100%", "below -100%"])
    def test_rate_beyond_100_percent_rejected(self, make_policy, frozen_copy, three, rate):
        assert_rejected(
            make_policy(), three, Funding(rate), "rate_ppm must be between -1000000 and 1000000", frozen_copy
        )


def test_a_trade_between_two_system_accounts_names_the_buyer_in_any_process() -> None:
    """The first of the event's accounts that is not a trader is the one the rejection names, in
    every process: the names were once a set, iterated in the string-hash order of the process
    (PYTHONHASHSEED 0-5 named the insurance fund, 6-8 the liquidity account)."""
    import os
    import subprocess
    import sys

    program = (
        "from solvent.rules.book import new_book\n"
        "from solvent.rules.engine import RejectedEvent, step\n"
        "from solvent.rules.events import Trade\n"
        "from solvent.rules.presets import load_preset\n"
        "try:\n"
        "    step(load_preset('binance'), new_book(mark_quote=100), Trade('insurance_fund', 'liquidity', 1, 100))\n"
        "except RejectedEvent as exc:\n"
        "    print(str(exc).rpartition('rejected: ')[2])\n"
    )
    said = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "6"},
    ).stdout.strip()
    assert said == "'insurance_fund' is the insurance_fund account, not a trader"
