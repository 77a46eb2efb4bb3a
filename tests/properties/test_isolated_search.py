"""The search on books with isolated positions (issue 13; docs/portfolio.md decision 3a): on a
policy that declares isolated margin, stories give traders an isolated position, move margin into
and out of it and liquidate it, judged by the same catalog; ``isolated-loss-contained``,
conservation and open interest hold on every step. A policy that does not declare its modes
draws no isolated position (its search is the one it was)."""

from __future__ import annotations

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.strategies import played_steps, stories
from solvent.rules.engine import run
from solvent.rules.events import MARGIN_EVENTS
from solvent.rules.market_spec import MarketSpec
from solvent.rules.outcomes import Liquidated
from solvent.rules.presets import load_preset

EXAMPLES = 60
BINANCE = load_preset("binance")
POLICIES = [
    attrs.evolve(BINANCE, margin=attrs.evolve(BINANCE.margin, modes=("cross", "isolated"))),
    # two markets, the second isolated-only (as dYdX v4's isolated markets)
    attrs.evolve(BINANCE, market=(MarketSpec("BTC"), MarketSpec("ETH", modes=("isolated",)))),
]
SEEN = {"stories": 0, "isolated books": 0, "margin moves": 0, "isolated liquidated": 0}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(POLICIES).flatmap(lambda p: st.tuples(st.just(p), stories(p, max_events=6))))
def test_isolated_positions_keep_their_loss_on_searched_stories(drawn) -> None:
    policy, story = drawn
    steps = played_steps(policy, story) or tuple(run(policy, story.book, list(story.events)))
    positions = {a.name for a in story.book.accounts if a.owner}
    for s in steps:
        view = StepView.of(policy, s)
        for claim in ("isolated-loss-contained", "conservation", "open-interest-balance"):
            assert catalog.get(claim).holds(view), f"{claim} broken by {s.event!r} in {story!r}"
    SEEN["stories"] += 1
    SEEN["isolated books"] += bool(positions)
    SEEN["margin moves"] += sum(isinstance(s.event, MARGIN_EVENTS) for s in steps)
    SEEN["isolated liquidated"] += sum(
        isinstance(o, Liquidated) and o.account in positions for s in steps for o in s.outcomes
    )


def test_the_stories_held_isolated_positions_moved_margin_and_liquidated_them() -> None:
    """Runs the property above and says how many examples it ran and what they exercised."""
    test_isolated_positions_keep_their_loss_on_searched_stories()
    assert SEEN["isolated books"] > 0 and SEEN["margin moves"] > 0 and SEEN["isolated liquidated"] > 0, SEEN
    print(f"{SEEN['stories']} stories with isolated positions searched, nothing broken; {SEEN}")


@settings(max_examples=20, deadline=None, database=None)
@given(stories(attrs.evolve(BINANCE, margin=attrs.evolve(BINANCE.margin, modes=())), max_events=3))
def test_a_policy_without_modes_draws_no_isolated_position(story) -> None:
    # binance with its modes left out (the preset declares both since decision 3d)
    assert not any(a.owner for a in story.book.accounts)
