"""The well-formed book (``solvent.rules.wellformed``) at its edges, and the order-entry rule.

Each boundary is tested on both sides: exactly at the edge is well formed (or accepted), one
quantum (or one lot, one tick) beyond is not, and ``reasons`` names the condition and the account.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import Deposit, MarkPrice, Taker, Trade
from solvent.rules.margin import MarginRule, Tier, initial_margin, maintenance_margin
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import DebtCarry, Lender
from solvent.rules.wellformed import StartMargin, conditions, reasons, well_formed

#: 10x initial, 5% maintenance, no fees: margins are whole numbers at a mark of 1,000.
TEN_X = Policy("ten-x", MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),)))
MARK = 1_000


def _opened(policy: Policy, alice_cash: int, lots: int = 10) -> Book:
    """Alice long ``lots`` against Bob (who holds plenty), then Alice's cash set to ``alice_cash``
    with net deposits kept equal to the money on the book."""
    book = new_book(mark_quote=MARK)
    book = run(policy, book, [Deposit("alice", 10**6), Deposit("bob", 10**6), Trade("alice", "bob", lots, MARK)])[
        -1
    ].after
    return _with(book, "alice", cash_quote=alice_cash)


def _with(book: Book, name: str, **changes: int) -> Book:
    """The book with one account changed and net deposits following its cash and spot."""
    before = book.account(name)
    after = attrs.evolve(before, **changes)
    delta = (after.cash_quote + after.spot_quote) - (before.cash_quote + before.spot_quote)
    if before.role is Role.CLEARING:
        delta = 0
    book = book.replace_account(book.index(name), after)
    return attrs.evolve(book, net_deposits_quote=book.net_deposits_quote + delta)


def _names(policy: Policy, book: Book, **kw: object) -> list[str]:
    return [c.name for c in conditions(policy, book, **kw) if not c.holds]


class TestMargin:
    def test_equity_exactly_at_initial_margin_is_well_formed(self):
        im = initial_margin(TEN_X.margin, TEN_X.rounding, 10, MARK)
        assert im == 1_000
        book = _opened(TEN_X, im)
        assert well_formed(TEN_X, book) is True
        assert reasons(TEN_X, book) == []

    def test_one_quantum_below_initial_margin_is_not(self):
        book = _opened(TEN_X, 999)
        assert well_formed(TEN_X, book) is False
        assert reasons(TEN_X, book) == [
            "traders margin-compliant: alice: equity 999, initial margin 1,000, maintenance margin 500 (10 lots at the mark 1,000)"
        ]

    def test_maintenance_start_accepts_below_initial_down_to_the_trigger(self):
        """``MAINTENANCE``: not liquidatable. The default trigger is strictly below maintenance, so
        equity exactly at maintenance is well formed and one quantum below is not."""
        mm = maintenance_margin(TEN_X.margin, TEN_X.rounding, 10, MARK)
        assert mm == 500
        assert reasons(TEN_X, _opened(TEN_X, mm), margin=StartMargin.MAINTENANCE) == []
        assert _names(TEN_X, _opened(TEN_X, mm), margin=StartMargin.INITIAL) == ["traders margin-compliant"]
        assert _names(TEN_X, _opened(TEN_X, mm - 1), margin=StartMargin.MAINTENANCE) == [
            "traders not liquidatable (above maintenance)"
        ]

    def test_maintenance_start_asks_a_flat_trader_worth_at_least_zero(self):
        """A flat trader is never liquidatable, so "not liquidatable" alone let one start below zero
        (an earlier event's deficit, which Gen B's write-off sends down the waterfall in the step:
        the maintenance rate's threshold read "none"). At 0 well formed, at -1 not."""
        book = _opened(TEN_X, 10**6)
        flat = _with(_with(book, "alice", size_lots=0, cost_quote=0, cash_quote=0), "bob", size_lots=0, cost_quote=0)
        assert reasons(TEN_X, flat, margin=StartMargin.MAINTENANCE) == []
        below = _with(flat, "alice", cash_quote=-1)
        assert _names(TEN_X, below, margin=StartMargin.MAINTENANCE) == ["traders worth at least zero"]
        assert _names(TEN_X, below, margin=StartMargin.INITIAL) == ["traders margin-compliant"]

    def test_no_margin_condition_mid_story(self):
        """``margin=None``: the book after a mark move a venue does not refuse keeps every other condition."""
        assert reasons(TEN_X, _opened(TEN_X, 1), margin=None) == []

    def test_a_flat_trader_with_no_money_is_well_formed(self):
        assert reasons(TEN_X, new_book(mark_quote=MARK)) == []

    def test_spot_counts_only_where_the_policy_says(self):
        spot = attrs.evolve(TEN_X, margin=attrs.evolve(TEN_X.margin, spot_collateral=True))
        book = _with(_opened(spot, 400), "alice", spot_quote=600)
        assert reasons(spot, book) == []
        assert _names(TEN_X, _with(_opened(TEN_X, 400), "alice", spot_quote=600)) == ["traders margin-compliant"]


class TestStructure:
    def test_open_interest_off_by_one_lot(self):
        book = _opened(TEN_X, 10**6)
        bob = book.account("bob")
        broken = _with(book, "bob", size_lots=bob.size_lots + 1)
        assert _names(TEN_X, broken) == ["open interest balanced"]
        assert reasons(TEN_X, broken) == ["open interest balanced: Σ size 1 lots"]

    def test_money_created_is_not_well_formed(self):
        book = _opened(TEN_X, 10**6)
        broken = attrs.evolve(book, net_deposits_quote=book.net_deposits_quote - 1)
        assert _names(TEN_X, broken) == ["conservation at the start"]

    def test_pools_at_zero_and_one_below(self):
        book = new_book(mark_quote=MARK)
        fund = Role.INSURANCE_FUND.value
        assert reasons(TEN_X, _with(book, fund, cash_quote=0)) == []
        broken = _with(book, fund, cash_quote=-1)
        assert reasons(TEN_X, broken) == ["pools non-negative: insurance_fund: cash_quote -1"]

    def test_negative_spot(self):
        broken = _with(new_book(mark_quote=MARK), "alice", spot_quote=-1, cash_quote=1)
        assert _names(TEN_X, broken) == ["spot, principal, withdrawals and debts non-negative"]

    def test_debt_only_where_the_venue_lends(self):
        book = attrs.evolve(
            new_book(mark_quote=MARK),
            accounts=tuple(
                attrs.evolve(a, debt_quote=5) if a.name == "alice" else a for a in new_book(mark_quote=MARK).accounts
            ),
        )
        assert _names(TEN_X, book) == ["no debt owed off the book"]
        lends = attrs.evolve(TEN_X, deficit=(DebtCarry(Lender.VENUE),))
        assert reasons(lends, book) == []

    def test_only_holders_hold_positions(self):
        book = _opened(TEN_X, 10**6)
        broken = _with(_with(book, "bob", size_lots=0, cost_quote=0), "fee_account", size_lots=-10, cost_quote=-10_000)
        assert _names(TEN_X, broken) == ["only traders and the order book (and a taking-over vault) hold positions"]

    def test_clearing_holds_nothing(self):
        broken = _with(new_book(mark_quote=MARK), "clearing", cash_quote=1)
        assert _names(TEN_X, broken) == ["clearing account empty"]

    def test_cost_basis_follows_the_position(self):
        book = _opened(TEN_X, 10**6)
        assert _names(TEN_X, _with(book, "alice", cost_quote=9)) == ["cost basis follows the position"]
        assert reasons(TEN_X, _with(book, "alice", cost_quote=10)) == []  # one quantum a lot

    def test_mark_on_the_tick_and_positive(self):
        book = new_book(mark_quote=MARK, tick_quote=10)
        assert reasons(TEN_X, book) == []
        off = attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=MARK + 1))
        assert reasons(TEN_X, off) == ["marks positive and on the tick: mark 1,001, previous mark 1,000, tick 10"]
        zero = attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=0, previous_mark_quote=0))
        assert _names(TEN_X, zero) == ["marks positive and on the tick"]

    def test_reasons_refuses_a_symbolic_book(self):
        z3 = pytest.importorskip("z3")
        import solvent.solver  # noqa: F401  (registers the z3 backend)

        book = new_book(mark_quote=MARK)
        symbolic = attrs.evolve(book, net_deposits_quote=z3.Int("n"))
        with pytest.raises(TypeError, match="concrete book"):
            reasons(TEN_X, symbolic)


class TestOrderEntry:
    """A trade that opens a position is accepted only if equity before, less the fee and the open
    loss, covers initial margin at the mark: a price better than the mark earns no credit."""

    def _book(self, alice: int) -> Book:
        events = [Deposit("bob", 10**6)] + ([Deposit("alice", alice)] if alice else [])
        return run(TEN_X, new_book(mark_quote=MARK), events)[-1].after

    def test_deposit_exactly_at_initial_margin_opens(self):
        s = step(TEN_X, self._book(1_000), Trade("alice", "bob", 10, MARK))
        assert s.after.account("alice").size_lots == 10

    def test_one_quantum_short_is_rejected(self):
        with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
            step(TEN_X, self._book(999), Trade("alice", "bob", 10, MARK))

    def test_no_deposit_and_a_price_under_the_mark_is_rejected(self):
        """The issue's story: buying a tick under the mark pays 10 × 100 = 1,000 at once, exactly
        the initial margin, but a venue gives no credit for it."""
        with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
            step(TEN_X, self._book(0), Trade("alice", "bob", 10, MARK - 100))

    def test_a_better_price_neither_helps_nor_hurts(self):
        s = step(TEN_X, self._book(1_000), Trade("alice", "bob", 10, MARK - 100))
        assert s.after.account("alice").cash_quote == 2_000
        with pytest.raises(RejectedEvent):
            step(TEN_X, self._book(999), Trade("alice", "bob", 10, MARK - 100))

    def test_a_worse_price_costs_its_open_loss(self):
        """Buying 10 lots 5 over the mark loses 50 at once: 1,050 is needed, 1,049 is not enough."""
        assert (
            step(TEN_X, self._book(1_050), Trade("alice", "bob", 10, MARK + 5)).after.account("alice").cash_quote
            == 1_000
        )
        with pytest.raises(RejectedEvent):
            step(TEN_X, self._book(1_049), Trade("alice", "bob", 10, MARK + 5))

    def test_the_fee_counts(self):
        binance = load_preset("binance")
        mark = 10_000
        book = run(binance, new_book(mark_quote=mark), [Deposit("bob", 10**9)])[-1].after
        lots = 100
        im = initial_margin(binance.margin, binance.rounding, lots, mark)
        fee = -(-lots * mark * binance.fees.taker_ppm // 1_000_000)
        exact = run(binance, book, [Deposit("alice", im + fee)])[-1].after
        step(binance, exact, Trade("alice", "bob", lots, mark, Taker.BUYER))
        short = run(binance, book, [Deposit("alice", im + fee - 1)])[-1].after
        with pytest.raises(RejectedEvent):
            step(binance, short, Trade("alice", "bob", lots, mark, Taker.BUYER))

    def test_a_binance_125x_position_needs_a_deposit(self):
        """Binance at 125x (8,000 ppm): a tick under a mark of 100 is 1%, more than the margin."""
        binance = load_preset("binance")
        book = run(binance, new_book(mark_quote=100), [Deposit("bob", 10**9)])[-1].after
        with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
            step(binance, book, Trade("alice", "bob", 1_000, 99, Taker.BUYER))

    def test_reducing_needs_no_initial_margin(self):
        """A close is accepted below initial margin (reduce-only orders), as long as equity stays >= 0."""
        book = _opened(TEN_X, 600)
        assert not well_formed(TEN_X, book)
        s = step(TEN_X, book, Trade("bob", "alice", 1, MARK))
        assert s.after.account("alice").size_lots == 9

    def test_a_gap_then_leaves_the_book_outside_initial_margin_only(self):
        book = _opened(TEN_X, 1_000)
        after = step(TEN_X, book, MarkPrice(MARK - 10)).after
        assert _names(TEN_X, after) == ["traders margin-compliant"]
        assert reasons(TEN_X, after, margin=None) == []


class TestOrderBookCash:
    """The rest of the market starts with collateral, not a debt (a z3 story once gave the book
    negative cash, so a deficit it should have paid stayed on the loser: a false alarm)."""

    NAME = "the order book starts with non-negative cash"

    def test_zero_is_well_formed_and_one_below_is_not(self) -> None:
        book = _opened(TEN_X, 10**6)
        assert well_formed(TEN_X, _with(book, "liquidity", cash_quote=0))
        broken = reasons(TEN_X, _with(book, "liquidity", cash_quote=-1))
        assert broken == [f"{self.NAME}: liquidity: cash_quote -1"] or (
            len(broken) == 1 and broken[0].startswith(f"{self.NAME}: liquidity")
        )

    def test_mid_story_the_book_may_have_lost(self) -> None:
        """In the middle of a story (no margin condition) the book's cash may be below zero."""
        book = _with(_opened(TEN_X, 10**6), "liquidity", cash_quote=-1)
        assert self.NAME not in {c.name for c in conditions(TEN_X, book, margin=None)}
        assert reasons(TEN_X, book, margin=None) == []
