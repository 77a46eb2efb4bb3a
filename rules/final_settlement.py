"""Final settlement: a delisted market closes every position at its settlement price.

dYdX v4 (docs/venues.md#dydx-v4-deleveraging; paths in github.com/dydxprotocol/v4-chain): a market
moved to ``STATUS_FINAL_SETTLEMENT`` is "deactivated and trading has ceased. All open positions will
be closed by the protocol" (the clob pair status's comment); its stateful orders are cancelled
(``protocol/x/clob/keeper/final_settlement.go``) and only deleveraging operations are allowed in it
(``clob_pair.go``): a liquidation order there is refused ("Cannot liquidate in final settlement
state", ``ErrLiquidationConflictsWithClobPairStatus``). Every subaccount with a position in it is
deleveraged (``deleveraging.go``, ``GetSubaccountsWithPositionsInFinalSettlementMarkets``): one with
negative TNC at its bankruptcy price, one with non-negative TNC at the oracle price
(``CanDeleverageSubaccount``, ``getDeleveragingQuoteQuantumsDelta``), against offsetting
subaccounts each taking ``min(remaining, its position)`` (``OffsetSubaccountPerpetualPosition``).

Rule (:func:`settle_final`, the ``FinalSettlement`` event): the market's positions settle to the
settlement price; a pool below zero holding a taken-over position is deleveraged
(``rules.pool_bankruptcy``); then, for each trader in book order still holding a position there:

- equity below zero: bankrupt, and the policy's ``adl`` layer closes the position against the
  opposite side by its own rules (``rules.adl.deleverage``, at the layer's price: the bankruptcy
  price for dYdX), the layer recorded used; no liquidation and no other layer (dYdX allows only
  deleveraging in the market). Without an ``adl`` layer the policy's whole waterfall resolves it
  (``rules.bankruptcy.resolve``), as for any bankruptcy.
- otherwise: its lots are closed at the settlement price against the opposite positions, traders
  not below zero in book order, then a pool holding what it took over (the backstop vault, the
  fund), then the order book (the rest of the market), each taking ``min(remaining, its
  position)``; at the mark no cash moves.

Open interest is balanced, so every position is closed. The engine keeps no market status after
it: dYdX refuses every order while the market is in final settlement, and its only way out is a
re-listing (``FINAL_SETTLEMENT → INITIALIZING → ACTIVE``, clob_pair.go
``SupportedClobPairStatusTransitions``), which starts flat as this leaves it, so a later trade reads
as one after a re-listing (docs/venues.md#dydx-v4-final-settlement). The search draws this event
for a policy that declares ``liquidation.final_settlement``, and z3 takes it as the
``final-settlement`` event kind.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.adl import _opposite, deleverage
from solvent.rules.arith import abs_, and_, max_, min_, not_, when
from solvent.rules.bankruptcy import fee_to_close_rate, resolve
from solvent.rules.book import Role
from solvent.rules.deleveraging_limit import binds, deleverage_within_limit
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt, FinalSettled, LayerUsed, Residual
from solvent.rules.policy import Policy
from solvent.rules.pool_bankruptcy import deleverage_pools
from solvent.rules.positions import close_against


def settle_final(policy: Policy, ctx: Ctx) -> Ctx:
    """Close every trader's position at the mark, the settlement price (module docstring): first
    every account below zero, then, in book order, each one left (one that a deleveraging took
    below zero is bankrupt in its turn). Under the ``adl`` layer's per-event limit, at most that
    many accounts are attempted (:func:`_settle_within_limit`)."""
    ctx = deleverage_pools(policy, ctx)  # a pool below zero holding a position (rules.pool_bankruptcy)
    names = [a.name for a in ctx.book.traders]
    layer = policy.adl
    if layer is not None and binds(layer, ctx):
        return _settle_within_limit(policy, layer, ctx, names)
    for name in names:
        ctx = ctx.branch(_below_zero(policy, ctx, name), lambda c, n=name: _bankrupt(policy, c, n))
    for name in names:
        ctx = ctx.branch(
            _below_zero(policy, ctx, name),
            lambda c, n=name: _bankrupt(policy, c, n),
            lambda c, n=name: _close(policy, c, n),
        )
    return ctx


def _settle_within_limit(policy: Policy, layer: Any, ctx: Ctx, names: list[str]) -> Ctx:
    """Final settlement under ``Adl.max_deleveraged_per_event`` (dYdX v4's
    ``MaxDeleveragingAttemptsPerBlock``): the event's list is every trader holding a position in
    the market as the event opens, those below zero first (in book order, at their turn), then the
    rest in book order, each once; every entry is an attempt, counted whether or not an earlier
    attempt already closed its position as a counterparty (v4-chain counts each entry of
    ``subaccountsToDeleverage``, and ``GetSubaccountsWithPositionsInFinalSettlementMarkets`` lists
    every subaccount holding a position, read before the block). An entry past the limit keeps
    its position, noted ``deferred``, for the next block: the market's next ``FinalSettlement``
    event."""
    held = {name: ctx.account(name).size_lots != 0 for name in names}
    first = {}
    for name in names:
        below = _below_zero(policy, ctx, name)
        first[name] = below
        ctx = ctx.branch(
            below,
            lambda c, n=name: deleverage_within_limit(layer, c, n, lambda d, m=n: _bankrupt(policy, d, m)),
        )

    def turn(c: Ctx, n: str) -> Ctx:
        return c.branch(_below_zero(policy, c, n), lambda d: _bankrupt(policy, d, n), lambda d: _close(policy, d, n))

    for name in names:
        ctx = ctx.branch(
            and_(held[name], not_(first[name])),
            lambda c, n=name: deleverage_within_limit(layer, c, n, lambda d, m=n: turn(d, m)),
        )
    return ctx


def _below_zero(policy: Policy, ctx: Ctx, name: str) -> Any:
    account = ctx.account(name)
    return and_(account.size_lots != 0, equity(policy.margin, account) < 0)


def _bankrupt(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """dYdX: deleveraged at the bankruptcy price, the only operation its final settlement allows."""
    layer = policy.adl
    if layer is None:
        return resolve(policy, ctx, name)
    deficit = -equity(policy.margin, ctx.account(name))
    ctx = ctx.note(Bankrupt(name, deficit))
    book, mark = ctx.system(Role.LIQUIDITY), ctx.market.mark_quote
    hold = pools_holding(policy.liquidation)
    ctx = deleverage(
        ctx, policy.margin, policy.rounding, layer, name, book, mark, fee_to_close_rate(policy), pools=hold
    )
    left = max_(-equity(policy.margin, ctx.account(name)), 0)
    ctx = ctx.note(LayerUsed(name, policy.deficit.index(layer), layer.kind, deficit - left, True))
    return ctx.note_if(left > 0, Residual(name, left))


def _close(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """Close ``name``'s lots at the mark against the opposite positions, traders not below zero in
    book order (dYdX's collateral check refuses to make an underwater subaccount's ratio worse),
    then the pools that hold what they took over, then the order book, each taking
    min(remaining, its position)."""
    size = ctx.account(name).size_lots
    remaining = abs_(size)
    pools = [ctx.system(role) for role in pools_holding(policy.liquidation)]
    others = [a.name for a in ctx.book.traders if a.name != name] + pools + [ctx.system(Role.LIQUIDITY)]
    for other in others:
        account = ctx.account(other)
        theirs = account.size_lots
        able = True if not account.is_trader else equity(policy.margin, account) >= 0
        q = when(and_(able, _opposite(size, theirs)), min_(remaining, abs_(theirs)))
        ctx = ctx.note_if(q > 0, FinalSettled(name, other, q, ctx.market.mark_quote))
        ctx = close_against(ctx, name, other, q, ctx.market.mark_quote, Reason.FINAL_SETTLEMENT)
        remaining = remaining - q
    return ctx


__all__ = ["settle_final"]
