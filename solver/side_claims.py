"""Percolator Gen B's claims by its side indices: what a per-lot charge of the opposing side needs.

Gen B (rules/side_index.py, docs/venues.md#percolator-side-indices) closes a liquidated position
against the opposing side and charges a deficit the fund left per opposing lot; only where no
opposing position exists does the deficit reach the haircut ratio (matured profit). A flat trader
holds no lot, so the per-lot charge gives it ``⌈0 × ΔK / SCALE⌉ = 0``; but its matured profit is
the haircut's weight. On a reachable book the haircut is never reached in one market: open
interest is balanced (Σ size = 0, proved for every N and K: ``open-interest-balance``) and only
traders and the order book hold positions, so a bankrupt account's opposing lots add up to at least
its own. A turn checked from fresh system accounts must be told so (:func:`balanced`), or it
builds a book no event reaches (the order book on the bankrupt's side, nobody opposite).
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import sum_
from solvent.rules.book import Book
from solvent.rules.policy import Policy
from solvent.rules.side_index import shrinks_opposing_side
from solvent.rules.wellformed import holders

#: what the flat-trader lemma's method line adds on such a policy
SAID = (
    "each turn from a book with open interest balanced and only traders and the order book holding positions "
    "(every well-formed book; each phase moves positions by its fills alone, open-interest-balance's frame, and "
    "every fill of the run names a trader or the order book), so a bankrupt account's opposing lots are never "
    "none and the per-lot charge, ⌈0 × ΔK⌉ = 0 on a flat trader, takes the whole deficit"
)


def applies(policy: Policy) -> bool:
    """Whether the policy charges a deficit per lot of the opposing side (percolator Gen B)."""
    return shrinks_opposing_side(policy)


def balanced(policy: Policy, book: Book) -> list[Any]:
    """What every reachable book holds, at any turn's start: open interest balanced in each market
    (``wellformed``'s "open interest balanced", kept by every phase: each moves positions by fills
    alone) and only the policy's holders holding a position ("only traders and the order book ...")."""
    out = []
    for i in range(len(book.markets)):
        sizes = [a.positions[i].size_lots for a in book.accounts]
        out.append(sum_(sizes) == 0)
        roles = holders(policy)
        out += [a.positions[i].size_lots == 0 for a in book.accounts if a.role not in roles]
    return [c for c in out if c is not True]


def holders_only(policy: Policy, ctx: Any, fail: Any) -> None:
    """Every fill of the run names a trader or a holder (no other account is handed a position), so
    each phase keeps "only traders and the order book hold positions" as it keeps open interest
    balanced (its position moves are its fills); ``fail(reason)`` where a fill names another."""
    roles = holders(policy)
    allowed = {a.name for a in ctx.book.accounts if a.role in roles}
    stray = sorted({n for g in ctx.fills for n in (g.item.buyer, g.item.seller)} - allowed)
    if stray:
        fail(f"a fill hands a position to {', '.join(stray)}, which the policy's holders do not include")
