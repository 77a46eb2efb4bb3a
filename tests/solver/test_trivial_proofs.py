"""A proof that holds only because no event of the kinds asked can reach the claim is labelled
"trivially" wherever a proof is shown, and summaries do not count it (issue 17)."""

from __future__ import annotations

import attrs

import solvent.solver  # noqa: F401  (registers the z3 backend)
from solvent.reports.gallery import _proved
from solvent.reports.story import proof_evidence, proof_state
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.verdicts.check import check_policy

QUICK = Bounds(accounts=2, effort=2_000_000)


def test_an_adl_claim_without_an_adl_layer_is_proved_trivially() -> None:
    """backpack carries debt and has no ADL layer: no mark move ranks ADL counterparties."""
    result = prove("backpack", "adl-ranking-respected", QUICK)
    assert result.proved and result.trivial


def test_conservation_is_a_proof_with_content() -> None:
    result = prove("binance", "conservation", Bounds(accounts=2, effort=20_000_000))
    assert result.proved and not result.trivial


def test_reports_say_trivially_and_summaries_do_not_count_it() -> None:
    report = check_policy(load_preset("backpack"), invariants=["adl-ranking-respected", "conservation"])
    proofs = {
        "adl-ranking-respected": prove("backpack", "adl-ranking-respected", QUICK),
        "conservation": prove("backpack", "conservation", QUICK),
    }
    report = attrs.evolve(
        report, verdicts=tuple(attrs.evolve(v, proof=proofs[v.invariant.id]) for v in report.verdicts)
    )
    states = {v.invariant.id: proof_state(v) for v in report.verdicts}
    assert states["adl-ranking-respected"].startswith("proved trivially")
    assert states["conservation"] == "proved"
    evidence = {v.invariant.id: proof_evidence(v) for v in report.verdicts}
    assert "proved trivially" in evidence["adl-ranking-respected"]
    assert "trivially" not in evidence["conservation"]
    # conservation for every N, its transfers' signs at N = 2: counted apart from a whole all-N proof
    assert _proved(report) == "1 of 2 (1 with the claim for all N; 1 more trivially)"


def test_the_scope_says_what_every_book_holds_fixed() -> None:
    """The clock, the tick, the margin mode and the number bounds are the symbolic book's, not
    ranged over: every proof says so, with the bounds it was given."""
    from solvent.reports.proof_text import render

    result = prove("binance", "conservation", attrs.evolve(QUICK, max_quote=10**9, max_lots=500))
    fixed = result.scope.fixed
    assert "clock at 0" in fixed and "tick of 1 quantum" in fixed and "cross-margined" in fixed
    assert "|balances| ≤ 1,000,000,000 quanta" in fixed and "|positions| ≤ 500 lots" in fixed
    assert "all accepted" in fixed
    assert f"  fixed in every book: {fixed}" in render(result).splitlines()
