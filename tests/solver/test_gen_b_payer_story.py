"""A finding (session 22): on percolator Gen B the payer claims are false on the engine, by the
whole-lot shrink of the opposing side (docs/solver-notes.md#percolator-gen-bs-remaining-cells-session-22).

A bankrupt position closes against the opposing side pro rata, each opposing trader giving up
``⌊w·q/OI⌋`` lots and the order book the rest (``side_index.close_against_side``); the deficit the fund
leaves is charged per lot of that side as it stood before the close. With two longs bankrupt in one
move against bob (short 1) and the order book (short 1), the first close takes ``⌊1·1/2⌋ = 0`` of bob's
lot and the order book's whole lot; the second finds bob alone opposite, charges him the whole
remaining deficit and takes his lot. Bob paid half of the first deficit and all of the second, more
than his gain on the move; flat, the cascade (which asks for a position) does not resolve him, and he
ends below zero. Percolator shrinks every opposing position by one factor (spec v11.31 §5.6:
``A_opp := ⌊A_old × OI_post / OI⌋``): bob would hold half a lot for the second charge and pay half of
it; and a flat account left below zero is written off (v11.11 §7.3: ``absorb_protocol_loss``, the
fund then ``h``, and ``PNL_i`` set to 0), a path Solvent's Gen B does not have. No venue rule explains
the outcome: the claims stay in the catalog unaccepted, and the story is the lead's to decide.
"""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.book import Book, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import reasons

GEN_B = load_preset("percolator-gen-b")
PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "principal-protected")


def _failing(s) -> set[str]:
    view = StepView.of(GEN_B, s)
    return {i for i in PAYER_CLAIMS if catalog.get(i).holds(view) is False}


def _one_move_book() -> Book:
    """Mark 20: alice and carol long 1 on 2 each (their initial margin), bob short 1 on 2, the order
    book short 1 (what a short's solvent liquidation leaves it: see the reachable story)."""
    book = new_book(mark_quote=20, traders=("alice", "bob", "carol"))
    sides = {"alice": 1, "bob": -1, "carol": 1, "liquidity": -1}
    accounts = []
    for a in book.accounts:
        if a.name in sides:
            cash = 0 if a.name == "liquidity" else 2
            a = attrs.evolve(
                a, size_lots=sides[a.name], cost_quote=20 * sides[a.name], cash_quote=cash, principal_quote=cash
            )
        accounts.append(a)
    return attrs.evolve(book, accounts=tuple(accounts), net_deposits_quote=6)


def test_one_move_at_three_traders_leaves_bob_flat_below_zero() -> None:
    book = _one_move_book()
    assert reasons(GEN_B, book) == []  # well formed: the prover's one-move question starts from such a book
    s = step(GEN_B, book, MarkPrice(7))
    bob = s.after.account("bob")
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == -1
    charged = [t.amount_quote for t in s.transfers if t.reason is Reason.SOCIALIZED_LOSS and t.source == "bob"]
    # alice's 11 over bob's lot and the book's: ⌈11/2⌉ = 6; carol's 11 less the fund's 1 (alice's dust) on bob alone
    assert charged == [6, 10]
    assert 2 + 13 - sum(charged) == -1  # his cash, his gain on the move, what he paid
    assert _failing(s) == set(PAYER_CLAIMS)


def test_with_one_more_lot_for_bob_the_same_move_keeps_every_claim() -> None:
    # the boundary: bob on 3, not 2, ends at 0
    book = _one_move_book()
    book = attrs.evolve(
        book,
        accounts=tuple(
            attrs.evolve(a, cash_quote=3, principal_quote=3) if a.name == "bob" else a for a in book.accounts
        ),
    )
    s = step(GEN_B, book, MarkPrice(7))
    assert equity(GEN_B.margin, s.after.account("bob")) == 0
    assert _failing(s) == set()


def test_a_story_from_an_empty_book_reaches_it() -> None:
    """Deposits and trades at 1,000; a rise to 1,051 liquidates eve (short 1) solvent, her lot closed
    against the longs (⌊1·1/2⌋ = 0 each) and the order book, which goes short 1; the fall to 1 sinks
    alice and carol (899 each): bob pays 445 of alice's and 898 of carol's, 1,343 for a gain of 1,050."""
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
    steps = run(GEN_B, book, events)
    assert all(_failing(s) == set() for s in steps[:-1])
    rise, fall = steps[-2], steps[-1]
    assert rise.after.account("liquidity").size_lots == -1 and rise.after.account("eve").size_lots == 0
    bob = fall.after.account("bob")
    assert bob.size_lots == 0 and equity(GEN_B.margin, bob) == -144
    assert _failing(fall) == set(PAYER_CLAIMS)
