"""z3 on a book with isolated positions (issue 13; docs/portfolio.md decision 3a): the symbolic
book holds the first traders' positions in the last market isolated (``Bounds.isolated``), the
event kind ``margin`` moves margin to or from each, and ``isolated-loss-contained`` is proved at
small N on two markets; a mutant that lets the owner's cash pay its isolated position is refuted
with a story the concrete engine replays."""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import isolated
from solvent.rules.ledger import Reason
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.prove import fixed_text, prove
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict

BINANCE = load_preset("binance")
POLICY = attrs.evolve(BINANCE, margin=attrs.evolve(BINANCE.margin, modes=("cross", "isolated")))


def bounds(**changes) -> Bounds:
    fields = {"accounts": 1, "events": 1, "markets": 2, "isolated": 1, "event_kinds": ("mark", "margin")}
    return Bounds(**{**fields, "effort": 20_000_000, **changes})


def test_the_symbolic_book_holds_the_isolated_position_and_margin_moves_act_on_it() -> None:
    book, variables = symbolic_book(bounds(accounts=2))
    position = book.account("alice:PERP2")
    assert (position.owner, position.isolated_market) == ("alice", "PERP2")
    assert "s0.alice:PERP2.cash_quote" in {str(v) for v in variables}
    (slot,) = slots(book, bounds(accounts=2))
    labels = [v.label for v in slot.variants]
    assert "add margin to alice:PERP2" in labels and "remove margin from alice:PERP2" in labels
    assert not any("bob:" in label for label in labels)


def test_margin_moves_need_an_isolated_position_and_the_scope_says_it() -> None:
    with pytest.raises(ValueError, match="'isolated' must be >= 1 for the event kind margin"):
        Bounds(event_kinds=("margin",))
    assert "isolated positions (alice's in PERP2) on their own margin" in fixed_text(bounds())
    assert "every trader cross-margined" in fixed_text(Bounds())


def test_isolated_loss_contained_is_proved_on_two_markets() -> None:
    result = prove(POLICY, "isolated-loss-contained", bounds())
    assert result.verdict is Verdict.PROVED, result.reason


@pytest.mark.deep
def test_isolated_loss_contained_is_proved_with_two_traders_and_trades() -> None:
    result = prove(POLICY, "isolated-loss-contained", bounds(accounts=2, event_kinds=("mark", "margin", "trade")))
    assert result.verdict is Verdict.PROVED, result.reason


def test_a_margin_move_that_takes_one_quantum_more_from_the_owner_is_refuted(monkeypatch) -> None:
    real = isolated.move_margin

    def one_more(ctx, source, destination, amount):  # the owner pays one quantum beyond the move
        ctx = real(ctx, source, destination, amount)
        owner, position = (source, destination) if ":" in destination else (destination, source)
        return ctx.transfer(owner, position, 1, Reason.ISOLATED_MARGIN)

    monkeypatch.setattr(isolated, "move_margin", one_more)
    result = prove(POLICY, "isolated-loss-contained", bounds(event_kinds=("margin",)), minimize=False)
    assert result.verdict is Verdict.REFUTED
    (event,) = result.counterexample.story.events
    assert type(event).__name__ in ("AddMargin", "RemoveMargin")
