"""A claim the policy accepts as failing, searched first on the grid at check's own book in check's second
round (``solver.prove._accepted_on_grid``, ``verdicts.proofs``;
docs/solver-notes.md#accepted-claims-on-checks-own-book-on-the-grid-session-32).

percolator Gen A accepts ``flat-accounts-never-pay`` (its haircut takes from flat accounts' matured
profit, as the venue's document says). Within ``solvent check`` (N = 2, one mark move) the claim was asked
whole twice, 7.3M and then 10M units, and stayed undecided; on the grid's doubling and halving at N = 2
the story is found in under a third of the units."""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.prove import GRID, GRID_SHARE, prove
from solvent.solver.refinement import replay
from solvent.solver.verdicts import ProofResult, Verdict
from solvent.verdicts import proofs

CLAIM = "flat-accounts-never-pay"


def test_gen_as_accepted_claim_is_refuted_on_the_grid_at_checks_book() -> None:
    policy = load_preset("percolator-gen-a")
    assert CLAIM in policy.accepts
    bounds = Bounds(accounts=2, events=1, effort=10_000_000)
    result = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert result.verdict is Verdict.REFUTED and result.accepted
    assert result.units <= 10_000_000 // GRID_SHARE  # the grid's third, nothing after it
    assert GRID in result.method
    assert result.scope.accounts == 2 and result.scope.prices == "prices 1..1000000000"  # the question's scope
    story = result.counterexample
    assert story is not None and story.step_index == 0
    rep = replay(policy, catalog.get(CLAIM), story.story, attrs.evolve(bounds, effort=1))
    assert rep.violates  # the concrete engine breaks the claim on the grid's story


def test_the_grid_is_searched_on_one_trader_first() -> None:
    """Gen A's no-haircut (accepted too): its story is found on one trader's book, as the question of a
    larger N finds it on its smaller books, so check tells it at its least move on a book of one trader
    (solver.smallest_move); flat-accounts-never-pay needs a flat account beside the loser, so its one-trader
    grid is searched and proved, then N = 2's found (both counted)."""
    policy = load_preset("percolator-gen-a")
    bounds = Bounds(accounts=2, events=1, effort=10_000_000)
    haircut = prove(policy, "no-haircut", bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert haircut.verdict is Verdict.REFUTED and len(haircut.counterexample.story.book.traders) == 1
    assert haircut.scope.accounts == 2 and haircut.units <= 10_000_000 // GRID_SHARE
    flat = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert len(flat.counterexample.story.book.traders) == 2
    # the one-trader grid asked first, at both points, and the claim holds there
    first = [q.result.split(" ")[0] for q in flat.queries if q.name.startswith(CLAIM)][:2]
    assert first == ["unsat", "unsat"] and flat.queries[0].name == "build at prices 2, 4"


def _queries(result: ProofResult) -> list[tuple[str, int]]:
    return [(q.name, q.units) for q in result.queries]


def test_a_claim_the_policy_does_not_accept_is_asked_as_without_the_flag() -> None:
    """The mutant: the same claim on Gen A with its acceptance dropped: no grid, the same queries and
    units as the question asked without the flag."""
    policy = load_preset("percolator-gen-a")
    plain = attrs.evolve(policy, accepts=tuple(c for c in policy.accepts if c != CLAIM))
    bounds = Bounds(accounts=2, events=1, effort=300_000)
    flagged = prove(plain, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    asked = prove(plain, CLAIM, bounds, minimize=False, payer_first=False)
    assert _queries(flagged) == _queries(asked)
    assert GRID not in flagged.method
    # accepted, the same small purse starts with the grid's search (its own queries first)
    accepted = prove(policy, CLAIM, bounds, minimize=False, payer_first=False, accepted_grid=True)
    assert _queries(accepted) != _queries(asked)
    assert sum(u for _, u in _queries(accepted)) <= 300_000


def test_check_asks_the_grid_only_in_its_second_round(monkeypatch) -> None:
    """Round one asks every claim as before; a claim left undecided is asked again in round two with the
    flag (only a claim the policy accepts is then searched on the grid: the test above)."""
    flags: list[tuple[str, bool]] = []

    def fake(policy, invariant_id, bounds, *, minimize, payer_first, given, accepted_grid):
        flags.append((invariant_id, accepted_grid))
        verdict = Verdict.UNKNOWN if invariant_id == CLAIM and not accepted_grid else Verdict.PROVED
        return ProofResult(policy.name, invariant_id, verdict, None, 0.0, "")

    monkeypatch.setattr("solvent.solver.prove.prove", fake)
    policy = load_preset("percolator-gen-a")
    # nothing spent: round one gives the claim 1.5M of 3M (two claims asked after it), round two all 3M
    ids = ["conservation", CLAIM, "no-haircut"]
    proofs.prove_within(policy, ids, proofs.ProofBudget(total=3_000_000, moves=None))
    assert flags == [("conservation", False), (CLAIM, False), ("no-haircut", False), (CLAIM, True)]
