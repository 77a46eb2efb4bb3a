"""The ``haircut_ratio`` layer: profits are paid only as far as they are backed. The deficit is
charged pro rata to profit and never beyond it, so principal is senior (percolator,
github.com/aeyakovenko/percolator; docs/model.md#a-haircut-is-charged-for-what-it-took).

Weights over ``pro_rata.payers`` (the traders but the bankrupt one, and the order book):
    w = profit = max(E − principal, 0), and R is capped at W
What the profit cannot pay passes to the next layer. The charge itself, and its rounding, is
``pro_rata.charge``.

With ``losses_settle_capital`` (percolator: negative PnL settles into capital at once), every
event ends by re-basing the principal of each trader and of the book on its losses:
principal := min(principal, max(E, 0)) (``settle_losses``), so profit is junior PnL since the
last loss, as percolator counts it.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import max_, min_
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import MarginRule, equity, profit
from solvent.rules.pro_rata import charge, payers
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import HaircutRatio


def haircut(ctx: Ctx, rule: MarginRule, rounding: RoundingRule, bankrupt: str, remaining: Any) -> tuple[Ctx, Any]:
    """Charge ``remaining``, at most the payers' total profit, pro rata to profit; returns (ctx, paid)."""
    weights = [(account.name, profit(rule, account)) for account in payers(ctx.book, bankrupt)]
    return charge(ctx, rounding, weights, bankrupt, remaining, capped=True, reason=Reason.HAIRCUT)


def settles_losses(policy: Any) -> bool:
    """Whether the policy's haircut counts profit from capital that realized losses reduced."""
    layer = policy.layer(HaircutRatio)
    return layer is not None and layer.losses_settle_capital


def settle_losses(policy: Any, ctx: Ctx) -> Ctx:
    """At the end of an event, under ``losses_settle_capital``: each trader's and the book's
    principal falls to its equity where a loss took it below (never below zero)."""
    if not settles_losses(policy):
        return ctx
    book = ctx.book
    for i, account in enumerate(book.accounts):
        if account.is_trader or account.role is Role.LIQUIDITY:
            capital = min_(account.principal_quote, max_(equity(policy.margin, account), 0))
            book = book.replace_account(i, attrs.evolve(account, principal_quote=capital))
    return ctx.with_book(book)
