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

Neither run leaves a trader below zero. Both together do, over five moves (``TestATraderBelowZero``):
the order book's hole outlives the winners whose gains it backed, the warm-up has converted those
gains into capital at face, and the last trader facing the book loses into the hole with nobody's
junior profit left to cover it; no-negative-equity, loss-bounded-by-collateral and claims-backed
fail. Vesting at the window's end (nothing vests within the five events) keeps every claim.
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


# --- a trader below zero after five moves -------------------------------------------------------


def _at_10k(size: int, cash: int, principal: int, slope: int = 0) -> dict:
    return {
        "cash_quote": cash,
        "principal_quote": principal,
        "size_lots": size,
        "cost_quote": size * 10_000,
        "reserve_slope_quote": slope,
    }


#: benchmarks/search_gen_a_moves.py --seed 2 found it (its 334th book): four traders at or above their
#: initial margin at the mark 10,000, the order book short 241 lots on no cash
FIVE_MOVES = (1_000_003, 1_050_003, 525_000, 262_500, 131_249)


def five_move_book() -> Book:
    return _evolve(
        new_book(mark_quote=10_000, traders=("t0", "t1", "t2", "t3")),
        t0=_at_10k(161, 553_026, 0, 5_530),
        t1=_at_10k(135, 983_369, 983_369),
        t2=_at_10k(24, 38_046, 26_615, 114),
        t3=_at_10k(-79, 168_052, 23_240, 1_448),
        liquidity=_at_10k(-241, 0, 0),
    )


PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "principal-protected")


def _claims(policy, book: Book, marks) -> list[dict[str, bool]]:
    """The four claims' verdicts on each move's step, read on the concrete engine."""
    out = []
    for mark in marks:
        st = step(policy, book, MarkPrice(mark))
        view = StepView.of(policy, st)
        out.append({c: bool(get(c).holds(view)) for c in PAYER_CLAIMS})
        book = st.after
    return out


class TestATraderBelowZeroAfterFiveMoves:
    def test_the_book_is_well_formed(self) -> None:
        assert reasons(GEN_A, five_move_book()) == []

    def test_the_fifth_move_leaves_t1_below_zero_by_the_hole_it_does_not_cover(self) -> None:
        books = moves(five_move_book(), *FIVE_MOVES)
        fourth, fifth = books[4], books[5]
        # after four moves: the order book short 135 against t1 alone, 2,589,763 below zero; t0 and t2
        # flat, their equity all capital (the warm-up converted their junior profit at face, then their
        # losses re-based it), so nobody but the book holds junior profit
        order_book = fourth.account("liquidity")
        assert order_book.size_lots == -135 and equity(GEN_A.margin, order_book) == -2_589_763
        t1 = fourth.account("t1")
        assert t1.size_lots == 135 and equity(GEN_A.margin, t1) == 2_204_795 == t1.principal_quote
        for name in ("t0", "t2"):
            flat = fourth.account(name)
            assert flat.size_lots == 0 and equity(GEN_A.margin, flat) == flat.principal_quote > 0
        # the fifth move: t1's loss refills the book's hole first, its deficit beyond the book's junior
        # profit stays with it: 2,204,795 − 2,589,763
        assert equity(GEN_A.margin, fifth.account("t1")) == 2_204_795 - 2_589_763 == -384_968
        # the four moves before keep every claim
        assert all(all(c.values()) for c in _claims(GEN_A, five_move_book(), FIVE_MOVES[:4]))
        last = _claims(GEN_A, fourth, FIVE_MOVES[4:])[0]
        assert last == {
            "no-negative-equity": False,
            "loss-bounded-by-collateral": False,
            "claims-backed": False,
            "principal-protected": True,  # t1 lost to the market, no haircut took its principal
        }

    def test_mutant_vesting_at_the_window_end_keeps_every_claim(self) -> None:
        # the same book and moves with the profit vesting at the 100-event window's end: nothing vests
        # within the five events, t0's and t2's equity stays junior profit and pays t1's deficit
        layers = tuple(
            attrs.evolve(x, release=Release.WINDOW_END) if isinstance(x, HaircutRatio) else x for x in GEN_A.deficit
        )
        window = attrs.evolve(GEN_A, deficit=layers)
        book = _evolve(
            five_move_book(),
            t0={"reserve_slope_quote": 0},
            t2={"reserve_slope_quote": 0},
            t3={"reserve_slope_quote": 0},
        )
        assert reasons(window, book) == []
        assert all(all(c.values()) for c in _claims(window, book, FIVE_MOVES))
        assert equity(window.margin, moves(book, *FIVE_MOVES, policy=window)[-1].account("t1")) == 0
