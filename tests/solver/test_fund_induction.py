"""insurance-fund-non-negative at K > 1 by induction over events (solver/fund_facts.py ``induction``).

The step: from any book of N traders whose fund is at or above zero and holds no position, its marks
within the bounds, one accepted mark move keeps the claim and that premise (z3, exact, the fund's
turn lemma instantiated at each turn), at each clock the question reaches (the engine branches on
the book's clock: OKX's fund-drawdown window); the start: the question's starting book meets the
premise. OKX at N = 3, K = 3 was undecided within 20M (17.8M spent, the claim out of units in both
phases); proved so in 4.62M (three one-step builds of 0.63M, the steps 16K, 0.30M and 0.21M)
(docs/solver-notes.md#bitmexs-payer-facts-and-the-last-bybit-and-okx-cells-session-20).

Since session 21 the step is proved at clocks that stand for every clock where they are few
(``fund_facts.clocks``, ``clock.every``): clock 0 alone where the policy reads no clock, OKX's
clocks 0..7 (its window of 8), and the claim then holds after any number of events (any K)
(docs/solver-notes.md#the-funds-induction-at-any-k-session-21).
"""

from __future__ import annotations

import pytest
import z3

from solvent.properties import catalog
from solvent.rules.book import Role
from solvent.rules.presets import resolve_policy
from solvent.solver import effort, fund_facts, payer_direct, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import FUND_INDUCTION, FUND_INDUCTION_ANY_K, prove
from solvent.solver.verdicts import Verdict

FUND = catalog.get("insurance-fund-non-negative")


def _built(preset: str, accounts: int, events: int = 2):
    policy = resolve_policy(preset)
    bounds = for_policy(Bounds(accounts=accounts, events=events, effort=5_000_000), policy)
    cases, _ = payer_direct.prepared(policy, bounds, FUND.id)
    assert cases is not None
    return policy, bounds, fund_facts.step_book(policy, bounds, cases.facts, 5_000_000)


def _answer(premise, claim) -> str:
    return wall.check([*premise, z3.Not(claim)], [], 5_000_000, 60.0).result


def test_the_step_holds_and_needs_both_halves_of_its_premise() -> None:
    """OKX, two traders: the step is valid; without the fund's cash bound z3 finds a book (a fund
    below zero stays there), and without its flatness too (a fund holding a position pays its
    settlement: what lets the claim hold from any state is that OKX's fund never takes one)."""
    policy, bounds, built = _built("okx", 2)
    assert _answer(*fund_facts.step_question(policy, FUND, bounds, built)) == "unsat"
    assert _answer(*fund_facts.step_question(policy, FUND, bounds, built, fund=False)) == "sat"
    assert _answer(*fund_facts.step_question(policy, FUND, bounds, built, flat=False)) == "sat"


def test_the_step_proves_the_premise_again_after_the_move() -> None:
    """What the step proves of the book after the move implies the catalog's claim there and the
    premise again: the fund's cash and flatness, the new mark and the previous one within bounds."""
    policy, bounds, built = _built("binance", 2)
    _, claim = fund_facts.step_question(policy, FUND, bounds, built)
    [after] = built.steps
    book = after.after
    fund = book.role(Role.INSURANCE_FUND)
    market = book.market
    for consequence in (
        after.obligation(policy, FUND),
        fund.cash_quote >= 0,
        fund.size_lots == 0,
        market.mark_quote >= bounds.min_price,
        market.previous_mark_quote <= bounds.max_price,
    ):
        assert _answer([claim], consequence) == "unsat"


def test_bitmexs_fund_holds_positions_so_the_start_does_not_meet_the_premise() -> None:
    """BitMEX's fund takes over what it liquidates (a position holder): its starting book may hold a
    position, so the start lemma has a model and no induction is claimed. Nor is the turn lemma
    proved since session 20: a turn's deficit that ADL leaves is the fund's, below zero if need be
    (``rules.bankruptcy.fund_takes_over``), so the fund's claim on bitmex gets no facts at all."""
    policy = resolve_policy("bitmex")
    bounds = for_policy(Bounds(accounts=2, events=2, effort=5_000_000), policy)
    assert _answer(*fund_facts.start_question(policy, bounds)) == "sat"
    cases, queries = payer_direct.prepared(policy, bounds, FUND.id)
    assert cases is None
    assert [q.result for q in queries if q.name.startswith(fund_facts.LEMMA)] == ["sat"]
    okx, okx_bounds, okx_built = _built("okx", 2)
    assert _answer(*fund_facts.start_question(okx, okx_bounds)) == "unsat"


def test_the_induction_is_asked_at_k_above_one_on_mark_moves_only() -> None:
    assert fund_facts.inducts(FUND.id, Bounds(accounts=3, events=3))
    assert not fund_facts.inducts(FUND.id, Bounds(accounts=3, events=1))
    assert not fund_facts.inducts("claims-backed/system-holders", Bounds(accounts=3, events=3))
    assert not fund_facts.inducts(FUND.id, Bounds(accounts=3, events=3, event_kinds=("mark", "funding")))


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_okx_at_two_moves_is_proved_for_any_k_by_a_step_at_each_clock_of_its_window() -> None:
    """OKX, N = 2, K = 2 within 10M: the claim proved at N = 2 for any K (3,869,950 units in all: the
    turn lemma 3,303, the start 1,602, eight one-step builds of 348,000 and the step at each clock of
    OKX's window of 8, 6,833 at clock 0, 34,912 at clock 1, then 35,745, 36,080, 51,479, 35,848,
    36,078 and 36,080, then the transfers at K = 2, their build 807,600 and 390). Clock 8 builds
    clock 0's terms (``clock.every``), so no event's step is left out. The steps are different
    questions: OKX's fund-drawdown window reads the clock. Session 20 asked clocks 0 and 1 only:
    K ≤ 2 in 1,550,640 units (the first two steps the same to the unit)."""
    result = prove("okx", FUND.id, Bounds(accounts=2, events=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.method.startswith(
        FUND_INDUCTION_ANY_K.format(n=2, at="clocks 0..7, every clock's", kept=fund_facts.KEPT)
    )
    claim = next(o for o in result.obligations if o.obligation == FUND.id)
    assert claim.scope.events is None and claim.scope.accounts == 2
    steps = [q for q in result.queries if "one accepted mark move at clock" in q.name]
    assert [q.name.split(" at clock ")[1].split()[0] for q in steps] == [str(c) for c in range(8)]
    assert [q.result for q in steps] == ["unsat"] * 8 and steps[0].units != steps[1].units
    assert [q.units for q in steps[:2]] == [6_833, 34_912]
    transfers = next(o for o in result.obligations if o.obligation != FUND.id)
    assert transfers.verdict is Verdict.PROVED and transfers.scope.events == 2
    # the headline takes the transfers' K, the claim's own line any K
    assert "(N ≤ 2, K ≤ 2 (mark)" in result.summary() and "proved (N ≤ 2, any K (mark)" in result.summary()
    assert result.units == 3_869_950


def test_where_the_other_clocks_do_not_fit_the_question_keeps_its_own_k() -> None:
    """OKX, N = 2, K = 2 within 3M: the induction's share (half) fits the question's own two clocks
    but not six more of the largest step so far (382,912 units each): they are not asked, and the
    answer is session 20's to the unit (K ≤ 2, 1,550,640 units)."""
    result = prove("okx", FUND.id, Bounds(accounts=2, events=2, effort=3_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.method.startswith(FUND_INDUCTION.format(k=2, n=2, kept=fund_facts.KEPT))
    claim = next(o for o in result.obligations if o.obligation == FUND.id)
    assert claim.scope.events == 2
    steps = [q for q in result.queries if "one accepted mark move at clock" in q.name]
    assert len(steps) == 2 and result.units == 1_550_640


def test_a_policy_that_reads_no_clock_needs_the_step_at_clock_0_only() -> None:
    """Binance reads no clock: every clock builds clock 0's terms (tests/solver/test_clock_turns.py),
    so one step stands for every event: any K, one build and one step where K = 2 asked two."""
    result = prove("binance", FUND.id, Bounds(accounts=2, events=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.method.startswith(FUND_INDUCTION_ANY_K.format(n=2, at="clock 0, every clock's", kept=fund_facts.KEPT))
    claim = next(o for o in result.obligations if o.obligation == FUND.id)
    assert claim.scope.events is None
    steps = [q for q in result.queries if "one accepted mark move at clock" in q.name]
    assert [q.result for q in steps] == ["unsat"] and "at clock 0 " in steps[0].name


def test_a_step_beyond_the_questions_clocks_that_fails_leaves_k_as_asked(monkeypatch) -> None:
    """A step at a clock beyond the question's own that does not hold (here clock 2's claim made
    false: one token; the first clock beyond the question's, where it was clock 5 before session 28:
    three steps built, not six, 1,938,944 units in all against 3,137,078) does not fail the
    induction: the claim stands for the question's K, and the failed step's units are counted.
    Asked at K = 2 the steps at clocks 0 and 1 are the proof."""
    real = fund_facts.step_question

    def step_question(policy, invariant, bounds, built, **kw):  # noqa: ANN001, ANN003
        premise, claim = real(policy, invariant, bounds, built, **kw)
        return (premise, z3.BoolVal(False)) if built.book.clock == 2 else (premise, claim)

    monkeypatch.setattr(fund_facts, "step_question", step_question)
    with effort.tallied() as tally:
        result = prove("okx", FUND.id, Bounds(accounts=2, events=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    claim = next(o for o in result.obligations if o.obligation == FUND.id)
    assert claim.scope.events == 2
    assert not any("at clock 2" in line for line in result.lemmas)
    steps = [q for q in result.queries if "one accepted mark move at clock" in q.name]
    assert [q.result for q in steps][-1] == "sat" and "at clock 2 " in steps[-1].name
    assert result.units == tally.units  # every unit spent is listed, the failed step's too


@pytest.mark.deep  # 9.05M units: 31 s at load 16
def test_okx_at_three_traders_and_three_moves_is_proved() -> None:
    """The K = 3 table's cell: undecided within 20M at f3323ad (17,787,525 units); 4,615,892 at
    session 20's end (K ≤ 3); for any K since session 21, the step at OKX's eight clocks (9,050,126)."""
    result = prove("okx", FUND.id, Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    claim = next(o for o in result.obligations if o.obligation == FUND.id)
    assert claim.scope.events is None
    assert result.units <= 10_000_000


@pytest.mark.deep  # 14.1M units: 45 s at load 15
def test_okxs_claims_backed_at_three_moves_has_room_for_the_funds_steps() -> None:
    """claims-backed at N = 3, K = 3 asks the fund's claim within half of its share
    (``claims_backed._by_fund``): with the turn lemma and the induction in a quarter of that, the
    third one-step build ran out (undecided, 19,107,838 units); in half, proved in 9,645,108.
    Since the per-trader lemmas are asked at OKX's eight clocks (session 20, solver/clock.py) the
    traders' part spends about 4.5M more: 14,102,957 at dfb3987 and after session 21's any-K fund
    induction (its extra clocks do not fit here), still proved within the 20M."""
    result = prove("okx", "claims-backed", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units <= 15_000_000
