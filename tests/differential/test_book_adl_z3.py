"""ADL reaching the order book (``Adl.book_last``), two interpreters: the concrete step and z3
agree when the bankrupt account's only opposite is the book's resting liquidity, and when traders
come first (the comparison of ``test_engine_step``: inputs as z3 constants, then as free
variables pinned by the solver)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from stories import TRADERS, replay
from test_engine_step import both_ways, pinned_step_agrees

from solvent.rules.book import new_book
from solvent.rules.engine import step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.outcomes import BookDeleveraged
from solvent.rules.presets import load_preset

BINANCE = load_preset("binance")
EXEMPT = attrs.evolve(
    BINANCE,
    name="binance-book-exempt",
    deficit=tuple(attrs.evolve(layer, book_last=False) if layer.kind == "adl" else layer for layer in BINANCE.deficit),
)

# bob is liquidated into the book at 1_100; at 800 alice's long is bankrupt and (in the first
# case) only the book is short; in the second carol is short too and comes first
BOOK_ONLY = (Deposit("alice", 5_000), Deposit("bob", 3_100), Trade("alice", "bob", 30, 1_000), MarkPrice(1_100))
WITH_CAROL = BOOK_ONLY[:3] + (Deposit("carol", 100_000), Trade("alice", "carol", 10, 1_000), MarkPrice(1_100))

CASES = {
    "book-only": (BINANCE, BOOK_ONLY, MarkPrice(800)),
    "trader-then-book": (BINANCE, WITH_CAROL, MarkPrice(800)),
    "book-exempt": (EXEMPT, BOOK_ONLY, MarkPrice(800)),
}


def _book_fills(outcomes: Any) -> list[int]:
    return [o.lots for o in outcomes if isinstance(o, BookDeleveraged)]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_constants_agree(case: tuple[Any, tuple[Any, ...], Any]) -> None:
    policy, prefix, ev = case
    book = replay(policy, new_book(mark_quote=1_000, traders=TRADERS), prefix)
    got = both_ways(policy, book, ev)
    assert got is not None
    assert _book_fills(got.outcomes) == _book_fills(step(policy, book, ev).outcomes)


def test_the_book_is_reached() -> None:
    """The cases exercise the path: the book is deleveraged unless exempt."""
    fills = {}
    for name, (policy, prefix, ev) in CASES.items():
        book = replay(policy, new_book(mark_quote=1_000, traders=TRADERS), prefix)
        fills[name] = _book_fills(step(policy, book, ev).outcomes)
    assert fills["book-only"] and fills["book-only"][0] > 0
    assert fills["trader-then-book"] and fills["trader-then-book"][0] > 0
    assert fills["book-exempt"] == []


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_model_readback_agrees(case: tuple[Any, tuple[Any, ...], Any]) -> None:
    policy, prefix, ev = case
    book = replay(policy, new_book(mark_quote=1_000, traders=TRADERS), prefix)
    pinned_step_agrees(policy, book, ev)
