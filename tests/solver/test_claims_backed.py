"""claims-backed decided by its parts (solver/claims_backed.py): no-negative-equity's verdict and the
system holders' own question, after z3 proves their conjunction equals the claim
(docs/solver-notes.md#claims-backed-by-its-parts-issue-18)."""

from __future__ import annotations

import types

import attrs
import pytest
from test_fund_facts import _pays_all

import solvent.rules.bankruptcy as bankruptcy_module
from solvent.properties import catalog
from solvent.properties.catalog import Invariant, StepView
from solvent.rules.arith import all_
from solvent.rules.book import Role, new_book
from solvent.rules.presets import resolve_policy
from solvent.solver import claims_backed, effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.prove import prove, scope_of
from solvent.solver.verdicts import ObligationResult, ProofResult, QueryStats, Verdict
from solvent.verdicts import proofs

OKX = resolve_policy("okx")


def _bounds(policy, accounts: int, **changes) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=1, effort=10_000_000, **changes), policy)


def _equivalence(policy, accounts: int) -> str:
    bounds = _bounds(policy, accounts)
    with effort.question():
        checker = _Checker(bounds, units=claims_backed.EQUIVALENCE_UNITS)
        claims_backed.equivalence(policy, bounds, checker)
        return checker.queries[-1].result


@pytest.mark.parametrize(("preset", "accounts"), [("okx", 2), ("binance", 4), ("hyperliquid", 4), ("drift", 2)])
def test_the_parts_equal_the_claim_on_every_book(preset: str, accounts: int) -> None:
    assert _equivalence(resolve_policy(preset), accounts) == "unsat"


def _one_more_holder(view: StepView):
    """catalog.claims_backed with one token changed: the liquidity account is a holder too."""
    book = view.after
    holders = [a for a in book.accounts if a.role not in (Role.VENUE, Role.CLEARING)]
    return all_((catalog._value(view, book, a) if a.is_trader else a.cash_quote) >= 0 for a in holders)


def test_a_claim_with_one_more_holder_is_not_its_parts(monkeypatch) -> None:
    """The equivalence is a z3 question on the catalog's own predicate: with the liquidity account
    among the holders (one token of catalog.claims_backed) it has a model, so the claim is asked
    whole."""
    mutated = attrs.evolve(catalog.get("claims-backed"), predicate=_one_more_holder)
    fake = types.SimpleNamespace(get=lambda i: mutated if i == "claims-backed" else catalog.get(i))
    monkeypatch.setattr(claims_backed, "catalog", fake)
    with pytest.raises(_Failed, match="found a model of its negation"):
        _equivalence(OKX, 2)


def test_a_part_that_reads_the_entries_is_not_split(monkeypatch) -> None:
    """The view the equivalence reads holds the book after the step only: a part that reads the
    step's entries would not be valid of every step by that check, so it stops it."""
    reads = Invariant(claims_backed.SYSTEM_ID, "", claims_backed.SYSTEM.severity, lambda v: all_(v.transfers))
    monkeypatch.setattr(claims_backed, "SYSTEM", reads)
    with pytest.raises(_Failed, match="reads the step's entries"):
        _equivalence(OKX, 2)


@pytest.mark.parametrize(
    ("role", "cash", "holds"),
    [
        (Role.FEE_ACCOUNT, 0, True),
        (Role.FEE_ACCOUNT, -1, False),
        (Role.BACKSTOP_VAULT, -1, False),
        (Role.INSURANCE_FUND, -1, False),
        (Role.LIQUIDITY, -1, True),
        (Role.VENUE, -1, True),
    ],
)
def test_the_system_holders_at_their_boundary(role: Role, cash: int, holds: bool) -> None:
    book = new_book(mark_quote=100)
    index = next(i for i, a in enumerate(book.accounts) if a.role is role)
    book = book.replace_account(index, attrs.evolve(book.accounts[index], cash_quote=cash))
    view = StepView(OKX, book, None, book, (), ())
    assert claims_backed.SYSTEM.holds(view) is holds
    assert catalog.get("claims-backed").holds(view) is holds  # the claim reads the same holders


def _result(accounts: int | None, events: int | None, verdict: Verdict, bounds: Bounds) -> ProofResult:
    scope = attrs.evolve(scope_of(bounds), accounts=accounts, events=events)
    own = ObligationResult(claims_backed.TRADERS, verdict, "", scope)
    return ProofResult("okx", claims_backed.TRADERS, verdict, scope, 0.0, "", obligations=(own,))


def test_a_traders_answer_covers_the_books_it_was_proved_on() -> None:
    four = _bounds(OKX, 4)
    assert claims_backed.covers(_result(None, 1, Verdict.PROVED, four), four)  # all N
    assert claims_backed.covers(_result(4, 1, Verdict.PROVED, four), four)
    assert not claims_backed.covers(_result(3, 1, Verdict.PROVED, four), four)  # one trader short
    assert not claims_backed.covers(_result(None, 1, Verdict.UNKNOWN, four), four)
    three_moves = attrs.evolve(four, events=3)
    assert not claims_backed.covers(_result(None, 1, Verdict.PROVED, four), three_moves)
    assert claims_backed.covers(_result(None, None, Verdict.PROVED, four), three_moves)  # any K
    funding = attrs.evolve(four, event_kinds=("funding",))
    assert not claims_backed.covers(_result(None, 1, Verdict.PROVED, four), funding)


def _spent(result: ProofResult, units: int) -> ProofResult:
    """``result`` as an answer that spent ``units`` (one query)."""
    return attrs.evolve(result, queries=(QueryStats("no-negative-equity", "unknown", 0.0, units=units),))


@pytest.mark.parametrize(("spent", "asked_here"), [(399_000, True), (400_000, False)])
def test_an_undecided_given_answer_is_asked_again_only_with_more_units(spent: int, asked_here: bool) -> None:
    """Given no-negative-equity undecided (as solvent check may have it, from a smaller first-round share):
    where it spent fewer units than this question has left after the parts' equivalence, the traders' part
    is asked here, within this purse, as solvent prove asks it; where it spent as many or more, asking it
    again could only run out again: no part is asked and the claim is asked whole with all its units."""
    bounds = Bounds(accounts=2, events=1, effort=400_000)
    given = {claims_backed.TRADERS: _spent(_result(2, 1, Verdict.UNKNOWN, for_policy(bounds, OKX)), spent)}
    result = prove(OKX, "claims-backed", bounds, minimize=False, given=given)
    traders_asked = any(f"({claims_backed.TRADERS}, N = 2)" in q.name for q in result.queries)
    assert traders_asked is asked_here
    said = "asked within this question on 2 traders" if asked_here else "from this check's own answer"
    assert f"no-negative-equity ({said}) not proved" in result.method
    assert result.units <= 400_000


def test_okx_is_proved_by_its_parts_and_a_fund_paying_all_refutes_it(monkeypatch) -> None:
    """OKX, N = 2: the system holders proved with the fund's turn lemma, no-negative-equity for every
    N; a fund that pays the whole deficit whatever it holds (one token of insurance_fund.pay_from)
    is refuted through the system holders' part, its story replayed against claims-backed itself."""
    bounds = Bounds(accounts=2, events=1, effort=10_000_000)
    proved = prove(OKX, "claims-backed", bounds, minimize=False)
    assert proved.verdict is Verdict.PROVED, proved.summary()
    assert proved.method.startswith("by its parts:") and proved.units <= 10_000_000
    assert "no-negative-equity proved (all N" in proved.method
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    refuted = prove(OKX, "claims-backed", bounds, minimize=False)
    assert refuted.verdict is Verdict.REFUTED, refuted.summary()
    assert refuted.method.startswith(f"by its parts: {claims_backed.SYSTEM_ID} refuted")
    story = refuted.counterexample
    assert story.obligation == "claims-backed" and story.step_index == 0


def test_check_asks_claims_backed_after_the_claim_it_rests_on(monkeypatch) -> None:
    """solvent check's order puts claims-backed last (verdicts.proofs.LAST), so no-negative-equity's
    answer is in what it is given, whatever order the claims were named in."""
    asked: list[tuple[str, tuple[str, ...]]] = []

    def fake(policy, invariant_id, bounds, *, minimize, payer_first, given, accepted_grid):
        asked.append((invariant_id, tuple(given)))
        scope = scope_of(bounds)
        own = ObligationResult(invariant_id, Verdict.PROVED, "", scope)
        return ProofResult("okx", invariant_id, Verdict.PROVED, scope, 0.0, "", obligations=(own,))

    monkeypatch.setattr("solvent.solver.prove.prove", fake)
    ids = ["claims-backed", "no-negative-equity", "conservation"]
    proofs.prove_within(OKX, ids, proofs.ProofBudget(total=3_000_000, moves=None))
    # okx declares both margin modes (docs/portfolio.md 3d): the all-cross scope, then the isolated
    # one, each in this order and each given only its own scope's answers
    order = ["conservation", "no-negative-equity", "claims-backed"]
    assert [a for a, _ in asked] == order + order
    assert asked[2][1] == ("conservation", "no-negative-equity")
    assert asked[-1][1] == ("conservation", "no-negative-equity")
    assert asked[3][1] == ()  # the isolated scope starts with nothing of the all-cross scope's


@pytest.mark.deep
def test_okx_and_binance_at_four_traders() -> None:
    """N = 4, 10M units: undecided asked whole (9.21M and 9.24M spent), proved by the parts."""
    for preset in ("okx", "binance"):
        result = prove(preset, "claims-backed", Bounds(accounts=4, events=1, effort=10_000_000), minimize=False)
        assert result.verdict is Verdict.PROVED, result.summary()
        # the claim for every N (both parts, the payer's route's holders all N since session 23), the transfers at N
        assert result.scope.accounts is None and result.proved_scope.accounts == 4
        assert result.method.startswith("by its parts:")


@pytest.mark.parametrize("units", [1_000, 150_000, 1_500_000])
def test_the_parts_keep_to_the_questions_purse(units: int) -> None:
    """The parts and the whole question after them spend at most the question's effort (dYdX at
    N = 4 spent 10,000,001 of 10M when the parts had spent it all and the whole was still asked)."""
    result = prove("dydx-v4", "claims-backed", Bounds(accounts=2, events=1, effort=units), minimize=False)
    assert result.units <= units
    assert result.verdict in (Verdict.UNKNOWN, Verdict.PARTIAL)


def test_the_system_holders_transfers_proof_is_kept_where_the_claim_is_not_decided(monkeypatch) -> None:
    """Bybit, N = 2, 3M, the system holders asked at N (as where their all-N argument does not cover the
    policy: bitmex's takeover, drift's cascade on two traders): they are proved (and the transfer signs
    with them), the traders' part is not, and the whole question gets what is left: its transfers
    obligation is the one the system holders' question proved, not an undecided one asked again without
    units."""

    def uncovered(*_args) -> None:
        raise _Failed("not covered")

    monkeypatch.setattr(claims_backed, "holders_every_n", uncovered)
    result = prove("bybit", "claims-backed", Bounds(accounts=2, events=1, effort=3_000_000), minimize=False)
    transfers = next(o for o in result.obligations if o.obligation == "non-negative-transfers")
    claim = next(o for o in result.obligations if o.obligation == "claims-backed")
    assert claim.verdict is Verdict.UNKNOWN and transfers.verdict is Verdict.PROVED
    assert result.verdict is Verdict.PARTIAL and result.units <= 3_000_000
