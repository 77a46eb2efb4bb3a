"""dYdX's payer claims for every N by the ranking's ghost invariant (solver/payer_ghost.py;
docs/solver-notes.md#dydxs-payer-claims-session-21).

The payer's argument needs a bankrupt account's whole position taken at its price; dYdX's queue
skips an offsetting account a fill would leave riskier. Every position holder stays worth its
initial margin at the mark the story started from (the ghost invariant, session 20), and a
candidate within it is not skipped (the skip lemma, four cases): so the argument applies, and the
direct check on two traders decides with the per-fill charge, the bankrupt's side (given the skip's
instance) and the ghost turn lemma as facts. One token off in the skip rule, in the ghost's floor
or in the deferral note, and a lemma has a model: nothing is extended.
"""

from __future__ import annotations

import pytest
import z3
from mutant_support import overlap_both_required

import solvent.rules.deleveraging_limit as limit_module
from solvent.properties import catalog
from solvent.rules.outcomes import DeleverageAttempt
from solvent.rules.presets import resolve_policy
from solvent.solver import adl_claims, effort, payer_facts, payer_ghost, payer_lemma, wall
from solvent.solver import compositional as comp
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

DYDX = resolve_policy("dydx-v4")
UNITS = 4_000_000


def _check(premise, claim, units: int = UNITS) -> str:
    return wall.check([*premise, z3.Not(claim)], [], units, 300.0).result


def test_the_overlap_rule_is_covered_by_the_ghost_only_where_it_holds() -> None:
    """dYdX is the preset the overlap rule kept out of the payer's argument; within the ghost's
    bounds (mark moves, an initial-margin start) it applies, outside them it does not."""
    one = for_policy(Bounds(accounts=2), DYDX)
    assert payer_lemma.applies(DYDX) is not None and "overlap rule" in payer_lemma.applies(DYDX)
    assert payer_lemma.applies(DYDX, ghost=True) is None
    assert payer_lemma.ghost_covers(DYDX, one) and payer_lemma.fits(DYDX, one)
    funding = for_policy(Bounds(accounts=2, event_kinds=("mark", "funding")), DYDX)
    assert not payer_lemma.ghost_covers(DYDX, funding)
    two_markets = for_policy(Bounds(accounts=2, markets=2), DYDX)  # the deficit split by market: another call
    assert not payer_lemma.ghost_covers(DYDX, two_markets)
    binance = resolve_policy("binance")
    assert not payer_lemma.ghost_covers(binance, one) and payer_lemma.fits(binance, one)


@pytest.mark.parametrize("case", range(len(payer_ghost.SKIP_CASES)))
def test_each_skip_case_holds(case: int) -> None:
    """A candidate within the ghost invariant, from a walk state owing no more a lot than the
    deficit did, is served what it would be without the overlap rule (0.04-0.24M units a case)."""
    with effort.question():
        name, premise, claim = payer_ghost._skip_cases(DYDX)[case]
        assert payer_ghost.SKIP in name
        assert _check(premise, claim) == "unsat"


def _both_tests_required(monkeypatch) -> None:
    """``rules.adl.overlaps`` with one token changed: ``or_`` → ``and_`` (``mutant_support``)."""
    overlap_both_required(monkeypatch)


def test_a_stricter_overlap_rule_skips_a_candidate_within_the_ghost(monkeypatch) -> None:
    """With both tests required, a candidate within the ghost that a fill leaves collateralized but
    at a lower ratio is skipped: a skip case has a model."""
    _both_tests_required(monkeypatch)
    with effort.question():
        found = [_check(p, c) for _, p, c in payer_ghost._skip_cases(DYDX)]
    assert "sat" in found, found


def test_without_the_ghosts_floor_a_candidate_is_skipped() -> None:
    """The invariant's own floor: the candidate worth only 0 at P (not its initial margin) is
    skipped (session 19's model at P = 286)."""
    with effort.question():
        premise, claim = adl_claims.skip_question(DYDX, Bounds(accounts=2, events=1), floor=False)
        assert _check(premise, claim, 8_000_000) == "sat"


def test_the_bankrupts_side_needs_the_ghost(monkeypatch) -> None:
    """Without the ghost premise the bankrupt's side is refuted on dYdX (the other trader skipped,
    the account left holding its position); with it and the skip's instance it holds."""
    with effort.question():
        skip = payer_ghost.skip_formulas(DYDX)
        free, premise, claim = payer_facts.bankrupt_question(DYDX, "alice")
        helped = [*premise, *payer_facts.skip_instances(DYDX, skip, free, "alice")]
        assert _check(helped, claim) == "unsat"
    monkeypatch.setattr(payer_facts, "skips", lambda policy: False)
    with effort.question():
        free, premise, claim = payer_facts.bankrupt_question(DYDX, "alice")
        assert _check(premise, claim) == "sat"


class _AnAttempt(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, DeleverageAttempt)


class _NotedAsAttempt(metaclass=_AnAttempt):
    """``DeleverageAttempt`` as ``rules.deleveraging_limit`` makes it, its ``deferred`` always False."""

    def __new__(cls, name, deferred):
        return DeleverageAttempt(name, False)


@pytest.fixture(autouse=True)
def _nothing_remembered():
    """Each test proves its own skip and turn lemmas (a mutant must not reuse the real engine's)."""
    payer_ghost.forget()
    yield
    payer_ghost.forget()


def test_a_deferred_account_is_noted_so_and_charges_nobody(monkeypatch) -> None:
    with effort.question():
        premise, claim = payer_ghost.deferred_question(DYDX)
        assert _check(premise, claim) == "unsat"
    # one token: the deferral noted as an attempt (``DeleverageAttempt(name, False)``)
    monkeypatch.setattr(limit_module, "DeleverageAttempt", _NotedAsAttempt)
    with effort.question():
        premise, claim = payer_ghost.deferred_question(DYDX)
        assert _check(premise, claim) == "sat"


def test_a_deferred_account_the_claims_did_not_skip_would_fail(monkeypatch) -> None:
    """The claims skip exactly the accounts the step noted deferred (``StepView.deferred``, the
    lead's decision, docs/model.md#an-account-deferred-to-a-later-block): read as never deferred,
    the deferred account keeps its position and the lemma has a model."""
    monkeypatch.setattr(catalog.StepView, "deferred", lambda self, name: False)
    with effort.question():
        premise, claim = payer_ghost.deferred_question(DYDX)
        assert _check(premise, claim) == "sat"


#: the argument's purse: the engine's own rule is extended within 2,439,436 units (every lemma
#: unsat, measured in session 25), so 3M decides it; with the stricter overlap rule the ghost's own
#: liquidation turn alone spends 4,575,897 units (and the short's walk is undecided after it at
#: 6M), so within 3M the mutant is never extended: the purse tells the two apart (it was 6M)
ATTEMPT_UNITS = 3_000_000


def _attempt(claim: str = "no-negative-equity") -> comp.Extension | comp.Attempt | None:
    with effort.question():
        return comp.attempt(DYDX, catalog.get(claim), for_policy(Bounds(accounts=2), DYDX), units=ATTEMPT_UNITS)


def test_the_argument_holds_for_every_n_and_says_what_it_assumes() -> None:
    found = _attempt()
    assert isinstance(found, comp.Extension), found
    assert not found.every_k and payer_ghost.ASSUMES in found.assumes
    asked = [q for q in found.queries if q.units]
    assert all(q.result == "unsat" for q in asked), [(q.name, q.result) for q in asked]
    names = " | ".join(q.name for q in asked)
    for part in (
        payer_ghost.SKIP,
        "own liquidation turn",
        "deferred account",
        "payer's contract",
        "still owes no more",
    ):
        assert part in names or any(part in lemma for lemma in found.lemmas), part


@pytest.mark.deep  # 2.9 s of CPU (its 3M spent); the same mutant, written into rules.adl.overlaps, fails
# test_each_skip_case_holds[1] and [3] and is planted by test_a_stricter_overlap_rule_skips_... (session 28)
def test_a_stricter_overlap_rule_stops_the_argument(monkeypatch) -> None:
    _both_tests_required(monkeypatch)
    found = _attempt()
    assert isinstance(found, comp.Attempt) and found.applies, found
    assert "undecided" in found.failed or "z3 found a model of its negation" in found.failed


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_prove_at_two_traders_proves_every_n(claim: str) -> None:
    """The lemmas' book within N = 4's share of its 10M (7/8): proved for every N (7.07M units for
    no-negative-equity, measured)."""
    result = prove("dydx-v4", claim, Bounds(accounts=2, effort=8_750_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.method
    own = next(o for o in result.obligations if o.obligation == claim)
    assert own.scope.accounts is None and payer_ghost.ASSUMES in result.scope.assumes
