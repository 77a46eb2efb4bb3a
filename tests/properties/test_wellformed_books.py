"""Every book the search and the scenarios start from is well formed (``solvent.rules.wellformed``),
the predicate the prover assumes; every trade a story holds is one a venue accepts on order entry.

What is asserted of a generated story:
- its starting book is well formed (every trader covers initial margin at the mark);
- every book it passes through keeps every condition but margin (a mark move may leave a trader
  between maintenance and initial margin, as at a venue; the engine's sweep handles the rest);
- every trade's opening side covered the new position's initial margin from its equity before the
  trade, less the fee it paid and its open loss, with no credit for a price better than the mark
  (computed here from the ledger, independently of the engine's rule).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from solvent.properties.scenarios import DEFAULT, SCENARIOS
from solvent.properties.search import replay
from solvent.properties.story import ScenarioError
from solvent.properties.strategies import books, stories
from solvent.rules.engine import Step, run
from solvent.rules.events import MarkPrice, Trade
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity, initial_margin
from solvent.rules.presets import load_preset, preset_names
from solvent.rules.wellformed import reasons

#: Generated stories per preset below; 4 presets × 100 = 400 books checked (asserted at the end).
PER_PRESET = 100
STORY_PRESETS = ("binance", "backpack", "hyperliquid", "drift")
SETTINGS = settings(max_examples=PER_PRESET, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _fee_paid(s: Step, name: str) -> int:
    return sum(t.amount_quote for t in s.transfers if t.source == name and t.reason is Reason.TRADING_FEE)


def _opening_sides_covered(policy, s: Step) -> list[str]:
    """The sides of a trade step that grew a position without covering initial margin as a venue checks it."""
    event, mark = s.event, s.before.market.mark_quote
    out = []
    for name, sign in ((event.buyer, 1), (event.seller, -1)):
        before, after = s.before.account(name), s.after.account(name)
        grows = abs(after.size_lots) > abs(before.size_lots) or after.size_lots * before.size_lots < 0
        open_loss = max(sign * event.lots * (event.price_quote - mark), 0)
        available = equity(policy.margin, before) - _fee_paid(s, name) - open_loss
        if grows and available < initial_margin(policy.margin, policy.rounding, after.size_lots, mark):
            out.append(f"{name}: {available} < initial margin of {after.size_lots} lots at {mark}")
    return out


def test_every_generated_story_starts_well_formed_and_trades_as_a_venue_accepts():
    checked: Counter = Counter()
    for name in STORY_PRESETS:
        policy = load_preset(name)

        @SETTINGS
        @given(stories(policy))
        def story_is_well_formed(story) -> None:  # run within this iteration: policy is bound
            assert reasons(policy, story.book) == [], story.book  # noqa: B023
            steps = replay(policy, story)  # noqa: B023
            assert steps is not None, "a generated story holds an event the engine rejects"
            for s in steps:
                assert reasons(policy, s.after, margin=None) == [], (s.event, s.after)  # noqa: B023
                if isinstance(s.event, Trade):
                    assert _opening_sides_covered(policy, s) == [], s  # noqa: B023
                    checked["trades"] += 1
            checked["stories"] += 1
            checked["books"] += 1 + len(steps)

        story_is_well_formed()
    print(f"well-formed: {checked['stories']} generated stories, {checked['books']} books, {checked['trades']} trades")
    assert checked["stories"] >= len(STORY_PRESETS) * PER_PRESET, checked
    assert checked["trades"] > 0, checked


def test_every_generated_book_is_well_formed():
    count = 0
    policy = load_preset("binance")

    @settings(max_examples=300, deadline=None, database=None)
    @given(books(min_traders=2, max_traders=6))
    def one(book) -> None:
        nonlocal count
        assert reasons(policy, book) == []
        count += 1

    one()
    print(f"well-formed: {count} generated books")
    assert count >= 300, count


#: scenarios that need a [[collateral]] table a preset may not declare, and whether it declares it
NEEDS_TABLES = {
    "usde-depeg-2025-10-10": lambda p: any(c.name == "USDe" for c in p.collateral),
    "usde-markets-2025-10-10": lambda p: any(c.name == "USDe" for c in p.collateral),
    "mango-2022-collateral-pump": lambda p: {"USDC", "MNGO"} <= {c.name for c in p.collateral},
    "lenders-pay-perp-loss": lambda p: any(c.lends for c in p.collateral),
    "depositor-sunk-by-cut": lambda p: any(c.lends for c in p.collateral),
    "flat-loan-crash": lambda p: any(c.initial_weight_ppm > 0 and not c.lends for c in p.collateral),
}


def _gap_index(story) -> int:
    return max(i for i, e in enumerate(story.events) if isinstance(e, MarkPrice))


@pytest.mark.parametrize("preset", preset_names())
def test_each_scenario_starts_and_meets_its_gap_well_formed(preset):
    """Every named scenario starts from a well-formed book, and the book its gap meets is one too
    (every trader covering initial margin); incident replays start from one."""
    policy = load_preset(preset)
    for name, scenario in SCENARIOS.items():
        try:
            story = scenario.build(policy)
        except ScenarioError:  # needs what the preset does not declare (a USDe table, lent USDC and MNGO, a lent asset)
            assert name in NEEDS_TABLES, name
            assert not NEEDS_TABLES[name](policy), name
            continue
        assert reasons(policy, story.book) == [], name
        if name in DEFAULT:
            steps = run(policy, story.book, story.events)
            assert reasons(policy, steps[_gap_index(story)].before) == [], name
            for s in steps:
                assert reasons(policy, s.after, margin=None) == [], (name, s.event)


def test_play_refuses_a_book_that_is_not_well_formed():
    import attrs
    from hypothesis.errors import InvalidArgument

    from solvent.properties.strategies import play
    from solvent.rules.book import new_book

    book = attrs.evolve(new_book(mark_quote=100), net_deposits_quote=5)
    with pytest.raises(InvalidArgument, match="conservation at the start: Σ cash \\+ spot 0, net deposits 5"):
        play(load_preset("binance"), book, [])
