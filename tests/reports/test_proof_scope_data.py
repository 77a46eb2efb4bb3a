"""A proof's JSON and its grid cell say what the whole verdict covers, as its text does: a claim
proved for every N beside non-negative transfers proved for N ≤ 2 is not "all N" as a whole
(``ProofResult.proved_scope``), and the claim's own scope is kept beside it."""

from __future__ import annotations

from solvent.reports.grids import _Notes, proof_cell_text
from solvent.reports.json_report import proof_data
from solvent.solver.verdicts import ObligationResult, ProofResult, Scope, Verdict

ALL_N = Scope(None, None, ("mark",), "prices ≥ 1")
AT_TWO = Scope(2, 1, ("mark",), "prices ≥ 1")


def _proof(transfers: Scope) -> ProofResult:
    return ProofResult(
        "backpack",
        "conservation",
        Verdict.PROVED,
        ALL_N,
        0.1,
        "compositional",
        obligations=(
            ObligationResult("conservation", Verdict.PROVED, "", ALL_N),
            ObligationResult("non-negative-transfers", Verdict.PROVED, "", transfers),
        ),
    )


def test_a_claim_for_all_n_beside_transfers_at_two_is_not_all_n_as_a_whole() -> None:
    data = proof_data(_proof(AT_TWO))
    assert (data["all_accounts"], data["claim_all_accounts"]) == (False, True)
    assert data["scope"] == AT_TWO.text and data["claim_scope"] == ALL_N.text
    assert [o["scope"] for o in data["obligations"]] == [ALL_N.text, AT_TWO.text]
    assert proof_cell_text(_proof(AT_TWO), "x", _Notes()).startswith("proved, the claim all N, ")


def test_every_obligation_for_all_n_is_all_n() -> None:
    data = proof_data(_proof(ALL_N))
    assert (data["all_accounts"], data["claim_all_accounts"]) == (True, True)
    assert proof_cell_text(_proof(ALL_N), "x", _Notes()).startswith("proved, all N, ")


def test_an_undecided_verdict_keeps_its_own_scope() -> None:
    undecided = ProofResult("backpack", "conservation", Verdict.UNKNOWN, AT_TWO, 0.1, "bounded")
    data = proof_data(undecided)
    assert data["scope"] == AT_TWO.text and not data["all_accounts"] and data["obligations"] == []
