"""Percolator Gen B's ``flat-accounts-never-pay`` over mark moves (``solver.gen_b_flat``,
docs/solver-notes.md#gen-bs-flat-accounts-never-pay-at-k--3-session-26).

From any state the flat-trader lemma has a model on Gen B (alice flat below zero, written off past
the fund at her turn; bob flat with a reserve released into matured profit pays the haircut). With
every flat trader worth at least zero when the move starts it holds, and bob ends the move flat at
his cash. Boundaries: the premise at 0 holds, one quantum lower (−1) has a model; on the concrete
engine alice flat at 0 leaves bob alone, at −1 bob pays 1, and a fund of 1 covers her. Mutants: the
haircut before the per-lot charge (the waterfall's two layers swapped) and, deep, the per-lot charge
weighing every payer alike (a flat trader gives up lots) each give the lemma a model; a start
without its margin condition does not give the premise."""

from __future__ import annotations

import functools

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import side_index, wellformed
from solvent.rules.book import new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.presets import resolve_policy
from solvent.rules.pro_rata import payers
from solvent.rules.wellformed import StartMargin
from solvent.solver import gen_b_flat, per_account
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed
from tests.rules.test_fidelity_round_two import _evolve

GEN_B = resolve_policy("percolator-gen-b")
UNITS = 2_000_000


def _lemma(policy=GEN_B, floor: int = 0, units: int = UNITS) -> list:
    checker = _Checker(Bounds(effort=units))
    gen_b_flat.flat_lemma(policy, functools.partial(checker.valid, exact=True), checker.fail, floor=floor)
    return checker.queries


def _fail(reason: str) -> None:
    raise AssertionError(reason)


@pytest.fixture
def run_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The argument's decomposition (its step 1, 70% of the build, asked by the lemma's own test)
    left out: a mutant's model is the run's."""
    monkeypatch.setattr(per_account, "_decomposes", lambda *args, **kwargs: "decomposition (not asked here)")


def test_from_flat_traders_worth_at_least_zero_no_turn_charges_a_flat_trader(run_only: None) -> None:
    # 89,614 units (session 26): the catalog's claim and bob ending flat at his cash
    queries = _lemma()
    assert [q.result for q in queries if "from flat traders worth at least zero" in q.name] == ["unsat"]


@pytest.mark.deep  # the decomposition's build: 1.1-1.8 s at load 7-9
def test_the_whole_lemma_with_its_decomposition_holds() -> None:
    lemmas = gen_b_flat.flat_lemma(GEN_B, functools.partial(_Checker(Bounds(effort=UNITS)).valid, exact=True), _fail)
    assert lemmas[0].startswith("decomposition (mark)") and lemmas[-1].startswith("aggregate")


def test_the_premise_one_quantum_lower_has_a_model(run_only: None) -> None:
    with pytest.raises(_Failed, match="from flat traders worth at least zero.*z3 found a model"):
        _lemma(floor=-1)


def test_the_haircut_before_the_per_lot_charge_charges_a_flat_trader(run_only: None) -> None:
    # the waterfall's last two layers swapped (the haircut over matured profit before the per-lot
    # charge of the opposing side): a bankrupt alice's deficit reaches bob's released reserve
    fund, per_lot, haircut = GEN_B.deficit
    swapped = attrs.evolve(GEN_B, deficit=(fund, haircut, per_lot))
    with pytest.raises(_Failed, match="from flat traders worth at least zero.*z3 found a model"):
        _lemma(swapped)


@pytest.mark.deep  # 3.95M units, 19 s at load 7
def test_a_per_lot_charge_weighing_every_payer_alike_charges_a_flat_trader(
    monkeypatch: pytest.MonkeyPatch, run_only: None
) -> None:
    # side_index.opposing_lots with one token changed: each payer's weight 1, not its opposing lots
    monkeypatch.setattr(
        side_index, "opposing_lots", lambda book, bankrupt: [(a.name, 1) for a in payers(book, bankrupt)]
    )
    with pytest.raises(_Failed, match="z3 found a model"):
        _lemma(units=10_000_000)


@pytest.mark.parametrize("margin", list(StartMargin))
def test_a_well_formed_start_gives_the_premise(margin: StartMargin) -> None:
    checker = _Checker(Bounds(effort=UNITS))
    gen_b_flat.start_lemma(GEN_B, functools.partial(checker.valid, exact=True), margin)
    assert [q.result for q in checker.queries] == ["unsat", "unsat"]


def test_a_start_without_its_margin_condition_does_not_give_the_premise(monkeypatch: pytest.MonkeyPatch) -> None:
    # the start's margin condition dropped (wellformed's rules read at margin=None): a flat trader below zero
    rules = wellformed._rules
    monkeypatch.setattr(wellformed, "_rules", lambda policy, margin, assets: rules(policy, None, assets))
    monkeypatch.setattr(gen_b_flat, "trader_conditions", wellformed.trader_conditions)
    checker = _Checker(Bounds(effort=UNITS))
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_flat.start_lemma(GEN_B, functools.partial(checker.valid, exact=True))


def _book(alice: int, reserve: int = 1, fund: int = 0):
    """The lemma's model as a book: mark 1, alice flat at ``alice``, bob flat at 1 with ``reserve``
    of it reserved (slope 1, so the slot's release matures one quantum), the fund at ``fund``."""
    book = new_book(mark_quote=1, traders=("alice", "bob"))
    return _evolve(
        book,
        alice={"cash_quote": alice, "principal_quote": max(alice, 0)},
        bob={
            "cash_quote": 1,
            "principal_quote": 1,
            "window_pnl_quote": reserve,
            "reserve_slope_quote": int(reserve > 0),
        },
        insurance_fund={"cash_quote": fund},
    )


def _bob_pays(book) -> tuple[int, bool]:
    s = step(GEN_B, book, MarkPrice(1))
    paid = sum(t.amount_quote for t in s.transfers if t.source == "bob" and t.reason is Reason.HAIRCUT)
    return paid, catalog.get("flat-accounts-never-pay").holds(StepView.of(GEN_B, s))


def test_the_models_book_on_the_concrete_engine() -> None:
    assert _bob_pays(_book(0)) == (0, True)
    assert _bob_pays(_book(-1)) == (1, False)  # alice's write-off past an empty fund: bob's matured quantum
    assert _bob_pays(_book(-1, fund=1)) == (0, True)
    assert _bob_pays(_book(-1, reserve=0)) == (0, True)  # nothing matured, nothing haircut
    # bob's side is a well-formed flat account; what the book breaks is alice's margin alone
    assert wellformed.reasons(GEN_B, _book(0)) == []
    [broken] = wellformed.reasons(GEN_B, _book(-1))
    assert broken.startswith("traders margin-compliant: alice: equity -1")


def test_a_move_leaves_a_liquidated_trader_flat_with_a_reserve() -> None:
    """bob's side of the model is reachable: from a well-formed book (bob long 10 at 100 on 100 of
    reserve, capital 0), the mark at 94 liquidates him (equity 40 at maintenance 47) and he ends
    flat at 35 with all 35 reserved at slope 1, a well-formed book, so the next slot's release
    matures a quantum of it, which a haircut would reach (at 95: equity 50 over 47, not liquidated)."""
    book = new_book(mark_quote=100, traders=("alice", "bob"))
    book = _evolve(
        book,
        alice={"size_lots": -10, "cost_quote": -1_000, "cash_quote": 1_000, "principal_quote": 1_000},
        bob={
            "size_lots": 10,
            "cost_quote": 1_000,
            "cash_quote": 100,
            "principal_quote": 100,
            "window_pnl_quote": 100,
            "reserve_slope_quote": 1,
        },
    )
    assert wellformed.reasons(GEN_B, book) == []
    after = step(GEN_B, book, MarkPrice(94)).after
    bob = after.account("bob")
    assert (bob.size_lots, bob.cash_quote, bob.principal_quote, bob.window_pnl_quote, bob.reserve_slope_quote) == (
        0,
        35,
        35,
        35,
        1,
    )
    assert wellformed.reasons(GEN_B, after, margin=None) == []
    assert step(GEN_B, book, MarkPrice(95)).after.account("bob").size_lots == 10


def test_at_k_3_the_flat_claim_takes_gen_b_s_route_over_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    # the route's pieces stubbed: where the flat lemma fails, the attempt fails naming the route
    from solvent.solver import compositional, gen_b_payer

    monkeypatch.setattr(gen_b_payer, "argument", lambda *args, **kwargs: ["no-negative-equity over moves (stub)"])

    def fails(policy, valid, fail, floor=0):
        raise _Failed("the flat lemma (stub)")

    monkeypatch.setattr(gen_b_flat, "flat_lemma", fails)
    found = compositional.attempt(GEN_B, catalog.get("flat-accounts-never-pay"), Bounds(accounts=3, events=3))
    assert isinstance(found, compositional.Attempt)
    assert "Gen B's flat traders over moves: the flat lemma (stub)" in found.failed


@pytest.mark.deep  # 5.9M units, 30 s at load 5
def test_at_k_3_the_flat_claim_is_proved_for_every_n_and_k_over_moves() -> None:
    from solvent.solver import compositional

    found = compositional.attempt(
        GEN_B, catalog.get("flat-accounts-never-pay"), Bounds(accounts=3, events=3, effort=20_000_000)
    )
    assert isinstance(found, compositional.Extension), found.failed
    assert found.every_k and found.one_event_start == "maintenance"
    assert [q.result for q in found.queries if "from flat traders worth at least zero" in q.name] == ["unsat"]
