"""The per-trader claims on the isolated scope's one-trader book ask their exact query first
(``solver.prove.ISOLATED_EXACT_FIRST``; docs/solver-notes.md#the-isolated-scopes-exact-query-first-session-33):
there the purified refinement stalls where z3's exact query is unsat in a fraction of check's
share, so asked in the portfolio's order (a third purified, then the exact) the claim stayed
undecided. Each test asks as ``solvent check`` asks (``minimize=False, payer_first=False``) and
reads the claim's query: which phase answered first, and the verdict within a fixed number of units."""

from __future__ import annotations

import pytest

from solvent.rules.presets import load_preset
from solvent.solver import prove as prove_module
from solvent.solver.bounds import Bounds
from solvent.solver.margin_scopes import ISOLATED, SCOPES, scope_bounds
from solvent.solver.prove import ISOLATED_EXACT_FIRST, prove
from solvent.solver.verdicts import ProofResult, Verdict

OKX = load_preset("okx")


def isolated(effort: int) -> Bounds:
    """The isolated scope of check's two traders (one trader and its isolated position), one mark move."""
    return scope_bounds(Bounds(accounts=2, events=1, effort=effort), ISOLATED, SCOPES)


def claim_phases(result: ProofResult, claim: str) -> list[str]:
    """The result line of each query that asked the claim itself (not a lemma, not the build)."""
    return [q.result for q in result.queries if q.name == claim]


def test_the_isolated_scope_asks_no_negative_equity_exact_first() -> None:
    """okx's no-negative-equity on the isolated scope within 1M units: the exact query first
    (unsat in 229,760 units), then the all-N argument with what it left: proved for every N in
    943,360 units."""
    result = prove(OKX, "no-negative-equity", isolated(1_000_000), minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None
    assert claim_phases(result, "no-negative-equity") == ["unsat (exact)"]
    assert result.units <= 1_000_000


def test_without_the_rule_the_same_question_is_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule's mutant (no claim asked exact first): the portfolio's purified third runs out, the
    exact query after it with half of what is left does too, and the question is undecided
    within the same 1M units."""
    monkeypatch.setattr(prove_module, "ISOLATED_EXACT_FIRST", ())
    result = prove(OKX, "no-negative-equity", isolated(1_000_000), minimize=False, payer_first=False)
    assert result.verdict is not Verdict.PROVED
    (phases,) = claim_phases(result, "no-negative-equity")
    assert phases.startswith("out of effort, then unknown (exact)")


def test_an_all_cross_book_asks_as_before() -> None:
    """okx's no-negative-equity on check's all-cross book of two traders (the lemmas' own book, no
    isolated position): each asking of the claim starts with the purified phase, as before the rule."""
    result = prove(
        OKX, "no-negative-equity", Bounds(accounts=2, events=1, effort=800_000), minimize=False, payer_first=False
    )
    phases = claim_phases(result, "no-negative-equity")
    assert phases
    assert all(p.startswith("out of effort, then unknown (exact)") for p in phases), phases


def test_only_the_per_trader_claims_measured_are_asked_exact_first() -> None:
    """principal-protected is decided by the purified phase on that book (12,223 units on dYdX):
    it is not in the rule, and its claim query stays purified."""
    assert ISOLATED_EXACT_FIRST == ("no-negative-equity", "loss-bounded-by-collateral")
    result = prove(
        load_preset("dydx-v4"), "principal-protected", isolated(1_000_000), minimize=False, payer_first=False
    )
    assert result.verdict is Verdict.PROVED, result.reason
    assert claim_phases(result, "principal-protected") == ["unsat"]


BYBIT = load_preset("bybit")
#: check's first-round share for bybit's loss-bounded-by-collateral on the isolated scope
#: (benchmarks/results/bench_check_proofs_split_session33_before.txt)
BYBIT_ROUND_ONE = 5_192_598


@pytest.mark.deep  # two whole questions, about 15 s
def test_bybit_isolated_loss_bounded_is_proved_within_its_first_round_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the rule: partial at 5.19M and again at check's second-round 10M (six refinement
    rounds, 2.57M units, no proof; the exact query after them then needed 4.73M and had 2.84M).
    Exact first: unsat in 1,560,308 units, and the all-N argument holds with what is left."""
    result = prove(BYBIT, "loss-bounded-by-collateral", isolated(BYBIT_ROUND_ONE), minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None
    assert result.units == 3_284_806
    monkeypatch.setattr(prove_module, "ISOLATED_EXACT_FIRST", ())
    before = prove(BYBIT, "loss-bounded-by-collateral", isolated(10_000_000), minimize=False, payer_first=False)
    assert before.verdict is Verdict.PARTIAL


@pytest.mark.deep  # the z3 part of `solvent check bybit` on its isolated scope: about 20M units, 30-60 s
def test_bybit_check_decides_every_claim_on_the_isolated_scope_in_its_first_round() -> None:
    """Before the rule bybit's isolated scope took a second round (no-negative-equity proved in
    6,496,142 units, loss-bounded-by-collateral partial in 8,824,570): now every claim is decided
    in the first round, the two per-trader claims proved for every N."""
    from solvent.properties import catalog
    from solvent.verdicts.proofs import ProofBudget, proved_and_allotted

    ids = [i for i in catalog.ids() if catalog.get(i).applies(BYBIT)]
    results, asked = proved_and_allotted(BYBIT, ids, ProofBudget(scopes=(ISOLATED,)))
    assert {a.round for a in asked} == {1} and all(a.decided for a in asked)
    for claim in ISOLATED_EXACT_FIRST:
        assert results[claim].verdict is Verdict.PROVED
        assert results[claim].scope.accounts is None
