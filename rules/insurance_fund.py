"""The ``insurance_fund`` layer, and the two layers that pay the same way from another balance,
``backstop_vault`` and ``fee_pool``: a balance pays a deficit up to what it holds.

Formula: pay = min(R, max(balance − floor, 0), cap) where R is the remaining deficit, the cap is
the insurance fund's ``cap_quote`` (per bankruptcy, if set) and the floor its ``floor_quote`` (what
it keeps back, percolator's ``I_floor``; 0 for every other balance); a fund down to its floor is
exhausted. The balance is the account of the layer's
role: ``insurance_fund`` the insurance fund (Binance, BitMEX, dYdX, Drift), ``backstop_vault`` the
backstop vault (Hyperliquid's HLP), ``fee_pool`` the fee account (Drift's market fee pool). dYdX
refuses any insurance-fund delta that would make the fund negative (docs/venues.md#dydx-v4-insurance-fund); the
``max(balance, 0)`` is that rule. The venue's own capital, which has no limit, is ``venue_absorbs``.

All or nothing (``insurance_fund.all_or_nothing``, dYdX v4): pay = R if R ≤ min(max(balance, 0), cap)
else 0; a fund that declines keeps its money (it is not exhausted) and the whole deficit passes
down.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import max_, min_, when
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx, Reason, system


def pay_from(
    ctx: Ctx,
    role: Role,
    bankrupt: str,
    remaining: Any,
    reason: Reason,
    cap: Any = None,
    *,
    all_or_nothing: bool = False,
    floor: int = 0,
) -> tuple[Ctx, Any, Any]:
    """The pool of ``role`` pays what it can of ``remaining`` from its balance above ``floor`` (with
    ``all_or_nothing``: all of it, or nothing if it cannot); returns (ctx, paid, exhausted)."""
    source = system(ctx.book, role)
    available = max_(ctx.book.account(source).cash_quote - floor, 0)
    if not all_or_nothing:
        pay = min_(remaining, available)
        if cap is not None:
            pay = min_(pay, cap)
        ctx = ctx.transfer(source, bankrupt, pay, reason)
        return ctx, pay, ctx.book.account(source).cash_quote <= floor
    covers = remaining <= (available if cap is None else min_(available, cap))
    pay = when(covers, remaining)
    ctx = ctx.transfer(source, bankrupt, pay, reason)
    # a fund that declines still holds money: not exhausted, so the winners deleveraged below it
    # are charged while it keeps money back (waterfall-order says so; dYdX accepts it)
    return ctx, pay, ctx.book.account(source).cash_quote <= floor
