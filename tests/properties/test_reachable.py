"""A z3 starting book rewritten as deposits and trades from an empty book (properties/reachable.py).

The rewrite is believed only when the engine replays it to the same failure; these tests take a
state-based story (a book written down directly, as z3 gives it) and check what comes back.
"""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.properties.reachable import from_empty
from solvent.properties.scenarios import Story
from solvent.rules.book import Role, new_book
from solvent.rules.events import Deposit, MarkPrice, Trade
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
