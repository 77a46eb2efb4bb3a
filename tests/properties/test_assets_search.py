"""The search on books with collateral assets (issue 13, stage 2): stories that deposit, reprice
and withdraw collateral, judged by the same catalog; conservation per asset and the collateral
part of ``spot-isolated`` hold on every step."""

from __future__ import annotations

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.strategies import books, played_steps, stories
from solvent.rules.assets import Collateral
from solvent.rules.engine import run
from solvent.rules.events import AssetPrice
from solvent.rules.ledger import Reason
from solvent.rules.presets import load_preset

EXAMPLES = 60
USDE = Collateral("USDe", initial_weight_ppm=900_000, maintenance_weight_ppm=950_000)
POLICIES = [attrs.evolve(load_preset(name), collateral=(USDE,)) for name in ("binance", "dydx-v4")]
SEEN = {"asset price": 0, "collateral sold": 0}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(POLICIES).flatmap(lambda p: st.tuples(st.just(p), stories(p, assets=2, max_events=6))))
def test_conservation_and_collateral_isolation_hold_on_stories_with_assets(drawn) -> None:
    policy, story = drawn
    assert [a.name for a in story.book.assets] == ["USDe", "ASSET"]
    steps = played_steps(policy, story) or tuple(run(policy, story.book, list(story.events)))
    for s in steps:
        view = StepView.of(policy, s)
        for claim in ("conservation", "spot-isolated", "open-interest-balance"):
            assert catalog.get(claim).holds(view), f"{claim} broken by {s.event!r} in {story!r}"
    SEEN["asset price"] += any(isinstance(s.event, AssetPrice) for s in steps)
    SEEN["collateral sold"] += any(t.reason is Reason.COLLATERAL_SALE for s in steps for t in s.transfers)


def test_the_stories_moved_asset_prices_and_sold_collateral() -> None:
    """Runs after the property above (file order): of its examples, some moved an oracle price
    and some liquidation sold collateral."""
    test_conservation_and_collateral_isolation_hold_on_stories_with_assets()
    assert SEEN["asset price"] > 0 and SEEN["collateral sold"] > 0, SEEN
    print(f"{2 * EXAMPLES} stories with two collateral assets searched, nothing broken; {SEEN}")


@settings(max_examples=20, deadline=None, database=None)
@given(books(assets=0), books(assets=("USDe",)))
def test_books_without_assets_are_the_books_they_were(plain, with_assets) -> None:
    assert plain.assets == () and all(a.asset_balances == () for a in plain.accounts)
    assert [a.name for a in with_assets.assets] == ["USDe"]
    assert all(a.asset_balances == (0,) for a in with_assets.accounts)
