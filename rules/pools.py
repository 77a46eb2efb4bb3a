"""Balances that pay a deficit up to what they hold: insurance fund, backstop vault, fee pool, venue.

Formula: pay = min(R, max(balance, 0), cap) where R is the remaining deficit. dYdX refuses any
insurance-fund delta that would make the fund negative (docs/venues.md#dydx-v4-insurance-fund); the ``max(balance, 0)``
is that rule. The venue pays from its own capital with no limit.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import max_, min_
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx, Reason, system


def pay_from(
    ctx: Ctx, role: Role, bankrupt: str, remaining: Any, reason: Reason, cap: int | None = None
) -> tuple[Ctx, Any, Any]:
    """The pool of ``role`` pays what it can of ``remaining``; returns (ctx, paid, exhausted)."""
    source = system(ctx.book, role)
    available = max_(ctx.book.account(source).cash_quote, 0)
    pay = min_(remaining, available)
    if cap is not None:
        pay = min_(pay, cap)
    ctx = ctx.transfer(source, bankrupt, pay, reason)
    return ctx, pay, ctx.book.account(source).cash_quote <= 0


def venue_pays(ctx: Ctx, bankrupt: str, remaining: Any) -> Ctx:
    """The venue pays the whole remaining deficit from its own capital."""
    return ctx.transfer(system(ctx.book, Role.VENUE), bankrupt, remaining, Reason.VENUE_ABSORBS)
