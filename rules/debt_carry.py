"""The ``debt_carry`` layer: the deficit stays owed by the account (docs/model.md#debt-carry-has-two-lenders).

- ``lender = "winners"``: the debt is the account's negative balance; the venue's books stay short
  by it until later deposits repay it (Backpack: a negative USDC balance).
- ``lender = "venue"``: the venue fronts the deficit from its own capital and the account owes it
  ``debt_quote`` off the book (broker margin); with ``deposits_repay_debt`` a deposit repays it
  first (``engine``'s deposit), and withdrawals wait until it is repaid.
It takes every remaining deficit, so nothing may follow it in the waterfall.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.book import Role
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.outcomes import DebtCarried
from solvent.rules.waterfall import DebtCarry, Lender


def carry(ctx: Ctx, layer: DebtCarry, name: str, remaining: Any) -> Ctx:
    """Leave ``remaining`` owed by ``name``: to the winners, or to the venue that fronts it."""
    ctx = ctx.note_if(remaining > 0, DebtCarried(name, remaining))
    if layer.lender is Lender.VENUE:
        ctx = ctx.transfer(ctx.system(Role.VENUE), name, remaining, Reason.DEBT_FRONTED)
        ctx = ctx.update_account(name, debt_quote=ctx.account(name).debt_quote + remaining)
    return ctx
