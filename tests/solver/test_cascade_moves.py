"""The socialized loss's cascade invariant over K moves (``solver.cascade_invariant``, session 24):
no-negative-equity and loss-bounded-by-collateral on Drift and Mango v4 for every N and any K, by
induction over the moves on the premise P "every trader worth at least 0 and owing no debt"
(docs/solver-notes.md#drift-and-mango-v4-at-k--3-the-cascade-over-moves-session-24).

The new lemmas are the start (a trader meeting the question's start meets P) and the step from P
(when the turns start every flat trader is worth at least 0 and owes no debt); the turns' lemmas are
one move's, on free books. Mutants, each one token: P one quantum weaker (worth at least −1) gives the
step a model (a flat trader at −1 stays there); P without "no debt" gives it a model (a debt the turns
start with); P one quantum stronger (worth at least 1) gives the start a model (a trader at initial
margin worth 0); a maintenance start gives the start a model (a flat trader is never liquidatable).
On the concrete engine: random books meeting P (below initial margin too), three moves each, every
trader meets P and the claim after every move.
"""

from __future__ import annotations

import random

import attrs
import pytest

from solvent.rules import wellformed
from solvent.rules.engine import transition
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import StartMargin
from solvent.solver import cascade_invariant, claims_backed, effort
from solvent.solver import compositional as comp
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict
from tests.cascade_books import random_book

PRESETS = ("drift", "mango-v4")
K3 = Bounds(accounts=3, events=3, effort=20_000_000)
UNITS = 1_000_000


def _checker(preset: str, bounds: Bounds = K3) -> tuple[object, Bounds, comp._Checker]:
    policy = load_preset(preset)
    bounds = for_policy(bounds, policy)
    return policy, bounds, comp._Checker(bounds, UNITS)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_start_and_the_step_from_the_premise_hold(preset: str) -> None:
    """The two lemmas the induction adds, exact z3 (each a few thousand units)."""
    policy, bounds, checker = _checker(preset)
    with effort.question():
        cascade_invariant.start_lemma(policy, bounds, checker.valid)
        lines = cascade_invariant.step_facts(policy, attrs.evolve(bounds, events=1), checker.valid, checker.fail, True)
    assert [q.result for q in checker.queries] == ["unsat", "unsat"], [(q.name, q.result) for q in checker.queries]
    assert "from the premise (every trader worth at least 0 and owing no debt)" in lines[0]
    assert sum(q.units for q in checker.queries) < 20_000


def _weakened(monkeypatch: pytest.MonkeyPatch, floor: int = 0, debt: bool = True) -> None:
    """P with its floor moved to ``floor`` (one token of ``value >= 0``), or without "no debt"."""

    def premise(policy, book, name):
        value = cascade_invariant._value(policy, book, name)
        said = [cascade_invariant._b(value >= floor)]
        return said + ([cascade_invariant._b(book.account(name).debt_quote == 0)] if debt else [])

    monkeypatch.setattr(cascade_invariant, "premise", premise)


def test_a_premise_one_quantum_weaker_gives_the_step_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    _weakened(monkeypatch, floor=-1)
    policy, bounds, checker = _checker("mango-v4")
    with effort.question(), pytest.raises(comp._Failed, match="from the premise.*z3 found a model"):
        cascade_invariant.step_facts(policy, attrs.evolve(bounds, events=1), checker.valid, checker.fail, True)


def test_a_premise_without_no_debt_gives_the_step_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    _weakened(monkeypatch, debt=False)
    policy, bounds, checker = _checker("mango-v4")
    with effort.question(), pytest.raises(comp._Failed, match="from the premise.*z3 found a model"):
        cascade_invariant.step_facts(policy, attrs.evolve(bounds, events=1), checker.valid, checker.fail, True)


def test_a_premise_one_quantum_stronger_is_not_met_by_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    _weakened(monkeypatch, floor=1)
    policy, bounds, checker = _checker("mango-v4")
    with (
        effort.question(),
        pytest.raises(comp._Failed, match="start: a trader meeting initial margin.*z3 found a model"),
    ):
        cascade_invariant.start_lemma(policy, bounds, checker.valid)


def test_a_maintenance_start_meets_the_premise_only_with_its_flat_traders_at_zero_or_above() -> None:
    """A flat trader is never liquidatable, so "not liquidatable" alone says nothing of its cash;
    a maintenance start also asks every trader worth at least zero (session 25, ``rules.wellformed``),
    which meets the premise. With that condition taken out, z3 finds a model."""
    policy, bounds, checker = _checker("mango-v4", attrs.evolve(K3, start_margin="maintenance"))
    with effort.question():
        cascade_invariant.start_lemma(policy, bounds, checker.valid)
    real = wellformed._rules

    def not_liquidatable_only(policy, margin, assets=False):
        rules = real(policy, margin, assets)
        return (
            [r for r in rules if r.name != "traders worth at least zero"]
            if margin is StartMargin.MAINTENANCE
            else rules
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wellformed, "_rules", not_liquidatable_only)
        with (
            effort.question(),
            pytest.raises(comp._Failed, match="start: a trader meeting maintenance.*z3 found a model"),
        ):
            cascade_invariant.start_lemma(policy, bounds, checker.valid)


def test_the_premise_at_its_boundary_on_a_concrete_book() -> None:
    """Worth 0 meets P, −1 does not; a debt of 1 does not."""
    import z3

    policy = load_preset("mango-v4")
    book = random_book(random.Random(0), 3)
    name = book.traders[0].name
    k = book.index(name)

    def meets(cash: int, debt: int = 0) -> bool:
        a = attrs.evolve(book.accounts[k], size_lots=0, cost_quote=0, cash_quote=cash, debt_quote=debt)
        terms = cascade_invariant.premise(policy, book.replace_account(k, a), name)
        return all(z3.is_true(z3.simplify(t)) for t in terms)

    assert meets(0) and not meets(-1) and not meets(5, debt=1)


def test_where_the_induction_over_moves_applies() -> None:
    drift, mango, binance = load_preset("drift"), load_preset("mango-v4"), load_preset("binance")
    assert cascade_invariant.inducts(mango, for_policy(K3, mango))
    assert cascade_invariant.inducts(drift, for_policy(K3, drift))
    assert not cascade_invariant.inducts(mango, for_policy(attrs.evolve(K3, events=1), mango))  # one move's own
    # a question that starts from the premise is the induction's step: its one-move argument
    assert not cascade_invariant.inducts(mango, for_policy(attrs.evolve(K3, start_margin="solvent"), mango))
    assert not cascade_invariant.inducts(mango, for_policy(attrs.evolve(K3, assets=1), mango))
    assert not cascade_invariant.inducts(binance, Bounds(accounts=3, events=3))
    assert cascade_invariant.not_covered(mango, for_policy(K3, mango)) is not None  # one move's check unchanged
    # claims-backed's system holders over moves on the cascade's turn step there (and only there)
    assert claims_backed._over_moves(mango, for_policy(K3, mango))
    assert claims_backed._by_cascade(drift, for_policy(K3, drift))
    assert not claims_backed._over_moves(binance, Bounds(accounts=3, events=3))


@pytest.mark.parametrize("preset", PRESETS)
def test_the_premise_is_kept_by_every_move_on_the_concrete_engine(preset: str) -> None:
    """Books meeting P (positions on cash 0..400 at the mark they opened at: below initial margin too),
    three moves each: after every move every trader is worth at least 0 and owes no debt (P, and both
    claims). Not vacuous: moves that resolved a trader."""
    policy = load_preset(preset)
    rng = random.Random(f"cascade over moves {preset}")
    resolved = 0
    for _ in range(40):
        book = random_book(rng, rng.choice((2, 3, 4)))
        for _move in range(3):
            ctx = transition(policy, book, MarkPrice(rng.choice((40, 60, 80, 100, 120, 150))))
            book = ctx.book
            resolved += any(isinstance(g.item, Bankrupt) for g in ctx.outcomes)
            for a in book.traders:
                assert cascade_invariant._value(policy, book, a.name) >= 0
                assert a.debt_quote == 0
    assert resolved >= 5


def _method_ok(result) -> None:
    assert result.verdict is Verdict.PROVED, result.reason
    assert "all N, any K" in result.method or cascade_invariant.METHOD_OVER_MOVES[:60] in result.method
    assert cascade_invariant.INDUCTION_ASSUMES in (result.scope.assumes or "")


@pytest.mark.deep
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("claim", cascade_invariant.CLAIMS)
def test_the_payer_claims_at_three_moves_are_proved_for_every_n_and_any_k(preset: str, claim: str) -> None:
    """The K = 3 table's cells: undecided before (the claim out in each phase); proved by the
    induction, the one-event book from the premise asked first, the transfers at N = 3 and K = 3."""
    result = prove(preset, claim, K3, minimize=False)
    _method_ok(result)
    assert result.scope.accounts is None and result.scope.events is None
    assert "its traders starting solvent" in result.method


@pytest.mark.deep
@pytest.mark.parametrize("preset", PRESETS)
def test_claims_backed_at_three_moves_by_its_parts(preset: str) -> None:
    result = prove(preset, "claims-backed", K3, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert "by its parts" in result.method and cascade_invariant.INDUCTION_ASSUMES in result.method
