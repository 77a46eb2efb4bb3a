"""Percolator Gen A over several mark moves: the order book's hole, and vesting profit converted
at h (docs/model.md#percolator-gen-a-over-moves-the-order-books-hole-converted-at-face-session-24,
docs/solver-notes.md#percolator-gen-as-payer-claims-over-moves-session-24).

Session 22's junior cover is one move: from a well-formed start, Σ max(E − principal, 0) over the
traders and the order book covers every trader's deficit at the sweep's first turn. A second move
starts from a book the first reached. Helper gak3 (session 24) found two things of the engine that
broke the cover over moves, each shown here on its own run:

- the order book's loss is a hole it keeps (the engine never resolves it: the lead's decision), its
  counterparty's gain is junior profit, and the linear warm-up converted that profit into capital at
  face, so percolator's residual Σ (E − principal) (spec v7 §3.1: Residual = V − C_tot − I) fell
  below zero by the slope. Since session 24 (helper gafix) vesting profit converts at h, as
  percolator's §6.2 does (``haircut_ratio.convert``): x vests, y = ⌊x × h_num / h_den⌋ becomes
  capital, and x − y pays into the order book's hole; the residual is kept;
- "some mark at which every trader and the order book is worth at least zero": one move can leave
  the order book flat and below zero, when a bankrupt loser's haircut takes the winners' gains and
  the winners, below maintenance at the new mark, are liquidated into it (unchanged).

Both together left a trader below zero over three moves and three traders at face conversion
(``TestThreeMoves``, within the catalog's K = 3, N = 3 cells); converted at h the same book and
marks keep every claim, and the face conversion restored as a mutant breaks them again.
"""

from __future__ import annotations

import attrs

from solvent.properties.catalog import StepView, get
from solvent.rules import haircut_ratio
from solvent.rules.arith import Rounding
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import HaircutRatio, Release
from solvent.rules.wellformed import reasons
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught

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


def face(policy, ctx, vested):
    """The mutant: vesting profit converted at face (the rule before session 24): principal += x."""
    for name, x in vested:
        ctx = ctx.update_account(name, principal_quote=ctx.account(name).principal_quote + x)
    return ctx


def conversions(policy, book: Book, mark: int) -> list[tuple[str, str, int]]:
    return [
        (t.source, t.destination, t.amount_quote)
        for t in step(policy, book, MarkPrice(mark)).transfers
        if t.reason is Reason.CONVERSION_HAIRCUT
    ]


class TestTheResidualIsKept:
    def test_the_quiet_event_converts_at_h(self) -> None:
        start, first, second, back = moves(short_book(), 2_000, 2_000, 1_000)
        assert residual(start) == 0 and residual(first) == 0  # one move keeps it (settlement moves E only)
        alice, order_book = first.account("alice"), first.account("liquidity")
        assert equity(GEN_A.margin, alice) == 110_000 and alice.principal_quote == 10_000
        assert alice.reserve_slope_quote == 1_000  # max(1, ⌊100,000 / 100⌋)
        assert equity(GEN_A.margin, order_book) == -100_000  # its hole: the engine never resolves it
        # the quiet event vests a slope of 1,000 at h = min(0, 100,000) / 100,000 = 0: no capital, and
        # the 1,000 the account loses (spec v7 §6.2) pays into the hole
        assert second.account("alice").principal_quote == 10_000
        assert equity(GEN_A.margin, second.account("alice")) == 109_000
        assert equity(GEN_A.margin, second.account("liquidity")) == -99_000
        assert conversions(GEN_A, first, 2_000) == [("alice", "liquidity", 1_000)]
        assert residual(second) == 0
        # the move back: alice's loss re-bases her principal (another 1,000 lost as the event opens)
        assert equity(GEN_A.margin, back.account("alice")) == 8_000 == back.account("alice").principal_quote
        assert residual(back) == 2_000 and equity(GEN_A.margin, back.account("liquidity")) == 2_000

    def test_the_boundary_at_h(self) -> None:
        # the book's cash 100,000: its loss takes it to 0, Residual = 100,000 = alice's junior profit,
        # h = 1 and the slope converts whole; a quantum less: Residual 99,999, y = ⌊1,000 × 99,999 /
        # 100,000⌋ = 999 (the spec's floor), and the 1 not converted fills the book's hole of 1
        whole = moves(short_book(100_000), 2_000, 2_000)
        assert whole[-1].account("alice").principal_quote == 11_000 and residual(whole[-1]) == 99_000
        assert conversions(GEN_A, whole[1], 2_000) == []
        less = moves(short_book(99_999), 2_000, 2_000)
        assert equity(GEN_A.margin, less[1].account("liquidity")) == -1 and residual(less[1]) == 99_999
        assert less[-1].account("alice").principal_quote == 10_999
        assert conversions(GEN_A, less[1], 2_000) == [("alice", "liquidity", 1)]
        assert equity(GEN_A.margin, less[-1].account("liquidity")) == 0 and residual(less[-1]) == 99_000

    def test_mutant_the_conversion_rounded_up(self) -> None:
        # rounding.conversion = "ceil" (one token): the quantum below converts whole, 11,000
        up = attrs.evolve(GEN_A, rounding=attrs.evolve(GEN_A.rounding, conversion=Rounding.CEIL))
        assert moves(short_book(99_999), 2_000, 2_000, policy=up)[-1].account("alice").principal_quote == 11_000

    def test_mutant_face_conversion_loses_it(self, monkeypatch) -> None:
        monkeypatch.setattr(haircut_ratio, "convert", face)
        second = moves(short_book(), 2_000, 2_000)[-1]
        assert second.account("alice").principal_quote == 11_000
        assert residual(second) == -1_000

    def test_the_hole_takes_what_it_can_in_book_order(self) -> None:
        # two longs on the book's 199,999: Residual 199,999 of 200,000 of junior profit, each slope of
        # 1,000 converts 999 (floor) and loses 1, but the hole is 1: alice's quantum fills it, bob's
        # stays his junior profit
        second = moves(two_longs(199_999), 2_000, 2_000)[-1]
        assert [second.account(n).principal_quote for n in ("alice", "bob")] == [10_999, 10_999]
        assert [equity(GEN_A.margin, second.account(n)) for n in ("alice", "bob", "liquidity")] == [109_999, 110_000, 0]

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


def two_longs(book_cash: int) -> Book:
    """alice and bob long 100 lots each at 1,000 on 10,000 of capital, the order book short 200 on
    ``book_cash``."""
    book = _evolve(
        new_book(mark_quote=1_000, traders=("alice", "bob")),
        alice=_at(100, 10_000, 10_000),
        bob=_at(100, 10_000, 10_000),
        liquidity=_at(-200, book_cash, book_cash),
    )
    assert reasons(GEN_A, book) == []
    return book


def observe_conversion() -> tuple:
    """The conversion's boundary cases: (alice's principal and equity, the book's equity) after the
    quiet event at h = 1 (100,000), a quantum below (99,999), h = 1/2 (50,000) and h = 0 (0), and
    the two longs whose second quantum the hole does not take."""
    out = []
    for cash in (100_000, 99_999, 50_000, 0):
        b = moves(short_book(cash), 2_000, 2_000)[-1]
        out.append((b.account("alice").principal_quote, equity(GEN_A.margin, b.account("alice"))))
        out.append(equity(GEN_A.margin, b.account("liquidity")))
    b = moves(two_longs(199_999), 2_000, 2_000)[-1]
    out.append(tuple(equity(GEN_A.margin, a) - a.principal_quote for a in _holders(b)))
    return tuple(out)


def test_every_mutant_of_the_conversion_is_caught(monkeypatch) -> None:
    assert observe_conversion()[4:6] == ((10_500, 109_500), -49_500)  # h = 1/2: y = 500, 500 lost
    assert_every_mutant_is_caught(monkeypatch, haircut_ratio, "convert", observe_conversion, at_least=5)


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


class TestThreeMoves:
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
        assert residual(first) == 13_755
        # the fall opens with the slopes vesting at h = 13,755 / (t0's and t3's junior profit): t0
        # converts 117 of 14,632, t3 19 of 2,464, the rest into the book's hole; both are then
        # liquidated into the book, which ends flat, 47,600 below zero
        assert conversions(GEN_A, first, 4_999) == [("t0", "liquidity", 14_515), ("t3", "liquidity", 2_445)]
        t0, t3, order_book = second.account("t0"), second.account("t3"), second.account("liquidity")
        assert t0.size_lots == 0 and equity(GEN_A.margin, t0) == 52_471 and t0.principal_quote == 0
        assert t3.size_lots == 0 and equity(GEN_A.margin, t3) == 8_748 and t3.principal_quote == 0
        assert order_book.size_lots == 0 and equity(GEN_A.margin, order_book) == -47_600
        assert residual(second) == 13_619

    def test_the_third_move_keeps_every_claim(self) -> None:
        second = moves(three_move_book(), 10_003, 4_999)[-1]
        # every account is flat: the third mark moves nothing but the vesting, at h again; t3 keeps
        # 548 of its slope as capital and 6,832 in all, at 3,933 (where face conversion left it at
        # −19), at the tick above and at the lowest mark
        for mark in (1, 3_933, 3_934):
            third = step(GEN_A, second, MarkPrice(mark)).after
            assert equity(GEN_A.margin, third.account("t3")) == 6_832 and third.account("t3").principal_quote == 548
            assert all(_claims(GEN_A, second, mark).values())
            assert residual(third) == 9_816

    def test_mutant_face_conversion_leaves_t3_below_zero(self, monkeypatch) -> None:
        # gak3's finding, the conversion at face restored: at 3,933 t3's deficit of 37,858 meets 37,839
        # of t0's junior profit (its capital grown by the face slopes) and t3 ends at −19
        monkeypatch.setattr(haircut_ratio, "convert", face)
        second = moves(three_move_book(), 10_003, 4_999)[-1]
        assert equity(GEN_A.margin, step(GEN_A, second, MarkPrice(3_933)).after.account("t3")) == -19
        assert _claims(GEN_A, second, 3_933) == {
            "no-negative-equity": False,
            "loss-bounded-by-collateral": False,
            "claims-backed": False,
            "principal-protected": True,
        }
        assert equity(GEN_A.margin, step(GEN_A, second, MarkPrice(3_934)).after.account("t3")) == 0

    def test_mutant_vesting_at_the_window_end_keeps_every_claim(self) -> None:
        # the same book and marks with the profit vesting at the 100-event window's end: nothing vests
        # in the three events, and t0's junior profit pays t3's deficit whole
        window = _window_end()
        book = _evolve(three_move_book(), t0={"reserve_slope_quote": 0}, t4={"reserve_slope_quote": 0})
        assert reasons(window, book) == []
        second = moves(book, 10_003, 4_999, policy=window)[-1]
        for mark in (3_933, 1):
            assert all(_claims(window, second, mark).values())
