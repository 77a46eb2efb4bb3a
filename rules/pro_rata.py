"""The pro-rata charge shared by the profit-taking layers ``socialized_loss``, ``haircut_ratio`` and
``clawback``: each layer module weighs the payers and says whether it is capped at their profit,
this one spreads the deficit over the weights.

Formula: share_i = R × w_i / W, rounded per ``rounding.pro_rata`` (up: the excess Σshare − R goes
to the insurance fund as dust; down: the unpaid remainder passes to the next layer; exact in
order: payer i pays ⌊R·S_i/W⌋ − ⌊R·S_(i+1)/W⌋ over the weights S_i from i to the last, so the
shares add up to R, each its floor or ceiling, the ceilings first in book order); R is capped at W where the layer takes profit only. The weights (in ``socialized_loss``, ``haircut_ratio`` and
``clawback``) are over every trader except the bankrupt one, and the order book's resting liquidity
(the ``liquidity`` account), which stands for the rest of the market as it does in ADL
(``payers``; docs/model.md, "The book in every profit-taking layer"):
    socialized_loss over winners        w = profit = max(E − principal, 0)
    socialized_loss over open_interest  w = |size|       (Drift/Mango funding, docs/venues.md#drift-v2-bankruptcy, #mango-v4-bankruptcy)
    haircut_ratio                       w = profit, and R is capped at W (profit only; percolator)
    clawback                            w = max(window PnL, 0), R capped at W if ``cap_at_profit``
The book's principal is what was deposited to it, so its profit is what it gained since (the
settlement of its positions, the liquidation fills it took); its window PnL is the rest of the
market's PnL in the window; its open interest is its position when the account went bankrupt,
before the bankrupt position was closed into it: the book is one aggregate account, so a close
into it nets against the rest of the market's opposing lots, which still stand open (a venue's
liquidator holds the taken-over position and pays per lot too; the netted aggregate cannot show
both, so the lots the rest of the market held are what the book is charged for).
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import Rounding, div, min_, safe_divisor, sum_, when
from solvent.rules.book import Account, Book, Role
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.rounding import ProRata, RoundingRule


def payers(book: Book, bankrupt: str) -> list[Account]:
    """Who a pro-rata layer charges: every trader but the bankrupt one, then the order book's
    resting liquidity (the rest of the market, as ADL's ``book_last`` reaches it)."""
    return [a for a in book.accounts if (a.is_trader or a.role is Role.LIQUIDITY) and a.name != bankrupt]


def charge(
    ctx: Ctx,
    rounding: RoundingRule,
    weights: list[tuple[str, Any]],
    bankrupt: str,
    remaining: Any,
    *,
    capped: bool,
    reason: Reason,
) -> tuple[Ctx, Any]:
    """Charge ``remaining`` (at most the total weight if ``capped``) pro rata to ``weights``, one
    ``reason`` transfer per payer; returns (ctx, paid)."""
    total_weight = sum_(w for _, w in weights)
    target = min_(remaining, total_weight) if capped else remaining
    target = when(total_weight > 0, target)
    up = rounding.pro_rata is ProRata.UP_DUST_TO_INSURANCE_FUND
    direction = Rounding.CEIL if up else Rounding.FLOOR
    if rounding.pro_rata is ProRata.EXACT_IN_ORDER:
        return _exact_in_order(ctx, weights, bankrupt, target, total_weight, reason), target
    charged: Any = 0
    for name, w in weights:
        share = div(target * w, safe_divisor(total_weight), rounding=direction)
        ctx = ctx.transfer(name, bankrupt, share, reason)
        charged = charged + share
    if up:
        ctx = ctx.transfer(bankrupt, ctx.system(Role.INSURANCE_FUND), charged - target, Reason.PRO_RATA_DUST)
        return ctx, target
    return ctx, charged


def _exact_in_order(
    ctx: Ctx, weights: list[tuple[str, Any]], bankrupt: str, target: Any, total_weight: Any, reason: Reason
) -> Ctx:
    """``ProRata.EXACT_IN_ORDER``: payer i pays ⌊T·S_i/W⌋ − ⌊T·S_(i+1)/W⌋, S_i the weight of i and of
    every payer after it in book order (S_1 = W): the shares telescope to ⌊T·W/W⌋ = T exactly, each
    is ⌊T·w_i/W⌋ or ⌈T·w_i/W⌉ (a zero weight pays 0), and the quanta the floors leave fall to the
    payers first in book order (the first of two pays the ceiling)."""
    divisor = safe_divisor(total_weight)
    products = [target * w for _, w in weights]
    shares: list[Any] = []
    tail: Any = 0  # T·S_(i+1)
    below: Any = 0  # ⌊T·S_(i+1)/W⌋
    for product in reversed(products):
        tail = tail + product
        upto = div(tail, divisor, rounding=Rounding.FLOOR)
        shares.append(upto - below)
        below = upto
    for (name, _), share in zip(weights, reversed(shares), strict=True):
        ctx = ctx.transfer(name, bankrupt, share, reason)
    return ctx
