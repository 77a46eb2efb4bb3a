"""The insurance fund's drawdown as an ADL trigger, two interpreters (OKX, docs/venues.md#okx-adl).

The window's running sum is a data field of the book, so it is a z3 term like any balance: the
sampling, the average's floor and the trigger must agree with the concrete step, on the worked
stories of ``tests/rules/test_fund_drawdown.py`` and on generated stories.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from stories import TRADERS, Story, replay, stories
from test_engine_step import PER_POLICY, both_ways, paths, pinned_step_agrees

from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.fund_drawdown import FundDrawdown
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import AdlPrice

OKX = load_preset("okx")
USD = 100
#: small books: 30% below a 3-event average, no dollar floor
SMALL = attrs.evolve(
    OKX,
    name="okx-small-window",
    deficit=(OKX.deficit[0], attrs.evolve(OKX.adl, fund_drawdown=FundDrawdown(300_000, 3))),
)
OPEN = (Deposit("alice", 10_000 * USD), Deposit("bob", 1_000_000 * USD), Trade("alice", "bob", 7_000, 100 * USD))
CRASH = MarkPrice(50 * USD)


def _start(fund: int, clock: int = 8) -> Book:
    book = new_book(mark_quote=100 * USD, traders=TRADERS)
    i = book.index("insurance_fund")
    book = book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=fund))
    return attrs.evolve(book, net_deposits_quote=fund, clock=clock)


CASES = {
    "drawdown-adl-at-mark": (OKX, _start(400_000 * USD), CRASH),
    "no-drawdown-book-takes-it": (OKX, _start(2_000_000 * USD), CRASH),
    "depleted-fund-bankruptcy-price": (OKX, _start(200_000 * USD), CRASH),
    "mark-price-residual": (
        attrs.evolve(OKX, deficit=(OKX.deficit[0], attrs.evolve(OKX.adl, price=AdlPrice.MARK))),
        _start(200_000 * USD),
        CRASH,
    ),
    "mid-window": (SMALL, _start(400_000 * USD, clock=4), CRASH),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_constants_agree(case: tuple[Any, Book, Any]) -> None:
    policy, start, ev = case
    book = replay(policy, start, OPEN)
    assert both_ways(policy, book, ev) is not None


def test_drawdown_story_reaches_the_adl() -> None:
    book = replay(OKX, _start(400_000 * USD), OPEN)
    got = both_ways(OKX, book, CRASH)
    assert [(o.winner, o.lots, o.gap_per_lot_quote) for o in got.outcomes if isinstance(o, AdlFill) and o.lots] == [
        ("bob", 7_000, 0)
    ]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_model_readback_agrees(case: tuple[Any, Book, Any]) -> None:
    """Every input a free ``z3.Int`` pinned to its value (the window sum included)."""
    policy, start, ev = case
    book = replay(policy, start, OPEN)
    run = pinned_step_agrees(policy, book, ev)
    assert any(str(v) == "book.insurance_window_sum_quote" for v in run.variables)


@st.composite
def funded_stories(draw: Any) -> Story:
    """A generated story with the insurance fund funded early in the window, then the last event."""
    story = draw(stories(SMALL))
    deposit = Deposit("insurance_fund", draw(st.integers(1, 60_000)))
    return Story(step(SMALL, story.book, deposit).after, story.prefix + (deposit,), story.event)


def test_generated_stories_agree() -> None:
    """Generated books under a 3-event window: both interpreters agree and the drawdown ADL is reached."""
    seen: Counter[str] = Counter()

    @PER_POLICY
    @given(story=funded_stories())
    def run(story: Story) -> None:
        note(f"prefix={story.prefix!r}\nevent={story.event!r}")
        got = both_ways(SMALL, story.book, story.event)
        seen.update(paths(got))

    run()
    print(f"\n{SMALL.name}: {dict(sorted(seen.items()))}")
    assert seen["adl-fill"] > 0, f"no drawdown ADL exercised: {seen}"
