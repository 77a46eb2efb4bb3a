"""The ``haircut_ratio`` layer: profits are paid only as far as they are backed. The deficit is
charged pro rata to profit and never beyond it, so principal is senior (percolator,
github.com/aeyakovenko/percolator; docs/model.md#a-haircut-is-charged-for-what-it-took).

Weights over ``pro_rata.payers`` (the traders but the bankrupt one, and the order book):
    w = profit = max(E − principal, 0), and R is capped at W
What the profit cannot pay passes to the next layer. The charge itself, and its rounding, is
``pro_rata.charge``.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import MarginRule, profit
from solvent.rules.pro_rata import charge, payers
from solvent.rules.rounding import RoundingRule


def haircut(ctx: Ctx, rule: MarginRule, rounding: RoundingRule, bankrupt: str, remaining: Any) -> tuple[Ctx, Any]:
    """Charge ``remaining``, at most the payers' total profit, pro rata to profit; returns (ctx, paid)."""
    weights = [(account.name, profit(rule, account)) for account in payers(ctx.book, bankrupt)]
    return charge(ctx, rounding, weights, bankrupt, remaining, capped=True, reason=Reason.HAIRCUT)
