"""A z3 starting book rewritten as deposits and trades from an empty book (properties/reachable.py).

The rewrite is believed only when the engine replays it to the same failure; these tests take a
state-based story (a book written down directly, as z3 gives it) and check what comes back.
"""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.properties.reachable import from_empty, topped_up
from solvent.properties.scenarios import Story
from solvent.rules.book import Market, Role, new_book
from solvent.rules.events import AddMargin, Deposit, MarkPrice, Trade
from solvent.rules.loading import load_policy
from solvent.rules.margin import initial_margin
from solvent.rules.presets import load_preset

BINANCE = load_preset("binance")
NO_HAIRCUT = catalog.get("no-haircut")


def _state(short: str, cash: dict[str, int]) -> Story:
    """alice long 10 lots at 1,000 against ``short``; a crash to 500 bankrupts her."""
    book = new_book(mark_quote=1_000, traders=("alice", "bob"))
    accounts = list(book.accounts)
    for i, a in enumerate(accounts):
        size = 10 if a.name == "alice" else -10 if a.name == short else 0
        money = cash.get(a.name, 0)
        accounts[i] = attrs.evolve(a, size_lots=size, cash_quote=money, principal_quote=money, cost_quote=size * 1_000)
    book = attrs.evolve(book, accounts=tuple(accounts), net_deposits_quote=sum(cash.values()))
    return Story(book, (MarkPrice(500),))


def test_a_two_trader_book_becomes_deposits_a_trade_and_the_move() -> None:
    story = _state("bob", {"alice": 2_000, "bob": 10_000})
    built = from_empty(BINANCE, NO_HAIRCUT, story, 0)
    assert built is not None
    assert built.story.events == (
        Deposit("alice", 2_000),
        Deposit("bob", 10_000),
        Trade("alice", "bob", 10, 1_000),
        MarkPrice(500),
    )
    assert (built.prefix, built.failing) == (3, 3)
    assert all(a.size_lots == 0 and a.cash_quote == 0 for a in built.story.book.accounts)


def test_a_position_z3_gave_the_order_book_is_held_by_a_collateralized_maker() -> None:
    """Only traders trade: the order book's short becomes a trader's, fully collateralized, and the
    crash still haircuts a winner (now the maker, by ADL)."""
    story = _state("liquidity", {"alice": 2_000})
    built = from_empty(BINANCE, NO_HAIRCUT, story, 0)
    assert built is not None
    assert "maker" in {a.name for a in built.story.book.traders}
    assert Trade("alice", "maker", 10, 1_000) in built.story.events
    assert next(e for e in built.story.events if getattr(e, "account", "") == "maker").amount_quote == 10 * 1_000 + 1


def test_a_story_that_no_longer_fails_is_not_offered() -> None:
    """Without a crash nothing fails: the rewrite is refused, never shown as a finding."""
    story = _state("bob", {"alice": 2_000, "bob": 10_000})
    calm = attrs.evolve(story, events=(MarkPrice(1_000),))
    assert from_empty(BINANCE, NO_HAIRCUT, calm, 0) is None


def test_a_trade_the_margin_does_not_cover_is_not_offered() -> None:
    """alice's 10 lots need initial margin at opening; with 1 quantum deposited the trade is
    rejected, so the book cannot be built this way."""
    story = _state("bob", {"alice": 1, "bob": 10_000})
    assert from_empty(BINANCE, NO_HAIRCUT, story, 0) is None


def test_the_clearing_account_is_never_deposited_to() -> None:
    story = _state("bob", {"alice": 2_000, "bob": 10_000})
    built = from_empty(BINANCE, NO_HAIRCUT, story, 0)
    clearing = story.book.role(Role.CLEARING).name
    assert all(getattr(e, "account", None) != clearing for e in built.story.events)


# --- an isolated position (docs/portfolio.md decision 3a) -------------------------------------------

ISOLATING = load_policy("examples/binance-isolated.toml")


def _isolated_state(margin: int, cross: int = 500, market: str = "PERP") -> Story:
    """alice holds 10 lots long at 1,000 isolated in ``market`` on ``margin`` of its own, and
    ``cross`` of cross cash; bob is short with 10,000; a crash to 500 bankrupts the position."""
    more = (Market("PERP2", 1_000),) if market != "PERP" else ()
    book = new_book(
        mark_quote=1_000, traders=("alice", "bob"), more_markets=more, isolated_positions=(("alice", market),)
    )
    cash = {"alice": cross, f"alice:{market}": margin, "bob": 10_000}
    size = {f"alice:{market}": 10, "bob": -10}
    accounts = list(book.accounts)
    for i, a in enumerate(accounts):
        lots, money = size.get(a.name, 0), cash.get(a.name, 0)
        accounts[i] = attrs.evolve(a, size_lots=lots, cash_quote=money, principal_quote=money, cost_quote=lots * 1_000)
    book = attrs.evolve(book, accounts=tuple(accounts), net_deposits_quote=sum(cash.values()))
    return Story(book, (MarkPrice(500),))


def test_an_isolated_position_is_funded_by_its_owner_and_opened_by_its_owners_trade() -> None:
    """alice deposits her cross cash and the position's margin, moves the margin in, and her trade
    opens the isolated position (the engine routes it): the book reached is z3's, her cross cash
    apart, and the crash bankrupts the position alone."""
    story = _isolated_state(2_000)
    built = from_empty(ISOLATING, NO_HAIRCUT, story, 0)
    assert built is not None
    assert built.story.events == (
        Deposit("alice", 2_500),
        Deposit("bob", 10_000),
        AddMargin("alice", 2_000),
        Trade("alice", "bob", 10, 1_000),
        MarkPrice(500),
    )
    reached = built.steps[built.prefix - 1].after
    for name in ("alice", "alice:PERP", "bob"):
        got, want = reached.account(name), story.book.account(name)
        assert (got.cash_quote, got.size_lots, got.cost_quote) == (want.cash_quote, want.size_lots, want.cost_quote)
    assert built.story.book.account("alice:PERP").owner == "alice"
    assert built.steps[-1].after.account("alice").cash_quote == 500


def test_the_isolated_positions_own_trading_fee_is_moved_in_by_its_owner() -> None:
    """A taker fee of 0.05% on 10,000 is charged to the isolated position: its owner deposits and
    moves in 5 more, so the position holds z3's 2,000 after its opening."""
    fees = attrs.evolve(ISOLATING, fees=attrs.evolve(ISOLATING.fees, taker_ppm=500))
    built = from_empty(fees, NO_HAIRCUT, _isolated_state(2_000), 0)
    assert built is not None
    assert AddMargin("alice", 2_005) in built.story.events and Deposit("alice", 2_505) in built.story.events
    assert built.steps[built.prefix - 1].after.account("alice:PERP").cash_quote == 2_000


def test_an_isolated_position_below_its_initial_margin_at_opening_is_not_offered() -> None:
    """The position's opening needs its own initial margin, whatever its owner's cross cash: at
    exactly that margin it is rebuilt, one quantum less (with cross cash to spare) it is not."""
    margin = ISOLATING.margin
    need = initial_margin(margin, ISOLATING.rounding, 10, 1_000)
    assert from_empty(ISOLATING, NO_HAIRCUT, _isolated_state(need), 0) is not None
    assert from_empty(ISOLATING, NO_HAIRCUT, _isolated_state(need - 1, cross=10_000), 0) is None


def test_an_isolated_position_in_another_market_is_not_rebuilt() -> None:
    """Only the book's one market is rebuilt: a position isolated in PERP2 leaves the story a state."""
    assert from_empty(ISOLATING, NO_HAIRCUT, _isolated_state(2_000, market="PERP2"), 0) is None


def test_a_z3_story_with_an_isolated_position_is_told_from_the_empty_book() -> None:
    """z3 refutes no-haircut on a book whose one trader holds its position isolated (the order book
    the other side); the story is rebuilt: alice's deposit, the maker's, the margin moved in, the
    trade, then z3's move, failing at the same event."""
    from solvent.solver.bounds import Bounds
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    result = prove(ISOLATING, "no-haircut", Bounds(accounts=1, isolated=1, effort=5_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED
    cx = result.counterexample
    assert cx.story.book.account("alice:PERP").size_lots != 0
    built = from_empty(ISOLATING, NO_HAIRCUT, cx.story, cx.step_index)
    assert built is not None
    kinds = [type(e).__name__ for e in built.story.events]
    # a deposit for each account z3 started with cash (alice, the maker; the fund where z3 funded
    # it, as it does since session 16's question order), then the margin moved in, the trade, the move
    deposits = kinds.index("AddMargin")
    assert kinds[deposits:] == ["AddMargin", "Trade", "MarkPrice"]
    assert set(kinds[:deposits]) == {"Deposit"}
    funded = {e.account for e in built.story.events[:deposits]}
    assert {"alice", "maker"} <= funded
    assert funded - {"alice", "maker"} == {
        a.name for a in cx.story.book.accounts if not a.is_trader and a.cash_quote > 0
    }
    position = built.steps[built.prefix - 1].after.account("alice:PERP")
    assert (position.cash_quote, position.size_lots) == (
        cx.story.book.account("alice:PERP").cash_quote,
        cx.story.book.account("alice:PERP").size_lots,
    )
    assert built.failing == built.prefix + cx.step_index


def test_topped_up_keeps_the_last_build_where_no_try_meets_the_cash() -> None:
    """``topped_up`` builds at most ``tries`` times: the first whose cash is met is exact, else the last
    build is given back (from_empty tells it; the history refuses an inexact one)."""
    empty = new_book(mark_quote=1_000, traders=("alice",))
    built: list[int] = []

    def build(amounts: dict[str, int]) -> tuple:
        built.append(amounts["alice"])
        return empty, (Deposit("alice", amounts["alice"]),)

    met = topped_up(BINANCE, build, {"alice": 100}, {"alice": 150}, 3)
    assert met is not None and met.exact and built == [100, 150]  # moved by the 50 it missed
    built.clear()
    stuck = topped_up(BINANCE, build, {"alice": 100}, {"alice": 150}, 2, move=lambda amounts, short: amounts)
    assert stuck is not None and not stuck.exact and built == [100, 100]
    assert stuck.events == (Deposit("alice", 100),) and stuck.reached.account("alice").cash_quote == 100
    assert topped_up(BINANCE, build, {"alice": 100}, {"alice": 150}, 3, keep=lambda book: False) is None
