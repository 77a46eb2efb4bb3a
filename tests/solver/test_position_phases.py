"""The position frame P proved phase by phase (``solver.compositional._positions_by_phases``).

Where a position's gap over the whole event is not decided by its whole split (Hyperliquid: its
vault's own deleveraging before the turns nests in every turn's conditions), P is asked of each of
the engine's phases from a book of fresh variables, after checking that the transition is those
phases in order and that no phase reads the ledger the ones before it wrote
(docs/solver-notes.md#the-position-frame-by-phases-issue-18).
"""

from __future__ import annotations

from typing import Any

import pytest

from solvent.properties import catalog
from solvent.rules import engine
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.positions import fill, move_position
from solvent.rules.presets import load_preset
from solvent.solver import compositional, effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed, _positions_by_phases, _small_book, attempt
from solvent.solver.story import slots

REAL_TURN = engine.liquidation_turn


def _by_phases(preset: str, units: int = 2_000_000) -> tuple[str, _Checker]:
    """P by phases on ``preset``'s mark move, the lemmas' two-trader book, within ``units``."""
    policy = load_preset(preset)
    bounds = for_policy(Bounds(accounts=2, events=1, effort=units), policy)
    checker = _Checker(bounds)
    book = _small_book(bounds, traders=2)
    [slot] = slots(book, bounds)
    [variant] = slot.variants
    return _positions_by_phases(policy, book, variant, checker), checker


def _both(monkeypatch: pytest.MonkeyPatch, turn: Any) -> None:
    """``turn`` as the engine's liquidation turn, in the transition and in the phases alike."""
    monkeypatch.setattr(engine, "liquidation_turn", turn)
    monkeypatch.setattr(compositional, "liquidation_turn", turn)


def test_each_phase_moves_positions_by_its_fills() -> None:
    """Backpack's mark move: every phase's gaps vanish from any book, and the phases are the
    transition (the lemma's name returned, every query decided)."""
    with effort.question():
        name, checker = _by_phases("backpack")
    assert name == "P (mark) by phases"
    phases = {q.name.split(": ")[1].split(",")[0] for q in checker.queries if ": " in q.name}
    assert {"opening", "settle", "before the turns", "alice's turn", "bob's turn", "closing"} <= phases
    assert all(q.result.split(" ")[0] in ("unsat", "holds", "trivial") for q in checker.queries), checker.queries


def test_a_turn_moving_a_position_without_a_fill_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that adds one lot to the trader's position and records no fill (in the transition
    too, so the decomposition still holds): that turn's gap is 1 from any book, and the lemma fails."""

    def drifting(policy: Any, ctx: Ctx, name: str) -> Ctx:
        ctx = REAL_TURN(policy, ctx, name)
        return move_position(ctx, name, 1, ctx.market.mark_quote)

    _both(monkeypatch, drifting)
    with effort.question(), pytest.raises(_Failed, match="alice's turn"):
        _by_phases("backpack")


def test_phases_that_are_not_the_transition_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that trades one lot at the mark, its fill recorded (each phase's P holds), used by
    the phases but not by the engine's transition: the decomposition fails."""

    def trading(policy: Any, ctx: Ctx, name: str) -> Ctx:
        ctx = REAL_TURN(policy, ctx, name)
        return fill(ctx, name, "liquidity", 1, ctx.market.mark_quote, Reason.TRADE_PRICE)

    monkeypatch.setattr(compositional, "liquidation_turn", trading)
    with effort.question(), pytest.raises(_Failed, match="not its phases"):
        _by_phases("backpack")


def test_a_phase_reading_the_ledger_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that trades one lot only when the event has recorded an entry before it (the mark
    move's settlement has): run on its book alone it does nothing, so the fresh-book lemma would
    not speak of it in the event's run; the lemma fails."""

    def reading(policy: Any, ctx: Ctx, name: str) -> Ctx:
        recorded = bool(ctx.entries)
        ctx = REAL_TURN(policy, ctx, name)
        if recorded:
            return fill(ctx, name, "liquidity", 1, ctx.market.mark_quote, Reason.TRADE_PRICE)
        return ctx

    _both(monkeypatch, reading)
    with effort.question(), pytest.raises(_Failed, match="reads what the phases before it recorded"):
        _by_phases("backpack")


@pytest.mark.deep
def test_hyperliquids_open_interest_argument_holds_by_phases() -> None:
    """Hyperliquid's position gaps over the whole mark move were not decided by their split (alice's
    and bob's; z3's case split needed about 13M units for alice's), so its open-interest argument
    stayed undecided at 10M; by phases it held within 3M (about 1.8M). Since its engine builds one
    resolve a turn (43e8397, the test below) the gap's whole split decides it first (92,800 units at
    6a3f2a3, docs/solver-notes.md#the-deep-suite-run-whole-session-27), so the argument no longer
    reaches the phases; asked on their own they still hold on its mark move (91,200 units)."""
    policy = load_preset("hyperliquid")
    bounds = for_policy(Bounds(accounts=2, events=1, effort=3_000_000), policy)
    with effort.question():
        found = attempt(policy, catalog.get("open-interest-balance"), bounds, units=3_000_000)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", "")
    assert "P (mark): every position after the event = before + its guarded fills" in found.lemmas
    assert sum(q.units for q in found.queries) <= 3_000_000
    with effort.question():
        name, checker = _by_phases("hyperliquid", 3_000_000)
    assert name == "P (mark) by phases"
    assert all(q.result.split(" ")[0] in ("unsat", "holds", "trivial") for q in checker.queries), checker.queries


def test_where_the_phases_fail_the_gap_is_asked_whole_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The phases are a first try, not the only one: where they fail (here a stand-in that always
    does), the gap's pieces are asked as before with what is left, and the lemma still fails only
    where those fail. Hyperliquid's open-interest argument within 0.6M: phases refused, then the
    pieces, which hold (67,200 units) since its engine builds one resolve a turn; in the two-branch
    shape (the engine's shortcut off) they ran out of units, as before it."""

    def refused(*_a: Any) -> str:
        raise _Failed("stand-in: not its phases")

    monkeypatch.setattr(compositional, "_positions_by_phases", refused)
    policy = load_preset("hyperliquid")
    bounds = for_policy(Bounds(accounts=2, events=1, effort=600_000), policy)

    def asked() -> Any:
        with effort.question():
            found = attempt(policy, catalog.get("open-interest-balance"), bounds, units=600_000)
        names = [q.name for q in found.queries]
        assert any("(1 of 4, conditions abstracted" in n for n in names), names  # the pieces were asked
        return found

    found = asked()
    assert isinstance(found, compositional.Extension) and "P (mark) by phases" not in found.lemmas
    monkeypatch.setattr(engine, "_below_zero_is_taken_over", lambda policy, ctx: False)
    assert isinstance(asked(), compositional.Attempt)
