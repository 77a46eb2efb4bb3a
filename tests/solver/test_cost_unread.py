"""A question that reads no cost basis after its event does not build one (``solver.unread``,
``rules.positions.cost_unread``): each moved position's cost basis is a fresh variable, checked
absent from every formula the question asks; where a formula reads one, the question is built again
with every cost basis built (docs/solver-notes.md#percolator-at-n--4-session-20)."""

from __future__ import annotations

import pytest
import z3

from solvent.properties import catalog
from solvent.properties.catalog import Invariant, Severity
from solvent.rules import positions
from solvent.rules.arith import all_
from solvent.rules.presets import load_preset, preset_names
from solvent.solver import unread
from solvent.solver.bounds import Bounds
from solvent.solver.query import StoryQuery

GEN_B = "percolator-gen-b"


def _question(policy, invariant, *, cut: bool, monkeypatch, accounts: int = 2) -> StoryQuery:
    with monkeypatch.context() as m:
        if not cut:
            m.setattr(unread, "fits", lambda policy: False)
        return StoryQuery(policy, invariant, Bounds(accounts=accounts, effort=10**9))


def test_the_gate_is_the_percolator_generations() -> None:
    fits = {name for name in preset_names() if unread.fits(load_preset(name))}
    assert fits == {"percolator-gen-a", GEN_B}
    # where the engine reads a cost basis: an ADL score (binance), maintenance on entry (bybit)
    assert unread.engine_reads_cost(load_preset("binance"))
    assert unread.engine_reads_cost(load_preset("bybit"))
    assert not unread.engine_reads_cost(load_preset(GEN_B))


@pytest.mark.parametrize("claim", ["no-negative-equity", "deficit-charged-once", "principal-protected"])
def test_the_claims_terms_are_the_same_without_the_cost_basis(claim: str, monkeypatch) -> None:
    policy = load_preset(GEN_B)
    invariant = catalog.get(claim)
    cut = _question(policy, invariant, cut=True, monkeypatch=monkeypatch)
    whole = _question(policy, invariant, cut=False, monkeypatch=monkeypatch)
    assert cut.unread is not None and cut.unread.made  # the cut held: cost bases were left unbuilt
    assert whole.unread is None
    # the claim and the transfers are the very same z3 terms, built without the cost basis
    assert cut.violations.keys() == whole.violations.keys()
    for key, term in whole.violations.items():
        assert z3.is_expr(term) and cut.violations[key].eq(term), key
    assert [a.name for a in cut.assumptions] == [a.name for a in whole.assumptions]
    for a, b in zip(cut.assumptions, whole.assumptions, strict=True):
        assert z3.BoolVal(a.holds).eq(z3.BoolVal(b.holds)) if type(a.holds) is bool else a.holds.eq(b.holds)
    # and fewer build steps: a cost basis is about twelve a move
    assert cut.build_units < whole.build_units


def _reads_cost(view) -> object:
    return all_(a.cost_quote >= -(10**15) for a in view.after.traders)


def test_a_claim_that_reads_a_cost_basis_is_built_with_it(monkeypatch) -> None:
    policy = load_preset(GEN_B)
    reads = Invariant("reads-cost", "", Severity.MEDIUM, _reads_cost)
    asked = _question(policy, reads, cut=True, monkeypatch=monkeypatch)
    whole = _question(policy, reads, cut=False, monkeypatch=monkeypatch)
    assert asked.unread is None  # the fresh variables were found in its formula: built again
    key = "reads-cost"
    assert asked.violations[key].eq(whole.violations[key])
    assert not unread.occurs([asked.violations[key]], [z3.Int(f"{unread.PREFIX}0")])
    # the first build is spent as well: more steps than the question built whole once
    assert asked.build_units > whole.build_units


def test_an_extra_formula_reading_a_cost_basis_is_refused(monkeypatch) -> None:
    policy = load_preset(GEN_B)
    q = _question(policy, catalog.get("no-negative-equity"), cut=True, monkeypatch=monkeypatch)
    extra = q.unread.made[0] >= 0
    with pytest.raises(ValueError, match="cost basis"):
        q.check_obligation(catalog.get("no-negative-equity"), extra=extra, units=1000)


def test_occurs() -> None:
    x, y, f = z3.Int("x"), z3.Int("y"), z3.Int(f"{unread.PREFIX}7")
    assert unread.occurs([x + y >= 0, z3.If(x > 0, f, y) == 1], [f])
    assert not unread.occurs([x + y >= 0, True], [f])
    assert not unread.occurs([f >= 0], [])


def test_the_concrete_engine_builds_the_cost_basis() -> None:
    """Within the context a concrete move's cost basis is computed (only a symbolic one is left
    unbuilt), and outside it a symbolic one is built."""
    made = []

    def fresh():
        made.append(z3.Int(f"{unread.PREFIX}{len(made)}"))
        return made[-1]

    with positions.cost_unread(fresh):
        assert positions._moved(10, -4, 1000, 120) == (6, 600)
        assert positions._moved(10, -14, 1000, 120) == (-4, -480)
        size, cost = positions._moved(z3.Int("s"), 3, z3.Int("c"), 100)
        assert cost is made[0]
    size, cost = positions._moved(z3.Int("s"), 3, z3.Int("c"), 100)
    assert z3.is_expr(cost) and not unread.occurs([cost == 0], made)
