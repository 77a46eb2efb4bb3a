"""Planted-bug policies must be caught, and correct policies must pass (CrossHair's ``bugs_detected/``
against ``correct_code/``, hypothesis's ``quality/``).

``tests/planted/*.toml``: each policy has one deliberate failure mode, named in its header comment
with the invariant that must catch it (``# expect: <invariant-id>``). The search must find exactly
that property failing with a story of at most 3 traders and 4 events besides the order book's
seed deposit (``# max-events: N`` raises the bound for a failure that needs more, and the header
says why), the story must replay, fail at the reported step and be 1-minimal, and the same story
must pass once the planted field is fixed (``# fix: <path> = <TOML value>``). The accounting
invariants, and those the header lists after ``# holds:``, must hold in the named scenarios.

Optional header lines: ``# budget: N`` (search examples, default 2,000), ``# deep: <why>`` (the
search tests run only with ``-m deep``), ``# xfail: <why>`` (the search is known to miss it: a
strict expected failure, so a search that learns to find it says so), ``# scenario: <name>``
(that named scenario must catch the expected invariant too).

``tests/planted_control/*.toml``: correct policies. The search must run its whole budget on each
invariant listed after ``# holds:``, exercise the claim, and find nothing.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unittest.mock
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties import search as search_module
from solvent.properties.catalog import StepView
from solvent.properties.played import TAKE_PROFIT_CLAIMS
from solvent.properties.scenarios import Story
from solvent.properties.search import Outcome, SearchBudget, SearchResult, fails, first_violation, replay, search
from solvent.rules.book import new_book
from solvent.rules.events import Deposit, MarkPrice, Taker, Trade, Withdraw
from solvent.rules.loading import CONVERTER, load_policy
from solvent.rules.policy import Policy
from solvent.verdicts.check import ClaimStatus, check_policy

PLANTED_DIR = Path(__file__).with_name("planted")
CONTROL_DIR = Path(__file__).with_name("planted_control")

PLANTED_BUDGET = SearchBudget(max_examples=2_000)  # generation stops at the first failure
CONTROL_BUDGET = SearchBudget(max_examples=100)  # every example runs: nothing should fail
CONTROL_DEEP_BUDGET = SearchBudget(max_examples=2_000, derandomize=False)
MAX_TRADERS = 3
MAX_EVENTS = 4
#: Claims no policy may break: money is neither created nor lost, nor a deficit charged twice.
ACCOUNTING = ("conservation", "open-interest-balance", "deficit-charged-once", "insurance-fund-non-negative")

_HEADER = re.compile(r"^#\s*(expect|max-events|budget|deep|xfail|scenario|fix|holds):\s*(.+?)\s*$", re.MULTILINE)
_STEP = re.compile(r"\.?([A-Za-z_]\w*)|\[(\d+)\]")


@attrs.frozen
class PolicyFile:
    """A policy file and what its header promises about it."""

    path: Path
    expect: str | None
    max_events: int
    budget: SearchBudget
    deep: str | None
    xfail: str | None
    scenario: str | None
    fixes: tuple[tuple[str, str], ...]
    holds: tuple[str, ...]

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def policy(self) -> Policy:
        return _load(self.path)


@functools.cache
def _load(path: Path) -> Policy:
    return load_policy(path)


def read(path: Path) -> PolicyFile:
    """The header lines ``# <key>: <value>`` a policy file carries (see the module docstring)."""
    found: dict[str, list[str]] = {}
    for key, value in _HEADER.findall(path.read_text(encoding="utf-8")):
        found.setdefault(key, []).append(value)

    def one(key: str) -> str | None:
        return found[key][0] if key in found else None

    fixes = tuple(tuple(part.strip() for part in line.split("=", 1)) for line in found.get("fix", ()))
    holds = tuple(i.strip() for line in found.get("holds", ()) for i in line.split(","))
    return PolicyFile(
        path,
        one("expect"),
        int(one("max-events") or MAX_EVENTS),
        SearchBudget(max_examples=int(one("budget"))) if one("budget") else PLANTED_BUDGET,
        one("deep"),
        one("xfail"),
        one("scenario"),
        fixes,  # type: ignore[arg-type]
        holds,
    )


PLANTED = [read(p) for p in sorted(PLANTED_DIR.glob("*.toml"))]
CONTROL = [read(p) for p in sorted(CONTROL_DIR.glob("*.toml"))]


def _assign(data: Any, path: str, value: Any) -> None:
    """Set ``value`` at a dotted path with indexes (``deficit[1].price``); index == length appends."""
    steps = [name if name else int(index) for name, index in _STEP.findall(path)]
    for step in steps[:-1]:
        data = data[step]
    last = steps[-1]
    if isinstance(last, int) and last == len(data):
        data.append(value)
    else:
        data[last] = value


def fixed(plant: PolicyFile) -> Policy:
    """The planted policy with its ``# fix:`` lines applied to the TOML data."""
    data = tomllib.loads(plant.path.read_text(encoding="utf-8"), parse_float=Fraction)
    for path, value in plant.fixes:
        _assign(data, path, tomllib.loads(f"v = {value}", parse_float=Fraction)["v"])
    return CONVERTER.structure(data, Policy)


def non_seed(story: Story) -> list:
    """The story's events except the order book's depth deposited to ``liquidity``."""
    return [e for e in story.events if not (isinstance(e, Deposit) and e.account == "liquidity")]


@functools.cache
def found(stem: str) -> SearchResult:
    """The search for a planted policy's expected invariant, run once per test session."""
    plant = next(p for p in PLANTED if p.stem == stem)
    return search(plant.policy, plant.expect, plant.budget)


@attrs.frozen
class Drawn:
    """What one control's search drew and replayed: its result and every story with its steps."""

    result: SearchResult
    stories: tuple[Story, ...]
    steps: tuple[tuple[Any, ...], ...]


@functools.cache
def _control_drawn(stem: str, take_profits: bool) -> Drawn:
    """The stories a control's search draws, run once for all its claims (those of ``# holds:``
    with ``take_profits`` as given). A derandomized search's draws depend on its strategy, its
    settings and what its test tells hypothesis (the pressure it targets, and whether the story
    failed), not on which claim it judges: on a control no story fails, so every claim's own
    search (``search(policy, claim, CONTROL_BUDGET)``) draws the same stories, and a claim one
    of them breaks is broken by that story whichever claim drew it (measured in session 29: the
    46 searches of the six controls drew six sets of stories, one a control, by their examples,
    events and engine paths). So the search of the control's first such claim runs, each story
    it replays is kept (its ``replay`` wrapped: nothing hypothesis sees changes), and each claim is
    judged on all of them."""
    plant = next(p for p in CONTROL if p.stem == stem)
    first = next(i for i in plant.holds if (i in TAKE_PROFIT_CLAIMS) == take_profits)
    seen: list[tuple[Story, Any]] = []

    def kept(policy: Policy, story: Story) -> Any:
        steps = replay(policy, story)
        seen.append((story, tuple(steps or ())))
        return steps

    with unittest.mock.patch.object(search_module, "replay", kept):
        result = search(plant.policy, first, CONTROL_BUDGET)
    # what was kept is what the search judged: its own count of the first claim's exercised steps
    inv = catalog.get(first)
    assert result.stats.exercised_steps == sum(
        bool(inv.exercised(StepView.of(plant.policy, s))) for _, steps in seen for s in steps
    ), result.stats
    return Drawn(result, tuple(s for s, _ in seen), tuple(steps for _, steps in seen))


def _ids(files: list[PolicyFile]) -> list[str]:
    return [f.stem for f in files]


def _searched(plant: PolicyFile) -> Any:
    """A test parameter carrying the file's ``deep`` and ``xfail`` marks for the search tests."""
    # one worker runs every test of a plant, so its search (``found``, cached per process) runs once
    # (pyproject's ``--dist loadgroup``; with ``load`` two workers ran some searches twice)
    marks = [pytest.mark.xdist_group(f"planted-{plant.stem}")]
    if plant.deep:
        marks.append(pytest.mark.deep)
    if plant.xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=plant.xfail))
    return pytest.param(plant, marks=marks, id=plant.stem)


SEARCHED = [_searched(p) for p in PLANTED]


def _dist_mode(args: list[str]) -> str | None:
    """The ``--dist`` mode the controller ran with: the last one given, addopts first (a worker's own
    option reads ``no``)."""
    mode = None
    for i, arg in enumerate(args):
        if arg == "--dist" and i + 1 < len(args):
            mode = args[i + 1]
        elif arg.startswith("--dist="):
            mode = arg.split("=", 1)[1]
    return mode


@pytest.mark.xdist_group("planted-no-waterfall")
def test_a_plants_tests_share_one_worker(request) -> None:
    """Under ``--dist loadgroup`` (pyproject's addopts) pytest-xdist gives a grouped test's id the
    group's name, and runs the group on one worker: a plant's search runs once. pytest 9.2 with
    pytest-xdist 3.8 dropped the grouping without a word (pytest-dev/pytest-xdist#1386), and a
    clean CI then ran the slowest searches on both workers; this fails when grouping is lost."""
    worker = getattr(request.config, "workerinput", None)
    if worker is None or _dist_mode([*request.config.getini("addopts"), *worker["mainargv"][1:]]) != "loadgroup":
        pytest.skip("not run by pytest-xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@planted-no-waterfall"), request.node.nodeid


class TestPlantedSet:
    """The planted set is large enough and every header names real invariants and a valid fix."""

    def test_at_least_twelve_planted_policies_in_the_default_suite(self):
        """Twelve or more planted bugs are searched on every run, not only with ``-m deep``."""
        fast = [p.stem for p in PLANTED if not (p.deep or p.xfail)]
        assert len(fast) >= 12, fast

    @pytest.mark.parametrize("plant", PLANTED, ids=_ids(PLANTED))
    def test_header(self, plant):
        """The header names a catalog invariant the policy does not accept, and a fix that loads."""
        assert plant.expect in catalog.ids(), f"{plant.stem}: '# expect:' must name an invariant: {plant.expect!r}"
        assert plant.expect not in plant.holds
        for inv in plant.holds:
            catalog.get(inv)
        assert plant.fixes, f"{plant.stem}: '# fix:' must say which field repairs the bug"
        assert plant.expect not in plant.policy.accepts
        assert fixed(plant) != plant.policy

    @pytest.mark.parametrize("plant", CONTROL, ids=_ids(CONTROL))
    def test_control_header(self, plant):
        """A control claims properties (accounting among them) and plants nothing."""
        assert plant.expect is None and plant.holds, f"{plant.stem}: a control lists '# holds:' and no '# expect:'"
        for inv in ("conservation", "open-interest-balance"):
            assert inv in plant.holds


class TestPlanted:
    """The search finds each planted bug as exactly its expected property, in a short story."""

    @pytest.mark.parametrize("plant", SEARCHED)
    def test_found_in_a_short_story(self, plant):
        """The search finds the expected property failing, with at most 3 traders and 4 events."""
        result = found(plant.stem)
        assert result.outcome is Outcome.FOUND, (result.outcome, result.stats)
        story = result.story
        assert len(story.book.traders) <= MAX_TRADERS, story
        assert len(non_seed(story)) <= plant.max_events, story

    @pytest.mark.parametrize("plant", SEARCHED)
    def test_story_replays_and_fails_at_the_reported_step(self, plant):
        """The story replays on the concrete engine and first fails at ``step_index``, its last event."""
        result = found(plant.stem)
        inv = catalog.get(plant.expect)
        steps = replay(plant.policy, result.story)
        assert steps is not None, "the policy rejects an event of its own story"
        assert first_violation(plant.policy, inv, steps) == result.step_index
        assert result.step_index == len(result.story.events) - 1  # nothing after the failure is kept

    @pytest.mark.parametrize("plant", SEARCHED)
    def test_story_is_one_minimal(self, plant):
        """Without any one of its events the story no longer fails (or is no longer valid)."""
        result = found(plant.stem)
        inv = catalog.get(plant.expect)
        events = result.story.events
        for i in range(len(events)):
            shorter = Story(result.story.book, events[:i] + events[i + 1 :])
            assert not fails(plant.policy, inv, shorter), f"still fails without event {i}: {events[i]!r}"

    @pytest.mark.parametrize("plant", SEARCHED)
    def test_the_fix_repairs_the_story(self, plant):
        """Replayed on the policy with the planted field fixed, the same story keeps the invariant."""
        result = found(plant.stem)
        policy = fixed(plant)
        inv = catalog.get(plant.expect)
        steps = replay(policy, result.story)
        assert steps is not None, "the fixed policy rejects the story"
        assert first_violation(policy, inv, steps) is None

    @pytest.mark.parametrize("plant", PLANTED, ids=_ids(PLANTED))
    def test_only_the_planted_property_breaks_in_the_named_scenarios(self, plant):
        """Accounting and the header's ``# holds:`` claims are exercised and hold in every named scenario."""
        report = check_policy(plant.policy, invariants=[*ACCOUNTING, *plant.holds, plant.expect])
        assert not [r.name for r in report.runs if r.rejected]
        by_id = {v.invariant.id: v for v in report.verdicts}
        for inv in (*ACCOUNTING, *plant.holds):
            assert by_id[inv].status is ClaimStatus.HELD, (inv, by_id[inv].status, by_id[inv].violation)
        if plant.scenario:
            violation = by_id[plant.expect].violation
            assert violation is not None and violation.scenario == plant.scenario, by_id[plant.expect]


class TestControl:
    """Correct policies: the search runs its whole budget, exercises the claim and finds nothing."""

    CASES = [(plant, inv) for plant in CONTROL for inv in plant.holds]

    @pytest.mark.parametrize(
        "plant, invariant",
        [pytest.param(p, i, marks=pytest.mark.xdist_group(f"control-{p.stem}")) for p, i in CASES],
        ids=[f"{p.stem}-{i}" for p, i in CASES],
    )
    def test_search_finds_nothing(self, plant, invariant, record_property):
        """The whole budget runs, the claim's path is exercised, and no story breaks it: the claim's
        own search (``search(policy, claim, CONTROL_BUDGET)``), judged on the stories that search
        draws, drawn once for the control's claims (:func:`_control_drawn`)."""
        drawn = _control_drawn(plant.stem, invariant in TAKE_PROFIT_CLAIMS)
        inv = catalog.get(invariant)
        exercised = sum(bool(inv.exercised(StepView.of(plant.policy, s))) for steps in drawn.steps for s in steps)
        record_property("examples", drawn.result.stats.examples)
        record_property("exercised_steps", exercised)
        broken = [
            story
            for story, steps in zip(drawn.stories, drawn.steps, strict=True)
            if first_violation(plant.policy, inv, steps) is not None
        ]
        assert not broken, (invariant, broken[0], drawn.result.stats)
        assert exercised, (invariant, drawn.result.stats)  # the search's NONE_FOUND, not NOT_EXERCISED
        assert drawn.result.stats.examples >= CONTROL_BUDGET.max_examples, drawn.result.stats

    @pytest.mark.deep
    @pytest.mark.parametrize("plant, invariant", CASES, ids=[f"{p.stem}-{i}" for p, i in CASES])
    def test_deep_search_finds_nothing(self, plant, invariant, record_property):
        """The same with twenty times the budget and a varying seed."""
        self._finds_nothing(plant, invariant, CONTROL_DEEP_BUDGET, record_property)

    @staticmethod
    def _finds_nothing(plant: PolicyFile, invariant: str, budget: SearchBudget, record_property: Any) -> None:
        result = search(plant.policy, invariant, budget)
        record_property("examples", result.stats.examples)
        record_property("exercised_steps", result.stats.exercised_steps)
        assert result.outcome is Outcome.NONE_FOUND, (result.outcome, result.story, result.stats)
        assert result.stats.examples >= budget.max_examples, result.stats

    @pytest.mark.parametrize("plant", CONTROL, ids=_ids(CONTROL))
    def test_named_scenarios_hold(self, plant):
        """Every claimed property is exercised and holds in every named scenario."""
        report = check_policy(plant.policy, invariants=list(plant.holds))
        assert not [r.name for r in report.runs if r.rejected]
        for verdict in report.verdicts:
            assert verdict.status is ClaimStatus.HELD, (verdict.invariant.id, verdict.status, verdict.violation)


def test_clawback_reaches_principal_two_ways() -> None:
    """The two stories of ``tests/planted/clawback-reaches-principal.toml``, each failing
    principal-protected at its last step and 1-minimal. The loser's withdrawal (alice, long 1 lot on
    2, takes 3 of her gain at 105, then the mark gaps to 50): capping the clawback at window profit
    repairs it. An earlier clawback (alice bankrupt at 95 is clawed back 4 from each short; at 98 bob
    is bankrupt and carol, whose window PnL is 5 - 3 = 2 but whose gain went to that clawback, pays
    1 of her principal of 4): the cap is not enough there, the haircut of profit over principal
    (the header's fix) repairs both."""
    plant = next(p for p in PLANTED if p.stem == "clawback-reaches-principal")
    inv = catalog.get(plant.expect)
    policy = plant.policy
    capped = attrs.evolve(policy, deficit=(attrs.evolve(policy.deficit[0], cap_at_profit=True),))
    withdrawal = Story(
        new_book(mark_quote=100),
        (
            Deposit("alice", 2),
            Deposit("bob", 10),
            Trade("alice", "bob", 1, 100, Taker.SELLER),
            MarkPrice(105),
            Withdraw("alice", 3),
            MarkPrice(50),
        ),
    )
    earlier = Story(
        new_book(mark_quote=100, traders=("alice", "bob", "carol")),
        (
            Deposit("alice", 4),
            Deposit("bob", 2),
            Deposit("carol", 4),
            Trade("alice", "bob", 1, 100, Taker.SELLER),
            Trade("alice", "carol", 1, 100, Taker.SELLER),
            MarkPrice(95),
            MarkPrice(98),
        ),
    )
    for story, under_cap in ((withdrawal, None), (earlier, 6)):
        last = len(story.events) - 1
        assert first_violation(policy, inv, replay(policy, story)) == last
        assert first_violation(capped, inv, replay(capped, story)) == under_cap
        assert first_violation(fixed(plant), inv, replay(fixed(plant), story)) is None
        for i in range(len(story.events)):
            assert not fails(policy, inv, Story(story.book, story.events[:i] + story.events[i + 1 :])), i
    carol = replay(policy, earlier)[-1].after.account("carol")
    assert (carol.cash_quote, carol.principal_quote, carol.window_pnl_quote) == (1, 4, 2)
