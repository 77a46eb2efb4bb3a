"""``check`` and ``prove`` on a policy's own markets (issue 13, stage 5; docs/portfolio.md): a
policy with two ``[[market]]`` tables is searched and proved on books of those markets, by their
names, each on its own tiers, and its scenarios include a gap that moves one market."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from solvent.properties import relational
from solvent.properties.scenarios import DEFAULT, build, defaults
from solvent.properties.strategies import stories, story_markets
from solvent.rules.contract import Contract, ContractKind, to_engine
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice, Trade
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, Liquidated
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds, for_policy
from tests.cli_support import solvent
from tests.properties.test_markets_search import acted_on
from tests.rules.test_market_tables import POLICY

TWO = POLICY  # BTC on [margin]'s 10% / 5%, ETH on its own 20% / 10%; a fund, then ADL
ONE = attrs.evolve(POLICY, market=())
EXAMPLES = 60
SEEN = {"ETH": 0}


def test_a_story_holds_the_policys_markets_by_name() -> None:
    assert story_markets(TWO) == (2, ("BTC", "ETH"))
    assert story_markets(ONE) == (1, ()) and story_markets(ONE, 2) == (2, ())
    assert story_markets(TWO, 3) == (3, ())


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(stories(TWO, max_events=6))
def test_the_search_draws_books_of_the_policys_markets(story) -> None:
    """Every story's book holds BTC and ETH; conservation and each market's open interest hold at
    every step (ETH on its own 20% / 10% tiers); the stories do act on ETH (counted below)."""
    assert [m.name for m in story.book.markets] == ["BTC", "ETH"]
    if acted_on(TWO, story, ("conservation", "open-interest-balance", "liquidation-only-below-maintenance"), "ETH"):
        SEEN["ETH"] += 1


def test_the_stories_reached_the_second_market() -> None:
    test_the_search_draws_books_of_the_policys_markets()
    assert SEEN["ETH"] > 0, f"none of {EXAMPLES} stories acted on ETH"
    print(f"{2 * EXAMPLES} stories on BTC and ETH searched, nothing broken; {SEEN['ETH']} acted on ETH")


class TestScenarios:
    def test_a_policy_of_several_markets_adds_the_cross_market_gap(self) -> None:
        assert defaults(ONE) == DEFAULT and defaults(load_preset("bitmex")) == DEFAULT  # one market, no modes
        assert defaults(TWO) == (*DEFAULT, "cross-market-gap")

    def test_the_stress_scenarios_run_on_a_book_of_the_policys_markets(self) -> None:
        assert [m.name for m in build(TWO, "gap-crash").book.markets] == ["BTC", "ETH"]
        assert [m.name for m in build(ONE, "gap-crash").book.markets] == ["PERP"]

    def test_the_cross_market_gap_bankrupts_the_account_by_one_markets_move(self) -> None:
        """alice deposits just above 10% of BTC's 1,000,000 and 20% of ETH's (its own tiers), plus
        a tenth of each; ETH gaps by twice her equity per lot: her BTC goes into the book, her
        deficit is paid by the fund then by bob, opposite her in ETH; carol, opposite in BTC, keeps
        her position and her cash."""
        story = build(TWO, "cross-market-gap")
        steps = run(TWO, story.book, list(story.events))
        opened = steps[-2].after
        assert opened.account("alice").cash_quote == 110_001 + 220_001
        gap = steps[-1]
        assert gap.event.market == "ETH" and gap.event.price_quote < 10_000
        assert [o.account for o in gap.outcomes if isinstance(o, Bankrupt)] == ["alice"]
        after = gap.after
        assert [p.size_lots for p in after.account("alice").positions] == [0, 0]
        assert [p.size_lots for p in after.account("liquidity").positions] == [100, 0]
        assert [p.size_lots for p in after.account("carol").positions] == [-100, 0]
        adl = {(t.source, t.destination) for t in gap.transfers if t.reason is Reason.ADL}
        assert adl == {("bob", "alice")}
        assert after.account("carol").cash_quote == opened.account("carol").cash_quote
        assert sum(a.cash_quote for a in after.accounts) == after.net_deposits_quote

    def test_named_it_runs_for_a_one_market_policy_on_two_markets_sharing_the_tiers(self) -> None:
        story = build(ONE, "cross-market-gap")
        assert [m.name for m in story.book.markets] == ["PERP", "PERP2"]
        assert run(ONE, story.book, list(story.events))[-1].after.account("alice").positions[1].size_lots == 0


class TestTheProof:
    def test_the_bounds_take_the_policys_markets(self) -> None:
        fitted = for_policy(Bounds(), TWO)
        assert fitted.markets == 2 and fitted.market_names == ("BTC", "ETH")
        assert for_policy(Bounds(markets=2), TWO) == fitted and for_policy(Bounds(markets=3), ONE).markets == 3
        with pytest.raises(
            ValueError, match=r"'markets' must be 2, the markets the policy declares \(BTC, ETH\), or 1: 3"
        ):
            for_policy(Bounds(markets=3), TWO)

    def test_proved_on_the_policys_markets_and_said_so(self) -> None:
        from solvent.solver.prove import prove
        from solvent.solver.verdicts import Verdict

        result = prove(TWO, "open-interest-balance", Bounds(accounts=2, effort=10_000_000))
        assert result.verdict is Verdict.PROVED
        assert "2 markets (BTC, ETH), each on its [[market]] table's tiers" in result.scope.fixed


class TestEventsKeepTheirMarket:
    def test_splitting_a_funding_payment_keeps_its_market(self) -> None:
        """The cadence twin of a funding payment in ETH pays both parts in ETH (it paid them in the
        first market, where alice held a position and ETH had none: a false alarm)."""
        parts = relational._split_funding(Funding(118, market="ETH"), relational.Knobs())
        assert parts is not None and {p.market for p in parts} == {"ETH"}
        assert sum(p.rate_ppm for p in parts) == 118

    def test_an_inverse_contracts_events_keep_their_market(self) -> None:
        inverse = Contract(kind=ContractKind.INVERSE, value_quanta=100_000_000)
        assert to_engine(inverse, MarkPrice(50_000, market="ETH")).market == "ETH"
        trade = to_engine(inverse, Trade("a", "b", 3, 50_000, market="ETH"))
        assert (trade.buyer, trade.market) == ("b", "ETH")
        assert to_engine(inverse, Funding(10, market="ETH")) == Funding(-10, market="ETH")


def test_the_funding_split_is_judged_on_the_story_of_a_second_market() -> None:
    """A story where only BTC is held and ETH's funding is split: no difference (before, the twin
    charged the BTC holders, and cadence-invariant failed on a two-market policy)."""
    from solvent.properties.scenarios import Story
    from solvent.rules.book import Market, new_book
    from solvent.rules.events import Deposit

    book = new_book(market="BTC", mark_quote=100, more_markets=(Market("ETH", 100),))
    events = (Deposit("alice", 10), Deposit("bob", 10), Trade("alice", "bob", 1, 100), Funding(118, market="ETH"))
    story = Story(book, events)
    steps = run(TWO, book, list(events))
    twin = relational.cadence_twin(TWO, story, steps, 3, relational.Knobs())
    assert twin is not None and all(e.market == "ETH" for e in twin.story.events[3:])
    b = run(TWO, book, list(twin.story.events))
    comparison = relational.cadence_compare(TWO, steps, b, twin)
    assert comparison.applicable and comparison.explanation is None, comparison


def test_the_readmes_two_market_proof_runs_as_printed() -> None:
    """The README's ``solvent prove examples/two-markets.toml ...``: proved, on BTC and ETH."""
    import re
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    (line,) = re.findall(r"^solvent prove examples/two-markets\.toml [^\n]*", readme, re.M)
    args = shlex.split(line, comments=True)[1:]
    done = subprocess.run([sys.executable, "-m", "solvent", *args], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "open-interest-balance on two-markets: proved (N ≤ " in done.stdout
    assert "; open-interest-balance proved (all N" in done.stdout
    assert "2 markets (BTC, ETH), each on its [[market]] table's tiers" in done.stdout


ADL_SEEN = {"steps": 0, "held elsewhere": 0}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(stories(TWO, max_events=6))
def test_adl_touches_only_the_market_in_deficit(story) -> None:
    """docs/portfolio.md, decision 5: a winner deleveraged for a bankruptcy in one market keeps its
    positions in every other market (only a liquidated account is closed in all of them)."""
    for s in run(TWO, story.book, list(story.events)):
        fills = [o for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
        if not fills:
            continue
        ADL_SEEN["steps"] += 1
        moved = s.before.market_index(s.event.market)
        liquidated = {o.account for o in s.outcomes if isinstance(o, Liquidated)}
        for winner in {f.winner for f in fills} - liquidated:
            before, after = s.before.account(winner).positions, s.after.account(winner).positions
            others = [
                (b.size_lots, a.size_lots) for i, (b, a) in enumerate(zip(before, after, strict=True)) if i != moved
            ]
            assert all(b == a for b, a in others), f"ADL moved {winner} outside the market in deficit: {s!r}"
            ADL_SEEN["held elsewhere"] += any(b != 0 for b, _ in others)


def test_a_winner_deleveraged_in_one_market_keeps_its_other_position() -> None:
    """The cross-market gap with bob, opposite alice in ETH, also long 10 BTC (against carol):
    ETH's ADL closes bob's ETH against alice and leaves his 10 BTC as they were."""
    story = build(TWO, "cross-market-gap")
    events = [*story.events[:-1], Trade("bob", "carol", 10, 10_000), story.events[-1]]
    gap = run(TWO, story.book, events)[-1]
    assert [(o.winner, o.lots) for o in gap.outcomes if isinstance(o, AdlFill) and o.lots] == [("bob", 100)]
    assert [p.size_lots for p in gap.before.account("bob").positions] == [10, -100]
    assert [p.size_lots for p in gap.after.account("bob").positions] == [10, 0]
    assert [p.size_lots for p in gap.after.account("carol").positions] == [-110, 0]


def test_adl_was_exercised_with_positions_elsewhere() -> None:
    test_adl_touches_only_the_market_in_deficit()
    assert ADL_SEEN["steps"] > 0, f"no ADL in {EXAMPLES} stories"
    print(
        f"{2 * EXAMPLES} stories: {ADL_SEEN['steps']} steps with ADL, {ADL_SEEN['held elsewhere']} winners holding another market"
    )


def test_the_example_policy_checks_on_both_markets() -> None:
    """``solvent check examples/two-markets.toml`` (the README's), scenarios only: every stress
    scenario and the cross-market gap run on BTC and ETH, and it exits 0 or 1 (no traceback)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = solvent("check", "examples/two-markets.toml", "--no-search", cwd=root)  # a traceback: raised here
    assert done.exit_code in (0, 1), done.stderr
    assert "scenario cross-market-gap: 8 steps" in done.stdout


def test_the_outcomes_of_a_several_market_book_name_their_market() -> None:
    """The cross-market gap: alice's liquidation and bob's ADL fill name ETH, the market whose
    move found her below maintenance (her size and fill are ETH's); a one-market story's outcomes
    name none and are written as before."""
    from solvent.reports.json_report import _outcome
    from solvent.reports.story import describe_outcome

    gap = run(TWO, (story := build(TWO, "cross-market-gap")).book, list(story.events))[-1]
    (liq,) = [o for o in gap.outcomes if isinstance(o, Liquidated)]
    assert (liq.market, liq.size_lots) == ("ETH", 100)
    assert {o.market for o in gap.outcomes if isinstance(o, AdlFill)} == {"ETH"}
    assert describe_outcome(liq).endswith(", market=ETH)") and _outcome(liq)["market"] == "ETH"
    one = build(ONE, "gap-crash")
    (alone,) = [o for s in run(ONE, one.book, list(one.events)) for o in s.outcomes if isinstance(o, Liquidated)]
    assert alone.market == "" and "market" not in _outcome(alone) and "market" not in describe_outcome(alone)
