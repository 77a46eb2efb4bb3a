"""A z3 story check cannot open at its own mark, told from an empty book through one earlier move
(``solver.from_empty.opened_first``; docs/model.md, "A z3 story is told at its least move").

Bybit's ``no-haircut`` at its least move: alice long 1 lot at USDT 100,000/BTC with USDT 1.00 behind it,
exactly 1% of the notional. Deposits and a trade at that mark do not reach it: the trade needs its
initial margin and the taker's fee, more than she holds. She is reached as a trader is: she opened
higher, with the margin a trade needs, and the mark fell to 100,000 before the story's own move."""

from __future__ import annotations

from types import SimpleNamespace

from solvent.properties import catalog
from solvent.properties.reachable import from_empty
from solvent.properties.scenarios import Story
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.from_empty import opened_first
from tests.book_support import system_accounts

SYSTEM = system_accounts()


def _story(cash: int, lots: int = 1) -> Story:
    accounts = (
        Account("alice", cash_quote=cash, size_lots=lots, cost_quote=10_000 * lots),
        Account("liquidity", Role.LIQUIDITY, size_lots=-lots, cost_quote=-10_000 * lots),
        *SYSTEM,
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=cash), (MarkPrice(9_899),))


def test_a_trader_only_above_its_initial_margin_is_opened_before_a_move() -> None:
    policy, claim = load_preset("bybit"), catalog.get("no-haircut")
    story = _story(100)
    assert from_empty(policy, claim, story, 0) is None  # her trade at the mark is refused
    built = opened_first(policy, claim, SimpleNamespace(story=story, step_index=0), Bounds(accounts=1))
    assert built is not None
    events = built.story.events
    assert all(a.cash_quote == 0 and a.size_lots == 0 for a in built.story.book.accounts)  # an empty book
    assert any(isinstance(e, Deposit) and e.account == "alice" for e in events)
    trade = next(e for e in events if isinstance(e, Trade))
    # the first opening mark of 10,001, 10,002, 10,004, ... whose trade her margin covers
    assert trade.price_quote == 10_008
    assert events[built.failing - 1 :] == (MarkPrice(10_000), MarkPrice(9_899))
    after_move = built.steps[built.failing - 1].after.account("alice")
    assert after_move.size_lots == 1 and after_move.cash_quote == 100  # the story's own book, reached
    assert built.failing == built.prefix == len(events) - 1


def test_a_proof_without_bounds_or_a_longer_story_is_left_as_a_state() -> None:
    policy, claim = load_preset("bybit"), catalog.get("no-haircut")
    story = _story(100)
    assert opened_first(policy, claim, SimpleNamespace(story=story, step_index=0), None) is None
    two = Story(story.book, (MarkPrice(9_950), MarkPrice(9_899)))
    assert opened_first(policy, claim, SimpleNamespace(story=two, step_index=1), Bounds(accounts=1)) is None


def test_the_reproduce_line_asks_z3s_own_number_of_traders() -> None:
    """The story told from an empty book has two traders (alice and the maker who holds the order book's
    inventory); z3's own book had one, and ``solvent prove`` asks it again at N = 1."""
    from solvent.reports.story import replay_command
    from solvent.verdicts.check import Violation

    policy, claim = load_preset("bybit"), catalog.get("no-haircut")
    built = opened_first(policy, claim, SimpleNamespace(story=_story(100), step_index=0), Bounds(accounts=1))
    assert len(built.story.book.traders) == 2
    report = SimpleNamespace(source="bybit", findings_dir=None, policy=policy, verdicts=[])
    step = built.steps[built.failing]
    told = Violation("no-haircut", "z3", built.failing, built.story, step, "z3", z3_traders=1)
    assert replay_command(told, report)[0] == "solvent prove bybit --invariant no-haircut --accounts 1"
    unknown = Violation("no-haircut", "z3", built.failing, built.story, step, "z3")
    assert replay_command(unknown, report)[0].endswith("--accounts 2")
