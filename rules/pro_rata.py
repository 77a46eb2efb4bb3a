"""The pro-rata charge shared by the profit-taking layers ``socialized_loss``, ``haircut_ratio`` and
``clawback``: each layer module weighs the payers and says whether it is capped at their profit,
this one spreads the deficit over the weights.

Formula: share_i = R × w_i / W, rounded per ``rounding.pro_rata`` (up: the excess Σshare − R goes
to the insurance fund as dust; down: the unpaid remainder passes to the next layer; exact in
order: down, then the remainder one quantum each to the first payers whose share had a fraction,
so the shares add up to R); R is capped at W where the layer takes profit only. The weights (in ``socialized_loss``, ``haircut_ratio`` and
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

from collections.abc import Iterator
from typing import Any

from solvent.rules.arith import Rounding, and_, div, min_, safe_divisor, sum_, when
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
        return _exact_in_order(ctx, weights, bankrupt, target, total_weight, reason)
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
) -> tuple[Ctx, Any]:
    """``ProRata.EXACT_IN_ORDER`` (:func:`exact_split`) as transfers: one ``reason`` transfer from each
    payer to ``bankrupt``. Returns (ctx, the shares' sum): that is T, and what the layer reports
    paid is what the payers paid, term for term (as the rounding down reports it)."""
    charged: Any = 0
    for name, share in exact_split(weights, target, total_weight):
        ctx = ctx.transfer(name, bankrupt, share, reason)
        charged = charged + share
    return ctx, charged


def exact_split(weights: list[tuple[str, Any]], target: Any, total_weight: Any) -> Iterator[tuple[str, Any]]:
    """``ProRata.EXACT_IN_ORDER``'s split of ``target`` (T) over ``weights`` (W = ``total_weight``, their
    sum): each share ⌊T·w/W⌋, then one quantum more for each of the first r = T − Σ⌊T·w/W⌋ payers in
    book order whose share had a fraction (T·w mod W ≠ 0), so the shares add up to T exactly where
    W > 0 (r is less than the number of such payers: their fractions sum to r, each under one), and
    are all 0 where W = 0. Yields (name, share) in order, each share built when it is asked for (so a
    caller's terms between two shares are built where they were before this was a function of its
    own). Also the lots a close takes from each opposing position (``side_index.lots_taken``)."""
    divisor = safe_divisor(total_weight)
    floors = [div(target * w, divisor, rounding=Rounding.FLOOR) for _, w in weights]
    left = target - sum_(floors)
    extra_before: Any = 0  # payers with a fraction so far
    for (name, w), floor in zip(weights, floors, strict=True):
        fraction = floor * divisor != target * w
        yield name, floor + when(and_(fraction, extra_before < left), 1)
        extra_before = extra_before + when(fraction, 1)
