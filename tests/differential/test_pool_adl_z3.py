"""ADL by PnL-to-pool factor, two interpreters: the concrete step and z3 agree (GMX v2, §9).

Uses the comparison of ``test_engine_step`` (every input a z3 constant, then every input a free
variable pinned by the solver) on the worked example of ``tests/rules/test_pool_adl.py`` and on
generated stories under a low factor, so the trigger, the sorting network and the floor of the
lots closed are all exercised symbolically.
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

from solvent.rules.book import new_book
from solvent.rules.engine import step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.outcomes import PoolAdlFill
from solvent.rules.pool_adl import PnlToPoolAdl
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Ranking

GMX = load_preset("gmx-v2")
#: a low factor, so that generated books with a funded backstop vault reach the trigger often
LOW = attrs.evolve(GMX, name="gmx-low-factor", pnl_to_pool_adl=PnlToPoolAdl(50_000, 20_000, Ranking.BINANCE))

WORKED = (
    Deposit("backstop_vault", 100_300),
    Deposit("alice", 20_000),
    Deposit("bob", 20_000),
    Deposit("carol", 200_000),
    Trade("alice", "carol", 100, 1_000),
    Trade("bob", "carol", 50, 1_000),
)

CASES = {
    "long-side-worked-example": (GMX, WORKED, MarkPrice(1_500)),
    "short-side": (GMX, (Deposit("alice", 80_000), Deposit("bob", 80_000)) + WORKED, MarkPrice(500)),
    "below-max-no-adl": (GMX, WORKED, MarkPrice(1_200)),
    "two-positions-reduced": (LOW, WORKED, MarkPrice(1_300)),
    "hyperliquid-ranking": (
        attrs.evolve(GMX, pnl_to_pool_adl=PnlToPoolAdl(550_000, 500_000, Ranking.HYPERLIQUID)),
        WORKED,
        MarkPrice(1_500),
    ),
}


def _fills(got: Any) -> list[tuple[str, int]]:
    return [(o.account, o.lots) for o in got.outcomes if isinstance(o, PoolAdlFill)]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_constants_agree(case: tuple[Any, tuple[Any, ...], Any]) -> None:
    """Inputs as z3 constants: the same book, transfers and outcomes, fill by fill."""
    policy, prefix, ev = case
    book = replay(policy, new_book(mark_quote=1_000, traders=TRADERS), prefix)
    got = both_ways(policy, book, ev)
    assert got is not None
    assert _fills(got) == [(o.account, o.lots) for o in step(policy, book, ev).outcomes if isinstance(o, PoolAdlFill)]


def test_worked_example_reaches_the_fill() -> None:
    book = replay(GMX, new_book(mark_quote=1_000, traders=TRADERS), WORKED)
    assert _fills(both_ways(GMX, book, MarkPrice(1_500))) == [("alice", 49)]


def test_low_factor_reduces_two_positions() -> None:
    """Pool 100_300 at 2%: room = 45_000 − 2_006 = 42_994 of the longs' 45_000 (mark 1_300):
    binance ranks alice first (30_000 PnL), all 100 of her lots go, then ⌊12_994 × 50 / 15_000⌋ = 43 of bob's."""
    book = replay(LOW, new_book(mark_quote=1_000, traders=TRADERS), WORKED)
    assert _fills(both_ways(LOW, book, MarkPrice(1_300))) == [("alice", 100), ("bob", 43)]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_model_readback_agrees(case: tuple[Any, tuple[Any, ...], Any]) -> None:
    """Every input a free ``z3.Int`` pinned to its value: the model gives the concrete step."""
    policy, prefix, ev = case
    book = replay(policy, new_book(mark_quote=1_000, traders=TRADERS), prefix)
    pinned_step_agrees(policy, book, ev)


@st.composite
def funded_stories(draw: Any) -> Story:
    """A generated story with the backstop vault (the pool) funded before its last event."""
    story = draw(stories(LOW))
    deposit = Deposit("backstop_vault", draw(st.integers(1, 50_000)))
    return Story(step(LOW, story.book, deposit).after, story.prefix + (deposit,), story.event)


def test_generated_stories_agree() -> None:
    """Generated books under a 5% max factor: both interpreters agree and the ADL is reached."""
    seen: Counter[str] = Counter()

    @PER_POLICY
    @given(story=funded_stories())
    def run(story: Story) -> None:
        note(f"prefix={story.prefix!r}\nevent={story.event!r}")
        got = both_ways(LOW, story.book, story.event)
        seen.update(paths(got))
        if got is not None and _fills(got):
            seen["pool-adl-fill"] += 1

    run()
    print(f"\n{LOW.name}: {dict(sorted(seen.items()))}")
    assert seen["pool-adl-fill"] > 0, f"no PnL-to-pool ADL exercised: {seen}"
