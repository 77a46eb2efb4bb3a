"""One-token mutants of engine rules that several solver test files plant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solvent.rules.bankruptcy as bankruptcy
from solvent.rules.ledger import Reason


def socialize_weighted(monkeypatch: Any, weight: Callable[[Any, Any, str, str], Any]) -> None:
    """Plant ``socialized_loss.socialize`` with one token changed: an open-interest payer's weight
    is ``weight(at, ctx_book, payer, bankrupt)`` instead of its own lots at the bankruptcy (the
    liquidator's lots of the bankrupt position still added under ``liquidator_pays``)."""
    from solvent.rules import socialized_loss
    from solvent.rules.arith import abs_
    from solvent.rules.pro_rata import charge, payers
    from solvent.rules.waterfall import Over

    def socialize(ctx, rule, rounding, layer, bankrupt, remaining, at_bankruptcy=None, liquidator=None):
        at = ctx.book if at_bankruptcy is None else at_bankruptcy
        weights = []
        for account in payers(ctx.book, bankrupt):
            if layer.over is Over.OPEN_INTEREST:
                w = weight(at, ctx.book, account.name, bankrupt)
                if layer.liquidator_pays and account.name == liquidator:
                    w = w + abs_(at.account(bankrupt).size_lots)
            else:
                w = socialized_loss.profit(rule, account)
            weights.append((account.name, w))
        return charge(ctx, rounding, weights, bankrupt, remaining, capped=False, reason=Reason.SOCIALIZED_LOSS)

    monkeypatch.setattr(bankruptcy, "socialize", socialize)
