"""The search finds minimal, replayable stories; findings round-trip; the state machine catches bugs."""

from __future__ import annotations

import functools
import json

import pytest
from click.testing import CliRunner
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import run_state_machine_as_test

from solvent.cli import main
from solvent.properties import actions as act
from solvent.properties import catalog, findings
from solvent.properties.machine import machine
from solvent.properties.scenarios import Story
from solvent.properties.search import Outcome, SearchBudget, fails, minimize, replay, scan, search, search_all
from solvent.properties.strategies import (
    PPM_PER_BP,
    _spike,
    books,
    events,
    moves,
    play,
    played_steps,
    price_paths,
    stories,
)
from solvent.rules.book import new_book
from solvent.rules.engine import run
from solvent.rules.events import AddMargin, AssetDeposit, Deposit, MarkPrice, Taker, Trade, Withdraw
from solvent.rules.loading import dumps_policy, load_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.verdicts.check import ClaimStatus, check_policy

SMALL = SearchBudget(max_examples=150)
#: The tests that read backpack's deposit-not-absorbed story share one search of it (each searched it
#: before, at 400 and 1,000 examples: the same story at example 34), on one xdist worker.
BACKPACK_DEPOSIT = pytest.mark.xdist_group("search-backpack-deposit-not-absorbed")


@functools.cache
def _searched(preset: str, invariant: str):
    """``preset`` and its search of ``invariant`` at 400 examples, asked once a process."""
    policy = load_preset(preset)
    return policy, search(policy, invariant, SearchBudget(max_examples=400))


def non_seed(story):
    """The story's events but the drawn start: the book's liquidity, and on a policy with collateral
    tables (backpack lends SOL) each trader's deposit of each asset."""
    return [
        e
        for e in story.events
        if not (isinstance(e, Deposit) and e.account == "liquidity") and not isinstance(e, AssetDeposit)
    ]


class TestSearch:
    """Search finds each preset's documented failure as a minimal story."""

    @pytest.mark.parametrize(
        "preset, invariant",
        [
            pytest.param("backpack", "deposit-not-absorbed", marks=BACKPACK_DEPOSIT),
            ("backpack", "no-negative-equity"),
            ("binance", "no-haircut"),
            ("broker-reg-t", "loss-bounded-by-collateral"),
        ],
    )
    def test_finds_a_minimal_story(self, preset, invariant):
        policy, result = _searched(preset, invariant)
        assert result.outcome is Outcome.FOUND, result.stats
        story = result.story
        assert len(story.book.traders) <= 3 and len(non_seed(story)) <= 5
        inv = catalog.get(invariant)
        assert fails(policy, inv, story)
        for i in range(len(story.events)):  # one event fewer no longer fails (or is not a valid story)
            assert not fails(policy, inv, Story(story.book, story.events[:i] + story.events[i + 1 :]))

    def test_conservation_is_searched_and_holds(self):
        result = search(load_preset("drift"), "conservation", SMALL)
        assert result.outcome is Outcome.NONE_FOUND
        assert result.stats.examples >= SMALL.max_examples
        assert result.stats.paths["Trade"] > 0 and result.stats.paths["MarkPrice"] > 0

    def test_a_claim_never_exercised_is_not_a_pass(self):
        (result,) = search_all(load_preset("backpack"), ["adl-ranking-respected"], SMALL)
        assert result.outcome is Outcome.NOT_EXERCISED

    def test_take_profit_claims_get_their_own_search_in_check(self, monkeypatch):
        """The one-pass scan draws no take-profit action, so ``search_all`` (what ``solvent check``
        runs) gives a take-profit claim the scan left unbroken its own search; other claims the
        scan left unbroken get none."""
        from solvent.properties import search as search_module

        asked = []
        real = search_module.search

        def spy(policy, invariant, budget):
            asked.append(invariant.id)
            return real(policy, invariant, budget)

        monkeypatch.setattr(search_module, "search", spy)
        policy = load_policy("tests/planted/socialized-loss-charges-flat.toml")
        results = {
            r.invariant: r for r in search_module.search_all(policy, ["flat-accounts-never-pay", "conservation"], SMALL)
        }
        assert asked == ["flat-accounts-never-pay"]
        assert results["conservation"].outcome is Outcome.NONE_FOUND
        assert results["flat-accounts-never-pay"].stats.examples > SMALL.max_examples  # the scan's and its own search's

    @pytest.mark.deep
    def test_check_finds_the_flat_charging_socialized_loss(self):
        """End to end at 2,000 examples (the scan alone finds nothing there; about 17 s)."""
        policy = load_policy("tests/planted/socialized-loss-charges-flat.toml")
        inv = catalog.get("flat-accounts-never-pay")
        budget = SearchBudget(max_examples=2_000)
        assert scan(policy, [inv], budget)[inv.id].seconds_to_first is None  # the control
        (result,) = search_all(policy, [inv.id], budget)
        assert result.outcome is Outcome.FOUND, result.stats
        assert fails(policy, inv, result.story)

    def test_search_reaches_bankruptcies(self):
        (result,) = search_all(load_preset("binance"), ["no-negative-equity"], SearchBudget(max_examples=200))
        assert result.stats.paths["bankruptcy"] > 0 and result.stats.paths["adl fill"] > 0


BARE = Policy("bare", MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),)))  # 10x, MM 5%, no waterfall


def fails_bare(story: Story) -> bool:
    return fails(BARE, catalog.get("no-negative-equity"), story)


class TestMinimize:
    """minimize removes events and accounts, and folds adjacent events the failure does not need apart."""

    def test_two_trades_of_one_pair_become_one(self):
        # alice (40) buys 1 + 3 lots at 100 from bob; at 88 she loses 4 × 12 = 48 > 40 and no layer
        # pays. Dropping either trade leaves 1 or 3 lots (loss 12 or 36 ≤ 40): 1-minimal, yet one
        # trade of 4 lots tells the same story in one event fewer.
        story = Story(
            new_book(mark_quote=100),
            (
                Deposit("alice", 40),
                Deposit("bob", 40),
                Trade("alice", "bob", 1, 100),
                Trade("alice", "bob", 3, 100),
                MarkPrice(88),
            ),
        )
        assert fails_bare(story)
        assert minimize(fails_bare, story).events == (
            Deposit("alice", 40),
            Deposit("bob", 40),
            Trade("alice", "bob", 4, 100),
            MarkPrice(88),
        )

    def test_a_move_before_any_trade_becomes_the_starting_mark(self):
        # the mark moves 100 → 200 before alice (40) buys 2 lots at 200 (IM 40); at 176 she loses 48.
        # Without the first move the trade is 100 above mark and is rejected: 1-minimal, yet the
        # same story starts at mark 200 with one event fewer.
        story = Story(
            new_book(mark_quote=100),
            (Deposit("alice", 40), Deposit("bob", 40), MarkPrice(200), Trade("alice", "bob", 2, 200), MarkPrice(176)),
        )
        assert fails_bare(story)
        smaller = minimize(fails_bare, story)
        assert smaller.book.market.mark_quote == 200
        assert smaller.events == (
            Deposit("alice", 40),
            Deposit("bob", 40),
            Trade("alice", "bob", 2, 200),
            MarkPrice(176),
        )

    def test_an_event_that_only_nudges_past_the_threshold_becomes_a_larger_gap(self):
        # alice (45) buys 4 lots at 100 and withdraws her 5 of free margin; at 89 she loses 44 of
        # her 40. Without the withdrawal she keeps 1 and is closed at mark with no deficit, so the
        # story is 1-minimal; the same failure without it is a gap twice as deep (100 → 78).
        story = Story(
            new_book(mark_quote=100),
            (
                Deposit("alice", 45),
                Deposit("bob", 40),
                Trade("alice", "bob", 4, 100),
                Withdraw("alice", 5),
                MarkPrice(89),
            ),
        )
        assert fails_bare(story)
        assert not fails_bare(Story(story.book, story.events[:3] + story.events[4:]))
        assert minimize(fails_bare, story).events == (
            Deposit("alice", 45),
            Deposit("bob", 40),
            Trade("alice", "bob", 4, 100),
            MarkPrice(78),
        )

    def test_deposits_to_one_account_are_folded(self):
        story = Story(
            new_book(mark_quote=100),
            (
                Deposit("alice", 30),
                Deposit("alice", 10),
                Deposit("bob", 40),
                Trade("alice", "bob", 4, 100),
                MarkPrice(88),
            ),
        )
        assert minimize(fails_bare, story).events[:2] == (Deposit("alice", 40), Deposit("bob", 40))

    def test_a_trader_goes_with_its_isolated_position(self):
        # alice, who holds an isolated position (alice:PERP) with 20 of margin moved in, plays no
        # part in bob's bankruptcy: the story without her is the failure. Removing the owner alone
        # would leave alice:PERP without a trader (a book that cannot exist: the check's search
        # crashed on hyperliquid with `[margin] modes` declared); owner, position and every event
        # naming either go together.
        book = new_book(mark_quote=100, traders=("alice", "bob", "carol"), isolated_positions=(("alice", "PERP"),))
        story = Story(
            book,
            (
                Deposit("alice", 50),
                AddMargin("alice", 20),
                Deposit("bob", 40),
                Deposit("carol", 40),
                Trade("bob", "carol", 4, 100),
                MarkPrice(88),
            ),
        )
        assert fails_bare(story)
        smaller = minimize(fails_bare, story)
        assert [a.name for a in smaller.book.traders] == ["bob", "carol"]
        assert smaller.events == (
            Deposit("bob", 40),
            Deposit("carol", 40),
            Trade("bob", "carol", 4, 100),
            MarkPrice(88),
        )


class TestFindings:
    """A finding saved as JSON replays the same failure at the same step."""

    @BACKPACK_DEPOSIT
    def test_round_trip_and_cli_replay(self, tmp_path):
        # backpack lends SOL: its stories draw SOL too; the story test_finds_a_minimal_story reads
        policy, result = _searched("backpack", "deposit-not-absorbed")
        path = findings.save(
            findings.Finding(policy, "deposit-not-absorbed", result.story, result.step_index), tmp_path / "f.json"
        )
        loaded = findings.load(path)
        assert loaded.story == result.story and loaded.policy == policy and loaded.step_index == result.step_index
        assert replay(policy, loaded.story) is not None
        runner = CliRunner()
        still = runner.invoke(main, ["replay", str(path)])
        assert still.exit_code == 1, still.output
        assert "<- fails here" in still.output
        data = json.loads(path.read_text())
        data["policy"]["toml"] = dumps_policy(load_preset("binance")).replace('name = "binance"', 'name = "fixed"')
        path.write_text(json.dumps(data))
        assert runner.invoke(main, ["replay", str(path)]).exit_code in (0, 1)
        path.write_text("{}")
        bad = runner.invoke(main, ["replay", str(path)])
        assert bad.exit_code == 2 and "'schema' must be 'solvent.finding/1': None" in bad.output

    def test_an_inverse_finding_replays_in_the_venues_terms_too(self, tmp_path):
        """The saved story is the engine's (exact); ``solvent replay`` tells it in USD and contracts."""
        from solvent.properties.scenarios import build

        policy = load_preset("bitmex")
        story = build(policy, "gap-crash")
        path = findings.save(findings.Finding(policy, "no-haircut", story, len(story.events) - 1), tmp_path / "f.json")
        out = CliRunner().invoke(main, ["replay", str(path)])
        assert out.exit_code == 1, out.output
        assert "alice buys 100 contracts from bob at 10,000 (alice takes)" in out.output
        assert "mark 10,000 → 9,783" in out.output

    def test_saved_findings_are_replayed_first(self, tmp_path):
        policy = load_preset("backpack")
        budget = SearchBudget(max_examples=400)
        first = check_policy(
            policy,
            invariants=["deposit-not-absorbed"],
            scenarios=["gap-crash"],
            search_budget=budget,
            findings_dir=tmp_path,
        )
        assert first.verdicts[0].violation.origin == "search"
        again = check_policy(
            policy,
            invariants=["deposit-not-absorbed"],
            scenarios=["gap-crash"],
            search_budget=budget,
            findings_dir=tmp_path,
        )
        assert again.verdicts[0].violation.origin == "saved"
        assert again.verdicts[0].status is ClaimStatus.ACCEPTED  # Backpack accepts it by design


class TestStrategies:
    """Strategies respect their bounds and reject impossible ones."""

    @pytest.mark.parametrize("preset", ["binance", "drift"])
    @settings(max_examples=50)
    @given(data=st.data())
    def test_stories_replay(self, preset, data):
        policy = load_preset(preset)
        story = data.draw(stories(policy))
        assert replay(policy, story) is not None
        # traders, not their isolated positions (binance and drift declare both margin modes)
        assert 2 <= len([a for a in story.book.traders if not a.owner]) <= 3

    @settings(max_examples=30)
    @given(data=st.data())
    def test_played_steps_are_the_engines_own(self, data):
        """The steps the strategy keeps for a drawn story are exactly what the engine runs on it."""
        policy = load_preset("binance")
        story = data.draw(stories(policy))
        assert played_steps(policy, story) == tuple(run(policy, story.book, story.events))
        assert played_steps(load_preset("binance"), story) is None  # another policy object: not reused

    def test_take_profit_is_a_favourable_move_then_a_whole_close(self):
        """TakeProfit(bob, carol, 100,000 ppm): bob is short, so the mark falls 10%, then bob buys his
        whole position back from carol at the new mark and is flat with a profit."""
        policy = load_preset("binance")
        book = new_book(mark_quote=10_000, traders=("alice", "bob", "carol"))
        pays = [act.Pay(i, 1_000_000) for i in range(3)]
        story = play(policy, book, [*pays, act.Open(0, 1, 10), act.TakeProfit(1, 2, 100_000)])
        opened = story.events[-3]
        assert isinstance(opened, Trade) and (opened.buyer, opened.seller, opened.price_quote) == (
            "alice",
            "bob",
            10_000,
        )
        assert story.events[-2:] == (MarkPrice(9_000), Trade("bob", "carol", opened.lots, 9_000, Taker.BUYER))
        after = replay(policy, story)[-1].after
        assert after.account("bob").size_lots == 0 and after.account("carol").size_lots == -opened.lots
        assert after.account("bob").cash_quote == 1_000_000 + opened.lots * 1_000  # 1,000 quanta a lot

    @settings(max_examples=50)
    @given(events(traders=3))
    def test_take_profit_is_not_drawn_by_default(self, actions):
        assert not any(isinstance(a, act.TakeProfit) for a in actions)

    def test_take_profit_is_drawn_when_asked(self):
        found = find(events(traders=3, take_profits=True), lambda xs: any(isinstance(a, act.TakeProfit) for a in xs))
        assert isinstance(found[0], act.TakeProfit)  # shrunk to the one action that matters

    def test_bad_bounds(self):
        with pytest.raises(InvalidArgument, match="min_traders=3 must be <= max_traders=2"):
            books(min_traders=3, max_traders=2).example()
        with pytest.raises(InvalidArgument, match="min_moves=5 must be <= max_moves=2"):
            price_paths(min_moves=5, max_moves=2).example()

    @settings(max_examples=100)
    @given(price_paths(min_moves=2, max_moves=4))
    def test_price_paths_length(self, path):
        assert 2 <= len(path) <= 4

    def test_moves_are_ppm_of_the_mark(self):
        policy, book = load_preset("binance"), new_book(mark_quote=10_000)
        assert act.resolve(policy, book, act.Move(100_000)) == MarkPrice(11_000)  # +10%
        assert act.resolve(policy, book, act.Move(-150)) == MarkPrice(9_998)  # −1.5 quanta, rounded down
        assert act.resolve(policy, book, act.Move(99)) is None  # under one quantum: no move
        # a spike of +30% comes back by 30/130 of the raised mark, in whole basis points toward no move
        assert _spike(300_000) == [300_000, -230_700]
        assert _spike(1_000_000) == [1_000_000, -500_000]

    @settings(max_examples=100)
    @given(price_paths(max_gap_ppm=250_000), moves())
    def test_drawn_moves_are_whole_basis_points(self, path, move):
        assert all(m % PPM_PER_BP == 0 for m in [*path, move])
        assert -990_000 <= move <= 2_000_000


class TestStateMachine:
    """The state machine over the engine catches a policy that carries debt into the next deposit."""

    @pytest.mark.hypothesis_pool_of_its_own
    @pytest.mark.parametrize("name", ["binance", "backpack"])
    def test_the_machines_test_case_draws_from_the_pinned_literal_pool(self, name: str) -> None:
        """``machine(policy).TestCase``, the documented way to run it, runs with hypothesis's
        literal pool pinned to Solvent's (the lending one for a lending policy): its draws do not
        follow the modules this process imported. Fails if hypothesis stops building ``TestCase``
        through ``_to_test_case``, or the pin is dropped."""
        from hypothesis.internal.conjecture import providers
        from hypothesis.stateful import rule

        from solvent.properties import search as search_module

        policy = load_preset(name)
        seen: list = []

        class Probe(machine(policy, traders=2, invariants=["conservation"], findings_dir=None)):
            @rule()
            def look(self) -> None:
                seen.append(providers._get_local_constants())

        Probe.TestCase.settings = settings(max_examples=3, stateful_step_count=2, database=None, deadline=None)
        Probe.TestCase().runTest()
        pinned = search_module._solvent_constants(name == "backpack")
        assert seen and all(pool is pinned for pool in seen)
        assert providers._get_local_constants() is not pinned  # put back after the run
        assert Probe.TestCase.__name__ == "Probe.TestCase"

    def test_backpack_machine_fails_and_tells_the_story(self, tmp_path):
        """The failure is the story the reports tell (events, book, transfers, who paid) and a
        replay command that shows the same failure (issue 16: it showed no story)."""
        import solvent

        policy = load_preset("backpack")
        from solvent.properties.search import same_draws_in_any_process

        m = solvent.machine(policy, traders=2, invariants=["no-negative-equity"], findings_dir=tmp_path)
        # the literal pool pinned, as every search of Solvent's own pins it: without it the machine's
        # derandomized draws followed the modules this xdist worker had imported, and the story
        # (who paid) changed with the test order (CI at 5409db4)
        with (
            same_draws_in_any_process(policy),
            pytest.raises(AssertionError, match="no-negative-equity broken") as failed,
        ):
            # stateful search is slow to meet a multi-step story (docs/solver-notes.md#hypothesis-search-speed); it stops at the first failure
            run_state_machine_as_test(
                m, settings=settings(max_examples=3_000, stateful_step_count=6, database=None, deadline=None)
            )
        text = str(failed.value)
        assert "found by the state machine" in text and "  events:" in text and "  who paid: alice" in text
        command = text.splitlines()[-1].removeprefix("  reproduce with: ")
        saved = tmp_path / "backpack" / "no-negative-equity.json"
        assert command == f"solvent replay {saved}"
        result = CliRunner().invoke(main, command.split()[1:])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("policy backpack, invariant no-negative-equity")
        story = findings.load(saved).story
        steps = replay(policy, story)
        assert steps is not None and fails(policy, catalog.get("no-negative-equity"), story)

    @pytest.mark.deep
    def test_backpack_machine_finds_the_swallowed_deposit(self):
        m = machine(load_preset("backpack"), traders=2, invariants=["deposit-not-absorbed"])
        with pytest.raises(AssertionError, match="deposit-not-absorbed broken"):
            run_state_machine_as_test(
                m, settings=settings(max_examples=20_000, stateful_step_count=8, database=None, deadline=None)
            )

    def test_drift_machine_conserves(self):
        m = machine(load_preset("drift"), traders=2, invariants=["conservation", "open-interest-balance"])
        run_state_machine_as_test(
            m, settings=settings(max_examples=30, stateful_step_count=10, database=None, deadline=None)
        )
