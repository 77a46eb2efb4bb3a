"""The ``venue_absorbs`` layer (solvent.rules.venue_absorbs), called directly: the venue pays the
whole remaining deficit from its own capital, with no limit."""

from __future__ import annotations

import attrs

from solvent.rules.book import new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.venue_absorbs import venue_pays


def _ctx(alice: int) -> Ctx:
    book = new_book(mark_quote=100)
    i = book.index("alice")
    return Ctx(book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=alice)))


def test_the_venue_pays_everything_from_its_own_capital() -> None:
    # no limit: the venue's cash 0 − 100 = −100, alice −100 + 100 = 0
    ctx = venue_pays(_ctx(-100), "alice", 100)
    assert (ctx.book.account("venue").cash_quote, ctx.book.account("alice").cash_quote) == (-100, 0)
    assert [e.item for e in ctx.entries] == [Transfer("venue", "alice", 100, Reason.VENUE_ABSORBS)]


def test_nothing_left_to_pay_moves_nothing() -> None:
    assert venue_pays(_ctx(0), "alice", 0).entries == ()


def test_largest_value() -> None:
    # exact at any size: the venue goes 2**63 below zero
    ctx = venue_pays(_ctx(-(2**63)), "alice", 2**63)
    assert (ctx.book.account("venue").cash_quote, ctx.book.account("alice").cash_quote) == (-(2**63), 0)
