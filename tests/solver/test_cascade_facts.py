"""Each trader's turn with the socialized loss's cascade as facts of the direct check on the lemmas' book
(``solver.cascade_facts``; docs/solver-notes.md#drifts-direct-check-session-21).

The three parts hold on Drift and Mango v4 (each in a fresh z3 context); the second trader's are the
first's renamed (not the same z3 term as its own turn's, so not a proof of that one: valid by the
renaming); with them Drift's no-negative-equity on two traders is proved for every N, where without
them it was undecided within 15.6M units. Mutants: a part one quantum off (its trader at or above 1)
has a model; a payer weighing its lots plus one fails the first part, and then no fact is given.
"""

from __future__ import annotations

import attrs
import pytest
import z3
from mutant_support import socialize_weighted

from solvent.rules.arith import abs_
from solvent.rules.presets import load_preset
from solvent.solver import cascade_facts, effort, payer_direct
from solvent.solver import compositional as comp
from solvent.solver import prove as prove_module
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_facts import in_turn_order, renamed
from solvent.solver.prove import prove
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import Verdict

TWO = Bounds(accounts=2, effort=10_000_000)


def _proved(preset: str, units: int = 4_000_000) -> tuple[cascade_facts.CascadeFacts | None, str, list]:
    """The facts proved in the question being asked (call inside ``effort.question()``: their terms
    are that context's)."""
    policy = load_preset(preset)
    checker = comp._Checker(for_policy(TWO, policy), units)
    said: list[tuple[str, str]] = []

    def valid(name, premise, claim):
        return checker.valid(name, premise, claim, exact=True)

    try:
        facts = cascade_facts.prove(policy, valid, lambda name, how: said.append((name, how)))
        return facts, "", checker.queries + said
    except comp._Failed as failed:
        return None, str(failed), checker.queries


def test_where_the_facts_serve() -> None:
    drift, mango, binance = (load_preset(p) for p in ("drift", "mango-v4", "binance"))
    for policy in (drift, mango):
        two = for_policy(TWO, policy)
        assert cascade_facts.fits(policy, two, "no-negative-equity")
        assert cascade_facts.fits(policy, two, "loss-bounded-by-collateral")
        assert not cascade_facts.fits(policy, two, "claims-backed")  # asked by its parts
        assert not cascade_facts.fits(policy, attrs.evolve(two, accounts=4), "no-negative-equity")
        assert not cascade_facts.fits(policy, attrs.evolve(two, events=2), "no-negative-equity")
    assert not cascade_facts.fits(binance, for_policy(TWO, binance), "no-negative-equity")


@pytest.mark.parametrize("preset", ("drift", "mango-v4"))
def test_the_first_traders_three_parts_hold_and_the_second_is_renamed(preset: str) -> None:
    with effort.question():
        _parts_and_renaming(preset)


def _parts_and_renaming(preset: str) -> None:
    facts, failed, queries = _proved(preset)
    assert facts is not None, failed
    asked = [q for q in queries if not isinstance(q, tuple)]
    assert [q.result for q in asked] == ["unsat"] * 3, [(q.name, q.result) for q in asked]
    for q, part in zip(asked, cascade_facts.PARTS, strict=True):
        assert q.name.startswith("alice's turn with the cascade") and q.name.endswith(part)
    said = [q for q in queries if isinstance(q, tuple)]
    assert len(said) == 3 and all(name.startswith("bob's turn") for name, _ in said)
    turns = dict(facts.turns)
    assert len(turns["alice"]) == len(turns["bob"]) == 3
    names = ["alice", "bob"]
    own_premise, own_claims = cascade_facts.parts(load_preset(preset), facts.book, "bob")
    for first, second, claim in zip(turns["alice"], turns["bob"], own_claims, strict=True):
        assert renamed(first, in_turn_order(names, "bob")).eq(second)
        # not bob's own turn's term (the sums run in book order): valid by the renaming, not by this
        assert not second.eq(z3.Implies(z3.And(*own_premise), claim))


def test_a_flat_trader_charged_by_the_socialized_loss_breaks_the_first_part(monkeypatch) -> None:
    """One token of the share's weight (a payer weighs its lots plus one): the payers' total weight no
    longer matches the shares, and the turn's own trader can be left below zero."""
    socialize_weighted(monkeypatch, lambda at, now, payer, bankrupt: abs_(at.account(payer).size_lots) + 1)
    with effort.question():
        facts, failed, _ = _proved("mango-v4")
    assert facts is None
    assert "its trader ends at or above 0" in failed and "z3 found a model" in failed


def test_a_part_one_quantum_off_has_a_model(monkeypatch) -> None:
    """The first part asked as 'its trader ends at or above 1': a turn can leave its trader at exactly 0."""
    parts = cascade_facts.parts

    def off(policy, free, trader):
        premise, claims = parts(policy, free, trader)
        return premise, [_shifted(claims[0]), *claims[1:]]

    monkeypatch.setattr(cascade_facts, "parts", off)
    with effort.question():
        facts, failed, _ = _proved("mango-v4")
    assert facts is None
    assert "its trader ends at or above 0" in failed and "z3 found a model" in failed


def _shifted(claim):
    """``value >= 0`` as ``value >= 1``."""
    assert z3.is_ge(claim) and z3.is_int_value(claim.arg(1)) and claim.arg(1).as_long() == 0
    return claim.arg(0) >= 1


def test_each_turns_parts_instantiated_on_the_question() -> None:
    from solvent.solver import story
    from solvent.solver.story import slots

    policy = load_preset("mango-v4")
    with effort.question():
        facts, failed, _ = _proved("mango-v4")
        assert facts is not None, failed
        bounds = for_policy(TWO, policy)
        book, _ = symbolic_book(bounds)
        runs = story.run(policy, book, slots(book, bounds))
        assert len(facts.instances(policy, book, runs)) == 6  # three parts at each of two turns


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_drifts_claims_are_proved_for_every_n_on_two_traders() -> None:
    """Undecided within 15.6M units of a 20M question before; with the facts proved for every N
    (docs/solver-notes.md#drifts-direct-check-session-21)."""
    result = prove("drift", "no-negative-equity", TWO, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert "all N" in result.scope.text
    assert payer_direct.CASCADE_METHOD in result.method
    names = [q.name for q in result.queries]
    assert sum(n.startswith("alice's turn with the cascade") for n in names) == 3


def test_the_facts_not_proved_leave_the_question_without_them(monkeypatch) -> None:
    """A part that does not hold gives no fact (a lemma is never assumed): ``prepared`` answers None."""
    socialize_weighted(monkeypatch, lambda at, now, payer, bankrupt: abs_(at.account(payer).size_lots) + 1)
    policy = load_preset("mango-v4")
    with effort.question():
        by_cases, queries = payer_direct.prepared(policy, for_policy(TWO, policy), "no-negative-equity")
    assert by_cases is None and any(q.result == "sat" for q in queries)
    assert prove_module._lemmas_book_fits(policy, prove_module.catalog.get("no-negative-equity"), Bounds(accounts=4))
