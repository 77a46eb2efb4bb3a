"""percolator Gen A's ``deficit-charged-once`` for every N, by a lemma on one resolve (``solver.haircut_once``).

The call's claim with each haircut share and the payers' total weight free, given the exact split's
sum (the shares add up to the split's target), names no candidate; the split's sum is the exact
split's lemma, asked at the call's payers and at N's
(docs/solver-notes.md#percolator-gen-as-deficit-charged-once-for-every-n-session-23).
"""

from __future__ import annotations

import inspect
import textwrap

import pytest
import z3

import solvent.rules.pro_rata as pro_rata
from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional, exact_split_lemma, haircut_once, waterfall_claims
from solvent.solver.bounds import Bounds

GEN_A = resolve_policy("percolator-gen-a")
CLAIM = catalog.get("deficit-charged-once")


@pytest.fixture
def fresh_exact_lemmas():
    """The exact split's lemma is asked once a process: a mutated split must not meet a cached verdict."""
    exact_split_lemma._verdict.cache_clear()
    yield
    exact_split_lemma._verdict.cache_clear()


def test_gen_a_deficit_charged_once_holds_for_every_n(fresh_exact_lemmas: None) -> None:
    found = compositional.attempt(GEN_A, CLAIM, Bounds(accounts=2, events=1, effort=10_000_000))
    assert isinstance(found, compositional.Extension), found
    assert found.method == haircut_once.METHOD and found.assumes == haircut_once.ASSUMES and found.every_k
    names = [q.name for q in found.queries]
    assert names[0] == "exact split lemma (3 payers, capped): Σ shares = T"
    assert any(n.startswith("deficit-charged-once of alice's resolve") for n in names)
    assert all(q.result.startswith("unsat") for q in found.queries)
    # the split's lemma is counted in the argument's units
    assert found.queries[0].units > 0


def test_at_n_the_split_is_also_asked_at_n_payers(fresh_exact_lemmas: None) -> None:
    found = compositional.attempt(GEN_A, CLAIM, Bounds(accounts=4, events=1, effort=10_000_000))
    assert isinstance(found, compositional.Extension)
    names = [q.name for q in found.queries]
    assert names[:2] == [
        "exact split lemma (3 payers, capped): Σ shares = T",
        "exact split lemma (4 payers, capped): Σ shares = T",
    ]


def test_the_call_names_no_candidate_and_needs_the_splits_sum() -> None:
    """With the shares free and nothing said of their sum the call's claim has a model (a cover past the
    deficit); with the sum the split's target it holds: the premise is what carries it."""
    call, premise, claim = haircut_once.question(GEN_A, Bounds(accounts=2, events=1))
    assert waterfall_claims.strangers(call, claim) == []
    assert len(premise) == 2
    without = z3.Solver()
    without.add(premise[0], z3.Not(claim))
    assert without.check() == z3.sat
    given = z3.Solver()
    given.add(*premise, z3.Not(claim))
    assert given.check() == z3.unsat


def _mutated(monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    source = textwrap.dedent(inspect.getsource(pro_rata.exact_split))
    assert source.count(old) == 1, old
    namespace = dict(vars(pro_rata))
    exec(compile(source.replace(old, new), pro_rata.__file__, "exec"), namespace)  # noqa: S102
    monkeypatch.setattr(pro_rata, "exact_split", namespace["exact_split"])


def test_a_split_one_quantum_too_generous_stops_the_argument(
    monkeypatch: pytest.MonkeyPatch, fresh_exact_lemmas: None
) -> None:
    """The mutant: ``extra_before < left`` read ``<=`` (one quantum too many once the remainder is
    reached): the split's lemma fails, so nothing is extended (the bounded question decides)."""
    _mutated(monkeypatch, "extra_before < left", "extra_before <= left")
    found = compositional.attempt(GEN_A, CLAIM, Bounds(accounts=2, events=1, effort=10_000_000))
    assert isinstance(found, compositional.Attempt)
    assert "exact split lemma (3 payers, capped)" in found.failed


@pytest.mark.parametrize("preset", ["percolator-gen-b", "drift", "binance", "mango-v4"])
def test_only_gen_as_waterfall_is_covered(preset: str) -> None:
    assert haircut_once.not_covered(resolve_policy(preset), Bounds(accounts=2)) is not None
    assert haircut_once.not_covered(GEN_A, Bounds(accounts=2)) is None
    assert haircut_once.not_covered(GEN_A, Bounds(accounts=2, markets=2)) is not None


@pytest.mark.deep
def test_gen_a_deficit_charged_once_at_three_moves_for_every_n_and_k() -> None:
    """The catalog's cell at N = 3, K = 3 (20M): undecided at eca22b5 (18,180,590 units), now proved for
    every N and any K, its assumption said."""
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    result = prove(GEN_A, CLAIM.id, Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED
    assert result.scope.accounts is None and result.scope.events is None
    assert haircut_once.ASSUMES in result.scope.text
