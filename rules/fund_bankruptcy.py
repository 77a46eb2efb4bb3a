"""The insurance fund's own bankruptcy while it holds a taken-over position.

Where the fund holds what it takes over (``liquidation.fund_unwind_ppm``), its balance moves with
the mark like a trader's cash, so a large enough move takes it below zero: the fund has spent all
it had and owes the rest. BitMEX states what happens then: "The Insurance Fund is used to prevent
ADL. If it is depleted for a given contract, ADL will occur", and a position the liquidation
engine took over that "cannot be filled by the time the mark price reaches the bankruptcy price"
is deleveraged against the opposing traders by profit and leverage
(bitmex.com/app/autoDeleveraging; support.bitmex.com "What is Auto-Deleveraging": "and the
Insurance Fund is depleted for the given contract"); the liquidation page: "BitMEX will spend the
Insurance Funds on aggressing the position in the market ... If this still does not close the
liquidated order, this will then lead to an Auto-Deleveraging event" (bitmex.com/app/liquidation;
docs/venues.md#bitmex-adl).

Rule (:func:`deleverage_fund`, at the start of every sweep, before the fund's unwind): the fund
holds a position and its balance is below zero, ``D = −balance``. It is bankrupt: the
``insurance_fund`` layer is spent (it is the fund, with nothing left), and the policy's ``adl``
layer closes the fund's whole position against the opposing traders in the layer's ranking, at
the layer's price, the book last, exactly as for a bankrupt trader (``rules.adl.deleverage``): at
``price = "bankruptcy"`` the gap is ``⌈D / |S|⌉`` a lot, the fund's own bankruptcy price, so the
winners pay what the fund cannot, and the rounding's excess (under one quantum a lot) stays with
the fund. What nobody opposite holds is closed into the book at the mark; a deficit left is a
residual. Layers between the fund and ADL are not asked (the rule is BitMEX's waterfall: the fund,
then ADL), and without an ``adl`` layer the fund stays below zero (``insurance-fund-non-negative``
reports it).

Why the fund's bankruptcy price and not the taken-over order's: BitMEX closes the winners at "the
bankruptcy price of the initial liquidated order", and uses the fund first; the engine's fund
pools every position it took over (their orders' prices are not kept), and the price at which the
fund's balance is exactly zero is the one that spends the fund first and no more. Per lot it is
never worse for a winner than the order's own bankruptcy price: the fund's deficit is at most the
held lots' loss beyond that price (docs/model.md#the-funds-own-bankruptcy).
"""

from __future__ import annotations

from solvent.rules.adl import deleverage
from solvent.rules.arith import and_, max_
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import fund_holds
from solvent.rules.outcomes import Bankrupt, LayerUsed, Residual
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund


def deleverage_fund(policy: Policy, ctx: Ctx) -> Ctx:
    """Where the fund holds what it takes over and the policy has an ADL layer: a fund holding a
    position with a balance below zero is deleveraged (module docstring); otherwise nothing."""
    if not fund_holds(policy.liquidation) or policy.adl is None:
        return ctx
    fund = ctx.system(Role.INSURANCE_FUND)
    held = ctx.account(fund)
    depleted = and_(held.size_lots != 0, held.cash_quote < 0)
    return ctx.branch(depleted, lambda c: _resolve(policy, c, fund))


def _resolve(policy: Policy, ctx: Ctx, fund: str) -> Ctx:
    deficit = -ctx.account(fund).cash_quote
    ctx = ctx.note(Bankrupt(fund, deficit))
    for index, layer in enumerate(policy.deficit):
        if isinstance(layer, InsuranceFund):
            # the fund itself, spent: recorded so that ADL below it reads as after the fund
            ctx = ctx.note(LayerUsed(fund, index, layer.kind, 0, True))
        elif isinstance(layer, Adl):
            book = ctx.system(Role.LIQUIDITY)
            mark = ctx.market.mark_quote
            ctx = deleverage(ctx, policy.margin, policy.rounding, layer, fund, book, mark, fee_to_close_rate(policy))
            left = max_(-ctx.account(fund).cash_quote, 0)
            ctx = ctx.note(LayerUsed(fund, index, layer.kind, deficit - left, True))
            return ctx.note_if(left > 0, Residual(fund, left))
    return ctx


__all__ = ["deleverage_fund"]
