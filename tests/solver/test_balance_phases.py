"""The frames F and P by the engine's phases where a turn reads the step's earlier resolutions
(``solver.compositional._by_phases``; docs/solver-notes.md#conservation-and-open-interest-on-checks-asset-books-session-31).

On drift's and mango-v4's asset books each turn resolves a depositor the deposit-index cut sank unless
the step resolved it already (``bankruptcy.sunk_by_turn`` reads ``ctx.outcomes``), so a turn run alone
from the book the phases before it left is not the turn of the run, and each whole gap nests every
turn's resolution in the others' conditions. Each turn is proved instead from a book of fresh
variables and free booleans for the other traders' earlier resolutions, instantiated with the step's
own guards; a turn's gaps are asked once (the same term at the other event, renamed at the other
trader's turn).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import z3

from solvent.rules import engine
from solvent.rules.ledger import Ctx, Reason
from solvent.solver import compositional, effort, prove
from solvent.solver.bounds import for_policy
from solvent.solver.compositional import _balances_by_phases, _Checker, _Failed, _small_book
from solvent.solver.story import slots
from solvent.solver.symbolic import variable_book
from solvent.solver.verdicts import Verdict
from tests.solver.test_units_counted import _check_bounds, _spent

REAL_TURN = engine.liquidation_turn


def _phases(preset: str, units: int = 1_000_000, variant: int = 0) -> tuple[str, _Checker]:
    """F by phases on check's all-cross book of ``preset`` (the lemmas' two traders holding its first
    asset), its ``variant``-th event (0: the mark move, 1: the asset's oracle move), within ``units``."""
    policy, bounds = _check_bounds(preset)
    bounds = for_policy(attrs.evolve(bounds, asset_names=tuple(c.name for c in policy.collateral)), policy)
    checker = _Checker(bounds, units)
    book = _small_book(bounds, traders=2)
    [slot] = slots(book, attrs.evolve(bounds, events=1))
    return _balances_by_phases(policy, book, slot.variants[variant], checker), checker


def _both(monkeypatch: pytest.MonkeyPatch, turn: Any) -> None:
    """``turn`` as the engine's liquidation turn, in the transition and in the phases alike."""
    monkeypatch.setattr(engine, "liquidation_turn", turn)
    monkeypatch.setattr(compositional, "liquidation_turn", turn)


def test_a_turns_book_is_fresh_only_with_terms_lifted() -> None:
    """``variable_book`` lifts a field that holds a Python int; on the book the settlement left (every
    field a term) it keeps the terms, so a phase "from any book" was asked of the run's own terms. With
    ``terms=True`` every field is a fresh variable: the turn's book, the same at every event."""
    policy, bounds = _check_bounds("mango-v4")
    bounds = for_policy(attrs.evolve(bounds, asset_names=tuple(c.name for c in policy.collateral)), policy)
    with effort.question():
        book = _small_book(bounds, traders=2)
        [slot] = slots(book, attrs.evolve(bounds, events=1))
        settled = engine.settle(policy, engine.opening(policy, book), slot.variants[0].event).book
        kept, _ = variable_book(settled, prefix="turn.")
        fresh, made = variable_book(settled, prefix="turn.", terms=True)
        cash = settled.account("alice").cash_quote
        assert kept.account("alice").cash_quote.eq(cash) and not z3.is_const(cash)
        assert str(fresh.account("alice").cash_quote) == "turn.alice.cash_quote"
        assert all(z3.is_const(v) and str(v).startswith("turn.") for v in made)


def test_each_turn_of_mangos_mark_move_keeps_every_balance_to_its_entries() -> None:
    """mango-v4's mark move: alice's turn's eight open gaps each split whole (448,000 units in all),
    bob's turn is alice's renamed (no query), every other phase's gaps simplify to 0, and the phases
    are the transition."""
    with effort.question():
        name, checker = _phases("mango-v4")
    assert name == "F (mark) by phases"
    asked = [q for q in checker.queries if q.units]
    assert all("alice's turn" in q.name and q.result == "unsat" for q in asked), asked
    assert (len(asked), sum(q.units for q in asked)) == (8, 448_000)
    (bob,) = [q for q in checker.queries if "bob's turn" in q.name]
    assert bob.units == 0 and "renamed" in bob.result


def test_the_oracle_moves_turns_are_the_mark_moves_terms() -> None:
    """After the mark move's phases, the oracle move's turns ask nothing: every gap is the same term
    (each turn starts from the same fresh book, whatever the event settled before it)."""
    with effort.question():
        policy, bounds = _check_bounds("mango-v4")
        bounds = for_policy(attrs.evolve(bounds, asset_names=tuple(c.name for c in policy.collateral)), policy)
        checker = _Checker(bounds, 1_000_000)
        book = _small_book(bounds, traders=2)
        [slot] = slots(book, attrs.evolve(bounds, events=1))
        for variant in slot.variants:
            _balances_by_phases(policy, book, variant, checker)
    turns = [q for q in checker.queries if "USDC) by phases" in q.name and "'s turn" in q.name]
    assert len(turns) == 2 and all(q.units == 0 and "proved already" in q.result for q in turns), turns


def test_mutant_without_the_earlier_resolutions_bobs_turn_is_not_the_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The free turn started from no earlier resolution (``_earlier_in_step`` giving none, as the
    phases did before this session): alice's turn holds, but bob's turn run alone reads alice as
    never resolved where the run's reads her turn's guards, so the phases fail there."""
    monkeypatch.setattr(compositional, "_earlier_in_step", lambda *a, **k: ())
    with effort.question(), pytest.raises(_Failed, match="bob's turn reads what the phases before it recorded"):
        _phases("mango-v4")


def test_more_earlier_resolutions_than_the_free_turn_has_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The free turn's booleans counted short (``_earlier_count`` 0): bob's turn reads two of alice's
    resolutions, which a free turn with none would not generalize (its lemma would speak of a turn
    that never sees alice resolved), so the phases refuse rather than prove it."""
    monkeypatch.setattr(compositional, "_earlier_count", lambda *a: 0)
    with (
        effort.question(),
        pytest.raises(_Failed, match="bob's turn reads 2 earlier resolutions of alice, more than 0"),
    ):
        _phases("mango-v4")


def test_mutant_a_turn_crediting_a_quantum_without_an_entry_fails_at_that_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that puts one quantum on its trader's cash and records no entry (in the transition too,
    so the decomposition still holds): that turn's gap is 1 from any book, and the lemma fails."""

    def crediting(policy: Any, ctx: Ctx, name: str) -> Ctx:
        ctx = REAL_TURN(policy, ctx, name)
        return ctx.update_account(name, cash_quote=ctx.account(name).cash_quote + 1)

    _both(monkeypatch, crediting)
    with effort.question(), pytest.raises(_Failed, match="alice's turn"):
        _phases("mango-v4")


def test_mutant_bobs_turn_alone_differing_is_asked_not_recalled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bob's turn records one more transfer to the fund, booked on both sides (it conserves): its gaps
    are not alice's renamed, so they are asked (and hold), not recalled: the renaming is checked term
    for term, not assumed."""

    def paying(policy: Any, ctx: Ctx, name: str) -> Ctx:
        ctx = REAL_TURN(policy, ctx, name)
        if name != "bob":
            return ctx
        return ctx.transfer(name, "insurance_fund", 1, Reason.INSURANCE_FUND)

    _both(monkeypatch, paying)
    with effort.question():
        name, checker = _phases("mango-v4")
    (bob,) = [q for q in checker.queries if "bob's turn, from any book" == q.name.split(": ", 1)[1]]
    assert name == "F (mark) by phases" and "holds" in bob.result
    assert any("bob's turn" in q.name and q.units > 0 for q in checker.queries)


def test_mangos_open_interest_is_proved_for_every_n_within_checks_share() -> None:
    """Check's question (two traders holding USDC, a mark move or its oracle move, 3.75M): undecided
    since session 30 (P's phases failed at bob's turn, the gaps whole ran out, then the build);
    with the turn from free earlier resolutions, P by phases holds (85K, alice's turn only) and the
    direct check recalls it: proved for every N in 1,870,349 units; 1,870,351 since session 32's
    assumption that settlement deposits cover settlement borrows (solver.assumptions.settlement_assumptions);
    1,906,351 with a flat borrower's settlement cut in each turn (engine._exchange_loan); 1,972,353 with
    the lent asset's cut over the order book too (lending._deposit_index_loss) and the assumption that
    its deposits cover its borrows (solver.assumptions.lent_assumptions); 2,008,753 since session 33's
    fund's layer gives its balance of the lent asset first and the assumption counts it (lending._fund_buys)."""
    policy, bounds = _check_bounds("mango-v4")
    result, spent = _spent(policy, "open-interest-balance", bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED and result.scope.accounts is None, result.summary()
    assert result.units == spent == 2_008_753


def test_mutant_without_the_earlier_resolutions_mangos_open_interest_is_undecided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pin above with the free turn started from no earlier resolution: the argument fails at
    bob's turn and the question is undecided within the same share, as in session 30."""
    monkeypatch.setattr(compositional, "_earlier_in_step", lambda *a, **k: ())
    policy, bounds = _check_bounds("mango-v4")
    result, _ = _spent(policy, "open-interest-balance", bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.UNKNOWN


@pytest.mark.deep  # two whole questions at check's share, 20 s and 9 s at load 4
@pytest.mark.parametrize(("claim", "units"), [("conservation", 3_145_046), ("open-interest-balance", 3_529_411)])
def test_drifts_isolated_frames_are_proved_within_checks_share(claim: str, units: int) -> None:
    """Drift's isolated scope (alice and her isolated PERP position holding SOL; a mark, oracle or
    margin move), check's 3,529,411: partial since session 30 (the frames of the direct check on
    its own book, whole, not decided within its build). With the frame proved by phases on the
    question's own book first (``compositional.question_frames``, its gaps remembered) the direct
    check recalls it and the claim is proved at N ≤ 1. The all-N argument after it (on two traders
    beside the isolated position) is asked only with at least what the question's frame cost
    (``prove._below_frames``): conservation leaves 493,257 units where its frame F cost 688,000, so
    it is not asked and the units go to the claims after it (drift's isolated fund is proved again
    within check's share, driftcells); open interest's frame P cost 139,200, less than it left, so
    its argument is asked, does not hold, and spends the rest. Conservation 3,036,154 before session 32
    (the settlement assumption and a flat borrower's settlement cut in each turn: 3,059,747; the lent
    asset's cut over the order book too, one more holder in each turn's cut even on one trader's book,
    and its deposits covering its borrows: 3,115,436; the fund's balance of the lent asset given first
    and counted, session 33: 3,145,046)."""
    policy, bounds = _check_bounds("drift", "isolated", units=3_529_411)
    result, spent = _spent(policy, claim, bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED and result.scope.accounts == 1, result.summary()
    assert result.units == spent == units
    assert (prove.BELOW_FRAMES in result.method) is (claim == "conservation"), result.method
    first = [q for q in result.queries if "by phases" in q.name and "alice:PERP's turn" in q.name]
    assert first and all(q.result in ("unsat",) or "proved already" in q.result or "holds" in q.result for q in first)


@pytest.mark.deep  # a whole question at check's share
def test_mutant_asking_the_argument_below_its_frames_cost_spends_drifts_isolated_conservations_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The conservation pin above with the all-N argument asked whatever is left (as before
    driftcells): the same proof at N ≤ 1, and the argument, not held, spends the 493,257 units the
    rule leaves to the claims after it (the fund among them: given 3,547,077 so, partial)."""
    monkeypatch.setattr(prove, "_below_frames", lambda *a, **k: False)
    policy, bounds = _check_bounds("drift", "isolated", units=3_529_411)
    result, spent = _spent(policy, "conservation", bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED and result.scope.accounts == 1, result.summary()
    assert spent == 3_529_411 and prove.BELOW_FRAMES not in result.method


@pytest.mark.deep  # a whole question at check's share
def test_mutant_without_the_questions_frames_drifts_isolated_conservation_is_partial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pin above with the question's own frames not proved first (``question_frames`` asking
    nothing, as before this session): the direct check's frames split whole within its build and the
    claim is proved on no book beyond the smaller one (partial), as in session 30."""
    monkeypatch.setattr(compositional, "question_frames", lambda *a, **k: ())
    policy, bounds = _check_bounds("drift", "isolated", units=3_529_411)
    result, _ = _spent(policy, "conservation", bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PARTIAL
