"""dYdX's ``deficit-charged-once`` for every N and K by induction over its walk (solver/deficit_once.py,
``walk_argument``; docs/solver-notes.md#dydxs-walk-the-remaining-claims-session-20).

dYdX's ADL walks its candidates in turn, each fill paying its rounded share of the deficit the fills
before it left, so the one-fill argument of the ranked queues does not carry it. Each turn from a
state within the walk's invariant keeps it and serves ``0 ≤ q ≤ r`` lots for a payment ``≥ 0``; each
fill moves the bankrupt account's cash by its payment and its position ``q`` lots toward zero. So
after a walk of any length the bankrupt account's side is one fill's of ``X = Σ q`` lots paying
``Y = Σ paid``, and the two-trader call with its one payment free (any ``Y`` a walk leaves within the
invariant) covers every such pair. A one-token change to the walk's share, to what a turn serves or
to a fill's position, or the argument without its premise on ``Y``, breaks a lemma.
"""

from __future__ import annotations

import pytest
import z3

import solvent.rules.adl as adl_module
import solvent.rules.positions as positions
from solvent.properties import catalog
from solvent.rules.arith import ite, max_
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional as comp
from solvent.solver import deficit_once, effort, wall
from solvent.solver.bounds import Bounds, for_policy

DYDX = resolve_policy("dydx-v4")
CLAIM = deficit_once.CLAIM
UNITS = 5_000_000


def _attempt(**bounds: object) -> comp.Extension | comp.Attempt | None:
    with effort.question():
        return comp.attempt(DYDX, catalog.get(CLAIM), for_policy(Bounds(accounts=4, **bounds), DYDX), units=UNITS)


def test_the_walk_carries_the_claim_to_every_n() -> None:
    """Nine lemmas unsat (0.35M units at N = 4: the two calls with a free payment 29K and 49K, the
    engine's own walk meeting their premise 74K and 69K, the deferred account's 4K), the verdict
    any K and what it assumes."""
    found = _attempt()
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == deficit_once.ASSUMES_WALK and not found.trivial_extends
    asked = [q for q in found.queries if q.units]
    assert [q.result for q in asked] == ["unsat"] * 9, [(q.name, q.result) for q in asked]
    assert sum(q.units for q in asked) < 1_000_000
    names = " | ".join(q.name for q in asked)
    for said in (
        "walk starts within",
        "serves 0 ≤ q ≤ r",
        "alice's resolve",
        "bob's resolve",
        "deferred",
        "one ADL fill",
    ):
        assert said in names
    assert "induction over the walk" in found.method


def test_the_payment_premise_is_what_the_call_lemma_needs() -> None:
    """The call's lemma without its premise on the free payment (any Y) is false: z3 finds a model."""
    answers = []

    def valid(name, premise, claim, exact=True):
        if "meets the free payment's premise" in name:
            return name
        with_it = wall.check([*premise, z3.Not(claim)], [], 3_000_000, 300.0).result
        without = wall.check([*premise[:-1], z3.Not(claim)], [], 3_000_000, 300.0).result
        answers.append((with_it, without))
        return name

    with effort.question():
        deficit_once.walk_call_lemmas(DYDX, valid, pytest.fail)
    assert answers == [("unsat", "sat"), ("unsat", "sat")]


def test_a_premise_owing_a_quantum_more_than_the_walk_starts_from_is_caught(monkeypatch) -> None:
    """The argument's own deficit one quantum more than the engine's walk starts from (its equity
    read a quantum lower): the engine's own walk no longer meets the premise, and nothing is extended."""
    real = deficit_once.equity
    monkeypatch.setattr(deficit_once, "equity", lambda rule, account: real(rule, account) - 1)
    # the call's lemmas alone, as walk_argument asks them (after the step's and the walk's, which the whole
    # attempt asked first: session 30)
    checker = comp._Checker(Bounds(accounts=4, effort=UNITS))
    with effort.question(), pytest.raises(comp._Failed, match="z3 found a model") as failed:
        deficit_once.walk_call_lemmas(DYDX, checker.valid, checker.fail)
    assert "alice's walk of one candidate (the engine's own payment) meets the free payment's premise" in str(
        failed.value
    )


def _broken(monkeypatch, module, name: str, mutant) -> str:
    monkeypatch.setattr(module, name, mutant)
    found = _attempt()
    assert isinstance(found, comp.Attempt) and found.applies, found
    return found.failed


def test_a_share_a_quantum_a_lot_against_the_winners_breaks_the_walk(monkeypatch) -> None:
    real = adl_module.fill_gap
    failed = _broken(monkeypatch, adl_module, "fill_gap", lambda d, left, lots: real(d, left, lots) + lots)
    assert "turn of the walk" in failed and "z3 found a model" in failed


def test_a_turn_serving_a_lot_more_than_is_left_breaks_the_sums(monkeypatch) -> None:
    real = adl_module.walk_step

    def more(*args):
        q, paid, r, d = real(*args)
        q2 = ite(q > 0, q + 1, q)
        return q2, paid, r - (q2 - q), d

    failed = _broken(monkeypatch, adl_module, "walk_step", more)
    assert "z3 found a model" in failed


def test_a_fill_moving_the_position_one_lot_short_breaks_a_lemma(monkeypatch) -> None:
    def fill(ctx, buyer, seller, lots, price, reason):
        diff = lots * (price - ctx.market.mark_quote)
        ctx = ctx.transfer(buyer, seller, max_(diff, 0), reason)
        ctx = ctx.transfer(seller, buyer, max_(-diff, 0), reason)
        ctx = ctx.record_fill(buyer, seller, lots, price, reason)
        ctx = positions.move_position(ctx, buyer, lots, price)
        return positions.move_position(ctx, seller, 1 - lots, price)

    # the walk's last lemma, alone (deficit_once.walk_argument asks fill_lemma after the walk's and the call's
    # lemmas, which the whole attempt asked first: session 30)
    monkeypatch.setattr(positions, "fill", fill)
    checker = comp._Checker(Bounds(accounts=4, effort=UNITS))
    with effort.question(), pytest.raises(comp._Failed, match="z3 found a model") as failed:
        deficit_once.fill_lemma(checker.valid, checker.fail)
    assert str(failed.value).startswith("one ADL fill of q ≤ |S| lots")


def test_a_walk_is_not_the_ranked_queues_argument() -> None:
    """The ranked queues' one-fill argument still says why it does not cover a walk; the walk's own
    covers one market only."""
    assert "walks the candidates in turn" in deficit_once.not_covered(DYDX, Bounds(accounts=2))
    assert deficit_once.walk_not_covered(DYDX, Bounds(accounts=2)) is None
    assert "one market" in deficit_once.walk_not_covered(DYDX, Bounds(accounts=2, markets=2))
    assert deficit_once.walk_not_covered(resolve_policy("binance"), Bounds(accounts=2)) == "not a walk"


def test_prove_says_every_n_and_k() -> None:
    """``prove`` at N = 2 (1.21M units): the lemmas, then the direct check on their book."""
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    result = prove("dydx-v4", CLAIM, Bounds(accounts=2, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.method
    claim = next(o for o in result.obligations if o.obligation == CLAIM)
    assert claim.scope.accounts is None and claim.scope.events is None
    assert result.scope.assumes == deficit_once.ASSUMES_WALK
