"""A bankrupt cross account's deficit split between its markets by maintenance share (dYdX v4).

In exchange terms: dYdX v4 liquidates and deleverages a cross subaccount one perpetual at a time,
each position closed at its own bankruptcy price, ``−DNNV − TNC × |DMMR| / TMMR``: the position's
value plus its share of the account's negative net collateral in proportion to its maintenance
margin, the share rounded so that the price rounds toward +∞
(dydxprotocol/v4-chain ``protocol/x/clob/keeper/liquidations.go``,
``GetBankruptcyPriceInQuoteQuantums``). A position whose liquidation order the insurance fund
cannot back is deleveraged in its own market (``LiquidateSubaccountsAgainstOrderbook`` hands
(subaccount, perpetual) on; ``deleveraging.go``, ``MaybeDeleverageSubaccount`` offsets "at the
bankruptcy price of the liquidated position"). So each market's winners pay that market's share,
not the whole deficit (docs/portfolio.md decision 5c; docs/venues.md#dydx-v4-deleveraging).

Here, with ``[waterfall] deficit_split = "maintenance_share"`` (built for dYdX's waterfall: one
fund, then ADL, fills at the oracle price; ``Policy._check_deficit_split``): the deficit D = −E
of an account bankrupt at mark is split once, before anything is closed, over the markets it
holds, the other markets in the book's order and the market whose event found it last. Each
share is ``⌈D_left × MM_k / MM_left⌉`` (``rounding.deficit_share``, up as v4-chain's), where
``D_left`` and ``MM_left`` are the deficit not yet shared out and the maintenance of the positions
not yet resolved, so the last share is exactly what is left and the shares add up to D (dYdX
recomputes TNC and TMMR after each position the same way). Then each position, on the book
focused on its market (the fund not swapped: it is one fund), goes down the waterfall for its
share: the insurance fund pays the share (all or nothing, dYdX's gate per fill) and the position
is closed into the book at the mark, or its winners are deleveraged at ``⌈share / |S|⌉`` a lot
(``adl.deleverage`` with ``owed``). One ``Bankrupt`` outcome carries D; a ``LayerUsed`` per layer
and share carries what each paid, and a ``Residual`` what a share's layers left, so the layers
and residuals add up to D (``deficit-charged-once``).
"""

from __future__ import annotations

from typing import Any

from solvent.rules.adl import deleverage
from solvent.rules.arith import div, ite, max_, or_, safe_divisor
from solvent.rules.bankruptcy import close_into_book, pay_insurance_fund
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import counterparty, fill_price, pools_holding
from solvent.rules.margin import equity, position_maintenance
from solvent.rules.outcomes import Bankrupt, LayerUsed, Residual, outcome_market
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund


def shares(policy: Policy, ctx: Ctx, name: str) -> list[tuple[int, Any]]:
    """(market index on the focused book, share) for every market, the event's market (0) last:
    ``⌈D_left × MM_k / MM_left⌉`` by ``rounding.deficit_share``, the last the rest."""
    account = ctx.account(name)
    markets = ctx.book.markets
    rules = (policy.margin, *(policy.more_margins or (policy.margin,) * (len(markets) - 1)))
    maintenance = [
        position_maintenance(rule, policy.rounding, p.size_lots, p.cost_quote, m.mark_quote)
        for p, m, rule in zip(account.positions, markets, rules, strict=True)
    ]
    left, left_mm = max_(-equity(policy.margin, account), 0), sum(maintenance[1:], maintenance[0])
    out = []
    for k in [*range(1, len(markets)), 0]:
        if k == 0:
            share = left
        else:
            part = div(left * maintenance[k], safe_divisor(left_mm), rounding=policy.rounding.deficit_share)
            share = ite(left_mm > 0, part, 0)
        out.append((k, share))
        left, left_mm = left - share, left_mm - maintenance[k]
    return out


def resolve(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """``name``, bankrupt at mark, resolved market by market for its shares of the deficit."""
    deficit = max_(-equity(policy.margin, ctx.account(name)), 0)
    ctx = ctx.note(Bankrupt(name, deficit))
    for k, share in shares(policy, ctx, name):
        ctx = ctx.with_book(ctx.book.focused(k, funds=False))
        ctx = _resolve_share(policy, ctx, name, share)
        ctx = ctx.with_book(ctx.book.focused(k, funds=False))
    return ctx


def _resolve_share(policy: Policy, ctx: Ctx, name: str, share: Any) -> Ctx:
    """The position in the focused book's first market, closed for ``share`` of the deficit: each
    layer in order (the fund, then ADL in this market), what is left a ``Residual``."""
    remaining = share
    for index, layer in enumerate(policy.deficit):
        if isinstance(layer, InsuranceFund):
            ctx, covered, exhausted = pay_insurance_fund(policy, ctx, layer, name, remaining)
        else:
            assert isinstance(layer, Adl)  # Policy._check_deficit_split
            before = ctx.account(name).cash_quote
            ctx = _deleverage_share(policy, ctx, name, layer, remaining)
            covered, exhausted = ctx.account(name).cash_quote - before, True
        used = LayerUsed(name, index, layer.kind, covered, exhausted, outcome_market(ctx.book))
        ctx = ctx.note_if(or_(covered != 0, remaining > 0), used)
        remaining = remaining - covered
    ctx = ctx.note_if(remaining > 0, Residual(name, remaining))
    if policy.adl is None:  # the fund alone: the position goes into the book at the mark
        ctx = close_into_book(policy, ctx, name)
    return ctx


def _deleverage_share(policy: Policy, ctx: Ctx, name: str, layer: Adl, owed: Any) -> Ctx:
    """ADL in the focused market for ``owed`` (what the fund left of the share), at ``⌈owed / |S|⌉``
    a lot; with nothing owed the position goes into the book at the mark."""
    price = fill_price(policy.liquidation, ctx.account(name), ctx.market.mark_quote)
    cp = counterparty(policy.liquidation, ctx)
    return ctx.branch(
        owed > 0,
        lambda c: deleverage(
            c,
            policy.margin,
            policy.rounding,
            layer,
            name,
            cp,
            price,
            owed=owed,
            pools=pools_holding(policy.liquidation),
        ),
        lambda c: close_into_book(policy, c, name),
    )


__all__ = ["resolve", "shares"]
