"""Symbolic stories: event variants, their requirements as assumptions, and models read back."""

from __future__ import annotations

import pytest
import z3

import solvent.solver  # noqa: F401
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.presets import load_preset
from solvent.solver import wall
from solvent.solver.bounds import Bounds
from solvent.solver.story import canonical_witness, decode, run, slots, symbolic_book
from solvent.solver.symbolic import under_model


class TestVariants:
    def test_each_kind_expands_to_the_accounts_it_may_name(self) -> None:
        """A deposit may go to any account but clearing; a trade is any ordered pair, either taker."""
        bounds = Bounds(accounts=2, event_kinds=("deposit", "trade"))
        book, _ = symbolic_book(bounds)
        (slot,) = slots(book, bounds)
        deposits = [v for v in slot.variants if isinstance(v.event, Deposit)]
        trades = [v for v in slot.variants if isinstance(v.event, Trade)]
        assert len(deposits) == len(book.accounts) - 1
        assert len(trades) == 2 * 2  # alice<-bob and bob<-alice, each with either taker
        assert slot.choice is not None

    def test_a_trade_needs_two_traders(self) -> None:
        with pytest.raises(ValueError, match="'accounts' must be >= 2 when every event is a trade"):
            Bounds(accounts=1, event_kinds=("trade",))


class TestReadBack:
    def test_a_model_decodes_to_a_story_the_engine_accepts(self) -> None:
        """Pin a mark move; the decoded story is concrete and runs through the engine."""
        policy = load_preset("backpack")
        bounds = Bounds(accounts=1)
        book, _ = symbolic_book(bounds)
        story_slots = slots(book, bounds)
        runs = run(policy, book, story_slots)
        solver = z3.Solver()
        solver.add(runs[0].accepted(), story_slots[0].field_bounds, story_slots[0].variants[0].event.price_quote == 7)
        assert solver.check() == z3.sat
        story = decode(book, story_slots, under_model(solver.model()))
        assert story.events == (MarkPrice(7),)
        assert type(story.book.market.mark_quote) is int

    def test_the_plain_witness_needs_no_solver(self) -> None:
        policy = load_preset("binance")
        bounds = Bounds(accounts=2, events=2, event_kinds=("withdraw", "mark"))
        book, _ = symbolic_book(bounds)
        story = canonical_witness(policy, book, slots(book, bounds), bounds)
        assert story is not None and len(story.events) == 2

    def test_the_plain_witness_is_a_book_of_deposits(self) -> None:
        """Every trader's cash is deposited principal, so percolator Gen B's rule "a flat account's
        matured profit is capital" holds on it and z3 is not asked for a witness (with principal 0,
        z3's witness ran out of 5.06M units at N = 2 and conservation was undecided; issue 15)."""
        from solvent.rules.wellformed import reasons

        policy = load_preset("percolator-gen-b")
        bounds = Bounds(accounts=2)
        book, _ = symbolic_book(bounds)
        story = canonical_witness(policy, book, slots(book, bounds), bounds)
        assert story is not None
        assert all(a.principal_quote == a.cash_quote == bounds.max_quote // 2 for a in story.book.traders)
        assert reasons(policy, story.book) == []


class TestWall:
    def test_a_query_past_its_units_is_unknown_and_says_so(self) -> None:
        """A hard nonlinear query with 50,000 units comes back unknown because its effort ran out
        (the same on any machine), having spent at least those units."""
        x, y, z = z3.Ints("x y z")
        hard = [x > 1, y > 1, z > 1, x * x * x + y * y * y == z * z * z + 7 * x * y * z + 12345]
        answer = wall.check(hard, [x, y, z], 50_000, 600.0)
        assert answer.result == "unknown" and answer.reason.startswith("its effort ran out"), answer
        assert answer.units >= 50_000

    def test_the_safety_net_cuts_short_and_says_it_depends_on_the_machine(self) -> None:
        """With units to spare, only the wall-clock safety net stops it: unknown, saying so."""
        x, y, z = z3.Ints("x y z")
        hard = [x > 1, y > 1, z > 1, x * x * x + y * y * y == z * z * z + 7 * x * y * z + 12345]
        answer = wall.check(hard, [x, y, z], 4_000_000_000, 0.2)
        assert (
            answer.result == "unknown" and "safety net" in answer.reason and "depends on the machine" in answer.reason
        ), answer

    def test_sat_answers_carry_the_variables(self) -> None:
        x, y = z3.Ints("x y")
        answer = wall.check([x + y == 5, x - y == 1], [x, y], 5_000_000, 600.0)
        assert answer.result == "sat" and answer.values == {"x": 3, "y": 2}
