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


def charge_returns_shares(monkeypatch: Any) -> None:
    """Plant ``pro_rata.charge`` (as ``socialized_loss`` calls it) with one token changed: under up
    rounding it returns ``charged`` (the sum of the rounded-up shares) instead of ``target``."""
    charge_mutated(monkeypatch, returns_shares=True)


def charge_mutated(monkeypatch: Any, *, returns_shares: bool = False, dust_reversed: bool = False) -> None:
    """Plant ``pro_rata.charge`` (as ``socialized_loss`` calls it) with one token changed under up
    rounding: ``returns_shares``, it returns ``charged`` instead of ``target``; ``dust_reversed``, the
    dust it passes to the fund is ``target - charged`` instead of ``charged - target``."""
    from solvent.rules import socialized_loss
    from solvent.rules.arith import Rounding, div, min_, safe_divisor, sum_, when
    from solvent.rules.book import Role
    from solvent.rules.rounding import ProRata

    def charge(ctx, rounding, weights, bankrupt, remaining, *, capped, reason):
        total_weight = sum_(w for _, w in weights)
        target = min_(remaining, total_weight) if capped else remaining
        target = when(total_weight > 0, target)
        up = rounding.pro_rata is ProRata.UP_DUST_TO_INSURANCE_FUND
        direction = Rounding.CEIL if up else Rounding.FLOOR
        charged: Any = 0
        for name, w in weights:
            share = div(target * w, safe_divisor(total_weight), rounding=direction)
            ctx = ctx.transfer(name, bankrupt, share, reason)
            charged = charged + share
        if up:
            dust = target - charged if dust_reversed else charged - target
            ctx = ctx.transfer(bankrupt, ctx.system(Role.INSURANCE_FUND), dust, Reason.PRO_RATA_DUST)
            return ctx, charged if returns_shares else target
        return ctx, charged

    monkeypatch.setattr(socialized_loss, "charge", charge)


def overlap_both_required(monkeypatch: Any) -> None:
    """Plant ``rules.adl.overlaps`` with one token changed: ``or_`` → ``and_`` (the fill must leave
    the offsetting account collateralized *and* no riskier, where dYdX asks either)."""
    import solvent.rules.adl as adl_module
    from solvent.rules.arith import or_

    real = adl_module.overlaps

    def overlaps(*args, **kwargs):
        monkeypatch.setattr(adl_module, "or_", adl_module.and_)
        try:
            return real(*args, **kwargs)
        finally:
            monkeypatch.setattr(adl_module, "or_", or_)

    monkeypatch.setattr(adl_module, "overlaps", overlaps)
