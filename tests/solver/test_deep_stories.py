"""Deep stories (solver/deep_stories.py): z3 over K events from a funded book, and the search seeded
with z3's one-step counterexample. Every story is replayed on the concrete engine; budgets are units
and examples."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.properties.search import Outcome, SearchBudget, fails, first_violation, replay, search
from solvent.rules.book import Role, new_book
from solvent.rules.engine import run
from solvent.rules.events import Deposit, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.loading import load_policy
from solvent.solver.assumptions import funded, traded
from solvent.solver.bounds import Bounds
from solvent.solver.deep_stories import (
    KINDS,
    DeepBudget,
    Seed,
    _losses,
    _played,
    _profits,
    bounded_story,
    one_step_seed,
    seeded_search,
)
from solvent.solver.verdicts import Verdict

TESTS = Path(__file__).resolve().parent.parent
PLANTED = TESTS / "planted"
CONTROL = TESTS / "planted_control"
SMALL = DeepBudget(max_events=2, effort=5_000_000, total=20_000_000, examples=0)


def _deposited() -> tuple:
    """alice and bob deposit, the fund is seeded: a funded book, as a venue's day starts."""
    book = new_book(mark_quote=1_000, traders=("alice", "bob"))
    events = (Deposit("alice", 5_000), Deposit("bob", 7_000), Deposit("insurance_fund", 300))
    return book, events


def _after(book, events):
    return run(load_policy(PLANTED / "fund-capped-no-last-layer.toml"), book, events)[-1].after


class TestFundedBook:
    """``assumptions.funded``: flat, deposits only; one quantum or one lot off is not funded."""

    def test_deposits_on_an_empty_book_are_funded(self):
        book, events = _deposited()
        assert funded(_after(book, events)).holds is True

    def test_a_trade_makes_it_unfunded(self):
        book, events = _deposited()
        traded = _after(book, (*events, Trade("alice", "bob", 1, 1_000)))
        assert funded(traded).holds is False

    @pytest.mark.parametrize(
        "field, delta",
        [
            ("principal_quote", -1),
            ("window_pnl_quote", 1),
            ("withdrawn_quote", 1),
            ("debt_quote", 1),
            ("spot_quote", 1),
        ],
    )
    def test_one_quantum_of_history_is_not_funded(self, field, delta):
        book, events = _deposited()
        after = _after(book, events)
        alice = after.account("alice")
        changed = attrs.evolve(alice, **{field: getattr(alice, field) + delta})
        accounts = tuple(changed if a.name == "alice" else a for a in after.accounts)
        assert funded(attrs.evolve(after, accounts=accounts)).holds is False

    def test_money_in_the_fee_pool_or_a_moved_mark_is_not_funded(self):
        book, events = _deposited()
        after = _after(book, events)
        fee = tuple(
            attrs.evolve(a, cash_quote=1, principal_quote=1) if a.role is Role.FEE_ACCOUNT else a
            for a in after.accounts
        )
        assert funded(attrs.evolve(after, accounts=fee, net_deposits_quote=after.net_deposits_quote + 1)).holds is False
        moved = attrs.evolve(after, market=attrs.evolve(after.market, previous_mark_quote=999))
        assert funded(moved).holds is False
        assert funded(attrs.evolve(after, net_deposits_quote=after.net_deposits_quote + 1)).holds is False

    def test_only_the_traders_have_traded(self):
        """``assumptions.traded``: a trade between traders, and a trader's loss history, keep it; the
        order book holding a position, or a loss history (principal above its cash), does not."""
        book, events = _deposited()
        after = _after(book, (*events, Trade("alice", "bob", 1, 1_000)))
        assert funded(after).holds is False and traded(after).holds is True
        alice = after.account("alice")
        losing = tuple(
            attrs.evolve(a, principal_quote=alice.principal_quote + 1) if a is alice else a for a in after.accounts
        )
        assert traded(attrs.evolve(after, accounts=losing)).holds is True
        for fields in ({"principal_quote": 1}, {"size_lots": 1, "cost_quote": 1_000}):
            book_side = tuple(attrs.evolve(a, **fields) if a.role is Role.LIQUIDITY else a for a in after.accounts)
            assert traded(attrs.evolve(after, accounts=book_side)).holds is False
        assert Bounds(start="traded").start == "traded"

    def test_bounds_name_the_start(self):
        assert Bounds().start == "well-formed"
        with pytest.raises(ValueError, match="start"):
            Bounds(start="reachable")


class TestBoundedModelChecking:
    """z3 over K events from a funded book: the shortest story, from the empty book, 1-minimal."""

    def test_a_capped_fund_fails_at_two_events_and_not_at_one(self):
        policy = load_policy(PLANTED / "fund-capped-no-last-layer.toml")
        inv = catalog.get("no-negative-equity")
        found = bounded_story(policy, inv, SMALL)
        assert found.found and found.origin == "z3 (K = 2)"
        # no single event from a funded book breaks it (nothing is open yet): z3 says so, not "unknown"
        assert [a.verdict for a in found.attempts if a.events == 1] == [Verdict.PROVED] * len(KINDS)
        assert found.attempts[-1].verdict is Verdict.REFUTED and found.attempts[-1].kinds == ("trade", "mark")
        story = found.story
        assert all(a.size_lots == 0 and a.cash_quote == 0 for a in story.book.accounts)  # the empty book
        assert [type(e) for e in story.events] == [Deposit, Deposit, Trade, MarkPrice]
        steps = replay(policy, story)
        assert steps is not None and first_violation(policy, inv, steps) == found.step_index == len(steps) - 1
        for i in range(len(story.events)):  # 1-minimal
            assert not fails(policy, inv, Story(story.book, story.events[:i] + story.events[i + 1 :]))
        assert found.units == sum(a.units for a in found.attempts) and found.events == 4

    def test_a_swallowed_deposit_needs_the_deposit_kind_at_three_events(self):
        """The deposit that repays the venue's debt comes after the gap: trades and moves alone
        give no story at K = 3; with money in and out z3 finds deposits, a trade, the gap, the
        deposit."""
        policy = load_policy(PLANTED / "debt-carry-swallows-deposit.toml")
        found = bounded_story(policy, "deposit-not-absorbed", attrs.evolve(SMALL, max_events=3, total=30_000_000))
        assert found.origin == "z3 (K = 3)"
        at_three = [(a.kinds, a.verdict) for a in found.attempts if a.events == 3]
        assert at_three[0] == (("trade", "mark"), Verdict.PROVED)
        assert at_three[1] == (("trade", "mark", "withdraw", "deposit"), Verdict.REFUTED)
        assert isinstance(found.story.events[-1], Deposit) and found.events == 5

    def test_spot_taken_for_a_loss_needs_the_spot_kind(self):
        policy = load_policy(PLANTED / "spot-as-collateral.toml")
        budget = DeepBudget(max_events=3, kinds=(("trade", "mark"), ("trade", "mark", "spot-deposit")), examples=0)
        found = bounded_story(policy, "spot-isolated", budget)
        assert found.origin == "z3 (K = 3)"
        assert [a.verdict for a in found.attempts if a.kinds == ("trade", "mark")] == [Verdict.PROVED] * 3
        assert any(isinstance(e, SpotDeposit) for e in found.story.events)

    def test_the_budget_is_units_and_stops_the_questions(self):
        policy = load_policy(CONTROL / "fund-then-venue.toml")
        tight = attrs.evolve(SMALL, total=1)
        found = bounded_story(policy, "no-negative-equity", tight)
        assert len(found.attempts) == 1 and found.attempts[0].units >= 1


class TestSeeded:
    """The search seeded with z3's one-step state finds what the plain search misses at the budget."""

    def test_seed_keeps_marks_as_ratios(self):
        book = new_book(mark_quote=100, traders=("alice", "bob"))
        alice, bob = book.account("alice"), book.account("bob")
        accounts = tuple(
            attrs.evolve(a, cash_quote=50, principal_quote=50, size_lots=s, cost_quote=s * 100)
            if a.name in ("alice", "bob")
            else a
            for a, s in zip(book.accounts, [2, -2] + [0] * (len(book.accounts) - 2), strict=True)
        )
        assert alice.name == "alice" and bob.name == "bob"
        state = attrs.evolve(book, accounts=accounts, net_deposits_quote=100)
        seed = Seed.of(Story(state, (MarkPrice(80), MarkPrice(40))), 1)
        assert seed.opening == (Deposit("alice", 50), Deposit("bob", 50), Trade("alice", "bob", 2, 100))
        assert seed.tail == ((80, 100), (40, 80))

    CLAWBACK = PLANTED / "clawback-reaches-principal.toml"

    @staticmethod
    def _state(mark: int, accounts: dict[str, dict[str, int]], traders=("alice", "bob")):
        """A well-formed state as z3 gives one: an empty book with these fields set."""
        book = new_book(mark_quote=mark, traders=traders)
        changed = tuple(attrs.evolve(a, **accounts.get(a.name, {})) for a in book.accounts)
        return attrs.evolve(book, accounts=changed)

    def _flat_winner(self) -> Story:
        """z3's one-step clawback state since the held releases (docs/solver-notes.md): alice flat
        with a window profit of one quantum and no cash (she took it out), bob long 4 lots at 42
        with 9 quanta, the order book short; then a fall to 40."""
        state = self._state(
            42,
            {
                "alice": {"window_pnl_quote": 1},
                "bob": {
                    "cash_quote": 9,
                    "size_lots": 4,
                    "cost_quote": 168,
                    "principal_quote": 9,
                    "window_pnl_quote": 10,
                },
                "liquidity": {"size_lots": -4, "cost_quote": -168, "window_pnl_quote": -7},
            },
        )
        return Story(state, (MarkPrice(40),))

    def test_a_flat_winners_window_profit_is_built_by_a_round_trip(self):
        """Deposits and trades at the mark give alice no window profit, so the seed written that way
        does not break principal-protected; with each trader's profit built (one lot sold to the
        maker at the mark plus the profit, bought back at the mark, then cash brought to z3's) it
        does, from the empty book, and the seeded search finds it at its first example."""
        policy, inv = load_policy(self.CLAWBACK), catalog.get("principal-protected")
        story = self._flat_winner()
        plain = Seed.of(story, 0)
        assert plain.profits == () and not any(getattr(e, "account", "") == "alice" for e in plain.opening)
        assert not fails(policy, inv, _played(policy, plain.book, (*plain.opening, *plain.tail)))
        seed = Seed.of(story, 0, policy, inv)
        assert seed.profits == ("alice",)  # bob's profit (his window PnL 10) is not needed
        assert Trade("maker", "alice", 1, 43) in seed.opening  # one tick of profit: 43 against the mark 42
        assert Trade("alice", "maker", 1, 42, Taker.SELLER) in seed.opening
        played = _played(policy, seed.book, (*seed.opening, *seed.tail))
        assert Withdraw("alice", 43) in played.events  # her deposit of a lot's notional and the profit
        steps = replay(policy, played)
        assert steps is not None and first_violation(policy, inv, steps) == len(steps) - 1
        before_gap = steps[-2].after.account("alice")
        assert (before_gap.size_lots, before_gap.cash_quote, before_gap.window_pnl_quote) == (0, 0, 1)
        assert all(a.size_lots == 0 and a.cash_quote == 0 for a in seed.book.accounts)  # the empty book
        result = seeded_search(policy, inv, seed, SearchBudget(max_examples=100))
        assert result.outcome is Outcome.FOUND and result.stats.examples_to_first == 1, result.stats
        found = replay(policy, result.story)
        assert found is not None and first_violation(policy, inv, found) == result.step_index == len(found) - 1

    def test_a_seed_that_fails_as_written_keeps_its_opening(self):
        """z3's pro-rata state breaks no-negative-equity written as deposits and trades: no round
        trip is added, though alice's and bob's cash is above their principal (z3 left it at 0)."""
        policy, inv = load_policy(PLANTED / "pro-rata-rounds-down.toml"), catalog.get("no-negative-equity")
        state = self._state(
            2,
            {
                "alice": {"cash_quote": 5, "size_lots": 22, "cost_quote": 44},
                "bob": {"cash_quote": 8, "size_lots": -11, "cost_quote": -22},
                "liquidity": {"size_lots": -11, "cost_quote": -22},
                "insurance_fund": {"cash_quote": 1},
            },
        )
        story = Story(state, (MarkPrice(3),))
        seed = Seed.of(story, 0, policy, inv)
        assert seed == Seed.of(story, 0) and seed.profits == ()
        assert fails(policy, inv, _played(policy, seed.book, (*seed.opening, *seed.tail)))
        with_profits = Seed._of(story, 0, _profits(state))  # what it would have been
        assert with_profits.profits == ("alice", "bob") and with_profits.opening != seed.opening

    HAIRCUT = PLANTED / "haircut-last-layer.toml"

    def _losing_winner(self) -> Story:
        """z3's one-step haircut-last-layer state from a book where only the traders have traded
        (``Bounds.start = "traded"``, at 7d2d24e, its code on main unchanged): alice long 2 lots at 999,827,325 with 41,005,923
        quanta, bob short 2 with 39,993,093 over a principal of 1,060,323,334 (a loss history of
        1,020,330,241), the fund 979,324,317; then a fall to 49."""
        state = self._state(
            999_827_325,
            {
                "alice": {"cash_quote": 41_005_923, "size_lots": 2, "cost_quote": 2 * 999_827_325},
                "bob": {
                    "cash_quote": 39_993_093,
                    "size_lots": -2,
                    "cost_quote": -2 * 999_827_325,
                    "principal_quote": 1_060_323_334,
                },
                "liquidity": {"cash_quote": 18_383, "principal_quote": 18_383},
                "insurance_fund": {"cash_quote": 979_324_317, "principal_quote": 979_324_317},
            },
        )
        return Story(state, (MarkPrice(49),))

    def test_a_winners_loss_history_is_built_by_a_round_trip(self):
        """Deposits and trades at the mark leave bob's principal at his cash, so his gain in the fall
        is all profit and the haircut pays alice's deficit: the seed as written does not break
        no-negative-equity. With his loss history built (one lot bought from the maker at the mark
        plus L, sold back at the mark, the maker withdrawing the L it gained, bob's cash never
        brought down by a withdrawal) his profit is his gain less L, the haircut pays less than the
        deficit left after the fund, and the seeded search finds it at its first example."""
        policy, inv = load_policy(self.HAIRCUT), catalog.get("no-negative-equity")
        story = self._losing_winner()
        loss = 1_060_323_334 - 39_993_093
        assert _losses(story.book) == {"bob": loss} and _profits(story.book) == {"alice": 41_005_923}
        plain = Seed.of(story, 0)
        assert not fails(policy, inv, _played(policy, plain.book, (*plain.opening, *plain.tail)))
        seed = Seed.of(story, 0, policy, inv)
        assert (seed.profits, seed.losses) == ((), ("bob",))  # alice's profit built alone does not fail
        assert Trade("bob", "maker", 1, 999_827_325 + loss, Taker.SELLER) in seed.opening
        assert Trade("maker", "bob", 1, 999_827_325, Taker.BUYER) in seed.opening
        assert Withdraw("maker", loss) in seed.opening
        played = _played(policy, seed.book, (*seed.opening, *seed.tail))
        steps = replay(policy, played)
        assert steps is not None and first_violation(policy, inv, steps) == len(steps) - 1
        before = steps[-2].after
        bob, maker = before.account("bob"), before.account("maker")
        assert bob.principal_quote - bob.cash_quote >= loss and bob.size_lots == -2
        assert maker.cash_quote <= maker.principal_quote  # the trip left the maker no profit
        assert steps[-1].after.account("alice").cash_quote < 0
        result = seeded_search(policy, inv, seed, SearchBudget(max_examples=100))
        assert result.outcome is Outcome.FOUND and result.stats.examples_to_first == 1, result.stats
        found = replay(policy, result.story)
        assert found is not None and first_violation(policy, inv, found) == result.step_index == len(found) - 1

    def test_a_loss_history_is_at_least_z3s_on_the_tick_grid(self):
        """A fill's PnL is lots × ticks: a loss history of 15 quanta on a 10-quantum tick is built as
        20 (at least z3's, so the winner's profit is at most z3's), one of 10 as 10; none where the
        cash is the principal, and a negative cash counts as none."""
        book = new_book(mark_quote=1_000, traders=("alice", "bob", "carol"), tick_quote=10)
        fields = {"alice": (5, 20), "bob": (10, 20), "carol": (-5, 0)}
        accounts = tuple(
            attrs.evolve(a, cash_quote=fields[a.name][0], principal_quote=fields[a.name][1]) if a.name in fields else a
            for a in book.accounts
        )
        assert _losses(attrs.evolve(book, accounts=accounts)) == {"alice": 20, "bob": 10}

    @pytest.mark.deep  # two z3 questions of about 1.3M units in a fresh process
    def test_haircut_last_layer_found_by_the_seeded_search_within_the_ci_budget(self):
        """z3's well-formed seed gives the order book a loss history the opening cannot write (it
        does not fail as written), so a second question is asked from a book where only the traders
        have traded: its seed (bob's loss history, built) fails as written, and the seeded search
        finds the haircut leaving alice below zero at its first example (none in 2,000 before)."""
        policy, inv = load_policy(self.HAIRCUT), catalog.get("no-negative-equity")
        seed, units = one_step_seed(policy, inv, DeepBudget())
        assert seed is not None and seed.losses and units > 0
        assert all(a.size_lots == 0 and a.principal_quote == 0 for a in seed.book.accounts)  # the empty book
        result = seeded_search(policy, inv, seed, SearchBudget(max_examples=DeepBudget().examples))
        assert result.outcome is Outcome.FOUND and result.stats.examples_to_first == 1, result.stats
        steps = replay(policy, result.story)
        assert steps is not None and first_violation(policy, inv, steps) == result.step_index == len(steps) - 1

    @pytest.mark.deep  # a z3 question of about 5M units in a fresh process
    def test_clawback_found_by_the_seeded_search_within_the_ci_budget(self):
        """z3's one-step counterexample (asked in a fresh process, so the same seed whatever ran
        before), with the flat winner's window profit built by a round trip, breaks
        principal-protected as written: the seeded search finds the clawback reaching principal at
        its first example of the 2,000 (``DeepBudget().examples``; 2,646 of 6,000 before the
        profit was built, the plain derandomized search at 4,456)."""
        policy = load_policy(self.CLAWBACK)
        inv = catalog.get("principal-protected")
        seed, units = one_step_seed(policy, inv, DeepBudget())
        assert seed is not None and units > 0
        assert "alice" in seed.profits and isinstance(seed.tail[-1], tuple)  # a round trip, then z3's move
        result = seeded_search(policy, inv, seed, SearchBudget(max_examples=DeepBudget().examples))
        assert result.outcome is Outcome.FOUND and result.stats.examples_to_first == 1, result.stats
        steps = replay(policy, result.story)
        assert steps is not None and first_violation(policy, inv, steps) == result.step_index == len(steps) - 1

    PRO_RATA = PLANTED / "pro-rata-rounds-down.toml"
    #: what both searches are given here: the seeded one needs one example, the plain one more
    FEW = SearchBudget(max_examples=100)

    def test_a_seed_written_as_deposits_and_trades_is_found_where_the_plain_search_is_not(self):
        """The default suite's seeded search (z3 leaves this bug undecided at K <= 3, so a deep
        story of it is the seeded search's): z3's one-step state, written as deposits and trades
        and followed by its gap, already breaks no-negative-equity, so the seeded search finds it
        at its first example, a story from the empty book that replays; the plain derandomized
        search, given the same 100 examples, finds nothing."""
        policy = load_policy(self.PRO_RATA)
        inv = catalog.get("no-negative-equity")
        seed, units = one_step_seed(policy, inv, DeepBudget())
        assert seed is not None and units > 0
        assert seed.opening and isinstance(seed.tail[-1], tuple)
        result = seeded_search(policy, inv, seed, self.FEW)
        assert result.outcome is Outcome.FOUND and result.stats.examples_to_first == 1, result.stats
        assert all(a.size_lots == 0 for a in result.story.book.accounts)  # positions from its own trades
        steps = replay(policy, result.story)
        assert steps is not None and first_violation(policy, inv, steps) == result.step_index == len(steps) - 1
        assert search(policy, inv, self.FEW).outcome is Outcome.NONE_FOUND


class TestCheckDeepStories:
    """``solvent check --deep-stories``: a claim nothing else broke gets a deep story, saved, and the
    command printed to show it again is run here and shows the same failure."""

    ARGS = ("--invariant", "claims-backed", "--examples", "1", "--prove-budget", "0")

    @staticmethod
    def _solvent(cwd: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "solvent", *args], cwd=cwd, capture_output=True, text=True)

    def test_the_vault_takeover_fails_only_with_deep_stories(self, tmp_path):
        policy = str(PLANTED / "takeover-vault-unbacked.toml")
        plain = self._solvent(tmp_path, "check", policy, *self.ARGS, "--findings-dir", str(tmp_path / "plain"))
        assert plain.returncode == 0, plain.stdout  # the control: one example and no z3 find nothing
        done = self._solvent(
            tmp_path, "check", policy, *self.ARGS, "--deep-stories", "--format", "json", "--output", "r.json"
        )
        assert done.returncode == 1, done.stderr
        (report,) = json.loads((tmp_path / "r.json").read_text())["policies"]
        (finding,) = report["findings"]
        assert finding["origin"] == "deep" and finding["scenario"] == "z3 (K = 3)"
        assert finding["invariants"] == ["claims-backed"]
        # deposits, a trade and two moves: the vault takes the position over, then pays the next move
        assert [e["type"] for e in finding["story"]["events"]] == [
            "Deposit",
            "Deposit",
            "Trade",
            "MarkPrice",
            "MarkPrice",
        ]
        command = finding["replay"]["command"]
        assert command.startswith("solvent replay ") and command.endswith("claims-backed.json")
        shown = self._solvent(tmp_path, *shlex.split(command)[1:])
        assert shown.returncode == 1, shown.stderr
        assert "invariant claims-backed" in shown.stdout.splitlines()[0]

    def test_a_control_holds_and_says_what_the_deep_search_tried(self):
        """No false alarm from check: the control's claim holds, and its evidence names the K z3
        was asked about from a funded book and the units it spent."""
        from solvent.reports.story import evidence
        from solvent.verdicts.check import ClaimStatus, check_policy

        policy = load_policy(CONTROL / "fund-then-venue.toml")
        report = check_policy(
            policy,
            invariants=["no-negative-equity"],
            search_budget=SearchBudget(max_examples=20),
            relational_properties=False,
            deep_budget=SMALL,
        )
        (verdict,) = report.verdicts
        assert verdict.status is ClaimStatus.HELD and not verdict.violations
        assert verdict.deep is not None and not verdict.deep.found
        # the bounded questions themselves (SMALL seeds no search, so ``deep`` is ``bounded_story``'s
        # answer): the fund then the venue pays every deficit, z3 finds no story of 2 events; asked
        # here once, not again by a bounded-model-checking test of its own (session 24's second pass)
        assert verdict.deep.origin == ""
        assert verdict.deep.attempts and all(a.verdict is not Verdict.REFUTED for a in verdict.deep.attempts)
        assert f"deep stories: none in K ≤ 2 from a funded book ({verdict.deep.units:,} units)" in evidence(verdict)

    def _printed_without_a_findings_file(self, tmp_path: Path) -> str:
        policy = str(PLANTED / "takeover-vault-unbacked.toml")
        args = ("check", policy, "--invariant", "claims-backed", "--no-search", "--deep-stories")
        done = self._solvent(tmp_path, *args, "--format", "json", "--output", "r.json")
        assert done.returncode == 1, done.stderr
        (report,) = json.loads((tmp_path / "r.json").read_text())["policies"]
        (finding,) = report["findings"]
        assert finding["origin"] == "deep"
        command = finding["replay"]["command"]
        assert command == f"solvent check {policy} --invariant claims-backed --deep-stories"
        return command

    def test_without_a_findings_file_the_printed_command_is_the_check(self, tmp_path):
        """With no search (so no findings directory) the printed command is the check with
        --deep-stories: that very command (less --no-search) failing the claim is this run's exit 1
        and deep finding, and its search and z3 are the default check's (the deep test below runs
        it as printed: 5.25 of this pair's 11 s of CPU, session 27)."""
        self._printed_without_a_findings_file(tmp_path)

    @pytest.mark.deep
    def test_without_a_findings_file_the_printed_check_shows_it(self, tmp_path):
        """Run as printed (its search at 200 examples and z3 at 60M), it shows the same claim failing."""
        command = self._printed_without_a_findings_file(tmp_path)
        shown = self._solvent(tmp_path, *shlex.split(command)[1:], "--format", "json", "--output", "again.json")
        assert shown.returncode == 1, shown.stderr
        (again,) = json.loads((tmp_path / "again.json").read_text())["policies"]
        assert [v["verdict"] for v in again["verdicts"]] == ["fails"]
