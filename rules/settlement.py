"""Mark-to-market settlement and funding: PnL paid in cash through the clearing account.

Formula (mark M → M', position S): each account receives S × (M' − M) (pays when negative).
Losers pay into ``clearing``, clearing pays winners. With open interest balanced (Σ S = 0) the
clearing account ends at exactly zero: no rounding is involved.

Funding at rate r (ppm, positive: longs pay shorts): amount_i = S_i × M × r / 1e6; payers round up,
receivers round down, and the clearing account's rounding dust goes to the fee account.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, max_
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx, Reason, system


def settle_mark(ctx: Ctx, new_mark: Any) -> Ctx:
    """Pay every position's PnL for the move to ``new_mark`` and set the new mark."""
    old = ctx.book.market.mark_quote
    clearing = system(ctx.book, Role.CLEARING)
    moves = [(a.name, a.size_lots * (new_mark - old)) for a in ctx.book.accounts if a.role is not Role.CLEARING]
    for name, pnl in moves:
        ctx = ctx.transfer(name, clearing, max_(-pnl, 0), Reason.SETTLEMENT)
    for name, pnl in moves:
        ctx = ctx.transfer(clearing, name, max_(pnl, 0), Reason.SETTLEMENT)
    market = attrs.evolve(ctx.book.market, mark_quote=new_mark, previous_mark_quote=old)
    return ctx.with_book(attrs.evolve(ctx.book, market=market))


def pay_funding(ctx: Ctx, rate_ppm: Any) -> Ctx:
    """Longs pay shorts ``rate × notional`` (shorts pay longs at a negative rate)."""
    mark = ctx.book.market.mark_quote
    clearing = system(ctx.book, Role.CLEARING)
    owed = [(a.name, a.size_lots * mark * rate_ppm) for a in ctx.book.accounts if a.role is not Role.CLEARING]
    for name, amount in owed:
        ctx = ctx.transfer(name, clearing, div(max_(amount, 0), PPM, rounding=Rounding.CEIL), Reason.FUNDING)
    for name, amount in owed:
        ctx = ctx.transfer(clearing, name, div(max_(-amount, 0), PPM, rounding=Rounding.FLOOR), Reason.FUNDING)
    dust = max_(ctx.book.account(clearing).cash_quote, 0)
    return ctx.transfer(clearing, system(ctx.book, Role.FEE_ACCOUNT), dust, Reason.FUNDING_DUST)
