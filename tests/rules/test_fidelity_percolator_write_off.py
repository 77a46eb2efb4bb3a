"""Percolator Gen B's zero-position negative remainder (spec v11.11 §7.3, §4.9; ``bankruptcy.write_off``,
docs/model.md#percolator-gen-bs-whole-lot-shrink-the-charge-follows-the-lots-taken-session-22, part 2).

"If after settling from principal ``PNL_i < 0`` and ``effective_pos_q(i) == 0``, the engine MUST call
``absorb_protocol_loss(−PNL_i)`` and ``set_pnl(i, 0)``"; ``absorb_protocol_loss`` spends the insurance
fund down to ``I_floor`` and leaves the rest to junior undercollateralization through ``h``. Run for
Gen B at the end of each trader's liquidation turn (its touch, §10.1 step 10): a flat trader below zero
that the step has not resolved goes down the
waterfall as a flat account (the fund above its floor, no per-lot charge, the haircut over matured
profit), each a transfer; what the matured profit cannot pay stays on it as a ``Residual``.

The book: mark 100; alice flat at ``cash``; bob long 1 on 1,000 (no profit); carol short 1 on 1,000
with ``matured`` of it matured profit (principal 1,000 − matured); the order book flat and empty; the
fund at ``fund``. The event is a mark "move" to 100: nothing settles, nobody is triggered.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import bankruptcy
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt, LayerUsed, Residual
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import InsuranceFund
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught, mutants

GEN_B = load_preset("percolator-gen-b")
GEN_A = load_preset("percolator-gen-a")
#: the claims the write-off is for (docs/solver-notes.md#a-finding-the-payer-claims-are-false-on-gen-b-by-the-whole-lot-shrink)
PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "principal-protected")
WATERFALL = ("conservation", "deficit-charged-once", "waterfall-order", "flat-accounts-never-pay")


def floored(floor: int):
    """Gen B with the insurance fund's floor (``I_floor``) at ``floor``."""
    layers = tuple(attrs.evolve(x, floor_quote=floor) if isinstance(x, InsuranceFund) else x for x in GEN_B.deficit)
    return attrs.evolve(GEN_B, deficit=layers)


def book(cash: int, fund: int = 0, matured: int = 0) -> Book:
    b = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
    return _evolve(
        b,
        alice={"cash_quote": cash, "principal_quote": max(cash, 0)},
        bob={"size_lots": 1, "cost_quote": 100, "cash_quote": 1_000, "principal_quote": 1_000},
        carol={"size_lots": -1, "cost_quote": -100, "cash_quote": 1_000, "principal_quote": 1_000 - matured},
        insurance_fund={"cash_quote": fund},
    )


def moved(policy, b: Book, mark: int = 100) -> dict:
    """What the step did: the waterfall's transfers, alice's outcomes, alice's equity after."""
    s = step(policy, b, MarkPrice(mark))
    paid = [
        (t.source, t.destination, t.amount_quote, t.reason.name)
        for t in s.transfers
        if t.reason in (Reason.INSURANCE_FUND, Reason.HAIRCUT, Reason.PRO_RATA_DUST, Reason.SOCIALIZED_LOSS)
    ]
    outcomes = [o for o in s.outcomes if isinstance(o, (Bankrupt, Residual, LayerUsed))]
    return {"paid": paid, "outcomes": outcomes, "alice": equity(policy.margin, s.after.account("alice")), "step": s}


def holds(policy, s, claims) -> dict[str, bool]:
    view = StepView.of(policy, s)
    return {c: catalog.get(c).holds(view) for c in claims}


def test_flat_at_exactly_zero_is_left_alone() -> None:
    got = moved(GEN_B, book(0, fund=5, matured=10))
    assert got["paid"] == [] and got["outcomes"] == [] and got["alice"] == 0


def test_one_quantum_below_zero_the_fund_pays_it() -> None:
    got = moved(GEN_B, book(-1, fund=5, matured=10))
    assert got["paid"] == [("insurance_fund", "alice", 1, "INSURANCE_FUND")]
    assert got["outcomes"][0] == Bankrupt("alice", 1)
    assert [o.layer for o in got["outcomes"] if isinstance(o, LayerUsed)] == ["insurance_fund"]
    assert got["alice"] == 0
    assert all(holds(GEN_B, got["step"], PAYER_CLAIMS + WATERFALL).values())


def test_the_fund_pays_to_its_floor_and_the_haircut_the_rest() -> None:
    # I_floor 5: a fund of 6 pays 1 of alice's 2, carol's matured profit the other 1
    got = moved(floored(5), book(-2, fund=6, matured=10))
    assert got["paid"] == [("insurance_fund", "alice", 1, "INSURANCE_FUND"), ("carol", "alice", 1, "HAIRCUT")]
    assert got["alice"] == 0


def test_a_fund_at_its_floor_pays_nothing_the_haircut_all() -> None:
    for policy, fund in ((GEN_B, 0), (floored(5), 5)):
        got = moved(policy, book(-1, fund=fund, matured=10))
        assert got["paid"] == [("carol", "alice", 1, "HAIRCUT")]
        used = [(o.layer, o.covered_quote) for o in got["outcomes"] if isinstance(o, LayerUsed)]
        # the fund and the per-lot charge reached, each paying nothing (no lots: §5.6 with q = 0)
        assert used == [("insurance_fund", 0), ("socialized_loss", 0), ("haircut_ratio", 1)]
        assert got["alice"] == 0
        assert all(holds(policy, got["step"], PAYER_CLAIMS + WATERFALL).values())


def test_the_haircut_reaches_matured_profit_only_and_leaves_the_residual() -> None:
    # carol's matured 100 is all the haircut reaches; 50 of alice's 150 is left on her
    got = moved(GEN_B, book(-150, fund=0, matured=100))
    assert got["paid"] == [("carol", "alice", 100, "HAIRCUT")]
    assert Residual("alice", 50) in got["outcomes"] and got["alice"] == -50
    checked = holds(GEN_B, got["step"], PAYER_CLAIMS + WATERFALL)
    assert checked["no-negative-equity"] is False and checked["claims-backed"] is False
    assert checked["deficit-charged-once"] and checked["conservation"] and checked["principal-protected"]
    # one quantum more matured profit: one quantum less residual
    assert moved(GEN_B, book(-150, fund=0, matured=101))["alice"] == -49
    assert moved(GEN_B, book(-150, fund=0, matured=150))["alice"] == 0


@pytest.mark.parametrize("first", [False, True])
def test_an_account_the_step_resolved_is_not_resolved_again(first: bool) -> None:
    """dave (long 1 on 40) is bankrupt by 10 at the fall to 50 and resolved against carol (short 2);
    alice, flat at −1, is written off at her turn, once, before or after dave's, and dave is not
    written off at all."""
    got = moved(GEN_B, _with_dave(book(-1, fund=0, matured=10), first), mark=50)
    bankrupt = [o for o in got["outcomes"] if isinstance(o, Bankrupt)]
    order = [Bankrupt("dave", 10), Bankrupt("alice", 1)]
    assert bankrupt == (order if first else order[::-1])
    assert ("carol", "dave", 10, "SOCIALIZED_LOSS") in got["paid"]
    assert ("carol", "alice", 1, "HAIRCUT") in got["paid"]
    assert got["alice"] == 0
    assert all(holds(GEN_B, got["step"], PAYER_CLAIMS + WATERFALL).values())


def _with_dave(b: Book, first: bool = False) -> Book:
    """``b`` with dave long 1 on 40 and carol short 2; ``first``: dave's turn before alice's."""
    traders = ("dave", "alice", "bob", "carol") if first else ("alice", "bob", "carol", "dave")
    fresh = new_book(mark_quote=100, traders=traders)
    accounts = {a.name: {f: getattr(a, f) for f in ("cash_quote", "principal_quote", "size_lots", "cost_quote")}
                for a in b.accounts if a.name in (*traders, "insurance_fund")}  # fmt: skip
    accounts["carol"].update(size_lots=-2, cost_quote=-200)
    accounts["dave"] = {"size_lots": 1, "cost_quote": 100, "cash_quote": 40, "principal_quote": 40}
    return _evolve(fresh, **accounts)


def _unbalanced(matured: int) -> Book:
    """No position opposite (a book whose open interest does not balance, which the prover's books
    never are): dave long 1 on 40, nobody short; carol flat with ``matured`` of matured profit."""
    fresh = new_book(mark_quote=100, traders=("alice", "bob", "carol", "dave"))
    return _evolve(
        fresh,
        carol={"cash_quote": 1_000, "principal_quote": 1_000 - matured},
        dave={"size_lots": 1, "cost_quote": 100, "cash_quote": 40, "principal_quote": 40},
    )


def test_an_account_whose_resolution_left_a_residual_keeps_it_once() -> None:
    """At the fall to 50 dave is 10 below zero; his lot goes to the order book, nothing is charged per
    lot (§5.6 steps 4-5), the haircut finds carol's 4 of matured profit, and dave is flat at −6 with
    his residual noted. The write-off does not resolve him a second time (deficit-charged-once would
    then count his residual twice)."""
    got = moved(GEN_B, _unbalanced(4), mark=50)
    assert [o for o in got["outcomes"] if isinstance(o, (Bankrupt, Residual))] == [
        Bankrupt("dave", 10),
        Residual("dave", 6),
    ]
    s = got["step"]
    assert equity(GEN_B.margin, s.after.account("dave")) == -6 and s.after.account("dave").size_lots == 0
    assert holds(GEN_B, s, ("deficit-charged-once",))["deficit-charged-once"]


def test_gen_a_has_no_write_off() -> None:
    # Gen A (spec v7) keeps a flat account's negative remainder: the rule is Gen B's (matured_only)
    got = moved(GEN_A, book(-1, fund=5, matured=10))
    assert got["paid"] == [] and got["outcomes"] == [] and got["alice"] == -1


def _observe() -> list:
    cases = [
        (GEN_B, book(0, fund=5, matured=10), 100),
        (GEN_B, book(-1, fund=5, matured=10), 100),
        (floored(5), book(-2, fund=6, matured=10), 100),
        (floored(5), book(-1, fund=5, matured=10), 100),
        (GEN_B, book(-150, fund=0, matured=100), 100),
        (GEN_B, _with_dave(book(-1, fund=0, matured=10)), 50),
        (GEN_B, _with_dave(book(-1, fund=0, matured=10), first=True), 50),
        (GEN_A, book(-1, fund=5, matured=10), 100),
        (GEN_B, _unbalanced(4), 50),
    ]
    return [(r := moved(p, b, m))["paid"] + r["outcomes"] + [r["alice"]] for p, b, m in cases]


@pytest.mark.parametrize("name", ["writes_off_flat", "write_off"])
def test_every_one_token_mutant_of_the_write_off_is_caught(monkeypatch, name: str) -> None:
    import solvent.rules.engine as engine

    importers = (engine,) if name == "write_off" else ()
    assert_every_mutant_is_caught(monkeypatch, bankruptcy, name, _observe, at_least=1, importers=importers)


#: write_off_turn's two mutants no book can catch, both on its call of ``resolve``: ``alone=True ->
#: False`` runs the cascade after the write-off, which finds nobody (the haircut takes matured profit
#: only, so it sinks no payer, and the turn's cascade left no trader below zero with a position);
#: ``flat=True -> False`` closes the account's 0 lots and charges per lot over an opposing open
#: interest of 0, nothing either way. Both flags only spare z3 the terms of what does nothing.
EQUIVALENT = ["True -> False", "True -> False"]


def test_every_one_token_mutant_of_the_write_off_turn_is_caught_but_its_two_flags() -> None:
    expected = _observe()
    found = list(mutants(bankruptcy, "write_off_turn"))
    survivors = []
    for label, mutant in found:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(bankruptcy, "write_off_turn", mutant)
            try:
                got = _observe()
            except Exception:  # a mutant that crashes is caught too
                continue
        if got == expected:
            survivors.append(label.split(": ", 1)[1])
    assert len(found) >= 6 and survivors == EQUIVALENT
