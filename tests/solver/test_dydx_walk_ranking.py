"""dYdX's ``adl-ranking-respected`` for every N and K by a ghost invariant (solver/adl_claims.py,
``walk_ranking_lemmas``; docs/solver-notes.md#dydxs-walk-the-remaining-claims-session-20).

The walk skips an offsetting account whose fill would leave it riskier, so on a free book an earlier
eligible candidate can be left whole while a later one is served. From a well-formed book at initial
margin with mark moves only, every position holder stays worth its initial margin at the mark the
story started from (the ghost price P): true at the start, kept by a mark's settlement, by a
trader's own liquidation turn and by each fill of a walk; under it no candidate is skipped and the
ranking holds of any two turns. One token changed in the walk's fill, in the settlement or in the
walk's turn breaks a lemma, and nothing is extended.
"""

from __future__ import annotations

import attrs
import pytest
import z3

import solvent.rules.adl as adl_module
import solvent.rules.engine as engine_module
from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.solver import adl_claims, effort, wall
from solvent.solver import compositional as comp
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

DYDX = resolve_policy("dydx-v4")
RANKING = "adl-ranking-respected"
UNITS = 5_000_000


def _attempt(bounds: Bounds = Bounds(accounts=4)) -> comp.Extension | comp.Attempt | None:
    with effort.question():
        return comp.attempt(DYDX, catalog.get(RANKING), for_policy(bounds, DYDX), units=UNITS)


def test_the_walks_ranking_holds_by_the_ghost_invariant() -> None:
    """Nine lemmas, every one unsat (1.95M units in all, measured at N = 4: the turn 0.53M, a
    short's winner kept 0.87M), and the verdict covers every N and K and says what it assumes."""
    found = _attempt()
    assert isinstance(found, comp.Extension), found
    assert found.every_k and not found.trivial_extends
    assert found.assumes == f"{adl_claims.ASSUMES_WALK}; {adl_claims.ASSUMES_GHOST}"
    asked = [q for q in found.queries if q.units]
    assert [q.result for q in asked] == ["unsat"] * 9, [(q.name, q.result) for q in asked]
    assert sum(q.units for q in asked) < 4_000_000
    names = " | ".join(q.name for q in asked)
    for part in ("well-formed book", "settlement", "own liquidation turn", "still owes no more", "two turns"):
        assert part in names
    assert any("every transfer and fill between two traders is an ADL one" in lemma for lemma in found.lemmas)
    assert found.method.startswith("compositional, all N, any K: the ranking of one bankrupt account's ADL walk")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_kinds": ("mark", "funding")}, "mark moves only"),
        ({"start_margin": "maintenance"}, "start at its initial margin"),
    ],
)
def test_outside_the_ghost_invariant_nothing_is_asked(change, reason) -> None:
    """Funding moves cash with no fill, and a start at maintenance gives no initial margin at P: the
    argument does not apply there, and no units are spent."""
    found = _attempt(attrs.evolve(Bounds(accounts=4), **change))
    assert isinstance(found, comp.Attempt) and not found.applies and found.queries == ()
    assert found.failed.startswith(adl_claims.WALK_RANKING) and reason in found.failed


def _broken(monkeypatch, module, name: str, mutant) -> str:
    monkeypatch.setattr(module, name, mutant)
    found = _attempt()
    assert isinstance(found, comp.Attempt) and found.applies, found
    return found.failed


def test_a_fill_a_quantum_a_lot_against_the_winners_breaks_the_turn(monkeypatch) -> None:
    """A winner paying a quantum a lot more than its share can fall below its margin at P."""
    real = adl_module.fill_gap
    failed = _broken(monkeypatch, adl_module, "fill_gap", lambda d, left, lots: real(d, left, lots) + lots)
    assert "own liquidation turn" in failed and "z3 found a model of its negation" in failed


def test_a_settlement_a_quantum_a_lot_off_breaks_its_lemma(monkeypatch) -> None:
    real = engine_module.settle_mark
    failed = _broken(monkeypatch, engine_module, "settle_mark", lambda ctx, new: real(ctx, new + 1))
    assert "a mark's settlement keeps" in failed and "z3 found a model of its negation" in failed


# deep since session 28 (3.95 s of CPU: the turn lemma's model at 2,633,383 units): the same mutant
# written into ``walk_step`` fails the concrete
# tests/rules/test_fidelity_dydx_deleveraging.py::TestDydxDeleveraging::test_per_lot_the_fine_lot_pays_a_quantum_a_lot
# (default, no z3), and the turn lemma's own mutant stays default (the fill a quantum a lot above)
@pytest.mark.deep
def test_a_turn_leaving_a_lot_behind_breaks_the_argument(monkeypatch) -> None:
    real = adl_module.walk_step

    def short_one(*args):
        q, paid, r, d = real(*args)
        entry = args[6]
        fewer = adl_module.ite(adl_module.and_(q == entry.lots, q > 0), q - 1, q)
        return fewer, paid, r + (q - fewer), d

    failed = _broken(monkeypatch, adl_module, "walk_step", short_one)
    assert "z3 found a model of its negation" in failed


def test_without_the_margin_floor_the_two_turns_are_not_ranked(monkeypatch) -> None:
    """The argument's own floor: the earlier candidate worth only 0 at P (not its initial margin)
    admits a skip (docs: z3's model at P = 286), so the two-turn lemma is refuted."""
    monkeypatch.setattr(adl_claims.Ghost, "covered", lambda self, account: self.worth(account) >= 0)
    with effort.question():
        premise, claim = adl_claims.ranking_walk_question(DYDX, for_policy(Bounds(accounts=3), DYDX), True)
        assert wall.check([*premise, z3.Not(claim)], [], 8_000_000, 300.0).result == "sat"


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_prove_says_every_n_and_k() -> None:
    """``prove`` at N = 2: the lemmas, then the direct check on their book; the verdict's scope is
    every N and K with what it assumes."""
    result = prove("dydx-v4", RANKING, Bounds(accounts=2, effort=6_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.method
    claim = next(o for o in result.obligations if o.obligation == RANKING)
    assert claim.scope.accounts is None and claim.scope.events is None
    assert adl_claims.ASSUMES_GHOST in result.scope.assumes
