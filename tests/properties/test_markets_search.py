"""The search on books of several markets (issue 13, stage 1): stories that trade, move and fund
in every market, judged by the same catalog as one-market stories."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.strategies import played_steps, stories
from solvent.rules.engine import run
from solvent.rules.presets import load_preset

EXAMPLES = 60
POLICIES = [load_preset(name) for name in ("binance", "dydx-v4", "drift")]
SEEN: dict[str, int] = {"second market": 0}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(POLICIES).flatmap(lambda p: st.tuples(st.just(p), stories(p, markets=2, max_events=6))))
def test_conservation_and_open_interest_hold_on_two_market_stories(drawn) -> None:
    """Every step of a two-market story keeps money conserved and each market's open interest
    balanced; the stories do reach the second market (counted below)."""
    policy, story = drawn
    if acted_on(policy, story, ("conservation", "open-interest-balance"), "PERP2"):
        SEEN["second market"] += 1


def acted_on(policy, story, claims: tuple[str, ...], market: str) -> bool:
    """Play ``story``, assert every one of ``claims`` after every step; whether some event acted on
    ``market``."""
    steps = played_steps(policy, story) or tuple(run(policy, story.book, list(story.events)))
    for s in steps:
        view = StepView.of(policy, s)
        for claim in claims:
            assert catalog.get(claim).holds(view), f"{claim} broken by {s.event!r} in {story!r}"
    return any(getattr(s.event, "market", "") == market for s in steps)


def test_the_stories_reached_the_second_market() -> None:
    """Runs after the property above (file order): of its examples, some acted on PERP2."""
    test_conservation_and_open_interest_hold_on_two_market_stories()
    assert SEEN["second market"] > 0, f"none of {EXAMPLES} two-market stories acted on the second market"
    print(f"{2 * EXAMPLES} two-market stories searched, nothing broken; {SEEN['second market']} acted on PERP2")
