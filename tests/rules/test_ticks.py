"""The tick grid (``solvent.rules.book.on_tick``): one rounding onto the grid, in a named direction.

Every boundary on both sides: a price exactly on a tick, one quantum above it and one quantum
below it, in each direction; the predicate the engine and the well-formed book use; the engine's
requirement on each side of a tick; and the same function on z3 terms.
"""

from __future__ import annotations

import pytest

from solvent.rules.arith import Rounding
from solvent.rules.book import is_on_tick, new_book, on_tick
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import MarkPrice
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.wellformed import reasons

FLOOR, CEIL, HALF_EVEN = Rounding.FLOOR, Rounding.CEIL, Rounding.HALF_EVEN


@pytest.mark.parametrize(
    ("price", "tick", "rounding", "expected"),
    [
        # exactly on a tick: unchanged in every direction
        (500, 5, FLOOR, 500),
        (500, 5, CEIL, 500),
        (500, 5, HALF_EVEN, 500),
        # one quantum above a tick: down to it, up to the next, nearest is the one below
        (501, 5, FLOOR, 500),
        (501, 5, CEIL, 505),
        (501, 5, HALF_EVEN, 500),
        # one quantum below a tick: down to the previous, up to it, nearest is the one above
        (499, 5, FLOOR, 495),
        (499, 5, CEIL, 500),
        (499, 5, HALF_EVEN, 500),
        # half way between two ticks: half-even picks the even number of ticks
        (1_005, 10, HALF_EVEN, 1_000),  # 100.5 ticks → 100
        (1_015, 10, HALF_EVEN, 1_020),  # 101.5 ticks → 102
        # a tick of one quantum: every price is on the grid
        (501, 1, FLOOR, 501),
        (501, 1, CEIL, 501),
        # below zero the directions keep their meaning (toward −∞ / +∞)
        (-1, 5, FLOOR, -5),
        (-1, 5, CEIL, 0),
        (-6, 5, HALF_EVEN, -5),
        # zero is on every grid; one quantum above the first tick
        (0, 5, CEIL, 0),
        (6, 5, FLOOR, 5),
    ],
)
def test_on_tick_rounds_in_the_named_direction(price: int, tick: int, rounding: Rounding, expected: int) -> None:
    assert on_tick(price, tick, rounding=rounding) == expected


def test_the_direction_is_required() -> None:
    with pytest.raises(TypeError):
        on_tick(501, 5)  # type: ignore[call-arg]


@pytest.mark.parametrize("tick", [0, -5])
def test_the_tick_must_be_positive(tick: int) -> None:
    with pytest.raises(ZeroDivisionError, match="positive divisor"):
        on_tick(500, tick, rounding=FLOOR)


@pytest.mark.parametrize(
    ("price", "expected"), [(500, True), (501, False), (499, False), (0, True), (-500, True), (-499, False)]
)
def test_is_on_tick_at_a_tick_and_one_quantum_either_side(price: int, expected: bool) -> None:
    assert is_on_tick(price, 5) is expected


#: 10x, no fees: a mark move on an empty book is accepted or rejected on the tick alone.
PLAIN = Policy("plain", MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),)))


@pytest.mark.parametrize(("price", "accepted"), [(1_000, True), (1_001, False), (999, False), (1_010, True)])
def test_the_engine_accepts_a_price_exactly_on_the_tick(price: int, accepted: bool) -> None:
    book = new_book(mark_quote=990, tick_quote=10)
    if accepted:
        assert step(PLAIN, book, MarkPrice(price)).after.market.mark_quote == price
    else:
        with pytest.raises(RejectedEvent, match="multiple of the tick 10"):
            step(PLAIN, book, MarkPrice(price))


@pytest.mark.parametrize(("mark", "on_grid"), [(1_000, True), (1_001, False), (999, False)])
def test_a_well_formed_book_starts_on_the_tick(mark: int, on_grid: bool) -> None:
    broken = reasons(PLAIN, new_book(mark_quote=mark, tick_quote=10))
    assert broken == (
        [] if on_grid else [f"marks positive and on the tick: mark {mark:,}, previous mark {mark:,}, tick 10"]
    )


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("price", [495, 499, 500, 501, 502, 503, 505, -1, -3])
def test_z3_terms_round_the_same_way(price: int, rounding: Rounding) -> None:
    z3 = pytest.importorskip("z3")
    import solvent.solver  # noqa: F401  (registers the z3 backend)

    x = z3.Int("price")
    solver = z3.Solver()
    solver.add(x == price)
    assert solver.check() == z3.sat
    model = solver.model()
    assert model.eval(on_tick(x, 5, rounding=rounding)).as_long() == on_tick(price, 5, rounding=rounding)
    assert z3.is_true(model.eval(is_on_tick(x, 5))) is is_on_tick(price, 5)
