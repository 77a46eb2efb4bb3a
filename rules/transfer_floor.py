"""A floor on the margin left after margin is taken out: Hyperliquid's transfer margin requirement.

In exchange terms: a trader may take margin out of an isolated position (``RemoveMargin``), or
withdraw from a cross account (``Withdraw``), only while what stays behind covers both the
positions' initial margin and a fixed share of their notional value. Hyperliquid: "Unrealized pnl
can be withdrawn from isolated positions or cross account, but only if the remaining margin is at
least 10% of the total notional position value of all open positions. The margin remaining must
also meet the initial margin requirement", ``transfer_margin_required = max(initial_margin_required,
0.1 * total_position_value)`` (hyperliquid.gitbook.io/hyperliquid-docs/trading/margining, as
docs/venues.md#hyperliquid-margin records it; restated by docs.tings.xyz/core-mechanics/margining).

The share is ``[margin] transfer_floor_ppm`` (Hyperliquid: 100,000; absent: 0, and nothing changes).
Initial margin is already required of both moves (``rules.engine``); this adds the floor:
``equity after the move ≥ ⌈transfer_floor_ppm × Σ |size| × mark / 1e6⌉`` over every market the
account holds, rounded by ``rounding.margin`` as every requirement is (up by default, in favour of
solvency). A move that would break it is refused by name. The equity is the one free margin is
measured on (collateral at its initial weights), so the two checks read the same balance.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import PPM, abs_, mul_ppm, sum_
from solvent.rules.assets import margin_equity
from solvent.rules.book import Account, Book
from solvent.rules.policy import Policy


def notional(book: Book, account: Account) -> Any:
    """Σ |size| × mark over every market of the book: the total position value the floor is a share of."""
    return sum_(abs_(p.size_lots) * m.mark_quote for p, m in zip(account.positions, book.markets, strict=True))


def floor(policy: Policy, book: Book, account: Account) -> Any:
    """The margin that must stay: ``⌈transfer_floor_ppm × notional / 1e6⌉`` (``rounding.margin``)."""
    return mul_ppm(notional(book, account), policy.margin.transfer_floor_ppm, rounding=policy.rounding.margin)


def checks(policy: Policy, book: Book, account: Account, amount: Any) -> list[tuple[Any, str]]:
    """What the floor requires of taking ``amount`` out of ``account`` (an isolated position or a
    cross account), as (condition, reason) pairs; none where the policy sets no floor."""
    ppm = policy.margin.transfer_floor_ppm
    if not ppm:
        return []
    left = margin_equity(policy, book.assets, account, initial=True) - amount
    share = f"{ppm * 100 / PPM:g}%"
    return [
        (
            left >= floor(policy, book, account),
            f"{account.name} would keep less than {share} of its positions' notional as margin after the move "
            "(transfer_floor_ppm: the margin left must cover max(initial margin, that share))",
        )
    ]


__all__ = ["checks", "floor", "notional"]
