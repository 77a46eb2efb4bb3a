"""``solvent check`` with z3 inside: proofs attached with their scope, refutations as replayed
failures, thresholds in every report format."""

from __future__ import annotations

import json

import attrs
import pytest
from click.testing import CliRunner

import solvent.solver.thresholds as th
from solvent.cli import main
from solvent.properties import catalog
from solvent.properties.search import first_violation, replay
from solvent.reports import html_report, json_report, markdown, text
from solvent.rules.presets import load_preset
from solvent.solver.verdicts import Verdict
from solvent.verdicts.check import ClaimStatus, check_policy
from solvent.verdicts.proofs import ProofBudget

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `report` (a check with z3): 7 s under load, built on both workers (session 25)
pytestmark = pytest.mark.xdist_group("check-proofs")

BINANCE = load_preset("binance")
#: Backpack's debt carry, without its lending table: with it, check's z3 questions run on a book
#: holding SOL (borrows, the lender ADL in every sweep) and neither of these two is decided within
#: 60M units (docs/portfolio.md decision 6a); the debt carry is what these tests are about
BACKPACK = attrs.evolve(load_preset("backpack"), collateral=())


@pytest.fixture(scope="module")
def report():
    """Backpack carries a bankrupt account's debt (negative equity by design, accepted)."""
    return check_policy(
        BACKPACK,
        invariants=["conservation", "no-negative-equity"],
        proof_budget=ProofBudget(total=60_000_000, moves=None),  # z3's story as found (minimized: test_smallest_move)
    )


def test_a_proof_is_attached_with_its_scope(report) -> None:
    conservation = next(v for v in report.verdicts if v.invariant.id == "conservation")
    assert conservation.status is ClaimStatus.HELD
    assert conservation.proof.verdict is Verdict.PROVED
    assert conservation.proof.scope.accounts is None  # the compositional argument: every N
    # headed by the transfers obligation's N ≤ 2, as `solvent prove`'s headline is
    rendered = text.render(report)
    assert "z3: proved (N ≤ 2" in rendered and "conservation proved (all N" in rendered


def test_a_z3_refutation_is_a_failure_the_engine_replays(report) -> None:
    """z3's one-step story (a gap leaves a trader below zero, the debt carried) is replayed on the
    concrete engine and joins the scenario's failure; accepted, as Backpack declares."""
    verdict = next(v for v in report.verdicts if v.invariant.id == "no-negative-equity")
    assert verdict.status is ClaimStatus.ACCEPTED
    z3_found = [x for x in verdict.violations if x.origin == "z3"]
    assert z3_found, verdict
    story = z3_found[0].story
    steps = replay(BACKPACK, story)
    assert steps is not None
    assert first_violation(BACKPACK, catalog.get("no-negative-equity"), steps) == z3_found[0].step_index
    assert "solvent prove backpack --invariant no-negative-equity" in text.render(report)


def test_proofs_in_json_and_markdown_and_html(report) -> None:
    data = json.loads(json_report.render([report]))
    by_id = {v["invariant"]: v for v in data["policies"][0]["verdicts"]}
    proof = by_id["conservation"]["evidence"]["proof"]
    # the claim for every N, the transfers' signs at N = 2: the verdict as a whole covers N ≤ 2
    assert (proof["verdict"], proof["claim_all_accounts"], proof["all_accounts"]) == ("proved", True, False)
    scopes = {o["obligation"]: o["scope"] for o in proof["obligations"]}
    assert scopes["conservation"].startswith("all N") and scopes["non-negative-transfers"].startswith("N ≤ 2")
    assert proof["scope"] == scopes["non-negative-transfers"] and proof["claim_scope"].startswith("all N")
    assert by_id["no-negative-equity"]["evidence"]["proof"]["verdict"] == "refuted"
    md = markdown.render([report])
    assert "### Proofs (z3 on the engine's own rules)" in md and "| `conservation` | proved | N ≤ 2" in md
    assert "; conservation proved (all N" in md  # the weakest obligation's scope first, then the claim's
    html = html_report.render([report])
    assert "<h3>Proofs (z3 on the engine's own rules)</h3>" in html and "conservation" in html.split("<h3>Proofs", 1)[1]


def test_no_budget_asks_nothing() -> None:
    r = check_policy(BINANCE, invariants=["conservation"], proof_budget=ProofBudget(total=0))
    assert all(v.proof is None for v in r.verdicts)
    assert "z3" not in text.render(r)


def test_thresholds_in_every_format(monkeypatch) -> None:
    answer = th.threshold(BINANCE, "safe-move", minimize=False)
    import solvent.verdicts.check as check_module

    monkeypatch.setattr(check_module, "thresholds", lambda policy, **kw: [answer])
    r = check_policy(BINANCE, invariants=["conservation"], threshold_probes=10)
    assert r.thresholds == (answer,)
    assert "8,000 ppm (0.8%)" in text.render(r)
    assert "### Thresholds" in markdown.render(
        [r]
    ) and "| largest one-tick move with no bad debt | 8,000 ppm (0.8%) | 8,000 | 8,001 |" in markdown.render([r])
    assert "<h3>Thresholds</h3>" in html_report.render([r])
    data = json.loads(json_report.render([r]))
    (t,) = data["policies"][0]["thresholds"]
    assert (t["question"], t["value_ppm"], t["refuted_at_ppm"]) == ("safe-move", 8_000, 8_001)


def test_cli_check_proves_by_default_and_not_with_no_search() -> None:
    # open-interest-balance, proved for all N on both scopes as conservation is, at about half its CPU
    # (`solvent check` alone: 4.1 against 7.6 s, load 8; session 28); conservation's all-N proof on
    # binance is test_broken_engines.py's
    proved = CliRunner().invoke(
        main, ["check", "binance", "--no-search", "--prove-budget", "20M", "--invariant", "open-interest-balance"]
    )
    assert proved.exit_code == 0, proved.output
    out = " ".join(proved.output.split())  # binance declares both margin modes: a scope each
    assert "z3: proved on all-cross books (N ≤ 2" in out and "open-interest-balance proved (all N" in out
    assert "proved on books with an isolated position (N ≤ 1" in out
    plain = CliRunner().invoke(main, ["check", "binance", "--no-search", "--invariant", "conservation"])
    assert plain.exit_code == 0 and "z3" not in plain.output


def test_the_budget_is_shared_so_every_invariant_is_asked() -> None:
    from solvent.verdicts.proofs import prove_within

    ids = [
        "conservation",
        "insurance-fund-non-negative",
        "spot-isolated",
        "deposit-not-absorbed",
        "no-negative-equity",
        "waterfall-order",
    ]
    # 3M units shared by six claims (500k each at first): asked in order, no claim takes another's share
    results = prove_within(BINANCE, ids, ProofBudget(total=3_000_000))
    assert sorted(results) == sorted(ids)
    assert list(results)[:1] == ["conservation"]  # the all-N argument first


def test_a_z3_story_is_saved_and_replayed_first_next_time(tmp_path) -> None:
    """No search story breaks the capped fund's waterfall order in 10 examples; z3's does, is saved
    to the findings directory, and the next run replays it from there first."""
    from pathlib import Path

    import attrs as _attrs

    from solvent.properties.findings import database_path, load
    from solvent.properties.search import CI
    from solvent.rules.presets import resolve_policy

    capped = resolve_policy(str(Path(__file__).resolve().parents[2] / "examples" / "binance-capped-fund.toml"))
    budget = _attrs.evolve(CI, max_examples=10)
    first = check_policy(
        capped,
        invariants=["waterfall-order"],
        search_budget=budget,
        findings_dir=tmp_path,
        # z3's story as found: its minimization (24M units of its own, 25 s under load) is
        # test_smallest_move's; what is saved and replayed here is whichever story check tells
        proof_budget=ProofBudget(total=60_000_000, moves=None),
    )
    (v,) = [x for x in first.verdicts if x.invariant.id == "waterfall-order"]
    assert v.status is ClaimStatus.FAILS and [x.origin for x in v.violations] == ["z3"]
    saved = database_path(tmp_path, capped, "waterfall-order")
    assert load(saved).origin == "z3"
    assert f"solvent replay {saved}" in text.render(first)
    # z3 off: the story can only come from the findings directory
    again = check_policy(capped, invariants=["waterfall-order"], search_budget=budget, findings_dir=tmp_path)
    (w,) = [x for x in again.verdicts if x.invariant.id == "waterfall-order"]
    assert w.status is ClaimStatus.FAILS and [x.origin for x in w.violations][:1] == ["saved"]
    assert w.violations[0].story.events == load(saved).story.events
