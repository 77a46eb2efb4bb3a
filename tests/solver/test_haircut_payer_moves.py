"""percolator-gen-a's payer claims over K mark moves (``solver.haircut_payer.moves_argument``): the junior
cover by induction on the residual premise the conversion at h keeps (every principal and warm-up slope
at least 0, every trader worth at least 0, Σ (E − principal) over the traders and the order book at
least 0). Each new lemma holds on the engine's own functions and fails where the engine (or the premise)
is changed by one token; the premise holds over random moves on the concrete engine
(docs/solver-notes.md#gen-as-payer-claims-at-k--3-under-the-conversion-at-h-session-25)."""

from __future__ import annotations

import random

import attrs
import pytest
import z3

import solvent.rules.engine as engine
from solvent.properties import catalog
from solvent.rules import haircut_ratio
from solvent.rules.arith import max_
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.solver import claims_backed, wall
from solvent.solver import compositional as comp
from solvent.solver import haircut_payer as hp
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict

GEN_A = load_preset("percolator-gen-a")
K3 = Bounds(accounts=3, events=3, effort=20_000_000)


def _refuted(premise: list, claims: list[tuple[str, object]], units: int = 3_000_000) -> list[str]:
    """The claims z3 finds a model of ``premise ∧ ¬claim`` for, each asked as the argument asks it (exact,
    in a forked child as SMT-LIB text: the answer and its units do not depend on the tests before); an
    undecided one fails the test."""
    out = []
    for name, claim in claims:
        answer = wall.check([*premise, z3.Not(claim)], [], units, 60.0)
        assert answer.result in ("sat", "unsat"), (name, answer)
        if answer.result == "sat":
            out.append(name)
    return out


def _book():
    return symbolic_book(attrs.evolve(K3, accounts=2, events=1))[0]


def _conversion_sums(policy=GEN_A, premise=None) -> list[str]:
    book = _book()
    given = hp.moves_premise(policy, book) if premise is None else premise(book)
    return _refuted(given, hp.conversion_sums(policy, book))


def test_the_argument_applies_over_moves_the_facts_at_one() -> None:
    assert hp.inducts(GEN_A, K3) and hp.not_covered(GEN_A, K3) is None
    assert not hp.inducts(GEN_A, attrs.evolve(K3, events=1))
    assert not hp.fits(GEN_A, attrs.evolve(K3, accounts=2), "no-negative-equity")  # the facts: one move
    assert hp.fits(GEN_A, attrs.evolve(K3, accounts=2, events=1), "no-negative-equity")
    assert not hp.inducts(load_preset("percolator-gen-b"), K3)


def test_the_start_meets_the_premise_account_by_account() -> None:
    book = _book()
    parts = hp.start_parts(GEN_A, book, attrs.evolve(K3, accounts=2, events=1))
    assert len(parts) == 3  # alice, bob, the order book: each from the assumptions that read only it
    for name, premise, claim in parts:
        assert _refuted(premise, [(name, claim)]) == []


def test_the_conversion_keeps_the_residual() -> None:
    """Σ y at most the residual before the conversion, and the order book's cash receives Σ lost."""
    assert _conversion_sums() == []


def test_mutant_the_residual_without_the_hole_converts_at_face() -> None:
    """``Residual = max(0, Σ (E − principal))`` summing the junior profit only (``max(E − principal, 0)``,
    the order book's hole not counted): h = 1, the conversion at face (session 24's story's cause), and
    its capital passes the residual."""
    real, convert = haircut_ratio.sum_, haircut_ratio.convert

    def at_face(policy, ctx, vested):
        haircut_ratio.sum_ = lambda xs: real(max_(x, 0) for x in xs)
        try:
            return convert(policy, ctx, vested)
        finally:
            haircut_ratio.sum_ = real

    with pytest.MonkeyPatch.context() as m:
        m.setattr(haircut_ratio, "convert", at_face)
        assert _conversion_sums() == ["its capital Σ y at most the residual before it"]


def test_mutant_the_premise_without_the_residual_fails_the_conversion() -> None:
    """The premise one part weaker (the residual free): below zero, Σ y = 0 is above it."""

    def weaker(book: Book) -> list:
        return hp.moves_premise(GEN_A, book)[:-1]

    assert _conversion_sums(premise=weaker) == ["its capital Σ y at most the residual before it"]


def test_the_settlement_from_the_premise() -> None:
    book = _book()
    slot = slots(book, attrs.evolve(K3, accounts=2, events=1))[0]
    parts = hp.moved_settled_parts(GEN_A, book, slot.variants[0].event, slot.field_bounds)
    assert len(parts) == 5 + 5 + 4  # alice's and bob's five claims, the order book's four
    for name, premise, claim in parts:
        assert _refuted(premise, [(name, claim)]) == [], name


def _free():
    book = symbolic_book(Bounds(accounts=2))[0]
    return book, book.traders[0].name


def test_a_turn_does_not_lower_the_residual() -> None:
    book, alice = _free()
    premise, claim = hp.residual_turn(GEN_A, book, alice)
    assert _refuted(premise, [("residual", claim)]) == []


def test_mutant_the_penalty_from_cash_lowers_the_residual(monkeypatch: pytest.MonkeyPatch) -> None:
    """The liquidation penalty from cash (``fee_from_capital`` read False, session 21's rule): it leaves
    the holders for the fund and the principal stays, so the turn lowers Σ (E − principal)."""
    monkeypatch.setattr(engine, "fee_from_capital", lambda policy: False)
    book, alice = _free()
    premise, claim = hp.residual_turn(GEN_A, book, alice)
    assert _refuted(premise, [("residual", claim)]) == ["residual"]


def test_the_close_lowers_no_account_e_less_principal() -> None:
    book, _ = _free()
    assert _refuted([], [("close", hp.close_keeps(GEN_A, book))]) == []


def test_mutant_the_close_raising_principal_lowers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The close's re-base ``min(principal, max(E, 0))`` read ``max``: a principal raised to equity, so
    E − principal falls (``min_`` in ``rules/haircut_ratio.py``: on the close its one use is the re-base)."""
    monkeypatch.setattr(haircut_ratio, "min_", max_)
    book, _ = _free()
    assert _refuted([], [("close", hp.close_keeps(GEN_A, book))]) == ["close"]


def _concrete(policy, book: Book) -> bool:
    return all(z3.is_true(z3.simplify(p)) for p in hp.moves_premise(policy, book))


def _one_long(book_cash: int, principal: int) -> Book:
    """alice long 10 at 1,000 on 1,000 (capital ``principal``), the order book short 10 on ``book_cash``
    (all capital), both settled to the mark: the residual is 1,000 − principal + book_cash."""
    book = new_book(mark_quote=1_000, traders=("alice",))
    values = {
        "alice": {"cash_quote": 1_000, "principal_quote": principal, "size_lots": 10, "cost_quote": 10_000},
        "liquidity": {"cash_quote": book_cash, "principal_quote": max(book_cash, 0), "size_lots": -10},
    }
    values["liquidity"]["cost_quote"] = -10_000
    for name, fields in values.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **fields))
    return book


def test_the_premise_boundary_on_a_concrete_book() -> None:
    """The residual at 0 meets the premise, one quantum below does not (the order book's hole a
    quantum past alice's junior profit)."""
    assert _concrete(GEN_A, _one_long(-1_000, 0))
    assert not _concrete(GEN_A, _one_long(-1_001, 0))
    book = _one_long(0, 0)
    i = book.index("alice")
    assert _concrete(GEN_A, book.replace_account(i, attrs.evolve(book.accounts[i], reserve_slope_quote=0)))
    assert not _concrete(GEN_A, book.replace_account(i, attrs.evolve(book.accounts[i], reserve_slope_quote=-1)))


def _random_book(rng: random.Random) -> Book:
    """Two to four traders each at or above its initial margin (capital anywhere in [0, cash], a slope
    where there is junior profit), the order book the other side on cash from a hole to a cushion."""
    names = tuple(f"t{i}" for i in range(rng.randint(2, 4)))
    mark = rng.choice([100, 1_000])
    book = new_book(mark_quote=mark, traders=names)
    sizes = [rng.choice([-1, 1]) * rng.randint(1, 200) for _ in names]
    for name, size in zip(names, sizes, strict=True):
        cash = -(-abs(size) * mark // 10) + rng.choice([0, rng.randint(0, abs(size) * mark)])
        principal = rng.choice([0, cash, rng.randint(0, cash)])
        slope = max(1, (cash - principal) // 100) if cash > principal else 0
        fields = {"cash_quote": cash, "principal_quote": principal, "size_lots": size, "cost_quote": size * mark}
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], reserve_slope_quote=slope, **fields))
    i = book.index("liquidity")
    cash = rng.randint(0, abs(sum(sizes)) * mark)
    fields = {"cash_quote": cash, "principal_quote": cash, "size_lots": -sum(sizes), "cost_quote": -sum(sizes) * mark}
    return book.replace_account(i, attrs.evolve(book.accounts[i], **fields))


def test_the_premise_is_kept_over_random_moves_on_the_engine() -> None:
    """40 books, three gaps each (1/100 to 100 times the mark): after every move the premise holds and no
    trader is below zero; not vacuous: some move converted below h = 1 (a lost part into the hole) and
    some move resolved a trader below zero by the haircut. claims-backed's system holders (the fund, the
    fee account, the vault: ``claims_backed.holders_every_n`` on Gen A's haircut) only receive: none ends
    a move below its cash before it, and some move paid the fund a penalty."""
    rng = random.Random(25)
    lost = haircut = penalty = 0
    for _ in range(40):
        book = _random_book(rng)
        assert _concrete(GEN_A, book)
        for _ in range(3):
            mark = max(1, book.market.mark_quote * rng.choice([1, 100, 10, 2]) // rng.choice([1, 100, 10, 2]))
            s = step(GEN_A, book, MarkPrice(mark))
            lost += any(t.reason is Reason.CONVERSION_HAIRCUT for t in s.transfers)
            haircut += any(t.reason is Reason.HAIRCUT for t in s.transfers)
            penalty += any(t.reason is Reason.LIQUIDATION_PENALTY for t in s.transfers)
            holders = [a.name for a in book.accounts if not a.is_trader and a.role not in claims_backed._NOT_HOLDERS]
            assert all(s.after.account(h).cash_quote >= book.account(h).cash_quote >= 0 for h in holders)
            book = s.after
            assert _concrete(GEN_A, book)
            assert all(equity(GEN_A.margin, a) >= 0 for a in book.traders)
    assert lost and haircut and penalty


@pytest.mark.deep  # the whole argument, about 2M units (4.4 s at load 8)
def test_the_argument_holds_at_k3() -> None:
    result = comp.attempt(GEN_A, catalog.get("no-negative-equity"), K3, units=10_000_000)
    assert isinstance(result, comp.Extension), result
    assert result.every_k and result.method == hp.METHOD_MOVES and hp.INDUCTION_ASSUMES in result.assumes
    assert {q.result for q in result.queries if "renamed" not in q.result} == {"unsat"}


@pytest.mark.deep  # three whole proofs, 13-27 s each at load 8 (claims-backed 14 s at load 5 since its holders go by their argument)
@pytest.mark.parametrize("claim", [*hp.CLAIMS, "claims-backed"])
def test_the_cells_at_n3_k3(claim: str) -> None:
    result = prove(GEN_A, claim, K3, minimize=False)
    assert result.verdict is Verdict.PROVED
    own = next(o for o in result.obligations if o.obligation == claim)
    assert own.scope.accounts is None and hp.INDUCTION_ASSUMES in own.scope.assumes
    if claim in hp.CLAIMS:  # every N, any K by the induction
        assert own.scope.events is None
    else:  # claims-backed every N, K ≤ 3: its system holders by their argument over the question's moves
        assert own.scope.events == 3 and claims_backed.EVERY_N_ASSUMES_HAIRCUT in own.scope.assumes
        assert not any(q.name == claims_backed.SYSTEM_ID for q in result.queries)
