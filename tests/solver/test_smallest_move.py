"""z3 stories told at their least move (``solvent.solver.smallest_move``): the move found breaks the
claim, a move one ppm (z3, every book) or one tick (the engine, the story's book) smaller does not,
the story starts at the policy's own scale, and every story is replayed before it is believed."""

from __future__ import annotations

import json
import re

import attrs
import pytest

import solvent.solver.plain_book as plain_book
import solvent.solver.smallest_move as sm
from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.reports import json_report, markdown, text
from solvent.rules.events import Deposit, MarkPrice
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.refinement import replay
from solvent.solver.thresholds import DEFAULT_MIN_PRICE, ThresholdStatus
from solvent.solver.verdicts import SpuriousCounterexample, Verdict
from solvent.verdicts.check import check_policy
from solvent.verdicts.proofs import ProofBudget

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `bybit`, `gmx` and `report` (check's z3 finding): 20 s each under load, built on both workers
#: (session 25)
pytestmark = pytest.mark.xdist_group("smallest-move")

#: Bybit without its trading fees: the least-move machinery under test, on the boundary it decides
#: exactly. With the preset's 0.055% taker fee (the fee to close in the bankruptcy price) z3 bounds
#: the same claim between 9,999 and 10,001 ppm within the default budget (21M units).
_BYBIT = load_preset("bybit")
BYBIT = attrs.evolve(_BYBIT, fees=attrs.evolve(_BYBIT.fees, taker_ppm=0, maker_ppm=0))
GMX = load_preset("gmx-v2")
NO_HAIRCUT = catalog.get("no-haircut")
NO_NEGATIVE = catalog.get("no-negative-equity")
#: what a story is replayed within: the proof's balance and position bounds, any price
ANY_PRICE = Bounds(accounts=2, events=1)


def _refuted(policy, invariant):
    with effort.question():
        result = prove(policy, invariant, Bounds(accounts=2, events=1, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED
    return result


@pytest.fixture(scope="module")
def bybit():
    result = _refuted(BYBIT, NO_HAIRCUT)
    return result, sm.smallest_move(BYBIT, NO_HAIRCUT, result.counterexample, result.bounds)


@pytest.fixture(scope="module")
def gmx():
    result = _refuted(GMX, NO_NEGATIVE)
    return result, sm.smallest_move(GMX, NO_NEGATIVE, result.counterexample, result.bounds)


def _one_tick_less(story: Story) -> Story:
    before, after = story.book.market.mark_quote, story.events[0].price_quote
    step = 1 if after > before else -1
    return attrs.evolve(story, events=(MarkPrice(after - step),))


def _breaks(policy, invariant, story: Story) -> bool:
    return replay(policy, invariant, story, ANY_PRICE).violates


@pytest.mark.parametrize("case", ["bybit", "gmx"])
def test_the_least_move_breaks_and_one_tick_less_does_not(case, request) -> None:
    policy, invariant = {"bybit": (BYBIT, NO_HAIRCUT), "gmx": (GMX, NO_NEGATIVE)}[case]
    original, move = request.getfixturevalue(case)
    story = move.counterexample.story
    assert _breaks(policy, invariant, story)
    assert not _breaks(policy, invariant, _one_tick_less(story))
    # z3's first story moved the mark far more than the one told
    assert move.story_move_ppm == sm.move_ppm(story) < move.original_ppm == sm.move_ppm(original.counterexample.story)


def test_bybit_needs_a_move_of_at_least_one_percent_and_a_ppm(bybit) -> None:
    """Bybit's loosest initial rate is 1% (100x): a short opened there is bankrupt past the fund
    one ppm beyond a 1% rise. z3 proved 10,000 ppm safe for every book of one trader and refuted
    10,001 with a replayed story; the story at the policy's own scale (10,000 quanta a lot, where a
    tick is 100 ppm) needs 101 ticks."""
    _, move = bybit
    assert move.status is ThresholdStatus.EXACT
    assert (move.proved_ppm, move.move_ppm) == (10_000, 10_001)
    assert move.at_scale and move.counterexample.story.book.market.mark_quote == sm.scale_mark(BYBIT) == 10_000
    assert move.story_move_ppm == 10_100
    assert move.text.startswith("needs a move of at least 1.0001% (10,001 ppm of the mark)")
    assert move.units > 0 and move.probes <= sm.DEFAULT_BUDGET.probes


def test_each_side_of_the_boundary_is_what_z3_says(gmx) -> None:
    """Asked again, apart from the bisection: no book of the scope breaks the claim with a move of
    at most the proved bound; one ppm more, a story does."""
    _, move = gmx
    assert move.status is ThresholdStatus.EXACT
    assert move.move_ppm == move.proved_ppm + 1
    scope = Bounds(accounts=move.accounts, events=1, min_price=DEFAULT_MIN_PRICE, effort=10_000_000)
    with effort.question():
        safe = prove(GMX, NO_NEGATIVE, attrs.evolve(scope, max_move_ppm=move.proved_ppm), minimize=False)
    with effort.question():
        broken = prove(GMX, NO_NEGATIVE, attrs.evolve(scope, max_move_ppm=move.move_ppm), minimize=False)
    assert safe.verdict is Verdict.PROVED
    assert broken.verdict is Verdict.REFUTED
    assert sm.move_ppm(broken.counterexample.story) <= move.move_ppm


def test_amounts_at_the_policy_scale(bybit) -> None:
    """No balance or position of z3's 10¹²-sized choices is left: the story is a few lots at the
    scenarios' price, and the system accounts hold nothing negative."""
    _, move = bybit
    book = move.counterexample.story.book
    assert all(abs(a.size_lots) <= 100 for a in book.accounts)
    assert all(abs(a.cash_quote) <= 10**6 and a.cash_quote >= 0 for a in book.accounts)
    assert all(a.window_pnl_quote == 0 and a.cost_quote == a.size_lots * 10_000 for a in book.accounts)


def test_least_ticks_from_a_concrete_book(bybit) -> None:
    """On the engine alone: a story moved further than it needs is cut back to the least move from
    its book, which breaks the claim where one tick less does not."""
    _, move = bybit
    story = move.counterexample.story
    before = story.book.market.mark_quote
    further = attrs.evolve(story, events=(MarkPrice(before + 3 * (story.events[0].price_quote - before)),))
    cut = sm.least_ticks(BYBIT, NO_HAIRCUT, further, ANY_PRICE)
    assert cut == story
    assert sm.least_ticks(BYBIT, NO_HAIRCUT, story, ANY_PRICE) == story


#: a minimization of two probes (the least move from z3's own book, refuted at once, when it is
#: within 100%; else no move, proved, and the largest, refuted) and of three: the machinery end to
#: end, undecided below, at a tenth of the default budget's time
TWO_PROBES = sm.MoveBudget(probes=2)
THREE_PROBES = sm.MoveBudget(probes=3)


def test_a_story_the_engine_does_not_confirm_is_a_loud_error(bybit, monkeypatch) -> None:
    """A minimizer that cut one tick too many would show a story that does not break the claim:
    the final replay refuses it (SpuriousCounterexample), never a quiet verdict. The final replay
    comes after the bisection whatever it decided: two probes reach it, whatever z3's first story
    (one did while its own move was within 100%; since the held releases z3's first story moves
    the mark from 6 to 2,077 quanta, so no move and the largest are probed first)."""
    original, _ = bybit
    real = sm.least_ticks
    monkeypatch.setattr(sm, "least_ticks", lambda *a: _one_tick_less(real(*a)))
    with pytest.raises(SpuriousCounterexample, match="does not break it on the concrete engine"):
        sm.smallest_move(BYBIT, NO_HAIRCUT, original.counterexample, original.bounds, TWO_PROBES)


def test_only_one_mark_move_stories(bybit) -> None:
    original, _ = bybit
    cx = original.counterexample
    longer = attrs.evolve(cx, story=attrs.evolve(cx.story, events=(Deposit("alice", 1), *cx.story.events)))
    assert not sm.applies(longer, NO_HAIRCUT)
    assert not sm.applies(cx, NO_NEGATIVE)  # another claim's story
    assert sm.told_at_least_move(BYBIT, NO_HAIRCUT, original, None) is original  # no budget: as found
    grid = attrs.evolve(original, bounds=attrs.evolve(original.bounds, price_grid=(10_000, 10_100)))
    assert sm.told_at_least_move(BYBIT, NO_HAIRCUT, grid) is grid


@pytest.fixture(scope="module")
def report():
    return check_policy(BYBIT, invariants=["no-haircut"], proof_budget=ProofBudget(total=10_000_000))


def test_check_tells_the_z3_finding_at_its_least_move(report) -> None:
    verdict = report.verdicts[0]
    z3_found = [x for x in verdict.violations if x.origin == "z3"]
    assert z3_found and z3_found[0].move is not None
    found = z3_found[0]
    # within check's own budget (verdicts.proofs.CHECK_MOVES) the answer is exact, as in prove
    assert found.move.exact and (found.move.proved_ppm, found.move.move_ppm) == (10_000, 10_001)
    # rewritten from an empty book (deposits and trades), the failing move is still the least one
    assert isinstance(found.step.event, MarkPrice)
    assert found.step.before.market.mark_quote == 10_000
    assert sm.move_ppm(Story(found.step.before, (found.step.event,))) == found.move.story_move_ppm
    line = f"smallest move for no-haircut: {found.move.text}"
    assert " ".join(line.split()) in " ".join(text.render(report).split())
    assert "**Smallest move for no-haircut: " in markdown.render([report])
    data = json.loads(json_report.render([report]))
    moved = [f["smallest_move"] for f in data["policies"][0]["findings"] if "smallest_move" in f]
    assert moved and moved[0]["refuted_at_ppm"] == found.move.move_ppm
    assert moved[0]["story_move_ppm"] == found.move.story_move_ppm


def test_the_line_says_what_was_decided(bybit) -> None:
    """Exact: "needs a move of at least"; bounded: both sides and "undecided in between"; no proof
    below: said, never a "needs"."""
    _, move = bybit
    bounded = attrs.evolve(move, status=ThresholdStatus.BOUNDED, move_ppm=8_039, proved_ppm=5_275)
    assert bounded.text.startswith(
        "breaks with a move of 0.8039%; z3 proved that no move of at most 0.5275% does (any book of 1 trader, "
    )
    assert "undecided in between" in bounded.text and "needs" not in bounded.text
    assert bounded.to_data()["needs_move_ppm"] is None
    only_zero = attrs.evolve(bounded, proved_ppm=0)
    assert only_zero.text.startswith("breaks with a move of 0.8039%; no smaller move was proved safe")
    assert "holds when the mark does not move" in only_zero.text
    unproved = attrs.evolve(bounded, proved_ppm=None)
    assert "no smaller move was proved safe" in unproved.text and "does not move" not in unproved.text
    assert move.to_data()["needs_move_ppm"] == 10_001
    any_move = attrs.evolve(move, move_ppm=1, proved_ppm=0)
    assert any_move.text.startswith("breaks with any move: one of 0.0001% (1 ppm of the mark) already does")


def test_a_book_a_thousand_times_too_large_is_scaled_back(bybit) -> None:
    """The told story with every balance and position a thousand times larger still fails; tidying
    it divides it back while the engine still fails the claim at the same event, and stops where
    halving it once more (every account at once) would not."""
    _, move = bybit
    story = move.counterexample.story
    big_accounts = tuple(
        attrs.evolve(
            a, **{f: 1000 * getattr(a, f) for f in ("cash_quote", "size_lots", "cost_quote", "principal_quote")}
        )
        for a in story.book.accounts
    )
    big_book = attrs.evolve(story.book, accounts=big_accounts)
    big = attrs.evolve(story, book=attrs.evolve(big_book, net_deposits_quote=big_book.total_cash_quote()))
    assert _breaks(BYBIT, NO_HAIRCUT, big)
    small = sm.tidy(BYBIT, NO_HAIRCUT, big, ANY_PRICE)
    assert _breaks(BYBIT, NO_HAIRCUT, small)
    sizes = [abs(a.size_lots) for a in small.book.accounts]
    assert max(sizes) < 2_000
    names = {a.name for a in small.book.accounts if a.role.value != "liquidity"}
    halved = attrs.evolve(small, book=plain_book._divided(small.book, names, 2))
    assert halved.book == small.book or not _breaks(BYBIT, NO_HAIRCUT, halved)


def test_the_html_report_says_it_too(report) -> None:
    from solvent.reports import html_report

    assert "<strong>Smallest move for no-haircut: " in html_report.render([report])


@pytest.mark.deep  # solvent prove at its own budget: 4 minutes of the suite under load
def test_solvent_prove_tells_its_story_at_the_least_move() -> None:
    """The command check prints to show a z3 story again tells it the same way (on the preset, at
    ``solvent prove``'s own budget, which decides the boundary exactly)."""
    from click.testing import CliRunner

    from solvent.cli import main

    # bybit declares both margin modes: the story is the all-cross scope's, and the command says so
    args = ["prove", "bybit", "--invariant", "no-haircut", "--accounts", "2", "--isolated", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "needs a move of at least 1.0001% (10,001 ppm of the mark)" in out
    # the preset itself, with its 0.055% taker fee: the least story moves one tick past 1% from
    # 10,000 quanta, a long falling to 9,899 or a short rising to 10,101 (which side is z3's model:
    # the short's bankruptcy price is written over one division since issue 18), deleveraged at the
    # price that also covers its fee to close; told from an empty book (solver.from_empty, as check
    # tells it), the mark at 10,000 just before z3's move
    events = result.output.split("  events:\n", 1)[1].split("  transfers", 1)[0]
    marks = re.findall(r"MarkPrice\(price_quote=(\d+)\)", events)
    assert marks[-2:] in (["10000", "9899"], ["10000", "10101"]), events
    assert f"MarkPrice(price_quote={marks[-1]})  <- fails here" in events


def test_asked_again_the_same_story_and_units_within_three_probes(bybit) -> None:
    """The bisection is its own question (one fresh z3 context for all its probes, the collector
    held off): asked again after other work in this process, a minimization of three probes tells
    the same story with the same units."""
    original, _ = bybit
    first = sm.smallest_move(BYBIT, NO_HAIRCUT, original.counterexample, original.bounds, THREE_PROBES)
    _refuted(GMX, NO_NEGATIVE)  # other z3 work in between
    again = sm.smallest_move(BYBIT, NO_HAIRCUT, original.counterexample, original.bounds, THREE_PROBES)
    assert first.probes == 3 and first.units > 0
    assert (again.units, again.probes, again.status) == (first.units, first.probes, first.status)
    assert (again.move_ppm, again.proved_ppm) == (first.move_ppm, first.proved_ppm)
    assert again.counterexample.story == first.counterexample.story


@pytest.mark.deep  # the default budget's minimization twice more: 40 s of the suite under load
def test_asked_again_the_same_story_and_units(bybit) -> None:
    """The bisection is its own question (one fresh z3 context for all its probes, the collector
    held off): asked again after other work in this process, the minimization tells the same story
    with the same units."""
    original, move = bybit
    _refuted(GMX, NO_NEGATIVE)  # other z3 work in between
    again = sm.smallest_move(BYBIT, NO_HAIRCUT, original.counterexample, original.bounds)
    assert (again.units, again.probes, again.status) == (move.units, move.probes, move.status)
    assert again.counterexample.story == move.counterexample.story


def test_a_move_in_percent_groups_its_thousands() -> None:
    """A move beyond the policy's scale reads "98,029,605,000%" (drift's waterfall-order story), not a run of
    eleven digits; under 1,000% it reads as before."""
    from solvent.solver.smallest_move import _pct

    assert _pct(980_296_050_000_000) == "98,029,605,000%"
    assert _pct(123_456_789) == "12,345.6789%"
    assert (_pct(10_001), _pct(3_000_000), _pct(0)) == ("1.0001%", "300%", "0%")


def test_a_story_s_move_in_percent_groups_its_thousands() -> None:
    """The story's own line ("mark 1,000 → 980,296,051,000 (+98,029,605,000.00%)") groups the thousands as
    the prices beside it do; a move under 1,000% reads as before."""
    from solvent.reports.story import _percent

    assert _percent(980_296_050_000, 1_000) == "+98,029,605,000.00%"
    assert (_percent(-910, 10_000), _percent(0, 10_000), _percent(5, 0)) == ("−9.10%", "±0.00%", "from zero")


def test_a_smaller_replayed_story_is_the_move_said_to_break() -> None:
    """The line says the least move a replayed story breaks the claim with: the story's where it is
    below the bisection's least refuted probe and above what z3 proved safe (BitMEX's no-haircut told
    "breaks with a move of 1.0192%" beside a story of 0.01% at the policy's scale, session 35);
    exact only where the story is one of the proof's books and its move the next ppm above the proof."""
    bounded, unknown, exact = ThresholdStatus.BOUNDED, ThresholdStatus.UNKNOWN, ThresholdStatus.EXACT
    # outside the probes' scope (a move below their least price): said, never exact
    assert sm.refuted_at(10_192, 0, 100, bounded, within=False) == (100, bounded)
    assert sm.refuted_at(999_961, None, 30_500, unknown, within=False) == (30_500, unknown)
    assert sm.refuted_at(10_002, 10_000, 10_001, bounded, within=False) == (10_001, bounded)
    # one of the proof's books at the next ppm above the proof: exact; a ppm more: bounded
    assert sm.refuted_at(10_002, 10_000, 10_001, bounded, within=True) == (10_001, exact)
    assert sm.refuted_at(10_003, 10_000, 10_002, bounded, within=True) == (10_002, bounded)
    # no smaller story, or one at or below what was proved safe (another scope's book): unchanged
    assert sm.refuted_at(10_192, 0, 10_192, bounded, within=True) == (10_192, bounded)
    assert sm.refuted_at(10_192, 5_000, 5_000, bounded, within=False) == (10_192, bounded)
    assert sm.refuted_at(10_192, 5_000, 5_001, bounded, within=False) == (5_001, bounded)
    assert sm.refuted_at(10_001, 10_000, 9_000, exact, within=True) == (10_001, exact)
