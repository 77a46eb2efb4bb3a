"""flat-accounts-never-pay on a lending book: the flat-trader lemma with a collateral asset, and the
direct check at N by its flat cases (``per_account.flat_cases``, docs/solver-notes.md#flat-accounts-never-pay-by-cases).

On drift and mango-v4 ``solvent check`` asks every claim with the policy's first collateral asset on
the book and its oracle move beside the mark's; the bounded question for this claim was undecided
there within 15.7M units (drift, N = 2), and the flat-trader lemma did not apply to a book with a
collateral asset. Both are decided now: the lemma exact (0.46M units on drift, purified undecided
at 10M) and the direct check split by which trader is flat, each case the engine's own
``transition`` with that trader's size and cost a concrete 0 (about 0.13M units for all four on
drift). Each case fails when the socialized loss charges a flat account (a one-token mutation).
"""

from __future__ import annotations

import attrs
import pytest
from mutant_support import socialize_weighted

from solvent.properties import catalog
from solvent.rules.arith import abs_
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import TURNS_ALIKE
from solvent.solver.prove import prove
from solvent.solver.verdicts import QueryStats, Verdict

FLAT = "flat-accounts-never-pay"
#: the flat cases' purse: on the engine's own rule all six cases hold within 142,001 units (drift)
#: and 120,166 (mango-v4), the largest case 42,517 (session 25); with the one-token socialized loss
#: alice's first case is undecided at 3M (2,997,721 units on it), so 500k tells the two apart (it
#: was 3M: the mutant spent it all)
CASES_UNITS = 500_000


def _lending(preset: str, accounts: int = 2, effort: int = 3_750_000) -> tuple[object, Bounds]:
    """``preset`` and check's question for it: the first collateral asset on the book, a mark move
    and the asset's oracle move (``verdicts.proofs``)."""
    policy = resolve_policy(preset)
    bounds = Bounds(accounts=accounts, events=1, effort=effort, assets=1, event_kinds=("mark", "asset-price"))
    bounds = attrs.evolve(for_policy(bounds, policy), asset_names=tuple(c.name for c in policy.collateral))
    return policy, bounds


def _one_token_socialize(monkeypatch) -> None:
    """socialized_loss.socialize with one token changed: a payer's weight its lots plus one, so a
    flat account pays a share of every socialized loss."""
    socialize_weighted(monkeypatch, lambda at, book, payer, bankrupt: abs_(at.account(payer).size_lots) + 1)


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_the_flat_trader_lemma_holds_on_a_lending_book(preset: str) -> None:
    """The lemma on both events of check's question (the mark's and the asset's oracle move); it
    said "covers one market without collateral assets" before."""
    policy, bounds = _lending(preset)
    found = compositional.attempt(policy, catalog.get(FLAT), bounds, payer=False)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", "")
    assert found.assumes == TURNS_ALIKE
    labels = [q.name for q in found.queries if "no turn charges a flat trader" in q.name]
    assert len(labels) == 2 and any("price of" in label for label in labels)


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_the_direct_check_by_flat_cases_holds_at_n_2(preset: str) -> None:
    """Per trader: its flat case's coverage (no lots, no cost basis) and one exact case per event."""
    policy, bounds = _lending(preset)
    cases = compositional.flat_by_cases(policy, catalog.get(FLAT), bounds, CASES_UNITS)
    assert cases.held and not cases.trivial, cases.failed
    assert [line.split(":")[0] for line in cases.lemmas] == ["flat case (alice)", "flat case (bob)"]
    assert len(cases.queries) == 6 and all(q.result == "unsat" for q in cases.queries)
    assert sum(q.units for q in cases.queries) < CASES_UNITS


def test_a_socialized_loss_that_charges_a_flat_account_fails_a_flat_case(monkeypatch) -> None:
    _one_token_socialize(monkeypatch)
    policy, bounds = _lending("drift")
    cases = compositional.flat_by_cases(policy, catalog.get(FLAT), bounds, CASES_UNITS)
    assert not cases.held  # its first case not proved (undecided within the purse: never a verdict)
    assert "alice flat: the engine's transition at N = 2" in cases.failed


def test_the_cases_cover_only_the_flat_claim_and_one_event() -> None:
    policy, bounds = _lending("drift")
    other = compositional.flat_by_cases(policy, catalog.get("no-negative-equity"), bounds, 1_000_000)
    assert not other.held and "flat-accounts-never-pay only" in other.failed and not other.queries
    two = compositional.flat_by_cases(policy, catalog.get(FLAT), attrs.evolve(bounds, events=2), 1_000_000)
    assert not two.held and "one event (K = 1)" in two.failed


@pytest.mark.deep
@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_check_proves_flat_accounts_never_pay_for_every_n_on_a_lending_book(preset: str) -> None:
    """Check's question within its first-round share (3.75M): undecided before (drift: the bounded
    question out of its units at N = 1 and 2); proved for every N now (drift 2,153,187 units,
    mango-v4 1,651,079, at 6a5c0a6 with this change), the transfers asked in a question built for
    them alone."""
    policy, bounds = _lending(preset)
    result = prove(policy, FLAT, bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and "bounded by flat cases" in result.method
    assert result.units < 3_000_000


def test_with_the_socialized_loss_charging_flat_accounts_prove_does_not_prove_it(monkeypatch) -> None:
    """Neither the lemma nor a case holds; the bounded question decides, here within 1M units on
    a book without the asset: refuted with a replayed story."""
    _one_token_socialize(monkeypatch)
    result = prove("mango-v4", FLAT, Bounds(accounts=2, events=1, effort=3_000_000), minimize=False)
    assert result.verdict is not Verdict.PROVED
    assert "bounded by flat cases" not in result.method


def test_where_no_charge_is_ever_written_the_cases_say_trivially() -> None:
    """Backpack (its losses owed to the winners, no layer charges a payer's cash): every flat case's
    run makes the claim True before z3 is asked, so the verdict stays "proved trivially" (as the
    bounded question said before), now for every N."""
    policy, bounds = _lending("backpack")
    result = prove(policy, FLAT, bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED and result.trivial, result.reason
    assert result.scope.accounts is None and "bounded by flat cases" in result.method
    # drift's cases, where a charge is written, are not trivial: asserted on the cases
    # test_the_direct_check_by_flat_cases_holds_at_n_2 asks (here they were asked again: session 28)


def test_the_cases_are_asked_on_the_lemmas_book_only() -> None:
    """At N = 3 the flat lemma holds (mango-v4, no asset) but no case is asked: a case on a larger
    book costs 1-3M units (drift at N = 4), where the bounded question decides."""
    result = prove("mango-v4", FLAT, Bounds(accounts=3, events=1, effort=400_000), minimize=False)
    assert any("no turn charges a flat trader" in q.name for q in result.queries)
    assert not any("the engine's transition at N =" in q.name for q in result.queries)
    assert "bounded by flat cases" not in result.method


def test_cases_that_did_not_hold_are_counted_in_the_question(monkeypatch) -> None:
    """Where the flat cases are asked and do not all hold, the bounded question follows and the
    cases' units stay in the result (a K > 1 change to ``prove._answered`` once dropped them: the
    question then spent more than its effort)."""
    asked = QueryStats("a flat case (stand-in)", "unknown", 0.0, units=123_457)
    monkeypatch.setattr(
        compositional, "flat_by_cases", lambda *_a, **_k: compositional.FlatCases(False, (), (asked,), "stand-in")
    )
    policy, bounds = _lending("backpack")
    result = prove(policy, FLAT, bounds, minimize=False, payer_first=False)
    assert asked in result.queries
    assert "bounded by flat cases" not in result.method
    assert sum(q.units for q in result.queries) <= bounds.effort
