"""`solvent check`'s line for a proof says what `solvent prove`'s headline says.

A per-account claim proved for every N beside a transfers obligation proved only at N = 2 (the
compositional arguments extend the claim, not the transfers) heads with the weaker scope, then names
the claim's own: "z3: proved (N ≤ 2, …); no-negative-equity proved (all N given that …)". Before,
check's line said "z3: proved (all N given that …)", more than the transfers obligation was shown to
hold for.
"""

from __future__ import annotations

from solvent.properties import catalog
from solvent.reports.story import proof_evidence
from solvent.solver.verdicts import ObligationResult, ProofResult, Scope, Verdict
from solvent.verdicts.check import ClaimStatus, ClaimVerdict

BOUNDED = Scope(2, 1, ("mark",), "prices 1..9")
EVERY_N = Scope(None, 1, ("mark",), "prices 1..9", assumes="the turns are alike")


def _verdict(transfers: Scope) -> tuple[ClaimVerdict, ProofResult]:
    proof = ProofResult(
        "p",
        "no-negative-equity",
        Verdict.PROVED,
        EVERY_N,
        0.5,
        "compositional",
        obligations=(
            ObligationResult("no-negative-equity", Verdict.PROVED, "", EVERY_N),
            ObligationResult("non-negative-transfers", Verdict.PROVED, "", transfers),
        ),
    )
    return ClaimVerdict(catalog.get("no-negative-equity"), ClaimStatus.HELD, 0, 0, proof=proof), proof


def test_an_all_n_claim_beside_transfers_proved_at_n_heads_with_n() -> None:
    verdict, proof = _verdict(BOUNDED)
    line = proof_evidence(verdict)
    assert line == (
        "; z3: proved (N ≤ 2, K ≤ 1 (mark), prices 1..9); "
        "no-negative-equity proved (all N given that the turns are alike, K ≤ 1 (mark), prices 1..9)"
    )
    # what `solvent prove` heads with, word for word
    assert line.removeprefix("; z3: ") in proof.summary().replace(" in 0.50 s", "")


def test_with_every_obligation_for_all_n_the_line_says_all_n() -> None:
    verdict, _ = _verdict(EVERY_N)
    assert proof_evidence(verdict) == "; z3: proved (all N given that the turns are alike, K ≤ 1 (mark), prices 1..9)"
