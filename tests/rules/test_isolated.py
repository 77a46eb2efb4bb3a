"""Isolated margin per position (docs/portfolio.md, decision 3a; ``solvent.rules.isolated``).

An isolated position holds its own margin: it is liquidated and goes bankrupt on that margin
alone, and its loss never reaches its owner's cross balance. The book here: the flat 10% / 5%
policy, alice cross with 1,000 and an isolated position in PERP (the first market), bob and the
order book on the other side. At a mark of 90 a long of 10 lots at 100 owes maintenance 45; with
145 of margin its equity is 45: exactly at maintenance, not liquidated under the strict trigger;
with 144 it is one quantum below and is liquidated, while alice's cross cash stays where it was.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import MarginMode, Market, Position, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AddMargin, Deposit, MarkPrice, RemoveMargin, Trade, Withdraw
from solvent.rules.isolated import mixed_modes
from solvent.rules.ledger import Reason
from solvent.rules.market_spec import MarketSpec
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.waterfall import InsuranceFund, VenueAbsorbs
from solvent.rules.wellformed import ISOLATED_OWN_MARKET, reasons

ISOLATED = (("alice", "PERP"),)


@pytest.fixture
def policy(make_policy):
    return make_policy(deficit=(InsuranceFund(), VenueAbsorbs()))


def opened(policy, margin: int, *, isolated=ISOLATED, more_markets=()):
    """alice deposits 1,000, sets ``margin`` aside for her PERP position (if isolated) and buys 10 at 100."""
    book = new_book(mark_quote=100, traders=("alice", "bob"), isolated_positions=isolated, more_markets=more_markets)
    events = [Deposit("liquidity", 10**6), Deposit("alice", 1_000), Deposit("bob", 10_000)]
    if isolated:
        events.append(AddMargin("alice", margin))
    events.append(Trade("alice", "bob", 10, 100))
    return run(policy, book, events)[-1].after


def liquidated(s) -> list[str]:
    return [o.account for o in s.outcomes if isinstance(o, Liquidated)]


class TestTheBoundary:
    def test_exactly_at_maintenance_is_not_liquidated(self, policy) -> None:
        s = step(policy, opened(policy, 145), MarkPrice(90))
        assert s.after.account("alice:PERP").cash_quote == 45  # equity 45 = maintenance 45 (5% of 900)
        assert liquidated(s) == []

    def test_one_quantum_below_is_liquidated_and_the_cross_cash_untouched(self, policy) -> None:
        book = opened(policy, 144)
        s = step(policy, book, MarkPrice(90))
        assert liquidated(s) == ["alice:PERP"]
        assert s.after.account("alice:PERP").size_lots == 0
        assert s.after.account("alice").cash_quote == book.account("alice").cash_quote == 856
        assert all("alice" not in (t.source, t.destination) for t in s.transfers)

    def test_cross_on_the_same_book_is_not_liquidated(self, policy) -> None:
        # the same trade in cross margin: the whole 1,000 backs it (equity 900 against 45)
        s = step(policy, opened(policy, 0, isolated=()), MarkPrice(90))
        assert liquidated(s) == [] and s.after.account("alice").cash_quote == 900

    def test_bankrupt_isolated_position_goes_down_the_waterfall_alone(self, policy) -> None:
        book = step(policy, opened(policy, 145), Deposit("insurance_fund", 30)).after
        s = step(policy, book, MarkPrice(80))  # equity 145 − 200 = −55
        bankrupt = [o for o in s.outcomes if isinstance(o, Bankrupt)]
        assert [(o.account, o.deficit_quote) for o in bankrupt] == [("alice:PERP", 55)]
        assert s.after.account("alice").cash_quote == 855  # the cross balance pays nothing
        fund = [t for t in s.transfers if t.reason is Reason.INSURANCE_FUND]
        venue = [t for t in s.transfers if t.reason is Reason.VENUE_ABSORBS]
        assert [(t.destination, t.amount_quote) for t in fund + venue] == [("alice:PERP", 30), ("alice:PERP", 25)]
        assert s.after.total_cash_quote() == s.after.net_deposits_quote  # conservation

    def test_cross_and_isolated_differ_where_the_isolated_margin_runs_out(self, policy) -> None:
        # at 80 the isolated position is bankrupt (−55); in cross the account keeps 800 and its position
        cross = step(policy, opened(policy, 0, isolated=()), MarkPrice(80))
        assert liquidated(cross) == [] and cross.after.account("alice").cash_quote == 800


class TestMarginMoves:
    def test_add_and_remove_are_ledger_transfers_with_principal(self, policy) -> None:
        book = opened(policy, 300)
        assert book.account("alice").cash_quote == 700 and book.account("alice:PERP").cash_quote == 300
        assert (book.account("alice").principal_quote, book.account("alice:PERP").principal_quote) == (700, 300)
        s = step(policy, book, RemoveMargin("alice", 200))  # leaves 100 = initial margin (10% of 1,000)
        assert [(t.source, t.destination, t.amount_quote, t.reason) for t in s.transfers] == [
            ("alice:PERP", "alice", 200, Reason.ISOLATED_MARGIN)
        ]
        assert s.after.account("alice").principal_quote == 900

    def test_the_whole_cross_cash_may_go_in_and_no_more(self, policy) -> None:
        book = opened(policy, 300)  # alice's cross: 700, no cross position
        assert step(policy, book, AddMargin("alice", 700)).after.account("alice").cash_quote == 0
        with pytest.raises(RejectedEvent, match="must be > 0"):
            step(policy, book, AddMargin("alice", 0))

    def test_a_flat_isolated_position_gives_back_its_whole_margin_and_no_more(self, policy) -> None:
        book = new_book(mark_quote=100, traders=("alice", "bob"), isolated_positions=ISOLATED)
        book = run(policy, book, [Deposit("alice", 1_000), AddMargin("alice", 300)])[-1].after
        assert step(policy, book, RemoveMargin("alice", 300)).after.account("alice").cash_quote == 1_000
        with pytest.raises(RejectedEvent, match="must be <= the margin of alice:PERP"):
            step(policy, book, RemoveMargin("alice", 301))
        with pytest.raises(RejectedEvent, match="must be > 0"):
            step(policy, book, RemoveMargin("alice", 0))

    def test_a_removal_below_initial_margin_is_refused(self, policy) -> None:
        with pytest.raises(RejectedEvent, match="alice:PERP would hold less than initial margin after the removal"):
            step(policy, opened(policy, 300), RemoveMargin("alice", 201))

    def test_an_addition_beyond_free_margin_is_refused(self, policy) -> None:
        with pytest.raises(RejectedEvent, match="must be <= the owner's cash balance"):
            step(policy, opened(policy, 300), AddMargin("alice", 701))
        with pytest.raises(RejectedEvent, match="must be > 0"):
            step(policy, opened(policy, 300), AddMargin("alice", -5))

    def test_opening_needs_initial_margin_of_the_isolated_margin(self, policy) -> None:
        with pytest.raises(RejectedEvent, match="less than initial margin after the trade"):
            opened(policy, 99)  # 10% of 1,000 is 100; the cross 901 does not count

    def test_the_isolated_position_neither_deposits_nor_withdraws(self, policy) -> None:
        with pytest.raises(RejectedEvent, match="its margin moves only by its owner's AddMargin and RemoveMargin"):
            step(policy, opened(policy, 300), Withdraw("alice:PERP", 1))

    def test_a_margin_move_needs_an_isolated_position(self, policy) -> None:
        with pytest.raises(RejectedEvent, match="'bob' holds no isolated position in PERP"):
            step(policy, opened(policy, 300), AddMargin("bob", 1))


class TestModes:
    def test_a_market_without_isolated_margin_refuses_it(self, make_policy) -> None:
        policy = make_policy(market=(MarketSpec("PERP", modes=("cross",)),))
        with pytest.raises(RejectedEvent, match="PERP allows cross margin only, not isolated"):
            opened(policy, 300)

    def test_an_isolated_only_market_refuses_cross(self, make_policy) -> None:
        eth = Market("ETH", 100)
        policy = make_policy(market=(MarketSpec("PERP"), MarketSpec("ETH", modes=("isolated",))))
        book = opened(policy, 300, more_markets=(eth,))
        with pytest.raises(RejectedEvent, match="ETH allows isolated margin only, not cross"):
            step(policy, book, Trade("bob", "alice", 1, 100, market="ETH"))

    def test_margin_stays_in_an_open_position_where_it_is_not_removable(self, make_policy) -> None:
        # Hyperliquid's isolated-only assets: margin cannot be removed while the position is open
        policy = make_policy(market=(MarketSpec("PERP", modes=("isolated",), margin_removable=False),))
        both = (("alice", "PERP"), ("bob", "PERP"))
        book = new_book(mark_quote=100, traders=("alice", "bob"), isolated_positions=both)
        events = [Deposit("alice", 1_000), Deposit("bob", 1_000), AddMargin("alice", 300), AddMargin("bob", 300)]
        book = run(policy, book, [*events, Trade("alice", "bob", 10, 100)])[-1].after
        with pytest.raises(RejectedEvent, match="margin cannot be removed from an open position in PERP"):
            step(policy, book, RemoveMargin("alice", 1))
        flat = step(policy, book, Trade("bob", "alice", 10, 100)).after
        assert step(policy, flat, RemoveMargin("alice", 300)).after.account("alice").cash_quote == 1_000

    def test_isolated_accounts_carry_the_mode(self, policy) -> None:
        book = opened(policy, 300)
        position = book.account("alice:PERP")
        assert (position.owner, position.isolated_market, position.margin_mode) == (
            "alice",
            "PERP",
            MarginMode.ISOLATED,
        )


def _both(policy, size: int, cost: int, *, market: str = "PERP"):
    """The opened book with alice also holding ``size`` lots at cost ``cost`` in ``market`` herself
    (cross), and bob the other side, so open interest still balances."""
    eth = Market("ETH", 100)
    book = opened(policy, 300, more_markets=(eth,))
    k = book.market_index(market)

    def moved(name: str, sign: int):
        a = book.account(name)
        if k == 0:
            return attrs.evolve(a, size_lots=a.size_lots + sign * size, cost_quote=a.cost_quote + sign * cost)
        more = list(a.more_positions)
        more[k - 1] = Position(more[k - 1].size_lots + sign * size, more[k - 1].cost_quote + sign * cost)
        return attrs.evolve(a, more_positions=tuple(more))

    for name, sign in (("alice", 1), ("bob", -1)):
        book = book.replace_account(book.index(name), moved(name, sign))
    return book


class TestOneModePerMarket:
    """Binance and Bybit set the margin mode per symbol (docs/venues.md#isolated-margin), so a trader
    holds a market cross or isolated, never both: a book that says otherwise is refused by the
    engine, and is not well formed (decision 3a)."""

    def test_a_short_held_cross_beside_the_isolated_position_is_refused(self, policy) -> None:
        book = _both(policy, -1, -100)
        with pytest.raises(ValueError, match=r"alice holds PERP both cross \(-1 lots\) and isolated \(alice:PERP\)"):
            step(policy, book, MarkPrice(90))
        assert ISOLATED_OWN_MARKET in reasons(policy, book, margin=None)

    def test_a_long_held_cross_beside_the_isolated_position_is_refused(self, policy) -> None:
        with pytest.raises(ValueError, match=r"alice holds PERP both cross \(1 lots\) and isolated"):
            step(policy, _both(policy, 1, 100), MarkPrice(90))

    def test_a_cost_basis_alone_is_a_position_held(self, policy) -> None:
        with pytest.raises(ValueError, match=r"alice holds PERP both cross \(0 lots\)"):
            step(policy, _both(policy, 0, 1), MarkPrice(90))

    def test_the_same_trader_cross_in_another_market_runs(self, make_policy) -> None:
        policy = make_policy(deficit=(InsuranceFund(), VenueAbsorbs()), market=(MarketSpec("PERP"), MarketSpec("ETH")))
        book = _both(policy, 1, 100, market="ETH")
        assert mixed_modes(book) == []
        s = step(policy, book, MarkPrice(90))
        assert s.after.account("alice").more_positions[0].size_lots == 1
        assert ISOLATED_OWN_MARKET not in reasons(policy, book, margin=None)

    def test_the_refusal_names_the_market_of_a_later_isolated_position(self, make_policy) -> None:
        policy = make_policy(deficit=(InsuranceFund(), VenueAbsorbs()), market=(MarketSpec("PERP"), MarketSpec("ETH")))
        eth = Market("ETH", 100)
        book = new_book(
            mark_quote=100, traders=("alice", "bob"), isolated_positions=(("alice", "ETH"),), more_markets=(eth,)
        )
        alice, bob = book.account("alice"), book.account("bob")
        book = book.replace_account(book.index("alice"), attrs.evolve(alice, more_positions=(Position(2, 200),)))
        book = book.replace_account(book.index("bob"), attrs.evolve(bob, more_positions=(Position(-2, -200),)))
        assert [(book.accounts[i].name, book.accounts[j].name, k) for i, j, k in mixed_modes(book)] == [
            ("alice", "alice:ETH", 1)
        ]
        with pytest.raises(ValueError, match=r"alice holds ETH both cross \(2 lots\) and isolated \(alice:ETH\)"):
            step(policy, book, MarkPrice(90, market="ETH"))
