"""The ``debt_carry`` layer (solvent.rules.debt_carry), called directly
(docs/model.md#debt-carry-has-two-lenders).

- lender = "winners": the deficit stays as the account's negative balance; nothing moves.
- lender = "venue": the venue fronts it (a ``debt fronted`` transfer) and the account owes it
  ``debt_quote``.
"""

from __future__ import annotations

from solvent.rules.debt_carry import carry
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.outcomes import DebtCarried
from solvent.rules.waterfall import DebtCarry, Lender


def test_owed_to_the_winners(deficit_book) -> None:
    ctx = carry(Ctx(deficit_book(100)), DebtCarry(), "alice", 100)
    assert ([o.item for o in ctx.outcomes], ctx.entries) == ([DebtCarried("alice", 100)], ())
    assert (ctx.book.account("alice").cash_quote, ctx.book.account("alice").debt_quote) == (-100, 0)


def test_fronted_by_the_venue(deficit_book) -> None:
    ctx = carry(Ctx(deficit_book(100)), DebtCarry(lender=Lender.VENUE, deposits_repay_debt=False), "alice", 100)
    assert [o.item for o in ctx.outcomes] == [DebtCarried("alice", 100)]
    assert [e.item for e in ctx.entries] == [Transfer("venue", "alice", 100, Reason.DEBT_FRONTED)]
    alice = ctx.book.account("alice")
    assert (alice.cash_quote, alice.debt_quote, ctx.book.account("venue").cash_quote) == (0, 100, -100)


def test_nothing_left_carries_nothing(deficit_book) -> None:
    ctx = carry(Ctx(deficit_book(0)), DebtCarry(), "alice", 0)
    assert ctx.book.account("alice").cash_quote == 0 and ctx.entries == ()
    assert [o.item for o in ctx.outcomes if o.guard] == []  # the note is guarded by remaining > 0
