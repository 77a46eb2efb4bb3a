"""Percolator Gen A over several mark moves: two premises a move does not keep
(docs/solver-notes.md#percolator-gen-as-payer-claims-over-moves-session-24).

Session 22's junior cover is one move: from a well-formed start, Σ max(E − principal, 0) over the
traders and the order book covers every trader's deficit at the sweep's first turn. A second move
starts from a book the first reached, and the two premises that would carry the cover across moves
are not kept by Gen A's engine, each shown here on its own run:

- percolator's own invariant, the residual Σ (E − principal) ≥ 0 over the traders and the order
  book (spec v7 §3.1: Residual = V − C_tot − I ≥ 0): the order book's loss is a hole it keeps
  (the engine never resolves it), its counterparty's gain is junior profit, and the linear warm-up
  converts that profit into capital at face as the next event opens (``haircut_ratio._vest_slope``;
  percolator converts at h, the preset's "not modelled: the lazy h"), so the residual falls below
  zero by the slope;
- "some mark at which every trader and the order book is worth at least zero": one move can leave
  the order book flat and below zero, when a bankrupt loser's haircut takes the winners' gains and
  the winners, below maintenance at the new mark, are liquidated into it.

Neither run leaves a trader below zero. Both together do, over three moves and three traders
(``TestATraderBelowZeroAfterThreeMoves``, within the catalog's K = 3, N = 3 cells): the order
book's hole outlives the winner whose gain it backed, the warm-up converts that gain into capital
at face, and the last trader facing the book loses into the hole with too little junior profit left
to cover it; no-negative-equity, loss-bounded-by-collateral and claims-backed fail. Vesting at the
window's end (nothing vests within the three events) keeps every claim.
"""

from __future__ import annotations

import attrs

from solvent.properties.catalog import StepView, get
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import HaircutRatio, Release
from solvent.rules.wellformed import reasons
from tests.rules.test_fidelity_round_two import _evolve

GEN_A = load_preset("percolator-gen-a")


def _at(size: int, cash: int, principal: int) -> dict:
    """An account opened at the mark 1,000 (settled to it), its cash as given; no junior profit
    where the principal is its cash, so no slope."""
    return {"cash_quote": cash, "principal_quote": principal, "size_lots": size, "cost_quote": size * 1_000}


def _holders(book: Book) -> list:
    return [a for a in book.accounts if a.is_trader or a.name == "liquidity"]


def residual(book: Book, policy=GEN_A) -> int:
    """percolator's residual on the engine's accounts: Σ (E − principal) over the traders and the book."""
    return sum(equity(policy.margin, a) - a.principal_quote for a in _holders(book))


def short_book(book_cash: int = 0) -> Book:
    """alice long 100 lots at 1,000 on 10,000 of capital (her initial margin), the order book short
    the other side on ``book_cash``."""
    book = _evolve(
        new_book(mark_quote=1_000, traders=("alice",)),
        alice=_at(100, 10_000, 10_000),
        liquidity=_at(-100, book_cash, book_cash),
    )
    assert reasons(GEN_A, book) == []
    return book


def moves(book: Book, *marks: int, policy=GEN_A) -> list[Book]:
    out = [book]
    for mark in marks:
        out.append(step(policy, out[-1], MarkPrice(mark)).after)
    return out


class TestTheResidualIsNotKept:
    def test_it_falls_below_zero_by_the_slope_the_next_event_vests(self) -> None:
        start, first, second, back = moves(short_book(), 2_000, 2_000, 1_000)
        assert residual(start) == 0 and residual(first) == 0  # one move keeps it (settlement moves E only)
        alice, order_book = first.account("alice"), first.account("liquidity")
        assert equity(GEN_A.margin, alice) == 110_000 and alice.principal_quote == 10_000
        assert alice.reserve_slope_quote == 1_000  # max(1, ⌊100,000 / 100⌋)
        assert equity(GEN_A.margin, order_book) == -100_000  # its hole: the engine never resolves it
        # the quiet event converts a slope of the junior profit the hole backs into capital, at face
        assert second.account("alice").principal_quote == 11_000
        assert residual(second) == -1_000
        # the move back: alice's loss re-bases her principal to her equity; nobody is below zero
        assert equity(GEN_A.margin, back.account("alice")) == 10_000 == back.account("alice").principal_quote
        assert residual(back) == 0
        assert all(equity(GEN_A.margin, b.account("alice")) >= 0 for b in (first, second, back))

    def test_the_book_cash_covers_it_to_the_quantum(self) -> None:
        # the residual after the vest is the book's cash less the slope: 0 at 1,000, −1 at 999
        assert residual(moves(short_book(1_000), 2_000, 2_000)[-1]) == 0
        assert residual(moves(short_book(999), 2_000, 2_000)[-1]) == -1

    def test_mutant_vesting_at_the_window_end_keeps_it(self) -> None:
        # the same story with the profit vesting at the 100-event window's end (the rule before the
        # linear release): the quiet event converts nothing, the residual stays 0
        layers = tuple(
            attrs.evolve(x, release=Release.WINDOW_END) if isinstance(x, HaircutRatio) else x for x in GEN_A.deficit
        )
        window = attrs.evolve(GEN_A, deficit=layers)
        book = _evolve(short_book(), alice={"reserve_slope_quote": 0})
        assert reasons(window, book) == []
        second = moves(book, 2_000, 2_000, policy=window)[-1]
        assert second.account("alice").principal_quote == 10_000
        assert residual(second, window) == 0


def flat_hole_book() -> Book:
    """The order book short 1 lot at 1,000 on no cash; alice short 100 and bob long 101, each on its
    initial margin, all capital."""
    book = _evolve(
        new_book(mark_quote=1_000, traders=("alice", "bob")),
        alice=_at(-100, 10_000, 10_000),
        bob=_at(101, 10_100, 10_100),
        liquidity=_at(-1, 0, 0),
    )
    assert reasons(GEN_A, book) == []
    return book


class TestNoCommonMarkAfterOneMove:
    def test_the_order_book_ends_flat_below_zero(self) -> None:
        after = moves(flat_hole_book(), 100_000)[-1]
        # alice loses 9,900,000 on 10,000: her deficit 9,890,000 is charged to bob's 9,999,000 of gain;
        # bob, 119,100 against a maintenance of 505,000 at the new mark, is liquidated into the book
        # (his penalty of 10,100 from capital), so the book takes alice's short and bob's long: flat
        book_after, bob = after.account("liquidity"), after.account("bob")
        assert book_after.size_lots == 0 and equity(GEN_A.margin, book_after) == -99_000  # its one lot's loss
        assert bob.size_lots == 0 and equity(GEN_A.margin, bob) == 109_000 and bob.principal_quote == 0
        assert equity(GEN_A.margin, after.account("alice")) == 0
        # a flat account below zero is below zero at every mark: no common mark exists
        assert any(a.size_lots == 0 and equity(GEN_A.margin, a) < 0 for a in _holders(after))
        # what backs bob's junior profit is partly that hole: the residual counts it
        assert residual(after) == 109_000 - 99_000

    def test_a_book_one_lot_smaller_keeps_none(self) -> None:
        # the order book flat at the start (bob long 100): the move leaves it flat at zero
        book = _evolve(flat_hole_book(), bob=_at(100, 10_000, 10_000), liquidity=_at(0, 0, 0))
        assert reasons(GEN_A, book) == []
        after = moves(book, 100_000)[-1]
        assert equity(GEN_A.margin, after.account("liquidity")) == 0


# --- a trader below zero after three moves ------------------------------------------------------


def _at_100(size: int, cash: int, principal: int, slope: int = 0) -> dict:
    return {
        "cash_quote": cash,
        "principal_quote": principal,
        "size_lots": size,
        "cost_quote": size * 100,
        "reserve_slope_quote": slope,
    }


PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "principal-protected")


def three_move_book() -> Book:
    """benchmarks/search_gen_a_moves.py --seed 4 --moves 3 found it on six traders, merged here into
    three by their kinds: at the mark 100, t0 long 279 (2,800 of cash, 1,746 of it capital), t3 long
    47 (1,032, all capital), t4 short 154 (5,259, 792 capital), each at or above its initial margin;
    the order book short the other 172 lots on 7,452 of cash."""
    return _evolve(
        new_book(mark_quote=100, traders=("t0", "t3", "t4")),
        t0=_at_100(279, 2_800, 1_746, 10),
        t3=_at_100(47, 1_032, 1_032),
        t4=_at_100(-154, 5_259, 792, 44),
        liquidity=_at_100(-172, 7_452, 7_452),
    )


def _claims(policy, book: Book, mark: int) -> dict[str, bool]:
    """The four claims' verdicts on the step of ``book`` to ``mark``, read on the concrete engine."""
    view = StepView.of(policy, step(policy, book, MarkPrice(mark)))
    return {c: bool(get(c).holds(view)) for c in PAYER_CLAIMS}


def _window_end():
    layers = tuple(
        attrs.evolve(x, release=Release.WINDOW_END) if isinstance(x, HaircutRatio) else x for x in GEN_A.deficit
    )
    return attrs.evolve(GEN_A, deficit=layers)


class TestATraderBelowZeroAfterThreeMoves:
    def test_the_book_is_well_formed(self) -> None:
        assert reasons(GEN_A, three_move_book()) == []

    def test_the_two_moves_before(self) -> None:
        start, first, second = moves(three_move_book(), 10_003, 4_999)
        assert all(_claims(GEN_A, start, 10_003).values()) and all(_claims(GEN_A, first, 4_999).values())
        # the 100x gap: t4 bankrupt, its deficit haircut from the longs' gains; the order book's short
        # of 172 loses 1,703,316 on 7,452 and takes t4's lots: 1,695,864 below zero, short 326
        assert first.account("t4").size_lots == 0
        order_book = first.account("liquidity")
        assert order_book.size_lots == -326 and equity(GEN_A.margin, order_book) == -1_695_864
        assert first.account("t0").reserve_slope_quote == 14_632  # ⌊1,463,219 / 100⌋ of junior profit
        # the fall: t0, its slope vested, is liquidated into the book; the book is short 47 against t3
        # alone, 64,560 below zero; t0 flat with 61,885, 9,414 of it capital
        t0, t3, order_book = second.account("t0"), second.account("t3"), second.account("liquidity")
        assert t0.size_lots == 0 and equity(GEN_A.margin, t0) == 61_885 and t0.principal_quote == 9_414
        assert t3.size_lots == 47 and equity(GEN_A.margin, t3) == 12_244
        assert order_book.size_lots == -47 and equity(GEN_A.margin, order_book) == -64_560

    def test_the_third_move_leaves_t3_below_zero_one_tick_and_not_the_next(self) -> None:
        second = moves(three_move_book(), 10_003, 4_999)[-1]
        # at 3,933 t3 loses 47 × 1,066 = 50,102 on 12,244: a deficit of 37,858; the book's gain only
        # refills its hole, and t0's junior profit is 61,885 less its capital after this event's vest
        # (9,414 + 14,632), 37,839: t3 ends at −19
        third = step(GEN_A, second, MarkPrice(3_933)).after
        assert equity(GEN_A.margin, third.account("t3")) == 37_839 - 37_858 == -19
        assert _claims(GEN_A, second, 3_933) == {
            "no-negative-equity": False,
            "loss-bounded-by-collateral": False,
            "claims-backed": False,
            "principal-protected": True,  # t3 lost to the market; no haircut took a principal
        }
        # a tick higher the deficit is 37,811, within t0's 37,839
        assert equity(GEN_A.margin, step(GEN_A, second, MarkPrice(3_934)).after.account("t3")) == 0
        assert all(_claims(GEN_A, second, 3_934).values())

    def test_mutant_vesting_at_the_window_end_keeps_every_claim(self) -> None:
        # the same book and marks with the profit vesting at the 100-event window's end: nothing vests
        # in the three events, and t0's junior profit pays t3's deficit whole
        window = _window_end()
        book = _evolve(three_move_book(), t0={"reserve_slope_quote": 0}, t4={"reserve_slope_quote": 0})
        assert reasons(window, book) == []
        second = moves(book, 10_003, 4_999, policy=window)[-1]
        for mark in (3_933, 1):
            assert all(_claims(window, second, mark).values())
