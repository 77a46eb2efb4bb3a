"""The side index's dust lemma (``solver.pro_rata_lemma``, ``side=True``): percolator Gen B's
``k_up`` charge per lot (``rules.side_index.charge_k_up``) never passes a negative dust to the fund,
proved on the engine's own function for any deficit and lots, used by instance in every Gen B
question, and broken by a change of its rounding.
docs/solver-notes.md#percolator-gen-bs-side-index-dust-as-a-proved-lemma."""

from __future__ import annotations

import types

import pytest
import z3

from solvent.rules import side_index
from solvent.rules.arith import Rounding
from solvent.rules.ledger import InternalError, Reason
from solvent.rules.presets import load_preset
from solvent.solver import effort, pro_rata_lemma
from solvent.solver.bounds import Bounds
from solvent.solver.pro_rata_lemma import Discharger, dust_instance, side_dust, side_instance, split_lemma
from solvent.solver.prove import prove
from solvent.solver.story import run, slots, symbolic_book
from solvent.solver.verdicts import TRANSFERS, Verdict

GEN_B = load_preset("percolator-gen-b")


#: each test asks the lemma itself (tests/solver/conftest.py)
pytestmark = pytest.mark.usefixtures("fresh_split_lemmas")


@pytest.mark.parametrize("payers", [1, 2, 3])
def test_the_shares_per_lot_cover_the_deficit_for_any_lots(payers: int) -> None:
    lemma = split_lemma(GEN_B.rounding, payers, side=True)
    assert lemma.verdict is Verdict.PROVED and lemma.side, lemma.stats
    assert 0 < lemma.units < pro_rata_lemma.LEMMA_UNITS


@pytest.mark.parametrize(
    ("remaining", "lots", "dust"),
    [
        (3, [1, 2], 0),  # ΔK = 10^6 exactly: each share exact, nothing over
        (1, [1, 2], 1),  # ΔK = ⌈10^6 / 3⌉ = 333,334: shares 1 and 1, one quantum over
        (1, [3_000_000], 2),  # ΔK = ⌈10^6 / 3·10^6⌉ = 1 (a third, rounded up): the one share is 3
        (5, [0, 0], 0),  # no opposing lots: nothing charged, nothing over
    ],
)
def test_the_lemma_term_is_the_engines_dust(remaining: int, lots: list[int], dust: int) -> None:
    """The lemma's term (the engine's ``charge_k_up`` on z3 terms) at integers is the concrete
    function's dust: 0 where ΔK is exact, more where it rounded up."""
    r, ws = z3.Int("r"), [z3.Int(f"w{i}") for i in range(len(lots))]
    pairs = [(r, z3.IntVal(remaining)), *((w, z3.IntVal(v)) for w, v in zip(ws, lots, strict=True))]
    assert z3.simplify(z3.substitute(side_dust(r, ws), *pairs)).as_long() == dust
    assert side_dust(remaining, lots) == dust


def _dust_amounts(n: int) -> list[z3.ArithRef]:
    bounds = Bounds(accounts=n)
    book, _ = symbolic_book(bounds)
    (slot_run,) = run(GEN_B, book, slots(book, bounds))
    return [
        e.item.amount_quote for vr in slot_run.runs for e in vr.ctx.entries if e.item.reason is Reason.PRO_RATA_DUST
    ]


def test_every_dust_of_a_gen_b_step_is_an_instance_of_one_lemma_and_near_misses_are_not() -> None:
    """Gen B's mark move on two traders: each dust transfer is the haircut's split (``charge``) or
    the side index's charge per lot, term for term; one changed term is neither."""
    with effort.question():
        amounts = _dust_amounts(2)
        per_lot = [a for a in amounts if side_instance(a) is not None]
        split = [a for a in amounts if dust_instance(a, GEN_B.rounding) is not None]
        assert per_lot and split and len(per_lot) + len(split) == len(amounts)
        amount = per_lot[0]
        assert side_instance(amount + 1) is None
        assert side_instance(amount.arg(0) - (amount.arg(1) + 1)) is None
        assert dust_instance(amount, GEN_B.rounding) is None
        covers = Discharger(GEN_B.rounding)
        assert all(covers.covers(a) for a in amounts)
        assert covers(z3.Implies(z3.Bool("g"), amount >= 1)) is False
        assert any(s.name.startswith("side index lemma (k_up, 2 payers)") for s in covers.stats)


def test_delta_k_rounded_down_is_refuted_and_replayed(monkeypatch) -> None:
    """The charge per lot rounded down instead of up: one quantum of deficit over three million
    lots is ΔK = 0, nobody pays, and the dust is −1; z3's model replays on the mutated function."""
    monkeypatch.setattr(side_index, "Rounding", types.SimpleNamespace(CEIL=Rounding.FLOOR, FLOOR=Rounding.FLOOR))
    lemma = split_lemma(GEN_B.rounding, 1, side=True)
    assert lemma.verdict is Verdict.REFUTED
    remaining, lots = lemma.counterexample
    assert "pro-rata rounding dust" in lemma.detail
    with pytest.raises(InternalError, match="pro-rata rounding dust"):
        side_dust(remaining, list(lots))
    assert Discharger(GEN_B.rounding).covers(_dust_amounts(1)[0]) is False


def test_gen_b_transfer_signs_are_proved_with_the_lemma_at_one_trader() -> None:
    """Gen B, one trader and the book, one mark move: every dust is discharged by a proved lemma
    and the transfer signs are proved within 2M units."""
    result = prove(GEN_B, "conservation", Bounds(accounts=1, effort=2_000_000), minimize=False, compositional=False)
    assert {o.obligation: o.verdict for o in result.obligations}[TRANSFERS] is Verdict.PROVED, result.summary()
    assert any(q.name.startswith("side index lemma (k_up, 1 payers)") for q in result.queries)
