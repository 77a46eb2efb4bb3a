"""Percolator Gen B's cascade iteration from the payer's pieces (``solver.gen_b_turn``, session 24):
a sunk trader is a loser below zero, the resolve keeps the fund and a reachable book, and one
iteration of the cascade's loop, cut at its branches (each checked term for term to be the resolve
the payer's lemma speaks of), keeps the payer's bound
(docs/solver-notes.md#gen-bs-turn-and-cascade-step-from-the-payers-pieces-session-24).

Mutants: the cascade's test at ``value ≤ 0`` (a trader at 0 resolved: not below zero), the fund's
floor one quantum lower (the fund ends at −1), the cascade's iteration resolving the last sunk trader
instead of the first (not the chain of its branches in book order)."""

from __future__ import annotations

import functools

import attrs
import pytest
import z3

import solvent.rules.bankruptcy as bankruptcy
from solvent.rules.arith import and_
from solvent.rules.assets import account_value
from solvent.rules.book import new_book
from solvent.rules.ledger import Ctx
from solvent.rules.margin import open_lots
from solvent.rules.presets import resolve_policy
from solvent.solver import gen_b_turn, side_payer
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed

GEN_B = resolve_policy("percolator-gen-b")
UNITS = 2_000_000


def _valid(checker: _Checker):
    return functools.partial(checker.valid, exact=True)


def test_a_sunk_trader_is_a_loser_below_zero() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.sunk_lemmas(GEN_B, _valid(checker))
    # three traders, each side: 743 and 777 units each (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 6


def test_the_cascades_test_at_zero_breaks_the_sunk_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    # bankruptcy.sunk with one token changed: value <= 0, so a trader at exactly 0 is resolved
    def at_zero(policy, ctx, names):
        return [
            (n, and_(open_lots(ctx.book.account(n)) != 0, account_value(policy, (), ctx.book.account(n)) <= 0))
            for n in names
        ]

    monkeypatch.setattr(bankruptcy, "sunk", at_zero)
    checker = _Checker(Bounds(effort=UNITS))
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.sunk_lemmas(GEN_B, _valid(checker))


def test_the_cascades_test_on_the_concrete_engine() -> None:
    # the boundary the sunk lemma rests on: a long at 0 is not sunk, at -1 it is; flat at -1 is not
    book = new_book(mark_quote=10, traders=("alice", "bob", "carol"))

    def with_(cash: int, size: int):
        accounts = tuple(
            attrs.evolve(a, cash_quote=cash, size_lots=size, cost_quote=10 * size) if a.name == "alice" else a
            for a in book.accounts
        )
        return attrs.evolve(book, accounts=accounts)

    assert dict(bankruptcy.sunk(GEN_B, Ctx(with_(0, 1)), ["alice"]))["alice"] is False
    assert dict(bankruptcy.sunk(GEN_B, Ctx(with_(-1, 1)), ["alice"]))["alice"] is True
    assert dict(bankruptcy.sunk(GEN_B, Ctx(with_(-1, 0)), ["alice"]))["alice"] is False


def test_the_resolve_keeps_the_fund_and_a_reachable_book() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.keeps_lemmas(GEN_B, _valid(checker))
    # 781,923 units for both sides, the resolve's and the solvent close's (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 8
    assert sum(q.units for q in checker.queries) < 1_200_000


def test_a_fund_floor_one_quantum_lower_breaks_the_keeps_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    pay_from = bankruptcy.pay_from

    def lower(*args, floor: int = 0, **kwargs):
        return pay_from(*args, floor=floor - 1, **kwargs)

    monkeypatch.setattr(bankruptcy, "pay_from", lower)
    checker = _Checker(Bounds(effort=UNITS))
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.keeps_lemmas(GEN_B, _valid(checker))
    assert "the fund at or above 0" in checker.queries[-1].name


@pytest.mark.parametrize("names", [None, ["bob", "carol"]], ids=["every-trader", "after-alice"])
def test_the_cascades_iteration_keeps_the_payers_bound(names) -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.iteration_lemma(GEN_B, _valid(checker), names=names)
    # every trader 92,533 + 115,304 units, bob and carol (the cascade after alice) 61,284 + 59,784 (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 2
    assert sum(q.units for q in checker.queries) < 500_000


def test_the_iteration_needs_the_resolve_lemmas_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    # the composition is not vacuous: with each branch's resolve claims dropped it has a model
    resolve_parts = side_payer.resolve_parts

    def without_claims(*args, **kwargs):
        premise, claims, fact = resolve_parts(*args, **kwargs)
        return premise, [(said, z3.BoolVal(True)) for said, _ in claims], fact

    monkeypatch.setattr(side_payer, "resolve_parts", without_claims)
    checker = _Checker(Bounds(effort=UNITS))
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.iteration_lemma(GEN_B, _valid(checker))


def test_the_iteration_resolving_the_last_sunk_trader_is_not_its_branches(monkeypatch: pytest.MonkeyPatch) -> None:
    first_below = bankruptcy._first_below
    monkeypatch.setattr(
        bankruptcy,
        "_first_below",
        lambda policy, ctx, below, resolving: first_below(policy, ctx, below[::-1], resolving),
    )
    with pytest.raises(ValueError, match="not the chain of its branches"):
        gen_b_turn.iteration_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


@pytest.mark.deep
@pytest.mark.parametrize("who", ["bob", "carol"])
def test_the_resolve_keeps_the_fund_and_a_reachable_book_for_each_trader(who: str) -> None:
    """The iteration's other branches: 2 with bob or carol the bankrupt account (with
    ``side_payer``'s deep test, every branch's resolve lemma): bob 574,505 units, carol 681,292."""
    checker = _Checker(Bounds(effort=10_000_000))
    gen_b_turn.keeps_lemmas(GEN_B, _valid(checker), bankrupt=who)
    assert [q.result for q in checker.queries] == ["unsat"] * 8


def test_a_traders_turn_keeps_the_payers_bound() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.turn_lemma(GEN_B, _valid(checker))
    # 108,493 + 138,149 units (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 2
    assert sum(q.units for q in checker.queries) < 500_000


def test_the_turn_needs_the_solvent_close_lemmas_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    # the composition is not vacuous: with the solvent close's claims dropped it has a model (the
    # winner's fact is not needed there: z3 finds a winner untriggered from its bound itself)
    solvent_close_parts = side_payer.solvent_close_parts

    def without_claims(*args, **kwargs):
        premise, claims = solvent_close_parts(*args, **kwargs)
        return premise, [(said, z3.BoolVal(True)) for said, _ in claims]

    monkeypatch.setattr(side_payer, "solvent_close_parts", without_claims)
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.turn_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


def test_a_turn_whose_liquidation_does_nothing_is_not_its_branches(monkeypatch: pytest.MonkeyPatch) -> None:
    # the turn's term check: a liquidation that leaves the book as it was is not a resolve or a close
    import solvent.rules.engine as engine

    monkeypatch.setattr(engine, "liquidate", lambda policy, ctx, name: ctx)
    with pytest.raises(ValueError, match="does not branch on its bankruptcy"):
        gen_b_turn.turn_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


def test_the_cascades_loop_keeps_the_payers_bound() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.loop_lemma(GEN_B, _valid(checker))
    # 10,971 + 9,726 units (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 2


def test_a_loop_one_iteration_short_is_not_the_cascade(monkeypatch: pytest.MonkeyPatch) -> None:
    # bankruptcy._cascade with one iteration fewer than the traders outside its chain
    first_below, sunk = bankruptcy._first_below, bankruptcy.sunk

    def short(policy, ctx, resolving):
        names = [a.name for a in ctx.book.traders if a.name not in resolving]
        for _ in names[1:]:
            ctx, _ = first_below(policy, ctx, sunk(policy, ctx, names), resolving)
        return ctx

    monkeypatch.setattr(bankruptcy, "_cascade", short)
    with pytest.raises(ValueError, match="not one iteration per trader"):
        gen_b_turn.loop_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


def test_the_loop_needs_the_iterations_lemma_on_each_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    # with the iteration's claim dropped from the fact (each side's first call of _kept; the loop's own
    # claim, the second, kept) the loop's composition has a model: it is not vacuous
    kept, calls = gen_b_turn._kept, [0]

    def fact_dropped(policy, before, after, side, move):
        calls[0] += 1
        return [z3.BoolVal(True)] if calls[0] % 2 == 1 else kept(policy, before, after, side, move)

    monkeypatch.setattr(gen_b_turn, "_kept", fact_dropped)
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.loop_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


def test_a_traders_turn_with_its_cascade_keeps_the_payers_bound() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.turn_lemma(GEN_B, _valid(checker), cascade=True)
    # 165,065 + 215,220 units (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 2
    assert sum(q.units for q in checker.queries) < 1_000_000


def test_the_turn_with_its_cascade_needs_the_loops_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    # the loop's instance dropped: the loop's book is free and the composition has a model
    monkeypatch.setattr(gen_b_turn, "_loop_instance", lambda *args: z3.BoolVal(True))
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.turn_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))), cascade=True)


@pytest.mark.deep
@pytest.mark.parametrize("who", ["bob", "carol"])
def test_every_traders_turn_keeps_the_payers_bound(who: str) -> None:
    """The turn with bob or carol acted on (their payers around them in book order, so not alice's
    renamed): the iteration over the other two, the loop after its resolve, its turn without and with
    the cascade, each exact (session 24: bob 723,501 units in all, carol 640,076; 2-3 s each at
    load 3.5)."""
    checker = _Checker(Bounds(effort=10_000_000))
    valid = _valid(checker)
    gen_b_turn.iteration_lemma(GEN_B, valid, names=[n for n in ("alice", "bob", "carol") if n != who])
    gen_b_turn.loop_lemma(GEN_B, valid, chain=who)
    gen_b_turn.turn_lemma(GEN_B, valid, acted=who)
    gen_b_turn.turn_lemma(GEN_B, valid, cascade=True, acted=who)
    assert len(checker.queries) == 8 and all(q.result == "unsat" for q in checker.queries)


def test_the_sweeps_turns_leave_every_trader_at_or_above_zero() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.sweep_lemma(GEN_B, _valid(checker))
    # 105,330 + 56,087 units (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 2


def test_the_sweep_needs_the_turn_lemma_on_each_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    # each turn's fact dropped (its book kept): the sweep's composition has a model
    turn_formula = gen_b_turn._turn_formula

    def dropped(*args):
        _, after = turn_formula(*args)
        return z3.BoolVal(True), after

    monkeypatch.setattr(gen_b_turn, "_turn_formula", dropped)
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.sweep_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


def test_the_turn_at_no_move_needs_the_other_sides_solvent_close(monkeypatch: pytest.MonkeyPatch) -> None:
    # at m = 0 a trader on the winning side may be triggered (E = MM = 0) and closed solvent: the turn reads
    # the other side's solvent close lemma for it; with that fact's claims dropped (each side's second
    # call) the composition has a model
    solvent_close_parts, calls = side_payer.solvent_close_parts, [0]

    def other_dropped(*args, **kwargs):
        premise, claims = solvent_close_parts(*args, **kwargs)
        calls[0] += 1
        return premise, claims if calls[0] % 2 == 1 else [(said, z3.BoolVal(True)) for said, _ in claims]

    monkeypatch.setattr(side_payer, "solvent_close_parts", other_dropped)
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.turn_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))


def test_the_settlements_claim_gives_the_sweeps_premise() -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_turn.start_lemma(GEN_B, _valid(checker))
    # 25,905 + 21,896 units (session 24)
    assert [q.result for q in checker.queries] == ["unsat"] * 2


def test_an_initial_margin_one_quantum_lower_breaks_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # margin.initial_margin less one quantum: at no position it is -1, so a flat trader's settlement
    # claim leaves it at -1, below the sweep's premise (the initial margin at least 0 is what it reads)
    import solvent.rules.margin as margin

    initial_margin = margin.initial_margin
    monkeypatch.setattr(margin, "initial_margin", lambda *args, **kwargs: initial_margin(*args, **kwargs) - 1)
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_turn.start_lemma(GEN_B, _valid(_Checker(Bounds(effort=UNITS))))
