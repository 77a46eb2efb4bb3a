"""A large book's question is asked in a z3 context of its own on a solver told its logic
(``solvent.solver.incremental``; docs/solver-notes.md#a-check-that-did-not-look-at-its-limits)."""

from __future__ import annotations

import pytest
import z3

import solvent.solver.prove as prove_module
from solvent.rules.ledger import InternalError
from solvent.solver import fund_facts, incremental, payer_direct
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove, scope_of
from solvent.solver.verdicts import ProofResult, Verdict


def _context() -> object:
    return z3.z3._main_ctx


@pytest.mark.parametrize(("accounts", "large"), [(1, False), (4, False), (5, True), (8, True)])
def test_a_large_book_is_one_of_more_than_four_traders(accounts: int, large: bool) -> None:
    assert incremental.is_large(accounts) is large


def test_a_small_books_question_keeps_the_callers_context_and_z3s_own_set_up(monkeypatch) -> None:
    told: list[str] = []
    monkeypatch.setattr(z3, "SolverFor", lambda logic: told.append(logic) or z3.Solver())
    x = z3.Int("x")
    outside = _context()
    with incremental.asked(4):
        assert _context() is outside
        solver = incremental.solver()
        solver.add(x > 1)  # a term of the caller's context: usable here
        assert solver.check() == z3.sat
    assert told == []


def test_a_large_books_question_gets_a_context_of_its_own_and_its_logic(monkeypatch) -> None:
    told: list[str] = []
    real = z3.SolverFor
    monkeypatch.setattr(z3, "SolverFor", lambda logic: told.append(logic) or real(logic))
    z3.Int("x")  # the caller's context exists
    outside = _context()
    with incremental.asked(5):
        inside = _context()
        assert inside is not outside
        solver = incremental.solver()
        y = z3.Int("y")
        solver.add(y * y == 49, y > 0)  # the logic's arithmetic decides the nonlinear terms too
        assert solver.check() == z3.sat and solver.model()[y].as_long() == 7
    assert told == [incremental.LOGIC]
    assert _context() is outside  # the caller's context is back
    assert not incremental._large.get()


@pytest.mark.deep  # N = 8: about 40 s at load 13; before the rule one check ran past 10 minutes
def test_binance_adl_price_fair_at_eight_traders_answers_within_its_units() -> None:
    """The N = 8 question is still asked whole (the claim out of its units there, the transfers
    proved); since the ADL claims' lemmas (solver/adl_claims.py) the claim is proved for every N by
    them and the check on the lemmas' book (11,497,881 units before, PARTIAL; 11,314,674 before the
    lemmas checked the step at three traders, whose terms, built in the question's context first,
    move z3's search by a few thousand units)."""
    result = prove("binance", "adl-price-fair", Bounds(accounts=8, effort=12_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED and result.scope.accounts is None
    assert result.units == 11_310_969


# --- the fund's turn lemma first on a large book, proved inside N's own context ------------------


def test_inside_a_large_question_a_large_book_stays_in_its_context_and_a_small_one_is_refused() -> None:
    """The facts a large book's question needs are proved in its context before the question is
    asked there (``prove._fund_first``): asked again inside it, the block stays in that context; a
    small book's question is never asked in it (told a logic its figures were not measured with)."""
    z3.Int("x")
    with incremental.asked(5):
        fact = z3.Int("y") > 0  # a term of the large context, as a proved fact is
        inside = _context()
        with incremental.asked(8):
            assert _context() is inside
            solver = incremental.solver()
            solver.add(fact)
            assert solver.check() == z3.sat
        assert _context() is inside and incremental._large.get()
        with pytest.raises(InternalError), incremental.asked(4):
            pass


def _recorded_bounded(monkeypatch) -> list[tuple[int, bool, bool, tuple[str, ...]]]:
    """``prove._bounded`` replaced by a recorder: each call's book size, whether it ran inside a
    large question, whether the facts ``cases`` gave it are terms of the context it ran in, and
    their lemmas (the bounded question itself not asked: an undecided stand-in)."""
    seen: list[tuple[int, bool, bool, tuple[str, ...]]] = []

    def recorded(policy, invariant, bounds, units=None, *, transfers=True, cases=None, claim=True):
        by_cases, _ = (None, ()) if cases is None else cases(bounds)
        facts = () if by_cases is None else by_cases.facts.turns
        here = all(formula.ctx is _context() for _, formula in facts) if facts else False
        lemmas = () if by_cases is None else by_cases.facts.lemmas
        seen.append((bounds.accounts, incremental._large.get(), here, lemmas))
        return ProofResult(policy.name, invariant.id, Verdict.UNKNOWN, scope_of(bounds), 0.0, "stand-in")

    monkeypatch.setattr(prove_module, "_bounded", recorded)
    return seen


def test_a_large_books_fund_question_gets_the_turn_lemma_proved_in_its_own_context(monkeypatch) -> None:
    """OKX's insurance-fund-non-negative at N = 5: the turn lemma is proved first (five turns, the
    first queries), inside the large question's context, and N's own question is the only one
    asked (no smaller book searched), with the lemma's facts as terms of its context. Before (from
    c28f15b) the lemma was not asked first on a large book: the smaller books were searched and
    N's question proved it within a sixteenth of its share (okx at N = 8 undecided at 11.43M)."""
    seen = _recorded_bounded(monkeypatch)
    result = prove("okx", "insurance-fund-non-negative", Bounds(accounts=5, effort=8_000_000), minimize=False)
    assert [(n, large, here) for n, large, here, _ in seen] == [(5, True, True)]
    assert "a book of 5 traders" in seen[0][3][0]
    lemma = [q for q in result.queries if q.name.startswith(fund_facts.LEMMA)]
    # alice's turn asked; every later turn is alice's renamed in book order, the same z3 term: no query
    # (fund_facts.RENAMED, docs/solver-notes.md#a-turn-lemma-proved-once-for-every-trader)
    assert [q.result for q in lemma] == ["unsat"] + [fund_facts.RENAMED.format(first="alice")] * 4
    assert result.queries[: len(lemma)] == tuple(lemma)


def test_a_small_books_fund_question_gets_the_turn_lemma_in_the_callers_context(monkeypatch) -> None:
    """At N = 4 nothing about the large context: the same lemma first, N's question asked once,
    outside any large question, the facts terms of the caller's context."""
    seen = _recorded_bounded(monkeypatch)
    prove("okx", "insurance-fund-non-negative", Bounds(accounts=4, effort=8_000_000), minimize=False)
    assert [(n, large, here) for n, large, here, _ in seen] == [(4, False, True)]


def test_a_small_books_fund_question_spends_what_it_spent() -> None:
    """OKX's fund claim at N = 2 (10M): the turn lemma first and N's pass with its facts, in z3's own
    set-up. 631,468 units at 6ac0134 and still at 8fd9609, after a large book's fund question got its
    lemma in its own context (the small-book path built exactly the terms it built); 455,468 since
    the instances are made on the books the step's sweep reached (the same terms, the build 176,000
    units, 440 build steps, less: tests/solver/test_turn_starts.py); 452,171 since bob's turn lemma is
    alice's renamed (3,299 units no longer asked; the claim's exact query 10,410 -> 10,412, the
    renaming's term built in the same context: tests/solver/test_turn_renamed.py)."""
    result = prove("okx", "insurance-fund-non-negative", Bounds(accounts=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED
    assert payer_direct.FUND_METHOD in result.method
    assert result.units == 452_171


@pytest.mark.deep  # N = 5: 2.13M units, about 9 s at load 12
def test_a_large_books_fund_claim_is_proved_with_its_turn_lemma_first() -> None:
    """OKX's insurance-fund-non-negative at N = 5 within 12M: proved, the turn lemma's five turns
    first (0.23M), then N's own pass alone (one build; the claim exact, 0.14M), 2,133,771 units in
    all (3,290,571 at 8fd9609, whose build made each instance's book again: 2.92M, now 1.77M). At
    6ac0134, the lemma not asked first on a large book: proved too, in 6,118,317,
    after the search of one to three traders (2.83M, the three-trader claim out of its units) and
    with the lemma proved inside N's pass instead."""
    result = prove("okx", "insurance-fund-non-negative", Bounds(accounts=5, effort=12_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert payer_direct.FUND_METHOD in result.method
    assert any("a book of 5 traders" in lemma for lemma in result.lemmas)
    names = [q.name for q in result.queries]
    assert all(n.startswith(fund_facts.LEMMA) for n in names[:5])
    assert [n for n in names if n.startswith("build")] == ["build"]  # N's own pass only
    assert result.units <= 3_000_000
