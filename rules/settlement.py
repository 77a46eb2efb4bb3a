"""Mark-to-market settlement and funding: PnL paid in cash through the clearing account.

Formula (mark M → M', position S): each account receives S × (M' − M) (pays when negative).
Losers pay into ``clearing``, clearing pays winners. With open interest balanced (Σ S = 0) the
clearing account ends at exactly zero: no rounding is involved.

Funding at rate r (ppm, positive: longs pay shorts): amount_i = S_i × M × r / 1e6, each rounded on
its own in the direction the policy's ``rounding.funding`` names (:class:`FundingRounding`).
Payers pay into ``clearing``; where receivers round up, the named venue account first pays
clearing the shortfall; receivers are paid; what is left in clearing (the payers' rounding dust)
goes to the named venue account. Clearing ends at zero either way.

Rounds: payers up and receivers down (dust to the venue account: the venue gains under one
quantum per account per payment), or payers down and receivers up (the venue account pays it).
Or, with ``rounding.funding_remainder = "carried"`` (Mango v4, docs/venues.md#mango-v4-funding), the
part below one quantum is the account's own (``Account.funding_remainder_millionths``) and counts in
its next payment; the same venue account holds the quanta that back every account's remainder.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, div, max_, sum_
from solvent.rules.book import Role
from solvent.rules.fields import ppm_field
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.rounding import FundingRemainder, FundingRounding


@attrs.frozen
class FundingRule:
    """``[funding]``: what the venue's funding payments may be.

    ``max_rate_ppm`` is the most a payment's rate may be either way, in ppm of the notional at
    the mark, per payment: Hyperliquid caps its hourly funding at 4% an hour, 40,000 ppm a
    payment (docs/venues.md#hyperliquid-funding, docs/model.md#a-venues-funding-cap). A
    ``Funding`` event beyond it is not the venue's event: the engine rejects it
    (``rules.engine.requirements``), the search draws within it and the prover's bounds are
    narrowed to it (``solver.bounds.for_policy``), all through :func:`funding_cap_ppm`. Absent:
    none of the venue's own, any rate within ±100% a payment (the engine's bound on every rate).
    """

    max_rate_ppm: int | None = ppm_field(default=None, min_value=1)


def funding_cap_ppm(policy: Any) -> int:
    """The most a funding payment's rate may be either way under ``policy`` (ppm): its ``[funding]
    max_rate_ppm``, else 100% (``PPM``), the bound every rate has."""
    cap = policy.funding.max_rate_ppm
    return PPM if cap is None else cap


def settle_mark(ctx: Ctx, new_mark: Any) -> Ctx:
    """Pay every position's PnL for the move to ``new_mark`` and set the new mark: the book's last
    move is then this step's (``Ctx.mark_moved``)."""
    old = ctx.market.mark_quote
    clearing = ctx.system(Role.CLEARING)
    moves = [(a.name, a.size_lots * (new_mark - old)) for a in ctx.book.accounts if a.role is not Role.CLEARING]
    for name, pnl in moves:
        ctx = ctx.transfer(name, clearing, max_(-pnl, 0), Reason.SETTLEMENT)
    for name, pnl in moves:
        ctx = ctx.transfer(clearing, name, max_(pnl, 0), Reason.SETTLEMENT)
    market = attrs.evolve(ctx.market, mark_quote=new_mark, previous_mark_quote=old)
    return ctx.evolve_book(market=market).with_mark_moved(True)


def pay_funding(
    ctx: Ctx, rate_ppm: Any, rounding: FundingRounding, remainder: FundingRemainder = FundingRemainder.PAID_AS_DUST
) -> Ctx:
    """Longs pay shorts ``rate × notional`` (shorts pay longs at a negative rate), rounded as ``rounding`` says.

    With ``remainder`` carried, each account's amount is first netted with the remainder it
    carries (:func:`carried_amounts`), and the venue account that holds the remainders' quanta
    fills or empties the clearing account (``Reason.FUNDING_CARRY``) instead of paying or keeping dust.
    """
    mark = ctx.market.mark_quote
    clearing = ctx.system(Role.CLEARING)
    pool = ctx.system(rounding.dust_account)
    owed = [(a.name, a.size_lots * mark * rate_ppm) for a in ctx.book.accounts if a.role is not Role.CLEARING]
    carried = remainder is FundingRemainder.CARRIED
    if carried:
        moves = [
            (name, *carried_amounts(ctx.account(name).funding_remainder_millionths, amount, rounding))
            for name, amount in owed
        ]
        paid = [(name, max_(-delta, 0)) for name, delta, _ in moves]
        received = [(name, max_(delta, 0)) for name, delta, _ in moves]
        reason = Reason.FUNDING_CARRY
    else:
        paid = [(name, div(max_(amount, 0), PPM, rounding=rounding.payer)) for name, amount in owed]
        received = [(name, div(max_(-amount, 0), PPM, rounding=rounding.receiver)) for name, amount in owed]
        reason = Reason.FUNDING_DUST
    for name, amount in paid:
        ctx = ctx.transfer(name, clearing, amount, Reason.FUNDING)
    if carried or not rounding.payers_round_up:
        shortfall = max_(sum_(amount for _, amount in received) - ctx.account(clearing).cash_quote, 0)
        ctx = ctx.transfer(pool, clearing, shortfall, reason)
    for name, amount in received:
        ctx = ctx.transfer(clearing, name, amount, Reason.FUNDING)
    dust = max_(ctx.account(clearing).cash_quote, 0)
    ctx = ctx.transfer(clearing, pool, dust, reason)
    if carried:
        for name, _, left in moves:
            ctx = ctx.update_account(name, funding_remainder_millionths=left)
    return ctx


def carried_amounts(carry: Any, owed: Any, rounding: FundingRounding) -> tuple[Any, Any]:
    """An account's cash change and the remainder it carries on, for a payment of ``owed``
    (millionths of a quantum, positive: the account pays) when it carried ``carry`` before.

    Formula: the account's exact funding balance moves from ``carry`` to ``t = carry − owed``
    (millionths); its cash moves by ``t / 1e6`` rounded as receivers round (down where payers round
    up, so the remainder ``t − 1e6 × cash change`` is a credit in [0, 1e6); up otherwise, a debit in
    (−1e6, 0]). Over any number of payments the cash is the exact total rounded once.
    """
    total = carry - owed
    delta = div(total, PPM, rounding=rounding.receiver)
    return delta, total - delta * PPM
