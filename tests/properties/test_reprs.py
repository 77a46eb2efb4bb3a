"""Drawn values print as the Python that builds them (issue 16: a failing book in a user's own
hypothesis test printed as a lambda that could not be pasted into ``@example``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis.vendor.pretty import pretty

from solvent.properties.strategies import EXAMPLE_IMPORTS, accounts, books, events, stories
from solvent.rules.book import Account, Book, MarginMode, Role, new_book
from solvent.rules.events import MarkPrice, Taker, Trade
from solvent.rules.presets import load_preset

SCOPE: dict = {}
exec(EXAMPLE_IMPORTS, SCOPE)  # the documented imports, and nothing else
POLICY = load_preset("binance")
ROUND_TRIP = settings(max_examples=150, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def _rebuilt(value: object) -> tuple[object, object]:
    """``value`` rebuilt from its repr and from hypothesis's pretty form (the falsifying example)."""
    return eval(repr(value), dict(SCOPE)), eval(pretty(value), dict(SCOPE))


@ROUND_TRIP
@given(stories(POLICY))
def test_a_drawn_story_rebuilds_from_its_repr(story) -> None:
    """150 stories on binance: the book, and every event (trades with their taker, marks, deposits,
    withdrawals, funding) come back equal."""
    assert _rebuilt(story) == (story, story)
    assert "<" not in repr(story)  # no <Role.TRADER: 'trader'>, no <lambda>


@ROUND_TRIP
@given(books(min_traders=2, max_traders=6))
def test_a_drawn_book_rebuilds_from_its_repr(book) -> None:
    assert _rebuilt(book) == (book, book)


@ROUND_TRIP
@given(accounts())
def test_a_drawn_account_rebuilds_from_its_repr(account) -> None:
    assert _rebuilt(account) == (account, account)


@ROUND_TRIP
@given(events(traders=3, take_profits=True))
def test_drawn_actions_rebuild_from_their_repr(actions) -> None:
    """``events()`` draws state-relative actions (opens, moves, closes, take-profits, ...); their
    falsifying example was a lambda call over private helpers."""
    assert _rebuilt(actions) == (actions, actions)


def test_defaults_are_left_out_and_enums_name_their_member() -> None:
    assert repr(Account("alice", cash_quote=5)) == "Account(name='alice', cash_quote=5)"
    assert repr(Account("v", role=Role.VENUE, margin_mode=MarginMode.ISOLATED)) == (
        "Account(name='v', role=Role.VENUE, margin_mode=MarginMode.ISOLATED)"
    )
    assert repr(Trade("a", "b", 1, 100, Taker.SELLER)) == (
        "Trade(buyer='a', seller='b', lots=1, price_quote=100, taker=Taker.SELLER)"
    )
    book = new_book(mark_quote=150)
    moved = Book(book.market.__class__("PERP", 90, 1, 150), book.accounts)  # a previous mark that differs
    assert "previous_mark_quote=150" in repr(moved) and eval(repr(moved), dict(SCOPE)) == moved
    assert repr(MarkPrice(9)) == "MarkPrice(price_quote=9)"


FAILING_TESTS = """
from hypothesis import given, settings
from solvent.properties.strategies import books, events

@settings(database=None, derandomize=True)
@given(books())
def test_low_marks(book):
    assert book.market.mark_quote < 150

@settings(database=None, derandomize=True)
@given(events(traders=3))
def test_one_action(actions):
    assert len(actions) < 2
"""


def _falsifying(output: str, test: str) -> str:
    """The argument hypothesis printed for ``test``'s falsifying example, as one expression."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f"Falsifying example: {test}(" in line)
    body = []
    for line in lines[start + 1 :]:
        text = line.removeprefix("E").strip()
        if text == ")":
            break
        body.append(text)
    return " ".join(body).split("=", 1)[1].rstrip(",")


def test_a_falsifying_example_pastes_into_example(tmp_path: Path) -> None:
    """A user's failing hypothesis test prints the book, or the actions, as Python that rebuilds
    them (the book was ``(lambda n, mark: new_book(...))(2, 150)``, an open a lambda over private
    helpers)."""
    (tmp_path / "test_user.py").write_text(FAILING_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    book_call, actions_call = (_falsifying(done.stdout, t) for t in ("test_low_marks", "test_one_action"))
    assert "lambda" not in book_call + actions_call
    assert eval(book_call, dict(SCOPE)) == new_book(mark_quote=150)
    actions = eval(actions_call, dict(SCOPE))
    assert len(actions) == 2 and all(type(a).__module__ == "solvent.properties.actions" for a in actions)
