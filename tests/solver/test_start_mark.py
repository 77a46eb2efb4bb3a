"""Bybit's payer claims over K mark moves, by induction on a premise read against the story's first
mark (``solver.start_mark``; docs/solver-notes.md#bybit-at-k--3-the-premise-kept-by-a-move-session-22).

The premise R of a trader: worth ``v ≥ 0`` and ``v × 10⁶ ≥ |S| × i × Mₛ + 10⁶ × S × (M − Mₛ)``, ``Mₛ``
the first mark (a ghost), ``i`` the least initial rate (10,000 ppm on Bybit). Bybit's three payer
cells at N = 3, K = 3 (20M units): partial before (no-negative-equity 18,691,515 units,
loss-bounded-by-collateral 18,691,480), proved for every N and any K after.
"""

from __future__ import annotations

import functools

import attrs
import pytest
import z3

import solvent.rules.adl as adl_module
from solvent.properties import catalog
from solvent.rules.arith import PPM, abs_
from solvent.rules.book import Account, Role, new_book
from solvent.rules.margin import equity
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional, induction, start_mark
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, BEFORE
from solvent.solver.per_account import _one_event_frame
from solvent.solver.prove import prove
from solvent.solver.verdicts import TRANSFERS, Verdict
from tests.solver.test_induction import _bybit_two_moves
from tests.solver.test_payer_facts import _fee_left_out_of_a_shorts_price

UNITS = 10_000_000
BYBIT = resolve_policy("bybit")
SIDES = ("long", "short")


def _valid(units: int = UNITS):
    """A lemma's check as the argument asks it: exact z3 (``compositional._payer``)."""
    return functools.partial(_Checker(Bounds(effort=units)).valid, exact=True)


def _ask(premise, claim, units: int = UNITS) -> str:
    return _valid(units)("lemma", list(premise), claim)


def test_only_bybit_among_the_presets_takes_the_start_mark_premise() -> None:
    three = Bounds(accounts=3, events=3)
    assert start_mark.fits(BYBIT, three)
    assert not start_mark.fits(BYBIT, attrs.evolve(three, events=1))  # one move: the payer's argument
    for preset in ("binance", "okx"):  # no fee to close in the price: the floor is kept (solver.induction)
        assert induction.fits(resolve_policy(preset), three) and not start_mark.fits(resolve_policy(preset), three)
    assert start_mark.initial_rate(BYBIT) == 10_000


def test_a_trader_at_initial_margin_meets_the_premise_with_its_mark_as_the_first() -> None:
    premise, claim = start_mark.start_question(BYBIT, Bounds())
    assert _ask(premise, claim) == "lemma"


@pytest.mark.parametrize("side", SIDES)
def test_a_bankrupt_accounts_gap_is_within_the_move_its_shortfall_and_a_tick(side: str) -> None:
    premise, claim, _ = start_mark.gap_question(BYBIT, side)
    assert _ask(premise, claim) == "lemma"


def test_the_gap_without_its_tick_has_a_model() -> None:
    """The tick's quantum a lot is needed (Bybit rounds a long's price up to the tick, in the
    bankrupt account's favour): with it left out, z3 finds a model on the engine's resolve."""
    premise, _, charge = start_mark.gap_question(BYBIT, "long")
    size = charge.book.account("alice").size_lots
    m0 = charge.book.market.previous_mark_quote
    f = 550
    no_tick = z3.Implies(
        charge.lots > 0,
        (charge.gap - charge.move) * (PPM - f) * abs_(size) < f * m0 * abs_(size) - PPM * z3.Int(BEFORE),
    )
    with pytest.raises(_Failed, match="z3 found a model"):
        _ask(premise, z3.And(charge.fill, no_tick))


def test_the_arithmetic_steps_of_the_charge() -> None:
    assert _ask(*start_mark.per_lot_question()) == "lemma"
    for side in SIDES:
        assert _ask(*start_mark.allowance_question(BYBIT, side)) == "lemma"
    premise, claim, _ = start_mark.scaled_question()
    assert _ask(premise, claim) == "lemma"


@pytest.mark.parametrize("side", SIDES)
def test_the_premise_needs_an_initial_rate_at_least_the_fee_to_close(monkeypatch, side: str) -> None:
    """The premise mutated: its rate one ppm under Bybit's fee to close (550 ppm) and the payer's
    allowance no longer covers what a bankrupt account below its fee takes (a model on each side); at
    the fee itself it holds. Bybit's least initial rate is 10,000 ppm."""
    monkeypatch.setattr(start_mark, "initial_rate", lambda policy: 550)
    assert _ask(*start_mark.allowance_question(BYBIT, side)) == "lemma"
    monkeypatch.setattr(start_mark, "initial_rate", lambda policy: 549)
    with pytest.raises(_Failed, match="z3 found a model"):
        _ask(*start_mark.allowance_question(BYBIT, side))


def _one_move(claim: catalog.Invariant):
    _, _, slot = _one_event_frame(claim, Bounds(accounts=2, events=1), lambda why: pytest.fail(why), "induction's")
    [variant] = slot.variants
    return variant, slot.field_bounds


def test_a_one_token_change_to_a_shorts_price_breaks_the_step(monkeypatch) -> None:
    """Bybit's fee to close subtracted where it is added in a short's bankruptcy price (one token of
    ``rules.adl.gap_with_fee``): the gap lemmas still hold (the price moves in the payers' favour)
    but a short liquidated at its own turn ends below zero: the step's lemma has a model."""
    claim = catalog.get("no-negative-equity")
    variant, field_bounds = _one_move(claim)
    monkeypatch.setattr(adl_module, "gap_with_fee", _fee_left_out_of_a_shorts_price)
    with pytest.raises(_Failed, match="start mark's step .* z3 found a model"):
        start_mark.contract_lemmas(BYBIT, claim, variant.label, variant.event, field_bounds, _valid())


def test_one_traders_step_keeps_the_premise_and_the_claims() -> None:
    claim = catalog.get("no-negative-equity")
    variant, field_bounds = _one_move(claim)
    said = start_mark.contract_lemmas(BYBIT, claim, variant.label, variant.event, field_bounds, _valid())
    assert said[0].startswith("the premise kept and no-negative-equity (mark;")
    assert len(said) == 8  # its header, the turn, the facts per side, the shape, the claim, the kept per side
    run = start_mark.contract(BYBIT, variant.event, field_bounds)
    lbc = catalog.get("loss-bounded-by-collateral")
    assert _ask([*run.premise, *run.facts], lbc.holds(run.view)) == "lemma"


@pytest.mark.parametrize("side", SIDES)
def test_the_premise_kept_needs_the_charge_within_the_allowance(monkeypatch, side: str) -> None:
    """The kept lemma with each charge allowed one quantum a lot beyond the move and the allowance:
    a model (the premise is kept exactly, with nothing to spare)."""
    assert _ask(*start_mark.kept_question(BYBIT, side)) == "lemma"
    real = start_mark.allowance

    def looser(policy, size, m0, ms):
        return real(policy, size, m0, ms) + 1_000_000

    monkeypatch.setattr(start_mark, "allowance", looser)
    with pytest.raises(_Failed, match="z3 found a model"):
        _ask(*start_mark.kept_question(BYBIT, side))


def test_the_premise_on_a_concrete_book() -> None:
    """A long and a short, each one lot worth 0 at the mark 100: the long needs a first mark of at
    least 102 (its lot lost since), the short at most 99 (its lot lost since): no first mark for
    both, each alone has one."""
    book = new_book(mark_quote=100)
    long = Account("alice", cash_quote=0, size_lots=1, cost_quote=100)
    short = Account("bob", cash_quote=0, size_lots=-1, cost_quote=-100)

    def with_(*accounts):
        b = book
        for a in accounts:
            b = b.replace_account(b.index(a.name), a)
        return b

    assert start_mark.book_premise(BYBIT, with_(long)) is True
    assert start_mark.book_premise(BYBIT, with_(short)) is True
    assert start_mark.book_premise(BYBIT, with_(long, short)) is False
    assert start_mark.book_premise(BYBIT, with_(attrs.evolve(long, cash_quote=-1))) is False


def test_the_premise_holds_along_bybits_two_move_story_where_the_floor_failed() -> None:
    """Session 20's story on the concrete engine (bob above maintenance on his entry value, far under
    his fee to close at the mark, alice paying 70,000 for lots that gained 10,000): every trader
    meets R at every step with the first mark 1, what each lost since it the other gained."""
    start, first, end, _ = _bybit_two_moves()
    for book in (start, first, end):
        for t in book.traders:
            assert equity(BYBIT.margin, t) >= 0
            assert start_mark.reach(BYBIT, t, book.market.mark_quote, 1), (t.name, book.market.mark_quote)
    bob = first.account("bob")
    assert (bob.cash_quote, bob.size_lots) == (52, -10_001)
    # R's boundary on alice after the first move (long 10,000 lots, the mark 1 → 10,000): what an
    # initial-margin holder from 1 is worth there, 100 + 99,990,000 = 99,990,100; she holds more
    alice = first.account("alice")
    assert start_mark.reach(BYBIT, attrs.evolve(alice, cash_quote=99_990_100), 10_000, 1)
    assert not start_mark.reach(BYBIT, attrs.evolve(alice, cash_quote=99_990_099), 10_000, 1)


def test_the_argument_at_three_moves_holds_on_bybit() -> None:
    claim = catalog.get("no-negative-equity")
    found = compositional.attempt(BYBIT, claim, Bounds(accounts=3, events=3, effort=UNITS))
    assert isinstance(found, compositional.Extension), found.failed
    assert found.every_k and found.one_event_start == start_mark.START
    assert found.assumes == f"{ADL_FILLS_ONLY}; {start_mark.ASSUMES}"
    asked = [q.name for q in found.queries]
    assert any(name.startswith("start: a trader meeting initial margin at the first mark") for name in asked)
    assert any(name.startswith("start mark's premise kept (short)") for name in asked)
    assert all(q.result in ("unsat", "trivial") or q.result.startswith("holds") for q in found.queries)
    assert sum(q.units for q in found.queries) < 2_000_000


@pytest.mark.deep  # 6 s: the whole proof at two moves; the premise's lemmas and mutants stay in the default suite
def test_bybit_is_proved_for_every_n_and_k_at_two_moves() -> None:
    result = prove("bybit", "no-negative-equity", Bounds(accounts=2, events=2, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.scope.accounts is None and own.scope.events is None
    assert start_mark.ASSUMES in own.scope.assumes
    assert f"its traders starting {start_mark.START}" in result.method
    asked = [q.name for q in result.queries]
    assert "no-negative-equity (on the lemmas' book, N = 2, K = 1)" in asked
    assert any(name.startswith("start mark's charge as a fact") for name in asked)
    transfers = next(o for o in result.obligations if o.obligation == TRANSFERS)
    assert transfers.verdict is Verdict.PROVED and transfers.scope.events == 2
    assert result.units <= 20_000_000


def test_the_one_event_book_from_the_premise_is_its_own_start() -> None:
    """The start margin ``start-mark`` states R on a symbolic book with the ghost free, and the
    order book's cash at or above zero beside it."""
    from solvent.solver.assumptions import book_assumptions
    from solvent.solver.story import symbolic_book

    bounds = Bounds(accounts=2, events=1, start_margin=start_mark.START)
    book, _ = symbolic_book(bounds)
    names = [a.name for a in book_assumptions(BYBIT, book, bounds)]
    assert start_mark.NAMED in names and start_mark.ORDER_BOOK in names
    assert "traders margin-compliant" not in names
    assert book.role(Role.LIQUIDITY).name in {a.name for a in book.accounts}


@pytest.mark.deep  # 9 s: the whole proof at three moves
def test_claims_backed_at_three_moves_by_the_traders_and_the_holders_over_moves() -> None:
    """claims-backed on Bybit at N = 3, K = 3 by its parts: no-negative-equity by the start-mark
    induction (its lemmas' book, N = 2), the system holders for every N over the moves
    (``claims_backed.holders_every_n``, its premise kept by each move), the transfers at N and K."""
    result = prove("bybit", "claims-backed", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "claims-backed")
    assert start_mark.ASSUMES in own.scope.assumes
    asked = [q.name for q in result.queries]
    assert any(name.startswith("the system holders over moves: the start meets") for name in asked)
    assert any(name.startswith("start mark's premise kept (short)") for name in asked)
    assert result.units <= 20_000_000
