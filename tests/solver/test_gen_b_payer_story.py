"""Helper F's finding (session 22), now the regression of the lead's decision: on percolator Gen B the
charge follows the lots taken (docs/model.md#percolator-gen-bs-whole-lot-shrink-the-charge-follows-the-lots-taken-session-22,
docs/solver-notes.md#the-charge-follows-the-lots-taken-session-22).

The rule before: a bankrupt position closed against the opposing side pro rata, each opposing trader
giving up ``⌊w·q/OI⌋`` lots and the order book the rest, and the deficit the fund left charged per lot
of that side as it stood before the close. With two longs bankrupt in one move against bob (short 1)
and the order book (short 1), the first close took ``⌊1·1/2⌋ = 0`` of bob's lot and the order book's
whole lot, yet charged bob half the deficit; the second found bob alone opposite, charged him the
whole remaining deficit and took his lot: flat below zero (−1), out of the cascade's reach, and from
an empty book by deposits and trades −144. Percolator shrinks every opposing position by one factor
and charges ``D·|s|/OI`` by the same one (spec v11.31 §5.6), so a position pays for what it gives up.

The rule now (``side_index.lots_taken``, ``charge_per_lot``): one exact split of the q lots by ``|s|``
(``ProRata.EXACT_IN_ORDER``, the lots add up to q), the deficit charged by the lots taken. Both stories
keep every claim; the old rule, kept here as a mutant (:func:`old_rule`), breaks them as it did
without §7.3's write-off (:func:`no_write_off`, the engine of session 22). With it (session 23,
``bankruptcy.write_off``) the old rule's stories end with bob written off at his turn by the order
book's matured profit, every claim held; where the cascade sinks him after his own turn he waits, below
zero, for his next touch.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import bankruptcy, side_index, socialized_loss
from solvent.rules.arith import Rounding, div, safe_divisor, sum_
from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason, system
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import reasons

GEN_B = load_preset("percolator-gen-b")
PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "principal-protected")


def _failing(s) -> set[str]:
    view = StepView.of(GEN_B, s)
    return {i for i in PAYER_CLAIMS if catalog.get(i).holds(view) is False}


@pytest.fixture
def old_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule before the decision, as a mutant: each opposing trader gives up ``⌊|s|·q/OI⌋`` lots,
    the order book the rest; the deficit charged per lot of the side as it stood (``k_up`` over
    ``opposing_lots``), not by the lots taken."""

    def floors(book: Book, name: str, lots):
        weights = side_index.opposing_lots(book, name)
        oi = sum_(w for _, w in weights)
        liquidity = system(book, Role.LIQUIDITY)
        taken = [(o, div(w * lots, safe_divisor(oi), rounding=Rounding.FLOOR)) for o, w in weights if o != liquidity]
        return [*taken, (liquidity, lots - sum_(d for _, d in taken))]

    def per_lot_as_it_stood(ctx, rounding, bankrupt, remaining, at):
        return side_index.charge_k_up(ctx, side_index.opposing_lots(at, bankrupt), bankrupt, remaining)

    monkeypatch.setattr(side_index, "lots_taken", floors)
    monkeypatch.setattr(socialized_loss, "charge_per_lot", per_lot_as_it_stood)


@pytest.fixture
def no_write_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gen B without §7.3's write-off (``bankruptcy.write_off``, session 23): the engine of session 22."""
    monkeypatch.setattr(bankruptcy, "writes_off_flat", lambda policy: False)


def _written_off(s, name: str) -> list[tuple[str, int, str]]:
    return [
        (t.source, t.amount_quote, t.reason.name)
        for t in s.transfers
        if t.destination == name and t.reason in (Reason.INSURANCE_FUND, Reason.HAIRCUT)
    ]


def _one_move_book(bob_cash: int = 2) -> Book:
    """Mark 20: alice and carol long 1 on 2 each (their initial margin), bob short 1 on ``bob_cash``,
    the order book short 1 (what a short's solvent liquidation left it under the old rule)."""
    book = new_book(mark_quote=20, traders=("alice", "bob", "carol"))
    sides = {"alice": 1, "bob": -1, "carol": 1, "liquidity": -1}
    accounts = []
    for a in book.accounts:
        if a.name in sides:
            cash = {"liquidity": 0, "bob": bob_cash}.get(a.name, 2)
            a = attrs.evolve(
                a, size_lots=sides[a.name], cost_quote=20 * sides[a.name], cash_quote=cash, principal_quote=cash
            )
        accounts.append(a)
    return attrs.evolve(book, accounts=tuple(accounts), net_deposits_quote=4 + bob_cash)


def _charged(s, payer: str) -> list[int]:
    return [t.amount_quote for t in s.transfers if t.reason is Reason.SOCIALIZED_LOSS and t.source == payer]


def test_one_move_at_three_traders_keeps_every_claim() -> None:
    book = _one_move_book()
    assert reasons(GEN_B, book) == []  # well formed: the prover's one-move question starts from such a book
    s = step(GEN_B, book, MarkPrice(7))
    # alice's lot closes against bob's (q = 1 over bob 1 and the book 1: ⌊1/2⌋ = 0 each, the lot
    # left bob's, first in book order): bob pays her 11 (ΔK = 11 a lot taken); carol's lot closes
    # against the book's, which pays her 11; bob is flat at 2 + 13 − 11
    assert _charged(s, "bob") == [11] and _charged(s, "liquidity") == [11]
    bob = s.after.account("bob")
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == 4
    assert _failing(s) == set()


def test_one_move_under_the_old_rule_leaves_bob_flat_below_zero(old_rule, no_write_off) -> None:
    s = step(GEN_B, _one_move_book(), MarkPrice(7))
    bob = s.after.account("bob")
    # alice's 11 over bob's lot and the book's: ⌈11/2⌉ = 6 though he gave up none; carol's 11 less
    # the fund's 1 (alice's dust) on bob alone
    assert _charged(s, "bob") == [6, 10]
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == -1
    assert _failing(s) == set(PAYER_CLAIMS)


def test_one_move_under_the_old_rule_bob_is_written_off(old_rule) -> None:
    """§7.3's write-off (session 23) resolves what the old rule left: bob flat at −1 after the cascade,
    the fund empty (its 1 paid carol), the order book's matured profit (its gain of the move) pays 1."""
    s = step(GEN_B, _one_move_book(), MarkPrice(7))
    assert _charged(s, "bob") == [6, 10]
    assert _written_off(s, "bob") == [("liquidity", 1, "HAIRCUT")]
    bob = s.after.account("bob")
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == 0
    assert _failing(s) == set()


def test_under_the_old_rule_bob_sunk_after_his_turn_waits_for_his_next_touch(old_rule) -> None:
    """The write-off is at the account's own touch (the end of its turn, spec v11.11 §10.1 step 10):
    with bob first in book order, alice's turn and the cascade in it sink him after his own turn, so
    the move leaves him at −1 (every payer claim fails on the old rule); the next event's touch
    writes him off, the order book's matured profit paying 1."""
    book = _one_move_book()
    first = {a.name: a for a in book.accounts}
    order = [first["bob"], first["alice"], first["carol"], *(a for a in book.accounts if not a.is_trader)]
    book = attrs.evolve(book, accounts=tuple(order))
    assert reasons(GEN_B, book) == []
    s = step(GEN_B, book, MarkPrice(7))
    assert equity(GEN_B.margin, s.after.account("bob")) == -1 and _failing(s) == set(PAYER_CLAIMS)
    later = step(GEN_B, s.after, MarkPrice(7))
    assert _written_off(later, "bob") == [("liquidity", 1, "HAIRCUT")]
    assert equity(GEN_B.margin, later.after.account("bob")) == 0 and _failing(later) == set()


def test_under_the_old_rule_one_more_lot_of_cash_for_bob_was_the_boundary(old_rule, no_write_off) -> None:
    s = step(GEN_B, _one_move_book(bob_cash=3), MarkPrice(7))
    assert equity(GEN_B.margin, s.after.account("bob")) == 0
    assert _failing(s) == set()


def _from_empty() -> list:
    """Deposits and trades at 1,000; a rise to 1,051 liquidates eve (short 1) solvent; the fall to 1
    sinks the longs."""
    book = new_book(mark_quote=1000, traders=("alice", "bob", "carol", "eve"))
    events = [
        Deposit("alice", 101),
        Deposit("bob", 201),
        Deposit("carol", 101),
        Deposit("eve", 101),
        Trade("alice", "eve", 1, 1000),
        Trade("carol", "bob", 1, 1000),
        MarkPrice(1051),
        MarkPrice(1),
    ]
    return run(GEN_B, book, events)


def test_the_story_from_an_empty_book_keeps_every_claim() -> None:
    """eve's lot closes against the longs alice and carol (⌊1/2⌋ = 0 each, the lot alice's, first in
    book order): alice is flat before the fall, the order book holds nothing; at the fall carol sinks
    (899), the fund pays its 10 and bob, who takes her lot, the other 889, for a gain of 999."""
    steps = _from_empty()
    assert all(_failing(s) == set() for s in steps)
    rise, fall = steps[-2], steps[-1]
    sizes = {a.name: a.size_lots for a in rise.after.accounts if a.size_lots}
    assert sizes == {"bob": -1, "carol": 1}
    assert _charged(fall, "bob") == [889]
    bob = fall.after.account("bob")
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == 310


def test_the_story_from_an_empty_book_under_the_old_rule_bob_is_written_off(old_rule) -> None:
    """bob's −144 written off by the order book's matured profit (the write-off's haircut)."""
    fall = _from_empty()[-1]
    assert _written_off(fall, "bob") == [("liquidity", 144, "HAIRCUT")]
    assert equity(GEN_B.margin, fall.after.account("bob")) == 0
    assert _failing(fall) == set()


def test_the_story_from_an_empty_book_under_the_old_rule_reaches_minus_144(old_rule, no_write_off) -> None:
    """eve's lot closed against the longs (⌊1·1/2⌋ = 0 each) and the order book, which went short 1;
    the fall to 1 sank alice and carol (899 each): bob paid 445 of alice's and 898 of carol's."""
    steps = _from_empty()
    assert all(_failing(s) == set() for s in steps[:-1])
    rise, fall = steps[-2], steps[-1]
    assert rise.after.account("liquidity").size_lots == -1 and rise.after.account("eve").size_lots == 0
    bob = fall.after.account("bob")
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == -144
    assert _failing(fall) == set(PAYER_CLAIMS)
