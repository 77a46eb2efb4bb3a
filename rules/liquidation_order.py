"""Which position of an account holding several markets a liquidation closes first, and when it
stops (``liquidation.order``, docs/portfolio.md, decision 4).

An account below maintenance that can pay the slippage of closing every position (so it is not
bankrupt) is liquidated one market at a time: the position that goes first (the largest loss
since entry, or the largest maintenance margin on its market's own tiers; of equal ones, the
market whose name sorts first) is closed, in ``partial_close_ppm`` steps as a one-market liquidation is, and the
whole account is checked again, its equity against the maintenance of every position still
open. Liquidation stops as soon as the account is no longer below maintenance; the positions
left stay open. A venue that documents an order closes the riskiest position and re-checks
(OKX: "the position(s) will continue to be reduced until the margin level requirement is met or
all positions are closed", okx.com/learn/when-would-my-order-be-liquidated); the choice of the
first position is the policy's (docs/venues.md#which-position-goes-first).

Ties go to the market whose name sorts first, not the first in the book's order: the rules run on
the book focused on the event's market (``Book.focused``), where "first" is the market that
moved, so a tie broken by position would depend on which market's event found the account below
maintenance. Names are the same in every focus (and concrete under z3).

The choice is a comparison of data (losses move with the mark), so it is written with
``Ctx.branch`` over the fixed tuple of markets: z3 runs the same choice, one branch per market
that may go first (at most 3 markets: 3 + 2 + 1 branches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solvent.rules.arith import PPM, abs_, and_, min_, or_
from solvent.rules.book import Market, Position
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import Order, close_in_market, partial_lots
from solvent.rules.margin import MarginRule, position_maintenance


def _rank(policy: Any, order: Order, rule: MarginRule, position: Position, market: Market) -> Any:
    """How far forward a position goes: its loss since entry (cost basis − size × mark, larger
    is a larger loss), or its maintenance margin on its own market's tiers."""
    if order is Order.LARGEST_LOSS_FIRST:
        return position.cost_quote - position.size_lots * market.mark_quote
    return position_maintenance(rule, policy.rounding, position.size_lots, position.cost_quote, market.mark_quote)


def goes_first(ranks: list[Any], sizes: list[Any], names: list[str], i: int, candidates: tuple[int, ...]) -> Any:
    """Market ``i`` holds a position and ranks above every other candidate holding one (strictly
    above those whose name sorts before its own, at least equal to the others)."""
    beats = [
        or_(sizes[j] == 0, ranks[i] > ranks[j] if names[j] < names[i] else ranks[i] >= ranks[j])
        for j in candidates
        if j != i
    ]
    return and_(sizes[i] != 0, *beats)


def close_in_order(policy: Any, ctx: Ctx, name: str, triggered: Callable[[Ctx], Any]) -> Ctx:
    """Liquidate ``name`` market by market in the policy's order until ``triggered`` (the whole
    account below maintenance, read on the book as the caller holds it) no longer holds."""
    return _next(policy, ctx, name, tuple(range(len(ctx.book.markets))), triggered)


def _next(policy: Any, ctx: Ctx, name: str, candidates: tuple[int, ...], triggered: Callable[[Ctx], Any]) -> Ctx:
    if not candidates:
        return ctx
    book = ctx.book
    account = book.account(name)
    rules = (policy.margin, *(policy.more_margins or (policy.margin,) * (len(book.markets) - 1)))
    order = policy.liquidation.order
    ranks = [_rank(policy, order, r, p, m) for r, p, m in zip(rules, account.positions, book.markets, strict=True)]
    sizes = [p.size_lots for p in account.positions]
    names = [m.name for m in book.markets]

    def close(c: Ctx, i: int) -> Ctx:
        c = _close_market(policy, c, name, i, triggered)
        rest = tuple(k for k in candidates if k != i)
        return c.branch(triggered(c), lambda c2: _next(policy, c2, name, rest, triggered)) if rest else c

    def choose(c: Ctx, left: tuple[int, ...]) -> Ctx:
        i = left[0]
        if len(left) == 1:
            return close(c, i)
        return c.branch(
            goes_first(ranks, sizes, names, i, candidates), lambda c2: close(c2, i), lambda c2: choose(c2, left[1:])
        )

    return choose(ctx, candidates)


def _close_market(policy: Any, ctx: Ctx, name: str, index: int, triggered: Callable[[Ctx], Any]) -> Ctx:
    """One market's position closed as a one-market liquidation closes it: whole, or a first
    ``partial_close_ppm`` step and, if the account is still below maintenance, the rest."""
    rule = policy.liquidation
    whole = lambda a: abs_(a.size_lots)  # noqa: E731
    if rule.partial_close_ppm == PPM:
        return close_in_market(policy, ctx, name, index, whole)
    ctx = close_in_market(policy, ctx, name, index, lambda a: min_(partial_lots(rule, a.size_lots), abs_(a.size_lots)))
    return ctx.branch(triggered(ctx), lambda c: close_in_market(policy, c, name, index, whole))
