"""The ``socialized_loss`` layer: the whole remaining deficit is charged pro rata, to every winner
by profit or to every open position per lot (Drift and Mango, through funding), and may reach
the winners' principal (docs/venues.md#drift-v2-bankruptcy, #mango-v4-bankruptcy).

Weights over ``pro_rata.payers`` (the traders but the bankrupt one, and the order book):
    over = "winners"        w = profit = max(E − principal, 0)
    over = "open_interest"  w = |size| when the account went bankrupt; with ``liquidator_pays`` the
                            account that took the bankrupt position (the book) also weighs the
                            bankrupt account's |size| (Drift: Δ = loss / (|long| + |short|) after
                            the liquidator took the base, docs/venues.md#drift-v2-bankruptcy)
    over = "opposing_side"  w = |size| of a position opposite to the bankrupt one, when it went
                            bankrupt (percolator Gen B's K index: ``side_index.charge_per_lot``,
                            rounded by ``rounding.side_index``)
R is not capped. The charge itself, and its rounding, is ``pro_rata.charge``.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import abs_
from solvent.rules.book import Book
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import MarginRule, profit
from solvent.rules.pro_rata import charge, payers
from solvent.rules.rounding import RoundingRule
from solvent.rules.side_index import charge_per_lot
from solvent.rules.waterfall import Over, SocializedLoss


def socialize(
    ctx: Ctx,
    rule: MarginRule,
    rounding: RoundingRule,
    layer: SocializedLoss,
    bankrupt: str,
    remaining: Any,
    at_bankruptcy: Book | None = None,
    liquidator: str | None = None,
) -> tuple[Ctx, Any]:
    """Charge the whole of ``remaining`` pro rata; returns (ctx, paid). ``at_bankruptcy``: the
    book before the bankrupt position was closed (default: ``ctx.book``), whose lots a per-lot
    loss is spread over; ``liquidator``: the account the bankrupt position was closed into, if any
    (charged for those lots too under ``liquidator_pays``)."""
    at = ctx.book if at_bankruptcy is None else at_bankruptcy
    if layer.over is Over.OPPOSING_SIDE:
        return charge_per_lot(ctx, rounding, bankrupt, remaining, at)
    weights = []
    for account in payers(ctx.book, bankrupt):
        if layer.over is Over.OPEN_INTEREST:
            w = abs_(at.account(account.name).size_lots)
            if layer.liquidator_pays and account.name == liquidator:
                w = w + abs_(at.account(bankrupt).size_lots)
        else:
            w = profit(rule, account)
        weights.append((account.name, w))
    return charge(ctx, rounding, weights, bankrupt, remaining, capped=False, reason=Reason.SOCIALIZED_LOSS)
