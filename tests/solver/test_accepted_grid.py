"""A claim the policy accepts as failing, searched first on the grid at check's own book in check's second
round (``solver.prove._accepted_on_grid``, ``verdicts.proofs``;
docs/solver-notes.md#accepted-claims-on-checks-own-book-on-the-grid-session-32).

percolator Gen A accepts ``flat-accounts-never-pay`` (its haircut takes from flat accounts' matured
profit, as the venue's document says). Within ``solvent check`` (N = 2, one mark move) the claim was asked
whole twice, 7.3M and then 10M units, and stayed undecided; on the grid's doubling and halving at N = 2
the story is found in under a third of the units."""

from __future__ import annotations

import re

import attrs

from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.rules.book import Account, Asset, Book, Market, Role
from solvent.rules.events import MarkPrice
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.plain_book import at_policy_scale, beyond_scale, breaks, scale_mark
from solvent.solver.prove import GRID, GRID_SHARE, prove
from solvent.solver.refinement import replay
from solvent.solver.smallest_move import MoveBudget, told_at_least_move
from solvent.solver.thresholds import ThresholdStatus
from solvent.solver.verdicts import ProofResult, Verdict
from solvent.verdicts import proofs
from tests.book_support import system_accounts
from tests.cli_support import solvent

CLAIM = "flat-accounts-never-pay"


def test_gen_as_accepted_claim_is_refuted_on_the_grid_at_checks_book() -> None:
    policy = load_preset("percolator-gen-a")
    assert CLAIM in policy.accepts
    bounds = Bounds(accounts=2, events=1, effort=10_000_000)
    result = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert result.verdict is Verdict.REFUTED and result.accepted
    assert result.units <= 10_000_000 // GRID_SHARE  # the grid's third, nothing after it
    assert GRID in result.method
    assert result.scope.accounts == 2 and result.scope.prices == "prices 1..1000000000"  # the question's scope
    story = result.counterexample
    assert story is not None and story.step_index == 0
    rep = replay(policy, catalog.get(CLAIM), story.story, attrs.evolve(bounds, effort=1))
    assert rep.violates  # the concrete engine breaks the claim on the grid's story


def test_the_grid_is_searched_on_one_trader_first() -> None:
    """Gen A's no-haircut (accepted too): its story is found on one trader's book, as the question of a
    larger N finds it on its smaller books, so check tells it at its least move on a book of one trader
    (solver.smallest_move); flat-accounts-never-pay needs a flat account beside the loser, so its one-trader
    grid is searched and proved, then N = 2's found (both counted)."""
    policy = load_preset("percolator-gen-a")
    bounds = Bounds(accounts=2, events=1, effort=10_000_000)
    haircut = prove(policy, "no-haircut", bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert haircut.verdict is Verdict.REFUTED and len(haircut.counterexample.story.book.traders) == 1
    assert haircut.scope.accounts == 2 and haircut.units <= 10_000_000 // GRID_SHARE
    flat = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert len(flat.counterexample.story.book.traders) == 2
    # the one-trader grid asked first, at both points, and the claim holds there
    first = [q.result.split(" ")[0] for q in flat.queries if q.name.startswith(CLAIM)][:2]
    assert first == ["unsat", "unsat"] and flat.queries[0].name == "build at prices 2, 4"


def _queries(result: ProofResult) -> list[tuple[str, int]]:
    return [(q.name, q.units) for q in result.queries]


def test_a_claim_the_policy_does_not_accept_is_asked_as_without_the_flag() -> None:
    """The mutant: the same claim on Gen A with its acceptance dropped: no grid, the same queries and
    units as the question asked without the flag."""
    policy = load_preset("percolator-gen-a")
    plain = attrs.evolve(policy, accepts=tuple(c for c in policy.accepts if c != CLAIM))
    bounds = Bounds(accounts=2, events=1, effort=300_000)
    flagged = prove(plain, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    asked = prove(plain, CLAIM, bounds, minimize=False, payer_first=False)
    assert _queries(flagged) == _queries(asked)
    assert GRID not in flagged.method
    # accepted, the same small purse starts with the grid's search (its own queries first)
    accepted = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert _queries(accepted) != _queries(asked)
    assert sum(u for _, u in _queries(accepted)) <= 300_000


def test_check_asks_the_grid_only_in_its_second_round(monkeypatch) -> None:
    """Round one asks every claim as before; a claim left undecided is asked again in round two with the
    flag (only a claim the policy accepts is then searched on the grid: the test above)."""
    flags: list[tuple[str, bool]] = []

    def fake(policy, invariant_id, bounds, *, minimize, payer_first, given, accepted_grid):
        flags.append((invariant_id, accepted_grid))
        verdict = Verdict.UNKNOWN if invariant_id == CLAIM and not accepted_grid else Verdict.PROVED
        return ProofResult(policy.name, invariant_id, verdict, None, 0.0, "")

    monkeypatch.setattr("solvent.solver.prove.prove", fake)
    policy = load_preset("percolator-gen-a")
    # nothing spent: round one gives the claim 1.5M of 3M (two claims asked after it), round two all 3M
    ids = ["conservation", CLAIM, "no-haircut"]
    proofs.prove_within(policy, ids, proofs.ProofBudget(total=3_000_000, moves=None))
    assert flags == [("conservation", False), (CLAIM, False), ("no-haircut", False), (CLAIM, True)]


def test_the_grid_story_is_told_on_a_plain_book_at_the_policys_scale() -> None:
    """z3's grid story (a mark of 4 quanta, 10¹² of principal on the flat winner and the order book, the
    venue at −10¹²) has no least move the bisection can bound within its budget: it is told plainly on the
    concrete engine (solver.smallest_move._plainly): the venue at zero, the principal z3 left beside bob's
    profit cut with his cash (his profit above it kept), the book multiplied up to the policy's mark of
    10,000, and the move cut to its least ticks from that book; no smaller move is called proved."""
    policy = load_preset("percolator-gen-a")
    claim = catalog.get(CLAIM)
    bounds = Bounds(accounts=2, events=1, effort=10_000_000)
    found = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert found.grid_first and found.counterexample.story.book.market.mark_quote == 4  # as z3 found it
    told = told_at_least_move(policy, claim, found, MoveBudget(probes=0))
    story = told.counterexample.story
    book = story.book
    assert book.market.mark_quote == scale_mark(policy) == 10_000
    # no move before it (z3's previous mark 1 was multiplied to 2,500 with the rest, and set at the mark
    # once the window sum's change no longer carried it back)
    assert book.market.previous_mark_quote == 10_000
    assert beyond_scale(policy, book) == []  # every balance and position within the policy's scale
    assert book.role(Role.VENUE).cash_quote == 0
    bob = book.account("bob")
    assert bob.size_lots == 0 and bob.principal_quote == 0 and 0 < bob.cash_quote <= 10_000  # a flat winner
    event = story.events[0]
    assert event.price_quote == 8_999  # −10.01%
    one_tick_less = attrs.evolve(story, events=(MarkPrice(event.price_quote + 1),))
    assert breaks(policy, claim, story, bounds) and not breaks(policy, claim, one_tick_less, bounds)
    move = told.counterexample.move
    assert move.status is ThresholdStatus.UNKNOWN and move.proved_ppm is None and not move.bisected
    assert "no smaller move was proved safe" in move.text and "at the policy's own scale" in move.text


def test_the_printed_command_asks_the_grid_first() -> None:
    """``solvent prove --grid-first`` asks the question check's second round asks, and tells the same
    story (what check's Reproduce line prints, reports.story._grid_first); without the flag the same
    command is not refuted within the units the grid needed."""
    found = solvent(
        "prove", "percolator-gen-a", "--invariant", CLAIM, "--accounts", "2", "--grid-first", "--effort", "10M"
    )
    assert found.exit_code == 1, found.output
    # z3's event, the mark from the policy's 10,000 down to 8,999, told after the history that builds its
    # book from an empty one (solver.from_empty, as check tells it)
    assert "MarkPrice(price_quote=8999)  <- fails here" in found.stdout, found.stdout
    events = found.stdout.split("  events:\n", 1)[1].split("  transfers", 1)[0]
    assert re.findall(r"MarkPrice\(price_quote=(\d+)\)", events)[-2:] == ["10000", "8999"], events
    asked = solvent("prove", "percolator-gen-a", "--invariant", CLAIM, "--accounts", "2", "--effort", "3M")
    assert asked.exit_code == 3, asked.output


def test_checks_reproduce_line_carries_the_grid_flag() -> None:
    """Check's Reproduce line for a z3 story names ``--grid-first`` exactly where the proof's story came
    from the grid search (ProofResult.grid_first), and not for a story found without it."""
    from types import SimpleNamespace

    from solvent.reports.story import replay_command
    from solvent.verdicts.check import Violation

    policy = load_preset("percolator-gen-a")
    found = prove(policy, CLAIM, Bounds(accounts=2, events=1, effort=10_000_000), accepted_grid=True)
    # told at its least move, as check tells it (a story told as z3 found it asks --no-least-move too)
    cx = attrs.evolve(found.counterexample, move="told at its least move")
    found = attrs.evolve(found, counterexample=cx)
    violation = Violation(CLAIM, "z3", 0, cx.story, cx.steps[0], "z3")

    def command(proof: ProofResult) -> str:
        verdict = SimpleNamespace(invariant=catalog.get(CLAIM), proof=proof)
        report = SimpleNamespace(source="percolator-gen-a", findings_dir=None, policy=policy, verdicts=[verdict])
        return replay_command(violation, report)[0]

    # check's question: its N, the units its allotment gave the question and check's order
    expected = f"solvent prove percolator-gen-a --invariant {CLAIM} --accounts 2 --effort 10,000,000 --as-check"
    assert command(found) == expected + " --grid-first"
    assert command(attrs.evolve(found, grid_first=False)) == expected


def _grid_story(factor: int) -> Story:
    """Gen A's flat-winner story as z3's grid found it and tidy left it (mark 4 → 2, alice long 2 lots,
    bob flat with 3 of profit), every price and amount times ``factor``."""
    accounts = (
        Account("alice", cash_quote=factor, size_lots=2, cost_quote=8 * factor, principal_quote=factor),
        Account("bob", cash_quote=3 * factor, reserve_slope_quote=factor),
        Account(
            "liquidity",
            Role.LIQUIDITY,
            cash_quote=factor,
            size_lots=-2,
            cost_quote=-8 * factor,
            reserve_slope_quote=factor,
        ),
        *system_accounts(),
    )
    book = Book(Market("PERP", 4 * factor, previous_mark_quote=factor), accounts, net_deposits_quote=5 * factor)
    return Story(book, (MarkPrice(2 * factor),))


def test_a_story_is_multiplied_to_the_policys_scale_only_below_its_span() -> None:
    """plain_book.at_policy_scale: a mark more than MARK_SPAN (100) times below the policy's 10,000 is
    multiplied up by 10,000 // mark (4 → 10,000; 96 → 9,984), every amount with it and the story still
    failing; a mark of 100, at the span's edge, is left as it is."""
    policy = load_preset("percolator-gen-a")
    claim = catalog.get(CLAIM)
    bounds = Bounds(accounts=2, events=1)
    for factor, mark in ((1, 10_000), (24, 9_984), (25, 100)):
        story = _grid_story(factor)
        assert breaks(policy, claim, story, bounds)
        scaled = at_policy_scale(policy, claim, story, bounds)
        assert scaled.book.market.mark_quote == mark and breaks(policy, claim, scaled, bounds)
        multiple = mark // story.book.market.mark_quote
        assert scaled.events[0].price_quote == story.events[0].price_quote * multiple
        assert scaled.book.account("bob").cash_quote == story.book.account("bob").cash_quote * multiple
        assert scaled.book.account("alice").size_lots == 2  # positions as they were


def test_a_plainly_told_move_beyond_any_probe_bound_is_said_unknown(monkeypatch) -> None:
    """A story whose own move more than doubles the mark (+300% here, told as given: ``told_plainly``
    stubbed to leave it) lies beyond every move bound the bisection's probes can ask (at most 100%):
    what a probe proved below is not said beside it, and nothing raises (drift's gallery run crashed on
    such a story before this guard)."""
    import time
    from types import SimpleNamespace

    from solvent.solver import smallest_move

    policy, claim = load_preset("percolator-gen-a"), catalog.get("no-haircut")
    system = system_accounts()
    alice = Account("alice", cash_quote=15_000, size_lots=-1, cost_quote=-10_000, principal_quote=15_000)
    book = Book(
        Market("PERP", 10_000), (alice, Account("liquidity", Role.LIQUIDITY, size_lots=1, cost_quote=10_000), *system)
    )
    story = Story(attrs.evolve(book, net_deposits_quote=15_000), (MarkPrice(40_000),))
    monkeypatch.setattr(smallest_move, "told_plainly", lambda policy, invariant, story, bounds: story)
    state = SimpleNamespace(proved=[10_000], probes=[])
    scope = Bounds(accounts=1, min_price=10_000)
    told = smallest_move._plainly(policy, claim, SimpleNamespace(story=story), scope, state, 0, time.perf_counter())
    assert told.move_ppm == 3_000_000 and told.status is ThresholdStatus.UNKNOWN and told.proved_ppm is None


def test_a_story_far_above_the_policys_scale_is_divided_down_to_it() -> None:
    """plain_book.at_policy_scale above the span: a mark more than MARK_SPAN times the policy's 10,000
    (1,040,000) is divided by 1,040,000 // 10,000 = 104 (prices and amounts toward zero, positions kept)
    and still fails; a mark of exactly 1,000,000, at the span's edge, is left as it is."""
    policy = load_preset("percolator-gen-a")
    claim = catalog.get(CLAIM)
    bounds = Bounds(accounts=2, events=1)
    for factor, mark in ((260_000, 10_000), (250_000, 1_000_000)):
        story = _grid_story(factor)
        assert breaks(policy, claim, story, bounds)
        scaled = at_policy_scale(policy, claim, story, bounds)
        assert scaled.book.market.mark_quote == mark and breaks(policy, claim, scaled, bounds)
        divisor = story.book.market.mark_quote // mark
        assert scaled.events[0].price_quote == story.events[0].price_quote // divisor
        assert scaled.book.account("bob").cash_quote == story.book.account("bob").cash_quote // divisor
        assert scaled.book.account("alice").size_lots == 2
        assert scaled.book.net_deposits_quote == scaled.book.total_cash_quote()


def _drift_story(sol: int) -> Story:
    """drift's spot-isolated z3 story as its gallery page told it (USDC 983 billion a SOL): alice long 1 lot
    with 98.33 USDC of spot and no cash, a maker short; ``sol`` quanta of the collateral asset SOL on
    alice's account (the asset on the book either way)."""
    mark, spot, cash = 983_284_171, 98_328_418, 983_284_172
    none = (0,)
    alice = Account("alice", spot_quote=spot, size_lots=1, cost_quote=mark, principal_quote=spot, asset_balances=(sol,))
    maker = Account("maker", cash_quote=cash, size_lots=-1, cost_quote=-mark, principal_quote=cash, asset_balances=none)
    system = (Account("liquidity", Role.LIQUIDITY, asset_balances=none), *system_accounts(assets=1))
    assets = (Asset("SOL", 100, net_deposits=sol),)
    book = Book(Market("PERP", mark), (alice, maker, *system), net_deposits_quote=spot + cash, assets=assets)
    return Story(book, (MarkPrice(893_894_699),))


def test_a_book_with_an_asset_no_account_holds_is_brought_to_scale_too() -> None:
    """drift's asset book carries SOL whether or not anyone holds it: where no account holds any, the
    perp's prices and quote amounts are divided down as on a book without assets (983,284,171 → 10,000,
    SOL's oracle price left in its own unit); one quantum of SOL on alice's account and the book is left."""
    policy, claim = load_preset("drift"), catalog.get("spot-isolated")
    bounds = for_policy(Bounds(accounts=2, assets=1, event_kinds=("mark", "asset-price")), policy)
    story = _drift_story(0)
    scaled = at_policy_scale(policy, claim, story, bounds)
    assert breaks(policy, claim, story, bounds) and breaks(policy, claim, scaled, bounds)
    assert scaled.book.market.mark_quote == 10_000 and scaled.book.assets == story.book.assets
    held = _drift_story(1)
    assert breaks(policy, claim, held, bounds) and at_policy_scale(policy, claim, held, bounds) == held


def test_a_move_to_almost_nothing_is_cut_before_the_book_is_divided_and_the_fund_keeps_its_floor() -> None:
    """drift's no-haircut z3 story inside check (session 34): alice long 1 lot at 983,284,171 with
    98,328,418 of spot, the fund at its floor of 1 quantum, and the mark to 2. Divided by 98,328 as it is,
    the move's target is 0, no price; its least move (to 893,894,699) is cut first and then divided
    (10,000 → 9,090, alice's spot 1,000). Toward zero the fund's 1 quantum would go too, below its
    floor and outside the book's assumptions; rounded up, alice's 1,001 pays the deficit: the traders'
    balances go toward zero and the fund keeps its quantum (``plain_book._rescaled``'s ``system``)."""
    from solvent.solver.plain_book import told_plainly

    policy, claim = load_preset("drift"), catalog.get("no-haircut")
    bounds = for_policy(Bounds(accounts=2, assets=1, event_kinds=("mark", "asset-price")), policy)
    mark, spot, none = 983_284_171, 98_328_418, (0,)
    alice = Account("alice", spot_quote=spot, size_lots=1, cost_quote=mark, asset_balances=none)
    liquidity = Account("liquidity", Role.LIQUIDITY, size_lots=-1, cost_quote=-mark, asset_balances=none)
    fund, *system = system_accounts(assets=1)
    fund = attrs.evolve(fund, cash_quote=1)
    book = Book(
        Market("PERP", mark), (alice, liquidity, fund, *system), net_deposits_quote=spot + 1, assets=(Asset("SOL", 1),)
    )
    story = Story(book, (MarkPrice(2),))
    assert breaks(policy, claim, story, bounds)
    assert at_policy_scale(policy, claim, story, bounds) == story  # a move to 0 breaks nothing
    told = told_plainly(policy, claim, story, bounds)
    assert breaks(policy, claim, told, bounds)
    assert (told.book.market.mark_quote, told.events[0].price_quote) == (10_000, 9_090)
    assert told.book.account("alice").spot_quote == 1_000 and told.book.account("insurance_fund").cash_quote == 1


def _drift_waterfall_story() -> Story:
    """drift's waterfall-order z3 story inside check (session 34), tidied: alice short 101 lots at a mark of
    1 quantum with 11 of spot, the fund holding 100,000.000002 USDC, the mark to 980,296,051. The fund
    pays at most its cap of USDC 100,000 a bankruptcy (``cap_quote``), so the socialized loss runs while
    it still holds money only where one deficit exceeds that cap."""
    none = (0,)
    alice = Account("alice", spot_quote=11, size_lots=-101, cost_quote=-101, asset_balances=none)
    liquidity = Account("liquidity", Role.LIQUIDITY, size_lots=101, cost_quote=101, asset_balances=none)
    fund, *system = system_accounts(assets=1)
    fund = attrs.evolve(fund, cash_quote=100_000_000_002)
    book = Book(
        Market("PERP", 1),
        (alice, liquidity, fund, *system),
        net_deposits_quote=100_000_000_013,
        assets=(Asset("SOL", 1),),
    )
    return Story(book, (MarkPrice(980_296_051),))


def test_a_story_only_beyond_the_policys_scale_says_z3_proved_none_at_it() -> None:
    """smallest_move._at_scale_question: z3 on the books at the policy's scale (prices within 100x of its
    10,000, at most 100 lots, balances within 100 lots' notional at the top: ±100,000,000 quanta).
    drift's waterfall-order needs a deficit above its fund's USDC 100,000 cap, a thousand times that
    notional: proved none there; its no-haircut (one quantum socialized) is refuted there, on a book
    inside those bounds. Where the bisection refuted no probe, ``_plainly`` says the first (and tells the
    second's story)."""
    import time
    from types import SimpleNamespace

    from solvent.solver import smallest_move

    policy = load_preset("drift")
    scope = for_policy(Bounds(accounts=1, assets=1, event_kinds=("mark", "asset-price")), policy)
    verdict, story, asked, units = smallest_move._at_scale_question(
        policy, catalog.get("waterfall-order"), scope, 5_000_000
    )
    assert verdict is Verdict.PROVED and story is None and 0 < units <= 5_000_000
    assert (
        asked
        == "any book of 1 trader, prices 100..1,000,000 quanta, at most 100 lots, balances within ±100,000,000 quanta"
    )
    verdict, story, _, _ = smallest_move._at_scale_question(policy, catalog.get("no-haircut"), scope, 5_000_000)
    assert verdict is Verdict.REFUTED and not beyond_scale(policy, story.book)
    claim = catalog.get("waterfall-order")
    state = SimpleNamespace(proved=[], probes=[])
    told = smallest_move._plainly(
        policy, claim, SimpleNamespace(story=_drift_waterfall_story()), scope, state, 0, time.perf_counter()
    )
    assert told.none_at_scale == asked and told.status is ThresholdStatus.UNKNOWN
    assert told.text.startswith(
        f"fails only beyond the policy's scale: z3 proved that no book at it breaks the claim ({asked})"
    )
    assert beyond_scale(policy, told.counterexample.story.book)  # the story is still z3's, beyond the scale
