"""A perpetual market's claim on the insurance fund: the most the fund pays toward that market's
bankruptcies in total, since the market opened, and what it has paid so far.

Drift keeps an ``insurance_claim`` on every perp market: ``quote_max_insurance``, "the max amount of
insurance that perp market can use to resolve bankruptcy and pnl deficits", and
``quote_settled_insurance``, the amount it has used (github.com/drift-labs/protocol-v2,
programs/drift/src/state/perp_market.rs, ``InsuranceClaim``). ``resolve_perp_bankruptcy``
(programs/drift/src/controller/liquidation.rs) pays a bankrupt position's loss from the fund as the
least of the loss, the vault's balance less one and ``quote_max_insurance −
quote_settled_insurance``, adds the payment to ``quote_settled_insurance``, and sends the rest to
the market's fee pool and then to every open position through the cumulative funding rate. Drift's
Revenue Pool page (docs.drift.trade/about-v2/revenue-pool) says the same in words: the settled
amount counts the fund's draws since inception, and once it reaches the maximum (or the fund is
empty) the market falls back on its fee pool and then socializes the loss.

In Solvent the maximum is the market's ``[[market]] fund_cap_quote`` and the running total is the
book's ``Market.fund_settled_quote`` (docs/portfolio.md decision 5e). The fund pays a bankruptcy
in market *m* at most ``max(cap_m − settled_m, 0)`` (and at most the insurance-fund layer's own
per-bankruptcy ``cap_quote``), and what it paid is added to ``settled_m`` in the same step, beside
the ledger transfer that paid it: the counter moves by exactly the market's ``insurance fund
cover`` transfers, whichever scope keeps the fund (pooled, per market, per group: Drift's one fund
per asset, capped per market). A market without a cap keeps no total (``None``).

Written once over the arithmetic interface, so the concrete engine and z3 run the same rule.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import and_, max_, min_
from solvent.rules.book import Book, Market
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy


def settled(market: Market) -> Any:
    """What the fund has paid toward the market's bankruptcies so far (0 where none is kept yet)."""
    return 0 if market.fund_settled_quote is None else market.fund_settled_quote


def left(policy: Policy, market: Market) -> Any:
    """What the fund may still pay toward the market's bankruptcies, ``max(cap − settled, 0)``;
    None where the market's table sets no cap (no limit of the market's own)."""
    cap = policy.fund_cap_in(market.name)
    return None if cap is None else max_(cap - settled(market), 0)


def cap_now(policy: Policy, market: Market, layer_cap: int | None) -> Any:
    """The most the fund pays toward the next bankruptcy in ``market``: the lower of the layer's
    per-bankruptcy ``cap_quote`` and what the market's claim has left; None where neither is set."""
    rest = left(policy, market)
    if rest is None:
        return layer_cap
    return rest if layer_cap is None else min_(layer_cap, rest)


def record(policy: Policy, ctx: Ctx, paid: Any) -> Ctx:
    """Add what the fund just ``paid`` toward a bankruptcy in the market in focus to that market's
    running total, where its table caps the total (nothing changes on any other market)."""
    market = ctx.market
    if policy.fund_cap_in(market.name) is None:
        return ctx
    return ctx.evolve_book(market=attrs.evolve(market, fund_settled_quote=settled(market) + paid))


def shaped_for(policy: Policy, book: Book) -> Book:
    """``book`` keeping a running total (0 where it kept none) on every market whose table caps the
    fund's total: what a step starts from, so both sides of a symbolic branch hold a number."""
    if not policy.fund_capped_markets:
        return book
    markets = book.markets
    if all(m.fund_settled_quote is not None for m in markets if m.name in policy.fund_capped_markets):
        return book
    shaped = tuple(
        attrs.evolve(m, fund_settled_quote=0)
        if m.name in policy.fund_capped_markets and m.fund_settled_quote is None
        else m
        for m in markets
    )
    return book.with_fields(market=shaped[0], more_markets=shaped[1:])


def within_cap(policy: Policy, market: Market) -> Any:
    """A well-formed running total: ``0 ≤ settled ≤ cap`` on a market whose table caps it (the
    engine never pays past the cap, so no story reaches more); true on every other market."""
    cap = policy.fund_cap_in(market.name)
    if cap is None or market.fund_settled_quote is None:
        return True
    return and_(market.fund_settled_quote >= 0, market.fund_settled_quote <= cap)


__all__ = ["cap_now", "left", "record", "settled", "shaped_for", "within_cap"]
