"""Fills: moving lots between two accounts at a price, settled against the mark.

Under settle-to-mark accounting a fill at price P while the mark is M pays the difference at once:
the buyer pays ``lots × (P − M)`` to the seller (or receives it when P < M), and both then hold
the position at M. The cost basis follows the position for reporting PnL since entry.

Formula (cost basis C, size S, change Δ at price P):
    adding to a position or opening:   C' = C + Δ × P
    reducing without crossing zero:    C' = C × |S + Δ| / |S|   (rounded toward −∞; reporting only)
    crossing zero:                     C' = (S + Δ) × P
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from solvent.rules.arith import Rounding, abs_, and_, div, is_concrete, ite, max_, or_, safe_divisor
from solvent.rules.ledger import Ctx, Reason

#: set by a symbolic question that reads no cost basis after its event (``solver.unread``): a
#: function giving a fresh term for each moved position's cost basis; None (always in the concrete
#: engine): the cost basis is built
_unread_cost: ContextVar[Callable[[], Any] | None] = ContextVar("solvent_unread_cost", default=None)


@contextmanager
def cost_unread(fresh: Callable[[], Any]) -> Iterator[None]:
    """Within: a symbolic move's cost basis is ``fresh()``, not built (its size is built as always).
    Only for a caller that checks no formula it asks reads one (``solvent.solver.unread``)."""
    token = _unread_cost.set(fresh)
    try:
        yield
    finally:
        _unread_cost.reset(token)


def _moved(size: Any, delta: Any, cost: Any, price: Any) -> tuple[Any, Any]:
    new_size = size + delta
    fresh = _unread_cost.get()
    if fresh is not None and not is_concrete(size, delta, cost, price):
        return new_size, fresh()
    adding = or_(size == 0, and_(size > 0, delta > 0), and_(size < 0, delta < 0))
    if adding is True:  # concrete, opening or adding: the cost the ite below picks, without the other sides
        return new_size, cost + delta * price
    crossed = or_(and_(size > 0, new_size < 0), and_(size < 0, new_size > 0))
    scaled = div(cost * abs_(new_size), safe_divisor(abs_(size)), rounding=Rounding.FLOOR)
    new_cost = ite(adding, cost + delta * price, ite(crossed, new_size * price, scaled))
    return new_size, new_cost


def move_position(ctx: Ctx, name: str, delta_lots: Any, price_quote: Any) -> Ctx:
    """Change ``name``'s position by ``delta_lots`` (signed) at ``price_quote``; no cash moves."""
    account = ctx.account(name)
    size, cost = _moved(account.size_lots, delta_lots, account.cost_quote, price_quote)
    return ctx.update_account(name, size_lots=size, cost_quote=cost)


def fill(ctx: Ctx, buyer: str, seller: str, lots: Any, price_quote: Any, reason: Reason) -> Ctx:
    """``buyer`` buys ``lots`` (≥ 0) from ``seller`` at ``price_quote``, paid against the mark."""
    ctx = _paid(ctx, buyer, seller, lots, price_quote, reason)
    ctx = move_position(ctx, buyer, lots, price_quote)
    return move_position(ctx, seller, -lots, price_quote)


def _paid(ctx: Ctx, buyer: str, seller: str, lots: Any, price_quote: Any, reason: Reason) -> Ctx:
    """A fill's cash against the mark and its record, before its lots move (:func:`fill`)."""
    mark = ctx.market.mark_quote
    diff = lots * (price_quote - mark)
    ctx = ctx.transfer(buyer, seller, max_(diff, 0), reason)
    ctx = ctx.transfer(seller, buyer, max_(-diff, 0), reason)
    return ctx.record_fill(buyer, seller, lots, price_quote, reason)


def _unchanged_by_nothing(ctx: Ctx, names: tuple[str, str], price_quote: Any) -> bool:
    """Closing no lots changes nothing, exactly, when every number involved is a concrete int: no
    cash moves (0 × (P − M) = 0 is not recorded) and each position is recomputed to the ints it was
    (S + 0 = S; C + 0 × P = C; ⌊C × |S| / |S|⌋ = C). ADL walks every candidate this way."""
    accounts = [ctx.account(n) for n in names]
    return is_concrete(price_quote, ctx.market.mark_quote, *(v for a in accounts for v in (a.size_lots, a.cost_quote)))


def close_against(
    ctx: Ctx, name: str, counterparty: str, lots: Any, price_quote: Any, reason: Reason, *, moved_once: bool = False
) -> Ctx:
    """Close ``lots`` (≥ 0) of ``name``'s position against ``counterparty`` at ``price_quote``.

    ``moved_once``: the two positions are moved after the side's branch, once each by its signed
    lots (``name`` by −lots where it is long, +lots where short; ``counterparty`` the opposite),
    where each branch's fill moved both: the same step for every value (a position's move is a
    function of its size, cost, lots and price, so the move by ``ite(long, −l, l)`` is the branch's
    ``ite`` of the two moves; the cash and the fill record stay in the branch, and two accounts'
    moves commute). Built once instead of twice: the opposing side's shrink
    (``side_index.close_against_side``) closes against every trader (docs/solver-notes.md#the-opposing-sides-shrink-moved-once-issue-18)."""
    if type(lots) is int and lots == 0 and _unchanged_by_nothing(ctx, (name, counterparty), price_quote):
        return ctx
    long = ctx.account(name).size_lots > 0
    if not moved_once:
        return ctx.branch(
            long,
            lambda c: fill(c, counterparty, name, lots, price_quote, reason),
            lambda c: fill(c, name, counterparty, lots, price_quote, reason),
        )
    ctx = ctx.branch(
        long,
        lambda c: _paid(c, counterparty, name, lots, price_quote, reason),
        lambda c: _paid(c, name, counterparty, lots, price_quote, reason),
    )
    given = ite(long, -lots, lots)
    ctx = move_position(ctx, name, given, price_quote)
    return move_position(ctx, counterparty, -given, price_quote)


def close_against_once(ctx: Ctx, name: str, counterparty: str, lots: Any, price_quote: Any, reason: Reason) -> Ctx:
    """:func:`close_against` with its two positions moved once (``moved_once``)."""
    return close_against(ctx, name, counterparty, lots, price_quote, reason, moved_once=True)
