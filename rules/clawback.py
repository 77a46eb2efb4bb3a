"""The ``clawback`` layer: trading profit made in the current window is taken back pro rata (OKEx
2018, docs/venues.md#okex-clawback-2018).

The window is ``window_events`` events long; every account's window PnL (``window_pnl_quote``, kept
by the ledger) starts again at 0 when a window opens (``open_window``, at the start of each event).
Weights over ``pro_rata.payers`` (the traders but the bankrupt one, and the order book):
    w = max(window PnL, 0), and R is capped at W if ``cap_at_profit``
The charge itself, and its rounding, is ``pro_rata.charge``.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import max_
from solvent.rules.book import Book
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.pro_rata import charge, payers
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import Clawback


def open_window(layer: Clawback | None, book: Book) -> Book:
    """At the first event of every window but the first, each account's window PnL starts again at 0."""
    if layer is None or book.clock == 0 or book.clock % layer.window_events:
        return book
    return attrs.evolve(book, accounts=tuple(attrs.evolve(a, window_pnl_quote=0) for a in book.accounts))


def claw_back(ctx: Ctx, rounding: RoundingRule, layer: Clawback, bankrupt: str, remaining: Any) -> tuple[Ctx, Any]:
    """Charge ``remaining`` pro rata to the window's profit; returns (ctx, paid)."""
    weights = [(account.name, max_(account.window_pnl_quote, 0)) for account in payers(ctx.book, bankrupt)]
    return charge(ctx, rounding, weights, bankrupt, remaining, capped=layer.cap_at_profit, reason=Reason.CLAWBACK)
