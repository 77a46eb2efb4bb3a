"""Hyperliquid's sweep invariant (solver/sweep_invariant.py): the bankrupt account is worth ≥ 0 at the
previous mark when it is resolved, so ADL at the previous mark pays it (never the other way), and
``deficit-charged-once`` holds for every N at one move.

The call's lemma is false without the invariant (z3 has a model: a long bankrupt after a rise pays
its winner); with it, it holds. The invariant is proved by lemmas on the engine's own settle,
before_turns, liquidation_turn and one ADL fill: a one-token mutant of the price the winners are
closed at breaks a turn lemma, and the verdict is then the bounded one.
"""

from __future__ import annotations

import attrs
import pytest
import z3

import solvent.rules.adl as adl_module
from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.rules.venue_formulas import price_at_gap
from solvent.solver import compositional as comp
from solvent.solver import deficit_once, effort, resolution_facts, sweep_invariant, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

HYPERLIQUID = resolve_policy("hyperliquid")
CLAIM = deficit_once.CLAIM
UNITS = 5_000_000


def _attempt(policy, **bounds: object) -> comp.Extension | comp.Attempt | None:
    with effort.question():
        found = comp.attempt(policy, catalog.get(CLAIM), for_policy(Bounds(accounts=4, **bounds), policy), units=UNITS)
    return found


def _asked(bankrupt: str, with_invariant: bool) -> str:
    with effort.question():
        _, given, claim = resolution_facts.resolution_question(HYPERLIQUID, bankrupt, CLAIM)
        if not with_invariant:  # the call's premise without the sweep's invariant: the mark a price only
            given = given[:1]
        return wall.check([*given, z3.Not(claim)], [], UNITS, 60.0).result


@pytest.mark.parametrize("bankrupt", ["alice", "bob"])
def test_the_calls_lemma_needs_the_invariant(bankrupt: str) -> None:
    """Without "worth ≥ 0 at the previous mark" a bankrupt long after a rise pays its winner (a
    model); with it the call's claim holds for every number (0.12-0.18M units)."""
    assert _asked(bankrupt, with_invariant=False) == "sat"
    assert _asked(bankrupt, with_invariant=True) == "unsat"


def test_the_invariants_lemmas_hold_and_cover_one_event() -> None:
    """Every lemma proved (about 0.9M units in all); the extension covers one event (the invariant is
    proved from a well-formed start) and names what it assumes."""
    found = _attempt(HYPERLIQUID)
    assert isinstance(found, comp.Extension), found
    assert not found.every_k and sweep_invariant.ASSUMES in found.assumes
    assert all(q.result == "unsat" for q in found.queries if q.units)
    assert sum(q.units for q in found.queries) < 1_500_000
    names = " ".join(found.lemmas)
    for said in (
        "covering its initial margin",
        "the move's settlement",
        "engine.before_turns",
        "alice's turn (engine.liquidation_turn) keeps bob's",
        "bob's turn (engine.liquidation_turn) keeps alice's",
        "at the previous mark (positions.close_against",
        "resolves nothing",
    ):
        assert said in names, said


def test_a_winner_closed_a_quantum_off_the_previous_mark_breaks_a_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """One token: the winners' price one quantum a lot further from the mark. A winner's worth at the
    previous mark then moves when it is deleveraged (the vault's own call before the turns, the first
    such lemma the argument asks, after the start's and the settlement's): z3 has a model of
    that lemma's negation, so nothing is extended. Asked alone, as ``deficit_once.argument`` asks it
    (``sweep_invariant.prove``: the phase lemma, exact); the whole attempt asked every lemma of the call
    before it (session 30: 1.30 s of the default suite's CPU, now the lemma's own)."""
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    checker = comp._Checker(Bounds(accounts=2, events=1, effort=UNITS))
    with effort.question(), pytest.raises(comp._Failed, match="model of its negation") as failed:
        sweep_invariant.phase_lemma(HYPERLIQUID, checker.valid)
    assert "engine.before_turns) keeps each trader's worth" in str(failed.value)
    assert [q.result for q in checker.queries][-1] == "sat"


def test_a_slipping_market_close_reaches_the_market_rules_resolve() -> None:
    """With a fill one ppm from the mark, an account not taken over may still be below zero at its
    fill: the market rule's resolve is reached, which the call's lemma (on the takeover rule) does
    not speak of, so the argument does not hold. Asked alone, as ``sweep_invariant.prove`` asks it last
    (``unreached_lemma``, exact); the whole attempt asked the 22 lemmas before it (session 30)."""
    policy = attrs.evolve(HYPERLIQUID, liquidation=attrs.evolve(HYPERLIQUID.liquidation, slippage_ppm=1))
    checker = comp._Checker(Bounds(accounts=2, events=1, effort=UNITS))
    with effort.question(), pytest.raises(comp._Failed, match="model of its negation") as failed:
        sweep_invariant.unreached_lemma(policy, checker.valid)
    assert "resolves nothing" in str(failed.value)


def test_the_facts_fit_hyperliquid_for_deficit_charged_once_only() -> None:
    assert resolution_facts.fits(HYPERLIQUID, CLAIM)
    assert not resolution_facts.fits(HYPERLIQUID, "adl-price-fair")
    assert deficit_once.not_covered(HYPERLIQUID, Bounds(accounts=2)) is None


@pytest.mark.deep  # a whole proof (4.14M units); its lemmas (the attempt, every one unsat) and mutants stay default (session 28)
def test_deficit_charged_once_proved_for_every_n_at_one_move() -> None:
    """The lemmas' book (N = 2), with the call's facts and the invariant's as facts: proved for every
    N at one mark move, 4.14M units (partial in 10M before: the direct check out of effort)."""
    bounds = for_policy(Bounds(accounts=2, events=1, effort=6_000_000), HYPERLIQUID)
    result = prove(HYPERLIQUID, catalog.get(CLAIM), bounds, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events == 1
    assert sweep_invariant.ASSUMES in result.scope.assumes


def test_the_turn_lemma_itself_fails_on_that_mutant(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same mutant asked of the turn lemma alone: another trader's turn (its resolve's ADL fill at
    the mutated price) moves this trader's worth at the previous mark."""
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    checker = comp._Checker(Bounds(accounts=2, events=1, effort=UNITS))
    with effort.question(), pytest.raises(comp._Failed, match="alice's turn .* keeps bob's worth.*model"):
        sweep_invariant.turn_lemmas(HYPERLIQUID, checker.valid)
