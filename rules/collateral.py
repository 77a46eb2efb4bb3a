"""Spot collateral: where the policy counts spot balances as margin, a negative cash balance is
covered by converting spot (Backpack converts non-USDC collateral when USDC is short,
docs/venues.md#backpack-settlement-and-borrowing). Isolated accounts and policies without spot collateral never touch spot.

Formula: converted = min(spot, max(−cash, 0)).
"""

from __future__ import annotations

from solvent.rules.arith import max_, min_
from solvent.rules.ledger import SPOT, Ctx, Reason
from solvent.rules.margin import MarginRule, counts_spot


def convert_spot(rule: MarginRule, ctx: Ctx, name: str) -> Ctx:
    """Move spot into cash as far as needed to bring cash back to zero."""
    account = ctx.account(name)
    if not counts_spot(rule, account):
        return ctx
    amount = min_(max_(account.spot_quote, 0), max_(-account.cash_quote, 0))
    return ctx.transfer(name + SPOT, name, amount, Reason.COLLATERAL_CONVERSION)
